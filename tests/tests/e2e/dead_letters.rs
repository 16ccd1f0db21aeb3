//! Nothing is lost: a message that keeps failing ends in its dead-letter queue after
//! maxReceiveCount receives, and the alerting function opens a business alert for it.

use crate::setup;

use crate::support::{queue_url, Stack};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_message_that_always_fails_ends_in_its_dead_letter_queue_and_raises_an_alert() {
    let stack = Stack::builder()
        .param("QueueVisibilityTimeoutSeconds", "1")
        .param("QueueMaxReceiveCount", "2")
        .start()
        .await;
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let route = queue_url(&sqs, "RouteQueue").await;
    let dead = queue_url(&sqs, "RouteDeadLetterQueue").await;
    // One unreadable message, one about an order that does not exist: both fail every time.
    for body in [
        "{not json".to_string(),
        json!({"orderId": "ord_missing"}).to_string(),
    ] {
        sqs.send_message()
            .queue_url(&route)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }
    // The poison does not block anything else: an order sent behind it is routed meanwhile.
    let world = setup::configure(&stack).await;
    let (status, created) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "behind-the-poison",
            &setup::order(
                "WEB-BEHIND",
                json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"}]),
                "10.00",
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    stack
        .eventually("the good order routed", Duration::from_secs(30), || async {
            let (_, l) = stack
                .get("/fulfiller/delivery-orders", Some(&world.acme))
                .await;
            (l["items"].as_array()?.len() == 1).then_some(())
        })
        .await;
    let count = |queue: String| {
        let sqs = sqs.clone();
        async move {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(queue)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send()
                .await
                .ok()?;
            attrs
                .attributes()?
                .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)?
                .parse::<u32>()
                .ok()
        }
    };
    stack
        .eventually(
            "both poison messages in RouteDeadLetterQueue",
            Duration::from_secs(60),
            || {
                let dead = dead.clone();
                let count = &count;
                async move { (count(dead).await? == 2).then_some(()) }
            },
        )
        .await;
    assert_eq!(
        count(route.clone()).await,
        Some(0),
        "the work queue still holds a poison message"
    );

    // The split router reported them as batch failures, so they were retried, never dropped.
    let stats = stack.stats().await;
    assert!(
        stats["split-router"]["invocations"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );

    // Alerting turns the dead letters into one open business alert.
    assert_eq!(stack.run_schedule("alerting").await, 202);
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let alert = stack
        .eventually("an open dead-letter alert", Duration::from_secs(20), || {
            let ddb = ddb.clone();
            async move {
                let item = ddb
                    .get_item()
                    .table_name("AlertsTable")
                    .key(
                        "pk",
                        aws_sdk_dynamodb::types::AttributeValue::S(
                            "dead_lettered_messages#RouteDeadLetterQueue".into(),
                        ),
                    )
                    .send()
                    .await
                    .ok()?
                    .item?;
                (item.get("state")?.as_s().ok()? == "open").then_some(item)
            }
        })
        .await;
    assert!(
        alert["details"].as_s().unwrap().contains("2 message"),
        "{alert:?}"
    );
    // A second run finds the same open problem and does not open another alert.
    assert_eq!(stack.run_schedule("alerting").await, 202);
    // The retailer sees it through the API.
    let (status, alerts) = stack
        .get("/admin/alerts?state=open", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{alerts}");
    let open: Vec<&serde_json::Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "dead_lettered_messages")
        .collect();
    assert_eq!(open.len(), 1, "{alerts}");
    assert_eq!(open[0]["subject"], "RouteDeadLetterQueue");
    let (status, _) = stack
        .get("/admin/alerts?state=maybe", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 422);
}
