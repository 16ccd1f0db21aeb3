//! Tokens: stored only as hashes, revocable (a revoked token stops working within 60 s), and
//! the document bucket refuses public access and plain-HTTP requests.

mod setup;
mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::Stack;

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
    let items = ddb
        .scan()
        .table_name("TokensTable")
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
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

#[test]
fn the_document_bucket_is_private_and_tls_only() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let t: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
    let policies: Vec<&serde_yaml::Value> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::S3::BucketPolicy"))
        .collect();
    let text = serde_yaml::to_string(&policies).unwrap();
    assert!(
        text.contains("Deny") && text.contains("aws:SecureTransport"),
        "no statement denies plain HTTP: {text}"
    );
}
