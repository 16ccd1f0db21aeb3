//! A request to one of the template's routes, as API Gateway handles it: pick the route,
//! read the body, run the route's authorizer, invoke the function with the payload 2.0 event
//! and map its answer, with API Gateway's error shapes at each step that can fail.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::HeaderValue;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;

use super::authorizer::{authorize, AuthDecision};
use super::event::RequestInfo;
use super::response::map_response;
use super::{message, starting, ApiState, Route};
use crate::lambda::InvokeError;
use crate::template::RoutePattern;

/// API Gateway's payload limit for HTTP APIs.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// Path parameters by name.
pub type PathParams = BTreeMap<String, String>;

/// Picks the route API Gateway would: the most specific path, then an exact method over ANY.
pub fn select_route<'a>(
    routes: impl IntoIterator<Item = (usize, &'a str, &'a RoutePattern)>,
    method: &str,
    path: &str,
) -> Option<(usize, PathParams)> {
    // (rank, index, params) of the best match so far.
    let mut best: Option<((Vec<u8>, bool), usize, PathParams)> = None;
    for (i, route_method, pattern) in routes {
        if route_method != method && route_method != "ANY" {
            continue;
        }
        let Some(params) = pattern.matches(path) else {
            continue;
        };
        let rank = (pattern.specificity(), route_method == method);
        if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
            best = Some((rank, i, params));
        }
    }
    best.map(|(_, i, params)| (i, params))
}

pub(super) async fn proxy(
    State(state): State<Arc<ApiState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let raw_path = parts.uri.path().to_string();
    let Some((index, path_params)) = select_route(
        w.routes
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.method.as_str(), &r.pattern)),
        &method,
        &raw_path,
    ) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let route = &w.routes[index];
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let request_id = api_request_id();
    let req = RequestInfo {
        method,
        raw_path,
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers,
        source_ip: peer.ip().to_string(),
        request_id: request_id.clone(),
        route_key: route.route_key(),
        path_params,
    };
    let mut response = handle(route, &req, body).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    response
}

async fn handle(route: &Route, req: &RequestInfo, body: Bytes) -> Response {
    let mut context = req.request_context();
    if let Some(authorizer) = &route.authorizer {
        match authorize(authorizer, req, &context, route.timeout).await {
            AuthDecision::Allow(lambda_context) => {
                context["authorizer"] = json!({ "lambda": lambda_context });
            }
            AuthDecision::Deny => return message(StatusCode::FORBIDDEN, "Forbidden"),
            AuthDecision::MissingIdentity => {
                return message(StatusCode::UNAUTHORIZED, "Unauthorized")
            }
            AuthDecision::Failed => {
                return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }
    let event = req.event(context, &body);
    let payload = Bytes::from(event.to_string());
    match route.pool.invoke(payload, route.timeout).await {
        Ok(out) => map_response(&out).unwrap_or_else(|why| {
            tracing::warn!(route = %req.route_key, "malformed function response: {why}");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }),
        Err(InvokeError::NoResult(_)) => {
            tracing::warn!(route = %req.route_key, "integration timed out after {:?}", route.timeout);
            message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        }
        Err(e) => {
            tracing::debug!(route = %req.route_key, "function failed: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

fn api_request_id() -> String {
    let id = uuid::Uuid::new_v4();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&id.as_bytes()[..10]);
    b64.trim_end_matches('=').to_string() + "="
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(list: &[(&str, &str)]) -> Vec<(String, RoutePattern)> {
        list.iter()
            .map(|(m, p)| (m.to_string(), RoutePattern::parse(p).expect("pattern")))
            .collect()
    }

    fn pick(rs: &[(String, RoutePattern)], method: &str, path: &str) -> Option<usize> {
        select_route(
            rs.iter().enumerate().map(|(i, (m, p))| (i, m.as_str(), p)),
            method,
            path,
        )
        .map(|(i, _)| i)
    }

    #[test]
    fn route_selection_prefers_specific_paths_and_exact_methods() {
        let rs = routes(&[
            ("GET", "/orders/{orderId}"),
            ("GET", "/orders/export"),
            ("ANY", "/orders/export"),
            ("POST", "/orders"),
            ("GET", "/files/{proxy+}"),
            ("ANY", "$default"),
        ]);
        assert_eq!(pick(&rs, "GET", "/orders/o-1"), Some(0));
        assert_eq!(pick(&rs, "GET", "/orders/export"), Some(1));
        assert_eq!(pick(&rs, "DELETE", "/orders/export"), Some(2));
        assert_eq!(pick(&rs, "POST", "/orders"), Some(3));
        assert_eq!(pick(&rs, "GET", "/files/a/b"), Some(4));
        assert_eq!(pick(&rs, "GET", "/nowhere"), Some(5));
        let without_default = &rs[..5];
        assert_eq!(pick(without_default, "GET", "/nowhere"), None);
        assert_eq!(pick(without_default, "PUT", "/orders"), None);
        let (_, params) = select_route(
            rs.iter().enumerate().map(|(i, (m, p))| (i, m.as_str(), p)),
            "GET",
            "/orders/a%20b",
        )
        .expect("match");
        assert_eq!(params["orderId"], "a b");
    }
}
