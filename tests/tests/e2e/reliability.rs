//! The faults AWS promises, injected by the local runner (/_local/faults), and the invariants
//! that must hold afterwards, checked from the stored state:
//! - duplicates: every SQS batch of every function delivered two or three times -> no second
//!   delivery order, reservation, stock change, refund or mail;
//! - crashes: orders run through the pipeline while functions are killed at random points
//!   (`make test`: 10 runs; `make soak`: CRASH_RUNS=100, figures in RELIABILITY.md) -> every
//!   order routed exactly once, no reservation leaked or doubled;
//! - failing AWS calls: throttling and 500s on the routing transaction -> retried, same result.

use crate::setup;

use crate::support::Stack;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(90);

async fn fault(stack: &Stack, rule: Value) {
    let (status, body) = stack.post("/_local/faults", None, &rule).await;
    assert_eq!(status, 201, "{rule}: {body}");
}

/// POST /orders until it answers 201: a killed intake answers 502, and the same request with
/// the same Idempotency-Key is the client's way to find out what happened.
async fn place(stack: &Stack, token: &str, key: &str, body: &Value) -> String {
    for _ in 0..40 {
        let (status, created) = stack
            .post_idempotent("/orders", Some(token), key, body)
            .await;
        match status {
            201 => return created["orderId"].as_str().unwrap().to_string(),
            // Killed mid-way (502), or the first attempt's record still in progress (409).
            502 | 500 | 503 | 409 => tokio::time::sleep(Duration::from_millis(500)).await,
            other => panic!("{key}: {other} {created}"),
        }
    }
    panic!("{key}: never accepted")
}

#[tokio::test]
async fn every_message_delivered_two_or_three_times_changes_nothing_twice() {
    // One delivery after the other, as SQS redelivers after a visibility timeout: the second
    // finds the first's work done.
    duplicates_change_nothing_twice(false).await;
}

#[tokio::test]
async fn every_message_delivered_two_or_three_times_at_once_changes_nothing_twice() {
    // All deliveries at the same moment, as two pollers can receive one message: they race for
    // the same conditional writes and idempotency claims, and one mail still goes out once.
    duplicates_change_nothing_twice(true).await;
}

async fn duplicates_change_nothing_twice(concurrent: bool) {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // Every SQS-driven function gets each batch two or three times.
    fault(
        &stack,
        json!({"duplicate": {"times": [2, 3], "concurrent": concurrent}}),
    )
    .await;

    let body = setup::order(
        "WEB-DUP",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "10.00"},
               {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "20.00"}]),
        "40.00",
    );
    let order_id = place(&stack, &world.web, "dup-1", &body).await;
    let delivery = |token: String| {
        let stack = &stack;
        async move {
            stack
                .eventually("a delivery order with documents", WAIT, || async {
                    let (_, l) = stack.get("/fulfiller/delivery-orders", Some(&token)).await;
                    let items = l["items"].as_array()?.clone();
                    let id = items.first()?["id"].as_str()?.to_string();
                    let (_, d) = stack
                        .get(&format!("/fulfiller/delivery-orders/{id}"), Some(&token))
                        .await;
                    (d["documents"].as_array()?.len() == 3).then_some(items)
                })
                .await
        }
    };
    let at_acme = delivery(world.acme.clone()).await;
    let at_nordic = delivery(world.nordic.clone()).await;
    let acme_id = at_acme[0]["id"].as_str().unwrap().to_string();
    let (status, _) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{acme_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "DUP-1"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, r) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap().to_string();
    stack
        .eventually("the return label mail", WAIT, || async {
            let mails = stack.outbox().await;
            setup::mails_to(&mails, "carla@example.com")
                .iter()
                .any(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
                .then_some(())
        })
        .await;
    let (status, _) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200);
    stack
        .eventually("the refund mail", WAIT, || async {
            let mails = stack.outbox().await;
            (setup::mails_to(&mails, "carla@example.com").len() >= 4).then_some(())
        })
        .await;
    // Let every duplicate run out.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Exactly one of everything.
    assert_eq!(
        (at_acme.len(), at_nordic.len()),
        (1, 1),
        "one delivery order per fulfiller"
    );
    let (_, o) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(o["deliveries"].as_array().unwrap().len(), 2, "{o}");
    assert_eq!(o["refunds"].as_array().unwrap().len(), 1, "one refund: {o}");
    assert_eq!(o["refunds"][0]["amount"], "10.00");
    let acme = setup::stock_levels(&stack, &world.acme).await;
    assert_eq!(
        acme["CHAIR-TEAK"],
        (19, 0),
        "20 - 2 shipped + 1 back, nothing reserved"
    );
    let nordic = setup::stock_levels(&stack, &world.nordic).await;
    assert_eq!(nordic["THROW-WOOL"], (20, 1), "one unit reserved once");
    let mails = stack.outbox().await;
    let customer: Vec<String> = setup::mails_to(&mails, "carla@example.com")
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        customer.len(),
        4,
        "confirmation, shipment, return labels, refund - once each: {customer:?}"
    );
    assert_eq!(
        setup::mails_to(&mails, setup::ACME_EMAIL).len(),
        1,
        "one new-delivery mail to acme"
    );
    assert_eq!(
        setup::mails_to(&mails, setup::NORDIC_EMAIL).len(),
        1,
        "one to nordic"
    );
    // The duplicates really happened, to every message kind's consumer.
    let stats = stack.stats().await;
    for f in [
        "split-router",
        "document-generator",
        "notifier",
        "return-processor",
    ] {
        let d = stats[f]["faults"]["duplicateBatches"].as_u64().unwrap_or(0);
        assert!(d > 0, "{f} got no duplicates: {}", stats[f]);
    }
}

#[tokio::test]
async fn orders_survive_functions_killed_at_random_points() {
    let runs = setup::count_from_env("CRASH_RUNS", 10);
    let stack = Stack::builder()
        .param("QueueVisibilityTimeoutSeconds", "2")
        .param("QueueMaxReceiveCount", "20")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    // The chair's stock spread over 4 stock shards: its reservations land on several items and
    // must add up all the same, however often a routing attempt dies half-way.
    let (status, _) = stack
        .put(
            "/admin/products/CHAIR-TEAK",
            Some(&stack.admin_token),
            &json!({"name": "CHAIR-TEAK", "taxClass": "standard", "group": "g", "stockShards": 4,
                    "sources": [{"fulfillerId": "acme-garden", "priority": 1, "purchasePrice": "64.00"}]}),
        )
        .await;
    assert_eq!(status, 200);
    setup::put_stock(&stack, &world.acme, "CHAIR-TEAK", 1000).await;
    setup::put_stock(&stack, &world.nordic, "THROW-WOOL", 1000).await;
    for f in [
        "order-intake",
        "split-router",
        "document-generator",
        "notifier",
    ] {
        fault(&stack, json!({"function": f, "kill": {"probability": 0.3}})).await;
    }
    let started = Instant::now();
    let ids: Vec<String> = stream::iter(0..runs)
        .map(|i| {
            let stack = &stack;
            let web = &world.web;
            async move {
                let body = setup::order(
                    &format!("CRASH-{i}"),
                    json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"},
                           {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 2, "unitPrice": "5.00"}]),
                    "20.00",
                );
                place(stack, web, &format!("crash-{i}"), &body).await
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        runs,
        "one order per request, however often it was retried"
    );

    // Every order ends routed, with exactly one delivery order per fulfiller.
    stack
        .eventually("every order routed", Duration::from_secs(600), || async {
            for id in &ids {
                let (_, o) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
                if o["status"] != "routed" {
                    return None;
                }
                assert_eq!(o["deliveries"].as_array()?.len(), 2, "{o}");
            }
            Some(())
        })
        .await;
    let settled = started.elapsed();
    stack
        .request("DELETE", "/_local/faults", None, None, &[])
        .await;
    // No reservation leaked or doubled: reserved is exactly what the delivery orders hold.
    assert_eq!(
        setup::stock_levels(&stack, &world.acme).await["CHAIR-TEAK"],
        (1000, runs as i64)
    );
    assert_eq!(
        setup::stock_levels(&stack, &world.nordic).await["THROW-WOOL"],
        (1000, 2 * runs as i64)
    );
    // Item by item, too: nothing below zero free, and the reservations on more than one item.
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let items = crate::races::stock_items_of(&ddb, "acme-garden", "CHAIR-TEAK", 4).await;
    assert_eq!(
        items.iter().map(|i| i.1).sum::<i64>(),
        runs as i64,
        "{items:?}"
    );
    assert!(items.iter().all(|i| i.2 >= 0), "{items:?}");
    assert!(
        runs < 4 || items.iter().filter(|i| i.1 > 0).count() > 1,
        "{items:?}"
    );
    let (_, acme) = stack
        .get("/fulfiller/delivery-orders?limit=200", Some(&world.acme))
        .await;
    assert_eq!(acme["items"].as_array().unwrap().len(), runs.min(200));
    let stats = stack.stats().await;
    let killed: u64 = [
        "order-intake",
        "split-router",
        "document-generator",
        "notifier",
    ]
    .iter()
    .map(|f| stats[*f]["faults"]["killed"].as_u64().unwrap_or(0))
    .sum();
    assert!(killed > 0, "nothing was killed: {stats}");
    eprintln!(
        "crashes: {runs} orders, {killed} kills, every order routed exactly once in {:.1}s",
        settled.as_secs_f64()
    );
}

#[tokio::test]
async fn throttled_and_failing_aws_calls_are_retried_to_the_same_result() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // The routing transaction is throttled twice and then fails once with a 500; the intake's
    // first writes (PutItem: its idempotency claim, then the order) fail twice: the SDK's
    // retries and SQS's redelivery carry it through.
    fault(
        &stack,
        json!({"failAws": {"function": "split-router", "service": "dynamodb", "operation": "TransactWriteItems", "kind": "throttle", "count": 2}}),
    )
    .await;
    fault(
        &stack,
        json!({"failAws": {"function": "split-router", "service": "dynamodb", "operation": "TransactWriteItems", "kind": "500", "count": 1}}),
    )
    .await;
    fault(
        &stack,
        json!({"failAws": {"function": "order-intake", "service": "dynamodb", "operation": "PutItem", "kind": "500", "count": 2}}),
    )
    .await;
    let body = setup::order(
        "WEB-THROTTLE",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 3, "unitPrice": "10.00"}]),
        "30.00",
    );
    let order_id = place(&stack, &world.web, "throttle-1", &body).await;
    stack
        .eventually("the order routed", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{order_id}"), Some(&world.web))
                .await;
            (o["status"] == "routed").then_some(())
        })
        .await;
    assert_eq!(
        setup::stock_levels(&stack, &world.acme).await["CHAIR-TEAK"],
        (20, 3)
    );
    let stats = stack.stats().await;
    let failed = stats["split-router"]["faults"]["failedAwsCalls"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(failed, 3, "{}", stats["split-router"]);
}
