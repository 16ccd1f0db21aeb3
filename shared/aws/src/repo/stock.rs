//! Stock table. Key: (fulfillerId, sku). Attributes: available (reported on hand), reserved
//! (promised to delivery orders not yet shipped), free = available - reserved (kept as its own
//! attribute because condition expressions cannot do arithmetic: reservations are the conditional
//! write `free >= :q`), asOf (time of the count), updatedAt.
//! A sharded sku (`stock::shards`, the product's `stockShards`) has more items: its root (the
//! item above) carries `shards` (how many items in all) and `countSeq` (counts in order), and
//! shard k is the item (`<fulfillerId>~k`, sku), holding available, reserved and free only. The
//! sku's level is the sum over its items; readers fold them into one `StockLevel`.
//! Access: batch-get the candidates of an order (and the shards of the sharded ones); apply a
//! count (ignored when older than the last applied); list one fulfiller's stock.

use super::orders::sort_time;
use super::{batch_get, batch_get_consistent, from_item, n, s, Item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use dropship_core::catalogue::SourcePair;
use dropship_core::ids::{FulfillerId, Sku};
use dropship_core::stock::shards::{
    shard_fulfiller_key, shard_of_fulfiller_key, spread_count, CountMove, ItemLevel, ShardFree,
    MAX_STOCK_SHARDS,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often a count of a sharded sku reads and writes again when reservations or another
/// count moved the items between its read and its write.
const COUNT_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub fulfiller_id: FulfillerId,
    pub sku: Sku,
    pub available: i64,
    pub reserved: i64,
    pub free: i64,
    pub as_of: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many items the stock is spread over (absent: one).
    #[serde(default, skip_serializing)]
    pub shards: Option<u16>,
    /// A sharded sku's counts so far: each count is conditional on it (one at a time).
    #[serde(default, skip_serializing)]
    pub count_seq: Option<u64>,
    /// The free stock of each item of a sharded sku (root first), as read; empty for one item.
    #[serde(skip)]
    pub shard_free: Vec<ShardFree>,
}

/// A shard item (`<fulfillerId>~k`, sku) as stored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShardItem {
    fulfiller_id: String,
    sku: Sku,
    available: i64,
    reserved: i64,
    free: i64,
}

impl ShardItem {
    /// The shard it is (None for a key that names no shard) and its figures.
    fn read(item: Item) -> anyhow::Result<Option<(FulfillerId, u16, ShardItem)>> {
        let shard: ShardItem = from_item(item)?;
        let Some((fulfiller, k)) = shard_of_fulfiller_key(&shard.fulfiller_id) else {
            return Ok(None);
        };
        Ok(Some((FulfillerId::try_from(fulfiller)?, k, shard)))
    }

    fn level(&self) -> ItemLevel {
        ItemLevel {
            available: self.available,
            reserved: self.reserved,
            free: self.free,
        }
    }
}

/// The keys of shards 1..`items` of a fulfiller's sku (item 0 is the root).
fn shard_keys<'a>(
    fulfiller_id: &'a str,
    sku: &'a str,
    items: u16,
) -> impl Iterator<Item = Item> + 'a {
    (1..items).map(move |k| key(&shard_fulfiller_key(fulfiller_id, k), sku))
}

impl StockLevel {
    /// The root's own figures.
    fn root_level(&self) -> ItemLevel {
        ItemLevel {
            available: self.available,
            reserved: self.reserved,
            free: self.free,
        }
    }

    /// The item count of a sharded sku's stock, more than one; None for one item.
    fn sharded(&self) -> Option<u16> {
        self.shards
            .filter(|n| *n > 1)
            .map(|n| n.min(MAX_STOCK_SHARDS))
    }
}

/// A count that was applied: the sku's free stock before, and its figures now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountApplied {
    pub sku: String,
    pub free_before: i64,
    pub available: i64,
    pub reserved: i64,
}

impl CountApplied {
    pub fn free(&self) -> i64 {
        self.available - self.reserved
    }
    /// Less on hand than is promised to delivery orders.
    pub fn is_shortfall(&self) -> bool {
        self.available < self.reserved
    }
}

#[derive(Clone, Debug)]
pub struct Stock {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Stock {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub async fn get_many(
        &self,
        keys: impl IntoIterator<Item = SourcePair>,
    ) -> anyhow::Result<BTreeMap<(FulfillerId, Sku), StockLevel>> {
        let (_, keys) = self.keys(keys);
        let levels = Self::levels_from(batch_get(&self.client, &self.table, keys).await?)?;
        self.with_shards(levels).await
    }

    /// The table and keys of these (fulfiller, sku) levels, each once, to read them in a
    /// BatchGetItem shared with other tables; `levels_from` parses what came back and
    /// `with_shards` adds the shards of the sharded ones.
    pub fn keys(&self, keys: impl IntoIterator<Item = SourcePair>) -> (String, Vec<Item>) {
        let keys: std::collections::BTreeSet<SourcePair> = keys.into_iter().collect();
        let items = keys
            .into_iter()
            .map(|k| key(k.fulfiller_id.as_str(), k.sku.as_str()))
            .collect();
        (self.table.clone(), items)
    }

    pub fn levels_from(
        items: Vec<Item>,
    ) -> anyhow::Result<BTreeMap<(FulfillerId, Sku), StockLevel>> {
        let mut out = BTreeMap::new();
        for item in items {
            let level: StockLevel = from_item(item)?;
            out.insert((level.fulfiller_id.clone(), level.sku.clone()), level);
        }
        Ok(out)
    }

    /// The levels with their sharded skus' shards read and added in (one more BatchGetItem, only
    /// when some level is sharded).
    pub async fn with_shards(
        &self,
        mut levels: BTreeMap<(FulfillerId, Sku), StockLevel>,
    ) -> anyhow::Result<BTreeMap<(FulfillerId, Sku), StockLevel>> {
        let keys: Vec<Item> = levels
            .values()
            .filter_map(|l| l.sharded().map(|n| (l, n)))
            .flat_map(|(l, n)| shard_keys(l.fulfiller_id.as_str(), l.sku.as_str(), n))
            .collect();
        if keys.is_empty() {
            return Ok(levels);
        }
        let shards = batch_get(&self.client, &self.table, keys).await?;
        fold(&mut levels, shards)?;
        Ok(levels)
    }

    /// Applies an absolute count taken at `as_of`; the change, or None when a newer count was
    /// applied already (a late feed cannot undo a shipment). `shards` is how many items the
    /// product wants its stock spread over.
    pub async fn apply_count(
        &self,
        fulfiller_id: &str,
        sku: &str,
        available: u32,
        as_of: DateTime<Utc>,
        now: DateTime<Utc>,
        shards: u16,
    ) -> anyhow::Result<Option<CountApplied>> {
        if shards <= 1 {
            match self
                .apply_count_to_one_item(fulfiller_id, sku, available, as_of, now)
                .await?
            {
                Some(applied) => return Ok(Some(applied)),
                // Older than the count applied, or a sharded sku's root: read to tell which.
                None => {
                    let root = self.get_consistent(fulfiller_id, sku).await?;
                    if root.as_ref().and_then(StockLevel::sharded).is_none() {
                        return Ok(None);
                    }
                }
            }
        }
        self.apply_count_to_shards(fulfiller_id, sku, available, as_of, now, shards)
            .await
    }

    /// The count as one update of the sku's one item (refused by a sharded sku's root).
    async fn apply_count_to_one_item(
        &self,
        fulfiller_id: &str,
        sku: &str,
        available: u32,
        as_of: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<CountApplied>> {
        let res = self
            .client
            .update_item()
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .table_name(&self.table)
            .key("fulfillerId", s(fulfiller_id))
            .key("sku", s(sku))
            .update_expression(
                "SET available = :a, reserved = if_not_exists(reserved, :zero), #free = :a - if_not_exists(reserved, :zero), asOf = :asOf, updatedAt = :now, countSeq = if_not_exists(countSeq, :zero) + :one",
            )
            .condition_expression(
                "(attribute_not_exists(asOf) OR asOf <= :asOf) AND attribute_not_exists(shards)",
            )
            .expression_attribute_names("#free", "free")
            .expression_attribute_values(":a", n(available))
            .expression_attribute_values(":zero", n(0))
            // Counts of either kind move the sequence, so that a count over the shards that read
            // the root before this one cannot commit after it.
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":asOf", s(sort_time(as_of)))
            .expression_attribute_values(":now", s(sort_time(now)))
            .send()
            .await;
        match res {
            Ok(out) => {
                let old: Option<StockLevel> = out
                    .attributes
                    .filter(|a| !a.is_empty())
                    .map(from_item)
                    .transpose()?;
                let reserved = old.as_ref().map(|o| o.reserved).unwrap_or(0);
                Ok(Some(CountApplied {
                    sku: sku.to_string(),
                    free_before: old.as_ref().map(|o| o.free).unwrap_or(0),
                    available: i64::from(available),
                    reserved,
                }))
            }
            Err(e) if super::is_condition_failure(&e) => Ok(None),
            Err(e) => {
                Err(e).with_context(|| format!("applying the stock count of {fulfiller_id}/{sku}"))
            }
        }
    }

    /// The count over a sharded sku's items: read them all, then one transaction that moves
    /// each item's available and free stock relative to what it holds at the write
    /// (`spread_count`), conditional on the root's count sequence (counts apply one at a time)
    /// and on every item keeping its free stock at or above zero. Reservations that moved an
    /// item meanwhile make it read and write again.
    async fn apply_count_to_shards(
        &self,
        fulfiller_id: &str,
        sku: &str,
        available: u32,
        as_of: DateTime<Utc>,
        now: DateTime<Utc>,
        wanted: u16,
    ) -> anyhow::Result<Option<CountApplied>> {
        let wanted = wanted.clamp(1, MAX_STOCK_SHARDS);
        let mut last = None;
        for attempt in 0..COUNT_ATTEMPTS {
            let root = self.get_consistent(fulfiller_id, sku).await?;
            if root.as_ref().is_some_and(|r| r.as_of > as_of) {
                return Ok(None);
            }
            let existing = root.as_ref().and_then(StockLevel::sharded).unwrap_or(1);
            let mut items = vec![root
                .as_ref()
                .map_or(ItemLevel::default(), StockLevel::root_level)];
            let keys: Vec<Item> = shard_keys(fulfiller_id, sku, existing).collect();
            let mut read: BTreeMap<u16, ItemLevel> = BTreeMap::new();
            if !keys.is_empty() {
                for item in batch_get_consistent(&self.client, &self.table, keys).await? {
                    if let Some((_, k, shard)) = ShardItem::read(item)? {
                        read.insert(k, shard.level());
                    }
                }
            }
            items.extend((1..existing).map(|k| read.get(&k).copied().unwrap_or_default()));
            let moves = spread_count(i64::from(available), &items, wanted);
            let total = u16::try_from(moves.len()).unwrap_or(MAX_STOCK_SHARDS);
            let seq = root.as_ref().and_then(|r| r.count_seq);
            let transaction =
                self.count_transaction((fulfiller_id, sku), &moves, (as_of, now), (total, seq))?;
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(transaction))
                .send()
                .await;
            match res {
                Ok(_) => {
                    let sum = |f: fn(&ItemLevel) -> i64| items.iter().map(f).sum::<i64>();
                    return Ok(Some(CountApplied {
                        sku: sku.to_string(),
                        free_before: sum(|i| i.free),
                        available: i64::from(available),
                        reserved: sum(|i| i.reserved),
                    }));
                }
                // A condition that no longer held, or a transaction meeting another on an item:
                // read again.
                Err(e) if super::is_retryable_transaction_failure(&e) => {
                    tracing::info!(
                        fulfiller_id,
                        sku,
                        attempt,
                        "stock moved while counting; reading again"
                    );
                    last = Some(e);
                    tokio::time::sleep(std::time::Duration::from_millis(
                        20 * u64::from(attempt + 1),
                    ))
                    .await;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("applying the stock count of {fulfiller_id}/{sku} over its shards")
                    })
                }
            }
        }
        let gave_up = format!(
            "the stock of {fulfiller_id}/{sku} kept moving while its count was applied \
             ({COUNT_ATTEMPTS} attempts); nothing of this count was written"
        );
        match last {
            Some(e) => Err(e).context(gave_up),
            None => Err(anyhow::anyhow!(gave_up)),
        }
    }

    /// The count's writes: the root (count sequence, asOf, the number of items) and each item
    /// whose figures move.
    fn count_transaction(
        &self,
        (fulfiller_id, sku): (&str, &str),
        moves: &[CountMove],
        (as_of, now): (DateTime<Utc>, DateTime<Utc>),
        (total, seq): (u16, Option<u64>),
    ) -> anyhow::Result<Vec<TransactWriteItem>> {
        let mut out = Vec::with_capacity(moves.len());
        for m in moves {
            let root = m.shard == 0;
            if !root && m.delta == 0 {
                continue;
            }
            let mut set = vec![
                "available = if_not_exists(available, :zero) + :d".to_string(),
                "#free = if_not_exists(#free, :zero) + :d".to_string(),
                "reserved = if_not_exists(reserved, :zero)".to_string(),
            ];
            let mut conditions = Vec::new();
            let mut u = Update::builder()
                .table_name(&self.table)
                .key("fulfillerId", s(shard_fulfiller_key(fulfiller_id, m.shard)))
                .key("sku", s(sku))
                .expression_attribute_names("#free", "free")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":d", n(m.delta));
            if root {
                set.extend(
                    [
                        "asOf = :asOf",
                        "updatedAt = :now",
                        "shards = :shards",
                        "countSeq = :nextSeq",
                    ]
                    .map(String::from),
                );
                conditions.push("(attribute_not_exists(asOf) OR asOf <= :asOf)".to_string());
                u = u
                    .expression_attribute_values(":asOf", s(sort_time(as_of)))
                    .expression_attribute_values(":now", s(sort_time(now)))
                    .expression_attribute_values(":shards", n(total))
                    .expression_attribute_values(":nextSeq", n(seq.map_or(1, |s| s + 1)));
                match seq {
                    Some(seq) => {
                        conditions.push("countSeq = :seq".to_string());
                        u = u.expression_attribute_values(":seq", n(seq));
                    }
                    None => conditions.push("attribute_not_exists(countSeq)".to_string()),
                }
            }
            if let Some(need) = m.needs_free {
                conditions.push("#free >= :need".to_string());
                u = u.expression_attribute_values(":need", n(need));
            }
            u = u.update_expression(format!("SET {}", set.join(", ")));
            if !conditions.is_empty() {
                u = u.condition_expression(conditions.join(" AND "));
            }
            out.push(TransactWriteItem::builder().update(u.build()?).build());
        }
        Ok(out)
    }

    /// One level, read strongly consistent (its root only).
    async fn get_consistent(
        &self,
        fulfiller_id: &str,
        sku: &str,
    ) -> anyhow::Result<Option<StockLevel>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("fulfillerId", s(fulfiller_id))
            .key("sku", s(sku))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading the stock of {fulfiller_id}/{sku}"))?
            .item
            .map(from_item)
            .transpose()
    }

    /// One fulfiller's stock, each sharded sku's items folded into its level.
    pub async fn list(&self, fulfiller_id: &FulfillerId) -> anyhow::Result<Vec<StockLevel>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("fulfillerId = :f")
            .expression_attribute_values(":f", s(fulfiller_id.as_str()));
        let levels: Vec<StockLevel> =
            super::query_all(query, &format!("listing the stock of {fulfiller_id}")).await?;
        let levels = levels
            .into_iter()
            .map(|l| ((l.fulfiller_id.clone(), l.sku.clone()), l))
            .collect();
        Ok(self.with_shards(levels).await?.into_values().collect())
    }
}

fn key(fulfiller_key: &str, sku: &str) -> Item {
    Item::from([
        ("fulfillerId".to_string(), s(fulfiller_key)),
        ("sku".to_string(), s(sku)),
    ])
}

/// Adds shard items to the levels of their skus: the sums, and each item's free stock.
fn fold(
    levels: &mut BTreeMap<(FulfillerId, Sku), StockLevel>,
    shards: Vec<Item>,
) -> anyhow::Result<()> {
    for level in levels.values_mut() {
        if level.sharded().is_some() {
            level.shard_free = vec![ShardFree {
                shard: 0,
                free: level.free,
            }];
        }
    }
    for item in shards {
        let Some((fulfiller, k, shard)) = ShardItem::read(item)? else {
            continue;
        };
        if let Some(level) = levels.get_mut(&(fulfiller, shard.sku.clone())) {
            level.available += shard.available;
            level.reserved += shard.reserved;
            level.free += shard.free;
            level.shard_free.push(ShardFree {
                shard: k,
                free: shard.free,
            });
        }
    }
    // BatchGetItem answers in any order; a reservation's start item is picked by position.
    for level in levels.values_mut() {
        level.shard_free.sort_by_key(|s| s.shard);
    }
    Ok(())
}
