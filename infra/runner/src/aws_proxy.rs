//! A small HTTP proxy in front of the emulators, one per warm-instance slot of each function:
//! the slot's process gets it as `AWS_ENDPOINT_URL` (and `_SES`, `_SESV2`), so every AWS call
//! a function makes passes here and is known by function, service and operation (from the
//! SigV4 credential scope, `X-Amz-Target`, the query `Action` or the S3 REST shape), timed
//! against the emulator, attributed to the invocation in flight, and can be failed on purpose
//! (`failAws`) or be the point where a `kill` fault strikes.
//!
//! The port outlives the slot's processes (a replaced instance gets the same one), so a
//! presigned URL a function handed out keeps resolving against the emulator; requests to such
//! URLs are counted apart (they come from clients, not from the function).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::capacity;
use crate::faults::FailKind;
use crate::instrument::{CallRecord, Instrument, PRESIGNED};
use crate::lambda::Slot;
use crate::template::percent_decode;

/// Far above anything a function sends (S3 documents are kilobytes).
const MAX_BODY: usize = 256 * 1024 * 1024;
/// How long a request that met a kill fault is held: its process dies meanwhile.
const KILL_HOLD: Duration = Duration::from_secs(30);

/// Headers that belong to one hop, not to the request (RFC 9110 7.6.1), plus the ones the
/// forwarding client sets itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

pub struct SlotProxy {
    pub function: String,
    pub slot: Arc<Slot>,
    pub instrument: Arc<Instrument>,
}

/// Binds a proxy port; returns it with its endpoint URL.
pub async fn bind() -> Result<(TcpListener, String)> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| anyhow!("cannot bind an AWS proxy port: {e}"))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|e| anyhow!("cannot read the AWS proxy port: {e}"))?;
    Ok((listener, format!("http://{addr}")))
}

/// Serves the proxy until the runner exits (its port must outlive instances).
pub fn spawn(listener: TcpListener, proxy: SlotProxy) {
    let app = Router::new().fallback(forward).with_state(Arc::new(proxy));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!("an AWS proxy ended: {e}");
        }
    });
}

/// What an AWS request is.
#[derive(Debug, PartialEq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub presigned: bool,
    pub protocol: Protocol,
}

#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Protocol {
    /// `X-Amz-Target` + JSON body (DynamoDB, SQS).
    AwsJson,
    /// Form-encoded `Action=` (SNS, CloudWatch's query API).
    Query,
    /// S3.
    RestXml,
    /// SESv2 and other REST-JSON APIs.
    RestJson,
}

/// The signing service from a SigV4 credential (`AKID/date/region/service/aws4_request`).
fn scope_service(credential: &str) -> Option<String> {
    let parts: Vec<&str> = credential.split('/').collect();
    (parts.len() >= 5).then(|| parts[parts.len() - 2].to_ascii_lowercase())
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

pub fn classify(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Call {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let pairs = query_pairs(query);
    let q = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let presigned = q("X-Amz-Signature").is_some();
    let auth = header("authorization");
    let service = auth
        .split("Credential=")
        .nth(1)
        .map(|c| c.split([',', ' ']).next().unwrap_or(""))
        .and_then(scope_service)
        .or_else(|| q("X-Amz-Credential").and_then(scope_service))
        .unwrap_or_else(|| "unknown".into());
    let target = header("x-amz-target");
    if let Some((_, op)) = target.rsplit_once('.') {
        return Call {
            service,
            operation: op.to_string(),
            presigned,
            protocol: Protocol::AwsJson,
        };
    }
    if header("content-type").starts_with("application/x-www-form-urlencoded") {
        let form = query_pairs(&String::from_utf8_lossy(body));
        if let Some((_, action)) = form.iter().find(|(k, _)| k == "Action") {
            return Call {
                service,
                operation: action.clone(),
                presigned,
                protocol: Protocol::Query,
            };
        }
    }
    if service == "s3" {
        return Call {
            operation: s3_operation(method, path, &pairs, headers),
            service,
            presigned,
            protocol: Protocol::RestXml,
        };
    }
    let operation = if service == "ses" {
        ses_operation(method, path)
    } else {
        format!("{method} {path}")
    };
    Call {
        service,
        operation,
        presigned,
        protocol: Protocol::RestJson,
    }
}

/// S3's REST operations by method, path style (`/bucket/key`) and sub-resource.
fn s3_operation(
    method: &Method,
    path: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
) -> String {
    let has = |n: &str| q.iter().any(|(k, _)| k == n);
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let bucket = segments.next().unwrap_or("");
    let key = segments.next().unwrap_or("");
    let op = match (method.as_str(), bucket.is_empty(), key.is_empty()) {
        ("GET", true, _) => "ListBuckets",
        ("GET", false, true) if has("list-type") => "ListObjectsV2",
        ("GET", false, true) if has("versions") => "ListObjectVersions",
        ("GET", false, true) if has("location") => "GetBucketLocation",
        ("GET", false, true) if has("notification") => "GetBucketNotificationConfiguration",
        ("GET", false, true) => "ListObjects",
        ("HEAD", false, true) => "HeadBucket",
        ("PUT", false, true) if has("notification") => "PutBucketNotificationConfiguration",
        ("PUT", false, true) => "CreateBucket",
        ("DELETE", false, true) => "DeleteBucket",
        ("POST", false, true) if has("delete") => "DeleteObjects",
        ("GET", false, false) if has("tagging") => "GetObjectTagging",
        ("GET", false, false) if has("uploadId") => "ListParts",
        ("GET", false, false) => "GetObject",
        ("HEAD", false, false) => "HeadObject",
        ("PUT", false, false) if has("partNumber") => "UploadPart",
        ("PUT", false, false) if has("tagging") => "PutObjectTagging",
        ("PUT", false, false) if headers.contains_key("x-amz-copy-source") => "CopyObject",
        ("PUT", false, false) => "PutObject",
        ("DELETE", false, false) if has("uploadId") => "AbortMultipartUpload",
        ("DELETE", false, false) => "DeleteObject",
        ("POST", false, false) if has("uploads") => "CreateMultipartUpload",
        ("POST", false, false) if has("uploadId") => "CompleteMultipartUpload",
        _ => {
            return format!(
                "{method} {}",
                if key.is_empty() {
                    "/bucket"
                } else {
                    "/bucket/key"
                }
            )
        }
    };
    op.to_string()
}

/// SESv2's REST operations the system uses, else `METHOD /v2/email/<resource>`.
fn ses_operation(method: &Method, path: &str) -> String {
    let rest = path.trim_start_matches("/v2/email/");
    let resource = rest.split('/').next().unwrap_or("");
    let deeper = rest.contains('/');
    match (method.as_str(), resource, deeper) {
        ("POST", "outbound-emails", _) => "SendEmail".into(),
        ("POST", "identities", false) => "CreateEmailIdentity".into(),
        ("GET", "identities", true) => "GetEmailIdentity".into(),
        ("GET", "identities", false) => "ListEmailIdentities".into(),
        ("DELETE", "identities", true) => "DeleteEmailIdentity".into(),
        _ => format!("{method} /v2/email/{resource}"),
    }
}

/// The error a service answers with, in its protocol's shape, so the SDK classifies it as it
/// would in AWS (throttling errors are retried with back-off; 500s are retried as transient).
pub fn error_response(call: &Call, kind: FailKind, head: bool) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (status, content_type, body, error_type): (StatusCode, &str, String, &str) =
        match (call.protocol, kind) {
            (Protocol::AwsJson, FailKind::Throttle) => {
                let (ns, code) = if call.service == "dynamodb" {
                    (
                        "com.amazonaws.dynamodb.v20120810",
                        "ProvisionedThroughputExceededException",
                    )
                } else {
                    ("com.amazonaws.sqs", "ThrottlingException")
                };
                (
                    StatusCode::BAD_REQUEST,
                    "application/x-amz-json-1.0",
                    format!(r#"{{"__type":"{ns}#{code}","message":"Rate of requests exceeds the allowed throughput (injected fault)."}}"#),
                    code,
                )
            }
            (Protocol::AwsJson, FailKind::ServerError) => {
                let (ns, code) = if call.service == "dynamodb" {
                    ("com.amazonaws.dynamodb.v20120810", "InternalServerError")
                } else {
                    ("com.amazonaws.sqs", "InternalFailure")
                };
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "application/x-amz-json-1.0",
                    format!(r#"{{"__type":"{ns}#{code}","message":"Internal server error (injected fault)."}}"#),
                    code,
                )
            }
            (Protocol::RestXml, FailKind::Throttle) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "application/xml",
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate (injected fault).</Message><RequestId>{request_id}</RequestId></Error>"),
                "SlowDown",
            ),
            (Protocol::RestXml, FailKind::ServerError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/xml",
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again (injected fault).</Message><RequestId>{request_id}</RequestId></Error>"),
                "InternalError",
            ),
            (Protocol::Query, FailKind::Throttle) => (
                StatusCode::BAD_REQUEST,
                "text/xml",
                format!("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (injected fault)</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"),
                "Throttling",
            ),
            (Protocol::Query, FailKind::ServerError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/xml",
                format!("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>Internal failure (injected fault)</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"),
                "InternalFailure",
            ),
            (Protocol::RestJson, FailKind::Throttle) => (
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                r#"{"message":"Too many requests (injected fault)."}"#.to_string(),
                "TooManyRequestsException",
            ),
            (Protocol::RestJson, FailKind::ServerError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                r#"{"message":"Internal failure (injected fault)."}"#.to_string(),
                "InternalFailure",
            ),
        };
    let mut r = Response::new(if head {
        Body::empty()
    } else {
        Body::from(body)
    });
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(error_type) {
        h.insert("x-amzn-errortype", v);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v.clone());
        h.insert("x-amz-request-id", v);
    }
    r
}

fn bad_gateway(text: String) -> Response {
    (StatusCode::BAD_GATEWAY, text).into_response()
}

async fn forward(State(p): State<Arc<SlotProxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return bad_gateway(format!("cannot read the request body: {e}")),
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let call = classify(&parts.method, &path, &query, &parts.headers, &body);
    let inst = &p.instrument;
    let head = parts.method == Method::HEAD;
    // Requests to presigned URLs come from clients: forwarded and counted apart, no faults.
    let function = if call.presigned {
        PRESIGNED
    } else {
        p.function.as_str()
    };
    let meter = if call.presigned {
        None
    } else {
        p.slot.current()
    };

    if meter
        .as_ref()
        .is_some_and(|m| m.step() || m.before_call(&call.service, &call.operation))
    {
        return die(&p, &format!("before {} {}", call.service, call.operation)).await;
    }
    if !call.presigned {
        if let Some(kind) = inst
            .faults
            .fail_aws(function, &call.service, &call.operation)
        {
            let r = error_response(&call, kind, head);
            inst.calls.record(CallRecord {
                function,
                service: &call.service,
                operation: &call.operation,
                status: r.status().as_u16(),
                elapsed: Duration::ZERO,
                bytes_sent: body.len(),
                bytes_received: 0,
                rru: 0.0,
                wru: 0.0,
            });
            if let Some(m) = &meter {
                m.add_call_without_time();
            }
            return r;
        }
    }

    let estimate = inst.calls.capacity() && call.service == "dynamodb";
    let request_json: Value = if estimate {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let plan = if estimate {
        capacity::before(inst, &call.operation, &request_json).await
    } else {
        capacity::Plan::default()
    };

    let upstream = if call.service == "ses" {
        &inst.ses_upstream
    } else {
        &inst.main_upstream
    };
    let url = match parts.uri.path_and_query() {
        Some(pq) => format!("{upstream}{pq}"),
        None => upstream.clone(),
    };
    let mut out = inst.http.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" {
            out = out.header(name, value);
        }
    }
    let sent = body.len();
    if let Some(m) = &meter {
        m.call_started();
    }
    let started = Instant::now();
    let result = async {
        let resp = out.body(body).send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, bytes))
    }
    .await;
    let elapsed = started.elapsed();
    if let Some(m) = &meter {
        m.call_finished();
    }
    let (status, headers, bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(function = %p.function, "AWS proxy: the emulator did not answer {} {}: {e}", call.service, call.operation);
            return bad_gateway(format!("the emulator did not answer: {e}"));
        }
    };
    let (rru, wru) = if estimate {
        let resp_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        capacity::after(
            inst,
            plan,
            &call.operation,
            &request_json,
            status.is_success(),
            &resp_json,
        )
        .await
    } else {
        (0.0, 0.0)
    };
    inst.calls.record(CallRecord {
        function,
        service: &call.service,
        operation: &call.operation,
        status: status.as_u16(),
        elapsed,
        bytes_sent: sent,
        bytes_received: bytes.len(),
        rru,
        wru,
    });
    if let Some(m) = &meter {
        m.after_call(&call.service, &call.operation, status.is_success());
    }
    if meter.as_ref().is_some_and(|m| m.step()) {
        return die(&p, &format!("after {} {}", call.service, call.operation)).await;
    }
    respond(status, &headers, bytes)
}

fn respond(status: StatusCode, headers: &HeaderMap, bytes: Bytes) -> Response {
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            r.headers_mut().append(name.clone(), value.clone());
        }
    }
    r
}

/// A kill fault struck at this call: the process is killed and the call never answered.
async fn die(p: &SlotProxy, point: &str) -> Response {
    if p.slot.kill(&format!("killed by fault injection {point}")) {
        p.instrument.faults.killed(&p.function);
    }
    tokio::time::sleep(KILL_HOLD).await;
    bad_gateway("the caller was killed".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderName;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn auth(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=testing/20250101/eu-central-1/{service}/aws4_request, SignedHeaders=host, Signature=abc")
    }

    #[test]
    fn json_protocol_calls_are_named_by_their_target() {
        let c = classify(
            &Method::POST,
            "/",
            "",
            &headers(&[
                ("authorization", &auth("dynamodb")),
                ("x-amz-target", "DynamoDB_20120810.TransactWriteItems"),
            ]),
            b"{}",
        );
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("dynamodb", "TransactWriteItems")
        );
        assert_eq!(c.protocol, Protocol::AwsJson);
        let c = classify(
            &Method::POST,
            "/",
            "",
            &headers(&[
                ("authorization", &auth("sqs")),
                ("x-amz-target", "AmazonSQS.SendMessageBatch"),
            ]),
            b"{}",
        );
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("sqs", "SendMessageBatch")
        );
    }

    #[test]
    fn s3_ses_and_query_calls_are_recognised() {
        let s3 = headers(&[("authorization", &auth("s3"))]);
        let op =
            |m: Method, path: &str, q: &str, h: &HeaderMap| classify(&m, path, q, h, b"").operation;
        assert_eq!(
            op(Method::PUT, "/docs/a/b.pdf", "x-id=PutObject", &s3),
            "PutObject"
        );
        assert_eq!(op(Method::GET, "/docs/a/b.pdf", "", &s3), "GetObject");
        assert_eq!(op(Method::HEAD, "/docs/a", "", &s3), "HeadObject");
        assert_eq!(
            op(Method::GET, "/docs", "list-type=2&prefix=a", &s3),
            "ListObjectsV2"
        );
        assert_eq!(op(Method::POST, "/docs", "delete", &s3), "DeleteObjects");
        let ses = headers(&[("authorization", &auth("ses"))]);
        assert_eq!(
            op(Method::POST, "/v2/email/outbound-emails", "", &ses),
            "SendEmail"
        );
        assert_eq!(
            op(Method::GET, "/v2/email/identities/a%40b.example", "", &ses),
            "GetEmailIdentity"
        );
        let form = headers(&[
            ("authorization", &auth("sns")),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]);
        let c = classify(&Method::POST, "/", "", &form, b"Action=Publish&TopicArn=x");
        assert_eq!(
            (c.service.as_str(), c.operation.as_str(), c.protocol),
            ("sns", "Publish", Protocol::Query)
        );
    }

    #[test]
    fn presigned_urls_are_told_apart() {
        let c = classify(
            &Method::GET,
            "/docs/k.pdf",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20250101%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Signature=ff",
            &HeaderMap::new(),
            b"",
        );
        assert!(c.presigned);
        assert_eq!(
            (c.service.as_str(), c.operation.as_str()),
            ("s3", "GetObject")
        );
    }

    #[tokio::test]
    async fn injected_errors_have_the_services_shape() {
        let call = |service: &str, protocol| Call {
            service: service.into(),
            operation: "X".into(),
            presigned: false,
            protocol,
        };
        let r = error_response(
            &call("dynamodb", Protocol::AwsJson),
            FailKind::Throttle,
            false,
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(r.into_body(), 4096)
            .await
            .expect("body");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            v["__type"],
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
        );
        let r = error_response(&call("s3", Protocol::RestXml), FailKind::Throttle, false);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let r = error_response(&call("ses", Protocol::RestJson), FailKind::Throttle, false);
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["x-amzn-errortype"], "TooManyRequestsException");
        let r = error_response(&call("sqs", Protocol::AwsJson), FailKind::ServerError, true);
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
