//! Lambda's execution model for one function: warm instances (processes of the function's
//! binary), each served its own Lambda Runtime API endpoint; invocations go to whichever
//! instance asks for work first. Timeouts and crashes fail the invocation and replace the
//! instance, as Lambda does.
//!
//! By concern: [`pool`] (the function's instances and the queue of invocations),
//! [`instance`] (one process: start, supervision, replacement), [`runtime_api`] (the HTTP
//! endpoint a process asks for work and answers on), [`meter`] (an invocation's AWS calls and
//! where a kill fault strikes), [`stats`] (cold starts, durations, percentiles). This file
//! holds what they pass to each other: the function's spec, an invocation and its errors.

mod instance;
mod meter;
mod pool;
mod runtime_api;
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tokio::sync::oneshot;

pub use instance::Slot;
pub use pool::FunctionPool;

use meter::Meter;

/// Everything needed to start an instance of a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub id: String,
    pub binary: String,
    pub path: PathBuf,
    pub cwd: PathBuf,
    pub arn: String,
    pub timeout: Duration,
    /// The complete environment except the per-instance AWS_LAMBDA_RUNTIME_API and
    /// AWS_LAMBDA_LOG_STREAM_NAME.
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("{error_type}: {message}")]
    Function { error_type: String, message: String },
    #[error("Task timed out after {:.2} seconds", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("the instance exited during the invocation ({0})")]
    Died(String),
    #[error("no result within {0:?}")]
    NoResult(Duration),
    #[error("the runner is shutting down")]
    ShuttingDown,
}

type Reply = oneshot::Sender<Result<Bytes, InvokeError>>;

/// An invocation waiting in the pool's queue for an instance to ask for it.
struct Invocation {
    request_id: String,
    payload: Bytes,
    reply: Reply,
}

/// The invocation an instance is working on.
struct InFlight {
    request_id: String,
    reply: Reply,
    started: Instant,
    meter: Arc<Meter>,
}
