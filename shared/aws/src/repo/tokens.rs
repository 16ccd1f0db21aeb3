//! Tokens table: bearer tokens, stored only as SHA-256 hashes.
//! Keys (pk): `TOKEN#<sha256>` -> principal; `TOKENID#<tokenId>` -> the hash (for revocation).
//! Access: get by hash (authorizer); put token + id (transaction); revoke by id; a page of the
//! tokens (a Scan of the `TOKEN#` items, optionally of one principal: the table holds a few
//! hundred items at most, so no index is kept for it).
//! (Document links are no records: they are signed with their delivery order's `linkKey`, see
//! `dropship_core::links`.)

use super::{from_item, s, to_item, Item, Page};
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
    /// The admin who made it (tokens made before this was kept have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When it was last presented (written by the authorizer; absent until then). Read
    /// leniently: an attribute that is not an RFC 3339 instant reads as absent, so that it can
    /// never make the token itself unreadable (the authorizer reads this record).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_instant"
    )]
    pub last_used_at: Option<DateTime<Utc>>,
    /// A console session's token ends here (API tokens have no end); `expiresAtEpoch` is the
    /// table's TTL attribute, and expiry is checked in code since TTL deletion is lazy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_epoch: Option<i64>,
    /// Made by the console's sign-in, for one browser session: its secret is the session
    /// cookie, and signing out revokes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub console_session: bool,
    /// The API token a console session was opened with: revoking it ends the session too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_with: Option<String>,
}

impl TokenRecord {
    /// Whether the token still works at `now` (API tokens always do until revoked).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| end > now)
    }
}

/// An RFC 3339 instant, or None for anything else (absent, null, a number, another format).
fn lenient_instant<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// How many Scan pages (1 MB each) a token listing reads at most: far more than a retailer's
/// tokens and portal sessions fill.
const MAX_SCAN_PAGES: usize = 100;

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

    /// The principal of a presented bearer token, if it is known, not revoked and not expired
    /// (and, for a console session, the token it was opened with is not revoked either).
    pub async fn find_token(&self, token: &str) -> anyhow::Result<Option<TokenRecord>> {
        let record: Option<TokenRecord> = self
            .get_item(format!("TOKEN#{}", sha256_hex(token)))
            .await?
            .map(from_item)
            .transpose()?;
        let Some(record) = record.filter(|r| r.is_live(Utc::now())) else {
            return Ok(None);
        };
        if let Some(parent) = &record.opened_with {
            if self.get_item(format!("TOKENID#{parent}")).await?.is_none() {
                return Ok(None);
            }
        }
        Ok(Some(record))
    }

    /// Stores a new token (hash only) and its id for revocation, in one transaction.
    pub async fn create_token(&self, token: &str, record: &TokenRecord) -> anyhow::Result<()> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let hash = sha256_hex(token);
        let token_pk = format!("TOKEN#{hash}");
        let id_pk = format!("TOKENID#{}", record.token_id);
        let mut id_item = Item::from([
            ("pk".to_string(), s(&id_pk)),
            ("hash".to_string(), s(&hash)),
        ]);
        // A session's id goes when its token does (TTL).
        if let Some(epoch) = record.expires_at_epoch {
            id_item.insert("expiresAtEpoch".to_string(), super::n(epoch));
        }
        let puts = [to_item(record, &[("pk", &token_pk)])?, id_item];
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

    /// A page of the tokens (of `principal`, in its notation, when given), in the table's
    /// order; None when `next_token` is not one this list gave. The hash never leaves here.
    pub async fn list(
        &self,
        principal: Option<&str>,
        limit: usize,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page<TokenRecord>>> {
        // The page token is the last token id shown, never a table key: the keys are hashes of
        // tokens and portal sessions. The table holds a retailer's tokens and sessions (hundreds
        // of small items), so the listing reads every token and pages them by id.
        let after = match next_token {
            None => None,
            Some(t) if dropship_core::ids::is_valid_id(t) && t.starts_with("tok_") => Some(t),
            Some(_) => return Ok(None),
        };
        let mut all: Vec<TokenRecord> = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_SCAN_PAGES {
            let mut scan = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :token)")
                .expression_attribute_values(":token", s("TOKEN#"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if let Some(p) = principal {
                scan = scan
                    .filter_expression("begins_with(pk, :token) AND principal = :principal")
                    .expression_attribute_values(":principal", s(p));
            }
            let out = scan.send().await.context("listing the tokens")?;
            for item in out.items.unwrap_or_default() {
                all.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        anyhow::ensure!(
            start.is_none(),
            "the tokens table holds more than {MAX_SCAN_PAGES} pages of items"
        );
        // Ended console sessions (by time, or with the token they were opened with) wait for
        // TTL to remove them; they are no tokens any more.
        let now = Utc::now();
        let ids: std::collections::HashSet<String> =
            all.iter().map(|t| t.token_id.clone()).collect();
        all.retain(|t| t.is_live(now) && t.opened_with.as_ref().is_none_or(|p| ids.contains(p)));
        all.sort_by(|a, b| a.token_id.cmp(&b.token_id));
        let rest: Vec<TokenRecord> = all
            .into_iter()
            .filter(|t| after.is_none_or(|a| t.token_id.as_str() > a))
            .collect();
        let more = rest.len() > limit;
        let items: Vec<TokenRecord> = rest.into_iter().take(limit).collect();
        let next_token = more
            .then(|| items.last().map(|t| t.token_id.clone()))
            .flatten();
        Ok(Some(Page { items, next_token }))
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
        // Both keys go together: a token whose id is gone but whose hash still answers (or the
        // other way round) would be half revoked.
        use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
        let mut deletes = Vec::with_capacity(2);
        for pk in [format!("TOKEN#{hash}"), format!("TOKENID#{token_id}")] {
            deletes.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .key("pk", s(pk))
                            .build()
                            .context("building a token delete")?,
                    )
                    .build(),
            );
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(deletes))
            .send()
            .await
            .context("revoking a token")?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_made_before_have_no_creator_nor_last_use() {
        let r: TokenRecord = serde_json::from_value(serde_json::json!({"tokenId": "tok_1",
            "principal": "admin", "name": null, "createdAt": "2026-01-01T00:00:00Z"}))
        .unwrap();
        assert_eq!((r.created_by, r.last_used_at), (None, None));
    }

    #[test]
    fn a_last_use_the_token_cannot_read_never_hides_the_token() {
        let item = |last: aws_sdk_dynamodb::types::AttributeValue| {
            let mut i = to_item(
                &serde_json::json!({"tokenId": "tok_1", "principal": "admin",
                    "createdAt": "2026-01-01T00:00:00Z"}),
                &[("pk", "TOKEN#ab")],
            )
            .unwrap();
            i.insert("lastUsedAt".into(), last);
            from_item::<TokenRecord>(i).unwrap()
        };
        let used = item(s("2026-12-02T10:00:00.5+01:00"));
        assert_eq!(
            used.last_used_at.map(|t| t.to_rfc3339()),
            Some("2026-12-02T09:00:00.500+00:00".to_string())
        );
        assert_eq!(item(s("yesterday")).last_used_at, None);
        assert_eq!(item(super::super::n(1764669600)).last_used_at, None);
    }
}
