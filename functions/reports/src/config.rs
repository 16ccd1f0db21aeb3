//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub document_bucket: String,
    pub audit_table: String,
    pub report_jobs_queue_url: String,
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub stock_table: String,
    pub catalogue_table: String,
    pub returns_table: String,
    pub report_aggregates_table: String,
}
