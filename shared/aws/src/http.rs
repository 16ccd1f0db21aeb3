//! HTTP API plumbing shared by every HTTP function: who is calling, the body (400/413), path
//! and query parameters, JSON responses and docs/api.md's error shape.

use dropship_core::{ApiError, Principal};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::future::Future;

pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What a route handler can end in: an answer for the client, or an internal failure that is
/// logged in full and answered with a bare 500.
#[derive(Debug)]
pub enum HandlerError {
    Api(ApiError),
    Internal(anyhow::Error),
}

impl From<ApiError> for HandlerError {
    fn from(e: ApiError) -> Self {
        HandlerError::Api(e)
    }
}

impl From<anyhow::Error> for HandlerError {
    fn from(e: anyhow::Error) -> Self {
        HandlerError::Internal(e)
    }
}

pub type HandlerResult = Result<Response<Body>, HandlerError>;

/// The principal the authorizer resolved (`context.principal`), if any.
pub fn principal(req: &Request) -> Option<Principal> {
    let ctx = match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx,
        _ => return None,
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    let notation = fields.get("principal")?.as_str()?;
    let name = fields.get("name").and_then(|n| n.as_str());
    let role = fields.get("role").and_then(|r| r.as_str());
    Principal::parse_with_role(notation, name, role)
}

/// The JSON body: 413 over 256 KiB, 400 when it is not JSON.
pub fn json_body(req: &Request) -> Result<serde_json::Value, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large());
    }
    if bytes.is_empty() {
        return Err(ApiError::malformed(
            "the request body must be a JSON document",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))
}

/// A path parameter the route declares.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::not_found("route parameter"))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// `?limit=` per docs/api.md: default 50, 1..200.
pub fn limit(req: &Request) -> Result<i32, ApiError> {
    match query_param(req, "limit") {
        None => Ok(50),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "limit must be an integer 1..200")),
    }
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

pub fn json<T: Serialize>(status: u16, value: &T) -> HandlerResult {
    let body = serde_json::to_string(value).map_err(|e| HandlerError::Internal(e.into()))?;
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .map_err(|e| HandlerError::Internal(e.into()))
}

/// A text document that is not JSON (an XML or SVG picture), not to be sniffed as anything else.
pub fn text(status: u16, content_type: &str, body: String) -> HandlerResult {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-content-type-options", "nosniff")
        .body(Body::from(body))
        .map_err(|e| HandlerError::Internal(e.into()))
}

pub fn redirect(location: &str) -> HandlerResult {
    Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .map_err(|e| HandlerError::Internal(e.into()))
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut resp = Response::new(Body::from(e.body()));
    *resp.status_mut() =
        http::StatusCode::from_u16(e.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// Runs a route handler and renders its failure: API errors as they are, internal ones as a
/// logged 500 (the cause chain goes to the log, never to the client).
pub async fn respond<F>(fut: F) -> Result<Response<Body>, lambda_http::Error>
where
    F: Future<Output = HandlerResult>,
{
    match fut.await {
        Ok(r) => Ok(r),
        Err(HandlerError::Api(e)) => {
            if e.status >= 500 {
                tracing::error!(code = %e.code, "request failed: {}", e.message);
            }
            Ok(error_response(&e))
        }
        Err(HandlerError::Internal(e)) => {
            tracing::error!(error = %format!("{e:#}"), "request failed");
            Ok(error_response(&ApiError::internal()))
        }
    }
}

/// The route key API Gateway matched, e.g. `PUT /admin/channels/{channelId}`.
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// The status a handler's result answers with (500 for an internal failure).
pub fn status_of(result: &HandlerResult) -> u16 {
    match result {
        Ok(r) => r.status().as_u16(),
        Err(HandlerError::Api(e)) => e.status,
        Err(HandlerError::Internal(_)) => 500,
    }
}

/// The ids in the route, in the template's order and `/`-joined: `ord_1`, `DE/standard`.
fn route_target(req: &Request, route_key: &str) -> Option<String> {
    let params = req.path_parameters_ref()?;
    let ids: Vec<&str> = route_key
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .filter_map(|(name, _)| params.first(name.trim_end_matches('+')))
        .collect();
    (!ids.is_empty()).then(|| ids.join("/"))
}

/// The audit log's line for this request, when it is one the log keeps
/// (`dropship_core::principal::is_audited`).
pub fn audit_entry(req: &Request, status: u16) -> Option<crate::repo::audit::AuditEntry> {
    let principal = principal(req);
    let method = req.method().as_str();
    if !dropship_core::principal::is_audited(principal.as_ref(), method, status) {
        return None;
    }
    let principal = principal?;
    let name = match &principal {
        Principal::Admin { name } | Principal::Staff { name, .. } => Some(name.clone()),
        _ => None,
    };
    let action = route_key(req);
    let request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    Some(crate::repo::audit::AuditEntry {
        at: chrono::Utc::now(),
        principal: principal.notation(),
        name,
        target: route_target(req, &action),
        action,
        outcome: status,
        request_id,
    })
}

/// Writes the request's audit line, if it has one. The answer is already decided and any
/// change committed, so a failed write cannot undo it: it is logged and counted
/// (`AuditWritesFailed`, whose alarm tells operations) and the answer goes out.
pub async fn audit(log: &crate::repo::audit::AuditLog, req: &Request, result: &HandlerResult) {
    if let Some(entry) = audit_entry(req, status_of(result)) {
        if let Err(e) = log.record(&entry).await {
            tracing::error!(
                error = %format!("{e:#}"),
                principal = %entry.principal,
                action = %entry.action,
                target = ?entry.target,
                outcome = entry.outcome,
                request_id = %entry.request_id,
                "audit write failed"
            );
            crate::metrics::audit_writes_failed(1);
        }
    }
}
