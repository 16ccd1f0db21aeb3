//! Resolves the bearer token of an HTTP API request to its principal and passes it on.
//!
//! It never denies: API Gateway would answer a denial with its own 403 shape, while docs/api.md wants
//! 401/403/404 in our error shape, decided by shared handler code from the principal (or its
//! absence). Known tokens are cached for 30 s per warm instance, so a revoked token stops
//! working within 60 s as docs/api.md promises, while most requests cost no DynamoDB read.

use dropship_aws::repo::tokens::{sha256_hex, Tokens};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(30);

/// A resolved principal: its notation and display name.
type Resolved = Option<(String, Option<String>)>;

pub struct Authorizer {
    tokens: Tokens,
    bootstrap_admin_sha256: String,
    /// Token hash -> (when looked up, what it resolved to).
    cache: Mutex<HashMap<String, (Instant, Resolved)>>,
}

/// The bearer token of the request, if it has one.
pub fn bearer(event: &Value) -> Option<&str> {
    let headers = event.get("headers")?.as_object()?;
    let value = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))?
        .1
        .as_str()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 512)
        .then_some(token)
}

/// API Gateway's simple response, always authorized, with the principal when there is one.
pub fn simple_response(principal: Resolved) -> Value {
    match principal {
        Some((p, name)) => {
            json!({"isAuthorized": true, "context": {"principal": p, "name": name.unwrap_or_default()}})
        }
        None => json!({"isAuthorized": true, "context": {}}),
    }
}

impl Authorizer {
    pub fn new(tokens: Tokens, bootstrap_admin_sha256: String) -> Self {
        Self {
            tokens,
            bootstrap_admin_sha256: bootstrap_admin_sha256.to_lowercase(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn from_env() -> anyhow::Result<Self> {
        let cfg = dropship_aws::config::aws().await;
        let tokens = Tokens::new(
            aws_sdk_dynamodb_client(&cfg),
            dropship_aws::config::env("TOKENS_TABLE")?,
        );
        Ok(Self::new(
            tokens,
            dropship_aws::config::env("BOOTSTRAP_ADMIN_TOKEN_SHA256")?,
        ))
    }

    async fn resolve(&self, token: &str) -> anyhow::Result<Resolved> {
        let hash = sha256_hex(token);
        // Comparing hashes, not tokens, in constant time: how long the comparison takes says
        // nothing about how much of the hash matched. (Stored tokens are found by their hash as
        // the table key: no secret is compared in our code at all.)
        if constant_time_eq(hash.as_bytes(), self.bootstrap_admin_sha256.as_bytes()) {
            return Ok(Some(("admin".into(), Some("bootstrap".into()))));
        }
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, hit)) = cache.get(&hash) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(hit.clone());
                }
            }
        }
        let found = self
            .tokens
            .find_token(token)
            .await?
            .map(|r| (r.principal, r.name));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// Handles one authorizer event. A lookup failure is an error (API Gateway answers 500), never
    /// a silent "anonymous", so an outage cannot look like a wrong token.
    pub async fn handle(&self, event: Value) -> anyhow::Result<Value> {
        let principal = match bearer(&event) {
            Some(token) => self.resolve(token).await?,
            None => None,
        };
        Ok(simple_response(principal))
    }
}

fn aws_sdk_dynamodb_client(cfg: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(cfg)
}

/// Equality that looks at every byte whatever the first difference (lengths are public).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn reads_the_bearer_token_case_insensitively() {
        let e = json!({"headers": {"authorization": "Bearer abc"}});
        assert_eq!(bearer(&e), Some("abc"));
        let e = json!({"headers": {"Authorization": "bearer abc"}});
        assert_eq!(bearer(&e), Some("abc"));
        for h in ["Basic abc", "Bearer ", "abc"] {
            assert_eq!(
                bearer(&json!({"headers": {"authorization": h}})),
                None,
                "{h}"
            );
        }
        assert_eq!(bearer(&json!({})), None);
    }

    #[test]
    fn never_denies() {
        assert_eq!(
            simple_response(None),
            json!({"isAuthorized": true, "context": {}})
        );
        let r = simple_response(Some(("channel:web".into(), None)));
        assert_eq!(r["context"]["principal"], "channel:web");
    }
}
