//! How pages write times and money: in the retailer's time zone and the page's language. The
//! templates call these as filters (`{{ at|when(tz, lang) }}`, `{{ amount|money(currency, lang) }}`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::str::FromStr;

/// An RFC 3339 instant as `dd.mm.yyyy, hh:mm` (de) or `yyyy-mm-dd hh:mm` (en) in `tz`;
/// anything else as it is.
pub fn when(value: &str, tz: &str, lang: &str) -> String {
    let (Ok(at), Ok(tz)) = (DateTime::parse_from_rfc3339(value), tz.parse::<Tz>()) else {
        return value.to_string();
    };
    let local = at.with_timezone(&Utc).with_timezone(&tz);
    if lang == "de" {
        local.format("%d.%m.%Y, %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// A decimal amount with two places, grouped, and its currency: `1.234,50 EUR` (de) or
/// `EUR 1,234.50` (en); anything that is no amount as it is.
pub fn money(value: &str, currency: &str, lang: &str) -> String {
    let Ok(amount) = Decimal::from_str(value.trim()) else {
        return value.to_string();
    };
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let fixed = rounded.abs();
    let text = format!("{fixed:.2}");
    let (whole, cents) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let (group, point) = if lang == "de" { ('.', ',') } else { (',', '.') };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    let number = format!("{sign}{grouped}{point}{cents}");
    match (lang, currency) {
        (_, "") => number,
        ("de", c) => format!("{number} {c}"),
        (_, c) => format!("{c} {number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_the_retailers_in_the_pages_language() {
        assert_eq!(
            when("2026-12-03T23:30:00Z", "Europe/Berlin", "de"),
            "04.12.2026, 00:30"
        );
        assert_eq!(
            when("2026-07-01T10:00:00Z", "Europe/Berlin", "en"),
            "2026-07-01 12:00"
        );
        assert_eq!(when("soon", "Europe/Berlin", "en"), "soon");
    }

    #[test]
    fn money_is_grouped_with_two_places_and_its_currency() {
        assert_eq!(money("1234.5", "EUR", "de"), "1.234,50 EUR");
        assert_eq!(money("1234567.891", "EUR", "en"), "EUR 1,234,567.89");
        assert_eq!(money("-12.00", "CHF", "en"), "CHF -12.00");
        assert_eq!(money("0", "", "de"), "0,00");
        assert_eq!(money("n/a", "EUR", "de"), "n/a");
        assert_eq!(money("999.995", "EUR", "en"), "EUR 1,000.00");
        assert_eq!(money("-0.004", "EUR", "de"), "0,00 EUR");
    }
}
