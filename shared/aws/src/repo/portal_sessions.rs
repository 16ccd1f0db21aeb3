//! The dropshipper portal's sign-ins, kept in the tokens table beside the API tokens, every
//! secret stored only as its SHA-256 hash (`expiresAtEpoch` is the table's TTL attribute; expiry
//! is also checked in code since TTL deletion is lazy).
//! Keys (pk): `PORTALSESSION#<sha256>` -> a signed-in fulfiller until `expiresAt`;
//! `PORTALLINK#<sha256>` -> a one-time sign-in link, consumed by one conditional delete;
//! `PORTALMAIL#<fulfillerId>` -> when the last sign-in link was mailed (a throttle).
//! Access: put / get / delete by hash; put-if-older for the throttle. Sign-in by mail address
//! also reads the catalogue's `FULFILLER` partition (one query: a retailer has tens of fulfillers).

use super::tokens::{new_secret, sha256_hex};
use super::{from_item, is_condition_failure, n, s, to_item};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInLink {
    fulfiller_id: FulfillerId,
    expires_at: DateTime<Utc>,
    expires_at_epoch: i64,
}

#[derive(Clone, Debug)]
pub struct PortalSessions {
    client: aws_sdk_dynamodb::Client,
    tokens_table: String,
    catalogue_table: String,
}

impl PortalSessions {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        tokens_table: String,
        catalogue_table: String,
    ) -> Self {
        Self {
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
        let secret = new_secret();
        let expires_at = now + ttl;
        let link = SignInLink {
            fulfiller_id: fulfiller_id.clone(),
            expires_at,
            expires_at_epoch: expires_at.timestamp(),
        };
        let pk = format!("PORTALLINK#{}", sha256_hex(&secret));
        self.client
            .put_item()
            .table_name(&self.tokens_table)
            .set_item(Some(to_item(&link, &[("pk", &pk)])?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .context("storing a sign-in link")?;
        Ok(secret)
    }

    /// Uses up a sign-in link: the fulfiller it signs in, once. The delete is the claim, so two
    /// concurrent uses cannot both succeed; an expired link is deleted and refused.
    pub async fn consume_link(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<FulfillerId>> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.tokens_table)
            .key("pk", s(format!("PORTALLINK#{}", sha256_hex(secret))))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => {
                let link: Option<SignInLink> = out
                    .attributes
                    .filter(|a| !a.is_empty())
                    .map(from_item)
                    .transpose()?;
                Ok(link.filter(|l| l.expires_at > now).map(|l| l.fulfiller_id))
            }
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(e).context("using a sign-in link"),
        }
    }

    /// Claims the right to mail `fulfiller_id` a sign-in link: at most one per `every`, so the
    /// form cannot be used to flood a fulfiller's inbox.
    pub async fn claim_mail(
        &self,
        fulfiller_id: &FulfillerId,
        now: DateTime<Utc>,
        every: Duration,
    ) -> anyhow::Result<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.tokens_table)
            .item("pk", s(format!("PORTALMAIL#{fulfiller_id}")))
            .item("sentAtEpoch", n(now.timestamp()))
            .item("expiresAtEpoch", n((now + every).timestamp()))
            .condition_expression("attribute_not_exists(pk) OR sentAtEpoch < :since")
            .expression_attribute_values(":since", n((now - every).timestamp()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).context("recording a sign-in mail"),
        }
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
