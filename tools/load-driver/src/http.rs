//! One HTTP call to the API with a bearer token, answered as (outcome, JSON body).

use crate::stats::Outcome;
use anyhow::{bail, Result};
use reqwest::{Client, Method};
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base_url: String,
}

/// A request the run sends; the token is chosen by role, never printed.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub idempotency_key: Option<String>,
}

impl Api {
    pub async fn send(&self, token: &str, call: &Call) -> (Outcome, Value) {
        let mut req = self
            .client
            .request(
                call.method.clone(),
                format!("{}{}", self.base_url, call.path),
            )
            .bearer_auth(token);
        if let Some(key) = &call.idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // The whole body is read before the clock stops: a client waits for it too.
                match resp.bytes().await {
                    Ok(bytes) => (
                        Outcome::Status(status),
                        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    ),
                    Err(e) => (failure(&e), Value::Null),
                }
            }
            Err(e) => (failure(&e), Value::Null),
        }
    }

    /// A seeding call that must succeed: the error names the route, status and answer (answers
    /// never carry a token the driver sent).
    pub async fn must(&self, token: &str, call: Call) -> Result<Value> {
        let (outcome, body) = self.send(token, &call).await;
        if !outcome.is_ok() {
            bail!(
                "seeding {} {} failed: {outcome:?} {body}",
                call.method,
                call.path
            );
        }
        Ok(body)
    }
}

fn failure(e: &reqwest::Error) -> Outcome {
    Outcome::Failed(if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    })
}
