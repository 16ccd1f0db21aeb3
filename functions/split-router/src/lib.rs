//! The router's queue consumer: each message names an order; routing it (who ships what, the
//! stock reserved, the delivery orders and their documents requested) is the use case
//! `dropship_app::routing`, which says how a redelivered message stays harmless.

mod config;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
pub use config::Config;
use dropship_app::aws::Sources;
use dropship_app::routing::{self, RouteOrder};
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::sqs_batch;

pub struct SplitRouter {
    pub catalogue: Catalogue,
    /// Orders, delivery orders and stock, and the events and documents queues.
    pub repositories: Repositories,
}

impl dropship_aws::config::FromConfig for SplitRouter {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            ..QueueUrls::default()
        };
        Ok(Self {
            catalogue: Catalogue::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.catalogue_table.clone(),
            ),
            repositories: Repositories::new(cfg, &config.tables, queues),
        })
    }
}

impl SplitRouter {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.route_message(m)).await
    }

    async fn route_message(&self, m: SqsMessage) -> anyhow::Result<()> {
        let command: RouteOrder = sqs_batch::body(&m)?;
        let r = &self.repositories;
        let sources = Sources {
            catalogue: &self.catalogue,
            stock: &r.stock,
            dynamodb: &r.dynamodb,
        };
        routing::route_order(&r.store(), &sources, &self.catalogue, &r.queues(), &command).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let handler = SplitRouter::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut event =
            dropship_aws::sqs_batch::with_poison(include_str!("../../../events/split-router.json"));
        // The good message needs the emulator (tests/tests/e2e/handlers.rs); here only the poison.
        event.records.remove(0);
        let resp = handler.handle(event).await;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["poison-1"]);
    }
}
