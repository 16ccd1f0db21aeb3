//! Accepted means routed, and committed means followed up, whatever dies in between: the
//! follow-ups are written with the change (the order item's outbox) and the change relay sends
//! them from the orders table's stream. Killing the relay around its sends only delays them; a
//! batch retried after a lost answer sends again, and the consumers make that harmless.

use crate::setup;

use crate::support::Stack;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]

async fn a_relay_killed_around_its_sends_loses_no_follow_up_and_doubles_no_mail() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // The relay's next two invocations die after their first call: the queue has the
    // messages, the relay never answered, so the stream source delivers the batch again.
    for kill in [json!({"count": 2, "afterCall": 1})] {
        let (status, body) = stack
            .post(
                "/_local/faults",
                None,
                &json!({"function": "change-relay", "kill": kill}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let body = setup::order(
        "WEB-OUTBOX",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "129.00"}]),
        "129.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "outbox-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["orderId"].as_str().unwrap().to_string();

    // Routed (the intake's outbox), its delivery order with documents (the router's outbox).
    let delivery =
        setup::first_delivery_order(&stack, &world.acme, 1, Duration::from_secs(60)).await;
    assert_eq!(delivery["orderId"], id.as_str());
    stack
        .eventually("the fulfiller's mail", Duration::from_secs(60), || async {
            let mails = stack.outbox().await;
            setup::mails_to(&mails, setup::ACME_EMAIL)
                .first()
                .map(|m| (*m).clone())
        })
        .await;
    // A second relay of the same records (the killed batches came again) made no second
    // delivery order and no second mail to the fulfiller.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, order) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
    assert_eq!(order["status"], "routed", "{order}");
    let to_acme = setup::mails_to(&stack.outbox().await, setup::ACME_EMAIL).len();
    assert_eq!(to_acme, 1, "one mail to the fulfiller");
    let stats = stack.stats().await;
    assert_eq!(
        stats["change-relay"]["faults"]["killed"].as_u64(),
        Some(2),
        "both kills hit the relay: {stats}"
    );
}

/// Two kinds of poison on the orders table's stream, neither holding back what comes after
/// it for longer than the event source's retry policy, and both ending in the relay's
/// dead-letter queue, where alerting raises its alert:
/// - an outbox no relay can read (here written straight into the table) is parked whole by
///   the relay at once;
/// - a record whose sends keep failing (SQS refusing every call) is retried 10 times, then its
///   shard position goes to the on-failure destination and the shard moves on.
#[tokio::test(flavor = "multi_thread")]
async fn poison_stream_records_end_in_the_dead_letter_queue_and_block_nothing_for_long() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let cfg = stack.aws_sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let dead = crate::support::queue_url(&sqs, "ChangeRelayDeadLetterQueue").await;
    let s = |v: &str| AttributeValue::S(v.to_string());
    let unreadable = AttributeValue::M(
        [
            ("commitId".to_string(), s("poison-1")),
            (
                "messages".to_string(),
                AttributeValue::L(vec![AttributeValue::M(
                    [
                        ("queue".to_string(), s("nowhere")),
                        ("body".to_string(), s("{}")),
                    ]
                    .into(),
                )]),
            ),
        ]
        .into(),
    );
    ddb.put_item()
        .table_name("OrdersTable")
        .item("pk", s("ord_poison"))
        .item("outbox", unreadable)
        .send()
        .await
        .unwrap();
    let behind_parked = routed_after(&stack, &world, "behind-parked").await;
    let parked = dead_letter(&stack, &sqs, &dead, |m| m["reason"].is_string()).await;
    assert_eq!(parked["reason"], "unreadable_outbox", "{parked}");
    assert_eq!(
        parked["record"]["NewImage"]["pk"]["S"], "ord_poison",
        "the whole record is kept: {parked}"
    );

    // SQS refuses the relay's sends until the fault is lifted.
    let rule = json!({"failAws": {"function": "change-relay", "service": "sqs", "kind": "500"}});
    let (status, body) = stack.post("/_local/faults", None, &rule).await;
    assert_eq!(status, 201, "{body}");
    let body = setup::order(
        "WEB-UNSENT",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "129.00"}]),
        "129.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "unsent", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let gave_up = dead_letter(&stack, &sqs, &dead, |m| m["requestContext"].is_object()).await;
    stack
        .request("DELETE", "/_local/faults", None, None, &[])
        .await;
    assert_eq!(
        gave_up["requestContext"]["condition"], "RetryAttemptsExhausted",
        "{gave_up}"
    );
    assert_eq!(gave_up["requestContext"]["approximateInvokeCount"], 11);
    let behind_exhausted = routed_after(&stack, &world, "behind-exhausted").await;
    let stats = stack.stats().await;
    let relay = &stats["change-relay"]["streams"]["OrderChanges"];
    // The unsent order's record, and any other committed while SQS refused everything.
    assert!(relay["discarded"].as_u64() >= Some(1), "{stats}");
    assert!(relay["retries"].as_u64() >= Some(10), "{stats}");

    assert_eq!(stack.run_schedule("alerting").await, 202);
    stack
        .eventually("the dead-letter alert", Duration::from_secs(20), || async {
            let (_, alerts) = stack
                .get("/admin/alerts?state=open", Some(&stack.admin_token))
                .await;
            alerts["items"]
                .as_array()?
                .iter()
                .any(|a| {
                    a["type"] == "dead_lettered_messages"
                        && a["subject"] == "ChangeRelayDeadLetterQueue"
                })
                .then_some(())
        })
        .await;
    eprintln!(
        "poison stream records: routed {behind_parked:?} after an unreadable outbox was \
         parked, {behind_exhausted:?} after the sends were allowed again"
    );
}

/// Places an order and waits for it to be routed; how long that took.
async fn routed_after(stack: &Stack, world: &setup::World, key: &str) -> Duration {
    let started = std::time::Instant::now();
    let body = setup::order(
        &format!("WEB-{key}"),
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "129.00"}]),
        "129.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), key, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["orderId"].as_str().unwrap().to_string();
    stack
        .eventually("the order routed", Duration::from_secs(60), || async {
            let (_, o) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
            (o["status"] == "routed").then_some(())
        })
        .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "routed only after {took:?}");
    took
}

/// The dead-letter queue's message that `matches`, left on the queue (alerting counts it).
async fn dead_letter(
    stack: &Stack,
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    matches: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    stack
        .eventually("a dead letter", Duration::from_secs(60), || async {
            let got = sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await
                .ok()?;
            got.messages?
                .iter()
                .filter_map(|m| serde_json::from_str(m.body()?).ok())
                .find(|v| matches(v))
        })
        .await
}
