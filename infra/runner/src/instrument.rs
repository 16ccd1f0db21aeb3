//! The runner's instrumentation, shared by the AWS proxies, the function pools, the pollers
//! and the `/_local/calls` and `/_local/faults` endpoints: the call log (off until a test
//! switches it on) and the fault rules (none until a test posts one).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::capacity::TableInfo;
use crate::faults::Faults;
use crate::template::REGION;

/// The pseudo-function under which requests to presigned URLs are counted: they come from
/// clients (browsers, fulfillers' tools, tests), not from a function.
pub const PRESIGNED: &str = "(presigned URLs)";

pub struct Instrument {
    /// Whether each function instance reaches AWS through its own counting proxy
    /// (`DROPSHIP_AWS_PROXY`, default on); off = straight to the emulators, nothing counted.
    pub proxy: bool,
    /// The main emulator (DynamoDB, SQS, S3, SNS, CloudWatch).
    pub main_upstream: String,
    /// The SES emulator.
    pub ses_upstream: String,
    pub http: reqwest::Client,
    pub calls: CallLog,
    pub faults: Faults,
    /// Key schemas and indexes, for capacity estimates.
    pub(crate) tables: Mutex<HashMap<String, TableInfo>>,
}

impl Instrument {
    pub fn new(proxy: bool, main_upstream: &str, ses_upstream: &str) -> anyhow::Result<Instrument> {
        let http = reqwest::Client::builder()
            // A proxy passes redirects and errors through; it never follows or retries.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the AWS proxy's HTTP client: {e}"))?;
        Ok(Instrument {
            proxy,
            main_upstream: main_upstream.trim_end_matches('/').to_string(),
            ses_upstream: ses_upstream.trim_end_matches('/').to_string(),
            http,
            calls: CallLog::default(),
            faults: Faults::default(),
            tables: Mutex::new(HashMap::new()),
        })
    }

    /// A DynamoDB call of the runner's own, straight to the emulator (never counted).
    pub async fn dynamodb(&self, operation: &str, body: &Value) -> Option<Value> {
        let resp = self
            .http
            .post(&self.main_upstream)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            // The emulator checks no signature; the credential scope tells it the region.
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=testing/20200101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }
}

/// One AWS request as the proxy saw it.
pub struct CallRecord<'a> {
    pub function: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub status: u16,
    pub elapsed: Duration,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub rru: f64,
    pub wru: f64,
}

#[derive(Default, Clone)]
struct CallStats {
    count: u64,
    errors: u64,
    total: Duration,
    max: Duration,
    bytes_sent: u64,
    bytes_received: u64,
    rru: f64,
    wru: f64,
}

impl CallStats {
    fn to_json(&self) -> Value {
        json!({
            "count": self.count,
            "errors": self.errors,
            "ms": round3(self.total.as_secs_f64() * 1e3),
            "maxMs": round3(self.max.as_secs_f64() * 1e3),
            "bytesSent": self.bytes_sent,
            "bytesReceived": self.bytes_received,
            "rru": self.rru,
            "wru": self.wru,
        })
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Default)]
struct LogState {
    since: Option<DateTime<Utc>>,
    /// (function, service, operation) -> figures.
    by_call: BTreeMap<(String, String, String), CallStats>,
}

/// Every AWS call the functions make, by function, service and operation, while recording.
#[derive(Default)]
pub struct CallLog {
    recording: AtomicBool,
    capacity: AtomicBool,
    state: Mutex<LogState>,
}

impl CallLog {
    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Whether DynamoDB calls get capacity estimates (slower: see capacity.rs).
    pub fn capacity(&self) -> bool {
        self.recording() && self.capacity.load(Ordering::Relaxed)
    }

    pub fn set(&self, recording: Option<bool>, capacity: Option<bool>) {
        if let Some(r) = recording {
            let was = self.recording.swap(r, Ordering::Relaxed);
            if r && !was {
                let mut st = self.lock();
                st.since.get_or_insert_with(Utc::now);
            }
        }
        if let Some(c) = capacity {
            self.capacity.store(c, Ordering::Relaxed);
        }
    }

    pub fn reset(&self) {
        let mut st = self.lock();
        st.by_call.clear();
        st.since = self.recording().then(Utc::now);
    }

    pub fn record(&self, c: CallRecord<'_>) {
        if !self.recording() {
            return;
        }
        let mut st = self.lock();
        let s = st
            .by_call
            .entry((
                c.function.to_string(),
                c.service.to_string(),
                c.operation.to_string(),
            ))
            .or_default();
        s.count += 1;
        if c.status >= 400 {
            s.errors += 1;
        }
        s.total += c.elapsed;
        s.max = s.max.max(c.elapsed);
        s.bytes_sent += c.bytes_sent as u64;
        s.bytes_received += c.bytes_received as u64;
        s.rru += c.rru;
        s.wru += c.wru;
    }

    /// `{recording, capacity, since, functions: {f: {calls, ms, services: {s: {op: {...}}}}}}`.
    pub fn to_json(&self) -> Value {
        let st = self.lock();
        let mut functions: BTreeMap<&str, (u64, Duration, Map<String, Value>)> = BTreeMap::new();
        for ((function, service, operation), s) in &st.by_call {
            let f = functions.entry(function.as_str()).or_default();
            f.0 += s.count;
            f.1 += s.total;
            let services =
                f.2.entry(service.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
            if let Some(ops) = services.as_object_mut() {
                ops.insert(operation.clone(), s.to_json());
            }
        }
        let functions: Map<String, Value> = functions
            .into_iter()
            .map(|(f, (count, total, services))| {
                (
                    f.to_string(),
                    json!({
                        "calls": count,
                        "ms": round3(total.as_secs_f64() * 1e3),
                        "services": services,
                    }),
                )
            })
            .collect();
        json!({
            "recording": self.recording(),
            "capacity": self.capacity(),
            "since": st.since.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            "functions": functions,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        // Counters stay usable even if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_only_while_recording() {
        let log = CallLog::default();
        let call = |op| CallRecord {
            function: "order-intake",
            service: "dynamodb",
            operation: op,
            status: 200,
            elapsed: Duration::from_millis(2),
            bytes_sent: 10,
            bytes_received: 20,
            rru: 0.5,
            wru: 0.0,
        };
        log.record(call("GetItem"));
        assert_eq!(log.to_json()["functions"], json!({}));
        log.set(Some(true), None);
        log.record(call("GetItem"));
        log.record(call("GetItem"));
        log.record(call("PutItem"));
        let v = log.to_json();
        let f = &v["functions"]["order-intake"];
        assert_eq!(f["calls"], 3);
        assert_eq!(f["services"]["dynamodb"]["GetItem"]["count"], 2);
        assert_eq!(f["services"]["dynamodb"]["GetItem"]["rru"], 1.0);
        assert!(v["since"].is_string());
        log.reset();
        assert_eq!(log.to_json()["functions"], json!({}));
    }
}
