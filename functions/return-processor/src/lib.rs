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
use dropship_app::aws::{Queues, Store};
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::sqs_batch;
use dropship_core::messages::SettleReturn;

pub use dropship_app::returns::{apply_arrivals, refund_id};

pub struct ReturnProcessor {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub returns: Returns,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub documents_queue: Queue,
    pub events_queue: Queue,
}

impl dropship_aws::config::FromConfig for ReturnProcessor {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let sqs = aws_sdk_sqs::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            returns: Returns::new(ddb.clone(), config.returns_table.clone()),
            tables: Tables {
                orders: config.orders_table.clone(),
                delivery_orders: config.delivery_orders_table.clone(),
                stock: config.stock_table.clone(),
                returns: Some(config.returns_table.clone()),
            },
            dynamodb: ddb,
            documents_queue: Queue::new(sqs.clone(), config.documents_queue_url.clone()),
            events_queue: Queue::new(sqs, config.events_queue_url.clone()),
        })
    }
}

impl ReturnProcessor {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.settle(m)).await
    }

    async fn settle(&self, m: SqsMessage) -> anyhow::Result<()> {
        let command: SettleReturn = sqs_batch::body(&m)?;
        // This function reads no delivery order; the store wants the repository all the same.
        let delivery_orders =
            DeliveryOrders::new(self.dynamodb.clone(), self.tables.delivery_orders.clone());
        let store = Store::new(&self.orders, &delivery_orders, &self.dynamodb, &self.tables)
            .with_returns(&self.returns);
        let queues = Queues::events_and_documents(&self.events_queue, &self.documents_queue);
        // Boxed: the settlement's future nests the SDK's deep enough to exceed the compiler's
        // default recursion limit when the runtime's future is laid out.
        Box::pin(dropship_app::returns::settle_return(
            &store,
            &self.catalogue,
            &queues,
            &command,
        ))
        .await
    }
}
