//! A small retailer configured through the admin API, as a test's starting point: branding,
//! two channels, an own warehouse and two dropshippers, a few products, German tax rates,
//! tokens for everyone and stock.

use crate::support::Stack;
use serde_json::{json, Value};

pub struct World {
    pub web: String,
    pub marketplace: String,
    pub warehouse: String,
    pub acme: String,
    pub nordic: String,
}

pub const ACME_EMAIL: &str = "orders@acme-garden.example";
pub const NORDIC_EMAIL: &str = "fulfilment@nordic-home.example";
pub const WAREHOUSE_EMAIL: &str = "lager@lindenhof.example";

fn address(name: &str) -> Value {
    json!({"name": name, "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"})
}

async fn ok(stack: &Stack, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let (status, resp) = stack.request(method, path, token, Some(&body), &[]).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {resp}"
    );
    resp
}

async fn token(stack: &Stack, principal: &str) -> String {
    let resp = ok(
        stack,
        "POST",
        "/admin/tokens",
        Some(&stack.admin_token),
        json!({"principal": principal, "name": principal}),
    )
    .await;
    resp["token"].as_str().expect("token").to_string()
}

pub async fn configure(stack: &Stack) -> World {
    let admin = Some(stack.admin_token.as_str());
    ok(stack, "PUT", "/admin/branding", admin, json!({"companyName": "Lindenhof Living GmbH", "address": address("Lindenhof Living GmbH"),
        "vatId": "DE123456789", "primaryColor": "#2E5E4E", "footer": "Lindenhof Living GmbH · Berlin",
        "emailFrom": "service@lindenhof.example", "locale": "de"})).await;
    for (id, kind) in [("web-de", "webshop"), ("marketplace", "marketplace")] {
        ok(
            stack,
            "PUT",
            &format!("/admin/channels/{id}"),
            admin,
            json!({"name": id, "kind": kind}),
        )
        .await;
    }
    for (id, kind, email) in [
        ("wh-berlin", "warehouse", WAREHOUSE_EMAIL),
        ("acme-garden", "dropshipper", ACME_EMAIL),
        ("nordic-home", "dropshipper", NORDIC_EMAIL),
    ] {
        ok(
            stack,
            "PUT",
            &format!("/admin/fulfillers/{id}"),
            admin,
            json!({"name": id, "kind": kind, "email": email, "address": address(id)}),
        )
        .await;
    }
    ok(
        stack,
        "PUT",
        "/admin/tax-rates/DE/standard",
        admin,
        json!({"rates": [
        {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
        {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
        {"rate": "0.19", "validFrom": "2021-01-01"}]}),
    )
    .await;
    for (sku, sources) in [
        (
            "LAMP-OAK",
            json!([{"fulfillerId": "wh-berlin", "priority": 1}]),
        ),
        (
            "CHAIR-TEAK",
            json!([{"fulfillerId": "acme-garden", "priority": 1, "purchasePrice": "64.00"}]),
        ),
        (
            "THROW-WOOL",
            json!([{"fulfillerId": "nordic-home", "priority": 1}]),
        ),
        (
            "VASE-BLUE",
            json!([{"fulfillerId": "nordic-home", "priority": 1}, {"fulfillerId": "acme-garden", "priority": 2}]),
        ),
    ] {
        ok(
            stack,
            "PUT",
            &format!("/admin/products/{sku}"),
            admin,
            json!({"name": sku, "taxClass": "standard", "group": "g", "sources": sources}),
        )
        .await;
    }
    // Seeds may be backordered; only acme has them.
    ok(
        stack,
        "PUT",
        "/admin/products/SEEDS",
        admin,
        json!({"name": "Seeds", "taxClass": "standard", "group": "garden", "allowBackorder": true,
            "sources": [{"fulfillerId": "acme-garden", "priority": 1}]}),
    )
    .await;
    let world = World {
        web: token(stack, "channel:web-de").await,
        marketplace: token(stack, "channel:marketplace").await,
        warehouse: token(stack, "fulfiller:wh-berlin").await,
        acme: token(stack, "fulfiller:acme-garden").await,
        nordic: token(stack, "fulfiller:nordic-home").await,
    };
    for (t, items) in [
        (
            &world.warehouse,
            json!([{"sku": "LAMP-OAK", "available": 20}]),
        ),
        (
            &world.acme,
            json!([{"sku": "CHAIR-TEAK", "available": 20}, {"sku": "VASE-BLUE", "available": 20}, {"sku": "SEEDS", "available": 20}]),
        ),
        (
            &world.nordic,
            json!([{"sku": "THROW-WOOL", "available": 20}, {"sku": "VASE-BLUE", "available": 20}]),
        ),
    ] {
        ok(
            stack,
            "PUT",
            "/fulfiller/stock",
            Some(t),
            json!({ "items": items }),
        )
        .await;
    }
    world
}

/// Uploads a stock feed the way a fulfiller does: asks for an upload URL, then PUTs the CSV to it.
pub async fn upload_stock_feed(stack: &Stack, token: &str, csv: impl Into<reqwest::Body>) {
    let (status, slot) = stack
        .post("/fulfiller/stock-feed", Some(token), &json!({}))
        .await;
    assert_eq!(status, 201, "{slot}");
    let upload = stack
        .http()
        .put(slot["uploadUrl"].as_str().expect("an upload URL"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("the upload answers");
    assert!(upload.status().is_success(), "{}", upload.status());
}

/// The standard rate in DE drops from 19 % to 16 % yesterday (the German 2020 case, moved to
/// now): two days of margin on either side of any time zone. Orders dated three days back are
/// then taxed at 19 %, shipments today at 16 %.
pub async fn rate_change_yesterday(stack: &Stack) {
    let day = |d: i64| {
        (chrono::Utc::now() + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    ok(
        stack,
        "PUT",
        "/admin/tax-rates/DE/standard",
        Some(&stack.admin_token),
        json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01", "validTo": day(-2)},
                         {"rate": "0.16", "validFrom": day(-1)}]}),
    )
    .await;
}

/// An order body of docs/api.md's worked example shape, for any lines.
pub fn order(external_id: &str, lines: Value, total: &str) -> Value {
    json!({"externalId": external_id, "customer": {"email": "carla@example.com", "name": "Carla Beispiel"},
        "shippingAddress": {"name": "Carla Beispiel", "street": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
        "currency": "EUR", "lines": lines, "payments": [{"method": "card", "amount": total}]})
}

/// A fulfiller's stock as (available, reserved) per sku, from GET /fulfiller/stock.
pub async fn stock_levels(
    stack: &Stack,
    token: &str,
) -> std::collections::BTreeMap<String, (i64, i64)> {
    let (_, s) = stack.get("/fulfiller/stock", Some(token)).await;
    s["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some((
                        i["sku"].as_str()?.to_string(),
                        (i["available"].as_i64()?, i["reserved"].as_i64()?),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The fulfiller's oldest delivery order as `GET /fulfiller/delivery-orders/{id}` shows it, once
/// it lists at least `documents` documents.
pub async fn first_delivery_order(
    stack: &Stack,
    token: &str,
    documents: usize,
    wait: std::time::Duration,
) -> Value {
    stack
        .eventually(
            &format!("the first delivery order with {documents} document(s)"),
            wait,
            || async {
                let (_, list) = stack.get("/fulfiller/delivery-orders", Some(token)).await;
                let id = list["items"].as_array()?.first()?["id"]
                    .as_str()?
                    .to_string();
                let (_, d) = stack
                    .get(&format!("/fulfiller/delivery-orders/{id}"), Some(token))
                    .await;
                (d["documents"].as_array()?.len() >= documents).then_some(d)
            },
        )
        .await
}

/// A delivery order's item as stored (to look at what the API never shows).
pub async fn stored_delivery_order(
    ddb: &aws_sdk_dynamodb::Client,
    id: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    ddb.get_item()
        .table_name("DeliveryOrdersTable")
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(id.to_string()),
        )
        .send()
        .await
        .ok()
        .and_then(|o| o.item)
        .unwrap_or_else(|| panic!("delivery order {id} is not stored"))
}

/// A count from the environment (the soak runs raise it), else `default`.
pub fn count_from_env(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sets a fulfiller's stock of one sku through `PUT /fulfiller/stock`.
pub async fn put_stock(stack: &Stack, token: &str, sku: &str, available: u32) {
    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(token),
            &json!({"items": [{"sku": sku, "available": available}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Every order `GET /admin/orders?<query>` lists, page after page (its tokens are URL-safe).
pub async fn admin_orders(stack: &Stack, query: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(t) => format!("/admin/orders?{query}&nextToken={t}"),
            None => format!("/admin/orders?{query}"),
        };
        let (status, page) = stack.get(&path, Some(&stack.admin_token)).await;
        assert_eq!(status, 200, "{page}");
        orders.extend(page["items"].as_array().into_iter().flatten().cloned());
        match page["nextToken"].as_str() {
            Some(t) => next = Some(t.to_string()),
            None => return orders,
        }
    }
}

/// The mails in the outbox addressed to `who` (among their recipients).
pub fn mails_to<'a>(mails: &'a [Value], who: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| {
            m["to"]
                .as_array()
                .is_some_and(|to| to.iter().any(|t| t == who))
        })
        .collect()
}

/// Waits until a process version (as `PUT /admin/process` answers it) takes effect: its
/// `updatedAt`, a few seconds after the write.
pub async fn until_in_force(version: &Value) {
    let at = version["updatedAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("no updatedAt in {version}"));
    let wait = (at.to_utc() - chrono::Utc::now()).num_milliseconds() + 50;
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait.unsigned_abs())).await;
    }
}
