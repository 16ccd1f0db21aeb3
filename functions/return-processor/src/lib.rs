//! Settles a received return: the arrived units count as returned on the order, the refund the
//! cumulative rule now calls for is recorded (allocated across the payments by the retailer's
//! policy, entered in the order's ledger), the part is marked refunded, and the credit document
//! and the customer's mail are requested.
//!
//! Idempotent: the order and the part change in one transaction conditional on both versions,
//! and a part already refunded is never settled again (a redelivered message only re-sends the
//! follow-ups, which are themselves keyed by the refund id).

mod config;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
pub use config::Config;
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::sqs_batch;
use dropship_core::messages::SettleReturn;

pub use dropship_app::returns::{apply_arrivals, refund_id};

pub struct ReturnProcessor {
    pub catalogue: Catalogue,
    pub repositories: Repositories,
}

impl dropship_aws::config::FromConfig for ReturnProcessor {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            ..QueueUrls::default()
        };
        let repositories =
            Repositories::new(cfg, &config.tables, queues).with_returns(&config.returns_table);
        Ok(Self {
            catalogue: Catalogue::new(
                repositories.dynamodb.clone(),
                config.catalogue_table.clone(),
            ),
            repositories,
        })
    }
}

impl ReturnProcessor {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.settle(m)).await
    }

    async fn settle(&self, m: SqsMessage) -> anyhow::Result<()> {
        let command: SettleReturn = sqs_batch::body(&m)?;
        let r = &self.repositories;
        let store = r.store();
        // Boxed: the settlement's future nests the SDK's deep enough to exceed the compiler's
        // default recursion limit when the runtime's future is laid out.
        Box::pin(dropship_app::returns::settle_return(
            &store,
            &self.catalogue,
            &command,
        ))
        .await
    }
}
