//! SQS batches the way the Lambda runtime examples and Powertools do them: each message in its own span, only the failed ones
//! reported in `batchItemFailures`, never a whole batch failed for one message.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::future::Future;
use tracing::Instrument;

/// Processes every record with `handle`; a record whose handler fails is reported for retry
/// (and reaches its DLQ after maxReceiveCount).
pub async fn process<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id);
        if let Err(e) = handle(record).instrument(span).await {
            tracing::error!(message_id = %id, error = %format!("{e:#}"), "message failed; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The message body as `T`.
pub fn body<T: serde::de::DeserializeOwned>(m: &SqsMessage) -> anyhow::Result<T> {
    let body = m.body.as_deref().unwrap_or_default();
    serde_json::from_str(body).map_err(|e| {
        anyhow::anyhow!(
            "message body is not a valid {}: {e}",
            std::any::type_name::<T>()
        )
    })
}

/// For handler tests: a sample SQS event (JSON) with one more, unreadable message appended, whose
/// id is `poison-1`. Fails loudly on a sample that is not an SQS event.
pub fn with_poison(sample: &str) -> SqsEvent {
    let mut v: serde_json::Value = serde_json::from_str(sample).unwrap_or_default();
    let mut poison = v["Records"][0].clone();
    poison["messageId"] = serde_json::json!("poison-1");
    poison["body"] = serde_json::json!("{not json");
    if let Some(records) = v["Records"].as_array_mut() {
        records.push(poison);
    }
    serde_json::from_value(v).unwrap_or_default()
}
