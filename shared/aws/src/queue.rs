//! Publishing JSON messages to one SQS queue.

use anyhow::Context;
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        Self { client, url }
    }

    pub async fn send<T: Serialize>(&self, message: &T) -> anyhow::Result<()> {
        let body = serde_json::to_string(message)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .with_context(|| format!("sending a message to {}", self.url))?;
        Ok(())
    }

    /// Sends to a FIFO queue in `group`: the group's messages are received one after the other,
    /// in the order sent. Every message is new to SQS (a random deduplication id): the consumer
    /// treats a repeat as done, so deduplicating here would add nothing.
    pub async fn send_in_group<T: Serialize>(
        &self,
        message: &T,
        group: &str,
    ) -> anyhow::Result<()> {
        let body = serde_json::to_string(message)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(uuid::Uuid::new_v4().simple().to_string())
            .send()
            .await
            .with_context(|| format!("sending a message to {}", self.url))?;
        Ok(())
    }

    /// Sends up to any number of messages in batches of 10 (one call per 10, not per message).
    pub async fn send_all<T: Serialize>(&self, messages: &[T]) -> anyhow::Result<()> {
        let bodies = messages
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        self.send_bodies(&bodies).await
    }

    /// Sends message bodies serialized before (an outbox's), in batches of 10.
    pub async fn send_bodies(&self, bodies: &[String]) -> anyhow::Result<()> {
        for (chunk_no, chunk) in bodies.chunks(10).enumerate() {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, body) in chunk.iter().enumerate() {
                entries.push(
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{chunk_no}-{i}"))
                        .message_body(body)
                        .build()
                        .context("building a batch entry")?,
                );
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .with_context(|| format!("sending a batch to {}", self.url))?;
            if !out.failed().is_empty() {
                anyhow::bail!(
                    "{} messages to {} were refused: {:?}",
                    out.failed().len(),
                    self.url,
                    out.failed()
                );
            }
        }
        Ok(())
    }
}
