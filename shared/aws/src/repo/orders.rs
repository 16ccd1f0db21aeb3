//! Orders table. Keys (pk): `ORDER#<id>` -> the order with its full money breakdown. An order's
//! id is derived from its channel and externalId (`OrderId::for_channel_order`), so the uniqueness of
//! externalId per channel is the order item's own `attribute_not_exists` condition: one PutItem,
//! no transaction, no extra item.
//! GSI byCreated: gsi1pk = `ORDERS`, gsi1sk = `<createdAt>#<id>` (admin lists, newest first;
//! projects status, channelId and orderId only: lists read the orders whole after it).
//! `outbox` (see `outbox`): the follow-up messages of the write that made this version, sent
//! by the change relay from the table's stream; a new order's is its routing message.
//! `BACKORDER#<sku>#<id>` (gsi1pk = `BACKORDER#<sku>`): the order waits for stock of that sku;
//! arriving stock routes such orders again, oldest first.
//! Access: create (conditional put); get by id (consistent); list newest first with filters;
//! backordered orders of a sku, oldest first.
//! Every later change goes through `changes::commit`, conditional on the order's version.

use super::{from_item, s, to_item};
use anyhow::Context;
use dropship_core::ids::OrderId;
use dropship_core::messages::RouteOrder;
use dropship_core::order::Order;

/// The marker of an order waiting for stock of `sku` (gsi1pk `BACKORDER#<sku>`, oldest first).
pub fn backorder_key(sku: &str, order_id: &str) -> String {
    format!("BACKORDER#{sku}#{order_id}")
}

/// A fixed-width UTC timestamp, so that sort keys compare as times.
pub fn sort_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Filters of the admin order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub channel_id: Option<String>,
    /// Inclusive UTC bounds of the creation time.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug)]
pub struct Orders {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// Why a create did not happen.
#[derive(Debug)]
pub enum CreateOutcome {
    Created,
    /// The channel already has an order with this externalId (so with this id).
    AlreadyExists,
}

/// The stored form of an order, with its index keys. Every writer of the order uses it.
pub fn order_item(order: &Order) -> anyhow::Result<super::Item> {
    let created = format!("{}#{}", sort_time(order.created_at), order.id);
    let pk = format!("ORDER#{}", order.id);
    to_item(
        order,
        &[("pk", &pk), ("gsi1pk", "ORDERS"), ("gsi1sk", &created)],
    )
}

impl Orders {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Stores a new order with its routing message in its outbox: the change relay queues it
    /// once the order is in, so an accepted order is never left unrouted.
    pub async fn create(&self, order: &Order) -> anyhow::Result<CreateOutcome> {
        let mut item = order_item(order)?;
        let route = super::outbox::OutboxMessage {
            queue: super::outbox::QueueKind::Route,
            body: serde_json::to_string(&RouteOrder {
                order_id: order.id.clone(),
            })?,
        };
        item.insert(
            super::outbox::ATTRIBUTE.to_string(),
            super::outbox::attribute(&super::outbox::new_commit_id(), &[route]),
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            let e = match res {
                Ok(_) => return Ok(CreateOutcome::Created),
                Err(e) => e,
            };
            if super::is_condition_failure(&e) {
                // Another request stored it, or an earlier attempt of ours whose answer was
                // lost: the caller tells them apart by the stored request key.
                return Ok(CreateOutcome::AlreadyExists);
            }
            // A server error even after the SDK's own retries: the answer to a write that may
            // have happened is lost. The condition makes another try safe.
            if super::is_server_error(&e) && attempt < 4 {
                tracing::warn!(attempt, order_id = %order.id, "storing the order hit a server error; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                continue;
            }
            return Err(e).context("storing the order");
        }
    }

    pub async fn get(&self, id: &str) -> anyhow::Result<Option<Order>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("ORDER#{id}")))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading order {id}"))?;
        out.item.map(from_item).transpose()
    }

    /// Writes the whole order conditional on the version it was read at, for a change of the
    /// order alone (the same item and condition as `changes::commit`). False when the order
    /// moved on since it was read: nothing was written, read it again.
    /// Writes the order's next version if it is still at `order.version`; `outbox` (the
    /// follow-ups, see `outbox`) goes on the item with it.
    pub async fn replace(
        &self,
        order: &Order,
        outbox: &[super::outbox::OutboxMessage],
    ) -> anyhow::Result<bool> {
        let mut next = order.clone();
        next.version = order.version + 1;
        let mut item = order_item(&next)?;
        if !outbox.is_empty() {
            item.insert(
                super::outbox::ATTRIBUTE.to_string(),
                super::outbox::attribute(&super::outbox::new_commit_id(), outbox),
            );
        }
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk) AND version = :v")
            .expression_attribute_values(":v", super::n(order.version))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("writing order {}", order.id)),
        }
    }
}

impl Orders {
    /// Orders newest first, filtered; `None` when `next_token` is not one of ours.
    pub async fn list(
        &self,
        filter: &OrderFilter,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<(Vec<Order>, Option<String>)>> {
        let start = match next_token {
            Some(t) => match super::decode_next_token(t) {
                Some(k) => Some(k),
                None => return Ok(None),
            },
            None => None,
        };
        // Bounds on the sort key `<time>#<id>`: "~" sorts after every id character.
        // Key values may not be empty: "0" sorts before every timestamp.
        let lower = filter.from.map(sort_time).unwrap_or_else(|| "0".into());
        let upper = filter
            .to
            .map(|t| format!("{}~", sort_time(t)))
            .unwrap_or_else(|| "~".into());
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":o", s("ORDERS"))
            .expression_attribute_values(":lo", s(lower))
            .expression_attribute_values(":hi", s(upper))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start);
        let mut conditions = Vec::new();
        if let Some(st) = &filter.status {
            conditions.push("#st = :st");
            q = q
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":st", s(st));
        }
        if let Some(c) = &filter.channel_id {
            conditions.push("channelId = :ch");
            q = q.expression_attribute_values(":ch", s(c));
        }
        if !conditions.is_empty() {
            q = q.filter_expression(conditions.join(" AND "));
        }
        let page = q.send().await.context("listing orders")?;
        let keys = page.items.unwrap_or_default();
        let items = super::whole_items(&self.client, &self.table, &["pk"], keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<anyhow::Result<Vec<Order>>>()?;
        Ok(Some((
            items,
            page.last_evaluated_key
                .as_ref()
                .map(super::encode_next_token),
        )))
    }
}

impl Orders {
    /// Orders waiting for stock of `sku`, oldest first.
    pub async fn backordered(&self, sku: &str, limit: i32) -> anyhow::Result<Vec<OrderId>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :b")
            .expression_attribute_values(":b", s(format!("BACKORDER#{sku}")))
            .limit(limit)
            .send()
            .await
            .with_context(|| format!("listing orders backordered on {sku}"))?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| {
                let id = i.get("orderId")?.as_s().ok()?;
                OrderId::try_from(id.as_str()).ok()
            })
            .collect())
    }
}
