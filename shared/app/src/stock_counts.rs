//! Applying a fulfiller's stock counts, the one way for `PUT /fulfiller/stock` and stock feeds
//! alike: each count applied unless a newer one was (a late feed cannot undo a shipment); less on
//! hand than promised raises a shortfall alert and flags the delivery orders concerned (nothing is
//! silently oversold); more free stock wakes the orders waiting for it, oldest first.

use chrono::{DateTime, Utc};
use dropship_aws::backorders::route_waiting;
use dropship_aws::queue::Queue;
use dropship_aws::repo::alerts::Alerts;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::stock::Stock;
use dropship_core::ids::FulfillerId;
use dropship_core::stock::StockCount;

pub struct StockCounts {
    pub stock: Stock,
    /// The products' `stockShards`: how many items a count spreads the stock over.
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub alerts: Alerts,
    pub route_queue: Queue,
}

/// The variables stock counting needs, part of the configuration of each function that counts
/// stock (`#[serde(flatten)]`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct StockCountsConfig {
    #[serde(flatten)]
    pub tables: crate::repositories::TablesConfig,
    pub alerts_table: String,
    pub route_queue_url: String,
    pub catalogue_table: String,
}

impl StockCounts {
    pub fn from_config(
        config: &StockCountsConfig,
        dynamodb: &aws_sdk_dynamodb::Client,
        sqs: &aws_sdk_sqs::Client,
    ) -> Self {
        Self {
            stock: Stock::new(dynamodb.clone(), config.tables.stock_table.clone()),
            catalogue: Catalogue::new(dynamodb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(dynamodb.clone(), config.tables.orders_table.clone()),
            delivery_orders: DeliveryOrders::new(
                dynamodb.clone(),
                config.tables.delivery_orders_table.clone(),
            ),
            alerts: Alerts::new(dynamodb.clone(), config.alerts_table.clone()),
            route_queue: Queue::new(sqs.clone(), config.route_queue_url.clone()),
        }
    }
}

#[derive(Debug, Default)]
pub struct Applied {
    pub applied: usize,
    pub ignored_as_older: Vec<String>,
    pub shortfalls: Vec<String>,
    pub orders_woken: usize,
}

impl StockCounts {
    pub async fn apply(
        &self,
        fulfiller: &FulfillerId,
        counts: &[StockCount],
        as_of: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Applied> {
        let mut out = Applied::default();
        let mut grown = Vec::new();
        // One read of the counted products (100 to a call) tells which skus are sharded.
        let products = self
            .catalogue
            .get_products(counts.iter().map(|c| c.sku.to_string()))
            .await?;
        // A count that fails (a sharded sku whose items kept moving) does not stop the others,
        // and the orders waiting for the skus that grew are woken before the error is passed
        // on: a repeated request finds those counts applied already and would not wake them.
        let mut failed = None;
        for c in counts {
            let shards = products.get(&c.sku).map_or(1, |p| p.stock_shards);
            if let Err(e) = self
                .apply_one(fulfiller, c, shards, (as_of, now), &mut out, &mut grown)
                .await
            {
                tracing::error!(fulfiller = fulfiller.as_str(), sku = %c.sku, error = format!("{e:#}"), "stock count not applied");
                failed.get_or_insert(e);
            }
        }
        if !grown.is_empty() {
            out.orders_woken = route_waiting(&self.orders, &self.route_queue, grown).await?;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// One count: applied (or ignored as older), a shortfall told, a sku that grew noted.
    async fn apply_one(
        &self,
        fulfiller: &FulfillerId,
        c: &StockCount,
        shards: u16,
        (as_of, now): (DateTime<Utc>, DateTime<Utc>),
        out: &mut Applied,
        grown: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        match self
            .stock
            .apply_count(
                fulfiller.as_str(),
                c.sku.as_str(),
                c.available,
                as_of,
                now,
                shards,
            )
            .await?
        {
            None => out.ignored_as_older.push(c.sku.to_string()),
            Some(applied) => {
                out.applied += 1;
                if applied.is_shortfall() {
                    let details = format!(
                        "{fulfiller} reports {} of {} on hand, {} promised to delivery orders",
                        applied.available, applied.sku, applied.reserved
                    );
                    if self
                        .alerts
                        .open(
                            "stock_shortfall",
                            &format!("{fulfiller}/{}", applied.sku),
                            &details,
                            now,
                        )
                        .await?
                    {
                        tracing::warn!(fulfiller = fulfiller.as_str(), sku = %applied.sku, "stock shortfall: alert opened");
                    }
                    let flagged = self
                        .delivery_orders
                        .flag_shortfall(fulfiller.as_str(), &applied.sku)
                        .await?;
                    tracing::warn!(fulfiller = fulfiller.as_str(), sku = %applied.sku, ?flagged, "delivery orders flagged short of stock");
                    out.shortfalls.push(applied.sku.clone());
                } else if applied.free() > applied.free_before.max(0) {
                    grown.push(applied.sku.clone());
                }
            }
        }
        Ok(())
    }
}
