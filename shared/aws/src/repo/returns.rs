//! Returns table: one item per part of a return (the units one fulfiller takes back).
//! Keys: returnId (hash) + fulfillerId (range). GSI byOrder: orderId + createdKey (an order's
//! returns, oldest first); GSI byFulfiller: fulfillerId + createdKey (a fulfiller's returns,
//! oldest first). Access: a return's parts (consistent query), a part, an order's parts, a
//! fulfiller's parts with an optional status. Writes go through `changes::commit`, together
//! with the order (authorizing) or the stock (receiving) they belong to.

use super::{from_item, query_all, s, to_item};
use anyhow::Context;
use dropship_core::ids::FulfillerId;
use dropship_core::returns::{ReturnPart, ReturnStatus};

/// The item of a part: the part plus its sort key for the indexes.
pub fn part_item(part: &ReturnPart) -> anyhow::Result<super::Item> {
    to_item(part, &[("createdKey", &part.created_key())])
}

/// One page of a fulfiller's return parts.
pub type Page = super::Page<ReturnPart>;

#[derive(Clone, Debug)]
pub struct Returns {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Returns {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every part of a return (empty when there is no such return).
    pub async fn parts(&self, return_id: &str) -> anyhow::Result<Vec<ReturnPart>> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("returnId = :r")
            .expression_attribute_values(":r", s(return_id));
        query_all(q, &format!("reading return {return_id}")).await
    }

    pub async fn part(
        &self,
        return_id: &str,
        fulfiller_id: &str,
    ) -> anyhow::Result<Option<ReturnPart>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("returnId", s(return_id))
            .key("fulfillerId", s(fulfiller_id))
            .send()
            .await
            .with_context(|| format!("reading return {return_id}"))?;
        out.item.map(from_item).transpose()
    }

    /// Every part of every return of an order, oldest first (an index: eventually consistent).
    pub async fn of_order(&self, order_id: &str) -> anyhow::Result<Vec<ReturnPart>> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byOrder")
            .key_condition_expression("orderId = :o")
            .expression_attribute_values(":o", s(order_id));
        query_all(q, &format!("reading the returns of order {order_id}")).await
    }

    /// A fulfiller's parts, oldest first; `None` for a next token that is not ours.
    pub async fn of_fulfiller(
        &self,
        fulfiller_id: &FulfillerId,
        status: Option<ReturnStatus>,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page>> {
        super::fulfiller_page(
            &self.client,
            &self.table,
            None,
            fulfiller_id,
            status.map(ReturnStatus::as_str),
            limit,
            next_token,
        )
        .await
    }

    /// Records where a part's return label is (the generator's only write).
    pub async fn set_label(
        &self,
        return_id: &str,
        fulfiller_id: &str,
        label: &dropship_core::delivery::DocumentRef,
    ) -> anyhow::Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("returnId", s(return_id))
            .key("fulfillerId", s(fulfiller_id))
            .update_expression("SET label = :l, version = version + :one")
            .condition_expression("attribute_exists(returnId)")
            .expression_attribute_values(
                ":l",
                aws_sdk_dynamodb::types::AttributeValue::M(to_item(label, &[])?),
            )
            .expression_attribute_values(":one", super::n(1))
            .send()
            .await
            .with_context(|| format!("recording the label of return {return_id}"))?;
        Ok(())
    }
}
