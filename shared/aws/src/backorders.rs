//! When stock arrives, the orders waiting for it are routed again, oldest first.

use crate::queue::Queue;
use crate::repo::orders::Orders;
use dropship_core::ids::OrderId;
use dropship_core::messages::RouteOrder;
use std::collections::BTreeSet;

/// How many waiting orders one stock update wakes per sku; the router takes them oldest first
/// and leaves the rest backordered if the stock runs out again.
pub const WAKE_PER_SKU: i32 = 100;

/// Sends a routing message for every order waiting for one of `skus`; returns how many.
pub async fn route_waiting(
    orders: &Orders,
    route_queue: &Queue,
    skus: impl IntoIterator<Item = String>,
) -> anyhow::Result<usize> {
    let mut waiting: Vec<OrderId> = Vec::new();
    let mut seen = BTreeSet::new();
    for sku in skus {
        for id in orders.backordered(&sku, WAKE_PER_SKU).await? {
            if seen.insert(id.clone()) {
                waiting.push(id);
            }
        }
    }
    // The stock came in now: a round it starts follows the process settings in force now.
    let now = chrono::Utc::now();
    let messages: Vec<RouteOrder> = waiting
        .into_iter()
        .map(|id| RouteOrder::after(id, now))
        .collect();
    route_queue.send_all(&messages).await?;
    Ok(messages.len())
}
