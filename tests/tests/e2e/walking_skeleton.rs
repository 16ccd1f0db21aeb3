//! The walking skeleton, end to end on the local stack through HTTP: configure a retailer
//! through the admin API, post an order, and within 30 s see the delivery order at the
//! fulfiller, fetch its delivery-note PDF through the document link, and find the fulfiller's
//! mail in the outbox, while the channel never learns who ships.

use crate::setup;

use crate::support::Stack;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_order_reaches_its_dropshipper_with_documents_and_mail() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;

    let body = setup::order(
        "WEB-1001",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "99.00"}]),
        "198.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "key-1001", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "accepted");
    let order_id = created["orderId"].as_str().expect("orderId").to_string();
    assert_eq!(created["id"], created["orderId"]);

    // The delivery order reaches the dropshipper, with its documents.
    let delivery =
        setup::first_delivery_order(&stack, &world.acme, 1, Duration::from_secs(30)).await;
    assert_eq!(delivery["orderId"], order_id.as_str());
    assert_eq!(delivery["status"], "open");
    assert_eq!(delivery["lines"][0]["quantity"], 2);
    assert_eq!(delivery["shipTo"]["city"], "Berlin");
    let note = delivery["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "delivery_note")
        .expect("a delivery note");
    let url = note["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/documents/", stack.api)),
        "{url}"
    );

    // The link needs no token and answers 302 to a presigned S3 URL serving the PDF.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("X-Amz-Signature") && location.contains("X-Amz-Expires=900"),
        "{location}"
    );
    let pdf = reqwest::get(&location)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF: {} bytes", pdf.len());

    // Another fulfiller neither sees it nor can follow a guessed link.
    let (status, _) = stack
        .get(
            &format!(
                "/fulfiller/delivery-orders/{}",
                delivery["id"].as_str().unwrap()
            ),
            Some(&world.nordic),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = stack
        .get(
            "/documents/0000000000000000000000000000000000000000000000000000000000000000",
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // The fulfiller's mail, in the retailer's name, with the same kind of link.
    let mail = stack
        .eventually(
            "the fulfiller's mail in the outbox",
            Duration::from_secs(30),
            || async {
                stack.outbox().await.into_iter().find(|m| {
                    m["to"]
                        .as_array()
                        .is_some_and(|to| to.iter().any(|t| t == setup::ACME_EMAIL))
                })
            },
        )
        .await;
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains(delivery["id"].as_str().unwrap()),
        "{mail}"
    );
    assert!(
        mail["from"]
            .as_str()
            .unwrap()
            .contains("service@lindenhof.example"),
        "{mail}"
    );
    assert!(
        mail["text"].as_str().unwrap().contains("/documents/"),
        "{mail}"
    );

    // The customer's order confirmation, in the retailer's name, never naming who ships.
    let confirmation = stack
        .eventually(
            "the customer's order confirmation",
            Duration::from_secs(30),
            || async {
                stack
                    .outbox()
                    .await
                    .into_iter()
                    .find(|m| m["subject"] == "Ihre Bestellung WEB-1001")
            },
        )
        .await;
    let text = confirmation["text"].as_str().unwrap();
    assert!(
        text.contains("Carla Beispiel") && text.contains("Gesamt: 198.00 EUR"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("acme"), "{text}");
    assert_eq!(confirmation["to"][0], "carla@example.com");

    // The channel sees its order routed, with a delivery but never who ships it.
    let (status, view) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "routed");
    assert_eq!(view["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(view["totals"]["total"], "198.00");
    assert_eq!(view["lines"][0]["tax"], "31.61");
    let text = view.to_string();
    assert!(
        !text.contains("acme") && !text.contains("fulfiller"),
        "the channel view names the fulfiller: {text}"
    );

    // Another channel gets a 404, and nobody without a token gets anything.
    let (status, _) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.marketplace))
        .await;
    assert_eq!(status, 404);
    let (status, body) = stack.get(&format!("/orders/{order_id}"), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, _) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.acme))
        .await;
    assert_eq!(status, 403);

    // Stock was reserved for the delivery order.
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    assert_eq!(stock["items"][0]["reserved"], 2, "{stock}");
    assert_eq!(stock["items"][0]["available"], 20, "{stock}");

    // One function alone, with its sample event (the sample's order does not exist here, so
    // the router reports that message as failed, and only that one).
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/split-router.json")).unwrap();
    let (status, out) = stack
        .request(
            "POST",
            "/_local/invoke/split-router",
            None,
            Some(&event),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["batchItemFailures"][0]["itemIdentifier"], event["Records"][0]["messageId"],
        "{out}"
    );
    let (status, _) = stack
        .request(
            "POST",
            "/_local/invoke/no-such-function",
            None,
            Some(&event),
            &[],
        )
        .await;
    assert_eq!(status, 404);
}
