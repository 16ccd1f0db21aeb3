//! Reservations too many for one transaction (an order of many skus), taken so that a crash
//! leaks nothing.
//!
//! The reservations go first, in chunks, then the rest of the change in one transaction. A crash
//! between them would leave units reserved for an order that never got them, so the whole list
//! is written down before the first chunk is taken: a hold item in the orders table
//! (`HOLD#<order>#<version read>`). Each chunk's transaction marks its chunk on the hold, and the
//! final transaction deletes the hold, conditional on every chunk still being marked. Each
//! attempt writes its own id on the hold and every later step is conditional on it, so an
//! attempt gives back only what it took itself.
//!
//! What a crash leaves behind is given back, chunk by chunk and each chunk once, by the sweep
//! (`sweep`, run every minute by the recovery schedule) once the hold is older than any function
//! runs. Until then the routing message's redelivery, which meets the same hold (same order
//! version), is refused and comes back later: it cannot tell a crashed attempt from a slow one,
//! and taking over a live attempt's hold would let two duplicate deliveries undo each other.

use super::changes::{
    commit_once, merge_by_item, Change, Outcome, StockMove, Tables, MAX_TRANSACTION_ITEMS,
};
use super::orders::sort_time;
use super::{n, s};
use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use dropship_core::ids::{FulfillerId, Sku};
use std::collections::HashMap;

/// One action of each chunk's transaction marks the chunk on the hold.
const CHUNK: usize = MAX_TRANSACTION_ITEMS - 1;
/// gsi1pk of holds on the byCreated index: the sweep's work list, oldest first.
const HOLDS: &str = "HOLDS";

pub fn hold_key(order_id: &str, version: u64) -> String {
    format!("HOLD#{order_id}#{version}")
}

fn taken(chunk: usize) -> String {
    format!("taken{chunk}")
}

/// Commits a change whose reservations do not fit one transaction with the rest of it.
pub(super) async fn commit_in_chunks(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    change: Change<'_>,
) -> anyhow::Result<Outcome> {
    let order = change
        .order
        .context("a change too large for one transaction reserves stock for an order")?;
    // Merged first, so that no chunk holds one item twice and a later chunk cannot find an
    // item an earlier one already took from.
    let reserve = merge_by_item(change.reserve);
    let key = hold_key(order.id.as_str(), order.version);
    let attempt = uuid::Uuid::now_v7().simple().to_string();
    if !put_hold(
        client,
        tables,
        &key,
        &attempt,
        (order.id.as_str(), order.version),
        &reserve,
    )
    .await?
    {
        anyhow::bail!(
            "reservations of order {} are held by another attempt (running, or crashed and \
             waiting for the sweep), or the order has moved on; the message will be retried",
            order.id
        );
    }
    let mine = Owner::Attempt(&attempt);
    let chunks: Vec<&[StockMove]> = reserve.chunks(CHUNK).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mark = mark(tables, &key, &attempt, i)?;
        let outcome = commit_once(
            client,
            tables,
            Change {
                reserve: chunk,
                ..Change::default()
            },
            vec![mark],
        )
        .await;
        if !matches!(outcome, Ok(Outcome::Committed)) {
            give_back(client, tables, &key, mine).await?;
            return outcome;
        }
    }
    let complete = complete(tables, &key, &attempt, chunks.len())?;
    let outcome = commit_once(
        client,
        tables,
        Change {
            reserve: &[],
            ..change
        },
        vec![complete],
    )
    .await;
    // Also after an error: had the commit gone through, the hold would be gone and nothing is
    // given back, so an answer lost in transit cannot release what the order holds.
    if !matches!(outcome, Ok(Outcome::Committed)) {
        give_back(client, tables, &key, mine).await?;
    }
    outcome
}

/// Whose hold `give_back` may give back.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// The attempt's own, after it failed.
    Attempt(&'a str),
    /// Any created before this time (the sweep).
    CreatedBefore(DateTime<Utc>),
}

/// Writes the hold, in one transaction with a check that the order is still at the version
/// the change was read at; false when a hold of this key exists already or the order has moved
/// on. The check keeps a stale redelivery (one that read the order just before another attempt
/// committed it and deleted its hold) from writing a hold and taking stock again for an order
/// that has it already, which the sweep would only give back minutes later.
async fn put_hold(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    key: &str,
    attempt: &str,
    order: (&str, u64),
    reserve: &[StockMove],
) -> anyhow::Result<bool> {
    let (order_id, version) = order;
    let now = Utc::now();
    let moves = reserve
        .iter()
        .map(|m| {
            AttributeValue::M(HashMap::from([
                ("fulfillerId".to_string(), s(m.fulfiller_id.as_str())),
                ("sku".to_string(), s(m.sku.as_str())),
                ("shard".to_string(), n(m.shard)),
                ("quantity".to_string(), n(m.quantity)),
            ]))
        })
        .collect();
    let hold = Put::builder()
        .table_name(&tables.orders)
        .item("pk", s(key))
        .item("orderId", s(order_id))
        .item("attempt", s(attempt))
        .item("gsi1pk", s(HOLDS))
        .item("gsi1sk", s(format!("{}#{key}", sort_time(now))))
        .item("createdAt", s(now.to_rfc3339()))
        .item("chunkSize", n(CHUNK))
        .item("moves", AttributeValue::L(moves))
        .condition_expression("attribute_not_exists(pk)")
        .build()?;
    let unchanged = ConditionCheck::builder()
        .table_name(&tables.orders)
        .key("pk", s(format!("ORDER#{order_id}")))
        .condition_expression("version = :v")
        .expression_attribute_values(":v", n(version))
        .build()?;
    let res = client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(hold).build())
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(unchanged)
                .build(),
        )
        .send()
        .await;
    match res {
        Ok(_) => Ok(true),
        Err(e)
            if super::is_transaction_condition_failure(&e).is_some_and(|r| r.contains(&true)) =>
        {
            Ok(false)
        }
        Err(e) => Err(e).context("writing down the reservations of a large order"),
    }
}

/// Marks chunk `i` taken: fails (and with it the chunk's reservations) if it is marked already
/// or the hold is no longer this attempt's.
fn mark(tables: &Tables, key: &str, attempt: &str, i: usize) -> anyhow::Result<TransactWriteItem> {
    Ok(TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(&tables.orders)
                .key("pk", s(key))
                .update_expression("SET #t = :t")
                .condition_expression("attempt = :a AND attribute_not_exists(#t)")
                .expression_attribute_names("#t", taken(i))
                .expression_attribute_values(":t", AttributeValue::Bool(true))
                .expression_attribute_values(":a", s(attempt))
                .build()?,
        )
        .build())
}

/// Deletes the hold with the order's commit, conditional on every chunk still taken.
fn complete(
    tables: &Tables,
    key: &str,
    attempt: &str,
    chunks: usize,
) -> anyhow::Result<TransactWriteItem> {
    let mut delete = Delete::builder()
        .table_name(&tables.orders)
        .key("pk", s(key))
        .expression_attribute_values(":a", s(attempt));
    let mut condition = vec!["attempt = :a".to_string()];
    for i in 0..chunks {
        condition.push(format!("attribute_exists(#t{i})"));
        delete = delete.expression_attribute_names(format!("#t{i}"), taken(i));
    }
    Ok(TransactWriteItem::builder()
        .delete(
            delete
                .condition_expression(condition.join(" AND "))
                .build()?,
        )
        .build())
}

/// A hold as stored.
struct Hold {
    attempt: String,
    moves: Vec<StockMove>,
    chunk_size: usize,
    taken: Vec<bool>,
    created_at: DateTime<Utc>,
}

fn read_hold(item: &HashMap<String, AttributeValue>) -> anyhow::Result<Hold> {
    let text = |m: &HashMap<String, AttributeValue>, k: &str| -> anyhow::Result<String> {
        m.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .with_context(|| format!("a hold without {k}"))
    };
    let number = |m: &HashMap<String, AttributeValue>, k: &str| -> anyhow::Result<u64> {
        m.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("a hold without {k}"))
    };
    let moves = item
        .get("moves")
        .and_then(|v| v.as_l().ok())
        .context("a hold without moves")?
        .iter()
        .map(|m| {
            let m = m
                .as_m()
                .map_err(|_| anyhow::anyhow!("a hold's move is no map"))?;
            Ok(StockMove {
                fulfiller_id: FulfillerId::try_from(text(m, "fulfillerId")?)?,
                sku: Sku::try_from(text(m, "sku")?)?,
                // Holds written before stock shards name none: the sku's one item.
                shard: match m.get("shard") {
                    Some(_) => u16::try_from(number(m, "shard")?)?,
                    None => 0,
                },
                quantity: u32::try_from(number(m, "quantity")?)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let chunk_size = usize::try_from(number(item, "chunkSize")?)?.max(1);
    let chunks = moves.len().div_ceil(chunk_size);
    Ok(Hold {
        attempt: text(item, "attempt")?,
        taken: (0..chunks).map(|i| item.contains_key(&taken(i))).collect(),
        created_at: DateTime::parse_from_rfc3339(&text(item, "createdAt")?)?.with_timezone(&Utc),
        moves,
        chunk_size,
    })
}

/// Gives back every chunk the hold marks as taken, then deletes it, if it is `owner`'s (checked
/// on a fresh read, and each step conditional on the attempt read). Returns the units given back.
async fn give_back(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    key: &str,
    owner: Owner<'_>,
) -> anyhow::Result<u64> {
    let item = client
        .get_item()
        .table_name(&tables.orders)
        .key("pk", s(key))
        .consistent_read(true)
        .send()
        .await
        .context("reading a hold of reservations")?
        .item;
    let Some(item) = item else {
        return Ok(0);
    };
    let hold = read_hold(&item)?;
    let owned = match owner {
        Owner::Attempt(attempt) => hold.attempt == attempt,
        Owner::CreatedBefore(limit) => hold.created_at < limit,
    };
    if !owned {
        return Ok(0);
    }
    let mut units = 0;
    for (i, chunk) in hold.moves.chunks(hold.chunk_size).enumerate() {
        if !hold.taken[i] {
            continue;
        }
        let unmark = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&tables.orders)
                    .key("pk", s(key))
                    .update_expression("REMOVE #t")
                    .condition_expression("attempt = :a AND attribute_exists(#t)")
                    .expression_attribute_names("#t", taken(i))
                    .expression_attribute_values(":a", s(&hold.attempt))
                    .build()?,
            )
            .build();
        // Given back on the sku's root item, whichever item the chunk took from: a shard gets
        // free units from a stock count only (`stock::shards`), so that after a count that
        // left the shards without free stock no give-back can hand a shard units the sum lacks.
        let back: Vec<StockMove> = chunk
            .iter()
            .map(|m| StockMove {
                shard: 0,
                ..m.clone()
            })
            .collect();
        let outcome = commit_once(
            client,
            tables,
            Change {
                release: &back,
                ..Change::default()
            },
            vec![unmark],
        )
        .await?;
        match outcome {
            Outcome::Committed => units += chunk.iter().map(|m| u64::from(m.quantity)).sum::<u64>(),
            // Given back by someone else meanwhile.
            Outcome::Stale => {}
            other => anyhow::bail!("could not give back the reservations of {key}: {other:?}"),
        }
    }
    let mut delete = client
        .delete_item()
        .table_name(&tables.orders)
        .key("pk", s(key))
        .expression_attribute_values(":a", s(&hold.attempt));
    // Only the hold read, with no chunk marked again meanwhile.
    let mut condition = vec!["attempt = :a".to_string()];
    for i in 0..hold.taken.len() {
        condition.push(format!("attribute_not_exists(#t{i})"));
        delete = delete.expression_attribute_names(format!("#t{i}"), taken(i));
    }
    match delete
        .condition_expression(condition.join(" AND "))
        .send()
        .await
    {
        Ok(_) => Ok(units),
        Err(e) if super::is_condition_failure(&e) => Ok(units),
        Err(e) => Err(e).context("deleting a hold given back"),
    }
}

/// Gives back the holds created before `before` (crashes nobody came back to: the routing
/// message went to its dead-letter queue, or the order changed before its redelivery).
/// Returns (holds, units) given back.
pub async fn sweep(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    before: DateTime<Utc>,
) -> anyhow::Result<(usize, u64)> {
    let out = client
        .query()
        .table_name(&tables.orders)
        .index_name("byCreated")
        .key_condition_expression("gsi1pk = :h AND gsi1sk < :before")
        .expression_attribute_values(":h", s(HOLDS))
        .expression_attribute_values(":before", s(sort_time(before)))
        .limit(100)
        .send()
        .await
        .context("listing holds of reservations")?;
    let (mut holds, mut units) = (0, 0);
    for item in out.items.unwrap_or_default() {
        let Some(key) = item.get("pk").and_then(|v| v.as_s().ok()) else {
            continue;
        };
        let given = give_back(client, tables, key, Owner::CreatedBefore(before)).await?;
        if given > 0 {
            holds += 1;
            units += given;
        }
    }
    Ok((holds, units))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_hold_reads_back_with_its_chunks_taken() {
        let mv = |sku: &str| {
            AttributeValue::M(HashMap::from([
                ("fulfillerId".to_string(), s("acme")),
                ("sku".to_string(), s(sku)),
                ("quantity".to_string(), n(2)),
            ]))
        };
        let item = HashMap::from([
            ("pk".to_string(), s(hold_key("o-1", 3))),
            ("attempt".to_string(), s("a-1")),
            ("createdAt".to_string(), s("2026-12-02T10:00:00+00:00")),
            ("chunkSize".to_string(), n(2)),
            (
                "moves".to_string(),
                AttributeValue::L(vec![mv("A"), mv("B"), mv("C")]),
            ),
            (taken(1), AttributeValue::Bool(true)),
        ]);
        let hold = read_hold(&item).unwrap();
        assert_eq!(hold.moves.len(), 3);
        assert_eq!(hold.moves[2].sku, "C");
        assert_eq!(hold.taken, vec![false, true], "two chunks: A+B, C");
        assert_eq!(hold.created_at.to_rfc3339(), "2026-12-02T10:00:00+00:00");
        assert!(
            hold.moves.iter().all(|m| m.shard == 0),
            "a hold from before stock shards: the sku's one item"
        );
    }

    #[test]
    fn a_hold_keeps_the_stock_shard_each_move_took_from() {
        let m = StockMove {
            fulfiller_id: FulfillerId::try_from("acme").unwrap(),
            sku: Sku::try_from("HOT").unwrap(),
            shard: 5,
            quantity: 3,
        };
        let stored = AttributeValue::M(HashMap::from([
            ("fulfillerId".to_string(), s(m.fulfiller_id.as_str())),
            ("sku".to_string(), s(m.sku.as_str())),
            ("shard".to_string(), n(m.shard)),
            ("quantity".to_string(), n(m.quantity)),
        ]));
        let item = HashMap::from([
            ("attempt".to_string(), s("a-1")),
            ("createdAt".to_string(), s("2026-12-02T10:00:00+00:00")),
            ("chunkSize".to_string(), n(99)),
            ("moves".to_string(), AttributeValue::L(vec![stored])),
        ]);
        assert_eq!(read_hold(&item).unwrap().moves, [m]);
    }

    #[test]
    fn a_hold_is_keyed_by_the_order_version_it_was_planned_at() {
        assert_eq!(hold_key("o-1", 7), "HOLD#o-1#7");
        assert_ne!(hold_key("o-1", 7), hold_key("o-1", 8));
    }
}
