//! Keeps the report aggregates (`dropship_aws::repo::aggregates`): for each order the change
//! relay saw written, reads the order as it is now and applies it, dated in the retailer's zone.
//! Its own queue, dead-letter queue and alarm keep reporting apart from the order flow: a slow
//! or throttled aggregates table delays the reports, never an order's follow-ups. The messages
//! carry only the order id and may come twice or out of order: applying reads the latest
//! order, and the order's marker makes a second apply of a version add nothing.

mod config;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
pub use config::Config;
use dropship_aws::repo::aggregates::Aggregates;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::orders::Orders;
use dropship_aws::sqs_batch;
use serde::{Deserialize, Serialize};

/// The message: an order whose aggregates may have moved.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWritten {
    pub order_id: String,
}

pub struct ReportAggregator {
    pub orders: Orders,
    pub aggregates: Aggregates,
    pub catalogue: Catalogue,
}

impl dropship_aws::config::FromConfig for ReportAggregator {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let dynamodb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            orders: Orders::new(dynamodb.clone(), config.orders_table.clone()),
            aggregates: Aggregates::new(dynamodb.clone(), config.report_aggregates_table.clone()),
            catalogue: Catalogue::new(dynamodb, config.catalogue_table.clone()),
        })
    }
}

impl ReportAggregator {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        // Read once per batch: a change of zone reaches the aggregator within one batch, and the
        // backfill waits longer than any batch takes before it dates the orders anew.
        let zone = match self.catalogue.time_zone().await {
            Ok(zone) => Ok(zone),
            Err(err) => Err(format!("{err:#}")),
        };
        sqs_batch::process(event, |m| self.apply(m, zone.clone())).await
    }

    async fn apply(
        &self,
        m: SqsMessage,
        zone: Result<chrono_tz::Tz, String>,
    ) -> anyhow::Result<()> {
        let zone = zone.map_err(|e| anyhow::anyhow!("the time zone not read: {e}"))?;
        let message: OrderWritten = sqs_batch::body(&m)?;
        let Some(order) = self.orders.get(&message.order_id).await? else {
            // Nothing to sum: an order that is not (or no longer) there.
            tracing::warn!(order_id = %message.order_id, "no such order; nothing to apply");
            return Ok(());
        };
        let applied = self.aggregates.apply(&order, zone).await?;
        tracing::debug!(order_id = %message.order_id, ?applied, "report aggregates applied");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_message_names_an_order_and_a_poison_one_is_refused() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../../../events/report-aggregator.json")).unwrap();
        let m: OrderWritten = sqs_batch::body(&event.records[0]).unwrap();
        assert!(m.order_id.starts_with("ord_"));
        let poisoned =
            sqs_batch::with_poison(include_str!("../../../events/report-aggregator.json"));
        let last = poisoned.records.last().unwrap();
        assert!(sqs_batch::body::<OrderWritten>(last).is_err());
    }
}
