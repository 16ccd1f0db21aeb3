//! The Lambda REQUEST authorizer (payload 2.0, simple responses): the identity sources must
//! be present, then the authorizer function decides, and its context reaches the route's
//! function. Separate because it is a second invocation with its own event and answers.

use std::time::Duration;

use axum::body::Bytes;
use serde_json::{json, Value};

use super::event::RequestInfo;
use super::{Authorizer, API_ID};
use crate::template::{ACCOUNT_ID, REGION};

pub(super) enum AuthDecision {
    Allow(Value),
    Deny,
    MissingIdentity,
    Failed,
}

pub(super) async fn authorize(
    a: &Authorizer,
    req: &RequestInfo,
    context: &Value,
    timeout: Duration,
) -> AuthDecision {
    let headers = req.header_map();
    let query = req.query_map();
    let mut identity = Vec::new();
    for h in &a.identity_headers {
        match headers.get(&h.to_ascii_lowercase()) {
            Some(v) => identity.push(v.clone()),
            None => return AuthDecision::MissingIdentity,
        }
    }
    for q in &a.identity_query {
        match query.get(q) {
            Some(v) => identity.push(v.clone()),
            None => return AuthDecision::MissingIdentity,
        }
    }
    let mut event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/$default/{}{}",
            req.method, req.raw_path
        ),
        "identitySource": identity,
        "routeKey": req.route_key,
        "rawPath": req.raw_path,
        "rawQueryString": req.raw_query,
        "headers": headers,
        "requestContext": context,
    });
    req.add_optional(&mut event, &query);
    let out = match a.pool.invoke(Bytes::from(event.to_string()), timeout).await {
        Ok(out) => out,
        Err(e) => {
            tracing::warn!(authorizer = %a.name, "authorizer failed: {e}");
            return AuthDecision::Failed;
        }
    };
    let parsed: Value = match serde_json::from_slice(&out) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(authorizer = %a.name, "authorizer response is not JSON: {e}");
            return AuthDecision::Failed;
        }
    };
    match parsed.get("isAuthorized").and_then(Value::as_bool) {
        Some(true) => AuthDecision::Allow(parsed.get("context").cloned().unwrap_or(Value::Null)),
        Some(false) => AuthDecision::Deny,
        None => {
            tracing::warn!(authorizer = %a.name, "authorizer response lacks a boolean isAuthorized");
            AuthDecision::Failed
        }
    }
}
