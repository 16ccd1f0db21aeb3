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
    pub route_queue_url: String,
    /// Comma-separated.
    #[serde(deserialize_with = "dropship_aws::config::comma_separated")]
    pub dead_letter_queue_urls: Vec<String>,
    /// How long an order may wait unrouted before it counts as stuck.
    #[serde(default = "quarter_hour")]
    pub stuck_order_minutes: u32,
    /// How far back the checks look at orders.
    #[serde(default = "three_days")]
    pub alert_lookback_minutes: u32,
}

fn quarter_hour() -> u32 {
    15
}

fn three_days() -> u32 {
    72 * 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::from_vars;

    const REQUIRED: [(&str, &str); 8] = [
        ("ALERTS_TABLE", "a"),
        ("CATALOGUE_TABLE", "c"),
        ("ORDERS_TABLE", "o"),
        ("DELIVERY_ORDERS_TABLE", "d"),
        ("STOCK_TABLE", "s"),
        ("EVENTS_QUEUE_URL", "e"),
        ("ROUTE_QUEUE_URL", "r"),
        ("DEAD_LETTER_QUEUE_URLS", "q1, q2"),
    ];

    #[test]
    fn minutes_have_defaults_and_the_queues_are_a_list() {
        let c: Config = from_vars(REQUIRED).unwrap();
        assert_eq!(c.stuck_order_minutes, 15);
        assert_eq!(c.alert_lookback_minutes, 4320);
        assert_eq!(c.dead_letter_queue_urls, ["q1", "q2"]);
        let c: Config =
            from_vars(REQUIRED.into_iter().chain([("STUCK_ORDER_MINUTES", "30")])).unwrap();
        assert_eq!(c.stuck_order_minutes, 30);
    }

    #[test]
    fn a_bad_number_of_minutes_is_refused_by_name() {
        let e = from_vars::<Config>(REQUIRED.into_iter().chain([("STUCK_ORDER_MINUTES", "-5")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("STUCK_ORDER_MINUTES"), "{e}");
    }
}
