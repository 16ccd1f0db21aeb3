//! Benchmark (not part of `make test`; `make bench` runs it after the system benchmark, or
//! `make bench-webhooks` alone): webhook delivery on the local stack, written into
//! BENCHMARKS.md between the `<!-- bench:webhooks -->` markers.
//!
//! 1. Latency from commit to receiver: orders posted one after another, each told to a fast
//!    receiver (`order.routed` or `order.backordered`, the routing's commit); the latency is the
//!    receiver's clock at arrival minus the message's `timestamp` (the commit's stamp).
//! 2. A slow receiver: four subscriptions to an endpoint that answers after 1 s, so that every
//!    order makes four slow deliveries; `BENCH_SLOW_ORDERS` orders (250: 1,000 deliveries) are
//!    posted at the same pace as in 1 (`BENCH_ORDER_EVERY_MS`, 500). Order processing is
//!    measured as from `POST /orders` to the routing's commit, in both phases, and the slow
//!    receiver's throughput as deliveries per second until the last one arrived.

use crate::setup;
use crate::support::Stack;
use crate::webhooks::{subscribe, Receiver};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const FIRST_DECISION: [&str; 2] = ["order.routed", "order.backordered"];

/// The `p` quantile of sorted figures (nearest rank).
pub(crate) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize)
        .saturating_sub(1)
        .min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

pub(crate) fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn order_body(i: &str) -> Value {
    setup::order(
        i,
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}]),
        "49.00",
    )
}

/// The first-decision messages of one receiver endpoint: order id -> (commit stamp, arrival).
async fn decisions(receiver: &Receiver, name: &str) -> BTreeMap<String, (f64, f64)> {
    receiver
        .log(name)
        .await
        .into_iter()
        .filter(|m| m["status"] == 200)
        .filter(|m| FIRST_DECISION.contains(&m["body"]["type"].as_str().unwrap_or("")))
        .filter_map(|m| {
            let at: DateTime<Utc> = m["body"]["timestamp"].as_str()?.parse().ok()?;
            let order = m["body"]["data"]["orderId"].as_str()?.to_string();
            let committed = at.timestamp_micros() as f64 / 1e6;
            Some((order, (committed, m["receivedAt"].as_f64()?)))
        })
        .collect()
}

/// Posts `n` orders at a steady pace (one per `every`); order id -> when its POST started (unix
/// seconds). A steady pace the local stack keeps up with, so that the figures are the path's own
/// and not a queue of unprocessed orders.
async fn post_orders(
    stack: &Stack,
    token: &str,
    prefix: &str,
    n: usize,
    every: Duration,
) -> BTreeMap<String, f64> {
    let mut started = BTreeMap::new();
    let mut tick = tokio::time::interval(every);
    for i in 0..n {
        tick.tick().await;
        let id = format!("{prefix}-{i}");
        let at = Utc::now().timestamp_micros() as f64 / 1e6;
        let (status, created) = stack
            .post_idempotent("/orders", Some(token), &id, &order_body(&id))
            .await;
        assert_eq!(status, 201, "{created}");
        started.insert(created["orderId"].as_str().unwrap_or("").to_string(), at);
    }
    started
}

#[tokio::test]
#[ignore = "benchmark: make bench-webhooks (and make bench)"]
async fn bench_webhooks() {
    let run = Instant::now();
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let receiver = Receiver::start();
    // Stock for every order of the run, so that each is routed.
    let (status, e) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.warehouse),
            &json!({"items": [{"sku": "LAMP-OAK", "available": 100000}]}),
        )
        .await;
    assert_eq!(status, 200, "{e}");
    let (status, fast) = subscribe(
        &stack,
        &world.web,
        "fast",
        &receiver.url("fast"),
        json!(FIRST_DECISION),
        "bench-fast",
    )
    .await;
    assert_eq!(status, 201, "{fast}");
    receiver
        .endpoint("fast", json!({"secret": fast["secret"]}))
        .await;

    // 1. Latency, one order after another.
    let pace = Duration::from_millis(env_usize("BENCH_ORDER_EVERY_MS", 500) as u64);
    let n = env_usize("BENCH_LATENCY_ORDERS", 60);
    let quiet = post_orders(&stack, &world.web, "LAT", n, pace).await;
    let told = stack
        .eventually("every order told", Duration::from_secs(300), || async {
            let d = decisions(&receiver, "fast").await;
            (d.len() >= n).then_some(d)
        })
        .await;
    let latency = sorted(told.values().map(|(c, r)| (r - c) * 1e3).collect());
    let quiet_routing = sorted(
        quiet
            .iter()
            .filter_map(|(id, posted)| told.get(id).map(|(c, _)| (c - posted) * 1e3))
            .collect(),
    );

    // 2. A slow receiver: four subscriptions, 1 s per answer (one endpoint name each, since
    // the receiver verifies each with its subscription's secret).
    let slow_names = ["slow0", "slow1", "slow2", "slow3"];
    for name in slow_names {
        let url = receiver.url(name);
        let (status, sub) =
            subscribe(&stack, &world.web, name, &url, json!(FIRST_DECISION), name).await;
        assert_eq!(status, 201, "{sub}");
        receiver
            .endpoint(name, json!({"secret": sub["secret"], "delaySeconds": 1}))
            .await;
    }
    let slow_orders = env_usize("BENCH_SLOW_ORDERS", 250);
    let slow_started = Instant::now();
    let busy = post_orders(&stack, &world.web, "SLOW", slow_orders, pace).await;
    let busy_told = stack
        .eventually(
            "every order of the slow phase told to the fast receiver",
            Duration::from_secs(600),
            || async {
                let d = decisions(&receiver, "fast").await;
                (d.len() >= n + slow_orders).then_some(d)
            },
        )
        .await;
    let busy_routing = sorted(
        busy.iter()
            .filter_map(|(id, posted)| busy_told.get(id).map(|(c, _)| (c - posted) * 1e3))
            .collect(),
    );
    let busy_latency = sorted(
        busy.keys()
            .filter_map(|id| busy_told.get(id).map(|(c, r)| (r - c) * 1e3))
            .collect(),
    );
    let slow_total = 4 * slow_orders;
    let slow_done = stack
        .eventually("every slow delivery", Duration::from_secs(900), || async {
            let mut count = 0;
            for name in slow_names {
                count += decisions(&receiver, name).await.len();
            }
            (count >= slow_total).then(|| slow_started.elapsed())
        })
        .await;
    let secs = slow_done.as_secs_f64();

    let ms = |v: f64| format!("{v:.0} ms");
    let content = format!(
        "Measured {date} on the local stack (debug builds, one moto process, 2 instances per \
function), `make bench-webhooks` ({minutes:.1} min); orders posted one every {pace_ms} ms in \
both phases.\n\n\
| what | n | p50 | p99 | max |\n|---|---|---|---|---|\n\
| commit to receiver, quiet | {n} | {lq50} | {lq99} | {lqmax} |\n\
| commit to receiver, behind a 1 s receiver's backlog | {slow_orders} | {lb50} | {lb99} | {lbmax} |\n\
| order processing (POST to routing commit), quiet | {n} | {rq50} | {rq99} | {rqmax} |\n\
| order processing, during the slow receiver's {slow_total} deliveries | {slow_orders} | {rb50} | {rb99} | {rbmax} |\n\n\
The slow receiver (answers after 1 s, four subscriptions, {slow_total} deliveries) had all of \
them {secs:.0} s after the first of its orders was posted: {rate:.1} deliveries per second.\n",
        date = Utc::now().format("%Y-%m-%d"),
        pace_ms = pace.as_millis(),
        minutes = run.elapsed().as_secs_f64() / 60.0,
        lq50 = ms(pct(&latency, 0.5)),
        lq99 = ms(pct(&latency, 0.99)),
        lqmax = ms(pct(&latency, 1.0)),
        lb50 = ms(pct(&busy_latency, 0.5)),
        lb99 = ms(pct(&busy_latency, 0.99)),
        lbmax = ms(pct(&busy_latency, 1.0)),
        rq50 = ms(pct(&quiet_routing, 0.5)),
        rq99 = ms(pct(&quiet_routing, 0.99)),
        rqmax = ms(pct(&quiet_routing, 1.0)),
        rb50 = ms(pct(&busy_routing, 0.5)),
        rb99 = ms(pct(&busy_routing, 0.99)),
        rbmax = ms(pct(&busy_routing, 1.0)),
        rate = slow_total as f64 / secs,
    );
    println!("{content}");
    let path = crate::support::workspace_root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).expect("BENCHMARKS.md");
    let doc = crate::bench_system::replace_section(&doc, "webhooks", &content);
    std::fs::write(&path, doc).expect("write BENCHMARKS.md");
}
