use super::*;
use crate::intake::fixtures::{base, order};
use crate::order::OrderStatus;
use chrono::{NaiveDate, TimeZone};
use serde_json::json;

fn sample() -> Order {
    order(base(
        json!([
            {"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
            {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"},
            {"lineId": "L3", "sku": "A", "quantity": 1, "unitPrice": "24.99"}
        ]),
        json!([{"code": "SAVE5", "amount": "5.00"}]),
        "3.90",
        "88.87",
    ))
}

/// The sum of all parts of several contributions, per item.
fn total(parts: &[Vec<Part>]) -> BTreeMap<(String, String), Counters> {
    let mut by: BTreeMap<(String, String), Counters> = BTreeMap::new();
    for p in parts.iter().flatten() {
        let e = by.entry((p.pk.clone(), p.sk.clone())).or_default();
        *e = e.plus(p.counters);
    }
    by.retain(|_, c| !c.is_zero());
    by
}

#[test]
fn an_order_adds_one_orders_item_and_one_sales_item_per_sku() {
    let o = sample();
    let parts = contribution(&o);
    assert_eq!(parts.len(), 3, "{parts:?}");
    let orders: Vec<_> = parts
        .iter()
        .filter(|p| p.pk.starts_with("ORDERS#"))
        .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].counters.orders, 1);
    assert_eq!(orders[0].counters.units, 4);
    assert_eq!(orders[0].counters.cents, cents(o.totals.total));
    let a = parts
        .iter()
        .find(|p| p.sk.ends_with("#A") && p.pk.starts_with("SALES#"))
        .expect("a sales item for A");
    // Two lines of A in one order: one order, three units.
    assert_eq!((a.counters.orders, a.counters.units), (1, 3));
    let paid: i64 = o
        .lines
        .iter()
        .filter(|l| l.sku.as_str() == "A")
        .map(|l| cents(l.paid))
        .sum();
    assert_eq!(a.counters.cents, paid);
    let row = Row::parse(&a.sk, a.counters, a.name.clone()).expect("a row");
    assert_eq!(row.what, "A");
    assert_eq!(row.hour, hour_key(o.created_at));
    assert_eq!(row.currency, o.currency.to_string());
}

#[test]
fn applying_every_version_in_turn_leaves_the_last_contribution() {
    let mut o = sample();
    let v1 = contribution(&o);
    o.status = OrderStatus::Routed;
    o.lines[0].quantities.cancelled = 1;
    let v2 = contribution(&o);
    o.lines[1].quantities.returned = 1;
    o.status = OrderStatus::Shipped;
    let v3 = contribution(&o);
    let steps = vec![
        difference(&[], &v1),
        difference(&v1, &v2),
        difference(&v2, &v3),
    ];
    assert_eq!(total(&steps), total(std::slice::from_ref(&v3)));
    // The status moved: the old status's item is back to zero, only the last one counts.
    let orders_items: Vec<_> = total(&steps)
        .into_iter()
        .filter(|((pk, _), _)| pk.starts_with("ORDERS#"))
        .collect();
    assert_eq!(orders_items.len(), 1);
    assert!(
        orders_items[0].0 .1.ends_with("#shipped"),
        "{orders_items:?}"
    );
    // A cancelled and a returned unit no longer earn revenue.
    let a = v3
        .iter()
        .find(|p| p.sk.ends_with("#A") && p.pk.starts_with("SALES#"));
    assert_eq!(a.map(|p| p.counters.cancelled), Some(1));
}

#[test]
fn an_unchanged_order_adds_nothing() {
    let o = sample();
    let c = contribution(&o);
    assert!(difference(&c, &c).is_empty());
    assert!(difference(&c, &contribution(&o)).is_empty());
}

#[test]
fn an_order_keeps_its_spread_and_orders_spread_over_all_keys() {
    let mut o = sample();
    let pks: std::collections::BTreeSet<String> = (0..400)
        .map(|i| {
            o.id = crate::ids::OrderId::parse("id", format!("ord-{i}")).expect("an id");
            contribution(&o)[0].pk.clone()
        })
        .collect();
    assert_eq!(pks.len() as u64, SPREAD);
    let again = contribution(&o);
    o.status = OrderStatus::Cancelled;
    assert_eq!(contribution(&o)[0].pk, again[0].pk);
}

#[test]
fn a_berlin_day_is_whole_utc_hours_and_one_range_of_its_year() {
    let (lo, hi) = crate::catalogue::day_bounds(
        NaiveDate::from_ymd_opt(2026, 12, 3),
        NaiveDate::from_ymd_opt(2026, 12, 3),
        "Europe/Berlin",
    );
    let (lo, hi) = (lo.expect("lo"), hi.expect("hi"));
    assert!(whole_hours(lo, hi));
    assert_eq!(
        ranges_to_read(lo, hi),
        vec![(
            2026,
            "2026-12-02T23".to_string(),
            "2026-12-03T22~".to_string()
        )]
    );
    // A period over new year reads the end of one year's keys and the start of the next.
    let (lo, hi) = crate::catalogue::day_bounds(
        NaiveDate::from_ymd_opt(2026, 12, 30),
        NaiveDate::from_ymd_opt(2027, 1, 2),
        "Europe/Berlin",
    );
    assert_eq!(
        ranges_to_read(lo.expect("lo"), hi.expect("hi")),
        vec![
            (
                2026,
                "2026-12-29T23".to_string(),
                "2026-12-31T23~".to_string()
            ),
            (
                2027,
                "2027-01-01T00".to_string(),
                "2027-01-02T22~".to_string()
            ),
        ]
    );
    // Kolkata is five and a half hours ahead: its days are not whole UTC hours.
    let (lo, hi) = crate::catalogue::day_bounds(
        NaiveDate::from_ymd_opt(2026, 12, 3),
        NaiveDate::from_ymd_opt(2026, 12, 3),
        "Asia/Kolkata",
    );
    assert!(!whole_hours(lo.expect("lo"), hi.expect("hi")));
    let t = Utc
        .with_ymd_and_hms(2026, 12, 3, 13, 5, 0)
        .single()
        .expect("t");
    assert_eq!(hour_key(t), "2026-12-03T13");
}

#[test]
fn a_sku_with_hashes_reads_back_whole() {
    let row = Row::parse("2026-12-03T13#web#DE#EUR#A#B", Counters::default(), None);
    assert_eq!(row.map(|r| r.what), Some("A#B".to_string()));
    assert_eq!(
        Row::parse("2026-12-03T13#web", Counters::default(), None),
        None
    );
}
