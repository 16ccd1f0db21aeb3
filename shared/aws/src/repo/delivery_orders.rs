//! Delivery orders table. Key: id. GSI byFulfiller (fulfillerId, createdKey; projects status):
//! a fulfiller's work, oldest first; GSI byStatus (status, createdKey; keys only): the unshipped
//! working set. The indexes hold only keys (and status) so that the frequent updates of a
//! delivery order (documents, shortfall flags) do not write them; lists read the items whole
//! after the index (`repo::whole_items`). An order's delivery orders are its `deliveryOrderIds`.
//! Access: get; get many; list by fulfiller with an exact-status filter and pagination; set
//! documents (the first time also the `linkKey` that signs their links). Creating and changing
//! delivery orders goes through `changes::commit`, together with the order and the stock it
//! moves.

use super::{from_item, n, s, to_item};
use anyhow::Context;
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus, DocumentRef};
use dropship_core::ids::FulfillerId;

#[derive(Clone, Debug)]
pub struct DeliveryOrders {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub type Page = super::Page<DeliveryOrder>;

impl DeliveryOrders {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn get(&self, id: &str) -> anyhow::Result<Option<DeliveryOrder>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading delivery order {id}"))?;
        out.item.map(from_item).transpose()
    }

    /// The delivery orders with these ids, read consistently (BatchGetItem), in the given order.
    pub async fn get_many(&self, ids: &[String]) -> anyhow::Result<Vec<DeliveryOrder>> {
        let keys = ids
            .iter()
            .map(|id| super::Item::from([("id".to_string(), s(id))]))
            .collect();
        let mut found: std::collections::HashMap<String, DeliveryOrder> =
            std::collections::HashMap::new();
        for item in super::batch_get_consistent(&self.client, &self.table, keys).await? {
            let d: DeliveryOrder = from_item(item)?;
            found.insert(d.id.clone(), d);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// A fulfiller's delivery orders, oldest first, optionally of one exact status.
    pub async fn list_by_fulfiller(
        &self,
        fulfiller_id: &FulfillerId,
        status: Option<DeliveryStatus>,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page>> {
        let status = status
            .map(|st| serde_json::to_value(st).map(|v| v.as_str().unwrap_or_default().to_string()))
            .transpose()?;
        super::fulfiller_page(
            &self.client,
            &self.table,
            Some(&["id"]),
            fulfiller_id,
            status.as_deref(),
            limit,
            next_token,
        )
        .await
    }

    /// Records a delivery order's documents; the first time, also its random `linkKey`, which
    /// signs its document links (`dropship_core::links`) and stays as it is afterwards, so that
    /// links already handed out keep working. One UpdateItem.
    pub async fn set_documents(&self, id: &str, documents: &[DocumentRef]) -> anyhow::Result<()> {
        let docs: Vec<super::Item> = documents
            .iter()
            .map(|d| to_item(d, &[]))
            .collect::<anyhow::Result<_>>()?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", s(id))
            // Bumps the version so that a full write based on an older read fails and re-reads.
            .update_expression(
                "SET documents = :d, version = if_not_exists(version, :zero) + :one, \
                 linkKey = if_not_exists(linkKey, :k)",
            )
            .expression_attribute_values(":k", s(super::tokens::new_key()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .condition_expression("attribute_exists(id)")
            .expression_attribute_values(
                ":d",
                aws_sdk_dynamodb::types::AttributeValue::L(
                    docs.into_iter()
                        .map(aws_sdk_dynamodb::types::AttributeValue::M)
                        .collect(),
                ),
            )
            .send()
            .await
            .with_context(|| format!("recording the documents of {id}"))?;
        Ok(())
    }

    /// Flags the fulfiller's active delivery orders that hold `sku` as short of stock; returns
    /// their ids. Reads the fulfiller's index page by page (flagging is rare: only on shortfalls).
    pub async fn flag_shortfall(
        &self,
        fulfiller_id: &str,
        sku: &str,
    ) -> anyhow::Result<Vec<String>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byFulfiller")
            .key_condition_expression("fulfillerId = :f")
            .expression_attribute_values(":f", s(fulfiller_id));
        let all: Vec<DeliveryOrder> = super::query_all_whole(
            &self.client,
            query,
            &["id"],
            &format!("listing delivery orders of {fulfiller_id}"),
        )
        .await?;
        let mut flagged = Vec::new();
        for d in all {
            if d.is_active()
                && !d.stock_shortfall
                && d.lines.iter().any(|l| l.sku == sku && l.open() > 0)
            {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("id", s(&d.id))
                    .update_expression(
                        "SET stockShortfall = :t, version = if_not_exists(version, :zero) + :one",
                    )
                    .expression_attribute_values(
                        ":t",
                        aws_sdk_dynamodb::types::AttributeValue::Bool(true),
                    )
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":one", n(1))
                    .send()
                    .await
                    .with_context(|| format!("flagging {} short of stock", d.id))?;
                flagged.push(d.id);
            }
        }
        Ok(flagged)
    }
}
