//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub alerts_table: String,
    pub catalogue_table: String,
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub stock_table: String,
    pub events_queue_url: String,
    /// Comma-separated.
    #[serde(deserialize_with = "dropship_aws::config::comma_separated")]
    pub dead_letter_queue_urls: Vec<String>,
    /// How long an open alert waits before it is escalated to operations.
    #[serde(default = "four_hours")]
    pub alert_escalation_minutes: u32,
    /// How long an order may wait unrouted before it counts as stuck.
    #[serde(default = "quarter_hour")]
    pub stuck_order_minutes: u32,
    /// How far back the checks look at orders.
    #[serde(default = "three_days")]
    pub alert_lookback_minutes: u32,
}

fn four_hours() -> u32 {
    240
}

fn quarter_hour() -> u32 {
    15
}

fn three_days() -> u32 {
    72 * 60
}
