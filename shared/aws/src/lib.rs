//! AWS adapters shared by the functions: configuration, the HTTP API plumbing (principal, error
//! shape, body limits), SQS batch handling, DynamoDB repositories, queue publishing, the document
//! store and the mailer. Domain decisions live in `dropship_core`; this crate only moves data.

pub mod backorders;
pub mod config;
pub mod documents;
pub mod http;
pub mod http_idempotency;
pub mod mailer;
pub mod metrics;
pub mod outbound;
pub mod queue;
pub mod repo;
pub mod sqs_batch;
pub mod telemetry;

/// An error from an adapter: what failed, with its cause chain, for logs and retry decisions.
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
