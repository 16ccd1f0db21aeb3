//! Reading, listing and retiring the configuration end to end: every PUT read back with who
//! changed it and when; the lists filtered and walked one item a page to their end; tax rates,
//! the branding (its logo a working link) and the refund policy; tokens listed without their
//! secret; and a channel, a product and a fulfiller set inactive taking no new work while what
//! they already have keeps working.

use crate::setup;
use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
/// A 96 x 96 PNG mark for the retailer's branding.
const LOGO_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAGAAAABgCAYAAADimHc4AAABmklEQVR42u3dwVEDMQwFUCqiFEpI/12YBiCEzHq/ZL2d0V3+75bY0sda60PlSggAACgAz+vz8bXeKQA3B94R5OjAO4CMDL4SxOjgK0AIPgwh+DCE4MMQwg8jCD+MIPgwhPDDCMIPIwg/jCD8MILwwwgAOgII/DoE4YcRhB9GiAG8840G2NDksQD/QQDQAWBTg0cDvIoAoDrAxuaOB3gFAUBlgM2NjQD4CwFAVYAbmhoD8AwBAAAAAKoB3NTQKIDfEAAAAACgEsCNzYwD+AkBAAAAAAAAAAAAAAAAAAAAAAAAAAAAKQA/R/s/AAAAALMBXEtxLyjyAQAAoAxAxevpXQGOeR8wDqDaE6WOAEe9ERsJUOmZajeA494JjwWoMqqgE8CRsyJGAyzzgs6aFwTAyLJ+I8sgFBjaB8HcUAAQCowuhlBgePcyvt4Ch87hXwowCeHKzCzxCQW/FeBEhF05WeQWDH87QHeIO7KxzDMUfASgOkQiCwudHwMXOleBqHD2ckvuN99FKnfWkgBXgXQ4WwuAk0sIAACoYH0DUDnCC58AsM8AAAAASUVORK5CYII=";

fn address(name: &str) -> Value {
    json!({"name": name, "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"})
}

/// A token of an admin with this display name (`updatedBy` records `admin:<name>`).
async fn admin_named(stack: &Stack, name: &str) -> String {
    let (status, made) = stack
        .post(
            "/admin/tokens",
            Some(&stack.admin_token),
            &json!({"principal": "admin", "name": name}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    made["token"].as_str().unwrap().to_string()
}

/// Every item of a list (`path` with its query, if any), walking `nextToken` to the end; also
/// the number of pages it took.
async fn walk(stack: &Stack, path: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next: Option<String> = None;
    let join = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &next {
            Some(t) => format!("{path}{join}nextToken={t}"),
            None => path.to_string(),
        };
        let (status, page) = stack.get(&url, Some(&stack.admin_token)).await;
        assert_eq!(status, 200, "{url}: {page}");
        pages += 1;
        assert!(pages < 100, "{path} never ends");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextToken"].as_str() {
            Some(t) => next = Some(t.to_string()),
            None => return (items, pages),
        }
    }
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

/// True when `at` is an RFC 3339 instant within the last few minutes.
fn just_now(at: &Value) -> bool {
    at.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| {
            let age = chrono::Utc::now() - t.to_utc();
            age >= chrono::Duration::seconds(-5) && age < chrono::Duration::minutes(5)
        })
}

async fn code_of(stack: &Stack, path: &str) -> (u16, Value) {
    let (status, body) = stack.get(path, Some(&stack.admin_token)).await;
    (status, body["error"].clone())
}

#[tokio::test]
async fn what_was_put_is_read_back_with_who_and_when() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let ada = admin_named(&stack, "Ada Admin").await;

    let (status, put) = stack
        .put(
            "/admin/channels/app-de",
            Some(&ada),
            &json!({"name": "App DE", "kind": "app", "priceCheck": "reject"}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    let (status, channel) = stack
        .get("/admin/channels/app-de", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{channel}");
    assert_eq!(
        (
            &channel["id"],
            &channel["name"],
            &channel["kind"],
            &channel["currency"],
            &channel["priceCheck"],
            &channel["active"],
            &channel["updatedBy"],
        ),
        (
            &json!("app-de"),
            &json!("App DE"),
            &json!("app"),
            &json!("EUR"),
            &json!("reject"),
            &json!(true),
            &json!("admin:Ada Admin"),
        )
    );
    assert!(just_now(&channel["updatedAt"]), "{channel}");
    assert_eq!(
        put["updatedAt"], channel["updatedAt"],
        "the PUT answers the same"
    );

    let (status, _) = stack
        .put(
            "/admin/fulfillers/baltic",
            Some(&ada),
            &json!({"name": "Baltic", "kind": "dropshipper", "email": "ops@baltic.example",
                "slaHours": 24, "address": address("Baltic")}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, fulfiller) = stack
        .get("/admin/fulfillers/baltic", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{fulfiller}");
    assert_eq!(
        (
            &fulfiller["slaHours"],
            &fulfiller["stockMaxAgeHours"],
            &fulfiller["active"]
        ),
        (&json!(24), &json!(24), &json!(true))
    );
    assert_eq!(fulfiller["address"]["city"], "Berlin");
    assert_eq!(fulfiller["updatedBy"], "admin:Ada Admin");
    assert!(just_now(&fulfiller["updatedAt"]), "{fulfiller}");

    let (status, _) = stack
        .put(
            "/admin/products/MUG-STONE",
            Some(&ada),
            &json!({"name": "Stoneware Mug", "taxClass": "reduced", "group": "kitchen",
                "sources": [{"fulfillerId": "baltic", "priority": 1, "purchasePrice": "3.10"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, product) = stack
        .get("/admin/products/MUG-STONE", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(
        (
            &product["sku"],
            &product["taxClass"],
            &product["group"],
            &product["sources"][0]["purchasePrice"],
            &product["active"],
            &product["updatedBy"],
        ),
        (
            &json!("MUG-STONE"),
            &json!("reduced"),
            &json!("kitchen"),
            &json!("3.10"),
            &json!(true),
            &json!("admin:Ada Admin"),
        )
    );
    assert!(just_now(&product["updatedAt"]), "{product}");

    for path in [
        "/admin/channels/nowhere",
        "/admin/fulfillers/nobody",
        "/admin/products/NO-SUCH-SKU",
        "/admin/tax-rates/FR/standard",
        "/admin/tax-rates/DE/luxury",
    ] {
        let (status, error) = code_of(&stack, path).await;
        assert_eq!(
            (status, &error["code"]),
            (404, &json!("not_found")),
            "{path}"
        );
    }
    // Only admins read the configuration.
    let channel_token = {
        let (_, made) = stack
            .post(
                "/admin/tokens",
                Some(&stack.admin_token),
                &json!({"principal": "channel:app-de"}),
            )
            .await;
        made["token"].as_str().unwrap().to_string()
    };
    let (status, _) = stack
        .get("/admin/channels/app-de", Some(&channel_token))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn lists_filter_and_page_to_their_end() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let (status, _) = stack
        .put(
            "/admin/products/LAMP-OAK",
            admin,
            &json!({"name": "Oak Lamp", "taxClass": "standard", "group": "light", "active": false,
                "sources": [{"fulfillerId": "wh-berlin", "priority": 1}]}),
        )
        .await;
    assert_eq!(status, 200);

    // One item a page, walked to the end: every product once, in sku order, inactive ones too.
    let (all, pages) = walk(&stack, "/admin/products?limit=1").await;
    let skus = ids(&all, "sku");
    assert_eq!(
        skus,
        ["CHAIR-TEAK", "LAMP-OAK", "SEEDS", "THROW-WOOL", "VASE-BLUE"]
    );
    assert!(pages >= 5, "{pages} pages");
    let (all, _) = walk(&stack, "/admin/products").await;
    assert_eq!(ids(&all, "sku"), skus, "one page of 50 holds them all");

    for (query, expected) in [
        ("q=vase", vec!["VASE-BLUE"]),
        ("q=eed", vec!["SEEDS"]),
        ("q=OAK", vec!["LAMP-OAK"]),
        ("q=blue&limit=1", vec!["VASE-BLUE"]),
        ("group=garden", vec!["SEEDS"]),
        ("active=false", vec!["LAMP-OAK"]),
        (
            "active=true&limit=1",
            vec!["CHAIR-TEAK", "SEEDS", "THROW-WOOL", "VASE-BLUE"],
        ),
        ("group=light&active=true", vec![]),
    ] {
        let (items, _) = walk(&stack, &format!("/admin/products?{query}")).await;
        assert_eq!(ids(&items, "sku"), expected, "{query}");
    }

    let (status, _) = stack
        .put(
            "/admin/channels/marketplace",
            admin,
            &json!({"name": "Marketplace", "kind": "marketplace", "active": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (channels, _) = walk(&stack, "/admin/channels?limit=1").await;
    assert_eq!(ids(&channels, "id"), ["marketplace", "web-de"]);
    let (inactive, _) = walk(&stack, "/admin/channels?active=false").await;
    assert_eq!(ids(&inactive, "id"), ["marketplace"]);
    let (fulfillers, _) = walk(&stack, "/admin/fulfillers?limit=2").await;
    assert_eq!(
        ids(&fulfillers, "id"),
        ["acme-garden", "nordic-home", "wh-berlin"]
    );
    assert!(fulfillers.iter().all(|f| f["active"] == true));

    // Invalid query values are 422 naming the parameter; a token of another list is refused.
    let (_, page) = stack.get("/admin/channels?limit=1", admin).await;
    let first = page["nextToken"].as_str().unwrap().to_string();
    for (path, field) in [
        ("/admin/products?active=yes".to_string(), "active"),
        ("/admin/channels?active=1".to_string(), "active"),
        ("/admin/products?limit=0".to_string(), "limit"),
        ("/admin/fulfillers?limit=201".to_string(), "limit"),
        ("/admin/products?q=%20%20".to_string(), "q"),
        (
            "/admin/products?nextToken=not-a-token".to_string(),
            "nextToken",
        ),
        (format!("/admin/products?nextToken={first}"), "nextToken"),
        ("/admin/tokens?principal=someone".to_string(), "principal"),
    ] {
        let (status, error) = code_of(&stack, &path).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (422, Some(field)),
            "{path}: {error}"
        );
    }
}

#[tokio::test]
async fn tax_rates_branding_and_refund_policy_read_back() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let (status, _) = stack
        .put(
            "/admin/tax-rates/DE/reduced",
            admin,
            &json!({"rates": [{"rate": "0.07", "validFrom": "2007-01-01"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = stack
        .put(
            "/admin/tax-rates/AT/standard",
            admin,
            &json!({"rates": [{"rate": "0.20", "validFrom": "2016-01-01"}]}),
        )
        .await;
    assert_eq!(status, 200);

    let (rates, _) = walk(&stack, "/admin/tax-rates?limit=1").await;
    let keys: Vec<String> = rates
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["country"].as_str().unwrap(),
                r["taxClass"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(keys, ["AT/standard", "DE/reduced", "DE/standard"]);
    let german = &rates[2];
    assert_eq!(german["rates"].as_array().unwrap().len(), 3, "{german}");
    assert_eq!(german["rates"][1]["rate"], "0.16");
    let (status, one) = stack.get("/admin/tax-rates/DE/standard", admin).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(&one, german);
    assert!(
        just_now(&one["updatedAt"]) && one["updatedBy"].is_string(),
        "{one}"
    );

    let (status, _) = stack
        .put(
            "/admin/branding",
            admin,
            &json!({"companyName": "Lindenhof Living GmbH", "address": address("Lindenhof Living GmbH"),
                "vatId": "DE123456789", "logoPngBase64": LOGO_PNG, "primaryColor": "#2E5E4E",
                "footer": "Lindenhof Living GmbH · Berlin", "emailFrom": "service@lindenhof.example",
                "locale": "de", "timeZone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, branding) = stack.get("/admin/branding", admin).await;
    assert_eq!(status, 200, "{branding}");
    assert!(branding.get("logoPngBase64").is_none(), "{branding}");
    assert_eq!(branding["primaryColor"], "#2E5E4E");
    assert!(just_now(&branding["updatedAt"]), "{branding}");
    let url = branding["logoUrl"].as_str().expect("a logo link");
    let logo = stack
        .http()
        .get(url)
        .send()
        .await
        .expect("the logo answers");
    assert_eq!(logo.status().as_u16(), 200, "{url}");
    let bytes = logo.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");

    let (status, _) = stack
        .put(
            "/admin/refund-policy",
            admin,
            &json!({"allocation": "cash_first", "returnWindowDays": 30}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, policy) = stack.get("/admin/refund-policy", admin).await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(
        (&policy["allocation"], &policy["returnWindowDays"]),
        (&json!("cash_first"), &json!(30))
    );
    assert!(just_now(&policy["updatedAt"]) && policy["updatedBy"].is_string());
}

#[tokio::test]
async fn tokens_are_listed_without_their_secret() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let ada = admin_named(&stack, "Ada Admin").await;
    let (status, made) = stack
        .post(
            "/admin/tokens",
            Some(&ada),
            &json!({"principal": "channel:web-de", "name": "checkout"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["token"].as_str().unwrap().to_string();
    let hash = dropship_aws::repo::tokens::sha256_hex(&secret);

    let (all, _) = walk(&stack, "/admin/tokens?limit=2").await;
    let text = serde_json::to_string(&all).unwrap();
    for s in [&secret, &hash, &ada] {
        assert!(!text.contains(s.as_str()), "a secret or its hash is listed");
    }
    // setup's five, Ada's and this one (and the stack's own admin token, if it has an item).
    assert!(all.len() >= 7, "{}", all.len());
    let mut ids: Vec<String> = ids(&all, "tokenId");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "every token once");

    let (web, _) = walk(&stack, "/admin/tokens?principal=channel:web-de").await;
    assert_eq!(web.len(), 2, "setup's and checkout: {web:?}");
    let checkout = web
        .iter()
        .find(|t| t["tokenId"] == made["tokenId"])
        .expect("the new token is listed");
    assert_eq!(
        (
            &checkout["id"],
            &checkout["principal"],
            &checkout["name"],
            &checkout["createdBy"]
        ),
        (
            &made["id"],
            &json!("channel:web-de"),
            &json!("checkout"),
            &json!("admin:Ada Admin")
        )
    );
    assert!(just_now(&checkout["createdAt"]), "{checkout}");
    let mut keys: Vec<&String> = checkout.as_object().unwrap().keys().collect();
    keys.retain(|k| k.as_str() != "lastUsedAt");
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdAt",
            "createdBy",
            "id",
            "name",
            "principal",
            "tokenId"
        ]
    );

    // A revoked token is no longer listed.
    let (status, _) = stack
        .delete(
            &format!("/admin/tokens/{}", made["tokenId"].as_str().unwrap()),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 204);
    let (web, _) = walk(&stack, "/admin/tokens?principal=channel:web-de").await;
    assert_eq!(web.len(), 1);
}

#[tokio::test]
async fn retired_configuration_takes_no_new_work_and_keeps_what_it_has() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let vase = |id: &str| {
        setup::order(
            id,
            json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "29.00"}]),
            "29.00",
        )
    };

    // Before: VASE-BLUE goes to nordic (priority 1).
    let (status, first) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-1", &vase("VASE-1"))
        .await;
    assert_eq!(status, 201, "{first}");
    let first_id = first["orderId"].as_str().unwrap().to_string();
    let fulfiller_of = |order_id: String| {
        let stack = &stack;
        async move {
            stack
                .eventually("the order routed", WAIT, || async {
                    let (_, o) = stack
                        .get(
                            &format!("/admin/orders/{order_id}"),
                            Some(&stack.admin_token),
                        )
                        .await;
                    let d = o["deliveries"].as_array()?.first()?.clone();
                    Some((
                        d["fulfillerId"].as_str()?.to_string(),
                        d["id"].as_str()?.to_string(),
                    ))
                })
                .await
        }
    };
    let (before, nordic_delivery) = fulfiller_of(first_id.clone()).await;
    assert_eq!(before, "nordic-home");

    // An inactive fulfiller is skipped: the next order goes to the next source; its open
    // delivery order stays its work, and nothing new can be moved to it.
    let (status, _) = stack
        .put(
            "/admin/fulfillers/nordic-home",
            admin,
            &json!({"name": "nordic-home", "kind": "dropshipper", "email": setup::NORDIC_EMAIL,
                "address": address("nordic-home"), "active": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, second) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-2", &vase("VASE-2"))
        .await;
    assert_eq!(status, 201, "{second}");
    let (after, acme_delivery) =
        fulfiller_of(second["orderId"].as_str().unwrap().to_string()).await;
    assert_eq!(after, "acme-garden", "nordic is inactive");
    let (status, open) = stack
        .get(
            &format!("/fulfiller/delivery-orders/{nordic_delivery}"),
            Some(&world.nordic),
        )
        .await;
    assert_eq!(status, 200, "nordic still sees its open work: {open}");
    let (status, refused) = stack
        .post(
            &format!("/admin/delivery-orders/{acme_delivery}/reroute"),
            admin,
            &json!({"fulfillerId": "nordic-home"}),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("fulfillerId")),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("inactive")),
        "{refused}"
    );

    // An inactive product: 422 product_inactive naming the line.
    let (status, _) = stack
        .put(
            "/admin/products/THROW-WOOL",
            admin,
            &json!({"name": "THROW-WOOL", "taxClass": "standard", "group": "g", "active": false,
                "sources": [{"fulfillerId": "nordic-home", "priority": 1}]}),
        )
        .await;
    assert_eq!(status, 200);
    let body = setup::order(
        "THROW-1",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"},
               {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "59.00"}]),
        "108.00",
    );
    let (status, refused) = stack
        .post_idempotent("/orders", Some(&world.web), "throw-1", &body)
        .await;
    assert_eq!(
        (
            status,
            refused["error"]["code"].as_str(),
            refused["error"]["field"].as_str()
        ),
        (422, Some("product_inactive"), Some("lines[1].sku")),
        "{refused}"
    );

    // An inactive channel: 403 channel_inactive on new orders; its reads keep working.
    let (status, _) = stack
        .put(
            "/admin/channels/web-de",
            admin,
            &json!({"name": "web-de", "kind": "webshop", "active": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-3", &vase("VASE-3"))
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("channel_inactive")),
        "{refused}"
    );
    let (status, read) = stack
        .get(&format!("/orders/{first_id}"), Some(&world.web))
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["id"], first_id.as_str());
    // The other channel still orders.
    let (status, other) = stack
        .post_idempotent(
            "/orders",
            Some(&world.marketplace),
            "vase-4",
            &vase("VASE-4"),
        )
        .await;
    assert_eq!(status, 201, "{other}");

    // Active again: the channel orders again.
    let (status, _) = stack
        .put(
            "/admin/channels/web-de",
            admin,
            &json!({"name": "web-de", "kind": "webshop"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, again) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-5", &vase("VASE-5"))
        .await;
    assert_eq!(status, 201, "{again}");
}

/// A document's bytes, following a document link's redirect like a browser.
async fn download(url: &str) -> Vec<u8> {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_admin_order_view_lists_every_invoice_like_document() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    // Ordered three days ago at 19 %, shipped today at 16 %: an invoice and its correction.
    setup::rate_change_yesterday(&stack).await;
    let ordered_at = chrono::Utc::now() - chrono::Duration::days(3);
    let mut body = setup::order(
        "WEB-INVOICES",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "59.50"}]),
        "59.50",
    );
    body["orderedAt"] = json!(ordered_at.to_rfc3339());
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "inv-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery = setup::first_delivery_order(&stack, &world.acme, 3, WAIT).await;
    let delivery_id = delivery["id"].as_str().unwrap().to_string();
    // n documents, each invoice or correction with the delivery order's link once that link
    // gives it: the document generator registers a document before it puts it on the delivery
    // order, so for a moment the newest is only in the bucket.
    let links = format!("{}/documents/", stack.api);
    let invoices = |n: usize| {
        let (stack, order_id, links) = (&stack, order_id.clone(), links.clone());
        async move {
            stack
                .eventually(&format!("{n} invoice-like documents"), WAIT, || async {
                    let (_, o) = stack
                        .get(
                            &format!("/admin/orders/{order_id}"),
                            Some(&stack.admin_token),
                        )
                        .await;
                    let list = o["invoices"].as_array()?.clone();
                    let newest_linked = list
                        .iter()
                        .rev()
                        .find(|i| i["kind"] != "credit_note")
                        .is_some_and(|i| i["url"].as_str().is_some_and(|u| u.starts_with(&links)));
                    (list.len() == n && newest_linked).then_some(list)
                })
                .await
        }
    };
    let first = invoices(1).await;
    let berlin = |at: chrono::DateTime<chrono::Utc>| {
        dropship_core::catalogue::local_date(at, "Europe/Berlin").to_string()
    };
    assert_eq!(
        (
            &first[0]["kind"],
            &first[0]["deliveryOrderId"],
            &first[0]["supplyDate"]
        ),
        (
            &json!("invoice"),
            &json!(delivery_id),
            &json!(berlin(ordered_at))
        ),
        "{first:?}"
    );
    assert_eq!(first[0]["id"], first[0]["number"]);
    assert_eq!(first[0]["issuedAt"], json!(berlin(chrono::Utc::now())));
    let url = first[0]["url"].as_str().unwrap();
    assert!(url.starts_with(&links), "the fulfiller's link: {url}");
    assert!(download(url).await.starts_with(b"%PDF-"));

    let (status, shipped) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "00340434161094000099"}),
        )
        .await;
    assert_eq!(status, 200, "{shipped}");
    let (status, goodwill) = stack
        .post_idempotent(
            &format!("/admin/orders/{order_id}/goodwill"),
            admin,
            "inv-gw-1",
            &json!({"amount": "5.00", "reason": "late"}),
        )
        .await;
    assert_eq!(status, 201, "{goodwill}");

    let all = invoices(3).await;
    let kinds: Vec<&str> = all.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 3);
    assert_eq!(kinds[0], "invoice", "oldest first: {all:?}");
    assert!(
        kinds.contains(&"correction") && kinds.contains(&"credit_note"),
        "{all:?}"
    );
    let correction = all.iter().find(|i| i["kind"] == "correction").unwrap();
    assert_eq!(correction["deliveryOrderId"], json!(delivery_id));
    assert_eq!(correction["supplyDate"], json!(berlin(chrono::Utc::now())));
    let credit = all.iter().find(|i| i["kind"] == "credit_note").unwrap();
    assert!(credit.get("deliveryOrderId").is_none(), "{credit}");
    // The superseded invoice is its own PDF now (the delivery order's link gives the
    // correction); every document downloads.
    assert!(
        !all[0]["url"].as_str().unwrap().starts_with(&links),
        "{all:?}"
    );
    assert!(
        correction["url"].as_str().unwrap().starts_with(&links),
        "{correction}"
    );
    for i in &all {
        let pdf = download(i["url"].as_str().unwrap()).await;
        assert!(pdf.starts_with(b"%PDF-"), "{i}");
    }
}
