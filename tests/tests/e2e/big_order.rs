//! An order of 100 lines, each its own sku, at one fulfiller: more stock items than one DynamoDB
//! transaction holds, so the reservations are taken in chunks and the order still routes as a
//! whole, into one delivery order.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_hundred_line_order_routes_into_one_delivery_order() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let skus: Vec<String> = (0..100).map(|i| format!("BULK-{i:03}")).collect();
    for sku in &skus {
        let (status, body) = stack
            .put(
                &format!("/admin/products/{sku}"),
                admin,
                &json!({"name": sku, "taxClass": "standard", "group": "bulk",
                "sources": [{"fulfillerId": "acme-garden", "priority": 1}]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let items: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku": s, "available": 5}))
        .collect();
    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.acme),
            &json!({ "items": items }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let lines: Vec<Value> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"lineId": format!("L{i}"), "sku": s, "quantity": 2, "unitPrice": "1.00"}))
        .collect();
    let (status, created) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "bulk-1",
            &setup::order("WEB-BULK", json!(lines), "200.00"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["orderId"].as_str().unwrap().to_string();
    let view = stack
        .eventually(
            "the 100-line order routed",
            Duration::from_secs(60),
            || async {
                let (_, o) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
                (o["status"] == "routed").then_some(o)
            },
        )
        .await;
    assert_eq!(view["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(
        view["deliveries"][0]["lines"].as_array().unwrap().len(),
        100
    );
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    let bulk: Vec<&Value> = stock["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["sku"].as_str().unwrap().starts_with("BULK-"))
        .collect();
    assert_eq!(bulk.len(), 100);
    assert!(
        bulk.iter()
            .all(|i| i["reserved"] == 2 && i["available"] == 5),
        "{stock}"
    );
}
