//! Tokens table: bearer tokens, stored only as SHA-256 hashes.
//! Keys (pk): `TOKEN#<sha256>` -> principal; `TOKENID#<tokenId>` -> the hash (for revocation).
//! Access: get by hash (authorizer); put token + id (transaction); revoke by id.
//! (Document links are no records: they are signed with their delivery order's `linkKey`, see
//! `dropship_core::links`.)

use super::{from_item, s, to_item, Item};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: 256 bits, hex (fits docs/api.md's id alphabet, 64 characters).
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A new random key of a full 256 bits, hex: SHA-256 over three random (v4) UUIDs, 366 random
/// bits. A delivery order's `linkKey`, which signs its document links.
pub fn new_key() -> String {
    let mut h = Sha256::new();
    for _ in 0..3 {
        h.update(uuid::Uuid::new_v4().as_bytes());
    }
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub token_id: String,
    pub principal: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Tokens {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Tokens {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    async fn get_item(&self, pk: String) -> anyhow::Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .context("reading the tokens table")?;
        Ok(out.item)
    }

    /// The principal of a presented bearer token, if it is known and not revoked.
    pub async fn find_token(&self, token: &str) -> anyhow::Result<Option<TokenRecord>> {
        self.get_item(format!("TOKEN#{}", sha256_hex(token)))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Stores a new token (hash only) and its id for revocation, in one transaction.
    pub async fn create_token(&self, token: &str, record: &TokenRecord) -> anyhow::Result<()> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let hash = sha256_hex(token);
        let token_pk = format!("TOKEN#{hash}");
        let id_pk = format!("TOKENID#{}", record.token_id);
        let puts = [
            to_item(record, &[("pk", &token_pk)])?,
            Item::from([
                ("pk".to_string(), s(&id_pk)),
                ("hash".to_string(), s(&hash)),
            ]),
        ];
        let mut items = Vec::with_capacity(2);
        for item in puts {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .context("building a token put")?,
                    )
                    .build(),
            );
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .context("storing a token")?;
        Ok(())
    }

    /// The principal (notation) of the token with this id; None when there is no such token.
    pub async fn principal_of(&self, token_id: &str) -> anyhow::Result<Option<String>> {
        let Some(hash) = self
            .get_item(format!("TOKENID#{token_id}"))
            .await?
            .and_then(|i| i.get("hash").and_then(|h| h.as_s().ok()).cloned())
        else {
            return Ok(None);
        };
        Ok(self
            .get_item(format!("TOKEN#{hash}"))
            .await?
            .and_then(|i| i.get("principal").and_then(|p| p.as_s().ok()).cloned()))
    }

    /// Notes when the token with this hash was last used (`lastUsedAt`); never brings back a
    /// token revoked meanwhile.
    pub async fn touch(&self, hash: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("TOKEN#{hash}")))
            .update_expression("SET lastUsedAt = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":at",
                s(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if super::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(anyhow::Error::from(e).context("noting a token's use")),
        }
    }

    /// Revokes a token by its id; false when there is no such token.
    pub async fn revoke(&self, token_id: &str) -> anyhow::Result<bool> {
        let Some(item) = self.get_item(format!("TOKENID#{token_id}")).await? else {
            return Ok(false);
        };
        let hash = item
            .get("hash")
            .and_then(|h| h.as_s().ok())
            .cloned()
            .unwrap_or_default();
        for pk in [format!("TOKEN#{hash}"), format!("TOKENID#{token_id}")] {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(pk))
                .send()
                .await
                .context("revoking a token")?;
        }
        Ok(true)
    }
}
