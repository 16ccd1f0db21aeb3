//! Webhooks end to end: subscriptions through the API, deliveries made from committed changes
//! by the webhook-sender function, received by tests/webhooks/receiver.py, which verifies every
//! signature with the `standardwebhooks` package from PyPI (never the project's own code).

use crate::setup;
use crate::support::{workspace_root, Stack};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

/// The receiver process, stopped when dropped.
pub(crate) struct Receiver {
    child: Child,
    port: u16,
    http: reqwest::Client,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    pub(crate) fn start() -> Self {
        let python = workspace_root().join(".venv/bin/python");
        let script = workspace_root().join("tests/webhooks/receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the receiver starts (make venv installs standardwebhooks)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the receiver prints its port");
        let port = line.trim().parse().expect("a port number");
        Self {
            child,
            port,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/hooks/{name}", self.port)
    }

    async fn expect(&self, name: &str, secret: &str, fail_first: bool) {
        self.endpoint(name, json!({"secret": secret, "failFirst": fail_first}))
            .await;
    }

    /// Sets how the endpoint `name` answers (its secret, failFirst, down).
    pub(crate) async fn endpoint(&self, name: &str, how: Value) {
        let resp = self
            .http
            .post(format!("http://127.0.0.1:{}/_subscribe/{name}", self.port))
            .json(&how)
            .send()
            .await
            .expect("receiver");
        assert!(resp.status().is_success());
    }

    pub(crate) async fn log(&self, name: &str) -> Vec<Value> {
        let log: Value = self
            .http
            .get(format!("http://127.0.0.1:{}/_log", self.port))
            .send()
            .await
            .expect("receiver")
            .json()
            .await
            .expect("json");
        log["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["name"] == name)
            .collect()
    }
}

pub(crate) async fn subscribe(
    stack: &Stack,
    token: &str,
    id: &str,
    url: &str,
    events: Value,
    key: &str,
) -> (u16, Value) {
    stack
        .request(
            "PUT",
            &format!("/webhooks/{id}"),
            Some(token),
            Some(&json!({"url": url, "events": events})),
            &[("Idempotency-Key", key)],
        )
        .await
}

/// The types of a subscriber's accepted (2xx) messages, in the order received.
fn delivered(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|m| m["status"] == 200)
        .map(|m| m["body"]["type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// An order of web-de for two chairs, which acme ships in two parcels (T-1, T-2): its order id
/// and acme's delivery order.
async fn shipped_in_two(
    stack: &Stack,
    world: &setup::World,
    external_id: &str,
) -> (String, String) {
    let body = setup::order(
        external_id,
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "10.00"}]),
        "20.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), external_id, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery_id = stack
        .eventually("acme's delivery order", WAIT, || async {
            let (_, l) = stack
                .get("/fulfiller/delivery-orders", Some(&world.acme))
                .await;
            l["items"]
                .as_array()?
                .iter()
                .find(|d| d["orderId"] == json!(order_id))?["id"]
                .as_str()
                .map(String::from)
        })
        .await;
    let shipments = format!("/fulfiller/delivery-orders/{delivery_id}/shipments");
    for tracking in ["T-1", "T-2"] {
        let ship = json!({"carrier": "DHL", "trackingNumber": tracking, "lines": [{"lineId": "L1", "quantity": 1}]});
        let (status, e) = stack.post(&shipments, Some(&world.acme), &ship).await;
        assert_eq!(status, 200, "{e}");
    }
    (order_id, delivery_id)
}

#[tokio::test]
async fn subscribers_get_their_own_events_signed_in_order_and_retried_with_the_same_id() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let receiver = Receiver::start();
    let channel_events = json!([
        "order.routed",
        "order.backordered",
        "order.partially_shipped",
        "order.shipped",
        "order.cancelled",
        "return.authorized",
        "return.received",
        "refund.issued"
    ]);
    let fulfiller_events = json!([
        "delivery_order.created",
        "delivery_order.changed",
        "delivery_order.cancelled",
        "return.announced"
    ]);

    // Subscribing: the guard's refusals, the other kind's events, the secret shown once.
    for refused in [
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/hooks",
        "http://shop.example.com/hooks",
        "http://localhost:8080/hooks",
    ] {
        let (status, e) = subscribe(
            &stack,
            &world.web,
            "bad",
            refused,
            json!(["order.shipped"]),
            "k-bad",
        )
        .await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some("url")),
            "{refused}: {e}"
        );
    }
    let (status, e) = subscribe(
        &stack,
        &world.web,
        "bad",
        &receiver.url("x"),
        json!(["delivery_order.created"]),
        "k-bad2",
    )
    .await;
    assert_eq!(status, 422, "{e}");

    let (status, web) = subscribe(
        &stack,
        &world.web,
        "web-hooks",
        &receiver.url("web"),
        channel_events.clone(),
        "k-web",
    )
    .await;
    assert_eq!(status, 201, "{web}");
    assert_eq!(web["principal"], "channel:web-de");
    let secret = web["secret"]
        .as_str()
        .expect("the secret, once")
        .to_string();
    assert!(secret.starts_with("whsec_"));
    let (status, again) = subscribe(
        &stack,
        &world.web,
        "web-hooks",
        &receiver.url("web"),
        channel_events.clone(),
        "k-web",
    )
    .await;
    assert_eq!(
        (status, &again),
        (201, &web),
        "the repeated request gets the first answer"
    );
    receiver.expect("web", &secret, true).await;

    for (token, name, events) in [
        (&world.marketplace, "market", &channel_events),
        (&world.acme, "acme", &fulfiller_events),
        (&world.nordic, "nordic", &fulfiller_events),
    ] {
        let id = format!("{name}-hooks");
        let url = receiver.url(name);
        let (status, sub) = subscribe(&stack, token, &id, &url, events.clone(), &id).await;
        assert_eq!(status, 201, "{sub}");
        let secret = sub["secret"].as_str().unwrap();
        receiver.expect(name, secret, false).await;
    }

    let (_, list) = stack.get("/webhooks", Some(&world.web)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert!(list["items"][0].get("secret").is_none(), "{list}");
    let (_, all) = stack.get("/webhooks", Some(&stack.admin_token)).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(4), "{all}");
    let (status, _) = stack
        .get("/webhooks/web-hooks/deliveries", Some(&world.marketplace))
        .await;
    assert_eq!(
        status, 404,
        "someone else's subscription does not exist for it"
    );

    // An order of web-de, shipped by acme, returned and received: each change is told.
    let (order_id, delivery_id) = shipped_in_two(&stack, &world, "WEB-HOOKS").await;
    let (status, r) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (status, e) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200, "{e}");

    let expected = [
        "order.routed",
        "order.partially_shipped",
        "order.shipped",
        "return.authorized",
        "return.received",
        "refund.issued",
    ];
    let web_log = stack
        .eventually(
            "web-de's six events, each after a refused first attempt",
            WAIT,
            || async {
                let log = receiver.log("web").await;
                (delivered(&log).len() >= expected.len()).then_some(log)
            },
        )
        .await;
    assert_eq!(delivered(&web_log), expected, "in the order they happened");
    for m in &web_log {
        assert_eq!(
            m["verified"], true,
            "standardwebhooks verifies every attempt: {m}"
        );
        assert_eq!(m["body"]["data"]["orderId"], json!(order_id), "{m}");
    }
    // Every message came twice: 500, then 200, with the same webhook-id and the same body.
    let ids: Vec<&str> = web_log
        .iter()
        .filter(|m| m["status"] == 200)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in &ids {
        let attempts: Vec<&Value> = web_log.iter().filter(|m| m["id"] == *id).collect();
        assert_eq!(attempts.len(), 2, "{id}: {attempts:?}");
        assert_eq!(attempts[0]["status"], 500);
        assert_eq!(attempts[0]["body"], attempts[1]["body"], "the same message");
    }
    let shipped = web_log
        .iter()
        .find(|m| m["status"] == 200 && m["body"]["type"] == "order.shipped")
        .unwrap();
    assert_eq!(
        shipped["body"]["data"]["shipment"]["trackingNumber"], "T-2",
        "{shipped}"
    );
    let refund = web_log
        .iter()
        .find(|m| m["status"] == 200 && m["body"]["type"] == "refund.issued")
        .unwrap();
    assert_eq!(
        refund["body"]["data"]["refund"]["amount"], "10.00",
        "{refund}"
    );
    // White label: the channel's messages never name who ships.
    assert!(
        !web_log
            .iter()
            .any(|m| m["body"].to_string().contains("acme")),
        "a fulfiller is named to the channel"
    );

    // The fulfiller hears of its delivery order and the return, never the customer's address.
    let acme_log = stack
        .eventually("acme's events", WAIT, || async {
            let log = receiver.log("acme").await;
            (delivered(&log).len() >= 2).then_some(log)
        })
        .await;
    assert_eq!(
        delivered(&acme_log),
        ["delivery_order.created", "return.announced"]
    );
    for m in &acme_log {
        assert_eq!(m["verified"], true, "{m}");
        let text = m["body"].to_string();
        assert!(
            !text.contains("carla@example.com"),
            "the customer's e-mail reached a fulfiller: {text}"
        );
    }
    assert_eq!(acme_log[0]["body"]["data"]["id"], json!(delivery_id));

    // The log: every delivery delivered at the second attempt; a delivered one is not retried.
    let (status, log) = stack
        .get("/webhooks/web-hooks/deliveries", Some(&world.web))
        .await;
    assert_eq!(status, 200, "{log}");
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), expected.len(), "{log}");
    for d in items {
        assert_eq!(
            (
                d["status"].as_str(),
                d["attempts"].as_u64(),
                d["lastStatusCode"].as_u64()
            ),
            (Some("delivered"), Some(2), Some(200)),
            "{d}"
        );
        assert!(ids.contains(&d["id"].as_str().unwrap()), "{d}");
    }
    let first = items[0]["id"].as_str().unwrap();
    let (status, e) = stack
        .post(
            &format!("/webhooks/web-hooks/deliveries/{first}/retry"),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("invalid_state")),
        "{e}"
    );

    // Nobody else heard of this order.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        receiver.log("market").await.is_empty(),
        "another channel got web-de's order"
    );
    assert!(
        receiver.log("nordic").await.is_empty(),
        "another fulfiller got acme's delivery order"
    );

    // Deleted: nothing more is sent, and the subscription is gone for its owner too.
    let (status, _) = stack.delete("/webhooks/web-hooks", Some(&world.web)).await;
    assert_eq!(status, 204);
    let (status, _) = stack
        .get("/webhooks/web-hooks/deliveries", Some(&world.web))
        .await;
    assert_eq!(status, 404);
    // The id taken again, by another channel: web-de's deliveries are not its.
    let url = receiver.url("market");
    let (status, taken) = subscribe(
        &stack,
        &world.marketplace,
        "web-hooks",
        &url,
        channel_events.clone(),
        "k-again",
    )
    .await;
    assert_eq!(status, 201, "{taken}");
    let (status, log) = stack
        .get("/webhooks/web-hooks/deliveries", Some(&world.marketplace))
        .await;
    assert_eq!((status, &log["items"]), (200, &json!([])), "{log}");
    let (status, _) = stack
        .post(
            &format!("/webhooks/web-hooks/deliveries/{first}/retry"),
            Some(&world.marketplace),
            &json!({}),
        )
        .await;
    assert_eq!(
        status, 404,
        "web-de's delivery is not the new subscription's"
    );
}

/// The deliveries of a subscription, as its log lists them.
async fn deliveries(stack: &Stack, token: &str, subscription: &str) -> Vec<Value> {
    let (status, log) = stack
        .get(&format!("/webhooks/{subscription}/deliveries"), Some(token))
        .await;
    assert_eq!(status, 200, "{log}");
    log["items"].as_array().cloned().unwrap_or_default()
}

/// Makes a pending delivery due now in the table, as if its wait were over.
async fn make_due(stack: &Stack, subscription: &str, delivery: &str, attempts: Option<u32>) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let mut update = ddb
        .update_item()
        .table_name("WebhooksTable")
        .key("pk", A::S(format!("SUB#{subscription}")))
        .key("sk", A::S(format!("DLV#{delivery}")))
        .update_expression("SET dueAt = :now, nextAttemptAt = :now")
        .expression_attribute_values(":now", A::S(now));
    if let Some(n) = attempts {
        update = update
            .update_expression("SET dueAt = :now, nextAttemptAt = :now, attempts = :n")
            .expression_attribute_values(":n", A::N(n.to_string()));
    }
    update.send().await.expect("the delivery is updated");
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_everything_afterwards_in_order_and_a_spent_schedule_alerts() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let receiver = Receiver::start();
    let events = json!(["order.routed", "order.partially_shipped", "order.shipped"]);
    let (status, sub) = subscribe(
        &stack,
        &world.web,
        "down-hooks",
        &receiver.url("web"),
        events,
        "k-d",
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let secret = sub["secret"].as_str().unwrap().to_string();
    receiver
        .endpoint("web", json!({"secret": secret, "down": true}))
        .await;

    shipped_in_two(&stack, &world, "WEB-DOWN").await;

    // Down: the first message is tried at once and after 5 s, then waits (about 5 minutes);
    // the two after it wait behind it, untried.
    let log = stack
        .eventually(
            "the head's two attempts, the rest waiting",
            WAIT,
            || async {
                let log = deliveries(&stack, &world.web, "down-hooks").await;
                let attempts: Vec<u64> = log
                    .iter()
                    .map(|d| d["attempts"].as_u64().unwrap_or(0))
                    .collect();
                (attempts == [2, 0, 0]).then_some(log)
            },
        )
        .await;
    let ids: Vec<String> = log
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["lastStatusCode"], 503);
    let next: chrono::DateTime<chrono::Utc> =
        log[0]["nextAttemptAt"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(
        wait > chrono::TimeDelta::minutes(4) && wait <= chrono::TimeDelta::minutes(5),
        "{log:?}"
    );
    let seen = receiver.log("web").await;
    assert_eq!(seen.len(), 2, "only the head was tried: {seen:?}");
    assert!(seen
        .iter()
        .all(|m| m["id"] == json!(ids[0]) && m["status"] == 503 && m["verified"] == true));

    // Up again; the head's wait ends (as the table would say in 5 minutes) and the minute's
    // sweep sends it; each delivered message lets the next of its order go, in order.
    receiver.endpoint("web", json!({"secret": secret})).await;
    make_due(&stack, "down-hooks", &ids[0], None).await;
    assert_eq!(stack.run_schedule("webhook-sender").await, 202);
    let seen = stack
        .eventually("all three delivered after the outage", WAIT, || async {
            let log = receiver.log("web").await;
            (delivered(&log).len() >= 3).then_some(log)
        })
        .await;
    assert_eq!(
        delivered(&seen),
        ["order.routed", "order.partially_shipped", "order.shipped"]
    );
    let delivered_ids: Vec<&str> = seen
        .iter()
        .filter(|m| m["status"] == 200)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        delivered_ids, ids,
        "each with the webhook-id it was first tried with"
    );
    let log = deliveries(&stack, &world.web, "down-hooks").await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "delivered" && d.get("nextAttemptAt").is_none()),
        "{log:?}"
    );

    // A spent schedule: the last attempt fails, the delivery is failed and an alert opens;
    // a retry by hand then delivers it, with the same webhook-id.
    receiver
        .endpoint("web", json!({"secret": secret, "down": true}))
        .await;
    let (status, _) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "down-2",
            &setup::order(
                "WEB-DOWN-2",
                json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"}]),
                "10.00",
            ),
        )
        .await;
    assert_eq!(status, 201);
    let head = stack
        .eventually("the second order's message waiting", WAIT, || async {
            let log = deliveries(&stack, &world.web, "down-hooks").await;
            log.into_iter()
                .find(|d| d["attempts"] == 2 && d["status"] == "pending")
        })
        .await;
    let head_id = head["id"].as_str().unwrap().to_string();
    make_due(&stack, "down-hooks", &head_id, Some(7)).await;
    assert_eq!(stack.run_schedule("webhook-sender").await, 202);
    let alert = stack
        .eventually("the failed delivery's alert", WAIT, || async {
            let (_, alerts) = stack.get("/admin/alerts", Some(&stack.admin_token)).await;
            alerts["items"]
                .as_array()?
                .iter()
                .find(|a| a["type"] == "webhook_failed")
                .cloned()
        })
        .await;
    assert!(
        alert["details"].as_str().unwrap().contains(&head_id),
        "{alert}"
    );
    let failed = deliveries(&stack, &world.web, "down-hooks").await;
    let failed = failed.iter().find(|d| d["id"] == json!(head_id)).unwrap();
    assert_eq!(
        (failed["status"].as_str(), failed["attempts"].as_u64()),
        (Some("failed"), Some(8)),
        "{failed}"
    );

    receiver.endpoint("web", json!({"secret": secret})).await;
    let retry = format!("/webhooks/down-hooks/deliveries/{head_id}/retry");
    let (status, d) = stack
        .post(&retry, Some(&world.marketplace), &json!({}))
        .await;
    assert_eq!(status, 404, "someone else's delivery: {d}");
    let (status, d) = stack.post(&retry, Some(&world.web), &json!({})).await;
    assert_eq!(
        (status, d["status"].as_str()),
        (202, Some("pending")),
        "{d}"
    );
    stack
        .eventually("the retried delivery delivered", WAIT, || async {
            let log = receiver.log("web").await;
            log.iter()
                .any(|m| m["id"] == json!(head_id) && m["status"] == 200)
                .then_some(())
        })
        .await;
}
