//! The runner's own endpoints: `/health` and `/_local/*` (sent mail, statistics, AWS call
//! log, fault rules, functions, schedules and direct invocations). Separate because none of
//! them exists in API Gateway: they are how tests and people look inside the local stack.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::{starting, ApiState};

pub(super) async fn health(State(state): State<Arc<ApiState>>) -> Response {
    match state.ready() {
        Some(_) => Json(json!({"status": "ok"})).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting"})),
        )
            .into_response(),
    }
}

pub(super) async fn outbox(State(state): State<Arc<ApiState>>) -> Response {
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

pub(super) async fn stats(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let functions: Map<String, Value> = w
        .pools
        .iter()
        .map(|(binary, pool)| {
            let mut v = pool.stats().to_json();
            v["faults"] = w.instrument.faults.counts(binary).to_json();
            for s in w.streams.iter().filter(|s| &s.pool.spec.binary == binary) {
                v["streams"][s.event_id.as_str()] = s.counts().to_json();
            }
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
pub(super) async fn calls(
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
pub(super) async fn set_calls(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
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
pub(super) async fn reset_calls(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    w.instrument.calls.reset();
    for pool in w.pools.values() {
        pool.reset_samples();
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn faults(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    Json(w.instrument.faults.to_json()).into_response()
}

/// `POST /_local/faults`: adds a fault rule (see faults.rs and the runner's README).
pub(super) async fn add_fault(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
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
pub(super) async fn clear_faults(State(state): State<Arc<ApiState>>) -> Response {
    let Some(w) = state.ready() else {
        return starting();
    };
    let removed = w.instrument.faults.clear();
    Json(json!({ "removed": removed })).into_response()
}

/// `GET /_local/clock`: `{now, aheadSeconds}`, the time the scheduled checks see.
pub(super) async fn clock() -> Response {
    Json(clock_body()).into_response()
}

fn clock_body() -> Value {
    json!({
        "now": crate::schedules::clock_now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "aheadSeconds": crate::schedules::clock_ahead(),
    })
}

/// `POST /_local/clock {"advanceSeconds": n}`: moves the scheduled checks' time forward (a
/// 48-hour timer is tested without waiting); then run the schedule. 422 for a negative move
/// or one past a year and a day in all.
pub(super) async fn advance_clock(body: Bytes) -> Response {
    let seconds = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("advanceSeconds").and_then(Value::as_i64));
    match seconds.and_then(crate::schedules::advance_clock) {
        Some(_) => Json(clock_body()).into_response(),
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {
                "code": "validation_failed",
                "message": format!(
                    "advanceSeconds must be a whole number 0..{} in all",
                    crate::schedules::CLOCK_MAX_AHEAD_SECONDS
                ),
                "field": "advanceSeconds",
            }})),
        )
            .into_response(),
    }
}

/// `GET /_local/functions`: each function as the runner starts it (template settings, the
/// resolved environment, its slots' AWS endpoints).
pub(super) async fn functions(State(state): State<Arc<ApiState>>) -> Response {
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

pub(super) async fn run_schedule(
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
pub(super) async fn invoke_function(
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
