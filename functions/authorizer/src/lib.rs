//! Resolves the bearer token of an HTTP API request to its principal and passes it on.
//!
//! It never denies: API Gateway would answer a denial with its own 403 shape, while docs/api.md wants
//! 401/403/404 in our error shape, decided by shared handler code from the principal (or its
//! absence). Known tokens are cached for 30 s per warm instance, so a revoked token stops
//! working within 60 s as docs/api.md promises, while most requests cost no DynamoDB read.

mod config;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
pub use config::Config;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::tokens::{sha256_hex, Tokens};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(30);

/// A resolved principal: its notation, display name and, for staff, role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: String,
    pub name: Option<String>,
    pub role: Option<String>,
}

type Resolved = Option<Caller>;

pub struct Authorizer {
    tokens: Tokens,
    /// Staff members: a staff token's role, and whether its member is still active.
    catalogue: Catalogue,
    bootstrap_admin_sha256: String,
    /// Token hash -> (when looked up, what it resolved to).
    cache: Mutex<HashMap<String, (Instant, Resolved)>>,
}

/// What the handlers read from `requestContext.authorizer.lambda`: the principal and its display
/// name, or nothing for an anonymous request (`{}`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// API Gateway's simple authorizer response carrying our context.
pub type Response = ApiGatewayV2CustomAuthorizerSimpleResponse<PrincipalContext>;

/// The bearer token of the request, if it has one (header names are case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 512)
        .then_some(token)
}

/// API Gateway's simple response, always authorized, with the principal when there is one.
pub fn simple_response(principal: Resolved) -> Response {
    let mut response = Response::default();
    response.is_authorized = true;
    if let Some(caller) = principal {
        response.context = PrincipalContext {
            principal: Some(caller.principal),
            name: Some(caller.name.unwrap_or_default()),
            role: caller.role,
        };
    }
    response
}

impl dropship_aws::config::FromConfig for Authorizer {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb_client(cfg);
        let tokens = Tokens::new(ddb.clone(), config.tokens_table.clone());
        let catalogue = Catalogue::new(ddb, config.catalogue_table.clone());
        Ok(Self::new(
            tokens,
            catalogue,
            config.bootstrap_admin_token_sha256.clone(),
        ))
    }
}

impl Authorizer {
    pub fn new(tokens: Tokens, catalogue: Catalogue, bootstrap_admin_sha256: String) -> Self {
        Self {
            tokens,
            catalogue,
            bootstrap_admin_sha256: bootstrap_admin_sha256.to_lowercase(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    async fn resolve(&self, token: &str) -> anyhow::Result<Resolved> {
        let hash = sha256_hex(token);
        // Comparing hashes, not tokens, in constant time: how long the comparison takes says
        // nothing about how much of the hash matched. (Stored tokens are found by their hash as
        // the table key: no secret is compared in our code at all.)
        if constant_time_eq(hash.as_bytes(), self.bootstrap_admin_sha256.as_bytes()) {
            return Ok(Some(Caller {
                principal: "admin".into(),
                name: Some("bootstrap".into()),
                role: None,
            }));
        }
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, hit)) = cache.get(&hash) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(hit.clone());
                }
            }
        }
        let found = match self.tokens.find_token(token).await? {
            Some(record) => {
                // At most once per token and container in CACHE_TTL: when it was last used.
                if let Err(e) = self.tokens.touch(&hash, chrono::Utc::now()).await {
                    tracing::warn!(token_id = %record.token_id, error = %format!("{e:#}"), "lastUsedAt not written");
                }
                self.caller(record.principal, record.name).await?
            }
            None => None,
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// Who a stored token's principal is now: a staff token takes its member's name and role,
    /// and is nobody (401) while the member is inactive or gone.
    async fn caller(&self, principal: String, name: Option<String>) -> anyhow::Result<Resolved> {
        let Some(staff_id) = principal.strip_prefix("staff:") else {
            return Ok(Some(Caller {
                principal,
                name,
                role: None,
            }));
        };
        Ok(match self.catalogue.get_staff(staff_id).await? {
            Some(member) if member.active => Some(Caller {
                principal,
                name: Some(member.name),
                role: Some(member.role.as_str().to_string()),
            }),
            _ => None,
        })
    }

    /// Handles one authorizer event. A lookup failure is an error (API Gateway answers 500), never
    /// a silent "anonymous", so an outage cannot look like a wrong token.
    pub async fn handle(
        &self,
        event: ApiGatewayV2CustomAuthorizerV2Request,
    ) -> anyhow::Result<Response> {
        let principal = match bearer(&event.headers) {
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

    use serde_json::{json, Value};

    /// An authorizer event as API Gateway sends it (the sample in events/), with these headers.
    fn event(headers: Value) -> ApiGatewayV2CustomAuthorizerV2Request {
        let mut e: Value =
            serde_json::from_str(include_str!("../../../events/authorizer.json")).unwrap();
        e["headers"] = headers;
        serde_json::from_value(e).unwrap()
    }

    #[test]
    fn reads_the_bearer_token_case_insensitively() {
        let e = event(json!({"authorization": "Bearer abc"}));
        assert_eq!(bearer(&e.headers), Some("abc"));
        let e = event(json!({"Authorization": "bearer abc"}));
        assert_eq!(bearer(&e.headers), Some("abc"));
        for h in ["Basic abc", "Bearer ", "abc"] {
            assert_eq!(
                bearer(&event(json!({"authorization": h})).headers),
                None,
                "{h}"
            );
        }
        assert_eq!(bearer(&event(json!({})).headers), None);
    }

    #[test]
    fn reads_the_sample_event() {
        let e: ApiGatewayV2CustomAuthorizerV2Request =
            serde_json::from_str(include_str!("../../../events/authorizer.json")).unwrap();
        assert_eq!(
            bearer(&e.headers),
            Some("3f9a1c7e0b2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f")
        );
    }

    #[test]
    fn never_denies() {
        assert_eq!(
            serde_json::to_value(simple_response(None)).unwrap(),
            json!({"isAuthorized": true, "context": {}})
        );
        let caller = |p: &str, name: Option<&str>, role: Option<&str>| Caller {
            principal: p.into(),
            name: name.map(String::from),
            role: role.map(String::from),
        };
        assert_eq!(
            serde_json::to_value(simple_response(Some(caller("channel:web", None, None)))).unwrap(),
            json!({"isAuthorized": true, "context": {"principal": "channel:web", "name": ""}})
        );
        assert_eq!(
            serde_json::to_value(simple_response(Some(caller(
                "admin",
                Some("bootstrap"),
                None
            ))))
            .unwrap(),
            json!({"isAuthorized": true, "context": {"principal": "admin", "name": "bootstrap"}})
        );
        assert_eq!(
            serde_json::to_value(simple_response(Some(caller(
                "staff:anna",
                Some("Anna"),
                Some("service")
            ))))
            .unwrap(),
            json!({"isAuthorized": true, "context": {"principal": "staff:anna", "name": "Anna", "role": "service"}})
        );
    }
}
