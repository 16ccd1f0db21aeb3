//! Renders a delivery order's documents in the retailer's design, stores them privately in S3
//! and announces `documents_ready` (the notifier mails the fulfiller; nobody else sends mail).
//!
//! Idempotent: documents are written under deterministic keys (a rerun overwrites the same
//! objects), and `documents_ready` may be emitted more than once: the notifier sends once.

pub mod render;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use dropship_aws::documents::DocumentStore;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::sqs_batch;
use dropship_core::delivery::{DocumentKind, DocumentRef};
use dropship_core::messages::{BusinessEvent, GenerateDocuments};

pub struct DocumentGenerator {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub store: DocumentStore,
    pub events_queue: Queue,
}

/// Where a document lives: by order and delivery order, one object per kind.
pub fn document_key(order_id: &str, delivery_order_id: &str, kind: DocumentKind) -> String {
    format!(
        "documents/{order_id}/{delivery_order_id}/{}.pdf",
        kind.as_str()
    )
}

impl DocumentGenerator {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            delivery_orders: DeliveryOrders::new(ddb, env("DELIVERY_ORDERS_TABLE")?),
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), env("DOCUMENT_BUCKET")?),
            events_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("EVENTS_QUEUE_URL")?),
        })
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.generate(m)).await
    }

    async fn generate(&self, m: SqsMessage) -> anyhow::Result<()> {
        let GenerateDocuments::DeliveryOrder { delivery_order_id } = sqs_batch::body(&m)? else {
            anyhow::bail!(
                "not yet rendered: {}",
                m.body.as_deref().unwrap_or_default()
            );
        };
        let delivery = self
            .delivery_orders
            .get(&delivery_order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("delivery order {delivery_order_id} does not exist"))?;
        let mut documents = delivery.documents.clone();
        if documents.is_empty() {
            let order = self
                .orders
                .get(&delivery.order_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("order {} does not exist", delivery.order_id))?;
            // White label is not optional: without the retailer's branding no document is made.
            let branding = self
                .catalogue
                .get_branding()
                .await?
                .ok_or_else(|| anyhow::anyhow!("no branding configured"))?;
            let pdf = render::delivery_note(&branding, &order, &delivery)?;
            let key = document_key(&order.id, &delivery.id, DocumentKind::DeliveryNote);
            self.store.put_pdf(&key, pdf).await?;
            documents = vec![DocumentRef {
                kind: DocumentKind::DeliveryNote,
                key,
            }];
            self.delivery_orders
                .set_documents(&delivery.id, &documents)
                .await?;
            tracing::info!(delivery_order_id = %delivery.id, documents = documents.len(), "documents stored");
        }
        self.events_queue
            .send(&BusinessEvent::DocumentsReady {
                delivery_order_id: delivery.id.clone(),
                fulfiller_id: delivery.fulfiller_id.clone(),
                order_id: delivery.order_id.clone(),
                documents,
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let cfg = offline();
        let handler = DocumentGenerator {
            catalogue: Catalogue::new(aws_sdk_dynamodb::Client::new(&cfg), "CatalogueTable".into()),
            orders: Orders::new(aws_sdk_dynamodb::Client::new(&cfg), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "DeliveryOrdersTable".into(),
            ),
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), "bucket".into()),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/q".into(),
            ),
        };
        let mut event = dropship_aws::sqs_batch::with_poison(include_str!(
            "../../../events/document-generator.json"
        ));
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
