//! Accepted means routed, and committed means followed up, whatever dies in between: the
//! follow-ups are written with the change (the order item's outbox) and the change relay sends
//! them from the orders table's stream. Killing the relay around its sends only delays them; a
//! batch retried after a lost answer sends again, and the consumers make that harmless.

use crate::setup;

use crate::support::Stack;
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
            stack.outbox().await.into_iter().find(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|t| t == setup::ACME_EMAIL))
            })
        })
        .await;
    // A second relay of the same records (the killed batches came again) made no second
    // delivery order and no second mail to the fulfiller.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, order) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
    assert_eq!(order["status"], "routed", "{order}");
    let to_acme = stack
        .outbox()
        .await
        .into_iter()
        .filter(|m| {
            m["to"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t == setup::ACME_EMAIL))
        })
        .count();
    assert_eq!(to_acme, 1, "one mail to the fulfiller");
    let stats = stack.stats().await;
    assert_eq!(
        stats["change-relay"]["faults"]["killed"].as_u64(),
        Some(2),
        "both kills hit the relay: {stats}"
    );
}
