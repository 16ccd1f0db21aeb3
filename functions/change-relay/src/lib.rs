//! The relay half of the transactional outbox (`dropship_aws::repo::outbox`): reads the orders
//! table's stream (new and old images, only records whose new image has an outbox) and sends
//! the messages of each newly committed outbox to their queues. Records are handled in stream
//! order; the first that cannot be sent is reported as the batch's failure, so it and the records
//! after it come again (Lambda checkpoints just before it), and none before it is sent twice.
//! A redelivered record sends its messages again: every consumer treats a duplicate as done.
//!
//! The relay also keeps the report aggregates (`dropship_aws::repo::aggregates`): every order
//! write of a batch is applied there, the latest image of each order once, several orders at a
//! time. It runs here rather than as a third reader of the stream, which DynamoDB advises
//! against (the webhook sender is the second).

mod config;
pub use config::Config;
use dropship_aws::queue::Queue;
use dropship_aws::repo::aggregates::Aggregates;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::outbox::{self, OutboxMessage, QueueKind};
use dropship_aws::repo::Item;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// The part of Lambda's DynamoDB stream event the relay reads.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    pub dynamodb: StreamImages,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamImages {
    pub sequence_number: String,
    #[serde(default)]
    pub new_image: Option<serde_dynamo::Item>,
    #[serde(default)]
    pub old_image: Option<serde_dynamo::Item>,
}

/// Lambda's partial batch answer: the sequence number of the first record not relayed.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

pub struct ChangeRelay {
    pub events: Queue,
    pub documents: Queue,
    pub route: Queue,
    pub returns: Queue,
    /// Where a record whose outbox cannot be read is parked whole (the stream's on-failure
    /// queue: one place to look, one alarm).
    pub dead_letters: Queue,
    pub aggregates: Aggregates,
    /// The branding's time zone, which dates the aggregates.
    pub catalogue: Catalogue,
}

/// A committed change whose follow-ups can never be sent as written: retrying it would only
/// hold back (and, once the retries are spent, discard) the records behind it on its shard.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedRecord<'a> {
    pub reason: &'static str,
    pub error: String,
    pub record: &'a StreamImages,
}

impl dropship_aws::config::FromConfig for ChangeRelay {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let sqs = aws_sdk_sqs::Client::new(cfg);
        let queue = |url: &String| Queue::new(sqs.clone(), url.clone());
        Ok(Self {
            events: queue(&config.events_queue_url),
            documents: queue(&config.documents_queue_url),
            route: queue(&config.route_queue_url),
            returns: queue(&config.returns_queue_url),
            dead_letters: queue(&config.dead_letter_queue_url),
            aggregates: Aggregates::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.report_aggregates_table.clone(),
            ),
            catalogue: Catalogue::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.catalogue_table.clone(),
            ),
        })
    }
}

/// What one record asks to send: its new outbox's messages, unless the old image had the same
/// commit (a later write that kept the outbox).
pub fn messages_of(images: &StreamImages) -> anyhow::Result<Vec<OutboxMessage>> {
    let image = |i: &Option<serde_dynamo::Item>| i.clone().map(Item::from);
    outbox::to_send(
        image(&images.new_image).as_ref(),
        image(&images.old_image).as_ref(),
    )
}

/// The order a record's new image holds, if it is an order's item (`None` for the table's other
/// items and for deletions).
pub fn order_of(images: &StreamImages) -> Option<anyhow::Result<dropship_core::order::Order>> {
    let image = images.new_image.clone().map(Item::from)?;
    let is_order = image
        .get("gsi1pk")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|v| v == "ORDERS");
    is_order.then(|| dropship_aws::repo::from_item(image))
}

/// Orders applied to the report aggregates at once.
const ORDERS_IN_FLIGHT: usize = 8;

/// Consecutive messages for the same queue, as one batch each (their order kept).
pub fn batches(messages: Vec<OutboxMessage>) -> Vec<(QueueKind, Vec<String>)> {
    let mut batches: Vec<(QueueKind, Vec<String>)> = Vec::new();
    for m in messages {
        match batches.last_mut() {
            Some((queue, bodies)) if *queue == m.queue => bodies.push(m.body),
            _ => batches.push((m.queue, vec![m.body])),
        }
    }
    batches
}

impl ChangeRelay {
    fn queue(&self, kind: QueueKind) -> &Queue {
        match kind {
            QueueKind::Events => &self.events,
            QueueKind::Documents => &self.documents,
            QueueKind::Route => &self.route,
            QueueKind::Returns => &self.returns,
        }
    }

    async fn relay(&self, images: &StreamImages) -> anyhow::Result<usize> {
        let messages = match messages_of(images) {
            Ok(m) => m,
            Err(err) => {
                let error = format!("{err:#}");
                tracing::error!(
                    sequence_number = %images.sequence_number,
                    error = %error,
                    "an outbox that cannot be read was parked in the dead-letter queue"
                );
                let parked = ParkedRecord {
                    reason: "unreadable_outbox",
                    error,
                    record: images,
                };
                self.dead_letters.send(&parked).await?;
                return Ok(0);
            }
        };
        let count = messages.len();
        for (kind, bodies) in batches(messages) {
            self.queue(kind).send_bodies(&bodies).await?;
        }
        Ok(count)
    }

    /// Parks a record whose order image cannot be read (it could never be applied).
    async fn park(&self, images: &StreamImages, err: anyhow::Error) -> anyhow::Result<()> {
        let error = format!("{err:#}");
        tracing::error!(
            sequence_number = %images.sequence_number,
            error = %error,
            "an order image that cannot be read was parked in the dead-letter queue"
        );
        self.dead_letters
            .send(&ParkedRecord {
                reason: "unreadable_order",
                error,
                record: images,
            })
            .await
    }

    /// Applies the orders of `records` to the report aggregates: the latest image of each order
    /// (what it adds depends only on the order as it is). Returns the position of the first
    /// record to come again: the earliest record of an order that could not be applied.
    async fn aggregate(&self, records: &[StreamRecord]) -> Option<usize> {
        let mut latest: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        let mut orders = Vec::new();
        for (i, record) in records.iter().enumerate() {
            match order_of(&record.dynamodb) {
                None => {}
                Some(Ok(order)) => {
                    let first = latest.get(order.id.as_str()).map_or(i, |(f, _)| *f);
                    latest.insert(order.id.to_string(), (first, orders.len()));
                    orders.push((i, order));
                }
                Some(Err(err)) => {
                    if let Err(e) = self.park(&record.dynamodb, err).await {
                        tracing::error!(error = %format!("{e:#}"), "parking failed; the record comes again");
                        return Some(i);
                    }
                }
            }
        }
        if latest.is_empty() {
            return None;
        }
        // Read once per batch: a change of zone reaches the relay within one batch, and the
        // backfill waits longer than any batch before it dates the orders anew.
        let zone = match self.catalogue.time_zone().await {
            Ok(zone) => zone,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "the time zone not read; the batch's orders come again");
                return latest.values().map(|(first, _)| *first).min();
            }
        };
        let applies = latest.values().map(|&(first, at)| {
            let (i, order) = &orders[at];
            async move {
                match self.aggregates.apply(order, zone).await {
                    Ok(_) => None,
                    Err(err) => {
                        tracing::error!(
                            sequence_number = %records[*i].dynamodb.sequence_number,
                            error = %format!("{err:#}"),
                            "report aggregates not updated; the order's records come again"
                        );
                        Some(first)
                    }
                }
            }
        });
        futures::stream::iter(applies)
            .buffer_unordered(ORDERS_IN_FLIGHT)
            .collect::<Vec<Option<usize>>>()
            .await
            .into_iter()
            .flatten()
            .min()
    }

    pub async fn handle(&self, event: StreamEvent) -> BatchResponse {
        let mut failed = None;
        for (i, record) in event.records.iter().enumerate() {
            let images = &record.dynamodb;
            if let Err(err) = self.relay(images).await {
                tracing::error!(
                    sequence_number = %images.sequence_number,
                    error = %format!("{err:#}"),
                    "follow-ups of a committed change not sent; the record comes again"
                );
                failed = Some(i);
                break;
            }
        }
        // The records before a failed one are checkpointed: their orders are applied now.
        let relayed = &event.records[..failed.unwrap_or(event.records.len())];
        let first = match (failed, self.aggregate(relayed).await) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        BatchResponse {
            batch_item_failures: first
                .map(|i| ItemFailure {
                    item_identifier: event.records[i].dynamodb.sequence_number.clone(),
                })
                .into_iter()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
