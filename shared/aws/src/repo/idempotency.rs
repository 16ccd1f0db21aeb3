//! Idempotency table: markers that make at-least-once deliveries act once.
//! Keys (pk): `<scope>#<key>`; `expiresAtEpoch` is the TTL attribute (checked in code too).
//! Access: conditional put (claim), delete (release after a failure so a retry can act),
//! update (a send's claim: leased while sending, marked sent after; a refused claim returns
//! the holder's item, so no second read).

use super::{n, s};
use anyhow::Context;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};

const SENDING: &str = "sending";
/// A key nobody holds: never claimed, or its claim expired.
const FREE: &str = "attribute_not_exists(pk) OR expiresAtEpoch < :now";

/// What a send's claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendClaim {
    /// Ours: send, then mark it sent (or release it when sending failed).
    Acquired,
    /// Sent before: a duplicate event.
    Sent,
    /// Another invocation is sending it now (its lease runs): try again later.
    InProgress,
}

#[derive(Clone, Debug)]
pub struct Idempotency {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Idempotency {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Claims `key` until `expires`; false when someone already holds an unexpired claim.
    pub async fn claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let res = self
            .put_claim(key, now, expires)
            .condition_expression(FREE)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("claiming {key}")),
        }
    }

    /// Claims the sending of `key` (a mail) for the invocation that lives until `lease_until`.
    /// A claim whose sender died before marking it sent is taken over once its lease is over:
    /// a crash between the claim and the send must not lose the mail. Claims written before
    /// leases existed (no `state`) count as sent.
    pub async fn claim_send(
        &self,
        key: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> anyhow::Result<SendClaim> {
        let res = self
            .put_claim(key, now, expires)
            .item("state", s(SENDING))
            .item("leaseUntilEpoch", n(lease_until.timestamp()))
            .condition_expression(format!(
                "{FREE} OR (#state = :sending AND leaseUntilEpoch < :now)"
            ))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(SENDING))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(SendClaim::Acquired),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(held)) => {
                    let sending = held
                        .item()
                        .and_then(|i| i.get("state"))
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|v| v == SENDING);
                    Ok(if sending {
                        SendClaim::InProgress
                    } else {
                        SendClaim::Sent
                    })
                }
                _ => Err(e).with_context(|| format!("claiming {key}")),
            },
        }
    }

    /// The claimed send went out: nobody takes it over any more.
    pub async fn mark_sent(&self, key: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET #state = :sent, sentAt = :at REMOVE leaseUntilEpoch")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .send()
            .await
            .with_context(|| format!("marking {key} sent"))?;
        Ok(())
    }

    /// The claim's item for `key`, claimed at `now` until `expires`; the caller adds its
    /// condition (at least [`FREE`]).
    fn put_claim(
        &self,
        key: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("expiresAtEpoch", n(expires.timestamp()))
            .item("claimedAt", s(now.to_rfc3339()))
            .expression_attribute_values(":now", n(now.timestamp()))
    }

    pub async fn release(&self, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .send()
            .await
            .with_context(|| format!("releasing {key}"))?;
        Ok(())
    }
}
