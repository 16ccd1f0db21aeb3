//! Stock table. Key: (fulfillerId, sku). Attributes: available (reported on hand), reserved
//! (promised to delivery orders not yet shipped), free = available - reserved (kept as its own
//! attribute because condition expressions cannot do arithmetic: reservations are the conditional
//! write `free >= :q`), asOf (time of the count), updatedAt.
//! Access: batch-get the candidates of an order; apply a count (ignored when older than the last
//! applied); list one fulfiller's stock.

use super::{batch_get, from_item, n, s, Item};
use anyhow::Context;
use chrono::{DateTime, Utc};
use dropship_core::catalogue::SourcePair;
use dropship_core::ids::{FulfillerId, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
        Self::levels_from(batch_get(&self.client, &self.table, keys).await?)
    }

    /// The table and keys of these (fulfiller, sku) levels, each once, to read them in a
    /// BatchGetItem shared with other tables; `levels_from` parses what came back.
    pub fn keys(&self, keys: impl IntoIterator<Item = SourcePair>) -> (String, Vec<Item>) {
        let keys: std::collections::BTreeSet<SourcePair> = keys.into_iter().collect();
        let items = keys
            .into_iter()
            .map(|k| {
                Item::from([
                    ("fulfillerId".to_string(), s(k.fulfiller_id)),
                    ("sku".to_string(), s(k.sku)),
                ])
            })
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

    /// Applies an absolute count taken at `as_of`; the change, or None when a newer count was
    /// applied already (a late feed cannot undo a shipment).
    pub async fn apply_count(
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
                "SET available = :a, reserved = if_not_exists(reserved, :zero), #free = :a - if_not_exists(reserved, :zero), asOf = :asOf, updatedAt = :now",
            )
            .condition_expression("attribute_not_exists(asOf) OR asOf <= :asOf")
            .expression_attribute_names("#free", "free")
            .expression_attribute_values(":a", n(available))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":asOf", s(as_of.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
            .expression_attribute_values(":now", s(now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
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

    pub async fn list(&self, fulfiller_id: &FulfillerId) -> anyhow::Result<Vec<StockLevel>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("fulfillerId = :f")
            .expression_attribute_values(":f", s(fulfiller_id.as_str()));
        super::query_all(query, &format!("listing the stock of {fulfiller_id}")).await
    }
}
