//! The relay half of the transactional outbox (`dropship_aws::repo::outbox`): reads the orders
//! table's stream (new and old images, only records whose new image has an outbox) and sends
//! the messages of each newly committed outbox to their queues. Records are handled in stream
//! order; the first that cannot be sent is reported as the batch's failure, so it and the records
//! after it come again (Lambda checkpoints just before it), and none before it is sent twice.
//! A redelivered record sends its messages again: every consumer treats a duplicate as done.
//!
//! The relay also tells the report aggregator which orders were written (each order of a batch
//! once, by id, on its own queue): the report aggregates follow every order write. It is done
//! here rather than by a third reader of the stream, which DynamoDB advises against (the
//! webhook sender is the second); the aggregator's own queue keeps a slow aggregates table from
//! holding back the order flow.

mod config;
pub use config::Config;
use dropship_aws::queue::Queue;
use dropship_aws::repo::outbox::{self, OutboxMessage, QueueKind};
use dropship_aws::repo::Item;
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
    /// The report aggregator's queue: the orders written.
    pub aggregates: Queue,
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
            aggregates: queue(&config.report_aggregates_queue_url),
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

/// The id of the order a record's new image is, if it is an order's item (`None` for the
/// table's other items and for deletions).
pub fn order_id_of(images: &StreamImages) -> Option<String> {
    let image = images.new_image.clone().map(Item::from)?;
    let is_order = image
        .get("gsi1pk")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|v| v == "ORDERS");
    let pk = image.get("pk").and_then(|v| v.as_s().ok())?;
    pk.strip_prefix("ORDER#")
        .filter(|_| is_order)
        .map(str::to_owned)
}

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

    /// Tells the report aggregator about the orders of `records`, each once. Returns the
    /// position of the first record to come again when the queue could not be reached.
    async fn aggregate(&self, records: &[StreamRecord]) -> Option<usize> {
        let mut first_of: std::collections::BTreeMap<String, usize> = Default::default();
        for (i, record) in records.iter().enumerate() {
            if let Some(id) = order_id_of(&record.dynamodb) {
                first_of.entry(id).or_insert(i);
            }
        }
        let bodies: Vec<String> = first_of
            .keys()
            .map(|id| serde_json::json!({ "orderId": id }).to_string())
            .collect();
        if bodies.is_empty() {
            return None;
        }
        match self.aggregates.send_bodies(&bodies).await {
            Ok(()) => None,
            Err(err) => {
                tracing::error!(
                    error = %format!("{err:#}"),
                    "the report aggregator not told; the batch's orders come again"
                );
                first_of.values().min().copied()
            }
        }
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
        // The records before a failed one are checkpointed: their orders are told now.
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
