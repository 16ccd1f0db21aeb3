//! A stand-in function for testing the runner without the real ones: it speaks the Lambda
//! Runtime API with plain HTTP and answers by the shape of the event.
//!
//! - HTTP API authorizer (v2 REQUEST): authorized unless `Authorization: Bearer deny`;
//!   the context carries the token it saw.
//! - HTTP API event: 200 with the event and the process environment as JSON; paths
//!   containing `/sleep` (`?ms=`), `/crash` (exit 3) or `/error` (function error) misbehave.
//! - SQS event: reports every record whose body contains `fail` in `batchItemFailures`.
//! - DynamoDB stream event: prints `echo-stream-batch <function> ["pk=v", ...]` (v from the new
//!   image's `v`, `-` for a removal), then misbehaves by the new image's `mode`: `poison` fails
//!   the batch every time, `error-once` fails it on the record's first delivery,
//!   `partial-once` reports the record in `batchItemFailures` on its first delivery (first
//!   deliveries are remembered as files in `ECHO_STATE_DIR`, else the temp dir).
//! - anything else: echoed back.
//!
//! Build with `cargo build -p local-runner --examples`; tests link it under each binary name.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a stand-in function: stdout and stderr are what the runner tests read"
)]

use std::time::Duration;

use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("echo_function: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")?;
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let base = format!("http://{api}/2018-06-01/runtime");
    let http = reqwest::Client::new();
    println!("echo function {name} ready");
    loop {
        let next = http.get(format!("{base}/invocation/next")).send().await?;
        let request_id = next
            .headers()
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let event: Value = next.json().await.unwrap_or(Value::Null);
        match handle(&name, &event).await {
            Ok(out) => {
                http.post(format!("{base}/invocation/{request_id}/response"))
                    .json(&out)
                    .send()
                    .await?;
            }
            Err(message) => {
                http.post(format!("{base}/invocation/{request_id}/error"))
                    .header("lambda-runtime-function-error-type", "EchoError")
                    .json(&json!({"errorType": "EchoError", "errorMessage": message}))
                    .send()
                    .await?;
            }
        }
    }
}

async fn handle(name: &str, event: &Value) -> Result<Value, String> {
    if event["type"] == "REQUEST" {
        let auth = event["headers"]["authorization"].as_str().unwrap_or("");
        return Ok(json!({
            "isAuthorized": auth != "Bearer deny",
            "context": {"token": auth, "authorizer": name},
        }));
    }
    if let Some(records) = event["Records"]
        .as_array()
        .filter(|r| r.iter().all(|r| r["eventSource"] == "aws:dynamodb"))
    {
        return stream_batch(name, records);
    }
    if let Some(records) = event["Records"].as_array() {
        let failures: Vec<Value> = records
            .iter()
            .filter(|r| r["body"].as_str().unwrap_or("").contains("fail"))
            .map(|r| json!({"itemIdentifier": r["messageId"]}))
            .collect();
        return Ok(json!({ "batchItemFailures": failures }));
    }
    if event["requestContext"]["http"].is_object() {
        let path = event["rawPath"].as_str().unwrap_or("");
        if path.contains("/sleep") {
            let ms = event["queryStringParameters"]["ms"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if path.contains("/crash") {
            eprintln!("crashing on purpose");
            std::process::exit(3);
        }
        if path.contains("/error") {
            return Err("failing on purpose".into());
        }
        let env: serde_json::Map<String, Value> =
            std::env::vars().map(|(k, v)| (k, json!(v))).collect();
        let body = json!({"function": name, "event": event, "env": env});
        return Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json", "x-echo-function": name},
            "cookies": ["echo=1; Path=/"],
            "body": body.to_string(),
        }));
    }
    Ok(event.clone())
}

/// Whether this is the first delivery of a stream record (remembered by its event id).
fn first_delivery(record: &Value) -> bool {
    let dir = std::env::var_os("ECHO_STATE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let id = record["eventID"].as_str().unwrap_or("unknown");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(format!("echo-stream-{id}")))
        .is_ok()
}

fn stream_batch(name: &str, records: &[Value]) -> Result<Value, String> {
    let seen: Vec<String> = records
        .iter()
        .map(|r| {
            let d = &r["dynamodb"];
            let pk = d["Keys"]["pk"]["S"].as_str().unwrap_or("?");
            let v = d["NewImage"]["v"]["S"].as_str().unwrap_or("-");
            format!("{pk}={v}")
        })
        .collect();
    println!("echo-stream-batch {name} {}", json!(seen));
    let mut failures = Vec::new();
    for r in records {
        match r["dynamodb"]["NewImage"]["mode"]["S"].as_str() {
            Some("poison") => return Err("poison record".into()),
            Some("error-once") if first_delivery(r) => return Err("failing once".into()),
            Some("partial-once") if first_delivery(r) => {
                failures.push(json!({"itemIdentifier": r["dynamodb"]["SequenceNumber"]}))
            }
            _ => {}
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}
