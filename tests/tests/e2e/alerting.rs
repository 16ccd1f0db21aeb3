//! Alerting end to end: a late delivery is alerted once, the fulfiller reminded, operations told
//! and the customer sent one delay notice, and shipping resolves it; a stale stock feed raises
//! and resolves its alert; a poisoned message reaches its DLQ, shows as an alert, and the redrive
//! command moves it back after the fix. Business metrics (EMF) reach the emulator's CloudWatch.

use crate::setup;
use crate::support;

use crate::support::{queue_url, Stack};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use std::time::Duration;

const CUSTOMER: &str = "carla@example.com";

/// Runs the alerting function now and returns its report (the runner's synchronous invoke).
async fn run_alerting(stack: &Stack) -> Value {
    let event: Value = serde_json::from_str(include_str!("../../../events/alerting.json")).unwrap();
    let (status, report) = stack.post("/_local/invoke/alerting", None, &event).await;
    assert_eq!(status, 200, "alerting run failed: {report}");
    report
}

fn contains(list: &Value, id: &str) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(id)))
}

async fn alerts(stack: &Stack, state: &str) -> Vec<Value> {
    let (status, body) = stack
        .get(
            &format!("/admin/alerts?state={state}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// A metric's sum over the last hour in the emulator's CloudWatch (its JSON protocol: the SDK
/// speaks CBOR, which the emulator does not).
async fn metric_sum(stack: &Stack, metric: &str, dimensions: Value) -> f64 {
    let now = chrono::Utc::now().timestamp();
    let body = json!({"Namespace": "Dropship", "MetricName": metric, "Dimensions": dimensions,
        "StartTime": now - 3600, "EndTime": now + 60, "Period": 3660, "Statistics": ["Sum"]});
    let resp = stack
        .http()
        .post(&stack.aws_endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "x-amz-target",
            "GraniteServiceVersion20100801.GetMetricStatistics",
        )
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20200101/eu-central-1/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .expect("GetMetricStatistics");
    let v: Value = resp.json().await.expect("JSON");
    v["Datapoints"]
        .as_array()
        .map(|d| d.iter().filter_map(|p| p["Sum"].as_f64()).sum())
        .unwrap_or(0.0)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[tokio::test]
async fn a_late_delivery_is_alerted_once_escalated_with_one_delay_notice_and_resolved_by_shipping()
{
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // No escalation period: operations hear at once (a process setting, by default 4 hours).
    let (status, process) = stack
        .put(
            "/admin/process",
            Some(&stack.admin_token),
            &json!({"expectedVersion": 0, "settings": {"escalation": {"escalateToOpsAfterMinutes": 0}}}),
        )
        .await;
    assert_eq!(status, 200, "{process}");
    setup::until_in_force(&process).await;
    // slaHours 0: every delivery order of acme is late the moment it is made.
    let (status, _) = stack
        .put(
            "/admin/fulfillers/acme-garden",
            Some(&stack.admin_token),
            &json!({"name": "acme-garden", "kind": "dropshipper", "email": setup::ACME_EMAIL, "slaHours": 0,
                    "address": {"name": "acme-garden", "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"}}),
        )
        .await;
    assert_eq!(status, 200);

    let body = setup::order(
        "late-1",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "99.00"}]),
        "99.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "late-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["id"].as_str().unwrap().to_string();
    let delivery_id = stack
        .eventually("acme's delivery order", Duration::from_secs(30), || {
            let (stack, acme, order_id) = (&stack, &world.acme, &order_id);
            async move {
                let (_, list) = stack.get("/fulfiller/delivery-orders", Some(acme)).await;
                list["items"]
                    .as_array()?
                    .iter()
                    .find(|d| d["orderId"] == order_id.as_str())
                    .and_then(|d| d["id"].as_str().map(str::to_owned))
            }
        })
        .await;
    // The customer's order confirmation first, so that what comes after is told apart.
    stack
        .eventually(
            "the order confirmation",
            Duration::from_secs(30),
            || async {
                let n = stack
                    .outbox()
                    .await
                    .iter()
                    .filter(|m| m["to"][0] == CUSTOMER)
                    .count();
                (n >= 1).then_some(())
            },
        )
        .await;
    let customer_mails_before = stack
        .outbox()
        .await
        .iter()
        .filter(|m| m["to"][0] == CUSTOMER)
        .count();

    // The intake's EMF line became a metric in the emulator: per channel and over all.
    stack
        .eventually(
            "OrdersAccepted for web-de",
            Duration::from_secs(20),
            || async {
                let by_channel = metric_sum(
                    &stack,
                    "OrdersAccepted",
                    json!([{"Name": "Channel", "Value": "web-de"}]),
                )
                .await;
                (by_channel == 1.0).then_some(())
            },
        )
        .await;

    let alert_id = format!("late_delivery#{delivery_id}");
    let first = run_alerting(&stack).await;
    assert!(contains(&first["opened"], &alert_id), "{first}");
    // Delay notice, reminder and (no escalation period) escalation.
    assert!(first["events"].as_u64().unwrap_or(0) >= 3, "{first}");
    assert_eq!(first["lateDeliveryOrders"], 1, "{first}");
    let second = run_alerting(&stack).await;
    assert!(!contains(&second["opened"], &alert_id), "{second}");
    let open = alerts(&stack, "open").await;
    let late: Vec<&Value> = open
        .iter()
        .filter(|a| a["type"] == "late_delivery")
        .collect();
    assert_eq!(
        late.len(),
        1,
        "one alert for the one late delivery: {open:?}"
    );
    let alert = late[0];
    assert_eq!(alert["id"], alert_id.as_str());
    assert_eq!(alert["subject"], delivery_id.as_str());
    assert_eq!(alert["fulfillerId"], "acme-garden");
    assert_eq!(alert["orderId"], order_id.as_str());
    for step in ["remindedAt", "escalatedAt", "customerNotifiedAt"] {
        assert!(alert[step].is_string(), "{step} missing: {alert}");
    }
    // The late figure reached CloudWatch too.
    stack
        .eventually("DeliveryOrdersLate", Duration::from_secs(20), || async {
            (metric_sum(&stack, "DeliveryOrdersLate", json!([])).await >= 1.0).then_some(())
        })
        .await;

    // The notifier mailed the reminder to acme and exactly one delay notice to the customer.
    stack
        .eventually("the reminder to acme", Duration::from_secs(30), || async {
            stack
                .outbox()
                .await
                .iter()
                .any(|m| {
                    m["to"][0] == setup::ACME_EMAIL
                        && m["subject"]
                            .as_str()
                            .is_some_and(|s| s.contains(delivery_id.as_str()))
                })
                .then_some(())
        })
        .await;
    let delay_notices = || async {
        stack
            .outbox()
            .await
            .iter()
            .filter(|m| m["to"][0] == CUSTOMER)
            .count()
            - customer_mails_before
    };
    stack
        .eventually("the delay notice", Duration::from_secs(30), || async {
            (delay_notices().await >= 1).then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(delay_notices().await, 1, "exactly one delay notice");

    // Shipping resolves it.
    let (status, shipped) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "00340434161094042557"}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {shipped}");
    let third = run_alerting(&stack).await;
    assert!(contains(&third["resolved"], &alert_id), "{third}");
    assert!(alerts(&stack, "open")
        .await
        .iter()
        .all(|a| a["type"] != "late_delivery"));
    assert!(alerts(&stack, "resolved")
        .await
        .iter()
        .any(|a| a["id"] == alert_id.as_str() && a["resolvedAt"].is_string()));
}

#[tokio::test]
async fn a_stale_stock_feed_raises_its_alert_and_a_fresh_count_resolves_it() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    // Three days pass for nordic's counts (stockMaxAgeHours defaults to 24).
    let old = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    for sku in ["THROW-WOOL", "VASE-BLUE"] {
        ddb.update_item()
            .table_name("StockTable")
            .key("fulfillerId", s("nordic-home"))
            .key("sku", s(sku))
            .update_expression("SET updatedAt = :t")
            .expression_attribute_values(":t", s(&old))
            .send()
            .await
            .expect("ageing the stock");
    }
    let first = run_alerting(&stack).await;
    assert!(
        contains(&first["opened"], "stale_stock#nordic-home"),
        "{first}"
    );
    assert_eq!(first["staleStockFeeds"], 1, "only nordic is stale: {first}");
    let open = alerts(&stack, "open").await;
    let alert = open
        .iter()
        .find(|a| a["id"] == "stale_stock#nordic-home")
        .unwrap_or_else(|| panic!("{open:?}"));
    assert_eq!(alert["fulfillerId"], "nordic-home");
    assert!(alert["remindedAt"].is_string(), "{alert}");
    // Operations hear only after the escalation period (four hours by default).
    assert!(alert["escalatedAt"].is_null(), "{alert}");
    let again = run_alerting(&stack).await;
    assert!(!contains(&again["opened"], "stale_stock#nordic-home"));

    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.nordic),
            &json!({"items": [{"sku": "THROW-WOOL", "available": 15}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = run_alerting(&stack).await;
    assert!(
        contains(&after["resolved"], "stale_stock#nordic-home"),
        "{after}"
    );
    assert!(alerts(&stack, "resolved")
        .await
        .iter()
        .any(|a| a["id"] == "stale_stock#nordic-home"));
}

#[tokio::test]
async fn a_poisoned_message_is_alerted_and_redriven_after_the_fix() {
    let stack = Stack::builder()
        .param("QueueVisibilityTimeoutSeconds", "1")
        .param("QueueMaxReceiveCount", "2")
        .start()
        .await;
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let s3 = aws_sdk_s3::Client::new(&cfg);
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let feeds = queue_url(&sqs, "StockFeedQueue").await;
    let dead = queue_url(&sqs, "StockFeedDeadLetterQueue").await;
    let depth = |queue: String| {
        let sqs = sqs.clone();
        async move {
            use aws_sdk_sqs::types::QueueAttributeName as A;
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(queue)
                .attribute_names(A::ApproximateNumberOfMessages)
                .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
                .ok()?;
            let a = attrs.attributes()?;
            let n = |k: A| a.get(&k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
            Some(n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible))
        }
    };
    // A feed announced before its file exists: reading it fails on every receive.
    let key = "stock-feeds/acme-garden/feed-early.csv";
    let notification = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put", "eventTime": chrono::Utc::now().to_rfc3339(),
        "s3": {"bucket": {"name": "documents"}, "object": {"key": key, "size": 20}}}]});
    sqs.send_message()
        .queue_url(&feeds)
        .message_body(notification.to_string())
        .send()
        .await
        .expect("send");
    stack
        .eventually(
            "the poisoned notification in StockFeedDeadLetterQueue",
            Duration::from_secs(60),
            || {
                let (dead, depth) = (dead.clone(), &depth);
                async move { (depth(dead).await? == 1).then_some(()) }
            },
        )
        .await;
    let report = run_alerting(&stack).await;
    let alert_id = "dead_lettered_messages#StockFeedDeadLetterQueue";
    assert!(contains(&report["opened"], alert_id), "{report}");
    assert!(alerts(&stack, "open")
        .await
        .iter()
        .any(|a| a["id"] == alert_id && a["escalatedAt"].is_string()));

    // The fix: the file is there now (its own upload notification applies it as well).
    let buckets = s3.list_buckets().send().await.expect("buckets");
    let bucket = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .find(|n| n.to_ascii_lowercase().contains("document"))
        .expect("the document bucket")
        .to_string();
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(b"sku,available\nSEEDS,7\n".to_vec().into())
        .send()
        .await
        .expect("upload the feed");

    let out = std::process::Command::new(support::bin_dir().join("redrive"))
        .arg("StockFeedDeadLetterQueue")
        .env("AWS_ENDPOINT_URL", &stack.aws_endpoint)
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run target/debug/redrive (cargo build --workspace --bins)");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        printed.trim(),
        "moved 1 message(s) from StockFeedDeadLetterQueue to StockFeedQueue"
    );
    // Processed this time: both queues drain and stay empty.
    stack
        .eventually(
            "the redriven message processed",
            Duration::from_secs(30),
            || {
                let (feeds, dead, depth) = (feeds.clone(), dead.clone(), &depth);
                async move { (depth(feeds).await? == 0 && depth(dead).await? == 0).then_some(()) }
            },
        )
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(depth(dead.clone()).await, Some(0), "it failed again");
    let item = ddb
        .get_item()
        .table_name("StockTable")
        .key("fulfillerId", s("acme-garden"))
        .key("sku", s("SEEDS"))
        .send()
        .await
        .expect("stock")
        .item
        .expect("the feed was applied");
    assert_eq!(item["available"], AttributeValue::N("7".into()));
    let report = run_alerting(&stack).await;
    assert!(contains(&report["resolved"], alert_id), "{report}");
    // Nothing left to move.
    let out = std::process::Command::new(support::bin_dir().join("redrive"))
        .arg("StockFeedDeadLetterQueue")
        .env("AWS_ENDPOINT_URL", &stack.aws_endpoint)
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("redrive");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("moved 0 message(s)"));
}

#[tokio::test]
async fn units_nobody_can_ship_raise_an_alert_per_sku_that_restocking_resolves() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // 25 lamps, 20 in stock, no backorders: 5 are cancelled as unroutable.
    let body = setup::order(
        "lamps-25",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 25, "unitPrice": "40.00"}]),
        "1000.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "lamps-25", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    stack
        .eventually("the order routed", Duration::from_secs(30), || async {
            let (_, o) = stack
                .get(&format!("/admin/orders/{id}"), Some(&stack.admin_token))
                .await;
            (o["status"] != "accepted").then_some(())
        })
        .await;
    let first = run_alerting(&stack).await;
    assert!(
        contains(&first["opened"], "unroutable_lines#LAMP-OAK"),
        "{first}"
    );
    let open = alerts(&stack, "open").await;
    let alert = open
        .iter()
        .find(|a| a["id"] == "unroutable_lines#LAMP-OAK")
        .unwrap_or_else(|| panic!("{open:?}"));
    assert!(
        alert["details"]
            .as_str()
            .unwrap_or("")
            .starts_with("5 unit(s)"),
        "{alert}"
    );
    // Nobody's reminder to wait for: operations hear at once.
    assert!(alert["escalatedAt"].is_string(), "{alert}");
    let again = run_alerting(&stack).await;
    assert!(!contains(&again["opened"], "unroutable_lines#LAMP-OAK"));

    // The warehouse restocks: the sku can be shipped again.
    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.warehouse),
            &json!({"items": [{"sku": "LAMP-OAK", "available": 30}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = run_alerting(&stack).await;
    assert!(
        contains(&after["resolved"], "unroutable_lines#LAMP-OAK"),
        "{after}"
    );
    // The old order does not open it again.
    let last = run_alerting(&stack).await;
    assert!(
        !contains(&last["opened"], "unroutable_lines#LAMP-OAK"),
        "{last}"
    );
}
