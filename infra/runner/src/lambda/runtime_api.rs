//! The Lambda Runtime API one process talks to: it asks for the next event, then posts the
//! response or the error (or an init error before its first event). Each process gets its own
//! server, so a reply can only ever reach the invocation that process was given. Separate
//! because this is the wire protocol; what an instance is lives in `instance.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

use super::instance::Proc;
use super::meter::Meter;
use super::{InFlight, InvokeError};

/// Lambda's limit for a synchronous response payload.
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

pub(super) async fn serve_runtime_api(proc: Arc<Proc>) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| anyhow!("cannot bind a Runtime API port: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| anyhow!("cannot read the Runtime API port: {e}"))?;
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // Oversized responses are failed explicitly below, like Lambda does.
        .layer(DefaultBodyLimit::disable())
        .with_state(proc.clone());
    let mut dead = proc.dead.subscribe();
    tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = crate::process::raised(&mut dead).await;
        });
        if let Err(e) = server.await {
            tracing::warn!("Runtime API server ended: {e}");
        }
    });
    Ok(addr)
}

async fn next(State(proc): State<Arc<Proc>>) -> Response {
    proc.asked.send_replace(true);
    // The runtime asks for the next event only after answering the last one.
    proc.finish(
        None,
        Err(InvokeError::Function {
            error_type: "Runtime.NoResponse".into(),
            message: "the runtime asked for the next event without answering this one".into(),
        }),
    );
    let mut dead = proc.dead.subscribe();
    if proc.doomed.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = crate::process::raised(&mut dead).await;
        return StatusCode::GONE.into_response();
    }
    loop {
        let invocation = tokio::select! {
            inv = async { proc.pool.rx.lock().await.recv().await } => inv,
            _ = crate::process::raised(&mut dead) => return StatusCode::GONE.into_response(),
        };
        let Some(inv) = invocation else {
            return StatusCode::GONE.into_response();
        };
        if inv.reply.is_closed() {
            continue; // the caller gave up while it waited in the queue
        }
        let timeout = proc.pool.spec.timeout;
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(timeout)
            .as_millis();
        let pool = &proc.pool;
        let kill_at = pool
            .instrument
            .faults
            .kill_point(&pool.spec.binary, pool.expected_calls());
        *proc.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(InFlight {
            request_id: inv.request_id.clone(),
            reply: inv.reply,
            started: Instant::now(),
            meter: Arc::new(Meter::new(kill_at)),
        });
        // The supervisor may have just buried this process; it fails what it finds in
        // `current` after raising `dead`, so one of the two sides catches this invocation.
        if *proc.dead.borrow() {
            proc.finish(None, Err(InvokeError::Died("the instance exited".into())));
            return StatusCode::GONE.into_response();
        }
        let watchdog = proc.clone();
        let request_id = inv.request_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if watchdog.finish(Some(&request_id), Err(InvokeError::Timeout(timeout))) {
                watchdog.kill_now();
            }
        });
        let mut headers = HeaderMap::new();
        let pairs = [
            ("lambda-runtime-aws-request-id", inv.request_id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                proc.pool.spec.arn.clone(),
            ),
            ("lambda-runtime-trace-id", trace_id()),
            ("content-type", "application/json".to_string()),
        ];
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(k, v);
            }
        }
        return (StatusCode::OK, headers, inv.payload).into_response();
    }
}

fn unknown_request(request_id: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "errorMessage": format!("Invalid request ID: {request_id}"),
            "errorType": "InvalidRequestID",
        })),
    )
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

async fn response(
    State(proc): State<Arc<Proc>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    if proc.kill_at_reply(&request_id) {
        return accepted();
    }
    let result = if body.len() > MAX_RESPONSE_BYTES {
        Err(InvokeError::Function {
            error_type: "Function.ResponseSizeTooLarge".into(),
            message: format!(
                "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                body.len()
            ),
        })
    } else {
        Ok(body)
    };
    if proc.finish(Some(&request_id), result) {
        accepted()
    } else {
        unknown_request(&request_id)
    }
}

fn error_of(headers: &HeaderMap, body: &Bytes) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error_type = parsed
        .get("errorType")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Unhandled".into());
    let message = parsed
        .get("errorMessage")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, message)
}

async fn error(
    State(proc): State<Arc<Proc>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if proc.kill_at_reply(&request_id) {
        return accepted();
    }
    let (error_type, message) = error_of(&headers, &body);
    if proc.finish(
        Some(&request_id),
        Err(InvokeError::Function {
            error_type,
            message,
        }),
    ) {
        accepted()
    } else {
        unknown_request(&request_id)
    }
}

async fn init_error(State(proc): State<Arc<Proc>>, headers: HeaderMap, body: Bytes) -> Response {
    let (error_type, message) = error_of(&headers, &body);
    tracing::error!(function = %proc.pool.spec.binary, "init error {error_type}: {message}");
    *proc.init_error.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(format!("{error_type}: {message}"));
    accepted()
}

fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &r[..24],
        &r[16..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_look_like_x_ray() {
        let t = trace_id();
        assert!(t.starts_with("Root=1-"), "{t}");
        let root = t.split(';').next().unwrap_or_default();
        assert_eq!(root.len(), "Root=1-".len() + 8 + 1 + 24);
    }
}
