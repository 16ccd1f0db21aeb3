//! The console's sign-ins. A console session *is* an API token of the staff member (or the
//! owner's `admin`), made at sign-in with an end (`TokenRecord::expires_at`) and marked
//! `consoleSession`: the browser holds its secret in an HttpOnly cookie, the console presents
//! it to the HTTP API as a bearer token, so every rule, audit line and limit of the API applies
//! to the console unchanged. Signing out revokes it. Mailed one-time links are `CONSOLELINK#`
//! items (`sign_in_links`); staff are found by mail address in the catalogue's `STAFF`
//! partition (a retailer has tens of staff).

use super::catalogue::Catalogue;
use super::sign_in_links::SignInLinks;
use super::tokens::{new_secret, TokenRecord, Tokens};
use chrono::{DateTime, Duration, Utc};
use dropship_core::staff::StaffMember;

/// How many pages of the staff list a mail address is looked up in (100 members each).
const MAX_STAFF_PAGES: usize = 50;

#[derive(Clone, Debug)]
pub struct ConsoleSessions {
    tokens: Tokens,
    catalogue: Catalogue,
    pub links: SignInLinks,
}

impl ConsoleSessions {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        tokens_table: String,
        catalogue_table: String,
    ) -> Self {
        Self {
            tokens: Tokens::new(client.clone(), tokens_table.clone()),
            catalogue: Catalogue::new(client.clone(), catalogue_table),
            links: SignInLinks::new(client, tokens_table, "CONSOLE"),
        }
    }

    /// Opens a session of `principal` (`admin` or `staff:<id>`, in the token notation) valid
    /// `ttl`, ending early when the token `opened_with` is revoked; returns its secret, the
    /// cookie's value and the bearer token of its API calls.
    pub async fn open(
        &self,
        principal: &str,
        name: &str,
        opened_with: Option<String>,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let secret = new_secret();
        let end = now + ttl;
        let record = TokenRecord {
            token_id: format!("tok_{}", uuid::Uuid::new_v4().simple()),
            principal: principal.to_string(),
            name: Some(name.to_string()),
            created_at: now,
            created_by: Some("console sign-in".to_string()),
            last_used_at: None,
            expires_at: Some(end),
            expires_at_epoch: Some(end.timestamp()),
            console_session: true,
            opened_with,
        };
        self.tokens.create_token(&secret, &record).await?;
        Ok(secret)
    }

    /// The live session a cookie names: none when unknown, ended, revoked, or an API token
    /// that is not a console session's (an API token in the cookie opens nothing).
    pub async fn find(&self, secret: &str) -> anyhow::Result<Option<TokenRecord>> {
        Ok(self
            .tokens
            .find_token(secret)
            .await?
            .filter(|t| t.console_session))
    }

    /// An API token a person signs in with (not a session's: a session opens no other).
    pub async fn find_api_token(&self, token: &str) -> anyhow::Result<Option<TokenRecord>> {
        Ok(self
            .tokens
            .find_token(token)
            .await?
            .filter(|t| !t.console_session))
    }

    /// Ends a session (sign-out): its token is revoked. Ending an unknown one is fine.
    pub async fn close(&self, secret: &str) -> anyhow::Result<()> {
        if let Some(session) = self.find(secret).await? {
            self.tokens.revoke(&session.token_id).await?;
        }
        Ok(())
    }

    /// The active staff members whose mail address is `email` (compared without case).
    pub async fn staff_with_email(&self, email: &str) -> anyhow::Result<Vec<StaffMember>> {
        let wanted = email.trim().to_lowercase();
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_STAFF_PAGES {
            let Some(page) = self
                .catalogue
                .staff_page(Some(true), 100, next.as_deref())
                .await?
            else {
                break;
            };
            found.extend(
                page.items
                    .into_iter()
                    .filter(|m| m.email.to_lowercase() == wanted),
            );
            match page.next_token {
                Some(t) => next = Some(t),
                None => break,
            }
        }
        Ok(found)
    }
}
