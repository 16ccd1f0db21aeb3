//! Orders table. Keys (pk): `ORDER#<id>` -> the order with its full money breakdown;
//! `EXT#<channelId>#<externalId>` -> the order id (uniqueness of externalId per channel).
//! GSI byCreated: gsi1pk = `ORDERS`, gsi1sk = `<createdAt>#<id>` (admin lists, newest first).
//! `OUTBOX#<id>` (gsi1pk = `OUTBOX`, gsi1sk = created time): written in the same transaction as
//! the order and removed once the routing message is sent; the outbox relay re-sends what stays.
//! Access: create order + external id + outbox in one transaction; get by id; replace on state
//! change; outbox entries older than a moment, oldest first.

use super::{from_item, is_transaction_condition_failure, s, to_item};
use anyhow::Context;
use dropship_core::order::Order;

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
        let created = format!("{}#{}", order.created_at.to_rfc3339(), order.id);
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
                    s(format!("{}#{}", order.created_at.to_rfc3339(), order.id)),
                )
                .build()?,
        ];
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(
                puts.into_iter()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .collect(),
            ))
            .send()
            .await;
        match res {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) => match is_transaction_condition_failure(&e) {
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
                    Ok(CreateOutcome::DuplicateExternalId(id))
                }
                _ => Err(e).context("storing the order"),
            },
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

    /// Replaces the order. Callers re-read, change and put; the routing step is the only writer
    /// in the walking skeleton (optimistic versioning arrives with concurrent writers).
    pub async fn put(&self, order: &Order) -> anyhow::Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::order_item(order)?))
            .send()
            .await
            .with_context(|| format!("storing order {}", order.id))?;
        Ok(())
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
            .expression_attribute_values(":before", s(before.to_rfc3339()))
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
