//! The runner's fault injection (`/_local/faults`), each kind once: an order still goes all
//! the way through when its router is killed mid-invocation, when every routing message is
//! delivered two or three times, when messages are held back, and when the emulator answers
//! with throttling errors or 500s; and the runner counts what it did.

use crate::setup;

use std::time::{Duration, Instant};

use crate::support::Stack;
use serde_json::{json, Value};

async fn post_order(stack: &Stack, token: &str, n: &str) -> String {
    let body = setup::order(
        &format!("FAULT-{n}"),
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"},
               {"lineId": "L2", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "99.00"},
               {"lineId": "L3", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "59.00"}]),
        "207.00",
    );
    let (status, resp) = stack
        .post_idempotent("/orders", Some(token), &format!("fault-{n}"), &body)
        .await;
    assert_eq!(status, 201, "{resp}\n{}", stack.output.tail(40));
    resp["id"].as_str().expect("order id").to_string()
}

/// Waits until the order has left `accepted` (routing done) and returns its status.
async fn routed(stack: &Stack, token: &str, id: &str, within: Duration) -> String {
    stack
        .eventually(&format!("order {id} routed"), within, || async {
            let (status, body) = stack.get(&format!("/orders/{id}"), Some(token)).await;
            let s = body["status"].as_str().unwrap_or_default().to_string();
            (status == 200 && s != "accepted").then_some(s)
        })
        .await
}

async fn add_fault(stack: &Stack, rule: Value) -> Value {
    let (status, body) = stack.post("/_local/faults", None, &rule).await;
    assert_eq!(status, 201, "{rule}: {body}");
    body
}

async fn clear_faults(stack: &Stack) {
    let (status, body) = stack.delete("/_local/faults", None).await;
    assert_eq!(status, 200, "{body}");
}

fn fault_count(stats: &Value, function: &str, what: &str) -> u64 {
    stats[function]["faults"][what].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_fault_kind_leaves_the_pipeline_whole() {
    // Killed messages come back after the visibility timeout: keep it short.
    let stack = Stack::builder()
        .param("QueueVisibilityTimeoutSeconds", "2")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    let web = world.web.as_str();

    // Bad rules are refused with the reason; nothing is stored.
    for bad in [
        json!({"function": "no-such-function", "kill": true}),
        json!({"function": "split-router"}),
        json!({"failAws": {"kind": "sometimes"}}),
    ] {
        let (status, body) = stack.post("/_local/faults", None, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, listed) = stack.get("/_local/faults", None).await;
    assert_eq!(listed["rules"], json!([]));

    // Kill: the router dies at a random point of its first invocation; the message comes
    // back after the visibility timeout and the order is routed by the replacement.
    add_fault(
        &stack,
        json!({"function": "split-router", "kill": {"probability": 1.0, "count": 1}}),
    )
    .await;
    let id = post_order(&stack, web, "kill").await;
    let status = routed(&stack, web, &id, Duration::from_secs(60)).await;
    assert_eq!(status, "routed");
    let stats = stack.stats().await;
    assert_eq!(fault_count(&stats, "split-router", "killed"), 1, "{stats}");
    assert!(stats["split-router"]["errors"].as_u64().unwrap_or(0) >= 1);
    clear_faults(&stack).await;

    // Duplicates: every routing batch is delivered two or three times; the order is routed
    // once (three delivery orders, not six or nine).
    add_fault(
        &stack,
        json!({"function": "split-router", "duplicate": {"times": [2, 3]}}),
    )
    .await;
    let id = post_order(&stack, web, "dup").await;
    assert_eq!(
        routed(&stack, web, &id, Duration::from_secs(60)).await,
        "routed"
    );
    let stats = stack.stats().await;
    assert!(
        fault_count(&stats, "split-router", "duplicateMessages") >= 1,
        "{stats}"
    );
    let (_, order) = stack.get(&format!("/orders/{id}"), Some(web)).await;
    assert_eq!(
        order["deliveries"].as_array().map(Vec::len),
        Some(3),
        "{order}"
    );
    clear_faults(&stack).await;

    // Delay: routing waits for the held-back message.
    add_fault(&stack, json!({"function": "split-router", "delayMs": 1500})).await;
    let started = Instant::now();
    let id = post_order(&stack, web, "delay").await;
    routed(&stack, web, &id, Duration::from_secs(60)).await;
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let stats = stack.stats().await;
    assert!(
        fault_count(&stats, "split-router", "delayedBatches") >= 1,
        "{stats}"
    );
    clear_faults(&stack).await;

    // AWS errors, counted through the call log. One throttle: the SDK retries it and the
    // request succeeds. Three 500s in a row exhaust the SDK's attempts: the routing
    // invocation fails, its message comes back, and the next attempt routes the order.
    let (status, body) = stack
        .put("/_local/calls", None, &json!({"recording": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    add_fault(
        &stack,
        json!({"failAws": {"function": "order-intake", "service": "dynamodb",
            "operation": "PutItem", "kind": "throttle", "count": 1}}),
    )
    .await;
    add_fault(
        &stack,
        json!({"function": "split-router", "failAws": {"service": "dynamodb",
            "operation": "TransactWriteItems", "kind": "500", "count": 3}}),
    )
    .await;
    let id = post_order(&stack, web, "aws").await;
    assert_eq!(
        routed(&stack, web, &id, Duration::from_secs(60)).await,
        "routed"
    );
    let (_, calls) = stack.get("/_local/calls", None).await;
    let op = |f: &str, op: &str| calls["functions"][f]["services"]["dynamodb"][op].clone();
    let tx = |f: &str| op(f, "TransactWriteItems");
    // The intake's PutItems: the idempotency claim (throttled once, retried) and the order.
    assert_eq!(op("order-intake", "PutItem")["errors"], 1, "{calls}");
    assert!(
        op("order-intake", "PutItem")["count"].as_u64().unwrap_or(0) >= 3,
        "{calls}"
    );
    // The three 500s; a redelivery that meets another attempt's commit may add a conflict
    // (a condition failure, by design), so the fault's own counts below say how many fired.
    assert!(
        tx("split-router")["errors"].as_u64().unwrap_or(0) >= 3,
        "{calls}"
    );
    let stats = stack.stats().await;
    assert_eq!(fault_count(&stats, "order-intake", "failedAwsCalls"), 1);
    assert_eq!(fault_count(&stats, "split-router", "failedAwsCalls"), 3);
    let (_, listed) = stack.get("/_local/faults", None).await;
    assert_eq!(listed["rules"][1]["fired"]["awsFailures"], 3, "{listed}");
    clear_faults(&stack).await;
}
