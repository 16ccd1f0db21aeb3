//! Benchmark (not part of `make test`; `make bench-hot-sku`, also run by `make bench`): the hot
//! sku race at several stock shard counts on the local stack, written into BENCHMARKS.md between
//! the `<!-- bench:hot-sku -->` markers.
//!
//! For each shard count (`BENCH_HOT_SHARDS`, default 1,2,4,8) a product of its own is spread over
//! that many stock items and counted at `BENCH_HOT_STOCK` units (150); `BENCH_HOT_ORDERS` orders
//! of one unit each (200) are posted by 32 clients at once, and 3 s into the run the stock is counted again
//! (the same units, which spreads what is left free over the items anew, beside the running
//! reservations). Checked each time: exactly the stock is routed, the rest backordered, the sums
//! are (stock, stock), no item's free stock is below zero. Measured: the time until every order
//! is settled, the routing latency (order created to the router's history entry) and how the
//! reservations fell on the items.

use crate::bench_webhooks::{env_usize, pct};
use crate::races::stock_items_of;
use crate::setup;
use crate::support::Stack;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};

struct Run {
    shards: u16,
    routed: usize,
    backordered: usize,
    settled: Duration,
    latency: Vec<f64>,
    recount: Duration,
    items: Vec<(i64, i64, i64)>,
}

#[tokio::test]
#[ignore = "benchmark: make bench-hot-sku (and make bench)"]
async fn bench_hot_sku() {
    let started = Instant::now();
    let shard_counts: Vec<u16> = std::env::var("BENCH_HOT_SHARDS")
        .unwrap_or_else(|_| "1,2,4,8".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let stock = env_usize("BENCH_HOT_STOCK", 150) as i64;
    let orders = env_usize("BENCH_HOT_ORDERS", 200);
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let mut runs = Vec::new();
    for shards in shard_counts {
        let sku = format!("HOT-{shards}");
        let (status, body) = stack
            .put(
                &format!("/admin/products/{sku}"),
                Some(&stack.admin_token),
                &json!({"name": sku, "taxClass": "standard", "group": "hot", "allowBackorder": true,
                        "stockShards": shards, "sources": [{"fulfillerId": "acme-garden", "priority": 1}]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        setup::put_stock(&stack, &world.acme, &sku, stock as u32).await;

        let t0 = Instant::now();
        let recount = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let at = Instant::now();
            let (status, body) = stack
                .put(
                    "/fulfiller/stock",
                    Some(&world.acme),
                    &json!({"items": [{"sku": sku, "available": stock}]}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            at.elapsed()
        };
        let placing = stream::iter(0..orders)
            .map(|i| {
                let (stack, web, sku) = (&stack, &world.web, &sku);
                async move {
                    let key = format!("{sku}-{i}");
                    let body = setup::order(
                        &key,
                        json!([{"lineId": "L1", "sku": sku, "quantity": 1, "unitPrice": "5.00"}]),
                        "5.00",
                    );
                    let (status, c) = stack
                        .post_idempotent("/orders", Some(web), &key, &body)
                        .await;
                    assert_eq!(status, 201, "{c}");
                    c["orderId"].as_str().unwrap_or_default().to_string()
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<String>>();
        let (ids, recount) = tokio::join!(placing, recount);
        let settled: Vec<(String, f64)> = stack
            .eventually("every order settled", Duration::from_secs(900), || async {
                let got: Vec<Option<(String, f64)>> = stream::iter(&ids)
                    .map(|id| {
                        let stack = &stack;
                        async move {
                            // The admin's view: it has the history and the creation time.
                            let (_, o) = stack
                                .get(&format!("/admin/orders/{id}"), Some(&stack.admin_token))
                                .await;
                            let status = o["status"].as_str()?.to_string();
                            if status == "accepted" {
                                return None;
                            }
                            let created: DateTime<Utc> = o["createdAt"].as_str()?.parse().ok()?;
                            let routed: DateTime<Utc> = o["history"]
                                .as_array()?
                                .iter()
                                .find(|h| h["who"] == "system:split-router")?["at"]
                                .as_str()?
                                .parse()
                                .ok()?;
                            let ms = (routed - created).num_milliseconds() as f64;
                            Some((status, ms))
                        }
                    })
                    .buffer_unordered(32)
                    .collect()
                    .await;
                got.into_iter().collect()
            })
            .await;
        let elapsed = t0.elapsed();
        let routed = settled.iter().filter(|(s, _)| s == "routed").count();
        let backordered = settled.iter().filter(|(s, _)| s == "backordered").count();
        assert_eq!(
            routed as i64, stock,
            "{shards} items: exactly the stock routed"
        );
        assert_eq!(
            routed + backordered,
            orders,
            "{shards} items: every order settled"
        );
        assert_eq!(
            setup::stock_levels(&stack, &world.acme).await[&sku],
            (stock, stock),
            "{shards} items: everything reserved, nothing more"
        );
        let items = stock_items_of(&ddb, "acme-garden", &sku, shards).await;
        assert!(items.iter().all(|i| i.2 >= 0), "{items:?}");
        let mut latency: Vec<f64> = settled.iter().map(|(_, ms)| *ms).collect();
        latency.sort_by(f64::total_cmp);
        eprintln!("hot sku on {shards} items: settled in {elapsed:?}, items {items:?}");
        runs.push(Run {
            shards,
            routed,
            backordered,
            settled: elapsed,
            latency,
            recount,
            items,
        });
    }

    let mut content = format!(
        "Measured {date} on the local stack (debug builds, one moto process, 2 instances per \
function), `make bench-hot-sku` ({minutes:.1} min): per shard count a product of its own, \
{stock} units counted, {orders} one-unit orders posted by 32 clients at once, and the same \
{stock} units counted again 3 s into the run.\n\n\
| stock items | routed / backordered | all settled after | orders/s | routing latency p50 | p99 | \
count during the race | reserved per item (root first) |\n\
|---:|---|---:|---:|---:|---:|---:|---|\n",
        date = Utc::now().format("%Y-%m-%d"),
        minutes = started.elapsed().as_secs_f64() / 60.0,
    );
    for r in &runs {
        content.push_str(&format!(
            "| {} | {} / {} | {:.1} s | {:.1} | {:.0} ms | {:.0} ms | {} ms | {} |\n",
            r.shards,
            r.routed,
            r.backordered,
            r.settled.as_secs_f64(),
            (r.routed + r.backordered) as f64 / r.settled.as_secs_f64(),
            pct(&r.latency, 0.5),
            pct(&r.latency, 0.99),
            r.recount.as_millis(),
            r.items
                .iter()
                .map(|i| i.1.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    println!("{content}");
    let path = crate::support::workspace_root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).expect("BENCHMARKS.md");
    let doc = crate::bench_system::replace_section(&doc, "hot-sku", &content);
    std::fs::write(&path, doc).expect("write BENCHMARKS.md");
}
