//! The dropshipper portal's sign-ins, kept in the tokens table beside the API tokens, every
//! secret stored only as its SHA-256 hash (`expiresAtEpoch` is the table's TTL attribute; expiry
//! is also checked in code since TTL deletion is lazy).
//! Keys (pk): `PORTALSESSION#<sha256>` -> a signed-in fulfiller until `expiresAt`;
//! `PORTALLINK#<sha256>` and `PORTALMAIL#<fulfillerId>` -> a one-time sign-in link and its mail
//! throttle (`sign_in_links`).
//! Access: put / get / delete by hash; put-if-older for the throttle. Sign-in by mail address
//! also reads the catalogue's `FULFILLER` partition (one query: a retailer has tens of fulfillers).

use super::sign_in_links::SignInLinks;
use super::tokens::{new_secret, sha256_hex};
use super::{from_item, s, to_item};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use dropship_core::catalogue::Fulfiller;
use dropship_core::ids::FulfillerId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalSession {
    pub fulfiller_id: FulfillerId,
    /// The API token the session was opened with, if any: revoking it ends the session too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expires_at_epoch: i64,
}

#[derive(Clone, Debug)]
pub struct PortalSessions {
    client: aws_sdk_dynamodb::Client,
    tokens_table: String,
    catalogue_table: String,
    links: SignInLinks,
}

impl PortalSessions {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        tokens_table: String,
        catalogue_table: String,
    ) -> Self {
        Self {
            links: SignInLinks::new(client.clone(), tokens_table.clone(), "PORTAL"),
            client,
            tokens_table,
            catalogue_table,
        }
    }

    /// Opens a session for `fulfiller_id` valid `ttl`; returns the secret for the cookie.
    pub async fn open(
        &self,
        fulfiller_id: &FulfillerId,
        token_id: Option<String>,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let secret = new_secret();
        let expires_at = now + ttl;
        let session = PortalSession {
            fulfiller_id: fulfiller_id.clone(),
            token_id,
            created_at: now,
            expires_at,
            expires_at_epoch: expires_at.timestamp(),
        };
        let pk = format!("PORTALSESSION#{}", sha256_hex(&secret));
        self.client
            .put_item()
            .table_name(&self.tokens_table)
            .set_item(Some(to_item(&session, &[("pk", &pk)])?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .context("storing a portal session")?;
        Ok(secret)
    }

    /// The live session a cookie names: none when unknown, expired, or opened with an API token
    /// that has been revoked since.
    pub async fn find(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<PortalSession>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tokens_table)
            .key("pk", s(format!("PORTALSESSION#{}", sha256_hex(secret))))
            .consistent_read(true)
            .send()
            .await
            .context("reading a portal session")?;
        let Some(session) = out
            .item
            .map(from_item::<PortalSession>)
            .transpose()?
            .filter(|s| s.expires_at > now)
        else {
            return Ok(None);
        };
        if let Some(token_id) = &session.token_id {
            let token = self
                .client
                .get_item()
                .table_name(&self.tokens_table)
                .key("pk", s(format!("TOKENID#{token_id}")))
                .consistent_read(true)
                .send()
                .await
                .context("checking the session's token")?;
            if token.item.is_none() {
                return Ok(None);
            }
        }
        Ok(Some(session))
    }

    /// Ends a session (sign-out); ending an unknown one is fine.
    pub async fn close(&self, secret: &str) -> anyhow::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.tokens_table)
            .key("pk", s(format!("PORTALSESSION#{}", sha256_hex(secret))))
            .send()
            .await
            .context("ending a portal session")?;
        Ok(())
    }

    /// A one-time sign-in link secret for `fulfiller_id`, valid `ttl`.
    pub async fn mint_link(
        &self,
        fulfiller_id: &FulfillerId,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        self.links.mint(fulfiller_id.as_str(), now, ttl).await
    }

    /// Uses up a sign-in link: the fulfiller it signs in, once (see `SignInLinks::consume`).
    pub async fn consume_link(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<FulfillerId>> {
        Ok(self
            .links
            .consume(secret, now)
            .await?
            .and_then(|f| FulfillerId::try_from(f).ok()))
    }

    /// Claims the right to mail `fulfiller_id` a sign-in link: at most one per `every`.
    pub async fn claim_mail(
        &self,
        fulfiller_id: &FulfillerId,
        now: DateTime<Utc>,
        every: Duration,
    ) -> anyhow::Result<bool> {
        self.links
            .claim_mail(fulfiller_id.as_str(), now, every)
            .await
    }

    /// The fulfillers whose mail address is `email` (compared without case).
    pub async fn fulfillers_with_email(&self, email: &str) -> anyhow::Result<Vec<Fulfiller>> {
        let all =
            super::catalogue::Catalogue::new(self.client.clone(), self.catalogue_table.clone())
                .all_fulfillers()
                .await?;
        let wanted = email.trim().to_lowercase();
        Ok(all
            .into_iter()
            .filter(|f| f.email.to_lowercase() == wanted)
            .collect())
    }
}
