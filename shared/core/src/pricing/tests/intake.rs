use crate::ids::Sku;
use crate::money::Money;
use crate::pricing::fixtures::{money, promotions};
use crate::pricing::{
    apply, lines_to_price, OrderedLine, Price, PriceCheck, PriceHistory, Promotion, Refusal,
};
use chrono::{NaiveDate, Utc};
use serde_json::json;
use std::collections::BTreeMap;

fn sku(s: &str) -> Sku {
    Sku::parse("sku", s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Sku A: 10.00 from March, 12.00 from April. Sku B: no price.
fn list() -> BTreeMap<Sku, PriceHistory> {
    let price = |amount: &str, from: &str| Price {
        amount: money(amount),
        valid_from: day(from),
        created_at: Utc::now(),
        created_by: "admin".into(),
    };
    BTreeMap::from([(
        sku("A"),
        PriceHistory::new(vec![
            price("10.00", "2026-03-01"),
            price("12.00", "2026-04-01"),
        ]),
    )])
}

fn ordered(spec: &[(&str, u32, Option<&str>)]) -> Vec<OrderedLine> {
    spec.iter()
        .map(|(s, q, p)| OrderedLine {
            sku: sku(s),
            group: "g".into(),
            quantity: *q,
            unit_price: p.map(money),
        })
        .collect()
}

/// The unit prices of `lines` on `date` under `check`.
fn prices(lines: &[OrderedLine], date: &str, check: PriceCheck) -> Result<Vec<String>, Refusal> {
    let list = list();
    let on = |s: &Sku| -> Option<Money> {
        list.get(s)
            .and_then(|h| h.price_on(day(date)))
            .map(|p| p.price.amount)
    };
    Ok(lines_to_price(lines, on, check)?
        .iter()
        .map(|l| l.unit_price.to_string())
        .collect())
}

#[test]
fn a_line_without_a_price_takes_the_list_price_of_the_order_date() {
    let l = ordered(&[("A", 3, None)]);
    assert_eq!(
        prices(&l, "2026-03-31", PriceCheck::None),
        Ok(vec!["10.00".into()])
    );
    assert_eq!(
        prices(&l, "2026-04-01", PriceCheck::None),
        Ok(vec!["12.00".into()])
    );
    let e = prices(&l, "2026-02-28", PriceCheck::None).unwrap_err();
    assert_eq!(
        (e.status(), e.code().as_str(), e.field()),
        (422, "no_price", Some("lines[0].unitPrice"))
    );
    let e = prices(
        &ordered(&[("A", 1, None), ("B", 1, None)]),
        "2026-03-05",
        PriceCheck::None,
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("lines[1].unitPrice"));
}

#[test]
fn a_given_price_is_kept_and_checked_against_the_list_only_when_the_channel_rejects() {
    let given = ordered(&[("A", 1, Some("9.50")), ("B", 1, Some("3.00"))]);
    assert_eq!(
        prices(&given, "2026-03-05", PriceCheck::None),
        Ok(vec!["9.50".into(), "3.00".into()])
    );
    let e = prices(&given, "2026-03-05", PriceCheck::Reject).unwrap_err();
    assert_eq!(
        e,
        Refusal::PriceMismatch {
            field: "lines[0].unitPrice".into(),
            given: money("9.50"),
            list: money("10.00")
        }
    );
    assert_eq!((e.status(), e.code().as_str()), (422, "price_mismatch"));
    let no_list = ordered(&[("A", 1, Some("10.00")), ("B", 1, Some("3.00"))]);
    let e = prices(&no_list, "2026-03-05", PriceCheck::Reject).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.field()),
        ("no_price", Some("lines[1].unitPrice"))
    );
    let right = ordered(&[("A", 2, Some("10.00")), ("A", 1, None)]);
    assert_eq!(
        prices(&right, "2026-03-05", PriceCheck::Reject),
        Ok(vec!["10.00".into(), "10.00".into()])
    );
}

#[test]
fn an_order_without_prices_is_priced_from_the_list_then_the_promotions_apply() {
    let list = list();
    let on = |s: &Sku| {
        list.get(s)
            .and_then(|h| h.price_on(day("2026-03-10")))
            .map(|p| p.price.amount)
    };
    let lines = lines_to_price(&ordered(&[("A", 3, None)]), on, PriceCheck::None).unwrap();
    let ps = promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}]));
    let ps: Vec<&Promotion> = ps.iter().collect();
    let o = apply(&lines, &ps, &[]).unwrap();
    assert_eq!(o.lines[0].paid, money("20.00"));
}
