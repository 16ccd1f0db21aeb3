//! Report aggregates: what one order adds to the sales and orders reports, kept as running sums
//! by the orders table's stream, so that a report over a long period reads sums instead of every
//! order of the period.
//!
//! An order's *contribution* is a set of (aggregate item, counters). The stream applies the
//! difference between an order's new contribution and the one already applied (kept on a marker
//! item per order, with the order's version), so a redelivered or out-of-order record adds
//! nothing twice and a changed order (cancelled, returned, a new status) moves its units.
//!
//! Items are per UTC hour (a report in any zone whose offset is whole hours sums exactly its
//! days), their sort key starting with the hour. Their partition key is the kind, the year and
//! one of [`SPREAD`] spreads picked by order id: the writes of any moment go to 32 keys (at
//! 5,000 orders/s about 940 write units each, under a partition's 1,000), and a report of up
//! to a year reads one contiguous sort key range of at most two years' 32 keys.

use crate::order::Order;
use crate::refund::share;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Partition keys per year and kind; a report reads all of them.
pub const SPREAD: u64 = 32;

/// Aggregate updates per transaction: DynamoDB's 100 actions less the order's marker.
pub const CHUNK: usize = 99;

/// What is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Per hour, channel, country, currency and sku: units ordered, cancelled, returned and the
    /// revenue of the units sold.
    Sales,
    /// Per hour, channel, country, status and currency: orders, units and totals.
    Orders,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Sales => "SALES",
            Kind::Orders => "ORDERS",
        }
    }
}

/// The counters of one aggregate item (money in cents: exact under DynamoDB's `ADD` anywhere).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub orders: i64,
    pub units: i64,
    pub cancelled: i64,
    pub returned: i64,
    pub cents: i64,
}

impl Counters {
    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }

    fn minus(self, o: Counters) -> Counters {
        Counters {
            orders: self.orders - o.orders,
            units: self.units - o.units,
            cancelled: self.cancelled - o.cancelled,
            returned: self.returned - o.returned,
            cents: self.cents - o.cents,
        }
    }

    pub fn plus(self, o: Counters) -> Counters {
        self.minus(Counters::default().minus(o))
    }
}

/// One part of a contribution: the aggregate item's keys, its counters, and (sales) the line's
/// name for a sku the catalogue no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub pk: String,
    pub sk: String,
    pub counters: Counters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The UTC hour of a time, as it starts every aggregate's sort key: `2026-12-03T13`.
pub fn hour_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

/// The partition key of a kind's aggregates of one UTC year and spread.
pub fn partition_key(kind: Kind, year: i32, spread: u64) -> String {
    format!("{}#{year:04}#{spread}", kind.prefix())
}

/// The spread an order's aggregates go to (FNV-1a of its id: the same for every version).
fn spread_of(order_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % SPREAD
}

fn cents(m: crate::money::Money) -> i64 {
    // Money is held at cents; the scaled amount fits an i64 for any real order.
    let c = m.amount() * rust_decimal::Decimal::ONE_HUNDRED;
    i64::try_from(c.trunc()).unwrap_or(0)
}

fn status_name(o: &Order) -> String {
    serde_json::to_value(o.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Everything an order adds to the aggregates as it is now, sorted by key.
pub fn contribution(o: &Order) -> Vec<Part> {
    let hour = hour_key(o.created_at);
    let year = o.created_at.year();
    let n = spread_of(o.id.as_str());
    let (channel, country, currency) = (
        o.channel_id.as_str(),
        o.shipping_address.country.as_str(),
        o.currency.to_string(),
    );
    let mut parts: BTreeMap<(String, String), Part> = BTreeMap::new();
    let pk = partition_key(Kind::Orders, year, n);
    let sk = format!("{hour}#{channel}#{country}#{currency}#{}", status_name(o));
    parts.insert(
        (pk.clone(), sk.clone()),
        Part {
            pk,
            sk,
            counters: Counters {
                orders: 1,
                units: o.lines.iter().map(|l| i64::from(l.quantity)).sum(),
                cents: cents(o.totals.total),
                ..Counters::default()
            },
            name: None,
        },
    );
    let pk = partition_key(Kind::Sales, year, n);
    let mut seen = std::collections::BTreeSet::new();
    for l in &o.lines {
        let sk = format!("{hour}#{channel}#{country}#{currency}#{}", l.sku);
        let q = l.quantities;
        let sold = l.quantity.saturating_sub(q.cancelled + q.returned);
        // An order counts once per sku, however many of its lines carry it.
        let first = seen.insert(l.sku.to_string());
        let part = parts
            .entry((pk.clone(), sk.clone()))
            .or_insert_with(|| Part {
                pk: pk.clone(),
                sk,
                counters: Counters::default(),
                name: Some(l.name.clone()),
            });
        part.counters = part.counters.plus(Counters {
            orders: i64::from(first),
            units: i64::from(l.quantity),
            cancelled: i64::from(q.cancelled),
            returned: i64::from(q.returned),
            cents: cents(share(l.paid, sold, l.quantity)),
        });
    }
    parts.into_values().collect()
}

/// What to add to move the aggregates from `applied` to `next` (both as `contribution` gives
/// them): per item the difference, items without one left out, sorted by key.
pub fn difference(applied: &[Part], next: &[Part]) -> Vec<Part> {
    let mut by: BTreeMap<(&str, &str), Part> = BTreeMap::new();
    for p in next {
        by.insert((p.pk.as_str(), p.sk.as_str()), p.clone());
    }
    for p in applied {
        let e = by
            .entry((p.pk.as_str(), p.sk.as_str()))
            .or_insert_with(|| Part {
                counters: Counters::default(),
                name: None,
                ..p.clone()
            });
        e.counters = e.counters.minus(p.counters);
    }
    by.into_values().filter(|p| !p.counters.is_zero()).collect()
}

/// A row read back from an aggregate item: its dimensions parsed from the sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub hour: String,
    pub channel: String,
    pub country: String,
    pub currency: String,
    /// The sku (sales) or the status (orders).
    pub what: String,
    pub counters: Counters,
    pub name: Option<String>,
}

impl Row {
    /// The row of an aggregate item's sort key; `None` for a key no version wrote.
    pub fn parse(sk: &str, counters: Counters, name: Option<String>) -> Option<Row> {
        // The sku is last and may hold any character the others cannot.
        let mut it = sk.splitn(5, '#');
        Some(Row {
            hour: it.next()?.to_string(),
            channel: it.next()?.to_string(),
            country: it.next()?.to_string(),
            currency: it.next()?.to_string(),
            what: it.next()?.to_string(),
            counters,
            name,
        })
    }
}

/// The UTC years whose aggregates hold the hours of [lo, hi], each with the sort key range to
/// read (both ends included).
pub fn ranges_to_read(lo: DateTime<Utc>, hi: DateTime<Utc>) -> Vec<(i32, String, String)> {
    (lo.year()..=hi.year())
        .map(|year| {
            let from = if year == lo.year() {
                hour_key(lo)
            } else {
                format!("{year:04}-01-01T00")
            };
            let to = if year == hi.year() {
                hour_key(hi)
            } else {
                format!("{year:04}-12-31T23")
            };
            // "~" sorts after every character that follows the hour.
            (year, from, format!("{to}~"))
        })
        .collect()
}

/// Whether [lo, hi] is made of whole UTC hours (a period of whole days in a zone whose offset
/// is whole hours), so that the aggregates answer it exactly.
pub fn whole_hours(lo: DateTime<Utc>, hi: DateTime<Utc>) -> bool {
    use chrono::Timelike;
    let end = hi + chrono::Duration::microseconds(1);
    let whole = |t: DateTime<Utc>| t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0;
    whole(lo) && whole(end)
}

#[cfg(test)]
mod tests;
