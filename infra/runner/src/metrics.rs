//! CloudWatch Logs' share of Embedded Metric Format: a function's log line that carries
//! `_aws.CloudWatchMetrics` becomes metric data in the emulator, as in AWS, so the business
//! metrics can be queried locally (GetMetricStatistics, ListMetrics) like the real ones.
//!
//! aws-sdk-cloudwatch speaks RPC v2 CBOR, which moto 5.2.5 does not: PutMetricData goes out in
//! CloudWatch's JSON protocol (which moto does speak) over plain HTTP.

use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::template::REGION;

struct Sink {
    endpoint: String,
    http: reqwest::Client,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// From now on EMF lines go to the emulator at `endpoint`.
pub fn install(endpoint: &str) {
    let _ = SINK.set(Sink {
        endpoint: endpoint.to_string(),
        http: reqwest::Client::new(),
    });
}

/// Called with every line a child prints; cheap for lines that are not EMF.
pub fn observe(line: &str) {
    if !line.starts_with('{') || !line.contains("\"CloudWatchMetrics\"") {
        return;
    }
    let Some(sink) = SINK.get() else {
        return;
    };
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return;
    };
    for (namespace, data) in metric_data(&v) {
        let req = sink
            .http
            .post(&sink.endpoint)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "GraniteServiceVersion20100801.PutMetricData")
            // The emulator checks no signature; the credential scope tells it the region.
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=testing/20200101/{REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0"
                ),
            )
            .body(json!({"Namespace": namespace, "MetricData": data}).to_string());
        tokio::spawn(async move {
            match req.send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "PutMetricData for an EMF line refused")
                }
                Err(e) => tracing::warn!("PutMetricData for an EMF line failed: {e}"),
            }
        });
    }
}

/// The metric data an EMF document describes, per namespace: each metric once per dimension
/// set, with the document's values for those dimensions. Invalid parts are skipped, as
/// CloudWatch Logs does.
pub fn metric_data(doc: &Value) -> Vec<(String, Vec<Value>)> {
    let Some(aws) = doc.get("_aws") else {
        return Vec::new();
    };
    let timestamp_s = aws
        .get("Timestamp")
        .and_then(Value::as_i64)
        .map(|ms| ms / 1000)
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let mut out = Vec::new();
    for directive in aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(namespace) = directive.get("Namespace").and_then(Value::as_str) else {
            continue;
        };
        let sets: Vec<Vec<&str>> = match directive.get("Dimensions").and_then(Value::as_array) {
            Some(sets) => sets
                .iter()
                .filter_map(Value::as_array)
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .collect(),
            None => vec![Vec::new()],
        };
        let mut data = Vec::new();
        for metric in directive
            .get("Metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = metric.get("Name").and_then(Value::as_str) else {
                continue;
            };
            let value = match doc.get(name) {
                Some(Value::Number(n)) => json!({ "Value": n }),
                Some(Value::Array(ns)) if ns.iter().all(Value::is_number) => {
                    json!({ "Values": ns })
                }
                _ => continue,
            };
            let unit = metric.get("Unit").and_then(Value::as_str).unwrap_or("None");
            'sets: for set in &sets {
                let mut dimensions = Vec::new();
                for d in set {
                    // A dimension without a string value in the document voids this set.
                    let Some(v) = doc.get(*d).and_then(Value::as_str) else {
                        continue 'sets;
                    };
                    dimensions.push(json!({"Name": d, "Value": v}));
                }
                let mut datum = json!({
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Unit": unit,
                    "Timestamp": timestamp_s,
                });
                if let (Some(d), Some(v)) = (datum.as_object_mut(), value.as_object()) {
                    d.extend(v.clone());
                }
                data.push(datum);
            }
        }
        if !data.is_empty() {
            out.push((namespace.to_string(), data));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dimension_set_becomes_a_datum() {
        let doc = json!({
            "_aws": {"Timestamp": 1_700_000_000_123i64, "CloudWatchMetrics": [{
                "Namespace": "Dropship",
                "Dimensions": [["Channel"], []],
                "Metrics": [{"Name": "OrdersAccepted", "Unit": "Count"}]}]},
            "Channel": "web-de",
            "OrdersAccepted": 1
        });
        let out = metric_data(&doc);
        assert_eq!(out.len(), 1);
        let (ns, data) = &out[0];
        assert_eq!(ns, "Dropship");
        assert_eq!(
            data,
            &vec![
                json!({"MetricName": "OrdersAccepted", "Dimensions": [{"Name": "Channel", "Value": "web-de"}],
                    "Unit": "Count", "Timestamp": 1_700_000_000i64, "Value": 1}),
                json!({"MetricName": "OrdersAccepted", "Dimensions": [], "Unit": "Count",
                    "Timestamp": 1_700_000_000i64, "Value": 1}),
            ]
        );
    }

    #[test]
    fn lines_that_are_not_emf_or_are_broken_give_nothing() {
        assert!(metric_data(&json!({"level": "INFO", "message": "hi"})).is_empty());
        // The metric's value is missing, or a dimension has none: skipped.
        let doc = json!({"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "N",
            "Dimensions": [["Queue"]], "Metrics": [{"Name": "A"}, {"Name": "B"}]}]}, "B": 2});
        assert!(metric_data(&doc).is_empty());
    }
}
