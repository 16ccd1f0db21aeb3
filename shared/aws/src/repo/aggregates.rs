//! The report aggregates table (`dropship_core::aggregates`): running sums per day and month that
//! the orders table's stream keeps, one marker per order with the contribution already applied
//! (and the zone it was dated in), and the state of the backfill that brings in the orders
//! written before the stream was read or dated in another zone.
//!
//! Applying an order is exactly-once per version: the marker and the sums it moves are written
//! in one transaction, conditional on the marker still holding what was read. Every write of a
//! marker moves its `seq`, which the conditions compare: a rewrite at the same version (a new
//! zone) or a pending change opened again is never mistaken for the one read. An order whose
//! change moves more items than one transaction holds (orders of up to 100 lines) first writes
//! the next contribution as pending on its marker, then moves the items chunk by chunk, each
//! chunk counted on the marker in its own transaction, and so resumes where a crash left it.

use super::{is_retryable_transaction_failure, n, query_all_items, s, Item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use dropship_core::aggregates::{
    difference, partition_key, ranges_to_read, Counters, Kind, Part, Row, CHUNK, PARTITIONS,
};
use dropship_core::order::Order;
use futures::StreamExt;

const APPLIED: &str = "APPLIED";
const STATE_PK: &str = "STATE";
const BACKFILL: &str = "backfill";
/// Reads and writes of one order before its message is left to its queue's retry.
const ATTEMPTS: u32 = 8;
/// Queries of a report in flight at once.
const READS_IN_FLIGHT: usize = 32;

#[derive(Clone)]
pub struct Aggregates {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// What a marker holds: the version applied and its contribution, and a change under way.
#[derive(Debug, Default)]
struct Marker {
    exists: bool,
    version: Option<u64>,
    zone: Option<String>,
    /// Moved by every write of the marker.
    seq: u64,
    parts: Vec<Part>,
    pending: Option<(u64, Vec<Part>, usize)>,
}

/// What applying an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The aggregates already hold this version or a later one.
    AlreadyHeld,
    /// Moved this many aggregate items.
    Moved(usize),
}

/// Where the backfill stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backfill {
    pub complete: bool,
    /// The orders table's key to go on from.
    pub cursor: Option<String>,
    /// The zone the aggregates are (being) dated in.
    pub zone: Option<String>,
    /// When that zone was taken up (a change of zone starts the backfill again).
    pub zone_since: Option<DateTime<Utc>>,
    /// When the current pass over the orders started.
    pub pass_started: Option<DateTime<Utc>>,
}

fn parts_of(item: &Item, name: &str) -> anyhow::Result<Vec<Part>> {
    match item.get(name) {
        Some(AttributeValue::S(json)) => {
            serde_json::from_str(json).with_context(|| format!("reading a marker's {name}"))
        }
        _ => Ok(Vec::new()),
    }
}

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn counter(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn marker_key(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}

impl Aggregates {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn marker(&self, order_id: &str) -> anyhow::Result<Marker> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(marker_key(order_id)))
            .key("sk", s(APPLIED))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading the aggregates marker of order {order_id}"))?;
        let Some(item) = out.item else {
            return Ok(Marker::default());
        };
        let pending = match number(&item, "pendingVersion") {
            Some(v) => Some((
                v,
                parts_of(&item, "pendingParts")?,
                usize::try_from(number(&item, "chunksDone").unwrap_or(0)).unwrap_or(usize::MAX),
            )),
            None => None,
        };
        Ok(Marker {
            exists: true,
            version: number(&item, "version"),
            zone: item.get("zone").and_then(|v| v.as_s().ok()).cloned(),
            seq: number(&item, "seq").unwrap_or(0),
            parts: parts_of(&item, "parts")?,
            pending,
        })
    }

    /// The update that adds a part's counters to its aggregate item.
    fn add(&self, p: &Part) -> anyhow::Result<TransactWriteItem> {
        let c = p.counters;
        let mut u = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&p.pk))
            .key("sk", s(&p.sk))
            .expression_attribute_values(":o", n(c.orders))
            .expression_attribute_values(":u", n(c.units))
            .expression_attribute_values(":c", n(c.cancelled))
            .expression_attribute_values(":r", n(c.returned))
            .expression_attribute_values(":m", n(c.cents));
        let mut expr = "ADD orders :o, units :u, cancelled :c, returned :r, cents :m".to_string();
        if let Some(name) = &p.name {
            expr = format!("SET #name = if_not_exists(#name, :name) {expr}");
            u = u
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name));
        }
        Ok(TransactWriteItem::builder()
            .update(
                u.update_expression(expr)
                    .build()
                    .context("an aggregate update")?,
            )
            .build())
    }

    /// Applies an order as it is now (a stream record's new image, or the backfill's read),
    /// dated in `zone`: the aggregates end up holding its contribution once, whatever was
    /// applied before (in this zone or another).
    pub async fn apply(&self, order: &Order, zone: Tz) -> anyhow::Result<Applied> {
        let id = order.id.as_str();
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
            }
            let marker = self.marker(id).await?;
            if let Some((v, next, done)) = marker.pending.clone() {
                match self.finish(id, &marker, v, &next, done).await {
                    Ok(()) => continue,
                    Err(Retry::Again(e)) => {
                        last = Some(e);
                        continue;
                    }
                    Err(Retry::Fail(e)) => return Err(e),
                }
            }
            let same_zone = marker.zone.as_deref() == Some(zone.name());
            if same_zone && marker.version.is_some_and(|v| v >= order.version) {
                return Ok(Applied::AlreadyHeld);
            }
            let next = dropship_core::aggregates::contribution(order, zone);
            let delta = difference(&marker.parts, &next);
            // Written only over the marker as read: absent, or the same write with nothing pending.
            let condition = if marker.exists {
                "seq = :seq AND attribute_not_exists(pendingVersion)"
            } else {
                "attribute_not_exists(pk)"
            };
            if delta.is_empty() && same_zone {
                // A write that moved no count (an address, a document number): only the version
                // moves on, so that an older copy of the order is refused from now on.
                let bumped = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(marker_key(id)))
                    .key("sk", s(APPLIED))
                    .update_expression("SET version = :v, seq = :next")
                    .condition_expression(condition)
                    .expression_attribute_values(":v", n(order.version))
                    .expression_attribute_values(":seq", n(marker.seq))
                    .expression_attribute_values(":next", n(marker.seq + 1))
                    .send()
                    .await;
                match bumped {
                    Ok(_) => return Ok(Applied::Moved(0)),
                    Err(e) if super::is_condition_failure(&e) => {
                        last = Some(anyhow::anyhow!("the marker of order {id} moved"));
                        continue;
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("moving the aggregates marker of order {id}")))
                    }
                }
            }
            let moved = delta.len();
            let json = serde_json::to_string(&next).context("writing a contribution")?;
            let mut put = Put::builder()
                .table_name(&self.table)
                .item("pk", s(marker_key(id)))
                .item("sk", s(APPLIED))
                .item("zone", s(zone.name()))
                .item("seq", n(marker.seq + 1))
                .condition_expression(condition);
            if marker.exists {
                put = put.expression_attribute_values(":seq", n(marker.seq));
            }
            if delta.len() <= CHUNK {
                put = put.item("version", n(order.version)).item("parts", s(json));
                let mut items = vec![TransactWriteItem::builder()
                    .put(put.build().context("an aggregates marker")?)
                    .build()];
                for p in &delta {
                    items.push(self.add(p)?);
                }
                match self.transact(items, id).await {
                    Ok(()) => return Ok(Applied::Moved(moved)),
                    Err(Retry::Again(e)) => last = Some(e),
                    Err(Retry::Fail(e)) => return Err(e),
                }
            } else {
                // Too many items for one transaction: the next contribution goes on the marker
                // as pending, the chunks follow (`finish`, on the next round).
                if let Some(v) = marker.version {
                    put = put.item("version", n(v));
                }
                // The applied parts keep their zone until the pending change closes.
                if let Some(z) = &marker.zone {
                    put = put.item("zone", s(z));
                }
                put = put
                    .item(
                        "parts",
                        s(serde_json::to_string(&marker.parts).context("a contribution")?),
                    )
                    .item("pendingVersion", n(order.version))
                    .item("pendingZone", s(zone.name()))
                    .item("pendingParts", s(json))
                    .item("chunksDone", n(0));
                let items = vec![TransactWriteItem::builder()
                    .put(put.build().context("an aggregates marker")?)
                    .build()];
                match self.transact(items, id).await {
                    Ok(()) => continue,
                    Err(Retry::Again(e)) => last = Some(e),
                    Err(Retry::Fail(e)) => return Err(e),
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
            .with_context(|| format!("applying order {id} to the report aggregates"))
    }

    /// Moves the chunks of a pending change not yet moved, then makes it the applied one.
    async fn finish(
        &self,
        id: &str,
        marker: &Marker,
        version: u64,
        next: &[Part],
        done: usize,
    ) -> Result<(), Retry> {
        let delta = difference(&marker.parts, next);
        let chunks: Vec<&[Part]> = delta.chunks(CHUNK).collect();
        for (i, chunk) in chunks.iter().enumerate().skip(done) {
            let count = Update::builder()
                .table_name(&self.table)
                .key("pk", s(marker_key(id)))
                .key("sk", s(APPLIED))
                .update_expression("SET chunksDone = :next")
                .condition_expression("seq = :seq AND pendingVersion = :v AND chunksDone = :i")
                .expression_attribute_values(":seq", n(marker.seq))
                .expression_attribute_values(":v", n(version))
                .expression_attribute_values(":i", n(i))
                .expression_attribute_values(":next", n(i + 1))
                .build()
                .map_err(|e| Retry::Fail(e.into()))?;
            let mut items = vec![TransactWriteItem::builder().update(count).build()];
            for p in chunk.iter() {
                items.push(self.add(p).map_err(Retry::Fail)?);
            }
            self.transact(items, id).await?;
        }
        let applied = serde_json::to_string(next).map_err(|e| Retry::Fail(e.into()))?;
        let close = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(marker_key(id)))
            .key("sk", s(APPLIED))
            .update_expression(
                "SET version = :v, parts = :p, #zone = pendingZone, seq = :next REMOVE pendingVersion, pendingParts, pendingZone, chunksDone",
            )
            .condition_expression("seq = :seq AND pendingVersion = :v AND chunksDone = :all")
            .expression_attribute_values(":seq", n(marker.seq))
            .expression_attribute_values(":next", n(marker.seq + 1))
            .expression_attribute_names("#zone", "zone")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":p", s(applied))
            .expression_attribute_values(":all", n(chunks.len()))
            .send()
            .await;
        match close {
            Ok(_) => Ok(()),
            Err(e) if super::is_condition_failure(&e) => Err(Retry::Again(anyhow::anyhow!(
                "the marker of order {id} moved"
            ))),
            Err(e) => Err(Retry::Fail(
                anyhow::Error::new(e).context("closing a pending aggregates change"),
            )),
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>, id: &str) -> Result<(), Retry> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_retryable_transaction_failure(&e) => Err(Retry::Again(
                anyhow::Error::new(e).context(format!("the aggregates of order {id} moved")),
            )),
            Err(e) => Err(Retry::Fail(
                anyhow::Error::new(e).context(format!("writing the aggregates of order {id}")),
            )),
        }
    }

    /// The rows of a kind's aggregates over the days `from` to `to` (rows whose counters went
    /// back to zero left out), with the number of items read.
    pub async fn rows(
        &self,
        kind: Kind,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<(Vec<Row>, usize)> {
        let queries = ranges_to_read(from, to, kind == Kind::Orders)
            .into_iter()
            .flat_map(|(year, lo, hi)| {
                (0..PARTITIONS).map(move |k| (partition_key(kind, year, k), lo.clone(), hi.clone()))
            })
            .map(|(pk, from, to)| {
                let query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", s(&pk))
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to));
                async move { query_all_items(query, &format!("reading the aggregates {pk}")).await }
            });
        let pages: Vec<anyhow::Result<Vec<Item>>> = futures::stream::iter(queries)
            .buffer_unordered(READS_IN_FLIGHT)
            .collect()
            .await;
        let mut rows = Vec::new();
        let mut read = 0;
        for page in pages {
            for item in page? {
                read += 1;
                let counters = Counters {
                    orders: counter(&item, "orders"),
                    units: counter(&item, "units"),
                    cancelled: counter(&item, "cancelled"),
                    returned: counter(&item, "returned"),
                    cents: counter(&item, "cents"),
                };
                if counters.is_zero() {
                    continue;
                }
                let sk = item.get("sk").and_then(|v| v.as_s().ok());
                let name = item.get("name").and_then(|v| v.as_s().ok()).cloned();
                if let Some(row) = sk.and_then(|sk| Row::parse(sk, counters, name)) {
                    rows.push(row);
                }
            }
        }
        Ok((rows, read))
    }

    /// Where the backfill stands (not started: neither complete nor with a cursor).
    pub async fn backfill(&self) -> anyhow::Result<Backfill> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(STATE_PK))
            .key("sk", s(BACKFILL))
            .consistent_read(true)
            .send()
            .await
            .context("reading the aggregates backfill state")?;
        let item = out.item.unwrap_or_default();
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let time = |name: &str| {
            text(name)
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        Ok(Backfill {
            complete: matches!(item.get("complete"), Some(AttributeValue::Bool(true))),
            cursor: text("cursor"),
            zone: text("zone"),
            zone_since: time("zoneSince"),
            pass_started: time("passStarted"),
        })
    }

    /// Records the backfill's progress.
    pub async fn set_backfill(&self, state: &Backfill) -> anyhow::Result<()> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(STATE_PK))
            .item("sk", s(BACKFILL))
            .item("complete", AttributeValue::Bool(state.complete))
            .item("updatedAt", s(Utc::now().to_rfc3339()));
        let texts = [
            ("cursor", state.cursor.clone()),
            ("zone", state.zone.clone()),
            ("zoneSince", state.zone_since.map(|t| t.to_rfc3339())),
            ("passStarted", state.pass_started.map(|t| t.to_rfc3339())),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                put = put.item(name, s(v));
            }
        }
        put.send()
            .await
            .context("recording the aggregates backfill state")?;
        Ok(())
    }
}

/// A failed write: `Again` when what was read has moved (read and write again), `Fail` else.
enum Retry {
    Again(anyhow::Error),
    Fail(anyhow::Error),
}
