//! Races: orders arrive at once for three hot skus with 100 units each (`make test`: 450 orders;
//! `make soak`: RACE_ORDERS=1000, figures in RELIABILITY.md). Every reservation
//! is conditional on free stock, so exactly 100 units of each are routed, none oversold,
//! `available - reserved` never below zero, and every order is accounted for: routed,
//! backordered (a sku that allows it) or cancelled as unroutable (one that does not).

use crate::setup;

use crate::support::Stack;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STOCK: i64 = 100;
const SKUS: [(&str, bool); 3] = [("HOT-A", true), ("HOT-B", false), ("HOT-C", true)];

#[tokio::test]
async fn concurrent_orders_on_three_hot_skus_oversell_nothing() {
    let orders: usize = std::env::var("RACE_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(450);
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    for (sku, backorder) in SKUS {
        let (status, _) = stack
            .put(
                &format!("/admin/products/{sku}"),
                admin,
                &json!({"name": sku, "taxClass": "standard", "group": "hot", "allowBackorder": backorder,
                        "sources": [{"fulfillerId": "acme-garden", "priority": 1}]}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let items: Vec<Value> = SKUS
        .iter()
        .map(|(sku, _)| json!({"sku": sku, "available": STOCK}))
        .collect();
    let (status, _) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.acme),
            &json!({ "items": items }),
        )
        .await;
    assert_eq!(status, 200);

    let started = Instant::now();
    let created: Vec<(String, &str)> = stream::iter(0..orders)
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
        .collect()
        .await;
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
    for (sku, backorder) in SKUS {
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
    }
    eprintln!(
        "races: {orders} orders on {} skus: intake {:.1}s, settled {:.1}s, {by_sku:?}",
        SKUS.len(),
        intake.as_secs_f64(),
        settled.as_secs_f64()
    );
}
