//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub orders_table: String,
    pub stock_table: String,
    pub reservation_hold_max_age_seconds: i64,
    pub report_aggregates_table: String,
    pub catalogue_table: String,
    pub report_aggregates_settle_seconds: i64,
}
