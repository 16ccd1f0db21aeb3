//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub ops_email: String,
    pub catalogue_table: String,
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub alerts_table: String,
    pub returns_table: String,
    pub idempotency_table: String,
    pub document_bucket: String,
    pub public_api_base_url: String,
}
