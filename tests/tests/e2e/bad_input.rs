//! Hostile input, generated (proptest): for every operation of openapi.yaml, as a caller allowed
//! to use it, bodies of the wrong shape (wrong root type, every field of the wrong type with
//! injection strings, unicode tricks and huge numbers, junk keys, malformed JSON, bodies over
//! 256 KiB) and path/query tricks. Every answer is a 4xx in the error shape (GETs may answer 200
//! to a query they ignore), never a 5xx, and nothing is written: every table holds the same items
//! afterwards and no mail went out.

use crate::setup;

use crate::support::Stack;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const HOSTILE: &[&str] = &[
    "'; DROP TABLE orders; --",
    "\" OR \"1\"=\"1",
    "{\"$ne\": null}",
    "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2f",
    "<script>alert(1)</script>",
    "${jndi:ldap://x/a}",
    "\u{202E}gnp.exe",
    "\u{0000}nul",
    "😀👍🏽",
    "Ω≈ç√∫˜µ≤≥÷",
    "",
    " ",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(HOSTILE).prop_map(String::from),
        "\\PC{0,40}",
        (1usize..5).prop_map(|k| "x".repeat(k * 3000)),
    ]
}

fn huge_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(1e308)),
        Just(json!(-1)),
        Just(json!(0.5)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(
            serde_json::from_str::<Value>("123456789012345678901234567890").unwrap_or(Value::Null)
        ),
    ]
}

/// A value that is surely not of `schema_type`.
fn wrong(schema_type: &str) -> BoxedStrategy<Value> {
    match schema_type {
        "string" => prop_oneof![
            huge_number(),
            Just(json!([1, 2])),
            Just(json!({"$ne": null})),
            Just(json!(true)),
        ]
        .boxed(),
        "integer" | "number" => prop_oneof![
            hostile_string().prop_map(Value::String),
            Just(json!([])),
            Just(json!({})),
        ]
        .boxed(),
        "array" => prop_oneof![
            hostile_string().prop_map(Value::String),
            huge_number(),
            Just(json!({"0": 1})),
        ]
        .boxed(),
        _ => prop_oneof![
            hostile_string().prop_map(Value::String),
            huge_number(),
            Just(json!([null])),
        ]
        .boxed(),
    }
}

/// The request body's top-level properties and their types, from openapi.yaml.
fn properties(
    op: &serde_norway::Value,
    doc: &serde_norway::Value,
) -> Option<Vec<(String, String)>> {
    let mut schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        schema = doc["components"]["schemas"][name].clone();
    }
    let props = schema["properties"].as_mapping()?;
    Some(
        props
            .iter()
            .map(|(k, v)| {
                let t = v["type"].as_str().unwrap_or(if v["$ref"].is_string() {
                    "string"
                } else {
                    "object"
                });
                (k.as_str().unwrap_or_default().to_string(), t.to_string())
            })
            .collect(),
    )
}

/// A body sure to be refused: not an object, or every known field of the wrong type.
fn bad_body(props: Vec<(String, String)>) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<(String, Value)>> = props
        .into_iter()
        .map(|(k, t)| wrong(&t).prop_map(move |v| (k.clone(), v)).boxed())
        .collect();
    let object = (fields, hostile_string(), hostile_string()).prop_map(|(fs, jk, jv)| {
        let mut m: serde_json::Map<String, Value> = fs.into_iter().collect();
        m.insert(format!("junk{}", jk.len()), Value::String(jv));
        Value::Object(m)
    });
    prop_oneof![
        3 => object,
        1 => hostile_string().prop_map(Value::String),
        1 => huge_number(),
        1 => Just(json!([{"lineId": "L1"}])),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn path_trick() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("..%2F..%2Fadmin".to_string()),
        Just("%00".to_string()),
        Just("a".repeat(300)),
        Just("Ω".to_string()),
        Just("DO-DOESNOTEXIST".to_string()),
        "[a-z]{1,8}",
    ]
}

/// The items of every table but the audit log, which records refused changes too (docs/api.md
/// "Staff, roles and the audit log"): the one write a refused request makes, checked apart.
async fn table_counts(stack: &Stack) -> BTreeMap<String, i32> {
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let mut out = BTreeMap::new();
    for t in ddb.list_tables().send().await.unwrap().table_names() {
        if t.contains("AuditTable") {
            continue;
        }
        let mut count = 0;
        let mut start = None;
        loop {
            let page = ddb
                .scan()
                .table_name(t)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            count += page.count();
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        out.insert(t.to_string(), count);
    }
    out
}

#[tokio::test]
async fn hostile_requests_get_4xx_and_write_nothing() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let (status, created) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "bad-input-1",
            &setup::order(
                "WEB-BAD",
                json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"}]),
                "10.00",
            ),
        )
        .await;
    assert_eq!(status, 201);
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery_id = stack
        .eventually(
            "the delivery order",
            std::time::Duration::from_secs(30),
            || async {
                let (_, l) = stack
                    .get("/fulfiller/delivery-orders", Some(&world.acme))
                    .await;
                l["items"].as_array()?.first()?["id"]
                    .as_str()
                    .map(String::from)
            },
        )
        .await;
    // Let the pipeline settle (documents, mails) before the snapshot.
    stack
        .eventually("the mails", std::time::Duration::from_secs(30), || async {
            (stack.outbox().await.len() >= 2).then_some(())
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let before = table_counts(&stack).await;
    let mails_before = stack.outbox().await.len();

    let doc: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(crate::support::workspace_root().join("openapi.yaml")).unwrap(),
    )
    .unwrap();
    let mut runner = TestRunner::new(Config {
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        ..Config::default()
    });
    let mut sent = 0;
    let mut failures = Vec::new();
    for (p, item) in doc["paths"].as_mapping().unwrap() {
        let template = p.as_str().unwrap();
        for (m, op) in item.as_mapping().unwrap() {
            let method = m.as_str().unwrap().to_uppercase();
            let role = op["tags"][0].as_str().unwrap_or_default();
            let token = match role {
                "admin" => stack.admin_token.clone(),
                "channel" => world.web.clone(),
                "fulfiller" => world.acme.clone(),
                _ => continue,
            };
            let real = |t: &str| {
                t.replace("{orderId}", &order_id)
                    .replace("{deliveryOrderId}", &delivery_id)
                    .replace("{id}", &delivery_id)
                    .replace("{returnId}", "RT-NONE")
                    .replace("{tokenId}", "tok-none")
                    .replace("{channelId}", "web-de")
                    .replace("{fulfillerId}", "acme-garden")
                    .replace("{sku}", "CHAIR-TEAK")
                    .replace("{country}", "DE")
                    .replace("{taxClass}", "standard")
                    .replace("{kind}", "sales")
                    .replace("{alertId}", "none")
            };
            let mut requests: Vec<(String, Option<Vec<u8>>)> = Vec::new();
            // Path and query tricks on every operation with a path parameter or a query.
            if template.contains('{') {
                for _ in 0..4 {
                    let trick = path_trick().new_tree(&mut runner).unwrap().current();
                    let path = template
                        .split('/')
                        .map(|seg| {
                            if seg.starts_with('{') {
                                trick.clone()
                            } else {
                                seg.to_string()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("/");
                    let body = (method != "GET" && method != "DELETE").then(|| b"{}".to_vec());
                    requests.push((path, body));
                }
            }
            // Query tricks on the lists (a GET of one delivery order mints document links: a
            // write, but not a refused request).
            if method == "GET" && !template.contains('{') {
                for q in [
                    "?status=%27%3B--",
                    "?limit=-1",
                    "?limit=99999999999",
                    "?nextToken=%F0%9F%98%80",
                    "?from=2026-13-45",
                ] {
                    requests.push((format!("{}{q}", real(template)), None));
                }
            }
            if let Some(props) = properties(op, &doc) {
                let strategy = bad_body(props);
                for _ in 0..20 {
                    let v = strategy.new_tree(&mut runner).unwrap().current();
                    requests.push((real(template), Some(serde_json::to_vec(&v).unwrap())));
                }
                requests.push((real(template), Some(b"{\"lines\": [".to_vec())));
                requests.push((real(template), Some(b"\xff\xfe not utf-8".to_vec())));
                let mut big = b"{\"junk\": \"".to_vec();
                big.extend(std::iter::repeat_n(b'a', 300 * 1024));
                big.extend(b"\"}");
                requests.push((real(template), Some(big)));
            }
            for (path, body) in requests {
                let mut req = stack
                    .http()
                    .request(
                        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                        format!("{}{path}", stack.api),
                    )
                    .bearer_auth(&token)
                    .header("content-type", "application/json");
                if let Some(b) = &body {
                    req = req.body(b.clone());
                }
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                sent += 1;
                let shaped = serde_json::from_str::<Value>(&text)
                    .ok()
                    .is_some_and(|v| v["error"]["code"].is_string());
                let ok = if method == "GET" {
                    status < 500 && (status == 200 || shaped)
                } else {
                    (400..500).contains(&status) && shaped
                };
                if !ok {
                    let shown: String = body
                        .as_deref()
                        .map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned())
                        .unwrap_or_default();
                    failures.push(format!(
                        "{method} {path} {shown} -> {status} {}",
                        &text[..text.len().min(300)]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent >= 500, "only {sent} requests");
    eprintln!("bad input: {sent} hostile requests, all refused, nothing written");
    assert_eq!(
        table_counts(&stack).await,
        before,
        "a refused request wrote something"
    );
    assert_eq!(
        stack.outbox().await.len(),
        mails_before,
        "a refused request sent mail"
    );
    // The refused changes are in the audit log, with their 4xx.
    let (status, audit) = stack
        .get("/admin/audit?limit=200", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{audit}");
    let outcomes: Vec<u64> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"].as_u64())
        .collect();
    assert!(
        outcomes.iter().any(|o| (400..500).contains(o)),
        "no refused change audited: {outcomes:?}"
    );
}
