//! The sales and orders reports, built two ways into the same tables: from the orders of the
//! period, or from the report aggregates (`dropship_core::aggregates`) that the reports read once
//! they are complete.

use crate::tables::{cell, money, Filters, Period, Table};
use chrono::NaiveDate;
use dropship_core::aggregates::Row;
use dropship_core::catalogue::Product;
use dropship_core::ids::Sku;
use dropship_core::money::Money;
use dropship_core::order::Order;
use dropship_core::refund::share;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The orders report's groups: (day, channel, status, currency) to orders, units and total.
type OrderGroups = BTreeMap<(NaiveDate, String, String, String), (u64, u64, Money)>;

/// Intake by day, channel, status and currency.
pub fn orders(orders: &[Order], p: &Period, f: &Filters) -> Table {
    let mut groups = OrderGroups::new();
    for o in orders
        .iter()
        .filter(|o| f.order(o) && p.contains(o.created_at))
    {
        let status = serde_json::to_value(o.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let g = groups
            .entry((
                p.date(o.created_at),
                o.channel_id.to_string(),
                status,
                o.currency.to_string(),
            ))
            .or_insert((0, 0, Money::ZERO));
        g.0 += 1;
        g.1 += o.lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>();
        g.2 += o.totals.total;
    }
    orders_table(groups)
}

fn from_cents(cents: i64) -> Money {
    Money::from_decimal(Decimal::new(cents, 2))
}

fn orders_table(groups: OrderGroups) -> Table {
    Table {
        columns: &[
            "date", "channel", "status", "currency", "orders", "units", "total",
        ],
        rows: groups
            .into_iter()
            .map(|((d, c, s, cur), (n, u, t))| {
                vec![
                    json!(d.to_string()),
                    json!(c),
                    json!(s),
                    json!(cur),
                    json!(n),
                    json!(u),
                    money(t),
                ]
            })
            .collect(),
    }
}

/// What the sales report sums per (sku, currency).
#[derive(Default)]
struct SkuSales {
    orders: u64,
    ordered: u64,
    cancelled: u64,
    returned: u64,
    revenue: Money,
}

/// Per sku: units ordered, cancelled, returned and sold, and the revenue of the units sold; top
/// sellers first, the catalogue's products without sales last (the slow sellers). An order
/// counts once per sku, however many of its lines carry it.
pub fn sales(
    orders: &[Order],
    products: &BTreeMap<Sku, Product>,
    p: &Period,
    f: &Filters,
) -> Table {
    let mut by: BTreeMap<(String, String), SkuSales> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| f.order(o) && p.contains(o.created_at))
    {
        let mut counted = std::collections::BTreeSet::new();
        for l in o.lines.iter().filter(|l| f.sku(l.sku.as_str(), products)) {
            names
                .entry(l.sku.to_string())
                .or_insert_with(|| l.name.clone());
            let s = by
                .entry((l.sku.to_string(), o.currency.to_string()))
                .or_default();
            let q = l.quantities;
            let sold = l.quantity.saturating_sub(q.cancelled + q.returned);
            s.orders += u64::from(counted.insert(l.sku.as_str()));
            s.ordered += u64::from(l.quantity);
            s.cancelled += u64::from(q.cancelled);
            s.returned += u64::from(q.returned);
            s.revenue += share(l.paid, sold, l.quantity);
        }
    }
    sales_table(by, &names, products, f)
}

fn sales_table(
    by: BTreeMap<(String, String), SkuSales>,
    names: &BTreeMap<String, String>,
    products: &BTreeMap<Sku, Product>,
    f: &Filters,
) -> Table {
    let mut rows: Vec<(u64, Vec<Value>)> = by
        .into_iter()
        .map(|((sku, cur), s)| {
            let sold = s.ordered - s.cancelled - s.returned;
            let group = products.get(sku.as_str()).map(|p| p.group.clone());
            let name = products
                .get(sku.as_str())
                .map(|p| p.name.clone())
                .or_else(|| names.get(&sku).cloned());
            (
                sold,
                vec![
                    json!(sku),
                    json!(name),
                    json!(group),
                    json!(s.orders),
                    json!(s.ordered),
                    json!(s.cancelled),
                    json!(s.returned),
                    json!(sold),
                    json!(cur),
                    money(s.revenue),
                ],
            )
        })
        .collect();
    // Top sellers first; equal sales by sku.
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| cell(&a.1[0]).cmp(&cell(&b.1[0])))
    });
    let sold_skus: std::collections::BTreeSet<String> =
        rows.iter().map(|(_, r)| cell(&r[0])).collect();
    for prod in products
        .values()
        .filter(|prod| !sold_skus.contains(prod.sku.as_str()) && f.sku(prod.sku.as_str(), products))
    {
        rows.push((
            0,
            vec![
                json!(prod.sku),
                json!(prod.name),
                json!(prod.group),
                json!(0),
                json!(0),
                json!(0),
                json!(0),
                json!(0),
                Value::Null,
                money(Money::ZERO),
            ],
        ));
    }
    Table {
        columns: &[
            "rank",
            "sku",
            "name",
            "group",
            "orders",
            "unitsOrdered",
            "unitsCancelled",
            "unitsReturned",
            "unitsSold",
            "currency",
            "revenue",
        ],
        rows: rows
            .into_iter()
            .enumerate()
            .map(|(i, (_, mut r))| {
                r.insert(0, json!(i + 1));
                r
            })
            .collect(),
    }
}

/// The orders report from the orders aggregates of the period (`dropship_core::aggregates`):
/// day rows, dated in the retailer's zone when they were summed.
pub fn orders_of(rows: &[Row], f: &Filters) -> Table {
    let mut groups = OrderGroups::new();
    for r in rows.iter().filter(|r| f.row(r)) {
        let Some(day) = r.day() else {
            continue;
        };
        let g = groups
            .entry((day, r.channel.clone(), r.what.clone(), r.currency.clone()))
            .or_insert((0, 0, Money::ZERO));
        g.0 += u64::try_from(r.counters.orders).unwrap_or(0);
        g.1 += u64::try_from(r.counters.units).unwrap_or(0);
        g.2 += from_cents(r.counters.cents);
    }
    orders_table(groups)
}

/// The sales report from the sales aggregates of the period (`dropship_core::aggregates`).
pub fn sales_of(rows: &[Row], products: &BTreeMap<Sku, Product>, f: &Filters) -> Table {
    let mut by: BTreeMap<(String, String), SkuSales> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| f.row(r) && f.sku(r.what.as_str(), products))
    {
        if let Some(name) = &r.name {
            names.entry(r.what.clone()).or_insert_with(|| name.clone());
        }
        let s = by.entry((r.what.clone(), r.currency.clone())).or_default();
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        s.orders += count(r.counters.orders);
        s.ordered += count(r.counters.units);
        s.cancelled += count(r.counters.cancelled);
        s.returned += count(r.counters.returned);
        s.revenue += from_cents(r.counters.cents);
    }
    sales_table(by, &names, products, f)
}
