//! Benchmark (not part of `make test`; `make bench-reports`, also run by `make bench`): the sales
//! report over a year of orders, from the report aggregates and from the orders themselves, on
//! the local stack; written into BENCHMARKS.md between the `<!-- bench:reports -->` markers.
//!
//! `BENCH_REPORT_ORDERS` orders (400: the emulator applies about one a second, its transactions
//! slowing as the tables grow) of 1 to 5 lines over `BENCH_REPORT_SKUS` skus (500), created over
//! the last 360 days, are written straight into the orders table (intake would take hours on the
//! emulator; the stream, the change relay and the aggregator see them as any order write).
//! Measured: how fast the relay and the aggregator bring them into the aggregates, the sales report over 30 and
//! 366 days both ways (the orders way is what the reports do while the aggregates are not
//! complete: the backfill's state is removed for it), the items each way reads, and that both
//! ways give the same rows.

use crate::bench_webhooks::{env_usize, pct};
use crate::setup;
use crate::support::Stack;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, Select, WriteRequest};
use chrono::{Duration as Days, Utc};
use dropship_core::ids::{OrderId, Sku};
use dropship_core::order::{Order, OrderStatus};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TABLE: &str = "ReportAggregatesTable";

/// The `i`-th benchmark order: the template's first line as the pattern of every line.
pub(crate) fn bench_order(template: &Order, i: usize, n: usize, skus: usize) -> Order {
    let mut o = template.clone();
    o.id = OrderId::parse("id", format!("bench-{i:06}")).expect("an order id");
    // Spread over the last 360 days, none in the last hour: inside a 366-day period in any zone.
    let age = Days::hours(1) + Days::minutes((360 * 24 * 60 * i / n.max(1)) as i64);
    o.created_at = Utc::now() - age;
    o.channel_id = if i.is_multiple_of(3) {
        world_channel("marketplace")
    } else {
        world_channel("web-de")
    };
    let line = template.lines[0].clone();
    o.lines = (0..1 + i % 5)
        .map(|j| {
            let mut l = line.clone();
            let sku = format!("BENCH-{:03}", (i * 7 + j * 13) % skus);
            l.line_id = format!("L{j}");
            l.name = sku.clone();
            l.sku = Sku::parse("sku", sku).expect("a sku");
            l.quantity = 1 + ((i + j) % 3) as u32;
            l.quantities.open = l.quantity;
            if i.is_multiple_of(10) {
                l.quantities.open = 0;
                l.quantities.cancelled = l.quantity;
            }
            l
        })
        .collect();
    if i.is_multiple_of(10) {
        o.status = OrderStatus::Cancelled;
    }
    o
}

/// One order through intake (a lamp, `external_id`), read back whole from the orders table: the
/// pattern of the benchmark orders written straight into the table.
pub(crate) async fn template_order(
    stack: &Stack,
    ddb: &aws_sdk_dynamodb::Client,
    channel: &str,
    external_id: &str,
) -> Order {
    let (status, created) = stack
        .post_idempotent(
            "/orders",
            Some(channel),
            external_id,
            &setup::order(
                external_id,
                json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "40.00"}]),
                "40.00",
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_string();
    let item = ddb
        .get_item()
        .table_name("OrdersTable")
        .key("pk", AttributeValue::S(format!("ORDER#{id}")))
        .send()
        .await
        .expect("the template order")
        .item
        .expect("the template order's item");
    dropship_aws::repo::from_item(item).expect("an order")
}

/// Orders written straight into the orders table, 25 per request, 4 requests at a time.
pub(crate) async fn write_orders(ddb: &aws_sdk_dynamodb::Client, orders: Vec<Order>) {
    let items: Vec<_> = orders
        .iter()
        .map(|o| dropship_aws::repo::orders::order_item(o).expect("an order item"))
        .collect();
    let requests: Vec<Vec<WriteRequest>> = items
        .chunks(25)
        .map(|c| {
            c.iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item.clone()))
                                .build()
                                .expect("a put"),
                        )
                        .build()
                })
                .collect()
        })
        .collect();
    stream::iter(requests)
        .for_each_concurrent(4, |batch| {
            let ddb = ddb.clone();
            async move {
                let mut pending = Some(
                    [("OrdersTable".to_string(), batch)]
                        .into_iter()
                        .collect::<std::collections::HashMap<_, _>>(),
                );
                while let Some(request) = pending.take().filter(|r| !r.is_empty()) {
                    let out = ddb
                        .batch_write_item()
                        .set_request_items(Some(request))
                        .send()
                        .await
                        .expect("writing orders");
                    pending = out.unprocessed_items;
                }
            }
        })
        .await;
}

fn world_channel(id: &str) -> dropship_core::ids::ChannelId {
    dropship_core::ids::ChannelId::parse("channel", id).expect("a channel id")
}

async fn count(ddb: &aws_sdk_dynamodb::Client, prefix: &str) -> usize {
    let mut total = 0;
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(TABLE)
            .select(Select::Count)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", AttributeValue::S(prefix.into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("counting aggregate items");
        total += page.count as usize;
        start = page.last_evaluated_key;
        if start.is_none() {
            return total;
        }
    }
}

/// A report's rows and how long it took, over `days` days to today.
async fn sales(stack: &Stack, days: i64) -> (Vec<Value>, f64) {
    let today = dropship_core::catalogue::local_date(Utc::now(), "Europe/Berlin");
    let path = format!(
        "/admin/reports/sales?from={}&to={today}",
        today - Days::days(days - 1)
    );
    let started = Instant::now();
    let (status, body) = stack.get(&path, Some(&stack.admin_token)).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200, "{path}: {body}\n{}", stack.output.tail(40));
    (body["items"].as_array().cloned().unwrap_or_default(), ms)
}

/// `runs` reports over `days` days: the rows (the same each run) and the sorted times.
async fn timed(stack: &Stack, days: i64, runs: usize) -> (Vec<Value>, Vec<f64>) {
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..runs {
        let (r, ms) = sales(stack, days).await;
        times.push(ms);
        rows = r;
    }
    times.sort_by(f64::total_cmp);
    (rows, times)
}

fn aggregate_reads(stack: &Stack) -> usize {
    stack
        .output
        .text()
        .matches("report aggregates read")
        .count()
}

#[tokio::test]
#[ignore = "benchmark: make bench-reports (and make bench)"]
async fn bench_reports() {
    let started = Instant::now();
    let n = env_usize("BENCH_REPORT_ORDERS", 400);
    let skus = env_usize("BENCH_REPORT_SKUS", 500);
    let stack = Stack::builder()
        .param("ReportAggregatesSettleSeconds", "2")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);

    // One order through intake, as the pattern of the rest.
    let template = template_order(&stack, &ddb, &world.web, "bench-reports-template").await;
    stack
        .eventually(
            "the backfill complete",
            Duration::from_secs(120),
            || async {
                assert_eq!(stack.run_schedule("recovery").await, 202);
                tokio::time::sleep(Duration::from_secs(1)).await;
                let state = ddb
                    .get_item()
                    .table_name(TABLE)
                    .key("pk", AttributeValue::S("STATE".into()))
                    .key("sk", AttributeValue::S("backfill".into()))
                    .send()
                    .await
                    .ok()?
                    .item?;
                (state.get("complete")?.as_bool().ok() == Some(&true)).then_some(())
            },
        )
        .await;

    // The orders, written straight into the table.
    let write_started = Instant::now();
    write_orders(
        &ddb,
        (0..n).map(|i| bench_order(&template, i, n, skus)).collect(),
    )
    .await;
    let written = write_started.elapsed();

    // Until the aggregator has applied every order: the year's orders report counts them all.
    let caught_up = stack
        .eventually(
            "the aggregates caught up",
            Duration::from_secs(1800),
            || async {
                let today = dropship_core::catalogue::local_date(Utc::now(), "Europe/Berlin");
                let (_, body) = stack
                    .get(
                        &format!(
                            "/admin/reports/orders?from={}&to={today}",
                            today - Days::days(365)
                        ),
                        Some(&stack.admin_token),
                    )
                    .await;
                let orders: i64 = body["items"]
                    .as_array()?
                    .iter()
                    .filter_map(|r| r["orders"].as_i64())
                    .sum();
                tokio::time::sleep(Duration::from_secs(2)).await;
                (orders == n as i64 + 1).then(|| write_started.elapsed())
            },
        )
        .await;

    if let Ok(path) = std::env::var("BENCH_OUTPUT_LOG") {
        std::fs::write(path, stack.output.text()).expect("writing the stack's output");
    }
    // The aggregates way.
    let before = aggregate_reads(&stack);
    let (month_rows, month_agg) = timed(&stack, 30, 5).await;
    let (year_rows, year_agg) = timed(&stack, 366, 5).await;
    assert_eq!(
        aggregate_reads(&stack),
        before + 10,
        "each report read the aggregates"
    );
    let sales_items = count(&ddb, "SALES#").await;
    let status_items = count(&ddb, "ORDERS#").await;
    let markers = count(&ddb, "ORDER#").await;
    assert_eq!(markers, n + 1, "one marker per order");

    // The orders way: what the reports do while the aggregates are not complete.
    let out = ddb
        .delete_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("STATE".into()))
        .key("sk", AttributeValue::S("backfill".into()))
        .send()
        .await;
    out.expect("removing the backfill state");
    let before = aggregate_reads(&stack);
    let (month_orders_rows, month_orders) = timed(&stack, 30, 3).await;
    let (year_orders_rows, year_orders) = timed(&stack, 366, 3).await;
    assert_eq!(
        aggregate_reads(&stack),
        before,
        "each report read the orders"
    );
    assert_eq!(month_rows, month_orders_rows, "30 days: both ways alike");
    assert_eq!(year_rows, year_orders_rows, "366 days: both ways alike");
    let sold: i64 = year_rows
        .iter()
        .filter_map(|r| r["unitsSold"].as_i64())
        .sum();

    let lines: usize = (0..n).map(|i| 1 + i % 5).sum();
    let content = format!(
        "Measured {date} on the local stack (debug builds, one moto process, 2 instances per \
function), `make bench-reports` ({minutes:.1} min): {n} orders ({lines} lines, {skus} skus, \
every tenth cancelled) created over the last 360 days, written straight into the orders table \
({written:.0} s); the change relay and the report aggregator had them all in the aggregates {caught_up:.0} s after the \
first write ({rate:.0} orders/s). The sales report both ways, the same rows each ({sold} units \
sold in the year):\n\n\
| sales report | from the aggregates: p50 | max | from the orders: p50 | max |\n\
|---|---:|---:|---:|---:|\n\
| 30 days | {m50:.0} ms | {mmax:.0} ms | {mo50:.0} ms | {momax:.0} ms |\n\
| 366 days | {y50:.0} ms | {ymax:.0} ms | {yo50:.0} ms | {yomax:.0} ms |\n\n\
Items in the aggregates table: {sales_items} sales sums (a day and a month per sku, channel and \
spread), {status_items} status sums, {markers} order markers. A year's report from the \
aggregates reads at most the month sums of the year and the day sums of its two end months \
(up to 4 ranges on each of its 2 years x 32 keys); from the orders it reads every order of the year.\n",
        date = Utc::now().format("%Y-%m-%d"),
        minutes = started.elapsed().as_secs_f64() / 60.0,
        written = written.as_secs_f64(),
        caught_up = caught_up.as_secs_f64(),
        rate = n as f64 / caught_up.as_secs_f64(),
        m50 = pct(&month_agg, 0.5),
        mmax = pct(&month_agg, 1.0),
        mo50 = pct(&month_orders, 0.5),
        momax = pct(&month_orders, 1.0),
        y50 = pct(&year_agg, 0.5),
        ymax = pct(&year_agg, 1.0),
        yo50 = pct(&year_orders, 0.5),
        yomax = pct(&year_orders, 1.0),
    );
    println!("{content}");
    let path = crate::support::workspace_root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).expect("BENCHMARKS.md");
    let doc = crate::bench_system::replace_section(&doc, "reports", &content);
    std::fs::write(&path, doc).expect("write BENCHMARKS.md");
}
