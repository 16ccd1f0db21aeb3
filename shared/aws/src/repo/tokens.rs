//! Tokens table: bearer tokens and document links, both secrets stored only as SHA-256 hashes.
//! Keys (pk): `TOKEN#<sha256>` -> principal; `TOKENID#<tokenId>` -> the hash (for revocation);
//! `LINK#<sha256>` -> one document of one fulfiller, with its expiry (`expiresAtEpoch` is the
//! table's TTL attribute; expiry is also checked in code since TTL deletion is lazy).
//! Access: get by hash (authorizer, document links); put token + id (transaction); revoke by id.

use super::{from_item, s, to_item, Item};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: 256 bits, hex (fits API.md's id alphabet, 64 characters).
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub token_id: String,
    pub principal: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentLink {
    pub key: String,
    pub fulfiller_id: String,
    pub kind: String,
    pub expires_at: DateTime<Utc>,
    pub expires_at_epoch: i64,
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

    /// Mints a link id for one stored document of one fulfiller, valid `ttl`.
    pub async fn mint_links(&self, links: &[DocumentLink]) -> anyhow::Result<Vec<String>> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut ids = Vec::with_capacity(links.len());
        let mut writes = Vec::with_capacity(links.len());
        for link in links {
            let id = new_secret();
            let item = to_item(link, &[("pk", &format!("LINK#{}", sha256_hex(&id)))])?;
            writes.push(
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .context("link put")?,
                    )
                    .build(),
            );
            ids.push(id);
        }
        for chunk in writes.chunks(25) {
            let mut pending = Some(chunk.to_vec());
            let mut attempts = 0;
            while let Some(batch) = pending.take() {
                attempts += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, batch)
                    .send()
                    .await
                    .context("storing document links")?;
                pending = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .filter(|v| !v.is_empty());
                if pending.is_some() {
                    anyhow::ensure!(
                        attempts < 8,
                        "BatchWriteItem kept leaving document links unprocessed"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempts)).await;
                }
            }
        }
        Ok(ids)
    }

    /// The document a link points to, if the link exists and has not expired at `now`.
    pub async fn find_link(
        &self,
        link_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<DocumentLink>> {
        let link: Option<DocumentLink> = self
            .get_item(format!("LINK#{}", sha256_hex(link_id)))
            .await?
            .map(from_item)
            .transpose()?;
        Ok(link.filter(|l| l.expires_at > now))
    }
}
