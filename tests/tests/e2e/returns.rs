//! A customer returns units shipped by two dropshippers: each fulfiller sees and receives only
//! its own part, resellable units go back on its shelf, damaged ones do not, and the refund
//! follows the cumulative rule of docs/api.md to the cent, allocated across card and bonus points;
//! a receipt settled twice refunds once; the customer gets the labels and the refund by mail
//! in the retailer's name; a credit document is stored per refund.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

async fn delivery_at(stack: &Stack, token: &str) -> String {
    stack
        .eventually("a delivery order", WAIT, || async {
            let (_, list) = stack
                .get("/fulfiller/delivery-orders?status=open", Some(token))
                .await;
            list["items"].as_array()?.first()?["id"]
                .as_str()
                .map(String::from)
        })
        .await
}

async fn ship(stack: &Stack, token: &str, id: &str, tracking: &str) {
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{id}/shipments"),
            Some(token),
            &json!({"carrier": "DHL", "trackingNumber": tracking}),
        )
        .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("shipped")),
        "{d}"
    );
}

async fn refunds(stack: &Stack, token: &str, order_id: &str) -> Vec<Value> {
    let (_, o) = stack.get(&format!("/orders/{order_id}"), Some(token)).await;
    o["refunds"].as_array().cloned().unwrap_or_default()
}

fn allocation(refund: &Value) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = refund["allocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["method"].as_str().unwrap().to_string(),
                s["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    a.sort();
    a
}

#[tokio::test]
async fn a_return_across_two_dropshippers_is_received_and_refunded_to_the_cent() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // docs/api.md's worked example: L1 2 x 24.99 (acme), L2 1 x 15.00 (nordic), SAVE5, shipping 3.90,
    // paid 50.00 by card and 13.88 in bonus points.
    let mut body = setup::order(
        "WEB-RETURN",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "15.00"}]),
        "63.88",
    );
    body["discounts"] = json!([{"code": "SAVE5", "amount": "5.00"}]);
    body["shippingCost"] = json!("3.90");
    body["payments"] = json!([{"method": "card", "amount": "50.00", "reference": "card-1"},
                              {"method": "bonus_points", "amount": "13.88"}]);
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "ret-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let at_acme = delivery_at(&stack, &world.acme).await;
    let at_nordic = delivery_at(&stack, &world.nordic).await;
    let returns_path = format!("/orders/{order_id}/returns");

    // Nothing shipped yet: nothing to return.
    let ask = json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "zu groß"},
                               {"lineId": "L2", "quantity": 1, "reason": "Farbe gefällt nicht"}]});
    let (status, e) = stack.post(&returns_path, Some(&world.web), &ask).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("not_returnable")),
        "{e}"
    );

    ship(&stack, &world.acme, &at_acme, "ACME-1").await;
    ship(&stack, &world.nordic, &at_nordic, "NORDIC-1").await;

    // Another channel's order does not exist for it; bad requests write nothing.
    let (status, _) = stack
        .post(&returns_path, Some(&world.marketplace), &ask)
        .await;
    assert_eq!(status, 404);
    let (status, e) = stack
        .post(
            &returns_path,
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 3}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("not_returnable")),
        "{e}"
    );
    let (status, e) = stack
        .post(
            &returns_path,
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": "two"}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].quantity")),
        "{e}"
    );

    let (status, r) = stack
        .post_idempotent(&returns_path, Some(&world.web), "ret-ask-1", &ask)
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (201, Some("authorized")),
        "{r}"
    );
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (status, again) = stack
        .post_idempotent(&returns_path, Some(&world.web), "ret-ask-1", &ask)
        .await;
    assert_eq!(
        (status, &again),
        (201, &r),
        "a repeated request returns the first answer"
    );
    let (status, _) = stack.post(&returns_path, Some(&world.web), &ask).await;
    assert_eq!(status, 409, "the units are authorized already");

    // Each fulfiller sees only its own lines; a stranger sees nothing and cannot receive.
    let (_, mine) = stack.get("/fulfiller/returns", Some(&world.acme)).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    let lines: Vec<&str> = items[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lineId"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["L1"]);
    let (_, theirs) = stack
        .get("/fulfiller/returns?status=authorized", Some(&world.nordic))
        .await;
    assert_eq!(theirs["items"][0]["lines"][0]["lineId"], "L2", "{theirs}");
    let (_, none) = stack
        .get("/fulfiller/returns", Some(&world.warehouse))
        .await;
    assert_eq!(none["items"], json!([]));
    let receive = format!("/fulfiller/returns/{return_id}/receive");
    let acme_receipt = json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"},
                                        {"lineId": "L1", "quantity": 1, "condition": "damaged"}]});
    let (status, _) = stack
        .post(&receive, Some(&world.warehouse), &acme_receipt)
        .await;
    assert_eq!(status, 404);
    let (status, e) = stack
        .post(
            &receive,
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": 3, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].quantity")),
        "{e}"
    );

    // The customer has the labels: one per fulfiller, in the retailer's name only.
    let label_mail = stack
        .eventually("the return label mail", WAIT, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["to"][0] == "carla@example.com"
                    && m["attachments"].as_array().is_some_and(|a| a.len() == 2)
            })
        })
        .await;
    let text = label_mail.to_string();
    assert!(text.contains("Lindenhof Living"), "{text}");
    assert!(!text.contains("acme") && !text.contains("nordic"), "{text}");

    // acme takes in its part: one resellable, one damaged.
    let (status, part) = stack.post(&receive, Some(&world.acme), &acme_receipt).await;
    assert_eq!(
        (status, part["status"].as_str()),
        (200, Some("received")),
        "{part}"
    );
    let (status, e) = stack.post(&receive, Some(&world.acme), &acme_receipt).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("already_received"))
    );

    // P(L1 x 2) = 46.13; L2 is kept, so no shipping; no minimum order value: 46.13, split pro
    // rata over 50.00 card and 13.88 points: 36.11 + 10.02.
    let first = stack
        .eventually("the first refund", WAIT, || async {
            refunds(&stack, &world.web, &order_id)
                .await
                .first()
                .cloned()
        })
        .await;
    assert_eq!(first["amount"], "46.13", "{first}");
    assert_eq!(
        allocation(&first),
        [
            ("bonus_points".to_string(), "10.02".to_string()),
            ("card".to_string(), "36.11".to_string())
        ]
    );
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    let chair = stock["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sku"] == "CHAIR-TEAK")
        .cloned()
        .unwrap();
    assert_eq!(
        chair["available"], 19,
        "20 - 2 shipped + 1 resellable back: {chair}"
    );

    // A redelivered settlement refunds nothing more.
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let queue = sqs
        .get_queue_url()
        .queue_name("ReturnsQueue")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(json!({"returnId": return_id, "fulfillerId": "acme-garden"}).to_string())
            .send()
            .await
            .unwrap();
    }

    // nordic takes in L2: now nothing is kept, so shipping comes back too: 63.88 - 46.13.
    let (status, _) = stack
        .post(
            &receive,
            Some(&world.nordic),
            &json!({"lines": [{"lineId": "L2", "quantity": 1, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let all = stack
        .eventually("the second refund", WAIT, || async {
            let r = refunds(&stack, &world.web, &order_id).await;
            (r.len() >= 2).then_some(r)
        })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all_now = refunds(&stack, &world.web, &order_id).await;
    assert_eq!(
        all_now.len(),
        2,
        "one refund per receipt, however often settled: {all_now:?}"
    );
    assert_eq!(all[1]["amount"], "17.75");
    let (_, o) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(
        o["totals"]["refunded"], "63.88",
        "everything paid came back: {o}"
    );
    assert_eq!(o["lines"][0]["quantities"]["returned"], 2);
    assert_eq!(o["lines"][0]["status"], "returned");
    assert_eq!(o["returns"][0]["status"], "refunded", "{o}");
    assert!(!o["returns"].to_string().contains("acme"), "{o}");

    // The refund mails and credit documents exist; the ledger holds every movement.
    stack
        .eventually("two refund mails", WAIT, || async {
            let n = stack
                .outbox()
                .await
                .iter()
                .filter(|m| {
                    m["to"][0] == "carla@example.com"
                        && m["text"]
                            .as_str()
                            .is_some_and(|t| t.contains("17,75") || t.contains("17.75"))
                })
                .count();
            (n == 1).then_some(())
        })
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let credits = stack
        .eventually("two credit documents", WAIT, || async {
            let list = s3
                .list_objects_v2()
                .bucket("dropship-documentbucket")
                .prefix(format!("documents/{order_id}/"))
                .send()
                .await
                .ok()?;
            let keys: Vec<String> = list
                .contents()
                .iter()
                .filter_map(|o| o.key().map(String::from))
                .filter(|k| k.contains("credit"))
                .collect();
            (keys.len() == 2).then_some(keys)
        })
        .await;
    assert!(credits.iter().all(|k| !k.contains("carla")), "{credits:?}");
    let (_, admin_view) = stack
        .get(
            &format!("/admin/orders/{order_id}"),
            Some(&stack.admin_token),
        )
        .await;
    let kinds: Vec<&str> = admin_view["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "payment").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "refund").count(),
        4,
        "two refunds over two payments: {kinds:?}"
    );
}

#[tokio::test]
async fn goodwill_chargebacks_invoice_money_and_replacements_are_recorded() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let mut body = setup::order(
        "WEB-MONEY",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "100.00"}]),
        "100.00",
    );
    body["payments"] = json!([{"method": "card", "amount": "60.00", "reference": "card-9"},
                              {"method": "invoice", "amount": "40.00"}]);
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "money-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let path = |what: &str| format!("/admin/orders/{order_id}/{what}");

    // Invoice money: partial payments lower the receivable; more than is open is refused.
    let (status, e) = stack
        .post(
            &path("payments-received"),
            admin,
            &json!({"amount": "40.01", "reference": "bank-1"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("amount")),
        "{e}"
    );
    let (status, r) = stack
        .post(&path("payments-received"), admin, &json!({"amount": "25.00", "receivedAt": "2026-01-05T10:00:00Z", "reference": "bank-1"}))
        .await;
    assert_eq!(
        (status, r["totals"]["due"].as_str()),
        (201, Some("15.00")),
        "{r}"
    );

    // A chargeback on the card: recorded, lowers what can be refunded, alerts customer service.
    let (status, e) = stack
        .post(
            &path("chargebacks"),
            admin,
            &json!({"paymentReference": "nope", "amount": "10.00", "reason": "fraud"}),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let (status, _) = stack
        .post(
            &path("chargebacks"),
            admin,
            &json!({"paymentReference": "card-9", "amount": "60.00", "reason": "not recognised"}),
        )
        .await;
    assert_eq!(status, 201);
    // The alert follows from the committed chargeback (relayed to the notifier, which opens it).
    let alert = stack
        .eventually("the chargeback alert", WAIT, || async {
            let (_, alerts) = stack.get("/admin/alerts?state=open", admin).await;
            alerts["items"]
                .as_array()?
                .iter()
                .find(|a| a["type"] == "chargeback")
                .cloned()
        })
        .await;
    // Customer service has dealt with it: resolved by hand (the id is percent-encoded).
    let encoded = alert["id"]
        .as_str()
        .unwrap()
        .replace('#', "%23")
        .replace('/', "%2F");
    let (status, resolved) = stack
        .post(
            &format!("/admin/alerts/{encoded}/resolve"),
            admin,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, resolved["state"].as_str()),
        (200, Some("resolved")),
        "{resolved}"
    );

    // Goodwill: at most what is still held (40.00 on the invoice), taken off the receivable first.
    let (status, e) = stack
        .post(
            &path("goodwill"),
            admin,
            &json!({"amount": "40.01", "reason": "late"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("amount")),
        "{e}"
    );
    let (status, r) = stack
        .post_idempotent(
            &path("goodwill"),
            admin,
            "gw-1",
            &json!({"amount": "20.00", "reason": "Lieferung verspätet"}),
        )
        .await;
    assert_eq!(
        (status, r["totals"]["due"].as_str()),
        (201, Some("0.00")),
        "{r}"
    );
    let (status, again) = stack
        .post_idempotent(
            &path("goodwill"),
            admin,
            "gw-1",
            &json!({"amount": "20.00", "reason": "Lieferung verspätet"}),
        )
        .await;
    assert_eq!(
        (status, &again),
        (201, &r),
        "a repeated goodwill credits once"
    );
    let (_, o) = stack.get(&format!("/admin/orders/{order_id}"), admin).await;
    assert_eq!(o["totals"]["refunded"], "20.00", "{o}");
    let kinds: Vec<&str> = o["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "payment",
            "payment",
            "payment_received",
            "chargeback",
            "goodwill"
        ]
    );

    // A free replacement once the chair was delivered: a new delivery order at acme, no charge.
    let (status, e) = stack
        .post(
            &path("replacements"),
            admin,
            &json!({"lines": [{"lineId": "L1", "quantity": 1}], "reason": "wrong colour"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("not_shipped")),
        "{e}"
    );
    let at_acme = delivery_at(&stack, &world.acme).await;
    ship(&stack, &world.acme, &at_acme, "ACME-2").await;
    let (status, rep) = stack
        .post(
            &path("replacements"),
            admin,
            &json!({"lines": [{"lineId": "L1", "quantity": 1}], "reason": "wrong colour"}),
        )
        .await;
    assert_eq!(
        (status, rep["fulfillerId"].as_str()),
        (201, Some("acme-garden")),
        "{rep}"
    );
    let replacement = rep["id"].as_str().unwrap().to_string();
    ship(&stack, &world.acme, &replacement, "ACME-3").await;
    let (_, o) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(
        o["lines"][0]["quantities"]["shipped"], 1,
        "the replacement changes no ordered quantity: {o}"
    );
    assert_eq!(o["totals"]["total"], "100.00");
}
