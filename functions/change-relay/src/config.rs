//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub events_queue_url: String,
    pub documents_queue_url: String,
    pub route_queue_url: String,
    pub returns_queue_url: String,
    pub dead_letter_queue_url: String,
    pub report_aggregates_queue_url: String,
}
