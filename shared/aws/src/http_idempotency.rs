//! `Idempotency-Key` for POST requests, with the semantics of Powertools' idempotency utility
//! (as Powertools for AWS Lambda does it) and docs/api.md: a conditional put of an in-progress record keyed per principal, the
//! stored response replayed for the same key and body, 409 `idempotency_key_reused` for another
//! body, a concurrent repeat waiting up to 5 s and then 409 `idempotency_in_progress`, and the
//! record removed when processing fails so that the client can simply retry.
//! Condition expressions, not ClientRequestToken (which the emulator ignores).

use crate::repo::{from_item, n, s, to_item};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use dropship_core::ApiError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::future::Future;

/// Keys are kept at least 24 h (docs/api.md); we keep them 25.
const KEEP: Duration = Duration::hours(25);
const WAIT_FOR_IN_PROGRESS: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    status: String,
    payload_hash: String,
    #[serde(default)]
    response: Option<StoredResponse>,
    in_progress_expiry_ms: i64,
    expires_at_epoch: i64,
}

#[derive(Clone, Debug)]
pub struct IdempotencyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// Checks an `Idempotency-Key` header value: 1..128 characters.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(ApiError::new(
            400,
            dropship_core::ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key must be 1..128 characters",
        ));
    }
    Ok(())
}

pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

enum Claim {
    Claimed,
    Existing(Record),
}

impl IdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    async fn claim(
        &self,
        pk: &str,
        hash: &str,
        now: DateTime<Utc>,
        deadline_ms: i64,
    ) -> anyhow::Result<Claim> {
        let record = Record {
            status: "INPROGRESS".into(),
            payload_hash: hash.into(),
            response: None,
            in_progress_expiry_ms: deadline_ms,
            expires_at_epoch: (now + KEEP).timestamp(),
        };
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record, &[("pk", pk)])?))
            .condition_expression(
                "attribute_not_exists(pk) OR expiresAtEpoch < :now OR (#st = :inprogress AND inProgressExpiryMs < :nowms)",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":nowms", n(now.timestamp_millis()))
            .expression_attribute_values(":inprogress", s("INPROGRESS"))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) if crate::repo::is_condition_failure(&e) => {
                let existing = self
                    .get(pk)
                    .await?
                    .context("the idempotency record vanished while being read")?;
                Ok(Claim::Existing(existing))
            }
            Err(e) => Err(e).context("claiming an idempotency key"),
        }
    }

    async fn get(&self, pk: &str) -> anyhow::Result<Option<Record>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .context("reading an idempotency record")?;
        out.item.map(from_item).transpose()
    }

    async fn complete(&self, pk: &str, response: &StoredResponse) -> anyhow::Result<()> {
        let resp = to_item(response, &[])?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("SET #st = :done, #resp = :resp")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#resp", "response")
            .expression_attribute_values(":done", s("COMPLETED"))
            .expression_attribute_values(":resp", aws_sdk_dynamodb::types::AttributeValue::M(resp))
            .send()
            .await
            .context("completing an idempotency record")?;
        Ok(())
    }

    async fn delete(&self, pk: &str) -> anyhow::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .send()
            .await
            .context("deleting an idempotency record")?;
        Ok(())
    }

    /// Runs `work` at most once per (scope, key, body): a repeat gets the first response.
    /// `deadline_ms` is the invocation's deadline: an attempt that timed out can be retried at once.
    /// Only successful responses are kept; a failure removes the record and is returned as is.
    pub async fn run<F, Fut>(
        &self,
        scope: &str,
        key: &str,
        body: &[u8],
        deadline_ms: i64,
        work: F,
    ) -> Result<StoredResponse, crate::http::HandlerError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<StoredResponse, crate::http::HandlerError>>,
    {
        check_key(key)?;
        let pk = format!("{scope}#{key}");
        let hash = payload_hash(body);
        let started = std::time::Instant::now();
        loop {
            match self.claim(&pk, &hash, Utc::now(), deadline_ms).await? {
                Claim::Claimed => break,
                Claim::Existing(r) if r.payload_hash != hash => {
                    return Err(ApiError::conflict(
                        dropship_core::ErrorCode::IdempotencyKeyReused,
                        "this Idempotency-Key was used with another request body",
                    )
                    .into())
                }
                Claim::Existing(Record {
                    response: Some(resp),
                    ..
                }) => return Ok(resp),
                Claim::Existing(_) if started.elapsed() < WAIT_FOR_IN_PROGRESS => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Claim::Existing(_) => {
                    return Err(ApiError::conflict(
                        dropship_core::ErrorCode::IdempotencyInProgress,
                        "a request with this Idempotency-Key is still being processed",
                    )
                    .into())
                }
            }
        }
        match work().await {
            Ok(resp) => {
                self.complete(&pk, &resp).await?;
                Ok(resp)
            }
            Err(e) => {
                if let Err(del) = self.delete(&pk).await {
                    tracing::error!(error = %format!("{del:#}"), "could not release an idempotency key after a failure");
                }
                Err(e)
            }
        }
    }
}

impl IdempotencyStore {
    /// Runs `work` for an HTTP request under its `Idempotency-Key`, scoped to `scope` (the
    /// principal and route): required (POST /orders) or accepted when present (every other POST).
    /// The invocation's deadline is the in-progress expiry.
    /// An optional-key POST: `run_for_request` without a required key, answered as JSON.
    pub async fn respond<F, Fut>(
        &self,
        req: &lambda_http::Request,
        scope: &str,
        work: F,
    ) -> crate::http::HandlerResult
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<StoredResponse, crate::http::HandlerError>>,
    {
        let resp = self.run_for_request(req, scope, false, work).await?;
        crate::http::json(resp.status, &resp.body)
    }

    pub async fn run_for_request<F, Fut>(
        &self,
        req: &lambda_http::Request,
        scope: &str,
        required: bool,
        work: F,
    ) -> Result<StoredResponse, crate::http::HandlerError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<StoredResponse, crate::http::HandlerError>>,
    {
        use lambda_http::RequestExt;
        let Some(key) = crate::http::header(req, "idempotency-key") else {
            if required {
                return Err(ApiError::new(
                    400,
                    dropship_core::ErrorCode::IdempotencyKeyRequired,
                    "this request needs an Idempotency-Key header",
                )
                .into());
            }
            return work().await;
        };
        let deadline_ms = req
            .lambda_context_ref()
            .map(|c| c.deadline as i64)
            .unwrap_or_else(|| Utc::now().timestamp_millis() + 15_000);
        let body: &[u8] = req.body().as_ref();
        self.run(scope, key, body, deadline_ms, work).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_length_is_checked() {
        assert!(check_key("a").is_ok());
        assert!(check_key(&"k".repeat(128)).is_ok());
        assert_eq!(check_key("").unwrap_err().status, 400);
        assert_eq!(check_key(&"k".repeat(129)).unwrap_err().status, 400);
        assert_ne!(payload_hash(b"{}"), payload_hash(b"{ }"));
    }
}
