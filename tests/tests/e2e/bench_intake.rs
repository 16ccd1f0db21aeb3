//! Benchmark (not part of `make test`; run with `make bench-intake`): the latency of
//! `POST /orders` on the local stack over 500 sequential requests, measured at the client.
//! Results go to stdout as a Markdown row for BENCHMARKS.md.

use crate::setup;

use crate::support::Stack;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
#[ignore = "benchmark: make bench-intake"]
async fn post_orders_latency_over_500_sequential_requests() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let n: usize = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    // Warm every instance first (cold starts are reported separately in /_local/stats).
    for i in 0..10 {
        let body = setup::order(
            &format!("WARM-{i}"),
            json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}]),
            "49.00",
        );
        stack
            .post_idempotent("/orders", Some(&world.web), &format!("warm-{i}"), &body)
            .await;
    }
    let mut took: Vec<Duration> = Vec::with_capacity(n);
    for i in 0..n {
        let body = setup::order(
            &format!("BENCH-{i}"),
            json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"},
                   {"lineId": "L2", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "99.00"},
                   {"lineId": "L3", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "59.00"}]),
            "207.00",
        );
        let started = Instant::now();
        let (status, resp) = stack
            .post_idempotent("/orders", Some(&world.web), &format!("bench-{i}"), &body)
            .await;
        took.push(started.elapsed());
        assert_eq!(
            status,
            201,
            "request {i}: {resp}\n{}",
            stack.output.tail(30)
        );
        if (i + 1) % 100 == 0 {
            let mut window: Vec<Duration> = took[i + 1 - 100..].to_vec();
            window.sort();
            println!(
                "requests {}..{}: p50 {:.1} ms, max {:.1} ms",
                i - 98,
                i + 1,
                window[50].as_secs_f64() * 1e3,
                window[99].as_secs_f64() * 1e3
            );
        }
    }
    took.sort();
    let pct = |p: f64| {
        took[((took.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(took.len() - 1)]
        .as_secs_f64()
            * 1000.0
    };
    let intake = &stack.stats().await["order-intake"];
    println!(
        "| POST /orders, 3 lines, {n} sequential | client p50 {:.1} ms | p99 {:.1} ms | max {:.1} ms | order-intake p50 {} ms, p99 {} ms |",
        pct(0.50),
        pct(0.99),
        took.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or_default(),
        intake["p50Ms"],
        intake["p99Ms"],
    );
}
