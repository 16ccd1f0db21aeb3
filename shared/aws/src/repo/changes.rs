//! One atomic change across orders, delivery orders and stock: the order (conditional on the
//! version it was read at), new delivery orders (conditional on not existing), changed delivery
//! orders (conditional on their version), stock reservations (conditional on enough free stock)
//! and releases (conditional on enough reserved). Either all of it happens or none: routing,
//! cancelling, rejecting, shipping and rerouting all go through here, so none of them can leave
//! stock promised to a delivery order that does not exist, or the other way round.

use super::{n, s, to_item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem, Update};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use dropship_core::returns::ReturnPart;

use super::outbox::OutboxMessage;

pub use dropship_core::stock::StockMove;

#[derive(Debug, Default)]
pub struct Change<'a> {
    /// The new order state; `version` is the version it was read at.
    pub order: Option<&'a Order>,
    pub new_deliveries: &'a [DeliveryOrder],
    /// New states; each `version` is the version it was read at.
    pub updated_deliveries: &'a [DeliveryOrder],
    pub reserve: &'a [StockMove],
    pub release: &'a [StockMove],
    /// Shipped: leaves stock altogether (available and reserved both go down).
    pub consume: &'a [StockMove],
    /// Skus the order now waits for / no longer waits for (markers that arriving stock finds).
    pub backorders_set: &'a [String],
    pub backorders_cleared: &'a [String],
    /// Returned resellable units back on the shelf: available (and free) go up.
    pub restock: &'a [StockMove],
    /// New return parts (conditional on not existing).
    pub new_return_parts: &'a [ReturnPart],
    /// New states of return parts; each `version` is the version it was read at.
    pub updated_return_parts: &'a [ReturnPart],
    /// The follow-ups, written with the change on the order item (`outbox`).
    pub outbox: Vec<OutboxMessage>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Committed,
    /// Someone changed the order or a delivery order since it was read: read again and retry.
    Stale,
    /// A new delivery order exists already (an earlier attempt made it).
    AlreadyExists,
    /// Not enough free stock (or reserved stock to release): plan again with fresh figures.
    StockChanged,
}

/// The table names a change touches.
#[derive(Debug, Clone)]
pub struct Tables {
    pub orders: String,
    pub delivery_orders: String,
    pub stock: String,
    /// Only the functions that write returns have (and may touch) the returns table.
    pub returns: Option<String>,
}

/// DynamoDB's limit of actions in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

fn size(change: &Change<'_>) -> usize {
    usize::from(change.order.is_some())
        + change.new_deliveries.len()
        + change.updated_deliveries.len()
        + merge_stock_moves(change).len()
        + change.new_return_parts.len()
        + change.updated_return_parts.len()
        + if change.order.is_some() {
            unique(change.backorders_set).len() + unique(change.backorders_cleared).len()
        } else {
            // The outbox of a change without the order item is an update of its own.
            usize::from(!change.outbox.is_empty())
        }
}

/// The order whose item carries a change's outbox when the change has no order item: the one
/// its delivery orders or return parts belong to.
fn outbox_order_id<'a>(change: &Change<'a>) -> Option<&'a str> {
    change
        .new_deliveries
        .iter()
        .chain(change.updated_deliveries)
        .map(|d| d.order_id.as_str())
        .chain(
            change
                .new_return_parts
                .iter()
                .chain(change.updated_return_parts)
                .map(|p| p.order_id.as_str()),
        )
        .next()
}

/// Each sku once, in first-seen order.
fn unique(skus: &[String]) -> Vec<&String> {
    let mut seen = std::collections::HashSet::new();
    skus.iter().filter(|sku| seen.insert(*sku)).collect()
}

/// Moves of the same stock item (fulfiller, sku, shard) added up into one, in first-seen order.
pub fn merge_by_item(moves: &[StockMove]) -> Vec<StockMove> {
    let mut merged: Vec<StockMove> = Vec::new();
    for m in moves {
        match merged
            .iter_mut()
            .find(|x| x.fulfiller_id == m.fulfiller_id && x.sku == m.sku && x.shard == m.shard)
        {
            Some(x) => x.quantity += m.quantity,
            None => merged.push(m.clone()),
        }
    }
    merged
}

/// Everything one change does to one stock item (fulfiller, sku, shard), summed over its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockItemChange {
    pub fulfiller_id: String,
    pub sku: String,
    /// 0 for the sku's one item (the root of a sharded sku), `stock::shards`.
    pub shard: u16,
    pub reserve: u64,
    pub release: u64,
    pub consume: u64,
    pub restock: u64,
}

impl StockItemChange {
    fn deltas(&self) -> [(&'static str, i64); 3] {
        let (reserve, release, consume, restock) = (
            self.reserve as i64,
            self.release as i64,
            self.consume as i64,
            self.restock as i64,
        );
        [
            ("available", restock - consume),
            ("#free", release + restock - reserve),
            ("reserved", reserve - release - consume),
        ]
    }

    /// The update and condition expressions with their values. The conditions are those of the
    /// separate moves, taken together: what is released or shipped must be reserved, and free
    /// stock must cover the reservations less what the same change gives back to this item.
    pub fn expressions(&self) -> (Option<String>, String, Vec<(&'static str, i64)>) {
        let mut values = Vec::new();
        let sets: Vec<String> = self
            .deltas()
            .iter()
            .filter(|(_, d)| *d != 0)
            .map(|(attr, d)| {
                let key = match *attr {
                    "available" => ":da",
                    "#free" => ":df",
                    _ => ":dr",
                };
                values.push((key, *d));
                format!("{attr} = {attr} + {key}")
            })
            .collect();
        let mut conditions = vec!["attribute_exists(sku)".to_string()];
        let taken_from_reserved = self.release + self.consume;
        if taken_from_reserved > 0 {
            // A sharded sku's reservations lie on its shards and are given back on the root
            // (`stock::shards`): only the sum of `reserved` is what delivery orders hold.
            conditions.push("(reserved >= :needReserved OR attribute_exists(shards))".into());
            values.push((":needReserved", taken_from_reserved as i64));
        }
        let needs_free = self.reserve as i64 - self.release as i64 - self.restock as i64;
        if self.reserve > 0 && needs_free > 0 {
            conditions.push("#free >= :needFree".into());
            values.push((":needFree", needs_free));
        }
        let update = (!sets.is_empty()).then(|| format!("SET {}", sets.join(", ")));
        (update, conditions.join(" AND "), values)
    }

    /// The item's partition key: the fulfiller's, or its shard's.
    fn key(&self) -> String {
        dropship_core::stock::shards::shard_fulfiller_key(&self.fulfiller_id, self.shard)
    }

    fn transact_item(&self, table: &str) -> anyhow::Result<TransactWriteItem> {
        let (update, condition, values) = self.expressions();
        let uses_free =
            update.as_deref().unwrap_or("").contains("#free") || condition.contains("#free");
        Ok(match update {
            Some(update) => {
                let mut u = Update::builder()
                    .table_name(table)
                    .key("fulfillerId", s(self.key()))
                    .key("sku", s(&self.sku))
                    .update_expression(update)
                    .condition_expression(condition);
                for (k, v) in values {
                    u = u.expression_attribute_values(k, n(v));
                }
                // DynamoDB refuses names an expression does not use.
                if uses_free {
                    u = u.expression_attribute_names("#free", "free");
                }
                TransactWriteItem::builder().update(u.build()?).build()
            }
            // Moves that cancel out (e.g. released and reserved again) still check their conditions.
            None => {
                let mut c = ConditionCheck::builder()
                    .table_name(table)
                    .key("fulfillerId", s(self.key()))
                    .key("sku", s(&self.sku))
                    .condition_expression(condition);
                for (k, v) in values {
                    c = c.expression_attribute_values(k, n(v));
                }
                if uses_free {
                    c = c.expression_attribute_names("#free", "free");
                }
                TransactWriteItem::builder()
                    .condition_check(c.build()?)
                    .build()
            }
        })
    }
}

/// Adds a move's units to one kind of a stock item's change.
type AddUnits = fn(&mut StockItemChange, u64);

/// The change's reservations, releases, shipments and restocks, one entry per stock item.
pub fn merge_stock_moves(change: &Change<'_>) -> Vec<StockItemChange> {
    let mut items: Vec<StockItemChange> = Vec::new();
    let kinds: [(&[StockMove], AddUnits); 4] = [
        (change.reserve, |i, q| i.reserve += q),
        (change.release, |i, q| i.release += q),
        (change.consume, |i, q| i.consume += q),
        (change.restock, |i, q| i.restock += q),
    ];
    for (moves, add) in kinds {
        for m in moves {
            let at = match items.iter().position(|i| {
                i.fulfiller_id == m.fulfiller_id && i.sku == m.sku && i.shard == m.shard
            }) {
                Some(at) => at,
                None => {
                    items.push(StockItemChange {
                        fulfiller_id: m.fulfiller_id.to_string(),
                        sku: m.sku.to_string(),
                        shard: m.shard,
                        ..StockItemChange::default()
                    });
                    items.len() - 1
                }
            };
            add(&mut items[at], u64::from(m.quantity));
        }
    }
    items
}

/// Commits the change atomically. One too large for a single transaction (an order of many
/// skus) takes its reservations first, in chunks, then commits the rest; whatever fails gives
/// back the chunks already taken, so the outcome is still all or nothing, and a crash between
/// the chunks leaks nothing either (`holds`).
pub async fn commit(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    change: Change<'_>,
) -> anyhow::Result<Outcome> {
    if size(&change) <= MAX_TRANSACTION_ITEMS || change.reserve.is_empty() {
        return commit_once(client, tables, change, Vec::new()).await;
    }
    super::holds::commit_in_chunks(client, tables, change).await
}

/// One transaction: the change and `extra` actions, whose failed conditions read as `Stale`.
pub(super) async fn commit_once(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    change: Change<'_>,
    extra: Vec<TransactWriteItem>,
) -> anyhow::Result<Outcome> {
    let mut items = Vec::new();
    // Kinds in item order, to tell which condition failed.
    let mut kinds = Vec::new();
    let commit_id = super::outbox::new_commit_id();
    if let Some(order) = change.order {
        let mut next = order.clone();
        next.version = order.version + 1;
        let mut item = super::orders::order_item(&next)?;
        if !change.outbox.is_empty() {
            item.insert(
                super::outbox::ATTRIBUTE.to_string(),
                super::outbox::attribute(&commit_id, &change.outbox),
            );
        }
        let (condition, values) = super::orders::unchanged_since_read(order);
        let mut put = Put::builder()
            .table_name(&tables.orders)
            .set_item(Some(item))
            .condition_expression(condition);
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        items.push(TransactWriteItem::builder().put(put.build()?).build());
        kinds.push(Outcome::Stale);
    } else if !change.outbox.is_empty() {
        let order_id = outbox_order_id(&change)
            .context("a change with follow-ups needs an order item to carry them")?;
        items.push(super::outbox::on_order(
            &tables.orders,
            order_id,
            &commit_id,
            &change.outbox,
            chrono::Utc::now(),
        )?);
        // The order is gone (nothing to follow up on), or its stamp is ahead of this clock:
        // reading again tells the caller, or plans again a moment later.
        kinds.push(Outcome::Stale);
    }
    for d in change.new_deliveries {
        items.push(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&tables.delivery_orders)
                        .set_item(Some(to_item(d, &[])?))
                        .condition_expression("attribute_not_exists(id)")
                        .build()?,
                )
                .build(),
        );
        kinds.push(Outcome::AlreadyExists);
    }
    for d in change.updated_deliveries {
        let mut next = d.clone();
        next.version = d.version + 1;
        items.push(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&tables.delivery_orders)
                        .set_item(Some(to_item(&next, &[])?))
                        .condition_expression("attribute_exists(id) AND (version = :v OR (attribute_not_exists(version) AND :v = :zero))")
                        .expression_attribute_values(":v", n(d.version))
                        .expression_attribute_values(":zero", n(0))
                        .build()?,
                )
                .build(),
        );
        kinds.push(Outcome::Stale);
    }
    // One action per stock item: DynamoDB refuses a transaction with two operations on one
    // item, and an order may hold one sku on several lines (or ship and release it at once).
    for item in merge_stock_moves(&change) {
        items.push(item.transact_item(&tables.stock)?);
        kinds.push(Outcome::StockChanged);
    }
    if let Some(order) = change.order {
        for sku in unique(change.backorders_set) {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&tables.orders)
                            .item(
                                "pk",
                                s(super::orders::backorder_key(sku, order.id.as_str())),
                            )
                            .item("orderId", s(order.id.as_str()))
                            .item("gsi1pk", s(format!("BACKORDER#{sku}")))
                            .item(
                                "gsi1sk",
                                s(format!(
                                    "{}#{}",
                                    super::orders::sort_time(order.created_at),
                                    order.id
                                )),
                            )
                            .build()?,
                    )
                    .build(),
            );
            kinds.push(Outcome::Stale);
        }
        for sku in unique(change.backorders_cleared) {
            items.push(
                TransactWriteItem::builder()
                    .delete(
                        aws_sdk_dynamodb::types::Delete::builder()
                            .table_name(&tables.orders)
                            .key(
                                "pk",
                                s(super::orders::backorder_key(sku, order.id.as_str())),
                            )
                            .build()?,
                    )
                    .build(),
            );
            kinds.push(Outcome::Stale);
        }
    }
    if !change.new_return_parts.is_empty() || !change.updated_return_parts.is_empty() {
        let table = tables
            .returns
            .as_deref()
            .context("a change of returns needs the returns table")?;
        for part in change.new_return_parts {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(table)
                            .set_item(Some(super::returns::part_item(part)?))
                            .condition_expression("attribute_not_exists(returnId)")
                            .build()?,
                    )
                    .build(),
            );
            kinds.push(Outcome::AlreadyExists);
        }
        for part in change.updated_return_parts {
            let mut next = part.clone();
            next.version = part.version + 1;
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(table)
                            .set_item(Some(super::returns::part_item(&next)?))
                            .condition_expression("attribute_exists(returnId) AND version = :v")
                            .expression_attribute_values(":v", n(part.version))
                            .build()?,
                    )
                    .build(),
            );
            kinds.push(Outcome::Stale);
        }
    }
    for item in extra {
        items.push(item);
        kinds.push(Outcome::Stale);
    }
    if items.is_empty() {
        return Ok(Outcome::Committed);
    }
    anyhow::ensure!(
        items.len() <= MAX_TRANSACTION_ITEMS,
        "a change of {} items exceeds DynamoDB's 100 per transaction",
        items.len()
    );
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Outcome::Committed),
        Err(e) => match super::is_transaction_condition_failure(&e) {
            Some(reasons) => {
                // The first failed condition decides what the caller does next.
                match reasons.iter().position(|failed| *failed) {
                    Some(i) => Ok(std::mem::replace(&mut kinds[i], Outcome::Committed)),
                    None => Err(e).context(
                        "committing an order change (cancelled without a failed condition)",
                    ),
                }
            }
            None => Err(e).context("committing an order change"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(f: &str, sku: &str, quantity: u32) -> StockMove {
        StockMove {
            fulfiller_id: f.try_into().unwrap(),
            sku: sku.try_into().unwrap(),
            shard: 0,
            quantity,
        }
    }

    #[test]
    fn two_lines_of_one_sku_become_one_action_with_their_sum() {
        let consume = [mv("acme", "A", 2), mv("acme", "A", 3), mv("acme", "B", 1)];
        let change = Change {
            consume: &consume,
            ..Change::default()
        };
        let merged = merge_stock_moves(&change);
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].sku.as_str(), merged[0].consume), ("A", 5));
        let (update, condition, values) = merged[0].expressions();
        assert_eq!(
            update.as_deref(),
            Some("SET available = available + :da, reserved = reserved + :dr")
        );
        assert_eq!(
            condition,
            "attribute_exists(sku) AND (reserved >= :needReserved OR attribute_exists(shards))"
        );
        assert_eq!(values, [(":da", -5), (":dr", -5), (":needReserved", 5)]);
        assert_eq!(size(&change), 2);
    }

    #[test]
    fn moves_of_different_kinds_on_one_item_net_out_with_all_conditions_kept() {
        // Ship 2 and release 1 of A at acme; reserve 3 of A at acme again (a replacement).
        let (consume, release, reserve) = (
            [mv("acme", "A", 2)],
            [mv("acme", "A", 1)],
            [mv("acme", "A", 3)],
        );
        let merged = merge_stock_moves(&Change {
            consume: &consume,
            release: &release,
            reserve: &reserve,
            ..Change::default()
        });
        assert_eq!(merged.len(), 1);
        let (update, condition, values) = merged[0].expressions();
        assert_eq!(
            update.as_deref(),
            Some("SET available = available + :da, #free = #free + :df")
        );
        assert_eq!(
            condition,
            "attribute_exists(sku) AND (reserved >= :needReserved OR attribute_exists(shards)) AND #free >= :needFree"
        );
        assert_eq!(
            values,
            [
                (":da", -2),
                (":df", -2),
                (":needReserved", 3),
                (":needFree", 2)
            ]
        );
    }

    #[test]
    fn moves_that_cancel_out_still_check_their_conditions() {
        let (release, reserve) = ([mv("acme", "A", 2)], [mv("acme", "A", 2)]);
        let merged = merge_stock_moves(&Change {
            release: &release,
            reserve: &reserve,
            ..Change::default()
        });
        let (update, condition, _) = merged[0].expressions();
        assert_eq!(update, None);
        assert_eq!(
            condition,
            "attribute_exists(sku) AND (reserved >= :needReserved OR attribute_exists(shards))"
        );
        assert!(merged[0]
            .transact_item("stock")
            .unwrap()
            .condition_check()
            .is_some());
    }

    #[test]
    fn other_fulfillers_stock_of_the_same_sku_is_another_item() {
        let restock = [mv("acme", "A", 1), mv("bolt", "A", 1), mv("acme", "A", 1)];
        let merged = merge_stock_moves(&Change {
            restock: &restock,
            ..Change::default()
        });
        assert_eq!(
            merged
                .iter()
                .map(|i| (i.fulfiller_id.as_str(), i.restock))
                .collect::<Vec<_>>(),
            [("acme", 2), ("bolt", 1)]
        );
        assert_eq!(merge_by_item(&restock).len(), 2);
    }

    #[test]
    fn follow_ups_without_the_order_item_take_an_action_of_their_own() {
        let outbox = vec![OutboxMessage {
            queue: super::super::outbox::QueueKind::Events,
            body: "{}".into(),
        }];
        let change = Change {
            outbox,
            ..Change::default()
        };
        assert_eq!(size(&change), 1);
        // Nothing names the order: there is no item to carry them.
        assert_eq!(outbox_order_id(&change), None);
    }

    #[test]
    fn a_backordered_sku_named_twice_is_one_marker() {
        let set = ["A".to_string(), "B".to_string(), "A".to_string()];
        assert_eq!(unique(&set), [&set[0], &set[1]]);
    }
}
