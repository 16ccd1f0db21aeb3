//! Races: orders arrive at once for three hot skus with 100 units each (`make test`: 450 orders;
//! `make soak`: RACE_ORDERS=1000, figures in RELIABILITY.md). One sku keeps its one stock item,
//! the others are spread over 4 and 8 stock shards, and their stock is counted again (the same
//! 100) while the orders come in, which spreads the free units over the shards anew. Every
//! reservation is conditional on free stock, so exactly 100 units of each are routed, none
//! oversold, `available - reserved` never below zero (and no shard's free stock either), and every
//! order is accounted for: routed, backordered (a sku that allows it) or cancelled as unroutable
//! (one that does not).

use crate::setup;

use crate::support::Stack;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STOCK: i64 = 100;
/// Sku, may be backordered, stock items.
const SKUS: [(&str, bool, u16); 3] = [("HOT-A", true, 1), ("HOT-B", false, 4), ("HOT-C", true, 8)];
const FULFILLER: &str = "acme-garden";

#[tokio::test]
async fn concurrent_orders_on_three_hot_skus_oversell_nothing() {
    let orders: usize = std::env::var("RACE_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(450);
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    for (sku, backorder, shards) in SKUS {
        let (status, _) = stack
            .put(
                &format!("/admin/products/{sku}"),
                admin,
                &json!({"name": sku, "taxClass": "standard", "group": "hot", "allowBackorder": backorder,
                        "stockShards": shards, "sources": [{"fulfillerId": FULFILLER, "priority": 1}]}),
            )
            .await;
        assert_eq!(status, 200);
    }
    // An edit that leaves `stockShards` out keeps it.
    let (status, edited) = stack
        .put(
            "/admin/products/HOT-C",
            admin,
            &json!({"name": "HOT-C", "taxClass": "standard", "group": "hot", "allowBackorder": true,
                    "sources": [{"fulfillerId": FULFILLER, "priority": 1}]}),
        )
        .await;
    assert_eq!(
        (status, &edited["stockShards"]),
        (200, &json!(8)),
        "{edited}"
    );
    let items: Vec<Value> = SKUS
        .iter()
        .map(|(sku, _, _)| json!({"sku": sku, "available": STOCK}))
        .collect();
    let (status, _) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.acme),
            &json!({ "items": items }),
        )
        .await;
    assert_eq!(status, 200);

    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    for (sku, _, shards) in SKUS {
        let items = stock_items(&ddb, sku, shards).await;
        assert_eq!(
            items.iter().map(|i| i.2).collect::<Vec<_>>(),
            spread(STOCK, shards),
            "{sku}: the count spread the free units evenly"
        );
    }

    let started = Instant::now();
    // The same count again, three times while the orders come in: each spreads what is free anew,
    // in one transaction with the reservations running beside it.
    let recounts = async {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let items: Vec<Value> = SKUS
                .iter()
                .filter(|(_, _, shards)| *shards > 1)
                .map(|(sku, _, _)| json!({"sku": sku, "available": STOCK}))
                .collect();
            let (status, body) = stack
                .put(
                    "/fulfiller/stock",
                    Some(&world.acme),
                    &json!({ "items": items }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let placing = stream::iter(0..orders)
        .map(|i| {
            let stack = &stack;
            let web = &world.web;
            async move {
                let sku = SKUS[i % SKUS.len()].0;
                let body = setup::order(
                    &format!("RACE-{i}"),
                    json!([{"lineId": "L1", "sku": sku, "quantity": 1, "unitPrice": "5.00"}]),
                    "5.00",
                );
                let (status, c) = stack
                    .post_idempotent("/orders", Some(web), &format!("race-{i}"), &body)
                    .await;
                assert_eq!(status, 201, "{c}");
                (c["orderId"].as_str().unwrap().to_string(), sku)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<(String, &str)>>();
    let (created, ()) = tokio::join!(placing, recounts);
    let intake = started.elapsed();

    // Every order settles: none stays accepted.
    let statuses: Vec<(String, &str)> = stack
        .eventually(
            "every order routed, backordered or cancelled",
            Duration::from_secs(600),
            || async {
                let mut out = Vec::with_capacity(orders);
                let results: Vec<Option<(String, &str)>> = stream::iter(&created)
                    .map(|(id, sku)| {
                        let stack = &stack;
                        let web = &world.web;
                        async move {
                            let (_, o) = stack.get(&format!("/orders/{id}"), Some(web)).await;
                            let st = o["status"].as_str()?.to_string();
                            (st != "accepted").then_some((st, *sku))
                        }
                    })
                    .buffer_unordered(32)
                    .collect()
                    .await;
                for r in results {
                    out.push(r?);
                }
                // Never oversold while it happens, either.
                for (sku, (available, reserved)) in setup::stock_levels(&stack, &world.acme).await {
                    assert!(
                        available - reserved >= 0,
                        "{sku}: {available} available, {reserved} reserved"
                    );
                }
                for (sku, _, shards) in SKUS {
                    let items = stock_items(&ddb, sku, shards).await;
                    assert!(
                        items.iter().all(|(_, _, free)| *free >= 0),
                        "{sku}: an item below zero free: {items:?}"
                    );
                }
                Some(out)
            },
        )
        .await;
    let settled = started.elapsed();

    let mut by_sku: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for (status, sku) in &statuses {
        *by_sku
            .entry(sku)
            .or_default()
            .entry(status.clone())
            .or_default() += 1;
    }
    let levels = setup::stock_levels(&stack, &world.acme).await;
    let mut by_items = Vec::new();
    for (sku, backorder, shards) in SKUS {
        let counts = &by_sku[sku];
        let demanded = orders / SKUS.len()
            + usize::from(SKUS.iter().position(|s| s.0 == sku).unwrap() < orders % SKUS.len());
        let routed = counts.get("routed").copied().unwrap_or(0);
        let waiting = if backorder {
            "backordered"
        } else {
            "cancelled"
        };
        assert_eq!(routed, STOCK as usize, "{sku}: {counts:?}");
        assert_eq!(
            routed + counts.get(waiting).copied().unwrap_or(0),
            demanded,
            "{sku}: {counts:?}"
        );
        assert_eq!(
            levels[sku],
            (STOCK, STOCK),
            "{sku}: everything reserved, nothing more"
        );
        let items = stock_items(&ddb, sku, shards).await;
        let holding = items
            .iter()
            .filter(|(_, reserved, _)| *reserved > 0)
            .count();
        assert!(
            holding == usize::from(shards) || shards == 1,
            "{sku}: the reservations were spread over every item: {items:?}"
        );
        by_items.push(format!("{sku} {items:?}"));
    }
    eprintln!(
        "races: {orders} orders on {} skus: intake {:.1}s, settled {:.1}s, {by_sku:?}; \
         (available, reserved, free) per stock item: {by_items:?}",
        SKUS.len(),
        intake.as_secs_f64(),
        settled.as_secs_f64()
    );
}

/// Free units per item when `stock` is spread evenly over `shards` items.
fn spread(stock: i64, shards: u16) -> Vec<i64> {
    let n = i64::from(shards);
    (0..n)
        .map(|k| stock / n + i64::from(k < stock % n))
        .collect()
}

/// (available, reserved, free) of each stock item of the sku at acme, root first, as stored.
async fn stock_items(
    ddb: &aws_sdk_dynamodb::Client,
    sku: &str,
    shards: u16,
) -> Vec<(i64, i64, i64)> {
    stock_items_of(ddb, FULFILLER, sku, shards).await
}

/// (available, reserved, free) of each stock item of a fulfiller's sku, root first, as stored.
pub async fn stock_items_of(
    ddb: &aws_sdk_dynamodb::Client,
    fulfiller: &str,
    sku: &str,
    shards: u16,
) -> Vec<(i64, i64, i64)> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut out = Vec::new();
    for k in 0..shards {
        let key = if k == 0 {
            fulfiller.to_string()
        } else {
            format!("{fulfiller}~{k}")
        };
        let item = ddb
            .get_item()
            .table_name("StockTable")
            .key("fulfillerId", AttributeValue::S(key))
            .key("sku", AttributeValue::S(sku.to_string()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        let n = |a: &str| {
            item.get(a)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        out.push((n("available"), n("reserved"), n("free")));
    }
    out
}
