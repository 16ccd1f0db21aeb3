//! Splitting an order into delivery orders, in rounds: the first round routes the accepted order,
//! later rounds route what is pending again (units of a rejected delivery order, backordered units
//! once stock arrives). Pure: order, delivery orders, catalogue and stock in; the new delivery
//! orders, the stock to reserve and the new order state out.

use crate::catalogue::{Fulfiller, FulfillerKind, Product};
use crate::delivery::{DeliveryLine, DeliveryOrder, DeliveryStatus};
use crate::ids::{FulfillerId, Sku};
use crate::order::Order;
use crate::process::ProcessVersion;
use crate::routing::{route_with, Candidate, LineDemand, RoutingPlan};
use crate::stock::StockMove;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Units of each order line still waiting for a delivery order: neither cancelled nor in a
/// delivery order that still counts (a rejected one gives its units back). Indexed like the lines.
pub fn pending_units(order: &Order, deliveries: &[DeliveryOrder]) -> Vec<u32> {
    order
        .lines
        .iter()
        .map(|l| {
            let assigned: u32 = deliveries
                .iter()
                .filter(|d| d.status != DeliveryStatus::Rejected)
                .flat_map(|d| d.lines.iter().filter(|dl| dl.line_id == l.line_id))
                .map(|dl| dl.quantity - dl.cancelled)
                .sum();
            // Every unit is on a delivery order not rejected (less what was cancelled of it),
            // cancelled (from a delivery order or not), or pending. Returned units were shipped
            // in a delivery order: they are within `assigned`.
            l.quantity.saturating_sub(assigned + l.quantities.cancelled)
        })
        .collect()
}

/// Fulfillers that rejected a delivery order of this order: not asked again for it.
pub fn excluded_fulfillers(deliveries: &[DeliveryOrder]) -> BTreeSet<FulfillerId> {
    deliveries
        .iter()
        .filter(|d| d.status == DeliveryStatus::Rejected)
        .map(|d| d.fulfiller_id.clone())
        .collect()
}

/// What routing needs to know of one (fulfiller, sku): its free stock.
pub type FreeStock = BTreeMap<(FulfillerId, Sku), i64>;

/// Free stock as routing reads it: per (fulfiller, sku), and per item for the sharded ones
/// (where a reservation takes its units, `stock::shards::spread_reservations`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StockRead {
    pub free: FreeStock,
    pub shards: crate::stock::shards::ShardsFree,
}

/// The routing input for the pending units.
pub fn demands(
    order: &Order,
    pending: &[u32],
    products: &BTreeMap<Sku, Product>,
    fulfillers: &BTreeMap<FulfillerId, Fulfiller>,
    free: &FreeStock,
    excluded: &BTreeSet<FulfillerId>,
) -> Vec<LineDemand> {
    order
        .lines
        .iter()
        .zip(pending)
        .filter(|(_, p)| **p > 0)
        .map(|(l, p)| {
            let product = products.get(&l.sku);
            let candidates = product
                .map(|prod| {
                    prod.sources
                        .iter()
                        .filter(|s| !excluded.contains(&s.fulfiller_id))
                        .filter_map(|s| {
                            // An inactive fulfiller is no source: nothing new goes to it.
                            let f = fulfillers.get(&s.fulfiller_id).filter(|f| f.active)?;
                            let available = free
                                .get(&(f.id.clone(), l.sku.clone()))
                                .copied()
                                .unwrap_or(0);
                            Some(Candidate {
                                fulfiller_id: f.id.clone(),
                                priority: s.priority,
                                own_warehouse: f.kind == FulfillerKind::Warehouse,
                                available: available.clamp(0, i64::from(u32::MAX)) as u32,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            LineDemand {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                quantity: *p,
                allow_backorder: product.is_some_and(|p| p.allow_backorder),
                candidates,
            }
        })
        .collect()
}

/// One new delivery order per fulfiller of the plan, due after that fulfiller's SLA.
pub fn delivery_orders_for(
    order: &Order,
    plan: &RoutingPlan,
    fulfillers: &BTreeMap<FulfillerId, Fulfiller>,
    now: DateTime<Utc>,
    process: &ProcessVersion,
) -> Vec<DeliveryOrder> {
    let round = order.routing_round;
    plan.shipments
        .iter()
        .map(|(fulfiller_id, lines)| {
            let id = DeliveryOrder::id_for(&order.id, fulfiller_id, round);
            let sla = fulfillers.get(fulfiller_id).map_or(
                process.settings.escalation.remind_fulfiller_after_hours,
                |f| f.due_hours(&process.settings),
            );
            DeliveryOrder {
                created_key: DeliveryOrder::created_key(now, &id),
                id,
                order_id: order.id.clone(),
                fulfiller_id: fulfiller_id.clone(),
                status: DeliveryStatus::Open,
                ship_to: order.shipping_address.clone(),
                lines: lines
                    .iter()
                    .filter_map(|shipped| {
                        let l = order.lines.iter().find(|l| l.line_id == shipped.line_id)?;
                        Some(DeliveryLine {
                            line_id: shipped.line_id.clone(),
                            sku: l.sku.clone(),
                            name: l.name.clone(),
                            quantity: shipped.quantity,
                            shipped: 0,
                            cancelled: 0,
                        })
                    })
                    .collect(),
                created_at: now,
                due_at: now + Duration::hours(i64::from(sla)),
                documents: Vec::new(),
                carrier: None,
                tracking_number: None,
                version: 0,
                shipments: Vec::new(),
                rejection_reason: None,
                link_key: None,
                stock_shortfall: false,
            }
        })
        .collect()
}

/// The stock to reserve: units per (fulfiller, sku), lines of one sku as one item.
pub fn reservations(order: &Order, plan: &RoutingPlan) -> Vec<StockMove> {
    let mut sum: BTreeMap<(FulfillerId, Sku), u32> = BTreeMap::new();
    for (fulfiller_id, lines) in &plan.shipments {
        for shipped in lines {
            if let Some(l) = order.lines.iter().find(|l| l.line_id == shipped.line_id) {
                *sum.entry((fulfiller_id.clone(), l.sku.clone()))
                    .or_default() += shipped.quantity;
            }
        }
    }
    sum.into_iter()
        .map(|((fulfiller_id, sku), quantity)| StockMove {
            fulfiller_id,
            sku,
            shard: 0,
            quantity,
        })
        .collect()
}

/// The order after a routing round: backordered units are exactly the plan's, unroutable ones
/// are cancelled by the system (they count as kept for the refund rules), the rest is open.
pub fn apply_plan(
    order: &mut Order,
    plan: &RoutingPlan,
    delivery_orders: usize,
    now: DateTime<Utc>,
) {
    for l in &mut order.lines {
        let backordered: u32 = plan
            .backordered
            .iter()
            .filter(|b| b.line_id == l.line_id)
            .map(|b| b.units)
            .sum();
        let unroutable: u32 = plan
            .unroutable
            .iter()
            .filter(|u| u.line_id == l.line_id)
            .map(|u| u.quantity)
            .sum();
        l.quantities.cancelled += unroutable;
        l.quantities.backordered = backordered;
        let q = &l.quantities;
        l.quantities.open = l.quantity - q.shipped - q.cancelled - q.returned - q.backordered;
    }
    order.status = order.derive_status(true);
    let mut what = format!("routed into {delivery_orders} delivery order(s)");
    let backordered: u32 = plan.backordered.iter().map(|b| b.units).sum();
    let unroutable: u32 = plan.unroutable.iter().map(|u| u.quantity).sum();
    if backordered > 0 {
        what.push_str(&format!(", {backordered} unit(s) backordered"));
    }
    if unroutable > 0 {
        what.push_str(&format!(", {unroutable} unit(s) unroutable and cancelled"));
    }
    order.routing_round += 1;
    order.record(now, "system:split-router", what);
}

/// Skus this order waits for (so that arriving stock can route it again).
pub fn backordered_skus(order: &Order) -> BTreeSet<Sku> {
    order
        .lines
        .iter()
        .filter(|l| l.quantities.backordered > 0)
        .map(|l| l.sku.clone())
        .collect()
}

/// Plans a routing round end to end.
pub struct Round {
    pub plan: RoutingPlan,
    pub deliveries: Vec<DeliveryOrder>,
    pub reservations: Vec<StockMove>,
    pub order: Order,
}

pub fn plan_round(
    order: &Order,
    existing: &[DeliveryOrder],
    products: &BTreeMap<Sku, Product>,
    fulfillers: &BTreeMap<FulfillerId, Fulfiller>,
    free: &FreeStock,
    now: DateTime<Utc>,
    process: &ProcessVersion,
) -> Option<Round> {
    let pending = pending_units(order, existing);
    if pending.iter().all(|p| *p == 0) {
        return None;
    }
    let excluded = excluded_fulfillers(existing);
    let plan = route_with(
        &demands(order, &pending, products, fulfillers, free, &excluded),
        &process.settings.routing,
    );
    let deliveries = delivery_orders_for(order, &plan, fulfillers, now, process);
    let reservations = reservations(order, &plan);
    let mut next = order.clone();
    apply_plan(&mut next, &plan, deliveries.len(), now);
    if let Some(last) = next.history.last_mut() {
        last.what = process.decided(&last.what);
    }
    next.delivery_order_ids
        .extend(deliveries.iter().map(|d| d.id.clone()));
    Some(Round {
        plan,
        deliveries,
        reservations,
        order: next,
    })
}
