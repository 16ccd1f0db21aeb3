use crate::pricing::fixtures::money;
use crate::pricing::{Price, PriceHistory, Refusal};
use chrono::{NaiveDate, TimeZone, Utc};
use std::str::FromStr;

fn day(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn price(amount: &str, from: &str) -> Price {
    Price {
        amount: money(amount),
        valid_from: day(from),
        created_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        created_by: "admin".into(),
    }
}

/// (amount, validFrom, validTo) of every period, oldest first.
fn periods(h: &PriceHistory) -> Vec<(String, String, Option<String>)> {
    h.periods()
        .iter()
        .map(|p| {
            (
                p.price.amount.to_string(),
                p.price.valid_from.to_string(),
                p.valid_to.map(|d| d.to_string()),
            )
        })
        .collect()
}

fn refused(today: &str) -> Result<(), Refusal> {
    Err(Refusal::PriceHistoryImmutable { today: day(today) })
}

#[test]
fn the_first_price_may_start_today_later_ones_only_after_today() {
    let today = "2026-03-01";
    let mut h = PriceHistory::default();
    assert_eq!(
        h.append(price("9.99", "2026-02-28"), day(today)),
        refused(today)
    );
    assert_eq!(h.append(price("9.99", today), day(today)), Ok(()));
    // Today's price has begun: another price for today is refused, tomorrow's is fine.
    assert_eq!(h.append(price("8.99", today), day(today)), refused(today));
    assert_eq!(
        h.append(price("8.99", "2026-02-01"), day(today)),
        refused(today)
    );
    assert_eq!(h.append(price("8.99", "2026-03-02"), day(today)), Ok(()));
    assert_eq!(
        periods(&h),
        [
            (
                "9.99".into(),
                "2026-03-01".into(),
                Some("2026-03-01".into())
            ),
            ("8.99".into(), "2026-03-02".into(), None),
        ]
    );
    assert_eq!(
        refused(today).unwrap_err().code().as_str(),
        "price_history_immutable"
    );
}

#[test]
fn a_price_not_yet_begun_is_replaced_by_one_with_its_valid_from() {
    let mut h = PriceHistory::default();
    h.append(price("10.00", "2026-03-01"), day("2026-03-01"))
        .unwrap();
    h.append(price("12.00", "2026-04-01"), day("2026-03-01"))
        .unwrap();
    h.append(price("11.00", "2026-04-01"), day("2026-03-15"))
        .unwrap();
    // One in between: the March price now ends before it, April's is untouched.
    h.append(price("10.50", "2026-03-20"), day("2026-03-15"))
        .unwrap();
    assert_eq!(
        periods(&h),
        [
            (
                "10.00".into(),
                "2026-03-01".into(),
                Some("2026-03-19".into())
            ),
            (
                "10.50".into(),
                "2026-03-20".into(),
                Some("2026-03-31".into())
            ),
            ("11.00".into(), "2026-04-01".into(), None),
        ]
    );
    // Once April has begun its price stays.
    assert_eq!(
        h.append(price("9.00", "2026-04-01"), day("2026-04-01")),
        refused("2026-04-01")
    );
}

#[test]
fn the_price_on_a_date_is_the_latest_begun_by_then() {
    let h = PriceHistory::new(vec![
        price("11.00", "2026-04-01"),
        price("10.00", "2026-03-01"),
    ]);
    let on = |d: &str| {
        h.price_on(day(d)).map(|p| {
            (
                p.price.amount.to_string(),
                p.valid_to.map(|d| d.to_string()),
            )
        })
    };
    assert_eq!(on("2026-02-28"), None);
    assert_eq!(
        on("2026-03-01"),
        Some(("10.00".into(), Some("2026-03-31".into())))
    );
    assert_eq!(
        on("2026-03-31"),
        Some(("10.00".into(), Some("2026-03-31".into())))
    );
    assert_eq!(on("2026-04-01"), Some(("11.00".into(), None)));
    assert_eq!(on("2030-01-01"), Some(("11.00".into(), None)));
    assert_eq!(h.prices()[0].valid_from, day("2026-03-01"));
}
