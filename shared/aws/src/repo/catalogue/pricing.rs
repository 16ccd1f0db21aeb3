//! The price memory and the promotions, in the catalogue table.
//! Keys: pk `PRICE`, sk `<channelId>#<sku>`: one item per (channel, sku) holding its whole price
//! history (a few hundred prices fit an item many times over), so that an order's prices are one
//! BatchGetItem and appending a price is one conditional write. pk `PROMOTION`, sk its id.
//! Both carry `version`, the number of writes so far: a write names the version it read, so
//! that two admins editing at once never lose one's change (the loser reads again).

use super::Catalogue;
use crate::repo::{is_condition_failure, n, s, to_item, Item};
use anyhow::Context;
use chrono::{DateTime, Utc};
use dropship_core::ids::{ChannelId, Sku};
use dropship_core::pricing::{Price, PriceHistory, Promotion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A (channel, sku)'s prices as stored, with the version they were read at (0: none yet).
#[derive(Debug, Clone, Default)]
pub struct StoredPrices {
    pub history: PriceHistory,
    pub version: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PricesItem {
    channel_id: ChannelId,
    sku: Sku,
    prices: Vec<Price>,
    version: u64,
}

/// A promotion as stored: what was PUT, who put it when, and its version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPromotion {
    #[serde(flatten)]
    pub promotion: Promotion,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: u64,
}

/// A stored price item read in someone else's batch (`get_for_order`): its sku and history.
pub(super) fn history_of(item: Item) -> anyhow::Result<(Sku, PriceHistory)> {
    let i: PricesItem = crate::repo::from_item(item)?;
    Ok((i.sku, PriceHistory::new(i.prices)))
}

pub(super) fn price_key(channel: &ChannelId, sku: &Sku) -> String {
    format!("{channel}#{sku}")
}

/// The condition of a write that read `version`: nobody wrote since (0: the item is new).
fn unchanged_since(version: u64) -> (&'static str, Option<(&'static str, u64)>) {
    if version == 0 {
        ("attribute_not_exists(pk)", None)
    } else {
        ("version = :read", Some((":read", version)))
    }
}

impl Catalogue {
    /// The prices of `sku` in `channel`.
    pub async fn prices(&self, channel: &ChannelId, sku: &Sku) -> anyhow::Result<StoredPrices> {
        let item: Option<PricesItem> = self.get("PRICE", &price_key(channel, sku)).await?;
        Ok(item.map_or_else(StoredPrices::default, |i| StoredPrices {
            history: PriceHistory::new(i.prices),
            version: i.version,
        }))
    }

    /// The price histories of `skus` in `channel` (those with any), for pricing an order.
    pub async fn price_lists(
        &self,
        channel: &ChannelId,
        skus: impl IntoIterator<Item = Sku>,
    ) -> anyhow::Result<BTreeMap<Sku, PriceHistory>> {
        let items: Vec<PricesItem> = self
            .get_many(
                "PRICE",
                skus.into_iter().map(|sku| price_key(channel, &sku)),
            )
            .await?;
        Ok(items
            .into_iter()
            .map(|i| (i.sku, PriceHistory::new(i.prices)))
            .collect())
    }

    /// Stores `history` if nobody wrote the (channel, sku) since it was read at `read`;
    /// false when someone did.
    pub async fn put_prices(
        &self,
        channel: &ChannelId,
        sku: &Sku,
        history: &PriceHistory,
        read: u64,
    ) -> anyhow::Result<bool> {
        let item = PricesItem {
            channel_id: channel.clone(),
            sku: sku.clone(),
            prices: history.prices().to_vec(),
            version: read + 1,
        };
        let item = to_item(&item, &[("pk", "PRICE"), ("sk", &price_key(channel, sku))])?;
        self.put_if_unchanged(item, read, "prices").await
    }

    pub async fn promotion(&self, id: &str) -> anyhow::Result<Option<StoredPromotion>> {
        self.get("PROMOTION", id).await
    }

    /// Stores `p` (its `version` one more than the one read) if nobody wrote it since.
    pub async fn put_promotion(&self, p: &StoredPromotion) -> anyhow::Result<bool> {
        let item = to_item(p, &[("pk", "PROMOTION"), ("sk", &p.promotion.id)])?;
        self.put_if_unchanged(item, p.version.saturating_sub(1), "a promotion")
            .await
    }

    /// Every promotion, by id. (An order reads them all and keeps those in force: a retailer
    /// runs tens of promotions at a time, not thousands.)
    pub async fn promotions(&self) -> anyhow::Result<Vec<StoredPromotion>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("PROMOTION"));
        crate::repo::query_all(query, "listing the promotions").await
    }

    async fn put_if_unchanged(&self, item: Item, read: u64, what: &str) -> anyhow::Result<bool> {
        let (condition, value) = unchanged_since(read);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if let Some((name, v)) = value {
            put = put.expression_attribute_values(name, n(v));
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("storing {what}")),
        }
    }
}
