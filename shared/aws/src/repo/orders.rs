//! Orders table. Keys (pk): `ORDER#<id>` -> the order with its full money breakdown;
//! `EXT#<channelId>#<externalId>` -> the order id (uniqueness of externalId per channel).
//! GSI byCreated: gsi1pk = `ORDERS`, gsi1sk = `<createdAt>#<id>` (admin lists, newest first).
//! `OUTBOX#<id>` (gsi1pk = `OUTBOX`, gsi1sk = created time): written in the same transaction as
//! the order and removed once the routing message is sent; the outbox relay re-sends what stays.
//! `BACKORDER#<sku>#<id>` (gsi1pk = `BACKORDER#<sku>`): the order waits for stock of that sku;
//! arriving stock routes such orders again, oldest first.
//! Access: create order + external id + outbox in one transaction; get by id (consistent); list
//! newest first with filters; outbox entries older than a moment and backordered orders of a sku,
//! oldest first. Every later change goes through `changes::commit`, conditional on the order's
//! version.

use super::{from_item, is_transaction_condition_failure, s, to_item};
use anyhow::Context;
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
    /// The channel already has an order with this externalId: its id.
    DuplicateExternalId(String),
}

impl Orders {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    fn order_item(order: &Order) -> anyhow::Result<super::Item> {
        let created = format!("{}#{}", sort_time(order.created_at), order.id);
        to_item(
            order,
            &[
                ("pk", &format!("ORDER#{}", order.id)),
                ("gsi1pk", "ORDERS"),
                ("gsi1sk", &created),
            ],
        )
    }

    pub async fn create(&self, order: &Order) -> anyhow::Result<CreateOutcome> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let ext_pk = format!("EXT#{}#{}", order.channel_id, order.external_id);
        let puts = [
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(Self::order_item(order)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()?,
            Put::builder()
                .table_name(&self.table)
                .item("pk", s(&ext_pk))
                .item("orderId", s(&order.id))
                .condition_expression("attribute_not_exists(pk)")
                .build()?,
            Put::builder()
                .table_name(&self.table)
                .item("pk", s(format!("OUTBOX#{}", order.id)))
                .item("orderId", s(&order.id))
                .item("gsi1pk", s("OUTBOX"))
                .item(
                    "gsi1sk",
                    s(format!("{}#{}", sort_time(order.created_at), order.id)),
                )
                .build()?,
        ];
        let items: Vec<TransactWriteItem> = puts
            .into_iter()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let e = match res {
                Ok(_) => return Ok(CreateOutcome::Created),
                Err(e) => e,
            };
            match is_transaction_condition_failure(&e) {
                Some(reasons) if reasons.get(1).copied().unwrap_or(false) => {
                    let existing = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .key("pk", s(&ext_pk))
                        .consistent_read(true)
                        .send()
                        .await
                        .context("reading the existing external id")?;
                    let id = existing
                        .item
                        .and_then(|i| i.get("orderId").and_then(|v| v.as_s().ok()).cloned())
                        .unwrap_or_default();
                    // An earlier attempt whose answer was lost may have stored this very order.
                    if id == order.id {
                        return Ok(CreateOutcome::Created);
                    }
                    return Ok(CreateOutcome::DuplicateExternalId(id));
                }
                // A server error even after the SDK's own retries: the answer to a write that may
                // have happened is lost. The conditions (and the own-order check above) make
                // another try safe.
                _ if super::is_server_error(&e) && attempt < 4 => {
                    tracing::warn!(attempt, order_id = %order.id, "storing the order hit a server error; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                _ => return Err(e).context("storing the order"),
            }
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
}

impl Orders {
    /// Marks the order's routing message as sent.
    pub async fn clear_outbox(&self, order_id: &str) -> anyhow::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("OUTBOX#{order_id}")))
            .send()
            .await
            .with_context(|| format!("clearing the outbox entry of {order_id}"))?;
        Ok(())
    }

    /// Orders whose routing message may not have been sent, created before `before`, oldest first.
    pub async fn pending_outbox(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: i32,
    ) -> anyhow::Result<Vec<String>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk < :before")
            .expression_attribute_values(":o", s("OUTBOX"))
            .expression_attribute_values(":before", s(sort_time(before)))
            .limit(limit)
            .send()
            .await
            .context("listing the outbox")?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.get("orderId").and_then(|v| v.as_s().ok()).cloned())
            .collect())
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
        let items = page
            .items
            .unwrap_or_default()
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
    pub async fn backordered(&self, sku: &str, limit: i32) -> anyhow::Result<Vec<String>> {
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
            .filter_map(|i| i.get("orderId").and_then(|v| v.as_s().ok()).cloned())
            .collect())
    }
}
