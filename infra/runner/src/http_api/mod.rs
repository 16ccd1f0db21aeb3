//! The HTTP API: API Gateway HTTP API semantics (payload format 2.0, Lambda REQUEST
//! authorizer with simple responses, route selection, error shapes) in front of the function
//! pools, plus the runner's own `/health` and `/_local/*` endpoints.
//!
//! By concern: [`gateway`] (a request to a template route: selection, authorization,
//! invocation), [`authorizer`] (the Lambda REQUEST authorizer), [`event`] (the payload 2.0
//! event a request becomes), [`response`] (a function's answer mapped back to HTTP),
//! [`local`] (the runner's own endpoints). This file holds what the API serves and its router.

mod authorizer;
mod event;
mod gateway;
mod local;
mod response;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::instrument::Instrument;
use crate::lambda::FunctionPool;
use crate::outbox::Outbox;
use crate::schedules::Trigger;
use crate::streams::StreamPoller;
use crate::template::RoutePattern;

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
    /// The DynamoDB stream event sources.
    pub streams: Vec<Arc<StreamPoller>>,
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
        .route("/health", get(local::health))
        .route("/_local/outbox", get(local::outbox))
        .route("/_local/stats", get(local::stats))
        .route("/_local/schedules/{function}", post(local::run_schedule))
        .route(
            "/_local/clock",
            get(local::clock).post(local::advance_clock),
        )
        .route("/_local/invoke/{function}", post(local::invoke_function))
        .route(
            "/_local/calls",
            get(local::calls)
                .put(local::set_calls)
                .delete(local::reset_calls),
        )
        .route(
            "/_local/faults",
            get(local::faults)
                .post(local::add_fault)
                .delete(local::clear_faults),
        )
        .route("/_local/functions", get(local::functions))
        .fallback(gateway::proxy)
        .with_state(state)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

fn starting() -> Response {
    message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}
