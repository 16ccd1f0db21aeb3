//! The sales and orders reports from the report aggregates: the change relay keeps them from the
//! orders stream, the recovery schedule backfills them, and the reports read them once complete.
//! Both ways of answering are compared on the same orders: the reports read the orders while the
//! retailer's zone is not the one the aggregates are dated in (Asia/Kolkata for a moment), and
//! the aggregates once it is again (Europe/Berlin). The orders include a cancelled one, an order
//! with one sku on two lines, and one of 100 skus (more items than one transaction moves: the
//! chunked path).

use crate::big_order::{bulk_catalogue, place_bulk};
use crate::setup;
use crate::support::Stack;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const TABLE: &str = "ReportAggregatesTable";

async fn report(stack: &Stack, path: &str) -> Vec<Value> {
    let (status, body) = stack.get(path, Some(&stack.admin_token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// The orders report without its date column (the two zones date the same orders apart),
/// summed per channel, status and currency.
fn by_status(items: &[Value]) -> BTreeMap<String, (i64, i64, String)> {
    let mut by: BTreeMap<String, (i64, i64, rust_decimal::Decimal)> = BTreeMap::new();
    for r in items {
        let key = format!("{}|{}|{}", r["channel"], r["status"], r["currency"]);
        let e = by.entry(key).or_default();
        e.0 += r["orders"].as_i64().unwrap();
        e.1 += r["units"].as_i64().unwrap();
        e.2 += r["total"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap();
    }
    by.into_iter()
        .map(|(k, (o, u, t))| (k, (o, u, t.to_string())))
        .collect()
}

async fn set_zone(stack: &Stack, zone: &str) {
    let (status, body) = stack
        .put(
            "/admin/branding",
            Some(&stack.admin_token),
            &json!({"companyName": "Lindenhof Living GmbH",
                "address": {"name": "Lindenhof Living GmbH", "street": "Lindenstraße 12",
                    "postalCode": "10969", "city": "Berlin", "country": "DE"},
                "vatId": "DE123456789", "primaryColor": "#2E5E4E", "footer": "Lindenhof Living GmbH · Berlin",
                "emailFrom": "service@lindenhof.example", "locale": "de",
                "timeZone": zone}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Every report this test compares, for a period around now that holds all its orders in any
/// zone.
fn paths() -> Vec<String> {
    let today = chrono::Utc::now().date_naive();
    let range = format!(
        "from={}&to={}",
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1)
    );
    [
        "sales",
        "sales&channel=marketplace",
        "sales&country=DE",
        "sales&country=AT",
        "sales&group=bulk",
        "orders",
        "orders&channel=web-de",
    ]
    .iter()
    .map(|k| {
        let (kind, filter) = k.split_once('&').unwrap_or((k, ""));
        let filter = if filter.is_empty() {
            String::new()
        } else {
            format!("&{filter}")
        };
        format!("/admin/reports/{kind}?{range}{filter}")
    })
    .collect()
}

/// The reports as compared: sales whole, orders summed without dates.
async fn answers(stack: &Stack) -> Vec<Value> {
    let mut out = Vec::new();
    for path in paths() {
        let items = report(stack, &path).await;
        out.push(if path.contains("/orders?") {
            json!(by_status(&items))
        } else {
            json!(items)
        });
    }
    out
}

async fn all_items(ddb: &aws_sdk_dynamodb::Client) -> Vec<BTreeMap<String, AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(TABLE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        out.extend(
            page.items
                .unwrap_or_default()
                .into_iter()
                .map(|i| i.into_iter().collect::<BTreeMap<_, _>>()),
        );
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

fn key_of(item: &BTreeMap<String, AttributeValue>, name: &str) -> String {
    item[name].as_s().unwrap().clone()
}

/// Deletes the aggregates table's items for which `which` holds.
async fn delete_items(ddb: &aws_sdk_dynamodb::Client, which: impl Fn(&str) -> bool) -> usize {
    let keys: Vec<(String, String)> = all_items(ddb)
        .await
        .iter()
        .map(|i| (key_of(i, "pk"), key_of(i, "sk")))
        .filter(|(pk, _)| which(pk))
        .collect();
    for chunk in keys.chunks(25) {
        let requests = chunk
            .iter()
            .map(|(pk, sk)| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .key("pk", AttributeValue::S(pk.clone()))
                            .key("sk", AttributeValue::S(sk.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        let out = ddb
            .batch_write_item()
            .request_items(TABLE, requests)
            .send()
            .await
            .unwrap();
        assert!(
            out.unprocessed_items.unwrap_or_default().is_empty(),
            "moto left items unprocessed"
        );
    }
    keys.len()
}

/// Whether the aggregates are complete and dated in Europe/Berlin.
async fn backfill_complete(ddb: &aws_sdk_dynamodb::Client) -> bool {
    let Some(item) = ddb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("STATE".into()))
        .key("sk", AttributeValue::S("backfill".into()))
        .send()
        .await
        .unwrap()
        .item
    else {
        return false;
    };
    item.get("complete").and_then(|v| v.as_bool().ok().copied()) == Some(true)
        && item
            .get("zone")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            == Some("Europe/Berlin")
}

/// Runs the recovery schedule until the aggregates are complete in Europe/Berlin (a pass waits
/// the settle time first).
async fn until_complete(stack: &Stack, ddb: &aws_sdk_dynamodb::Client) {
    stack
        .eventually(
            "the backfill complete",
            Duration::from_secs(200),
            || async {
                if backfill_complete(ddb).await {
                    return Some(());
                }
                assert_eq!(stack.run_schedule("recovery").await, 202);
                tokio::time::sleep(Duration::from_secs(2)).await;
                None
            },
        )
        .await;
}

/// The orders' versions as stored: unchanged for a while means the orders are at rest.
async fn versions(ddb: &aws_sdk_dynamodb::Client) -> BTreeMap<String, String> {
    ddb.scan()
        .table_name("OrdersTable")
        .filter_expression("gsi1pk = :o")
        .expression_attribute_values(":o", AttributeValue::S("ORDERS".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|i| {
            (
                i["pk"].as_s().unwrap().clone(),
                i["version"].as_n().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_sales_and_orders_reports_from_the_aggregates_match_the_orders_and_a_backfill() {
    // A pass that dates the orders waits two seconds here, not a minute.
    let stack = Stack::builder()
        .param("ReportAggregatesSettleSeconds", "2")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let skus = bulk_catalogue(&stack, &world, 5).await;
    let orders = [
        (
            &world.web,
            setup::order(
                "agg-1",
                json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "99.00"},
                       {"lineId": "L2", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "40.00"},
                       {"lineId": "L3", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "95.00"}]),
                "333.00",
            ),
        ),
        (
            &world.marketplace,
            setup::order(
                "agg-2",
                json!([{"lineId": "L1", "sku": "THROW-WOOL", "quantity": 3, "unitPrice": "30.00"}]),
                "90.00",
            ),
        ),
        (
            &world.web,
            setup::order(
                "agg-3",
                json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "25.00"}]),
                "25.00",
            ),
        ),
    ];
    let ids = crate::reports::place_and_route(&stack, &orders).await;
    place_bulk(&stack, &world, &skus, 1, false).await;
    let (status, body) = stack
        .post(
            &format!("/orders/{}/cancel", ids[2]),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    // At rest: no order written for three seconds.
    let mut last = versions(&ddb).await;
    let mut quiet = 0;
    while quiet < 3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = versions(&ddb).await;
        quiet = if now == last { quiet + 1 } else { 0 };
        last = now;
    }
    assert_eq!(last.len(), 4, "{last:?}");

    // The backfill of a stack whose stream applied everything finds nothing left to add.
    until_complete(&stack, &ddb).await;

    // The orders path: a zone the aggregates are not dated in.
    set_zone(&stack, "Asia/Kolkata").await;
    let from_orders = answers(&stack).await;
    let sales = from_orders[0].as_array().unwrap();
    let chair = sales.iter().find(|r| r["sku"] == "CHAIR-TEAK").unwrap();
    assert_eq!(
        (&chair["orders"], &chair["unitsSold"], &chair["revenue"]),
        (&json!(1), &json!(3), &json!("293.00")),
        "one order, two lines: {chair}"
    );
    let vase = sales.iter().find(|r| r["sku"] == "VASE-BLUE").unwrap();
    assert_eq!(
        (&vase["unitsCancelled"], &vase["unitsSold"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(
        sales
            .iter()
            .filter(|r| r["group"] == "bulk" && r["unitsSold"] == 1)
            .count(),
        100
    );
    let at = from_orders[3].as_array().unwrap();
    assert!(
        at.iter().all(|r| r["unitsOrdered"] == 0),
        "no order to AT: {at:?}"
    );

    // The aggregates path gives the same answers (once the stream has applied the orders).
    set_zone(&stack, "Europe/Berlin").await;
    until_complete(&stack, &ddb).await;
    stack
        .eventually(
            "the aggregates answer alike",
            Duration::from_secs(30),
            || async { (answers(&stack).await == from_orders).then_some(()) },
        )
        .await;
    let items = all_items(&ddb).await;
    let markers = items
        .iter()
        .filter(|i| key_of(i, "pk").starts_with("ORDER#"))
        .count();
    assert_eq!(markers, 4, "one marker per order");
    assert!(
        items.iter().all(|i| !i.contains_key("pendingVersion")),
        "no change left pending"
    );

    // The reports do read the aggregates: without their sums (the backfill still complete),
    // no sku has sold anything.
    let sums = delete_items(&ddb, |pk| {
        pk.starts_with("SALES#") || pk.starts_with("ORDERS#")
    })
    .await;
    assert!(
        sums >= 200,
        "{sums} aggregate items: a day and a month per sku"
    );
    let sales = report(&stack, &paths()[0]).await;
    assert!(sales.iter().all(|r| r["unitsSold"] == 0), "{sales:?}");
    assert!(report(&stack, &paths()[5]).await.is_empty());

    // A stack upgraded with orders in it: no marker, no sums, no backfill yet. The reports read
    // the orders meanwhile; the recovery schedule backfills, then the aggregates answer again.
    delete_items(&ddb, |_| true).await;
    assert_eq!(
        answers(&stack).await,
        from_orders,
        "the orders path while not complete"
    );
    until_complete(&stack, &ddb).await;
    assert_eq!(
        answers(&stack).await,
        from_orders,
        "the backfilled aggregates"
    );
    let again = all_items(&ddb).await;
    assert_eq!(
        again
            .iter()
            .filter(|i| key_of(i, "pk").starts_with("ORDER#"))
            .count(),
        4
    );
    // A second pass adds nothing: every order's marker holds its version.
    delete_items(&ddb, |pk| pk == "STATE").await;
    until_complete(&stack, &ddb).await;
    assert_eq!(
        answers(&stack).await,
        from_orders,
        "a backfill run twice counts once"
    );
}
