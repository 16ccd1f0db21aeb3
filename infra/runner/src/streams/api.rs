//! The DynamoDB Streams API of the emulator (DescribeStream, GetShardIterator, GetRecords) in
//! its JSON protocol, and the shapes Lambda builds from its records: the event a function gets
//! and the invocation record an on-failure destination gets. Spoken directly rather than
//! through an SDK: the records' JSON is already what the Lambda event carries.

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::{json, Value};

use crate::template::REGION;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
}

/// What one GetRecords returned.
pub struct Page {
    pub records: Vec<Value>,
    /// `None` once a closed shard is read to its end.
    pub next: Option<String>,
}

#[derive(Clone)]
pub struct StreamsApi {
    http: reqwest::Client,
    endpoint: String,
}

impl StreamsApi {
    pub fn new(endpoint: &str) -> StreamsApi {
        // A stuck call must not hold a shard: it fails, and the poller asks again.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        StreamsApi {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
        }
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value> {
        // The emulator routes by the target and takes the region from the credential scope;
        // it checks no signature.
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "x-amz-target",
                format!("DynamoDBStreams_20120810.{operation}"),
            )
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/dynamodb/aws4_request, \
                     SignedHeaders=host, Signature=0"
                ),
            )
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("{operation}: the emulator is unreachable"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{operation}: {status} {text}");
        }
        serde_json::from_str(&text).with_context(|| format!("{operation}: answer is not JSON"))
    }

    pub async fn shards(&self, stream_arn: &str) -> Result<Vec<Shard>> {
        let out = self
            .call("DescribeStream", json!({"StreamArn": stream_arn}))
            .await?;
        let shards = out["StreamDescription"]["Shards"]
            .as_array()
            .ok_or_else(|| anyhow!("DescribeStream {stream_arn}: no Shards"))?;
        Ok(shards
            .iter()
            .filter_map(|s| {
                Some(Shard {
                    id: s["ShardId"].as_str()?.to_string(),
                    parent: s["ParentShardId"].as_str().map(str::to_string),
                })
            })
            .collect())
    }

    /// `TRIM_HORIZON` or `LATEST`.
    pub async fn iterator(&self, stream_arn: &str, shard: &str, position: &str) -> Result<String> {
        let out = self
            .call(
                "GetShardIterator",
                json!({"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": position}),
            )
            .await?;
        out["ShardIterator"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("GetShardIterator {shard}: no ShardIterator"))
    }

    pub async fn records(&self, iterator: &str, limit: usize) -> Result<Page> {
        let out = self
            .call(
                "GetRecords",
                json!({"ShardIterator": iterator, "Limit": limit.clamp(1, 1000)}),
            )
            .await?;
        Ok(Page {
            records: out["Records"].as_array().cloned().unwrap_or_default(),
            next: out["NextShardIterator"].as_str().map(str::to_string),
        })
    }
}

/// A stream record as Lambda hands it to a function: the record's own fields, the event
/// source's arn and region, and the creation time in whole epoch seconds (DynamoDB rounds it
/// down to the second; moto keeps the fraction or sends a date).
pub fn lambda_record(mut record: Value, stream_arn: &str) -> Value {
    record["eventSourceARN"] = json!(stream_arn);
    record["awsRegion"] = json!(REGION);
    record["eventSource"] = json!("aws:dynamodb");
    // The version Lambda's DynamoDB events carry.
    record["eventVersion"] = json!("1.1");
    let created = &mut record["dynamodb"]["ApproximateCreationDateTime"];
    let seconds = match &*created {
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp()),
        Value::Number(n) => n.as_f64().map(|s| s.floor() as i64),
        _ => None,
    };
    if let Some(s) = seconds {
        *created = json!(s);
    }
    record
}

pub fn sequence_number(record: &Value) -> &str {
    record["dynamodb"]["SequenceNumber"].as_str().unwrap_or("")
}

/// When the record was written, in epoch seconds.
pub fn created_at(record: &Value) -> Option<f64> {
    record["dynamodb"]["ApproximateCreationDateTime"].as_f64()
}

fn iso_time(epoch_seconds: Option<f64>) -> Value {
    epoch_seconds
        .and_then(|s| chrono::DateTime::from_timestamp_millis((s * 1000.0) as i64))
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// Why records went to the on-failure destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discarded {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

/// The invocation record Lambda sends to a stream's on-failure destination: what was tried,
/// and where the discarded records are (not the records themselves).
pub fn on_failure_record(
    function_arn: &str,
    stream_arn: &str,
    shard: &str,
    batch: &[Value],
    invocations: u32,
    why: Discarded,
) -> Value {
    let first = batch.first().unwrap_or(&Value::Null);
    let last = batch.last().unwrap_or(&Value::Null);
    json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": function_arn,
            "condition": match why {
                Discarded::RetryAttemptsExhausted => "RetryAttemptsExhausted",
                Discarded::RecordAgeExceeded => "RecordAgeExceeded",
            },
            "approximateInvokeCount": invocations,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": sequence_number(first),
            "endSequenceNumber": sequence_number(last),
            "approximateArrivalOfFirstRecord": iso_time(created_at(first)),
            "approximateArrivalOfLastRecord": iso_time(created_at(last)),
            "batchSize": batch.len(),
            "streamArn": stream_arn,
        },
    })
}
