//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub webhooks_table: String,
    pub audit_table: String,
    pub idempotency_table: String,
    pub delivery_queue_url: String,
    /// `true` only on the local stack: receivers at `http://127.0.0.1:<port>`.
    pub allow_local_http: bool,
}
