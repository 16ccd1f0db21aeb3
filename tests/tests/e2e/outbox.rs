//! Accepted means queued for routing, even if the intake dies between storing the order and
//! sending its routing message: the order's own `routePending` marker (a sparse index, written
//! with the order, removed by the router's write) makes the relay send it.

use crate::setup;

use crate::support::Stack;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_order_whose_routing_message_was_lost_is_routed_by_the_outbox_relay() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let body = setup::order(
        "WEB-OUTBOX",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}]),
        "49.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "outbox-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["orderId"].as_str().unwrap().to_string();

    // Simulate the crash: a copy of that order as the intake stores it, marker included, but no
    // routing message ever sent (two minutes old, so the relay takes it).
    let cfg = stack.aws_sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let stored = ddb
        .get_item()
        .table_name("OrdersTable")
        .key("pk", AttributeValue::S(format!("ORDER#{id}")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let lost = format!("{id}-lost");
    let mut item = stored.clone();
    item.insert("pk".into(), AttributeValue::S(format!("ORDER#{lost}")));
    item.insert("id".into(), AttributeValue::S(lost.clone()));
    item.insert(
        "externalId".into(),
        AttributeValue::S("WEB-OUTBOX-LOST".into()),
    );
    item.insert("status".into(), AttributeValue::S("accepted".into()));
    item.insert("deliveryOrderIds".into(), AttributeValue::L(vec![]));
    item.insert("routingRound".into(), AttributeValue::N("0".into()));
    item.insert("version".into(), AttributeValue::N("0".into()));
    let two_minutes_ago = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    item.insert(
        "gsi1sk".into(),
        AttributeValue::S(format!("{two_minutes_ago}#{lost}")),
    );
    item.insert("routePending".into(), AttributeValue::S("ROUTE".into()));
    ddb.put_item()
        .table_name("OrdersTable")
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, o) = stack
        .get(&format!("/orders/{lost}"), Some(&world.web))
        .await;
    assert_eq!(
        o["status"], "accepted",
        "nothing routes it without the relay"
    );

    assert_eq!(stack.run_schedule("outbox-relay").await, 202);
    stack
        .eventually(
            "the lost order routed by the relay",
            Duration::from_secs(30),
            || async {
                let (_, o) = stack
                    .get(&format!("/orders/{lost}"), Some(&world.web))
                    .await;
                (o["status"] == "routed").then_some(())
            },
        )
        .await;
    // Routed orders carry no marker, so another run sends nothing more; neither does the
    // normally accepted order, whose routing removed its marker.
    for order in [&lost, &id] {
        let stored = ddb
            .get_item()
            .table_name("OrdersTable")
            .key("pk", AttributeValue::S(format!("ORDER#{order}")))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(stored["status"], AttributeValue::S("routed".into()));
        assert!(
            !stored.contains_key("routePending"),
            "{order} still waits for a routing message"
        );
    }
    // An order younger than a minute is left to the intake: the relay does not send it twice.
    let pending = ddb
        .query()
        .table_name("OrdersTable")
        .index_name("byRoutePending")
        .key_condition_expression("routePending = :r")
        .expression_attribute_values(":r", AttributeValue::S("ROUTE".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.count(), 0, "{:?}", pending.items());
}
