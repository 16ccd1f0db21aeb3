//! The reports as pure functions of the data read for them: rows with fixed columns, the same
//! for JSON, CSV and XLSX (see `export`). Money is `Money` to the end and leaves as its
//! two-decimal string.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use dropship_aws::repo::stock::StockLevel;
use dropship_core::aggregates::Row;
// The sales and orders reports live in `sales`, with their way from the aggregates.
pub use crate::sales::{orders, sales};
use dropship_core::catalogue::Product;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::{ChannelId, CountryCode, FulfillerId, OrderId, Sku};
use dropship_core::ledger::LedgerKind;
use dropship_core::money::Money;
use dropship_core::order::Order;
use dropship_core::refund::share;
use dropship_core::returns::ReturnPart;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A report: its columns and rows (each row one value per column).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The rows as JSON objects.
    pub fn items(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|r| {
                Value::Object(
                    self.columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| ((*c).to_string(), v.clone()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// A value as text (CSV cells, sort keys): strings as they are, null empty. The files people
/// download go through `export`, which also neutralises formulas.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The filters of the query string; each report applies those that make sense for it.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub channel: Option<ChannelId>,
    pub fulfiller: Option<FulfillerId>,
    pub country: Option<CountryCode>,
    pub group: Option<String>,
}

impl Filters {
    pub(crate) fn order(&self, o: &Order) -> bool {
        self.channel.as_ref().is_none_or(|c| *c == o.channel_id)
            && self
                .country
                .as_ref()
                .is_none_or(|c| *c == o.shipping_address.country)
    }

    pub(crate) fn sku(&self, sku: &str, products: &BTreeMap<Sku, Product>) -> bool {
        self.group
            .as_ref()
            .is_none_or(|g| products.get(sku).is_some_and(|p| p.group == *g))
    }

    /// An aggregate row: its channel and country (the period is the rows read).
    pub(crate) fn row(&self, r: &Row) -> bool {
        self.channel
            .as_ref()
            .is_none_or(|c| c.as_str() == r.channel)
            && self
                .country
                .as_ref()
                .is_none_or(|c| c.as_str() == r.country)
    }

    fn fulfiller(&self, f: &str) -> bool {
        self.fulfiller.as_ref().is_none_or(|x| x == f)
    }
}

/// The period asked for, in the retailer's time zone, and its UTC bounds (both ends included).
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub tz: Tz,
    pub lo: DateTime<Utc>,
    pub hi: DateTime<Utc>,
}

impl Period {
    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        self.lo <= t && t <= self.hi
    }
    pub(crate) fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
    fn month(&self, t: DateTime<Utc>) -> String {
        let d = self.date(t);
        format!("{:04}-{:02}", d.year(), d.month())
    }
}

pub(crate) fn money(m: Money) -> Value {
    Value::String(m.to_string())
}

fn sum(ms: impl IntoIterator<Item = Money>) -> Money {
    ms.into_iter().fold(Money::ZERO, |a, b| a + b)
}

/// Per customer (mail address) and currency: orders, units, units returned and what they paid;
/// the best customers first.
pub fn customers(orders: &[Order], p: &Period, f: &Filters) -> Table {
    #[derive(Default)]
    struct C {
        name: String,
        orders: u64,
        units: u64,
        returned: u64,
        returns: u64,
        total: Money,
    }
    let mut by: BTreeMap<(String, String), C> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| f.order(o) && p.contains(o.created_at))
    {
        let c = by
            .entry((o.customer.email.to_lowercase(), o.currency.to_string()))
            .or_default();
        c.name = o.customer.name.clone();
        c.orders += 1;
        c.units += o.lines.iter().map(|l| u64::from(l.quantity)).sum::<u64>();
        c.returned += o
            .lines
            .iter()
            .map(|l| u64::from(l.quantities.returned))
            .sum::<u64>();
        c.returns += o.return_ids.len() as u64;
        c.total += o.totals.total;
    }
    let mut rows: Vec<(Money, Vec<Value>)> = by
        .into_iter()
        .map(|((email, cur), c)| {
            (
                c.total,
                vec![
                    json!(email),
                    json!(c.name),
                    json!(cur),
                    json!(c.orders),
                    json!(c.units),
                    json!(c.returns),
                    json!(c.returned),
                    money(c.total),
                ],
            )
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| cell(&a.1[0]).cmp(&cell(&b.1[0])))
    });
    Table {
        columns: &[
            "customer",
            "name",
            "currency",
            "orders",
            "units",
            "returns",
            "unitsReturned",
            "total",
        ],
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }
}

/// Cancellations (by the customer, or by the system for units nobody could ship), returns,
/// goodwill credits and chargebacks, one row each.
pub fn returns(
    orders: &[Order],
    parts: &[ReturnPart],
    orders_of_parts: &BTreeMap<OrderId, Order>,
    p: &Period,
    f: &Filters,
) -> Table {
    let mut rows: Vec<(DateTime<Utc>, Vec<Value>)> = Vec::new();
    let row = |at: DateTime<Utc>,
               kind: &str,
               o: &Order,
               fulfiller: Option<&str>,
               units: u64,
               amount: Money,
               reason: Option<&str>| {
        vec![
            json!(p.date(at).to_string()),
            json!(kind),
            json!(o.id),
            json!(o.channel_id),
            json!(fulfiller),
            json!(o.currency),
            json!(units),
            money(amount),
            json!(reason),
        ]
    };
    for o in orders
        .iter()
        .filter(|o| f.order(o) && p.contains(o.created_at))
    {
        let by_customer: u32 = o.lines.iter().map(|l| l.cancelled_by_customer).sum();
        if by_customer > 0 {
            let amount = sum(o
                .lines
                .iter()
                .map(|l| share(l.paid, l.cancelled_by_customer, l.quantity)));
            rows.push((
                o.created_at,
                row(
                    o.created_at,
                    "cancellation",
                    o,
                    None,
                    by_customer.into(),
                    amount,
                    None,
                ),
            ));
        }
        let by_system: u32 = o
            .lines
            .iter()
            .map(|l| {
                l.quantities
                    .cancelled
                    .saturating_sub(l.cancelled_by_customer)
            })
            .sum();
        if by_system > 0 {
            let amount = sum(o.lines.iter().map(|l| {
                share(
                    l.paid,
                    l.quantities
                        .cancelled
                        .saturating_sub(l.cancelled_by_customer),
                    l.quantity,
                )
            }));
            rows.push((
                o.created_at,
                row(
                    o.created_at,
                    "unroutable",
                    o,
                    None,
                    by_system.into(),
                    amount,
                    None,
                ),
            ));
        }
        for e in o.ledger.iter().filter(|e| p.contains(e.at)) {
            let kind = match e.kind {
                LedgerKind::Goodwill => "goodwill",
                LedgerKind::Chargeback => "chargeback",
                _ => continue,
            };
            rows.push((
                e.at,
                row(e.at, kind, o, None, 0, e.amount, e.reason.as_deref()),
            ));
        }
    }
    for part in parts
        .iter()
        .filter(|r| p.contains(r.created_at) && f.fulfiller(r.fulfiller_id.as_str()))
    {
        let Some(o) = orders_of_parts.get(&part.order_id).filter(|o| f.order(o)) else {
            continue;
        };
        let units: u64 = part.lines.iter().map(|l| u64::from(l.quantity)).sum();
        let refunded = part
            .refund_id
            .as_ref()
            .and_then(|id| dropship_core::ledger::refund(o, id))
            .map(|r| r.amount)
            .unwrap_or(Money::ZERO);
        let status = part.status.as_str();
        rows.push((
            part.created_at,
            row(
                part.created_at,
                "return",
                o,
                Some(part.fulfiller_id.as_str()),
                units,
                refunded,
                Some(status),
            ),
        ));
    }
    rows.sort_by_key(|a| a.0);
    Table {
        columns: &[
            "date",
            "kind",
            "orderId",
            "channel",
            "fulfillerId",
            "currency",
            "units",
            "amount",
            "note",
        ],
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }
}

/// Stock now: per fulfiller and sku, with the age of the last count.
pub fn stock(
    levels: &[StockLevel],
    products: &BTreeMap<Sku, Product>,
    now: DateTime<Utc>,
    f: &Filters,
) -> Table {
    let mut rows: Vec<Vec<Value>> = levels
        .iter()
        .filter(|l| f.fulfiller(l.fulfiller_id.as_str()) && f.sku(l.sku.as_str(), products))
        .map(|l| {
            vec![
                json!(l.fulfiller_id),
                json!(l.sku),
                json!(products.get(&l.sku).map(|p| p.group.clone())),
                json!(l.available),
                json!(l.reserved),
                json!(l.available - l.reserved),
                json!(l.updated_at.to_rfc3339()),
                json!((now - l.updated_at).num_hours().max(0)),
            ]
        })
        .collect();
    rows.sort_by(|a, b| (cell(&a[0]), cell(&a[1])).cmp(&(cell(&b[0]), cell(&b[1]))));
    Table {
        columns: &[
            "fulfillerId",
            "sku",
            "group",
            "available",
            "reserved",
            "free",
            "updatedAt",
            "ageHours",
        ],
        rows,
    }
}

/// Net, tax and gross per tax rate (shipping's share included), and refunds, per month of the
/// order, shipping country and currency. Refund rows (taxRate empty) count the ledger's refunds
/// and goodwill in the period.
pub fn finance(orders: &[Order], p: &Period, f: &Filters) -> Table {
    type Key = (String, String, String, Option<Decimal>);
    let mut by: BTreeMap<Key, (Money, Money, Money)> = BTreeMap::new();
    for o in orders.iter().filter(|o| f.order(o)) {
        let country = o.shipping_address.country.clone();
        if p.contains(o.created_at) {
            for t in &o.totals.tax {
                let e = by
                    .entry((
                        p.month(o.created_at),
                        country.to_string(),
                        o.currency.to_string(),
                        Some(t.rate),
                    ))
                    .or_insert((Money::ZERO, Money::ZERO, Money::ZERO));
                e.0 += t.net;
                e.1 += t.tax;
            }
        }
        for e in o.ledger.iter().filter(|e| p.contains(e.at)) {
            if matches!(e.kind, LedgerKind::Refund | LedgerKind::Goodwill) {
                let r = by
                    .entry((
                        p.month(e.at),
                        country.to_string(),
                        o.currency.to_string(),
                        None,
                    ))
                    .or_insert((Money::ZERO, Money::ZERO, Money::ZERO));
                r.2 += e.amount;
            }
        }
    }
    Table {
        columns: &[
            "month", "country", "currency", "taxRate", "net", "tax", "gross", "refunds",
        ],
        rows: by
            .into_iter()
            .map(|((m, c, cur, rate), (net, tax, refunds))| {
                vec![
                    json!(m),
                    json!(c),
                    json!(cur),
                    json!(rate.map(|r| r.to_string())),
                    money(net),
                    money(tax),
                    money(net + tax),
                    money(refunds),
                ]
            })
            .collect(),
    }
}

/// What the retailer owes each fulfiller per month: units shipped in the month minus units
/// returned resellable (received in the month), times the source's purchasePrice; a total row
/// (sku empty) per fulfiller and month. Without a purchasePrice the amount stays empty.
pub fn settlement(
    deliveries: &[DeliveryOrder],
    parts: &[ReturnPart],
    products: &BTreeMap<Sku, Product>,
    p: &Period,
    f: &Filters,
) -> Table {
    let mut by: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    for d in deliveries
        .iter()
        .filter(|d| f.fulfiller(d.fulfiller_id.as_str()))
    {
        for s in d.shipments.iter().filter(|s| p.contains(s.shipped_at)) {
            for sl in &s.lines {
                let Some(line) = d.lines.iter().find(|l| l.line_id == sl.line_id) else {
                    continue;
                };
                if !f.sku(line.sku.as_str(), products) {
                    continue;
                }
                by.entry((
                    d.fulfiller_id.to_string(),
                    p.month(s.shipped_at),
                    line.sku.to_string(),
                ))
                .or_default()
                .0 += i64::from(sl.quantity);
            }
        }
    }
    for part in parts
        .iter()
        .filter(|r| f.fulfiller(r.fulfiller_id.as_str()))
    {
        let Some(at) = part.received_at.filter(|t| p.contains(*t)) else {
            continue;
        };
        for l in part
            .lines
            .iter()
            .filter(|l| f.sku(l.sku.as_str(), products))
        {
            let resellable = l.arrived.map(|a| a.resellable).unwrap_or(0);
            if resellable > 0 {
                by.entry((
                    part.fulfiller_id.to_string(),
                    p.month(at),
                    l.sku.to_string(),
                ))
                .or_default()
                .1 += i64::from(resellable);
            }
        }
    }
    let price = |fulfiller: &str, sku: &str| {
        products
            .get(sku)
            .and_then(|p| p.sources.iter().find(|s| s.fulfiller_id == fulfiller))
            .and_then(|s| s.purchase_price)
    };
    let mut rows = Vec::new();
    let mut totals: BTreeMap<(String, String), Money> = BTreeMap::new();
    for ((fulfiller, month, sku), (shipped, returned)) in by {
        let units = shipped - returned;
        let unit_price = price(&fulfiller, &sku);
        let amount = unit_price.map(|pp| Money::from_decimal(pp.amount() * Decimal::from(units)));
        let t = totals
            .entry((fulfiller.clone(), month.clone()))
            .or_insert(Money::ZERO);
        *t += amount.unwrap_or(Money::ZERO);
        rows.push(vec![
            json!(fulfiller),
            json!(month),
            json!(sku),
            json!(shipped),
            json!(returned),
            json!(units),
            json!(unit_price.map(|m| m.to_string())),
            json!(amount.map(|m| m.to_string())),
        ]);
    }
    for ((fulfiller, month), total) in totals {
        rows.push(vec![
            json!(fulfiller),
            json!(month),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            money(total),
        ]);
    }
    // Per fulfiller and month, its skus, then its total.
    rows.sort_by(|a, b| {
        (cell(&a[0]), cell(&a[1]), a[2].is_null(), cell(&a[2])).cmp(&(
            cell(&b[0]),
            cell(&b[1]),
            b[2].is_null(),
            cell(&b[2]),
        ))
    });
    Table {
        columns: &[
            "fulfillerId",
            "month",
            "sku",
            "unitsShipped",
            "unitsReturnedResellable",
            "units",
            "purchasePrice",
            "amount",
        ],
        rows,
    }
}
