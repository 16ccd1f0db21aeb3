//! Business metrics in CloudWatch Embedded Metric Format: one JSON line on stdout per figure,
//! which CloudWatch Logs turns into metric data (locally the runner does). No API call per
//! request, no client, nothing to fail: a metric can never break the work it measures.
//!
//! Namespace `Dropship`. The alarms in template.yaml are written against these names.

use std::io::Write;

pub const NAMESPACE: &str = "Dropship";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// Money amounts: CloudWatch has no currency unit, the `Currency` dimension says which.
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::None => "None",
        }
    }
}

/// One metric value. `value` is the number's decimal text (an integer count or a `Money`
/// amount as "12.50"): written into the line as is, so money never passes through a float here.
/// `dimension_sets` lists which of `dimensions` each copy of the metric is aggregated by; an
/// empty set is the metric over everything (what the anomaly alarm on OrdersAccepted watches).
pub fn line(
    name: &str,
    value: &str,
    unit: Unit,
    dimensions: &[(&str, &str)],
    dimension_sets: &[&[&str]],
    timestamp_ms: i64,
) -> String {
    let sets: Vec<Vec<&str>> = dimension_sets.iter().map(|s| s.to_vec()).collect();
    let mut root = serde_json::Map::new();
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": name, "Unit": unit.as_str()}],
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), serde_json::Value::String((*v).into()));
    }
    // The value goes in as a placeholder and is replaced by the number's text: serde_json would
    // need a float for a decimal.
    const PLACEHOLDER: &str = "\u{0}metric-value\u{0}";
    root.insert(name.into(), serde_json::Value::String(PLACEHOLDER.into()));
    let text = serde_json::Value::Object(root).to_string();
    let number = if is_json_number(value) { value } else { "0" };
    text.replacen(&format!("\"{}\"", "\\u0000metric-value\\u0000"), number, 1)
}

/// A plain decimal number as JSON allows it (no exponent needed here).
fn is_json_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Prints one metric line to stdout (the Lambda log stream).
pub fn emit(
    name: &str,
    value: &str,
    unit: Unit,
    dimensions: &[(&str, &str)],
    dimension_sets: &[&[&str]],
) {
    let l = line(
        name,
        value,
        unit,
        dimensions,
        dimension_sets,
        chrono::Utc::now().timestamp_millis(),
    );
    // A closed stdout must not fail the work that is being measured.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{l}");
    let _ = out.flush();
}

/// An order was accepted through `channel`: per channel, and over all channels.
pub fn orders_accepted(channel: &str, count: u64) {
    emit(
        "OrdersAccepted",
        &count.to_string(),
        Unit::Count,
        &[("Channel", channel)],
        &[&["Channel"], &[]],
    );
}

/// Units that no fulfiller could ship (cancelled by the system and refunded).
pub fn lines_unroutable(units: u64) {
    emit(
        "LinesUnroutable",
        &units.to_string(),
        Unit::Count,
        &[],
        &[&[]],
    );
}

/// Delivery orders past their fulfiller's SLA without a shipment, as found by one alerting run.
pub fn delivery_orders_late(count: u64) {
    emit(
        "DeliveryOrdersLate",
        &count.to_string(),
        Unit::Count,
        &[],
        &[&[]],
    );
}

/// Fulfillers whose last stock update is older than their stockMaxAgeHours, per alerting run.
pub fn stock_feeds_stale(count: u64) {
    emit(
        "StockFeedsStale",
        &count.to_string(),
        Unit::Count,
        &[],
        &[&[]],
    );
}

/// Messages found in a dead-letter queue by one alerting run: per queue and in total.
pub fn messages_dead_lettered(queue: &str, count: u64) {
    emit(
        "MessagesDeadLettered",
        &count.to_string(),
        Unit::Count,
        &[("Queue", queue)],
        &[&["Queue"], &[]],
    );
}

/// A refund was issued: its amount in `currency`, per currency (amounts of different currencies
/// do not add up).
pub fn refunds_issued(amount: dropship_core::money::Money, currency: &str) {
    emit(
        "RefundsIssued",
        &amount.to_string(),
        Unit::None,
        &[("Currency", currency)],
        &[&["Currency"]],
    );
}

/// An audit line that could not be written (the change it records stands).
pub fn audit_writes_failed(count: u64) {
    emit(
        "AuditWritesFailed",
        &count.to_string(),
        Unit::Count,
        &[],
        &[&[]],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_embedded_metric_format() {
        let l = line(
            "OrdersAccepted",
            "1",
            Unit::Count,
            &[("Channel", "web-de")],
            &[&["Channel"], &[]],
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Dropship");
        assert_eq!(m["Dimensions"], serde_json::json!([["Channel"], []]));
        assert_eq!(m["Metrics"][0]["Name"], "OrdersAccepted");
        assert_eq!(m["Metrics"][0]["Unit"], "Count");
        assert_eq!(v["Channel"], "web-de");
        assert_eq!(v["OrdersAccepted"], 1);
        assert!(!l.contains('\n'));
    }

    #[test]
    fn money_is_written_as_its_decimal_text() {
        let l = line(
            "RefundsIssued",
            "23.07",
            Unit::None,
            &[("Currency", "EUR")],
            &[&["Currency"]],
            0,
        );
        assert!(l.contains("\"RefundsIssued\":23.07"), "{l}");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "None"
        );
    }

    #[test]
    fn only_plain_numbers_get_in() {
        for ok in ["0", "12", "-3", "0.5", "23.07"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "01", "1.", ".5", "1e3", "NaN", "1,5", "\"x\""] {
            assert!(!is_json_number(bad), "{bad}");
        }
        let l = line("X", "oops", Unit::Count, &[], &[&[]], 0);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["X"], 0);
    }

    #[test]
    fn dimension_values_are_escaped() {
        let l = line(
            "OrdersAccepted",
            "1",
            Unit::Count,
            &[("Channel", "a\"b")],
            &[&["Channel"]],
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["Channel"], "a\"b");
    }
}
