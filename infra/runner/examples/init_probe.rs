//! What a Rust Lambda's init spends its time on, phase by phase, with the same crates the
//! functions use (`make bench` runs it; see BENCHMARKS.md "Init time"): exec and dynamic
//! loading up to `main`, the tokio runtime, the JSON log subscriber, the AWS SDK configuration,
//! one client per service, and the first request to the Runtime API. Prints one JSON line of
//! microseconds per phase, then exits.
//!
//! `INIT_PROBE_SPAWNED_NS` (nanoseconds since the epoch when the parent spawned it) lets it
//! report the time up to `main`; `AWS_LAMBDA_RUNTIME_API` is where it sends `next`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a probe: prints its figures for the benchmark that runs it"
)]

use std::io::{Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn main() {
    let at_main = now_ns();
    let to_main_us = std::env::var("INIT_PROBE_SPAWNED_NS")
        .ok()
        .and_then(|v| v.parse::<u128>().ok())
        .map(|spawned| at_main.saturating_sub(spawned) / 1000);
    let mut phases: Vec<(&str, u128)> = Vec::new();
    let t = Instant::now();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("init_probe: no tokio runtime: {e}");
            std::process::exit(2);
        }
    };
    phases.push(("tokioRuntime", t.elapsed().as_micros()));
    runtime.block_on(async {
        let t = Instant::now();
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .without_time()
            .try_init();
        phases.push(("logSubscriber", t.elapsed().as_micros()));

        let t = Instant::now();
        let cfg = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        phases.push(("sdkConfig", t.elapsed().as_micros()));

        let t = Instant::now();
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        phases.push(("dynamodbClient", t.elapsed().as_micros()));
        let t = Instant::now();
        let s3 = aws_sdk_s3::Client::new(&cfg);
        phases.push(("s3Client", t.elapsed().as_micros()));
        let t = Instant::now();
        let sqs = aws_sdk_sqs::Client::new(&cfg);
        phases.push(("sqsClient", t.elapsed().as_micros()));
        let t = Instant::now();
        let ses = aws_sdk_sesv2::Client::new(&cfg);
        phases.push(("sesv2Client", t.elapsed().as_micros()));
        drop((ddb, s3, sqs, ses));

        // What lambda_runtime does first: GET next (here on a plain socket; the answer is
        // never awaited, the parent records the request's arrival).
        let t = Instant::now();
        if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
            if let Ok(mut s) = std::net::TcpStream::connect(&api) {
                let _ = write!(
                    s,
                    "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n"
                );
                let _ = s.flush();
                let mut one = [0u8; 1];
                let _ = s.read(&mut one);
            }
        }
        phases.push(("runtimeApiNext", t.elapsed().as_micros()));
    });
    let mut line = String::from("{");
    if let Some(us) = to_main_us {
        line.push_str(&format!("\"toMain\":{us},"));
    }
    let body: Vec<String> = phases.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    line.push_str(&body.join(","));
    line.push('}');
    println!("{line}");
}
