//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub stock_counts: dropship_app::stock_counts::StockCountsConfig,
    pub document_bucket: String,
    pub idempotency_table: String,
    pub events_queue_url: String,
    pub returns_table: String,
    pub returns_queue_url: String,
    pub documents_queue_url: String,
    pub public_api_base_url: String,
}
