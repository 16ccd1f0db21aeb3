//! Order intake over HTTP on the local stack: every channel kind, idempotency (sequential
//! replays, a concurrent burst, another body), duplicate external ids, every invalid input of
//! docs/api.md answered with its status and code and leaving no trace, and cancellation.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

fn lamp(external_id: &str, quantity: u32) -> Value {
    let total = format!("{}.00", 49 * quantity);
    setup::order(
        external_id,
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": quantity, "unitPrice": "49.00"}]),
        &total,
    )
}

async fn order_count(stack: &Stack) -> usize {
    setup::admin_orders(stack, "limit=200").await.len()
}

#[tokio::test]
async fn intake_is_idempotent_validates_everything_and_cancels() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());

    // An order from every channel kind.
    for kind in [
        "webshop",
        "app",
        "marketplace",
        "store",
        "catalogue",
        "callcentre",
        "direct",
    ] {
        let (status, _) = stack
            .put(
                &format!("/admin/channels/ch-{kind}"),
                admin,
                &json!({"name": kind, "kind": kind}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, t) = stack
            .post(
                "/admin/tokens",
                admin,
                &json!({"principal": format!("channel:ch-{kind}")}),
            )
            .await;
        let token = t["token"].as_str().unwrap().to_string();
        let (status, body) = stack
            .post_idempotent(
                "/orders",
                Some(&token),
                &format!("k-{kind}"),
                &lamp(&format!("EXT-{kind}"), 1),
            )
            .await;
        assert_eq!(status, 201, "{kind}: {body}");
    }

    // Sequential replays give one order and identical answers.
    let body = lamp("WEB-IDEM", 1);
    let first = stack
        .post_idempotent("/orders", Some(&world.web), "idem-1", &body)
        .await;
    assert_eq!(first.0, 201, "{}", first.1);
    for _ in 0..3 {
        assert_eq!(
            stack
                .post_idempotent("/orders", Some(&world.web), "idem-1", &body)
                .await,
            first
        );
    }
    // The same key with another body, and the same externalId under another key.
    let (status, e) = stack
        .post_idempotent("/orders", Some(&world.web), "idem-1", &lamp("WEB-IDEM", 2))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused"))
    );
    let (status, e) = stack
        .post_idempotent("/orders", Some(&world.web), "idem-2", &body)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("duplicate_order"))
    );
    // Keys are per channel: another channel may use the same key for its own order.
    let (status, _) = stack
        .post_idempotent("/orders", Some(&world.marketplace), "idem-1", &body)
        .await;
    assert_eq!(status, 201);

    // 20 at once with one key: one order; every answer is the first one or "in progress".
    let burst = lamp("WEB-BURST", 1);
    let answers = futures::future::join_all(
        (0..20).map(|_| stack.post_idempotent("/orders", Some(&world.web), "burst-1", &burst)),
    )
    .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert!(!created.is_empty(), "{answers:?}");
    assert!(
        created.iter().all(|b| *b == created[0]),
        "different first responses: {answers:?}"
    );
    for (status, b) in &answers {
        assert!(
            *status == 201 || (*status == 409 && b["error"]["code"] == "idempotency_in_progress"),
            "{status} {b}"
        );
    }
    let (_, list) = stack
        .get("/admin/orders?channel=web-de&limit=200", admin)
        .await;
    let bursts = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["externalId"] == "WEB-BURST")
        .count();
    assert_eq!(bursts, 1);

    // Every invalid input: its status and code, and no trace. The accepted orders are routed
    // first (their routing requests travel through the change relay), so that the router's
    // count below moves only for something new.
    stack
        .eventually(
            "the accepted orders routed",
            Duration::from_secs(60),
            || async {
                let (_, list) = stack
                    .get("/admin/orders?channel=web-de&limit=200", admin)
                    .await;
                list["items"]
                    .as_array()?
                    .iter()
                    .all(|o| o["status"] != "accepted")
                    .then_some(())
            },
        )
        .await;
    let before = order_count(&stack).await;
    let routed_before = stack.stats().await["split-router"]["invocations"]
        .as_u64()
        .unwrap_or(0);
    let base = lamp("WEB-BAD", 2);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
        (
            with(&|v| v["lines"][0]["sku"] = json!("NOPE")),
            422,
            "validation_failed",
            Some("lines[0].sku"),
        ),
        (
            with(&|v| v["lines"][0]["quantity"] = json!(0)),
            422,
            "validation_failed",
            Some("lines[0].quantity"),
        ),
        (
            with(&|v| v["lines"][0]["quantity"] = json!(1000)),
            422,
            "validation_failed",
            Some("lines[0].quantity"),
        ),
        (
            with(&|v| v["lines"][0]["quantity"] = json!(1.5)),
            422,
            "validation_failed",
            Some("lines[0].quantity"),
        ),
        (
            with(&|v| v["lines"][0]["unitPrice"] = json!("-49.00")),
            422,
            "validation_failed",
            Some("lines[0].unitPrice"),
        ),
        (
            with(&|v| v["lines"][0]["unitPrice"] = json!("49.001")),
            422,
            "validation_failed",
            Some("lines[0].unitPrice"),
        ),
        (
            with(&|v| v["lines"][0]["unitPrice"] = json!(49.0)),
            422,
            "validation_failed",
            Some("lines[0].unitPrice"),
        ),
        (
            with(&|v| v["discounts"] = json!([{"code": "BIG", "amount": "99.00"}])),
            422,
            "validation_failed",
            Some("discounts"),
        ),
        (
            with(&|v| {
                v["discounts"] =
                    json!([{"code": "MIN", "amount": "5.00", "minOrderValue": "100.00"}])
            }),
            422,
            "validation_failed",
            Some("discounts[0].minOrderValue"),
        ),
        (
            with(&|v| v["payments"][0]["amount"] = json!("97.99")),
            422,
            "validation_failed",
            Some("payments"),
        ),
        (
            with(&|v| v["currency"] = json!("JPY")),
            422,
            "validation_failed",
            Some("currency"),
        ),
        (
            with(&|v| v["currency"] = json!("EURO")),
            422,
            "validation_failed",
            Some("currency"),
        ),
        (
            with(&|v| v["shippingAddress"]["country"] = json!("XX")),
            422,
            "validation_failed",
            Some("shippingAddress.country"),
        ),
        (
            with(
                &|v| v["lines"] = json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}, {"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}]),
            ),
            422,
            "validation_failed",
            Some("lines[1].lineId"),
        ),
        (
            with(&|v| v["lines"] = json!([])),
            422,
            "validation_failed",
            Some("lines"),
        ),
        (
            with(&|v| {
                v["lines"] = json!((0..101).map(|i| json!({"lineId": format!("L{i}"), "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "1.00"})).collect::<Vec<_>>())
            }),
            422,
            "validation_failed",
            Some("lines"),
        ),
    ];
    for (i, (body, status, code, field)) in cases.iter().enumerate() {
        let (s, e) = stack
            .post_idempotent("/orders", Some(&world.web), &format!("bad-{i}"), body)
            .await;
        assert_eq!(
            (s, e["error"]["code"].as_str(), e["error"]["field"].as_str()),
            (*status, Some(*code), *field),
            "case {i}: {e}"
        );
        assert!(e["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // Malformed JSON, too large, no token, a fulfiller's token, no Idempotency-Key.
    let raw = |body: String, token: Option<&str>, key: Option<&str>| {
        let mut req = stack
            .http()
            .post(format!("{}/orders", stack.api))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            (
                status,
                v["error"]["code"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    assert_eq!(
        raw("{\"externalId\":".into(), Some(&world.web), Some("raw-1")).await,
        (400, "malformed_json".into())
    );
    assert_eq!(
        raw(
            format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024)),
            Some(&world.web),
            Some("raw-2")
        )
        .await,
        (413, "payload_too_large".into())
    );
    assert_eq!(
        raw(base.to_string(), None, Some("raw-3")).await,
        (401, "unauthenticated".into())
    );
    assert_eq!(
        raw(base.to_string(), Some("not-a-token"), Some("raw-4")).await,
        (401, "unauthenticated".into())
    );
    assert_eq!(
        raw(base.to_string(), Some(&world.acme), Some("raw-5")).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        raw(base.to_string(), Some(&world.web), None).await,
        (400, "idempotency_key_required".into())
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        order_count(&stack).await,
        before,
        "a refused order left a trace"
    );
    assert_eq!(
        stack.stats().await["split-router"]["invocations"]
            .as_u64()
            .unwrap_or(0),
        routed_before,
        "a refused order was queued"
    );
    // A refused key is free again: the corrected request goes through under it.
    let (status, _) = stack
        .post_idempotent("/orders", Some(&world.web), "bad-0", &base)
        .await;
    assert_eq!(status, 201);

    // Cancel: a line partly, then the rest; stock comes back; the customer is refunded.
    let (status, created) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "cancel-1",
            &lamp("WEB-CANCEL", 3),
        )
        .await;
    assert_eq!(status, 201);
    let id = created["orderId"].as_str().unwrap().to_string();
    stack
        .eventually("the order routed", Duration::from_secs(30), || async {
            let (_, o) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
            (o["status"] == "routed").then_some(())
        })
        .await;
    let reserved_before = reserved(&stack, &world.warehouse).await;
    let (status, o) = stack
        .post(
            &format!("/orders/{id}/cancel"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["lines"][0]["quantities"]["cancelled"], 2);
    assert_eq!(o["lines"][0]["quantities"]["open"], 1);
    assert_eq!(o["status"], "routed");
    assert_eq!(o["totals"]["refunded"], "98.00");
    assert_eq!(o["refunds"][0]["allocation"][0]["method"], "card");
    assert_eq!(
        reserved(&stack, &world.warehouse).await,
        reserved_before - 2
    );
    let (status, e) = stack
        .post(
            &format!("/orders/{id}/cancel"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("already_cancelled"))
    );
    let (status, e) = stack
        .post(
            &format!("/orders/{id}/cancel"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L9", "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].lineId"))
    );
    let (status, _) = stack
        .post(
            &format!("/orders/{id}/cancel"),
            Some(&world.marketplace),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, o) = stack
        .request(
            "POST",
            &format!("/orders/{id}/cancel"),
            Some(&world.web),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["totals"]["refunded"], "147.00");
    assert_eq!(o["deliveries"][0]["status"], "cancelled");
    assert_eq!(
        reserved(&stack, &world.warehouse).await,
        reserved_before - 3
    );
    // The fulfiller was told, and so was the customer.
    stack
        .eventually(
            "the fulfiller's cancellation notice and the customer's refund mails",
            Duration::from_secs(30),
            || async {
                let mails = stack.outbox().await;
                let to = |who: &str| {
                    mails
                        .iter()
                        .filter(|m| {
                            m["to"]
                                .as_array()
                                .is_some_and(|t| t.iter().any(|x| x == who))
                                && m["subject"] == "Stornierung zu Ihrer Bestellung WEB-CANCEL"
                        })
                        .count()
                };
                let fulfiller_notices = mails
                    .iter()
                    .filter(|m| {
                        m["subject"]
                            .as_str()
                            .is_some_and(|s| s.contains("storniert"))
                    })
                    .count();
                (fulfiller_notices >= 1 && to("carla@example.com") >= 2).then_some(())
            },
        )
        .await;
    // The history says who did what when.
    let (_, full) = stack.get(&format!("/admin/orders/{id}"), admin).await;
    let what: Vec<&str> = full["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["what"].as_str().unwrap())
        .collect();
    assert!(
        what.iter().any(|w| w.starts_with("order accepted")),
        "{what:?}"
    );
    assert!(
        what.iter().any(|w| w.starts_with("routed into 1")),
        "{what:?}"
    );
    assert_eq!(
        what.iter().filter(|w| w.starts_with("cancelled")).count(),
        2,
        "{what:?}"
    );
    assert!(full["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["who"] == "channel:web-de"));
}

async fn reserved(stack: &Stack, token: &str) -> i64 {
    let (_, s) = stack.get("/fulfiller/stock", Some(token)).await;
    s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "LAMP-OAK")
        .unwrap()["reserved"]
        .as_i64()
        .unwrap()
}
