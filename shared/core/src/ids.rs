//! Identifiers: what docs/api.md allows (`[A-Za-z0-9._-]{1,64}`), checked at the edge.

use crate::error::Invalid;
use crate::ApiError;

/// True when `s` is a valid id of docs/api.md.
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks an id taken from a path or body, naming the field on failure.
pub fn check_id(field: &str, s: &str) -> Result<(), ApiError> {
    if is_valid_id(s) {
        Ok(())
    } else {
        Err(
            ApiError::invalid(field, format!("{field} must match [A-Za-z0-9._-]{{1,64}}"))
                .because(Invalid::NotAnId),
        )
    }
}

/// Checks a free-text field: not blank, at most `max` characters.
pub fn check_text(field: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.trim().is_empty() {
        return Err(
            ApiError::invalid(field, format!("{field} must not be empty")).because(Invalid::Empty),
        );
    }
    if s.chars().count() > max {
        return Err(
            ApiError::invalid(field, format!("{field} is longer than {max} characters"))
                .because(Invalid::TooLong),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["a", "web-de", "SKU_1.2", &"x".repeat(64)] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "a b", "ä", "a/b", &"x".repeat(65)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text("name", &"ü".repeat(200), 200).is_ok());
        assert!(check_text("name", &"ü".repeat(201), 200).is_err());
        assert!(check_text("name", "  ", 200).is_err());
    }

    #[test]
    fn each_check_says_what_is_wrong_for_callers_that_word_it_themselves() {
        let kind = |r: Result<(), ApiError>| r.unwrap_err().invalid;
        assert_eq!(kind(check_text("reason", " ", 10)), Some(Invalid::Empty));
        assert_eq!(kind(check_text("reason", "abc", 2)), Some(Invalid::TooLong));
        assert_eq!(kind(check_id("lineId", "a b")), Some(Invalid::NotAnId));
        let e = check_text("carrier", "", 10).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("carrier"), "carrier must not be empty")
        );
    }
}
