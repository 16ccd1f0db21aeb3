//! The dropshipper portal in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/portal/portal.mjs`, installed by `make system-deps`). A dropshipper
//! signs in with a mailed one-time link, sees today's and late work, accepts a delivery order,
//! downloads its delivery note, confirms a partial shipment, edits and uploads stock (a list as
//! Excel saves it, with bad rows, is refused with every bad row in a table: line, reason),
//! receives a return; another fulfiller signs in with its API token and gets a 404 for the first
//! one's delivery order. Then the API is asked whether all of it really happened, and the logs
//! whether any secret leaked.
//!
//! `PORTAL_SCREENSHOTS=docs/portal cargo test -p e2e-tests --test e2e portal::` refreshes the
//! committed screenshots.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const TRACKING: &str = "00340434161094042557";
const TRACKING_2: &str = "00340434161094042564";
/// A 96 x 96 PNG mark for the retailer's branding.
const LOGO_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAGAAAABgCAYAAADimHc4AAABmklEQVR42u3dwVEDMQwFUCqiFEpI/12YBiCEzHq/ZL2d0V3+75bY0sda60PlSggAACgAz+vz8bXeKQA3B94R5OjAO4CMDL4SxOjgK0AIPgwh+DCE4MMQwg8jCD+MIPgwhPDDCMIPIwg/jCD8MILwwwgAOgII/DoE4YcRhB9GiAG8840G2NDksQD/QQDQAWBTg0cDvIoAoDrAxuaOB3gFAUBlgM2NjQD4CwFAVYAbmhoD8AwBAAAAAKoB3NTQKIDfEAAAAACgEsCNzYwD+AkBAAAAAAAAAAAAAAAAAAAAAAAAAAAAKQA/R/s/AAAAALMBXEtxLyjyAQAAoAxAxevpXQGOeR8wDqDaE6WOAEe9ERsJUOmZajeA494JjwWoMqqgE8CRsyJGAyzzgs6aFwTAyLJ+I8sgFBjaB8HcUAAQCowuhlBgePcyvt4Ch87hXwowCeHKzCzxCQW/FeBEhF05WeQWDH87QHeIO7KxzDMUfASgOkQiCwudHwMXOleBqHD2ckvuN99FKnfWkgBXgXQ4WwuAk0sIAACoYH0DUDnCC58AsM8AAAAASUVORK5CYII=";

fn address(name: &str) -> Value {
    json!({"name": name, "street": "Gartenweg 4", "postalCode": "28195", "city": "Bremen", "country": "DE"})
}

async fn ok(stack: &Stack, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let (status, resp) = stack.request(method, path, token, Some(body), &[]).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {resp}"
    );
    resp
}

/// Places an order and returns (order id, the delivery order acme got for it).
async fn order_at_acme(
    stack: &Stack,
    web: &str,
    acme: &str,
    external: &str,
    sku: &str,
    quantity: u32,
    price: &str,
) -> (String, String) {
    let total = format!(
        "{:.2}",
        price.parse::<f64>().unwrap_or_default() * f64::from(quantity)
    );
    let body = setup::order(
        external,
        json!([{"lineId": "L1", "sku": sku, "quantity": quantity, "unitPrice": price}]),
        &total,
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(web), external, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap_or_default().to_string();
    let delivery = stack
        .eventually("acme's delivery order", WAIT, || {
            let order_id = order_id.clone();
            async move {
                let (_, list) = stack.get("/fulfiller/delivery-orders", Some(acme)).await;
                list["items"]
                    .as_array()?
                    .iter()
                    .find(|d| d["orderId"] == order_id.as_str())?["id"]
                    .as_str()
                    .map(String::from)
            }
        })
        .await;
    (order_id, delivery)
}

#[tokio::test]
async fn a_dropshipper_works_its_orders_stock_and_returns_in_a_real_browser() {
    crate::browser::assert_installed();
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    // The retailer's logo, and product names as a shop has them.
    ok(&stack, "PUT", "/admin/branding", admin, &json!({"companyName": "Lindenhof Living GmbH",
        "address": address("Lindenhof Living GmbH"), "vatId": "DE123456789", "primaryColor": "#2E5E4E",
        "footer": "Lindenhof Living GmbH · Berlin", "emailFrom": "service@lindenhof.example", "locale": "de",
        "logoPngBase64": LOGO_PNG})).await;
    for (sku, name, sources) in [
        (
            "CHAIR-TEAK",
            "Gartenstuhl Teak",
            json!([{"fulfillerId": "acme-garden", "priority": 1}]),
        ),
        (
            "VASE-BLUE",
            "Vase Kobaltblau",
            json!([{"fulfillerId": "nordic-home", "priority": 1}, {"fulfillerId": "acme-garden", "priority": 2}]),
        ),
        (
            "SEEDS",
            "Saatgut-Set Wildblumen",
            json!([{"fulfillerId": "acme-garden", "priority": 1}]),
        ),
    ] {
        ok(
            &stack,
            "PUT",
            &format!("/admin/products/{sku}"),
            admin,
            &json!({"name": name, "taxClass": "standard",
            "group": "garden", "allowBackorder": sku == "SEEDS", "sources": sources}),
        )
        .await;
    }
    // acme ships within the hour (today's work shows on its dashboard) and reads the retailer's
    // German; nordic has chosen English.
    ok(
        &stack,
        "PUT",
        "/admin/fulfillers/acme-garden",
        admin,
        &json!({"name": "Acme Garden GmbH", "kind": "dropshipper",
        "email": setup::ACME_EMAIL, "slaHours": 1, "address": address("Acme Garden GmbH")}),
    )
    .await;
    ok(
        &stack,
        "PUT",
        "/admin/fulfillers/nordic-home",
        admin,
        &json!({"name": "Nordic Home AB", "kind": "dropshipper",
        "email": setup::NORDIC_EMAIL, "locale": "en", "address": address("Nordic Home AB")}),
    )
    .await;

    // A shipped order with an authorized return (as the channel asks for it).
    let (returned_order, returned_delivery) = order_at_acme(
        &stack,
        &world.web,
        &world.acme,
        "WEB-P-RET",
        "CHAIR-TEAK",
        2,
        "24.99",
    )
    .await;
    ok(
        &stack,
        "POST",
        &format!("/fulfiller/delivery-orders/{returned_delivery}/shipments"),
        Some(&world.acme),
        &json!({"carrier": "DHL", "trackingNumber": "RET-1"}),
    )
    .await;
    let r = ok(
        &stack,
        "POST",
        &format!("/orders/{returned_order}/returns"),
        Some(&world.web),
        &json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "zu groß"}]}),
    )
    .await;
    let return_id = r["returnId"].as_str().unwrap_or_default().to_string();

    // A delivery order past its due time (the admin API allows at least an hour, so the
    // record's due time is moved back directly).
    let (_, late) = order_at_acme(
        &stack,
        &world.web,
        &world.acme,
        "WEB-P-LATE",
        "SEEDS",
        1,
        "4.99",
    )
    .await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let past = (chrono::Utc::now() - chrono::Duration::hours(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    ddb.update_item()
        .table_name("DeliveryOrdersTable")
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(late.clone()),
        )
        .update_expression("SET dueAt = :d")
        .expression_attribute_values(":d", aws_sdk_dynamodb::types::AttributeValue::S(past))
        .send()
        .await
        .unwrap_or_else(|e| panic!("moving the due time back: {e}"));

    // The delivery order the browser works, once its documents exist.
    let (order_id, delivery) = order_at_acme(
        &stack,
        &world.web,
        &world.acme,
        "WEB-P-1",
        "CHAIR-TEAK",
        3,
        "99.00",
    )
    .await;
    let due_at = stack
        .eventually("the delivery order's documents", WAIT, || async {
            let (_, d) = stack
                .get(
                    &format!("/fulfiller/delivery-orders/{delivery}"),
                    Some(&world.acme),
                )
                .await;
            (d["documents"].as_array().is_some_and(|a| a.len() == 3)).then(|| d["dueAt"].clone())
        })
        .await;

    let config = json!({
        "base": stack.api, "acmeEmail": setup::ACME_EMAIL, "nordicToken": world.nordic,
        "delivery": delivery, "lateDelivery": late, "dueAt": due_at, "returnId": return_id,
        "tracking": TRACKING, "tracking2": TRACKING_2,
    });
    let result = crate::browser::run(&stack, "portal.mjs", "PORTAL_TEST", &config).await;
    assert_eq!(result["secondFulfillerStatus"], 404);
    assert!(
        result["deliveryNoteBytes"].as_u64().unwrap_or(0) > 1000,
        "{result}"
    );

    // What the pages did, as the API sees it.
    let (_, d) = stack
        .get(
            &format!("/fulfiller/delivery-orders/{delivery}"),
            Some(&world.acme),
        )
        .await;
    assert_eq!(
        (d["status"].as_str(), d["lines"][0]["shipped"].as_u64()),
        (Some("shipped"), Some(3)),
        "two parcels of 2 and 1, the resent form shipped nothing more: {d}"
    );
    let (_, o) = stack.get(&format!("/admin/orders/{order_id}"), admin).await;
    let history: Vec<String> = o["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["what"].as_str().map(String::from))
        .collect();
    for (what, times) in [
        ("accepted", 1),
        ("shipped 2 x L1", 1),
        ("shipped 1 x L1", 1),
    ] {
        assert_eq!(
            history.iter().filter(|h| h.starts_with(what)).count(),
            times,
            "{what}: {history:?}"
        );
    }
    let (_, rejected) = stack
        .get(
            &format!("/fulfiller/delivery-orders/{late}"),
            Some(&world.acme),
        )
        .await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    let mail = stack
        .eventually("the customer's shipping notice", WAIT, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["to"][0] == "carla@example.com"
                    && m["text"].as_str().is_some_and(|t| t.contains(TRACKING))
            })
        })
        .await;
    assert!(!mail.to_string().to_lowercase().contains("acme"), "{mail}");
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    let available = |sku: &str| {
        stock["items"]
            .as_array()
            .and_then(|items| items.iter().find(|s| s["sku"] == sku))
            .and_then(|s| s["available"].as_i64())
    };
    assert_eq!(
        (available("VASE-BLUE"), available("SEEDS")),
        (Some(7), Some(30)),
        "the refused list applied nothing, the corrected one everything: {stock}"
    );
    let (_, parts) = stack.get("/fulfiller/returns", Some(&world.acme)).await;
    let part = parts["items"]
        .as_array()
        .and_then(|p| {
            p.iter()
                .find(|p| p["returnId"] == return_id.as_str())
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(
        (
            part["lines"][0]["resellable"].as_u64(),
            part["lines"][0]["damaged"].as_u64()
        ),
        (Some(1), Some(1)),
        "{parts}"
    );
    let refunded = stack
        .eventually("the return's refund", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{returned_order}"), Some(&world.web))
                .await;
            o["refunds"].as_array().filter(|r| !r.is_empty()).cloned()
        })
        .await;
    assert_eq!(refunded[0]["amount"], "49.98", "{refunded:?}");

    // Secrets never reach the logs: not the mailed link, not the token typed into the page.
    let logs = stack.output.text();
    let link = result["magicSecret"].as_str().unwrap_or_default();
    assert_eq!(link.len(), 64, "{result}");
    assert!(!logs.contains(link), "the sign-in link is in the logs");
    assert!(
        !logs.contains(&world.nordic),
        "the API token is in the logs"
    );
}
