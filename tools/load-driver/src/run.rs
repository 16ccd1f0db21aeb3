//! The run: requests start on the schedule whether or not earlier ones have answered (an open
//! model, so a slow stack shows as latency, not as a politely lower rate), each chosen from the
//! mix and fed by what earlier answers revealed (orders to read, delivery orders to ship,
//! shipped lines to return).

use crate::args::Args;
use crate::http::{Api, Call};
use crate::mix::{self, Op, Product};
use crate::stats::Recorder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What earlier answers revealed, for the operations that need an existing resource.
#[derive(Default)]
struct Known {
    orders: VecDeque<String>,
    to_ship: VecDeque<String>,
    seen_delivery_orders: HashSet<String>,
    /// (order id, line id) of shipped lines not yet returned.
    to_return: VecDeque<(String, String)>,
}

/// Orders kept for reads: the newest ones, as a shop's customers look at recent orders.
const KEEP_ORDERS: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked task cannot leave these half-updated in a way that matters to a count.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct Roles {
    pub admin: String,
    pub channel: String,
    pub fulfiller: String,
}

pub struct Finished {
    pub recorder: Recorder,
    pub stopped_by: &'static str,
    pub elapsed_seconds: f64,
}

pub async fn run(api: &Api, args: &Args, roles: Roles, catalogue: Vec<Product>) -> Finished {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let run_id = format!("load-{}", chrono::Utc::now().timestamp());
    let known = Arc::new(Mutex::new(Known::default()));
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let roles = Arc::new(roles);
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    let mut stopped_by = "profile";
    for k in 0.. {
        if k >= args.max_requests {
            stopped_by = "max-requests";
            break;
        }
        let Some(at) = args.profile.send_time(k) else {
            break;
        };
        if at >= args.max_seconds as f64 {
            stopped_by = "max-seconds";
            break;
        }
        tokio::time::sleep_until((start + Duration::from_secs_f64(at)).into()).await;
        while tasks.try_join_next().is_some() {}
        let (op, call) = next_call(args, &catalogue, &known, &run_id, k, &mut rng);
        if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
            lock(&recorder).dropped(at);
            continue;
        }
        lock(&recorder).sent(at);
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (api, known, recorder, in_flight, roles) = (
            api.clone(),
            known.clone(),
            recorder.clone(),
            in_flight.clone(),
            roles.clone(),
        );
        tasks.spawn(async move {
            let token = match op {
                Op::CreateOrder | Op::GetOrder | Op::Return => &roles.channel,
                Op::ListDeliveryOrders | Op::Ship | Op::StockUpdate => &roles.fulfiller,
                Op::Report => &roles.admin,
            };
            let (outcome, body) = api.send(token, &call).await;
            // From the scheduled start: time spent waiting for a connection counts too.
            let scheduled = start + Duration::from_secs_f64(at);
            let latency = u32::try_from(scheduled.elapsed().as_micros()).unwrap_or(u32::MAX);
            lock(&recorder).record(op, at, latency, &outcome);
            if outcome.is_ok() {
                learn(&mut lock(&known), op, &body);
            }
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    let elapsed_seconds = start.elapsed().as_secs_f64();
    // Answers still coming get the request timeout, then the run ends whatever is left.
    let grace = Duration::from_secs(args.timeout_seconds + 1);
    let drained =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tasks.abort_all();
    }
    let recorder = std::mem::take(&mut *lock(&recorder));
    Finished {
        recorder,
        stopped_by,
        elapsed_seconds,
    }
}

/// The next request: the mix's draw, or a stand-in when it needs what is not known yet
/// (no delivery order to ship: look for some; nothing to return or read: read or order).
fn next_call(
    args: &Args,
    catalogue: &[Product],
    known: &Mutex<Known>,
    run_id: &str,
    k: u64,
    rng: &mut StdRng,
) -> (Op, Call) {
    let mut known = lock(known);
    let mut op = args.mix.sample(rng);
    if op == Op::Ship && known.to_ship.is_empty() {
        op = Op::ListDeliveryOrders;
    }
    if op == Op::Return && known.to_return.is_empty() {
        op = Op::GetOrder;
    }
    if op == Op::GetOrder && known.orders.is_empty() {
        op = Op::CreateOrder;
    }
    let call = |method, path: String, body, key: Option<String>| Call {
        method,
        path,
        body,
        idempotency_key: key,
    };
    let c = match op {
        Op::CreateOrder => {
            let key = format!("{run_id}-{k}");
            let lines = mix::line_count(rng);
            let body = mix::order_body(&key, catalogue, lines, rng);
            call(Method::POST, "/orders".into(), Some(body), Some(key))
        }
        Op::GetOrder => {
            let i = rng.random_range(0..known.orders.len());
            let id = known.orders.get(i).cloned().unwrap_or_default();
            call(Method::GET, format!("/orders/{id}"), None, None)
        }
        Op::ListDeliveryOrders => call(
            Method::GET,
            "/fulfiller/delivery-orders?status=open&limit=50".into(),
            None,
            None,
        ),
        Op::Ship => {
            let id = known.to_ship.pop_front().unwrap_or_default();
            let body = json!({"carrier": "DHL", "trackingNumber": format!("{run_id}-{k}")});
            let path = format!("/fulfiller/delivery-orders/{id}/shipments");
            call(
                Method::POST,
                path,
                Some(body),
                Some(format!("{run_id}-s-{k}")),
            )
        }
        Op::Return => {
            let (order, line) = known.to_return.pop_front().unwrap_or_default();
            let body = json!({"lines": [{"lineId": line, "quantity": 1, "reason": "load test"}]});
            let path = format!("/orders/{order}/returns");
            call(
                Method::POST,
                path,
                Some(body),
                Some(format!("{run_id}-r-{k}")),
            )
        }
        Op::StockUpdate => {
            let n = rng.random_range(1..=10.min(catalogue.len()));
            let first = rng.random_range(0..catalogue.len());
            let items: Vec<Value> = (0..n)
                .map(|i| {
                    let p = &catalogue[(first + i) % catalogue.len()];
                    json!({"sku": p.sku, "available": crate::seed::STOCK})
                })
                .collect();
            call(
                Method::PUT,
                "/fulfiller/stock".into(),
                Some(json!({ "items": items })),
                None,
            )
        }
        Op::Report => call(Method::GET, report_path(args), None, None),
    };
    (op, c)
}

/// The report over the default period (the last 30 days), the order-based kinds filtered to
/// the driver's channel so that a shared stack's other orders do not weigh on it.
fn report_path(args: &Args) -> String {
    let kind = &args.report_kind;
    match kind.as_str() {
        "sales" | "orders" | "customers" | "returns" | "finance" => {
            format!("/admin/reports/{kind}?channel={}", args.channel_id)
        }
        _ => format!("/admin/reports/{kind}"),
    }
}

fn learn(known: &mut Known, op: Op, body: &Value) {
    match op {
        Op::CreateOrder => {
            if let Some(id) = body["orderId"].as_str() {
                known.orders.push_back(id.to_string());
                if known.orders.len() > KEEP_ORDERS {
                    known.orders.pop_front();
                }
            }
        }
        Op::ListDeliveryOrders => {
            for d in body["items"].as_array().into_iter().flatten() {
                if let Some(id) = d["id"].as_str() {
                    if known.seen_delivery_orders.insert(id.to_string()) {
                        known.to_ship.push_back(id.to_string());
                    }
                }
            }
        }
        Op::Ship => {
            let order = body["orderId"].as_str().unwrap_or_default();
            let shipped =
                body["lines"].as_array().into_iter().flatten().find(|l| {
                    l["shipped"].as_u64().unwrap_or_default() > 0 && l["lineId"].is_string()
                });
            if let (false, Some(line)) = (order.is_empty(), shipped) {
                let line = line["lineId"].as_str().unwrap_or_default().to_string();
                known.to_return.push_back((order.to_string(), line));
            }
        }
        Op::GetOrder | Op::Return | Op::StockUpdate | Op::Report => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_feed_the_operations_that_need_them() {
        let mut k = Known::default();
        learn(
            &mut k,
            Op::CreateOrder,
            &json!({"orderId": "o1", "status": "accepted"}),
        );
        let page = json!({"items": [{"id": "d1", "orderId": "o1"}, {"id": "d2", "orderId": "o2"}]});
        learn(&mut k, Op::ListDeliveryOrders, &page);
        learn(&mut k, Op::ListDeliveryOrders, &page);
        assert_eq!(k.orders, ["o1"]);
        // A delivery order listed twice is shipped once.
        assert_eq!(k.to_ship, ["d1", "d2"]);
        learn(
            &mut k,
            Op::Ship,
            &json!({"id": "d1", "orderId": "o1", "status": "shipped",
            "lines": [{"lineId": "l1", "quantity": 2, "shipped": 2}]}),
        );
        assert_eq!(k.to_return, [("o1".to_string(), "l1".to_string())]);
    }
}
