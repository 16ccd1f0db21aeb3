//! One atomic change across orders, delivery orders and stock: the order (conditional on the
//! version it was read at), new delivery orders (conditional on not existing), changed delivery
//! orders (conditional on their version), stock reservations (conditional on enough free stock)
//! and releases (conditional on enough reserved). Either all of it happens or none: routing,
//! cancelling, rejecting, shipping and rerouting all go through here, so none of them can leave
//! stock promised to a delivery order that does not exist, or the other way round.

use super::{n, s, to_item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use dropship_core::returns::ReturnPart;

/// Units of one (fulfiller, sku).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub fulfiller_id: String,
    pub sku: String,
    pub quantity: u32,
}

impl StockMove {
    /// Moves of one fulfiller's stock, from (sku, units) pairs.
    pub fn at<'a>(
        fulfiller_id: &str,
        units: impl IntoIterator<Item = &'a (String, u32)>,
    ) -> Vec<StockMove> {
        units
            .into_iter()
            .map(|(sku, quantity)| StockMove {
                fulfiller_id: fulfiller_id.to_string(),
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect()
    }
}

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
        + change.reserve.len()
        + change.release.len()
        + change.consume.len()
        + change.restock.len()
        + change.new_return_parts.len()
        + change.updated_return_parts.len()
        + if change.order.is_some() {
            change.backorders_set.len() + change.backorders_cleared.len()
        } else {
            0
        }
}

/// Commits the change atomically. One too large for a single transaction (an order of many
/// skus) takes its reservations first, in chunks of conditional updates, then commits the rest;
/// whatever fails gives back the chunks already taken, so the outcome is still all or nothing.
/// (A crash between the chunks and the rest would leave those units reserved: the only window,
/// and only for orders beyond one transaction.)
pub async fn commit(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    change: Change<'_>,
) -> anyhow::Result<Outcome> {
    if size(&change) <= MAX_TRANSACTION_ITEMS || change.reserve.is_empty() {
        return commit_once(client, tables, change).await;
    }
    let mut taken: Vec<StockMove> = Vec::new();
    for chunk in change.reserve.chunks(MAX_TRANSACTION_ITEMS) {
        let outcome = commit_once(
            client,
            tables,
            Change {
                reserve: chunk,
                ..Change::default()
            },
        )
        .await;
        match outcome {
            Ok(Outcome::Committed) => taken.extend_from_slice(chunk),
            other => {
                give_back(client, tables, &taken).await?;
                return other;
            }
        }
    }
    let outcome = commit_once(
        client,
        tables,
        Change {
            reserve: &[],
            ..change
        },
    )
    .await;
    if !matches!(outcome, Ok(Outcome::Committed)) {
        give_back(client, tables, &taken).await?;
    }
    outcome
}

async fn give_back(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    taken: &[StockMove],
) -> anyhow::Result<()> {
    for chunk in taken.chunks(MAX_TRANSACTION_ITEMS) {
        let outcome = commit_once(
            client,
            tables,
            Change {
                release: chunk,
                ..Change::default()
            },
        )
        .await?;
        anyhow::ensure!(
            outcome == Outcome::Committed,
            "could not give back reserved stock: {outcome:?}"
        );
    }
    Ok(())
}

async fn commit_once(
    client: &aws_sdk_dynamodb::Client,
    tables: &Tables,
    change: Change<'_>,
) -> anyhow::Result<Outcome> {
    let mut items = Vec::new();
    // Kinds in item order, to tell which condition failed.
    let mut kinds = Vec::new();
    if let Some(order) = change.order {
        let mut next = order.clone();
        next.version = order.version + 1;
        let item = super::orders::order_item(&next)?;
        items.push(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&tables.orders)
                        .set_item(Some(item))
                        .condition_expression("attribute_exists(pk) AND version = :v")
                        .expression_attribute_values(":v", n(order.version))
                        .build()?,
                )
                .build(),
        );
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
    let stock_moves = [
        // Reserving needs free stock; releasing and shipping need that much reserved.
        (
            change.reserve,
            "SET #free = #free - :q, reserved = reserved + :q",
            "#free >= :q",
        ),
        (
            change.release,
            "SET #free = #free + :q, reserved = reserved - :q",
            "reserved >= :q",
        ),
        (
            change.consume,
            "SET available = available - :q, reserved = reserved - :q",
            "reserved >= :q",
        ),
        (
            change.restock,
            "SET available = available + :q, #free = #free + :q",
            "attribute_exists(sku)",
        ),
    ];
    for (moves, update, condition) in stock_moves {
        for m in moves {
            let mut u = Update::builder()
                .table_name(&tables.stock)
                .key("fulfillerId", s(&m.fulfiller_id))
                .key("sku", s(&m.sku))
                .update_expression(update)
                .condition_expression(condition)
                .expression_attribute_values(":q", n(m.quantity));
            // DynamoDB refuses names an expression does not use.
            if update.contains("#free") || condition.contains("#free") {
                u = u.expression_attribute_names("#free", "free");
            }
            items.push(TransactWriteItem::builder().update(u.build()?).build());
            kinds.push(Outcome::StockChanged);
        }
    }
    if let Some(order) = change.order {
        for sku in change.backorders_set {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&tables.orders)
                            .item("pk", s(super::orders::backorder_key(sku, &order.id)))
                            .item("orderId", s(&order.id))
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
        for sku in change.backorders_cleared {
            items.push(
                TransactWriteItem::builder()
                    .delete(
                        aws_sdk_dynamodb::types::Delete::builder()
                            .table_name(&tables.orders)
                            .key("pk", s(super::orders::backorder_key(sku, &order.id)))
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
