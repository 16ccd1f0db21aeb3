//! Idempotency table: markers that make at-least-once deliveries act once.
//! Keys (pk): `<scope>#<key>`; `expiresAtEpoch` is the TTL attribute (checked in code too).
//! Access: conditional put (claim), delete (release after a failure so a retry can act).

use super::{n, s};
use anyhow::Context;
use chrono::{DateTime, Utc};

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
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("expiresAtEpoch", n(expires.timestamp()))
            .item("claimedAt", s(now.to_rfc3339()))
            .condition_expression("attribute_not_exists(pk) OR expiresAtEpoch < :now")
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("claiming {key}")),
        }
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
