//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub tokens_table: String,
    /// The fulfiller's changes go through the same use cases and stock counting as in the
    /// fulfiller API, on the same variables (the catalogue table among them).
    #[serde(flatten)]
    pub stock_counts: dropship_app::stock_counts::StockCountsConfig,
    pub returns_table: String,
    pub idempotency_table: String,
    pub events_queue_url: String,
    pub documents_queue_url: String,
    pub returns_queue_url: String,
    /// The documents' links and the sign-in links start with it.
    pub public_api_base_url: String,
}
