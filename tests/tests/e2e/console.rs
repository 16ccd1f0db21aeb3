//! The retailer's console in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/portal/console.mjs`). A customer service agent finds an order by the
//! customer's address, records a phone contact and grants goodwill, and sees the refund in the
//! ledger; a finance user downloads a report and the finance export, is offered no goodwill and
//! gets 403 posting the form anyway, records a chargeback; the agent resolves its alert with a
//! note; an admin edits a product and switches a fulfiller off; staff sign in with a mailed link;
//! the pages switch to English and fit a tablet. Then the API is asked whether all of it really
//! happened (and the next order goes elsewhere), and the audit log whether it names everyone.
//!
//! `CONSOLE_SCREENSHOTS=docs/console cargo test -p e2e-tests --test e2e console::` refreshes the
//! committed screenshots.

use crate::setup;
use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

async fn ok(stack: &Stack, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let (status, resp) = stack.request(method, path, token, Some(body), &[]).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {resp}"
    );
    resp
}

/// A staff member and a token of theirs.
async fn staff(stack: &Stack, id: &str, name: &str, role: &str) -> String {
    let admin = Some(stack.admin_token.as_str());
    ok(
        stack,
        "PUT",
        &format!("/admin/staff/{id}"),
        admin,
        &json!({"name": name, "email": format!("{id}@lindenhof.example"), "role": role}),
    )
    .await;
    let token = ok(
        stack,
        "POST",
        "/admin/tokens",
        admin,
        &json!({"principal": format!("staff:{id}")}),
    )
    .await;
    token["token"].as_str().unwrap_or_default().to_string()
}

/// Who gets the delivery order of an order (its first).
async fn fulfiller_of(stack: &Stack, order_id: &str) -> String {
    stack
        .eventually("the order routed", WAIT, || async {
            let (_, o) = stack
                .get(
                    &format!("/admin/orders/{order_id}"),
                    Some(&stack.admin_token),
                )
                .await;
            o["deliveries"].as_array()?.first()?["fulfillerId"]
                .as_str()
                .map(String::from)
        })
        .await
}

#[tokio::test]
async fn staff_work_orders_customers_alerts_reports_and_configuration_in_a_real_browser() {
    crate::browser::assert_installed();
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    ok(&stack, "PUT", "/admin/branding", admin, &json!({"companyName": "Lindenhof Living GmbH",
        "address": {"name": "Lindenhof Living GmbH", "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"},
        "vatId": "DE123456789", "primaryColor": "#2E5E4E", "footer": "Lindenhof Living GmbH · Berlin",
        "emailFrom": "service@lindenhof.example", "locale": "de"})).await;
    for f in [&world.nordic, &world.acme] {
        ok(
            &stack,
            "PUT",
            "/fulfiller/stock",
            Some(f),
            &json!({"items": [{"sku": "VASE-BLUE", "available": 50}]}),
        )
        .await;
    }
    let anna = staff(&stack, "anna", "Anna Service", "service").await;
    let fiona = staff(&stack, "fiona", "Fiona Finance", "finance").await;
    let olga = staff(&stack, "olga", "Olga Admin", "admin").await;

    // The customer's order: a vase nordic-home ships.
    let mut body = setup::order(
        "WEB-C-1",
        json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 2, "unitPrice": "45.00"}]),
        "90.00",
    );
    body["customer"] = json!({"email": "Mira.Kunde@example.com", "name": "Mira Kunde"});
    body["payments"] = json!([{"method": "card", "amount": "90.00", "reference": "psp-4711"}]);
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "console-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap_or_default().to_string();
    assert_eq!(fulfiller_of(&stack, &order_id).await, "nordic-home");

    let config = json!({
        "base": stack.api, "orderId": order_id, "externalId": "WEB-C-1",
        "customerEmail": "mira.kunde@example.com", "anna": anna, "fiona": fiona, "olga": olga,
        "annaEmail": "anna@lindenhof.example", "owner": stack.admin_token,
    });
    let result = crate::browser::run(&stack, "console.mjs", "CONSOLE_TEST", &config).await;
    assert_eq!(result["financeGoodwillStatus"], 403, "{result}");
    assert!(
        result["csv"]
            .as_str()
            .is_some_and(|c| c.contains("VASE-BLUE")),
        "{result}"
    );

    // What the pages did, as the API sees it.
    let (_, o) = stack.get(&format!("/admin/orders/{order_id}"), admin).await;
    let goodwill: Vec<&Value> = o["ledger"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "goodwill")
        .collect();
    assert_eq!(goodwill.len(), 1, "one goodwill, however often sent: {o}");
    assert_eq!(goodwill[0]["amount"], "7.50");
    assert!(
        o["ledger"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["kind"] == "chargeback"),
        "{o}"
    );
    assert_eq!(o["contacts"][0]["channel"], "phone", "{o}");
    assert!(
        o["history"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| h["who"]
                .as_str()
                .is_some_and(|w| w.starts_with("staff:anna"))),
        "the history names the agent: {o}"
    );
    let (_, product) = stack.get("/admin/products/VASE-BLUE", admin).await;
    assert_eq!(product["name"], "Vase Kobaltblau", "{product}");
    assert!(
        product["updatedBy"]
            .as_str()
            .is_some_and(|b| b.starts_with("staff:olga")),
        "{product}"
    );
    let (_, channel) = stack.get("/admin/channels/marketplace", admin).await;
    assert_eq!(
        (channel["name"].as_str(), channel["kind"].as_str()),
        (Some("Marktplatz DE"), Some("marketplace")),
        "{channel}"
    );
    let (_, nordic) = stack.get("/admin/fulfillers/nordic-home", admin).await;
    assert_eq!(nordic["active"], false, "{nordic}");
    let (_, resolved) = stack.get("/admin/alerts?state=resolved", admin).await;
    let alert = resolved["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == "chargeback")
        .cloned()
        .unwrap_or_else(|| panic!("the chargeback alert resolved: {resolved}"));
    assert_eq!(alert["resolutionNote"], "Kundin angerufen, Bank informiert");
    assert!(
        alert["resolvedBy"]
            .as_str()
            .is_some_and(|b| b.starts_with("staff:anna")),
        "{alert}"
    );

    // The next vase goes to acme-garden: nordic-home is switched off.
    let mut next = body.clone();
    next["externalId"] = json!("WEB-C-2");
    let (status, second) = stack
        .post_idempotent("/orders", Some(&world.web), "console-2", &next)
        .await;
    assert_eq!(status, 201, "{second}");
    let second_id = second["orderId"].as_str().unwrap_or_default();
    assert_eq!(fulfiller_of(&stack, second_id).await, "acme-garden");

    // The audit log names each person, and the refused goodwill with its 403.
    let (_, audit) = stack.get("/admin/audit", admin).await;
    let lines: Vec<(String, String, i64)> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["principal"].as_str().unwrap_or_default().to_string(),
                l["action"].as_str().unwrap_or_default().to_string(),
                l["outcome"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    for (who, action, outcome) in [
        ("staff:anna", "POST /admin/orders/{orderId}/goodwill", 201),
        ("staff:anna", "POST /admin/orders/{orderId}/contacts", 201),
        ("staff:fiona", "POST /admin/orders/{orderId}/goodwill", 403),
        (
            "staff:fiona",
            "POST /admin/orders/{orderId}/chargebacks",
            201,
        ),
        ("staff:olga", "PUT /admin/products/{sku}", 200),
        ("staff:olga", "PUT /admin/fulfillers/{fulfillerId}", 200),
    ] {
        assert!(
            lines
                .iter()
                .any(|(p, a, o)| p == who && a == action && *o == outcome),
            "{who} {action} {outcome} in the audit log: {lines:?}"
        );
    }

    // Signing out revoked the sessions; no secret reached a log.
    let (_, tokens) = stack.get("/admin/tokens?principal=staff:anna", admin).await;
    let sessions = tokens["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["consoleSession"] == true)
        .count();
    assert_eq!(
        sessions, 0,
        "anna signed out of two sessions; the third ended with her token: {tokens}"
    );
    let logs = stack.output.tail(100_000);
    for secret in [&anna, &fiona, &olga, &stack.admin_token] {
        assert!(!logs.contains(secret.as_str()), "a token in the logs");
    }
    if let Some(link) = result["magicSecret"].as_str() {
        assert!(!logs.contains(link), "the sign-in link in the logs");
    }
}
