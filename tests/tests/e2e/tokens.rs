//! Tokens: stored only as hashes, revocable (a revoked token stops working within 60 s); document
//! links are no records at all (signed with their delivery order's key, which no API response
//! shows); and the document bucket refuses public access and plain-HTTP requests.

use crate::setup;

use crate::support::Stack;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_token_is_stored_hashed_and_stops_working_once_revoked() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let (status, created) = stack
        .post(
            "/admin/tokens",
            Some(&stack.admin_token),
            &json!({"principal": "channel:web-de", "name": "shop backend"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let token_id = created["tokenId"].as_str().unwrap().to_string();
    let (status, _) = stack.get("/orders/ord_unknown", Some(&token)).await;
    assert_eq!(status, 404, "the token works: a missing order, not a 401");

    // Nothing in the tokens table holds the token itself.
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let items = tokens_table(&ddb).await;
    assert!(!items.is_empty());
    assert!(
        !format!("{items:?}").contains(&token),
        "a token is stored in clear"
    );

    let (status, _) = stack
        .delete(
            &format!("/admin/tokens/{token_id}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    stack
        .eventually(
            "the revoked token refused",
            Duration::from_secs(60),
            || async {
                let (status, body) = stack.get("/orders/ord_unknown", Some(&token)).await;
                (status == 401 && body["error"]["code"] == "unauthenticated").then_some(())
            },
        )
        .await;
    eprintln!(
        "revocation took effect after {:.1}s",
        revoked.elapsed().as_secs_f64()
    );
    let (status, _) = stack
        .delete(
            &format!("/admin/tokens/{token_id}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 404, "revoking twice: it is gone");
}

/// An order's whole pipeline (documents, the fulfiller's mail with its links, the fulfiller API
/// listing them) writes no link record: the tokens table holds tokens only. The key that signs
/// the links is on the delivery order's item, and in no API response.
#[tokio::test]
async fn document_links_are_no_records_and_their_key_is_never_shown() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let body = setup::order(
        "WEB-LINKS",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "59.50"}]),
        "59.50",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "links-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["id"].as_str().unwrap().to_string();
    let wait = Duration::from_secs(40);
    let mail = stack
        .eventually("the fulfiller's mail with its links", wait, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["to"][0] == setup::ACME_EMAIL
                    && m["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("/documents/"))
            })
        })
        .await;
    let listed = setup::first_delivery_order(&stack, &world.acme, 3, wait).await;
    let delivery_id = listed["id"].as_str().unwrap().to_string();
    // The links work.
    for d in listed["documents"].as_array().unwrap() {
        let url = d["url"].as_str().unwrap();
        let resp = reqwest::get(url).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{url}");
    }

    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let items = tokens_table(&ddb).await;
    let keys: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("pk")?.as_s().ok().cloned())
        .collect();
    assert!(
        keys.iter().all(|k| k.starts_with("TOKEN")),
        "the tokens table holds more than tokens: {keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with("LINK#")), "{keys:?}");

    let item = setup::stored_delivery_order(&ddb, &delivery_id).await;
    let key = item["linkKey"].as_s().unwrap().clone();
    assert!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "linkKey is not 256 bits in hex"
    );
    let (_, list) = stack
        .get("/fulfiller/delivery-orders", Some(&world.acme))
        .await;
    let (_, channel) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    let (_, admin) = stack
        .get(
            &format!("/admin/orders/{order_id}"),
            Some(&stack.admin_token),
        )
        .await;
    assert!(
        admin["deliveries"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{admin}"
    );
    for (what, v) in [
        ("the fulfiller's delivery order", &listed),
        ("the fulfiller's list", &list),
        ("the channel's order", &channel),
        ("the admin's order", &admin),
        ("the fulfiller's mail", &mail),
    ] {
        let text = v.to_string();
        assert!(
            !text.contains("linkKey") && !text.contains(&key),
            "{what} shows the link key"
        );
    }
    assert!(
        !stack.output.text().contains(&key),
        "the link key is in the logs"
    );
}

#[test]
fn the_document_bucket_is_private_and_tls_only() {
    let path = crate::support::workspace_root().join("template.yaml");
    let t: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let bucket = &t["Resources"]["DocumentBucket"]["Properties"];
    let block = &bucket["PublicAccessBlockConfiguration"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[k].as_bool(), Some(true), "{k}");
    }
    assert!(
        bucket["BucketEncryption"].is_mapping(),
        "server-side encryption"
    );
    let policies: Vec<&serde_norway::Value> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::S3::BucketPolicy"))
        .collect();
    let text = serde_norway::to_string(&policies).unwrap();
    assert!(
        text.contains("Deny") && text.contains("aws:SecureTransport"),
        "no statement denies plain HTTP: {text}"
    );
}

/// Every item of the tokens table.
async fn tokens_table(
    ddb: &aws_sdk_dynamodb::Client,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    ddb.scan()
        .table_name("TokensTable")
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}
