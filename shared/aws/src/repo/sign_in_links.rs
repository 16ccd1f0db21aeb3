//! One-time sign-in links mailed to a person of a site (the portal's fulfillers, the console's
//! staff), kept in the tokens table, the secret stored only as its SHA-256 hash
//! (`expiresAtEpoch` is the table's TTL attribute; expiry is also checked in code).
//! Keys (pk): `<SITE>LINK#<sha256>` -> whom the link signs in, consumed by one conditional
//! delete; `<SITE>MAIL#<subject>` -> when the last link was mailed to them (a throttle).

use super::tokens::{new_secret, sha256_hex};
use super::{from_item, is_condition_failure, n, s, to_item};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInLink {
    /// Whom it signs in: a fulfiller id (portal) or a staff principal (console). Links minted
    /// before the console named the field `fulfillerId`.
    #[serde(alias = "fulfillerId")]
    subject: String,
    expires_at: DateTime<Utc>,
    expires_at_epoch: i64,
}

#[derive(Clone, Debug)]
pub struct SignInLinks {
    client: aws_sdk_dynamodb::Client,
    tokens_table: String,
    /// The key prefix of the site: `PORTAL` or `CONSOLE`, so a link of one site is no link of
    /// the other.
    site: &'static str,
}

impl SignInLinks {
    pub fn new(client: aws_sdk_dynamodb::Client, tokens_table: String, site: &'static str) -> Self {
        Self {
            client,
            tokens_table,
            site,
        }
    }

    /// A one-time sign-in link secret for `subject`, valid `ttl`.
    pub async fn mint(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let secret = new_secret();
        let expires_at = now + ttl;
        let link = SignInLink {
            subject: subject.to_string(),
            expires_at,
            expires_at_epoch: expires_at.timestamp(),
        };
        let pk = format!("{}LINK#{}", self.site, sha256_hex(&secret));
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

    /// Uses up a sign-in link: whom it signs in, once. The delete is the claim, so two
    /// concurrent uses cannot both succeed; an expired link is deleted and refused.
    pub async fn consume(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<String>> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.tokens_table)
            .key("pk", s(format!("{}LINK#{}", self.site, sha256_hex(secret))))
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
                Ok(link.filter(|l| l.expires_at > now).map(|l| l.subject))
            }
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(e).context("using a sign-in link"),
        }
    }

    /// Claims the right to mail `subject` a sign-in link: at most one per `every`, so the form
    /// cannot be used to flood an inbox.
    pub async fn claim_mail(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        every: Duration,
    ) -> anyhow::Result<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.tokens_table)
            .item("pk", s(format!("{}MAIL#{subject}", self.site)))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_minted_before_the_console_still_names_its_fulfiller() {
        let old: SignInLink = serde_json::from_value(serde_json::json!({"fulfillerId": "acme",
            "expiresAt": "2026-12-01T10:00:00Z", "expiresAtEpoch": 1}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.subject, "acme");
    }
}
