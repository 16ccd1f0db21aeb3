//! The HTTP API: API Gateway HTTP API semantics (payload format 2.0, Lambda REQUEST
//! authorizer with simple responses, route selection, error shapes) in front of the function
//! pools, plus the runner's own `/health` and `/_local/*` endpoints.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::instrument::Instrument;
use crate::lambda::{FunctionPool, InvokeError};
use crate::outbox::Outbox;
use crate::schedules::Trigger;
use crate::template::{percent_decode, RoutePattern, ACCOUNT_ID, REGION};

/// API Gateway's payload limit for HTTP APIs.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// API Gateway's local API id: what `!Ref HttpApi` resolves to.
pub const API_ID: &str = "local";

pub struct Route {
    pub method: String,
    pub pattern: RoutePattern,
    pub pool: Arc<FunctionPool>,
    /// The authorizer that guards the route, if any.
    pub authorizer: Option<Arc<Authorizer>>,
    pub timeout: Duration,
}

impl Route {
    pub fn route_key(&self) -> String {
        match self.pattern {
            RoutePattern::Default => "$default".to_string(),
            _ => format!("{} {}", self.method, self.pattern),
        }
    }
}

pub struct Authorizer {
    pub name: String,
    pub pool: Arc<FunctionPool>,
    pub identity_headers: Vec<String>,
    pub identity_query: Vec<String>,
}

/// Everything the API serves once the stack is up.
pub struct Wiring {
    pub routes: Vec<Route>,
    /// By binary name.
    pub pools: BTreeMap<String, Arc<FunctionPool>>,
    /// By binary name.
    pub schedules: BTreeMap<String, Vec<Arc<Trigger>>>,
    pub outbox: Outbox,
    pub instrument: Arc<Instrument>,
}

#[derive(Default)]
pub struct ApiState {
    /// Set once everything is provisioned and started; until then only /health answers.
    wiring: OnceLock<Arc<Wiring>>,
}

impl ApiState {
    pub fn set_ready(&self, wiring: Wiring) {
        let _ = self.wiring.set(Arc::new(wiring));
    }

    fn ready(&self) -> Option<Arc<Wiring>> {
        self.wiring.get().cloned()
    }
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/_local/outbox", get(outbox))
        .route("/_local/stats", get(stats))
        .route("/_local/schedules/{function}", post(run_schedule))
        .route("/_local/invoke/{function}", post(invoke_function))
        .route(
            "/_local/calls",
            get(calls).put(set_calls).delete(reset_calls),
        )
        .route(
            "/_local/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/_local/functions", get(functions))
        .fallback(proxy)
        .with_state(state)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

fn starting() -> Response {
    message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}

async fn health(State(state): State<Arc<ApiState>>) -> Response {
    match state.ready() {
        Some(_) => Json(json!({"status": "ok"})).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting"})),
        )
            .into_response(),
    }
}

async fn outbox(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    match w.outbox.mails().await {
        Ok(mails) => Json(json!({"items": mails.iter().map(|m| m.to_json()).collect::<Vec<_>>()}))
            .into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": {"code": "emulator_unavailable", "message": format!("{e:#}")}})),
        )
            .into_response(),
    }
}

async fn stats(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let functions: Map<String, Value> = w
        .pools
        .iter()
        .map(|(binary, pool)| {
            let mut v = pool.stats().to_json();
            v["faults"] = w.instrument.faults.counts(binary).to_json();
            (binary.clone(), v)
        })
        .collect();
    Json(json!({ "functions": functions })).into_response()
}

fn local_error(status: StatusCode, code: &str, text: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": text}})),
    )
        .into_response()
}

/// `GET /_local/calls[?samples=1]`: every AWS call by function, service and operation, and
/// each function's recorded invocations (total, AWS and our own time).
async fn calls(
    State(state): State<Arc<ApiState>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let with_samples = q.get("samples").is_some_and(|v| v != "0" && v != "false");
    let mut body = w.instrument.calls.to_json();
    body["proxy"] = json!(w.instrument.proxy);
    for (binary, pool) in &w.pools {
        let inv = pool.invocations_json(with_samples);
        if inv["count"].as_u64().unwrap_or(0) == 0 && body["functions"].get(binary).is_none() {
            continue;
        }
        let f = &mut body["functions"][binary.as_str()];
        if f.is_null() {
            *f = json!({"calls": 0, "ms": 0.0, "services": {}});
        }
        f["invocations"] = inv;
    }
    Json(body).into_response()
}

/// `PUT /_local/calls {"recording": true, "capacity"?: true}`: starts or stops recording.
async fn set_calls(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "expected {\"recording\": true|false, \"capacity\"?: true|false}",
            )
        }
    };
    let flag = |k: &str| v.get(k).and_then(Value::as_bool);
    if flag("recording").is_none() && flag("capacity").is_none() {
        return local_error(
            StatusCode::BAD_REQUEST,
            "invalid",
            "give recording and/or capacity as booleans",
        );
    }
    if flag("recording") == Some(true) && !w.instrument.proxy {
        return local_error(
            StatusCode::CONFLICT,
            "proxy_off",
            "DROPSHIP_AWS_PROXY=0: the functions reach the emulators directly, nothing can be counted",
        );
    }
    w.instrument.calls.set(flag("recording"), flag("capacity"));
    calls(State(state), Query(BTreeMap::new())).await
}

/// `DELETE /_local/calls`: forgets every counted call and recorded invocation.
async fn reset_calls(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    w.instrument.calls.reset();
    for pool in w.pools.values() {
        pool.reset_samples();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn faults(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    Json(w.instrument.faults.to_json()).into_response()
}

/// `POST /_local/faults`: adds a fault rule (see faults.rs and the runner's README).
async fn add_fault(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                &format!("the rule must be JSON: {e}"),
            )
        }
    };
    if v.get("failAws").is_some() && !w.instrument.proxy {
        return local_error(
            StatusCode::CONFLICT,
            "proxy_off",
            "DROPSHIP_AWS_PROXY=0: AWS calls bypass the runner, so none can be failed",
        );
    }
    match w.instrument.faults.add(&v, |f| w.pools.contains_key(f)) {
        Ok(rule) => (StatusCode::CREATED, Json(rule)).into_response(),
        Err(why) => local_error(StatusCode::BAD_REQUEST, "invalid_fault", &why),
    }
}

/// `DELETE /_local/faults`: removes every rule (counts of what they did stay).
async fn clear_faults(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let removed = w.instrument.faults.clear();
    Json(json!({ "removed": removed })).into_response()
}

/// `GET /_local/functions`: each function as the runner starts it (template settings, the
/// resolved environment, its slots' AWS endpoints).
async fn functions(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let items: Vec<Value> = w
        .pools
        .iter()
        .map(|(binary, pool)| {
            let spec = &pool.spec;
            let env: Map<String, Value> = spec
                .env
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let memory = spec
                .env
                .iter()
                .find(|(k, _)| k == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                .and_then(|(_, v)| v.parse::<u64>().ok());
            json!({
                "binary": binary,
                "id": spec.id,
                "path": spec.path.display().to_string(),
                "memoryMb": memory,
                "timeoutMs": spec.timeout.as_millis() as u64,
                "awsEndpoints": pool.slots.iter().filter_map(|s| s.aws_endpoint.clone()).collect::<Vec<_>>(),
                "environment": env,
            })
        })
        .collect();
    Json(json!({ "items": items })).into_response()
}

async fn run_schedule(
    State(state): State<Arc<ApiState>>,
    Path(function): Path<String>,
) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    match w.schedules.get(&function) {
        Some(triggers) => {
            for t in triggers {
                t.fire();
            }
            (
                StatusCode::ACCEPTED,
                Json(json!({"function": function, "invoked": triggers.len()})),
            )
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {
                "code": "not_found",
                "message": format!(
                    "no function `{function}` with a schedule (scheduled: {})",
                    w.schedules.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }})),
        )
            .into_response(),
    }
}

/// Runs one function with the posted event and answers with its result, like
/// `sam local invoke -e events/<function>.json` (`{function}` is the binary name).
async fn invoke_function(
    State(state): State<Arc<ApiState>>,
    Path(function): Path<String>,
    body: Bytes,
) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let Some(pool) = w.pools.get(&function) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "not_found", "message": format!(
                "no function `{function}` (functions: {})",
                w.pools.keys().cloned().collect::<Vec<_>>().join(", ")
            )}})),
        )
            .into_response();
    };
    if serde_json::from_slice::<Value>(&body).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "malformed_json", "message": "the event must be JSON"}})),
        )
            .into_response();
    }
    match pool.invoke(body, Duration::from_secs(900)).await {
        Ok(out) => (StatusCode::OK, [(CONTENT_TYPE, "application/json")], out).into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": {"code": "function_error", "message": e.to_string()}})),
        )
            .into_response(),
    }
}

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

async fn proxy(
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

enum AuthDecision {
    Allow(Value),
    Deny,
    MissingIdentity,
    Failed,
}

async fn authorize(
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

struct RequestInfo {
    method: String,
    raw_path: String,
    raw_query: String,
    headers: HeaderMap,
    source_ip: String,
    request_id: String,
    route_key: String,
    path_params: BTreeMap<String, String>,
}

impl RequestInfo {
    /// Lower-case names; repeated headers joined by commas; cookies travel separately.
    fn header_map(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &self.headers {
            if name == COOKIE {
                continue;
            }
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            out.entry(name.as_str().to_string())
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        out.entry("x-forwarded-for".into())
            .or_insert_with(|| self.source_ip.clone());
        out.entry("x-forwarded-proto".into())
            .or_insert_with(|| "http".into());
        out
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn query_map(&self) -> BTreeMap<String, String> {
        parse_query(&self.raw_query)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    fn request_context(&self) -> Value {
        let now = Utc::now();
        let domain = self
            .header("host")
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let prefix = domain.split('.').next().unwrap_or_default().to_string();
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": prefix,
            "http": {
                "method": self.method,
                "path": self.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.source_ip,
                "userAgent": self.header("user-agent").unwrap_or_default(),
            },
            "requestId": self.request_id,
            "routeKey": self.route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        })
    }

    /// Fields API Gateway leaves out when they would be empty.
    fn add_optional(&self, event: &mut Value, query: &BTreeMap<String, String>) {
        let cookies = self.cookies();
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        if !query.is_empty() {
            event["queryStringParameters"] = json!(query);
        }
        if !self.path_params.is_empty() {
            event["pathParameters"] = json!(self.path_params);
        }
    }

    fn event(&self, context: Value, body: &Bytes) -> Value {
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.raw_path,
            "rawQueryString": self.raw_query,
            "headers": self.header_map(),
            "requestContext": context,
            "isBase64Encoded": false,
        });
        self.add_optional(&mut event, &self.query_map());
        if !body.is_empty() {
            let content_type = self.header("content-type").unwrap_or_default();
            if is_text(&content_type) {
                event["body"] = json!(String::from_utf8_lossy(body));
            } else {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
        event
    }
}

/// Bodies API Gateway passes as text; everything else is base64-encoded.
pub fn is_text(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct.ends_with("+json")
        || ct == "application/x-www-form-urlencoded"
        || ct == "application/xml"
        || ct.ends_with("+xml")
}

/// Decoded query parameters; repeated names joined by commas, as API Gateway does.
pub fn parse_query(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(&k.replace('+', " "));
        let v = percent_decode(&v.replace('+', " "));
        out.entry(k)
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

fn api_request_id() -> String {
    let id = uuid::Uuid::new_v4();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&id.as_bytes()[..10]);
    b64.trim_end_matches('=').to_string() + "="
}

/// Maps a payload-2.0 function response to HTTP, including API Gateway's inference for
/// responses without `statusCode`.
pub fn map_response(out: &[u8]) -> Result<Response, String> {
    let parsed: Value = if out.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(out).map_err(|e| format!("not JSON: {e}"))?
    };
    let structured = parsed.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(obj) = structured else {
        let mut r = Response::new(Body::from(out.to_vec()));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(r);
    };
    let status = obj
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("statusCode is not a valid HTTP status")?;
    let body: Vec<u8> = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("body is not valid base64: {e}"))?
            } else {
                s.clone().into_bytes()
            }
        }
        Some(other) => other.to_string().into_bytes(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &Value| {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => return,
            other => other.to_string(),
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            (Ok(n), Ok(v)) => {
                headers.append(n, v);
            }
            _ => tracing::warn!("dropping invalid response header {name}"),
        }
    };
    if let Some(Value::Object(h)) = obj.get("headers") {
        for (k, v) in h {
            add(k, v);
        }
    }
    if let Some(Value::Object(h)) = obj.get("multiValueHeaders") {
        for (k, vs) in h {
            for v in vs.as_array().into_iter().flatten() {
                add(k, v);
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies {
            add(SET_COOKIE.as_str(), c);
        }
    }
    Ok(response)
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

    #[test]
    fn text_content_types() {
        assert!(is_text("application/json; charset=utf-8"));
        assert!(is_text("text/csv"));
        assert!(is_text("application/problem+json"));
        assert!(is_text("application/x-www-form-urlencoded"));
        assert!(!is_text("application/pdf"));
        assert!(!is_text(""));
    }

    #[test]
    fn query_parameters_join_repeats() {
        let q = parse_query("a=1&a=2&b=x+y&c=%2F&d");
        assert_eq!(q["a"], "1,2");
        assert_eq!(q["b"], "x y");
        assert_eq!(q["c"], "/");
        assert_eq!(q["d"], "");
    }

    #[tokio::test]
    async fn function_responses_map_to_http() {
        let r = map_response(
            br#"{"statusCode": 201, "headers": {"content-type": "application/json", "x-n": 1},
                 "multiValueHeaders": {"x-m": ["a", "b"]}, "cookies": ["s=1", "t=2"],
                 "body": "{\"id\":\"o-1\"}", "isBase64Encoded": false}"#,
        )
        .expect("mapped");
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["x-n"], "1");
        assert_eq!(r.headers().get_all("x-m").iter().count(), 2);
        assert_eq!(r.headers().get_all(SET_COOKIE).iter().count(), 2);
        let body = axum::body::to_bytes(r.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], br#"{"id":"o-1"}"#);

        let r = map_response(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#)
            .expect("mapped");
        let body = axum::body::to_bytes(r.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], b"hi");

        // Without statusCode API Gateway infers 200 + JSON.
        let r = map_response(br#"{"ok": true}"#).expect("inferred");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");

        assert!(map_response(b"not json").is_err());
        assert!(map_response(br#"{"statusCode": 1000}"#).is_err());
    }
}
