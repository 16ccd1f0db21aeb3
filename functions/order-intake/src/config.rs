//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub catalogue_table: String,
    pub orders_table: String,
    pub idempotency_table: String,
}
