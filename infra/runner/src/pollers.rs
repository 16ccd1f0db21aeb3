//! SQS event sources: Lambda's poller, locally. Receive a batch, invoke with the Lambda SQS
//! event, delete what succeeded. Failed messages come back after the visibility timeout, and
//! the emulator moves them to the dead-letter queue after maxReceiveCount receives.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use axum::body::Bytes;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::lambda::FunctionPool;
use crate::template::REGION;

/// How long a batch may wait for a free instance before the poller gives up on it (its
/// messages then come back after the visibility timeout).
const QUEUE_GRACE: Duration = Duration::from_secs(60);

pub struct Poller {
    pub pool: Arc<FunctionPool>,
    pub event_id: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
    pub sqs: aws_sdk_sqs::Client,
}

/// Which messages of a batch to delete after an invocation.
#[derive(Debug, PartialEq)]
pub enum Settle {
    All,
    AllBut(HashSet<String>),
    None,
}

/// Lambda's rules for a successful invocation's response. With ReportBatchItemFailures an
/// empty or null response or list means success; anything unparseable, or an identifier that
/// is missing, empty or not in the batch, fails the whole batch.
pub fn settle(report_failures: bool, response: &[u8], batch_ids: &[String]) -> Settle {
    if !report_failures {
        return Settle::All;
    }
    let text = std::str::from_utf8(response).unwrap_or("").trim();
    if text.is_empty() {
        return Settle::All;
    }
    let Ok(parsed) = serde_json::from_str::<Value>(text) else {
        return Settle::None;
    };
    let failures = match &parsed {
        Value::Null => return Settle::All,
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return Settle::All,
            Some(Value::Array(items)) => items,
            Some(_) => return Settle::None,
        },
        _ => return Settle::None,
    };
    let mut failed = HashSet::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && batch_ids.iter().any(|b| b == id) => {
                failed.insert(id.to_string());
            }
            _ => return Settle::None,
        }
    }
    if failed.is_empty() {
        Settle::All
    } else {
        Settle::AllBut(failed)
    }
}

/// Delivers a batch `times` times (more than once under a duplicate fault), one after the
/// other or all at once; the outcomes in delivery order.
pub async fn deliver_times<T, F, Fut>(times: u64, concurrent: bool, deliver: F) -> Vec<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    if concurrent {
        return futures::future::join_all((0..times).map(|_| deliver())).await;
    }
    let mut outcomes = Vec::new();
    for _ in 0..times {
        outcomes.push(deliver().await);
    }
    outcomes
}

impl Poller {
    pub fn start(self: &Arc<Self>, concurrency: usize, shutdown: &watch::Receiver<bool>) {
        for _ in 0..concurrency.max(1) {
            let me = self.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = me.poll_once() => {}
                        _ = crate::process::raised(&mut shutdown) => return,
                    }
                }
            });
        }
    }

    async fn poll_once(&self) {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(queue = %self.queue_url, "ReceiveMessage failed: {}", aws_sdk_sqs::error::DisplayErrorContext(&e));
                tokio::time::sleep(Duration::from_secs(1)).await;
                return;
            }
        };
        if messages.is_empty() {
            return;
        }
        let event = self.event(&messages);
        let ids: Vec<String> = messages
            .iter()
            .map(|m| m.message_id().unwrap_or_default().to_string())
            .collect();
        let faults = &self.pool.instrument.faults;
        let binary = &self.pool.spec.binary;
        // Fault injection (none unless a test posted a rule): hold the batch, deliver it again.
        if let Some(delay) = faults.delay(binary) {
            tokio::time::sleep(delay).await;
        }
        let (deliveries, concurrent) = faults.deliveries(binary, messages.len());
        let event = Bytes::from(event.to_string());
        let outcomes: Vec<Settle> =
            deliver_times(deliveries, concurrent, || self.deliver(event.clone(), &ids)).await;
        // As in SQS, a message is gone once any of its deliveries succeeded and was deleted.
        let done = |id: &str| {
            outcomes.iter().any(|o| match o {
                Settle::All => true,
                Settle::AllBut(failed) => !failed.contains(id),
                Settle::None => false,
            })
        };
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| done(m.message_id().unwrap_or_default()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle().map(str::to_string))
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        match self
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) if !out.failed().is_empty() => {
                tracing::warn!(queue = %self.queue_url, "could not delete {} messages", out.failed().len())
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(queue = %self.queue_url, "DeleteMessageBatch failed: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
            }
        }
    }

    /// One invocation with the batch; what to delete after it.
    async fn deliver(&self, event: Bytes, ids: &[String]) -> Settle {
        let max_wait = self.pool.spec.timeout + QUEUE_GRACE;
        match self.pool.invoke(event, max_wait).await {
            Ok(response) => settle(self.report_batch_item_failures, &response, ids),
            Err(e) => {
                tracing::debug!(function = %self.pool.spec.binary, "batch of {} failed: {e}", ids.len());
                Settle::None
            }
        }
    }

    /// The Lambda SQS event for a batch.
    fn event(&self, messages: &[Message]) -> Value {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: Map<String, Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                let message_attributes: Map<String, Value> = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| {
                                let b64 = |b: &aws_sdk_sqs::primitives::Blob| {
                                    base64::engine::general_purpose::STANDARD.encode(b.as_ref())
                                };
                                let mut attr = json!({
                                    "stringListValues": v.string_list_values(),
                                    "binaryListValues": v.binary_list_values().iter().map(b64).collect::<Vec<_>>(),
                                    "dataType": v.data_type(),
                                });
                                if let Some(s) = v.string_value() {
                                    attr["stringValue"] = json!(s);
                                }
                                if let Some(b) = v.binary_value() {
                                    attr["binaryValue"] = json!(b64(b));
                                }
                                (k.clone(), attr)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut record = json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body().unwrap_or_default(),
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                });
                if let Some(md5) = m.md5_of_message_attributes() {
                    record["md5OfMessageAttributes"] = json!(md5);
                }
                record
            })
            .collect();
        json!({ "Records": records })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn without_reporting_every_success_deletes_all() {
        assert_eq!(settle(false, b"garbage", &ids()), Settle::All);
    }

    #[test]
    fn empty_or_null_responses_are_full_success() {
        for r in [
            &b""[..],
            b"null",
            b"{}",
            br#"{"batchItemFailures": []}"#,
            br#"{"batchItemFailures": null}"#,
        ] {
            assert_eq!(settle(true, r, &ids()), Settle::All, "{r:?}");
        }
    }

    #[test]
    fn named_failures_are_kept() {
        let s = settle(
            true,
            br#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#,
            &ids(),
        );
        assert_eq!(s, Settle::AllBut(HashSet::from(["b".to_string()])));
    }

    #[test]
    fn malformed_responses_fail_the_whole_batch() {
        for r in [
            &b"not json"[..],
            b"[1]",
            br#"{"batchItemFailures": "b"}"#,
            br#"{"batchItemFailures": [{"itemIdentifier": "zzz"}]}"#,
            br#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#,
            br#"{"batchItemFailures": [{"itemIdentifier": null}]}"#,
            br#"{"batchItemFailures": [{"id": "a"}]}"#,
        ] {
            assert_eq!(settle(true, r, &ids()), Settle::None, "{r:?}");
        }
    }
}
