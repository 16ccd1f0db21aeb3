//! Report aggregates: what one order adds to the sales and orders reports, kept as running sums
//! by the orders table's stream, so that a report over a long period reads sums instead of every
//! order of the period.
//!
//! An order's *contribution* is a set of (aggregate item, counters). The stream applies the
//! difference between an order's new contribution and the one already applied (kept on a marker
//! item per order, with the order's version and the zone it was dated in), so a redelivered or
//! out-of-order record adds nothing twice and a changed order (cancelled, returned, a new
//! status) moves its units.
//!
//! **Buckets.** Each part is summed on the order's day and on its month, both in the retailer's
//! time zone: a report of whole days reads the months it covers whole and the days at its ends,
//! so what it reads grows with the catalogue and the period, not with the orders. (The orders
//! report is per day and reads days only.)
//!
//! **Keys.** The sort key is `<bucket>#<spread>#<channel>#<country>#<currency>#<sku or status>`.
//! The spread (0..[`SALES_SPREAD`] for a sku, 0..[`ORDERS_SPREAD`] for a status, by order id)
//! keeps any one item under DynamoDB's 1,000 writes per second per item: a promoted sku's 2,000
//! orders per second write 8 items, the few status sums of 5,000 orders per second 32. The
//! partition key is the kind, the bucket's year and one of [`PARTITIONS`], picked from the rest
//! of the sort key, so the writes of any moment spread over 32 keys per kind and a report reads
//! at most two years of 32 keys, each in a few contiguous sort key ranges. (At 5,000 orders a
//! second a key takes more than one partition's 1,000 write units: DynamoDB splits such a key's
//! items by sort key; see docs/capacity.md.)

use crate::order::Order;
use crate::refund::share;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Partition keys per year and kind; a report reads all of them.
pub const PARTITIONS: u64 = 32;
/// Items one sku's sums of a bucket are spread over.
pub const SALES_SPREAD: u64 = 8;
/// Items one status's sums of a bucket are spread over.
pub const ORDERS_SPREAD: u64 = 32;

/// Aggregate updates per transaction: DynamoDB's 100 actions less the order's marker.
pub const CHUNK: usize = 99;

/// What is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Per bucket, channel, country, currency and sku: units ordered, cancelled, returned and
    /// the revenue of the units sold.
    Sales,
    /// Per day, channel, country, currency and status: orders, units and totals.
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

/// FNV-1a: stable across builds and machines (the keys are stored).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The day bucket of a date: `D2026-12-03`.
pub fn day_bucket(d: NaiveDate) -> String {
    format!("D{}", d.format("%Y-%m-%d"))
}

/// The month bucket of a date: `M2026-12`.
pub fn month_bucket(d: NaiveDate) -> String {
    format!("M{:04}-{:02}", d.year(), d.month())
}

/// The partition key of a kind's aggregates of a year.
pub fn partition_key(kind: Kind, year: i32, partition: u64) -> String {
    format!("{}#{year:04}#{partition}", kind.prefix())
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

/// Adds `counters` to the item of (bucket, spread, dimensions) in `parts`.
fn add(
    parts: &mut BTreeMap<(String, String), Part>,
    (kind, year): (Kind, i32),
    bucket: &str,
    spread: u64,
    dims: &[&str],
    counters: Counters,
    name: Option<&str>,
) {
    let spread_text = spread.to_string();
    let mut key = vec![spread_text.as_str()];
    key.extend_from_slice(dims);
    let pk = partition_key(kind, year, fnv(&key) % PARTITIONS);
    let sk = format!("{bucket}#{}", key.join("#"));
    let part = parts
        .entry((pk.clone(), sk.clone()))
        .or_insert_with(|| Part {
            pk,
            sk,
            counters: Counters::default(),
            name: name.map(str::to_owned),
        });
    part.counters = part.counters.plus(counters);
}

/// Everything an order adds to the aggregates as it is now, dated in `zone`, sorted by key.
pub fn contribution(o: &Order, zone: Tz) -> Vec<Part> {
    let date = local_date(o.created_at, zone);
    let (day, month, year) = (day_bucket(date), month_bucket(date), date.year());
    let id = fnv(&[o.id.as_str()]);
    let currency = o.currency.to_string();
    let (channel, country) = (o.channel_id.as_str(), o.shipping_address.country.as_str());
    let mut parts: BTreeMap<(String, String), Part> = BTreeMap::new();
    let status = status_name(o);
    let order = Counters {
        orders: 1,
        units: o.lines.iter().map(|l| i64::from(l.quantity)).sum(),
        cents: cents(o.totals.total),
        ..Counters::default()
    };
    add(
        &mut parts,
        (Kind::Orders, year),
        &day,
        id % ORDERS_SPREAD,
        &[channel, country, &currency, &status],
        order,
        None,
    );
    let mut seen = std::collections::BTreeSet::new();
    for l in &o.lines {
        let q = l.quantities;
        let sold = l.quantity.saturating_sub(q.cancelled + q.returned);
        // An order counts once per sku, however many of its lines carry it.
        let first = seen.insert(l.sku.as_str());
        let c = Counters {
            orders: i64::from(first),
            units: i64::from(l.quantity),
            cancelled: i64::from(q.cancelled),
            returned: i64::from(q.returned),
            cents: cents(share(l.paid, sold, l.quantity)),
        };
        for bucket in [&day, &month] {
            add(
                &mut parts,
                (Kind::Sales, year),
                bucket,
                id % SALES_SPREAD,
                &[channel, country, &currency, l.sku.as_str()],
                c,
                Some(&l.name),
            );
        }
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
    /// `D2026-12-03` or `M2026-12`.
    pub bucket: String,
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
        let mut it = sk.splitn(6, '#');
        let bucket = it.next()?.to_string();
        let _spread = it.next()?;
        Some(Row {
            bucket,
            channel: it.next()?.to_string(),
            country: it.next()?.to_string(),
            currency: it.next()?.to_string(),
            what: it.next()?.to_string(),
            counters,
            name,
        })
    }

    /// The day of a day bucket.
    pub fn day(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(self.bucket.strip_prefix('D')?, "%Y-%m-%d").ok()
    }
}

/// The sort key ranges (year, from, to; both ends included) that hold the days `from` to `to`:
/// for the sales, the months inside the period whole and the days of the months at its ends;
/// for the orders (`days_only`), every day.
pub fn ranges_to_read(
    from: NaiveDate,
    to: NaiveDate,
    days_only: bool,
) -> Vec<(i32, String, String)> {
    let mut out: Vec<(i32, String, String)> = Vec::new();
    let mut day = from;
    while day <= to {
        let month_start = day.with_day(1).unwrap_or(day);
        let next_month = if month_start.month() == 12 {
            NaiveDate::from_ymd_opt(month_start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(month_start.year(), month_start.month() + 1, 1)
        };
        let Some(next_month) = next_month else { break };
        let month_end = next_month.pred_opt().unwrap_or(next_month);
        let last = month_end.min(to);
        // "~" sorts after every character that follows a bucket.
        let range = if !days_only && day == month_start && last == month_end {
            let b = month_bucket(day);
            (day.year(), b.clone(), format!("{b}#~"))
        } else {
            (
                day.year(),
                day_bucket(day),
                format!("{}#~", day_bucket(last)),
            )
        };
        // A range right after one of the same year and bucket kind continues it: the months
        // come one after another, and so do the days (a month read whole would sit between).
        match out.last_mut() {
            Some((y, lo, hi)) if *y == range.0 && lo.get(..1) == range.1.get(..1) => {
                *hi = range.2;
            }
            _ => out.push(range),
        }
        day = next_month;
    }
    out
}

/// A time as its date in the zone.
pub fn local_date(t: DateTime<Utc>, zone: Tz) -> NaiveDate {
    t.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests;
