//! The capacity model: pure functions from the template and the profile to the load per order,
//! and from that to units, partitions, concurrency, quotas and cost at an order rate. Every
//! load is linear in the order rate, so each limit has one ceiling in orders per second.

use crate::prices::Prices;
use crate::profile::{Access, Kind, Profile, Shape, Unit};
use crate::template::Infra;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Read units of one item of `kb` (a query: of everything it returns).
pub fn read_units(kind: Kind, kb: f64) -> f64 {
    let blocks = (kb / 4.0).ceil().max(1.0);
    match kind {
        Kind::Read => blocks * 0.5,
        Kind::StrongRead => blocks,
        Kind::TransactRead => blocks * 2.0,
        Kind::Write | Kind::TransactWrite => 0.0,
    }
}

/// Write units of one item of `kb`.
pub fn write_units(kind: Kind, kb: f64) -> f64 {
    let blocks = kb.ceil().max(1.0);
    match kind {
        Kind::Write => blocks,
        Kind::TransactWrite => blocks * 2.0,
        Kind::Read | Kind::StrongRead | Kind::TransactRead => 0.0,
    }
}

/// Partitions a table (or index) needs: its throughput (3,000 read and 1,000 write units per
/// second each) or its size (10 GB each), whichever needs more; at least one.
pub fn partitions(read_units: f64, write_units: f64, gb: f64, per: &PartitionLimits) -> f64 {
    let throughput = (read_units / per.read_units + write_units / per.write_units).ceil();
    let size = (gb / per.gb).ceil();
    throughput.max(size).max(1.0)
}

#[derive(Debug, Clone, Copy)]
pub struct PartitionLimits {
    pub read_units: f64,
    pub write_units: f64,
    pub gb: f64,
}

/// Little's law: executions in flight = arrival rate x time in the function.
pub fn concurrency(per_second: f64, duration_ms: f64) -> f64 {
    per_second * duration_ms / 1000.0
}

/// Items one hot key must be spread over so that `per_second` changes of `units` each stay
/// within `target` of one item's `item_limit` units per second.
pub fn shards_needed(per_second: f64, units: f64, item_limit: f64, target: f64) -> f64 {
    (per_second * units / (item_limit * target)).ceil().max(1.0)
}

/// Load on one table or index per order (units, requests) and what it keeps stored.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TableLoad {
    pub read_units: f64,
    pub write_units: f64,
    pub stored_kb: f64,
}

/// Load on one function per order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FunctionLoad {
    /// Messages or requests handled.
    pub handled: f64,
    /// Milliseconds of execution (Little's law: concurrency = rate x this / 1000).
    pub busy_ms: f64,
    pub invocations: f64,
    pub gb_seconds: f64,
    /// Milliseconds a message stays in flight (its whole batch's time).
    pub in_flight_ms: f64,
}

/// Load on one hot key per order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct HotLoad {
    pub read_units: f64,
    pub write_units: f64,
    /// Writes (changes) of the key.
    pub writes: f64,
}

/// What one operation contributes to an average order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct OperationLoad {
    pub name: String,
    pub function: String,
    /// Times per order.
    pub count: f64,
    pub read_units: f64,
    pub write_units: f64,
}

/// Everything one average order causes, over the profile's mix.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PerOrder {
    /// Keyed by `Table` or `Table/index`.
    pub tables: BTreeMap<String, TableLoad>,
    pub hot_keys: BTreeMap<String, HotLoad>,
    /// In the profile's order.
    pub operations: Vec<OperationLoad>,
    pub functions: BTreeMap<String, FunctionLoad>,
    pub queue_messages: BTreeMap<String, f64>,
    pub sqs_requests: f64,
    pub routes: BTreeMap<String, f64>,
    pub api_requests: f64,
    pub s3_puts: f64,
    pub s3_put_kb: f64,
    pub s3_gets: f64,
    pub mails: f64,
    pub lines: f64,
    pub delivery_orders: f64,
}

/// How many of `driver` one order of `shape` brings, and the lines of each.
fn driver(profile: &Profile, shape: &Shape, name: &str) -> Result<(f64, f64), String> {
    let per_delivery = (
        shape.delivery_orders,
        shape.lines / shape.delivery_orders.max(1.0),
    );
    Ok(match name {
        "order" => (1.0, shape.lines),
        "delivery_order" => per_delivery,
        event => {
            let rate = profile.mix.events.get(event).ok_or_else(|| {
                format!(
                    "driver {event} is neither order, delivery_order nor an event of mix.events"
                )
            })?;
            match rate.per {
                Unit::Order => (rate.count, shape.lines),
                Unit::DeliveryOrder => (rate.count * per_delivery.0, per_delivery.1),
            }
        }
    })
}

fn table_key(table: &str, index: Option<&String>) -> String {
    match index {
        Some(i) => format!("{table}/{i}"),
        None => table.to_string(),
    }
}

/// Items and the size of each for one access of an operation over `lines` lines of an order
/// of `shape`.
pub fn access_items(a: &Access, lines: f64, shape: &Shape) -> (f64, f64) {
    let items =
        a.count + a.count_per_line * lines + a.count_per_delivery_order * shape.delivery_orders;
    let kb = a.kb + a.kb_per_line * lines + a.kb_per_order_line * shape.lines;
    (items, kb)
}

/// Read and write units of one access (see `access_items`).
pub fn access_units(a: &Access, lines: f64, shape: &Shape) -> (f64, f64) {
    let (items, kb) = access_items(a, lines, shape);
    (
        items * read_units(a.kind, kb),
        items * write_units(a.kind, kb),
    )
}

/// The load of one average order: every operation, weighted over the order shapes.
pub fn per_order(profile: &Profile, infra: &Infra) -> Result<PerOrder, String> {
    let total_share: f64 = profile.mix.shapes.iter().map(|s| s.share).sum();
    if total_share <= 0.0 {
        return Err("mix.shapes: the shares add up to nothing".into());
    }
    let mut out = PerOrder {
        operations: profile
            .operations
            .iter()
            .map(|op| OperationLoad {
                name: op.name.clone(),
                function: op.function.clone(),
                ..OperationLoad::default()
            })
            .collect(),
        ..PerOrder::default()
    };
    for shape in &profile.mix.shapes {
        let w = shape.share / total_share;
        out.lines += w * shape.lines;
        out.delivery_orders += w * shape.delivery_orders;
        for (i, op) in profile.operations.iter().enumerate() {
            let (n, lines) = driver(profile, shape, &op.driver)?;
            let n = n * w;
            if let Some(o) = out.operations.get_mut(i) {
                o.count += n;
            }
            let function = infra.function(&op.function).ok_or_else(|| {
                format!(
                    "operation {}: function {} is not in template.yaml",
                    op.name, op.function
                )
            })?;
            for a in &op.dynamodb {
                let table = infra.table(&a.table).ok_or_else(|| {
                    format!(
                        "operation {}: table {} is not in template.yaml",
                        op.name, a.table
                    )
                })?;
                if let Some(index) = a.index.as_ref().filter(|i| !table.indexes.contains(i)) {
                    return Err(format!(
                        "operation {}: {} has no index {index} in template.yaml",
                        op.name, a.table
                    ));
                }
                let (items, kb) = access_items(a, lines, shape);
                let (r, wu) = access_units(a, lines, shape);
                let load = out
                    .tables
                    .entry(table_key(&a.table, a.index.as_ref()))
                    .or_default();
                load.read_units += n * r;
                load.write_units += n * wu;
                if let Some(o) = out.operations.get_mut(i) {
                    o.read_units += n * r;
                    o.write_units += n * wu;
                }
                if a.creates {
                    load.stored_kb += n * items * kb;
                }
                if let Some(key) = &a.hot_key {
                    if !profile.hot_keys.iter().any(|h| &h.name == key) {
                        return Err(format!(
                            "operation {}: hot key {key} is not in hot_keys",
                            op.name
                        ));
                    }
                    let hot = out.hot_keys.entry(key.clone()).or_default();
                    hot.read_units += n * r;
                    hot.write_units += n * wu;
                    if wu > 0.0 {
                        hot.writes += n * items;
                    }
                }
            }
            let ms = op.duration_ms + op.duration_ms_per_line * lines;
            let batch = match &function.queue {
                Some(q) if q.batching_window_s > 0.0 => q.batch_size,
                Some(q) => (q.batch_size * profile.mix.batch_fill).max(1.0),
                None => 1.0,
            };
            let f = out.functions.entry(op.function.clone()).or_default();
            f.handled += n;
            f.busy_ms += n * ms;
            f.invocations += n / batch;
            f.gb_seconds += n * ms / 1000.0 * function.memory_mb / 1024.0;
            if function.queue.is_some() {
                f.in_flight_ms += n * ms * batch;
                // The event source's ReceiveMessage and DeleteMessageBatch, once per batch.
                out.sqs_requests += 2.0 * n / batch;
            }
            for m in &op.messages {
                if !infra.queues.iter().any(|q| q.name == m.queue) {
                    return Err(format!(
                        "operation {}: queue {} is not in template.yaml",
                        op.name, m.queue
                    ));
                }
                let count = m.count + m.count_per_delivery_order * shape.delivery_orders;
                *out.queue_messages.entry(m.queue.clone()).or_default() += n * count;
                out.sqs_requests += n * m.requests.unwrap_or(count);
            }
            if let Some(route) = &op.route {
                *out.routes.entry(route.clone()).or_default() += n;
                out.api_requests += n;
                let authorized = function.routes.iter().any(|(r, a)| r == route && *a);
                if !function.routes.iter().any(|(r, _)| r == route) {
                    return Err(format!(
                        "operation {}: route {route} is not {}'s in template.yaml",
                        op.name, op.function
                    ));
                }
                if authorized {
                    let auth = &profile.authorizer;
                    let memory = infra
                        .function(&auth.function)
                        .map_or(128.0, |f| f.memory_mb);
                    let a = out.functions.entry(auth.function.clone()).or_default();
                    a.handled += n;
                    a.busy_ms += n * auth.duration_ms;
                    a.invocations += n;
                    a.gb_seconds += n * auth.duration_ms / 1000.0 * memory / 1024.0;
                }
            }
            out.s3_puts += n * op.s3_puts;
            out.s3_put_kb += n * op.s3_put_kb;
            out.s3_gets += n * op.s3_gets;
            out.mails += n * op.mails;
        }
    }
    // Per-message means: in_flight_ms was summed weighted like handled.
    for f in out.functions.values_mut() {
        if f.handled > 0.0 {
            f.in_flight_ms /= f.handled;
        }
    }
    Ok(out)
}

/// Dollars per 1,000 orders, by service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cost {
    pub dynamodb_reads: Decimal,
    pub dynamodb_writes: Decimal,
    pub lambda: Decimal,
    pub sqs: Decimal,
    pub api_gateway: Decimal,
    pub s3: Decimal,
    pub ses: Decimal,
    pub total_without_ses: Decimal,
    pub total: Decimal,
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64_retain(x).unwrap_or_default()
}

/// The cost of 1,000 orders of `load` at `prices` (first month's storage of their documents
/// included), rounded to a tenth of a cent's hundredth.
pub fn cost_per_thousand(load: &PerOrder, prices: &Prices) -> Cost {
    let million = Decimal::from(1_000_000);
    let thousand = Decimal::from(1000);
    let orders = thousand;
    let per_million = |quantity: f64, price: Decimal| dec(quantity) * orders * price / million;
    let reads: f64 = load.tables.values().map(|t| t.read_units).sum();
    let writes: f64 = load.tables.values().map(|t| t.write_units).sum();
    let invocations: f64 = load.functions.values().map(|f| f.invocations).sum();
    let gb_s: f64 = load.functions.values().map(|f| f.gb_seconds).sum();
    let round = |d: Decimal| d.round_dp(6);
    let dynamodb_reads = round(per_million(reads, prices.dynamodb_per_million_read_units));
    let dynamodb_writes = round(per_million(writes, prices.dynamodb_per_million_write_units));
    let lambda = round(
        per_million(invocations, prices.lambda_per_million_requests)
            + dec(gb_s) * orders * prices.lambda_arm64_per_gb_second,
    );
    let sqs = round(per_million(
        load.sqs_requests,
        prices.sqs_per_million_requests,
    ));
    let api_gateway = round(per_million(
        load.api_requests,
        prices.api_gateway_http_per_million_requests,
    ));
    let gb = dec(load.s3_put_kb) / Decimal::from(1024 * 1024);
    let s3 = round(
        dec(load.s3_puts) * prices.s3_per_thousand_puts
            + dec(load.s3_gets) * prices.s3_per_thousand_gets
            + gb * orders * prices.s3_standard_per_gb_month,
    );
    let ses = round(dec(load.mails) * prices.ses_per_thousand_mails);
    let total_without_ses = dynamodb_reads + dynamodb_writes + lambda + sqs + api_gateway + s3;
    Cost {
        dynamodb_reads,
        dynamodb_writes,
        lambda,
        sqs,
        api_gateway,
        s3,
        ses,
        total_without_ses,
        total: total_without_ses + ses,
    }
}
