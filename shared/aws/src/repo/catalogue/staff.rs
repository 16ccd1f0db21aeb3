//! The retailer's staff, in the catalogue table: pk `STAFF`, sk the staff member's id. Read by
//! the authorizer for a staff token's role and whether the member is active.

use super::Catalogue;
use crate::repo::{decode_partition_token, encode_next_token, from_item, s, Page};
use anyhow::Context;
use dropship_core::staff::StaffMember;

impl Catalogue {
    pub async fn put_staff(&self, m: &StaffMember) -> anyhow::Result<()> {
        self.put("STAFF", m.id.as_str(), m).await
    }

    /// A staff member, read strongly consistent: a role or deactivation just written decides
    /// at once who may do what (the authorizer reads it once per token per 30 s).
    pub async fn get_staff(&self, id: &str) -> anyhow::Result<Option<StaffMember>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s("STAFF"))
            .key("sk", s(id))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading staff member {id}"))?;
        out.item.map(from_item).transpose()
    }

    /// A page of the staff in id order, optionally only the active or the inactive ones; `None`
    /// for a next token that is not ours. A filtered page may be short: the list goes on while
    /// it has a next token.
    pub async fn staff_page(
        &self,
        active: Option<bool>,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page<StaffMember>>> {
        let start = match next_token.map(|t| decode_partition_token(t, "STAFF")) {
            Some(None) => return Ok(None),
            Some(key) => key,
            None => None,
        };
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("STAFF"))
            .limit(limit)
            .set_exclusive_start_key(start);
        if let Some(active) = active {
            q = q
                .filter_expression("active = :a")
                .expression_attribute_values(
                    ":a",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(active),
                );
        }
        let page = q.send().await.context("listing the staff")?;
        Ok(Some(Page {
            items: page
                .items
                .unwrap_or_default()
                .into_iter()
                .map(from_item)
                .collect::<anyhow::Result<_>>()?,
            next_token: page.last_evaluated_key.as_ref().map(encode_next_token),
        }))
    }
}
