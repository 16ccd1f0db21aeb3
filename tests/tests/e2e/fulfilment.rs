//! A dropshipper works its delivery order over HTTP: accepts it, ships part, the channel can no
//! longer cancel what shipped, cancels the rest; stock and statuses follow; the customer hears
//! about the parcel in the retailer's name.

use crate::setup;

use crate::support::Stack;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn accept_ship_in_parts_and_cancel_only_what_did_not_ship() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let body = setup::order(
        "WEB-SHIP",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 3, "unitPrice": "99.00"}]),
        "297.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "ship-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery_id = stack
        .eventually(
            "the delivery order at acme",
            Duration::from_secs(30),
            || async {
                let (_, list) = stack
                    .get("/fulfiller/delivery-orders?status=open", Some(&world.acme))
                    .await;
                list["items"].as_array()?.first()?["id"]
                    .as_str()
                    .map(String::from)
            },
        )
        .await;
    let path = |action: &str| format!("/fulfiller/delivery-orders/{delivery_id}/{action}");

    // Only its own fulfiller may act on it.
    let (status, _) = stack
        .post(&path("accept"), Some(&world.nordic), &json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, d) = stack
        .post(&path("accept"), Some(&world.acme), &json!({}))
        .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("accepted")),
        "{d}"
    );
    let (status, d) = stack
        .post(&path("accept"), Some(&world.acme), &json!({}))
        .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("accepted")),
        "accepting twice changes nothing"
    );
    let (_, list) = stack
        .get(
            "/fulfiller/delivery-orders?status=accepted",
            Some(&world.acme),
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Bad shipments change nothing.
    let (status, e) = stack.post(&path("shipments"), Some(&world.acme), &json!({"carrier": "DHL", "trackingNumber": "X", "lines": [{"lineId": "L1", "quantity": 4}]})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].quantity"))
    );
    let (status, e) = stack
        .post(
            &path("shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "X", "shippedAt": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("shippedAt"))
    );

    // Two of three ship.
    let (status, d) = stack
        .post(&path("shipments"), Some(&world.acme), &json!({"carrier": "DHL", "trackingNumber": "00340434161094000001", "lines": [{"lineId": "L1", "quantity": 2}]}))
        .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("partially_shipped")),
        "{d}\n{}",
        stack.output.tail(40)
    );
    assert_eq!(d["lines"][0]["shipped"], 2);
    let (_, o) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(o["status"], "partially_shipped");
    assert_eq!(
        o["lines"][0]["quantities"],
        json!({"open": 1, "backordered": 0, "shipped": 2, "cancelled": 0, "returned": 0})
    );
    assert_eq!(o["deliveries"][0]["trackingNumber"], "00340434161094000001");
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    assert_eq!(
        (
            stock["items"][0]["available"].as_i64(),
            stock["items"][0]["reserved"].as_i64()
        ),
        (Some(18), Some(1)),
        "{stock}"
    );

    // What shipped cannot be cancelled; what did not, can.
    let (status, e) = stack
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("already_shipped"))
    );
    let (status, o) = stack
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["status"], "shipped");
    assert_eq!(o["lines"][0]["quantities"]["cancelled"], 1);
    assert_eq!(o["totals"]["refunded"], "99.00");
    assert_eq!(o["deliveries"][0]["status"], "shipped");
    let (status, e) = stack
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("already_shipped"))
    );
    let (status, e) = stack
        .post(
            &path("shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "Y"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("invalid_state"))
    );
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    assert_eq!(
        (
            stock["items"][0]["available"].as_i64(),
            stock["items"][0]["reserved"].as_i64()
        ),
        (Some(18), Some(0)),
        "{stock}"
    );

    // The customer's shipping notice names the retailer and the tracking number, never acme.
    let mail = stack
        .eventually(
            "the customer's shipping notice",
            Duration::from_secs(30),
            || async {
                stack.outbox().await.into_iter().find(|m| {
                    m["subject"]
                        .as_str()
                        .is_some_and(|s| s.contains("unterwegs"))
                })
            },
        )
        .await;
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("00340434161094000001") && text.contains("Lindenhof"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("acme"), "{text}");

    // Every step is in the order's history, with who did it.
    let (_, full) = stack
        .get(
            &format!("/admin/orders/{order_id}"),
            Some(&stack.admin_token),
        )
        .await;
    let history: Vec<(String, String)> = full["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["who"].as_str().unwrap().to_string(),
                h["what"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (who, what) in [
        ("fulfiller:acme-garden", "accepted"),
        ("fulfiller:acme-garden", "shipped 2 x L1"),
        ("channel:web-de", "cancelled 1 x L1"),
    ] {
        assert!(
            history.iter().any(|(w, h)| w == who && h.starts_with(what)),
            "{what} by {who} missing: {history:?}"
        );
    }
}
