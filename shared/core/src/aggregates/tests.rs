use super::*;
use crate::intake::fixtures::{base, order};
use crate::order::OrderStatus;
use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
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

fn rows(parts: &[Part]) -> Vec<Row> {
    parts
        .iter()
        .filter_map(|p| Row::parse(&p.sk, p.counters, p.name.clone()))
        .collect()
}

#[test]
fn an_order_adds_a_day_item_for_its_status_and_a_day_and_month_item_per_sku() {
    let o = sample();
    let parts = contribution(&o, Berlin);
    assert_eq!(parts.len(), 5, "{parts:?}");
    let orders: Vec<_> = parts
        .iter()
        .filter(|p| p.pk.starts_with("ORDERS#"))
        .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].counters.orders, 1);
    assert_eq!(orders[0].counters.units, 4);
    assert_eq!(orders[0].counters.cents, cents(o.totals.total));
    let date = local_date(o.created_at, Berlin);
    let a: Vec<Row> = rows(&parts).into_iter().filter(|r| r.what == "A").collect();
    assert_eq!(a.len(), 2, "a day and a month: {a:?}");
    assert_eq!(a[0].bucket, day_bucket(date));
    assert_eq!(a[0].day(), Some(date));
    assert_eq!(a[1].bucket, month_bucket(date));
    // Two lines of A in one order: one order, three units.
    assert_eq!((a[0].counters.orders, a[0].counters.units), (1, 3));
    let paid: i64 = o
        .lines
        .iter()
        .filter(|l| l.sku.as_str() == "A")
        .map(|l| cents(l.paid))
        .sum();
    assert_eq!(a[0].counters.cents, paid);
    assert_eq!(a[0].currency, o.currency.to_string());
}

#[test]
fn the_day_is_the_retailers() {
    let mut o = sample();
    // 23:30 UTC on 31 December is New Year's Day in Berlin.
    o.created_at = Utc
        .with_ymd_and_hms(2026, 12, 31, 23, 30, 0)
        .single()
        .expect("a time");
    let berlin = rows(&contribution(&o, Berlin));
    assert!(
        berlin.iter().any(|r| r.bucket == "D2027-01-01"),
        "{berlin:?}"
    );
    assert!(berlin.iter().any(|r| r.bucket == "M2027-01"));
    assert!(contribution(&o, Berlin)
        .iter()
        .all(|p| p.pk.contains("#2027#")));
    let utc = rows(&contribution(&o, chrono_tz::UTC));
    assert!(utc.iter().any(|r| r.bucket == "D2026-12-31"));
}

#[test]
fn applying_every_version_in_turn_leaves_the_last_contribution() {
    let mut o = sample();
    let v1 = contribution(&o, Berlin);
    o.status = OrderStatus::Routed;
    o.lines[0].quantities.cancelled = 1;
    let v2 = contribution(&o, Berlin);
    o.lines[1].quantities.returned = 1;
    o.status = OrderStatus::Shipped;
    let v3 = contribution(&o, Berlin);
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
    // A zone moved: everything leaves the old zone's keys for the new one's.
    let elsewhere = contribution(&o, chrono_tz::America::Los_Angeles);
    let moved = difference(&v3, &elsewhere);
    assert_eq!(
        total(&[v3.clone(), moved]),
        total(std::slice::from_ref(&elsewhere))
    );
}

#[test]
fn an_unchanged_order_adds_nothing() {
    let o = sample();
    let c = contribution(&o, Berlin);
    assert!(difference(&c, &c).is_empty());
    assert!(difference(&c, &contribution(&o, Berlin)).is_empty());
}

#[test]
fn orders_spread_over_the_items_and_partitions_and_each_keeps_its_own() {
    let mut o = sample();
    let mut status_items = std::collections::BTreeSet::new();
    let mut sku_items = std::collections::BTreeSet::new();
    let mut partitions = std::collections::BTreeSet::new();
    for i in 0..2000 {
        o.id = crate::ids::OrderId::parse("id", format!("ord-{i}")).expect("an id");
        for p in contribution(&o, Berlin) {
            partitions.insert(p.pk.clone());
            if p.pk.starts_with("ORDERS#") {
                status_items.insert(p.sk);
            } else if p.sk.ends_with("#A") && p.sk.starts_with('D') {
                sku_items.insert(p.sk);
            }
        }
    }
    assert_eq!(status_items.len() as u64, ORDERS_SPREAD);
    assert_eq!(sku_items.len() as u64, SALES_SPREAD);
    // The status items, the sku items (day and month) of A and B: spread over the partitions.
    // 32 status items and 8 for each of the two skus (its day and month share a key).
    assert!(partitions.len() >= 40, "{}", partitions.len());
    let again = contribution(&o, Berlin);
    o.status = OrderStatus::Cancelled;
    let cancelled = contribution(&o, Berlin);
    assert_eq!(
        again[2..],
        cancelled[2..],
        "the sales items stay where they are"
    );
}

#[test]
fn a_period_reads_its_whole_months_and_the_days_at_its_ends() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    assert_eq!(
        ranges_to_read(d(2026, 1, 15), d(2026, 4, 10), false),
        vec![
            (2026, "D2026-01-15".into(), "D2026-01-31#~".into()),
            (2026, "M2026-02".into(), "M2026-03#~".into()),
            (2026, "D2026-04-01".into(), "D2026-04-10#~".into()),
        ]
    );
    // Two partial months next to each other are one range; a year's end splits.
    assert_eq!(
        ranges_to_read(d(2026, 12, 20), d(2027, 1, 5), false),
        vec![
            (2026, "D2026-12-20".into(), "D2026-12-31#~".into()),
            (2027, "D2027-01-01".into(), "D2027-01-05#~".into()),
        ]
    );
    assert_eq!(
        ranges_to_read(d(2026, 1, 20), d(2026, 2, 10), false),
        vec![(2026, "D2026-01-20".into(), "D2026-02-10#~".into())]
    );
    assert_eq!(
        ranges_to_read(d(2026, 1, 1), d(2026, 12, 31), false),
        vec![(2026, "M2026-01".into(), "M2026-12#~".into())]
    );
    // The orders report is per day.
    assert_eq!(
        ranges_to_read(d(2026, 1, 15), d(2026, 4, 10), true),
        vec![(2026, "D2026-01-15".into(), "D2026-04-10#~".into())]
    );
    // One day.
    assert_eq!(
        ranges_to_read(d(2026, 12, 3), d(2026, 12, 3), false),
        vec![(2026, "D2026-12-03".into(), "D2026-12-03#~".into())]
    );
}

#[test]
fn a_sku_with_hashes_reads_back_whole() {
    let row = Row::parse("D2026-12-03#3#web#DE#EUR#A#B", Counters::default(), None);
    assert_eq!(row.map(|r| r.what), Some("A#B".to_string()));
    assert_eq!(
        Row::parse("D2026-12-03#3#web", Counters::default(), None),
        None
    );
}
