//! Each SQS handler, called in-process on a mixed batch against the local emulator: the good
//! message succeeds, the bad one (and only it) is reported in `batchItemFailures`.

use crate::setup;

use crate::support::{queue_url, Stack};
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use dropship_aws::config::FromConfig as _;
use dropship_aws::documents::DocumentStore;
use dropship_aws::mailer::Mailer;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::idempotency::Idempotency;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::stock::Stock;
use serde_json::json;
use std::time::Duration;

const BUCKET: &str = "dropship-documentbucket";

fn batch(bodies: &[(&str, String)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (id, body) in bodies {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_string());
        m.body = Some(body.clone());
        event.records.push(m);
    }
    event
}

fn failed(resp: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<String> {
    resp.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn every_sqs_handler_reports_only_its_failed_message() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let cfg = stack.aws_sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);

    // An order for the handlers to work on (the stack routes it too: handlers are idempotent).
    let body = setup::order(
        "WEB-H1",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"}]),
        "49.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "key-h1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();

    // The stack routes it first; the in-process handler then gets the same message again, as a
    // redelivery would bring it, and must succeed without routing twice.
    let routed = DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into());
    stack
        .eventually(
            "the stack to route the order",
            Duration::from_secs(30),
            || async {
                let d = deliveries_of(&ddb, &routed, &order_id).await.ok()?;
                (!d.is_empty()).then_some(())
            },
        )
        .await;

    // split-router
    let config = split_router::Config {
        catalogue_table: "CatalogueTable".into(),
        tables: dropship_app::TablesConfig {
            orders_table: "OrdersTable".into(),
            delivery_orders_table: "DeliveryOrdersTable".into(),
            stock_table: "StockTable".into(),
        },
        documents_queue_url: queue_url(&sqs, "DocumentsQueue").await,
        events_queue_url: queue_url(&sqs, "EventsQueue").await,
    };
    let router = split_router::SplitRouter::from_config(&config, &cfg).unwrap();
    let resp = router
        .handle(batch(&[
            ("good", json!({"orderId": order_id}).to_string()),
            ("bad", json!({"orderId": "ord_missing"}).to_string()),
        ]))
        .await;
    assert_eq!(failed(&resp), ["bad"]);
    let deliveries = deliveries_of(&ddb, &routed, &order_id).await.unwrap();
    assert_eq!(
        deliveries.len(),
        1,
        "routed exactly once, whoever got there first"
    );
    let delivery_id = deliveries[0].id.clone();

    // document-generator
    let generator = document_generator::DocumentGenerator {
        catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
        orders: Orders::new(ddb.clone(), "OrdersTable".into()),
        delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
        returns: dropship_aws::repo::returns::Returns::new(ddb.clone(), "ReturnsTable".into()),
        invoices: dropship_aws::repo::invoices::Invoices::new(ddb.clone(), "OrdersTable".into()),
        store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), BUCKET.into()),
        events_queue: Queue::new(sqs.clone(), queue_url(&sqs, "EventsQueue").await),
    };
    let resp = generator
        .handle(batch(&[
            (
                "good",
                json!({"kind": "delivery_order", "deliveryOrderId": delivery_id}).to_string(),
            ),
            (
                "bad",
                json!({"kind": "delivery_order", "deliveryOrderId": "DO-MISSING"}).to_string(),
            ),
        ]))
        .await;
    assert_eq!(failed(&resp), ["bad"]);
    let d = DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into())
        .get(&delivery_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.documents.len(),
        3,
        "delivery note, shipping label, invoice"
    );

    // notifier: a documents_ready for a copy of the real delivery order (its mail apart from the
    // stack's own, the links signed with its key), and one for an unknown fulfiller.
    let mut copy = setup::stored_delivery_order(&ddb, &delivery_id).await;
    copy.insert(
        "id".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("DO-IN-PROCESS".into()),
    );
    ddb.put_item()
        .table_name("DeliveryOrdersTable")
        .set_item(Some(copy))
        .send()
        .await
        .unwrap();
    let notifier = notifier::Notifier {
        catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
        orders: Orders::new(ddb.clone(), "OrdersTable".into()),
        delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
        idempotency: Idempotency::new(ddb.clone(), "IdempotencyTable".into()),
        mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg_for_ses(&stack).await)),
        public_base_url: stack.api.clone(),
        alerts: dropship_aws::repo::alerts::Alerts::new(ddb.clone(), "AlertsTable".into()),
        returns: dropship_aws::repo::returns::Returns::new(ddb.clone(), "ReturnsTable".into()),
        documents: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), BUCKET.into()),
        ops_email: "ops@example.com".into(),
    };
    let ready = |fulfiller: &str, id: &str| {
        json!({"type": "documents_ready", "deliveryOrderId": id, "fulfillerId": fulfiller, "orderId": order_id,
               "documents": [{"kind": "delivery_note", "key": d.documents[0].key}]})
        .to_string()
    };
    let resp = notifier
        .handle(
            batch(&[
                ("good", ready("wh-berlin", "DO-IN-PROCESS")),
                ("bad", ready("nobody", "DO-NOBODY")),
            ]),
            chrono::Utc::now() + chrono::Duration::seconds(15),
        )
        .await;
    assert_eq!(failed(&resp), ["bad"]);
    stack
        .eventually(
            "the in-process notifier's mail",
            Duration::from_secs(10),
            || async {
                stack.outbox().await.into_iter().find(|m| {
                    m["subject"]
                        .as_str()
                        .is_some_and(|s| s.contains("DO-IN-PROCESS"))
                })
            },
        )
        .await;

    // stock-update: a feed that exists and one that does not.
    let s3 = aws_sdk_s3::Client::new(&cfg);
    s3.put_object()
        .bucket(BUCKET)
        .key("stock-feeds/wh-berlin/feed-1.csv")
        .body(b"sku,available\nLAMP-OAK,7\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let s3_event = |key: &str| {
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-central-1",
            "eventTime": chrono::Utc::now().to_rfc3339(), "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
                   "object": {"key": key, "size": 25}}}]})
        .to_string()
    };
    let updater = stock_update::StockUpdate {
        store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), BUCKET.into()),
        counts: dropship_app::stock_counts::StockCounts {
            stock: Stock::new(ddb.clone(), "StockTable".into()),
            catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
            alerts: dropship_aws::repo::alerts::Alerts::new(ddb.clone(), "AlertsTable".into()),
            route_queue: Queue::new(sqs.clone(), queue_url(&sqs, "RouteQueue").await),
        },
        events_queue: Queue::new(sqs.clone(), queue_url(&sqs, "EventsQueue").await),
    };
    let resp = updater
        .handle(batch(&[
            ("good", s3_event("stock-feeds/wh-berlin/feed-1.csv")),
            ("bad", s3_event("stock-feeds/wh-berlin/missing.csv")),
        ]))
        .await;
    assert_eq!(failed(&resp), ["bad"]);
    let (_, stock) = stack.get("/fulfiller/stock", Some(&world.warehouse)).await;
    assert_eq!(stock["items"][0]["available"], 7, "{stock}");

    // And through the real pipeline: upload -> S3 notification -> queue -> stock-update.
    s3.put_object()
        .bucket(BUCKET)
        .key("stock-feeds/wh-berlin/feed-2.csv")
        .body(b"sku,available\nLAMP-OAK,11\n".to_vec().into())
        .send()
        .await
        .unwrap();
    stack
        .eventually(
            "the uploaded feed applied by the stack",
            Duration::from_secs(30),
            || async {
                let (_, stock) = stack.get("/fulfiller/stock", Some(&world.warehouse)).await;
                (stock["items"][0]["available"] == 11).then_some(())
            },
        )
        .await;
}

/// The stack's SES emulator is the one the functions reach through AWS_ENDPOINT_URL_SESV2.
async fn cfg_for_ses(stack: &Stack) -> aws_config::SdkConfig {
    let base = stack.aws_sdk_config().await;
    let endpoint = stack.ses_endpoint.clone();
    base.into_builder().endpoint_url(endpoint).build()
}

/// Every delivery order stored for the order, by a scan of the table (the test's own check,
/// independent of the order's `deliveryOrderIds`).
async fn deliveries_of(
    ddb: &aws_sdk_dynamodb::Client,
    repo: &DeliveryOrders,
    order_id: &str,
) -> anyhow::Result<Vec<dropship_core::delivery::DeliveryOrder>> {
    let out = ddb
        .scan()
        .table_name("DeliveryOrdersTable")
        .filter_expression("orderId = :o")
        .expression_attribute_values(
            ":o",
            aws_sdk_dynamodb::types::AttributeValue::S(order_id.to_string()),
        )
        .send()
        .await?;
    let ids: Vec<String> = out
        .items()
        .iter()
        .filter_map(|i| i.get("id").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    repo.get_many(&ids).await
}
