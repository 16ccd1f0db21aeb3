//! Cancelling an order, whole or some lines, before shipment (docs/api.md `POST /orders/{id}/cancel`).
//! Pure: the order and its delivery orders in, the changed order, delivery orders and the stock to
//! release out. Units still waiting for stock (backordered) go first, then units that were routed,
//! taking them from delivery orders the fulfiller has not accepted yet before accepted ones.

use crate::delivery::{DeliveryOrder, DeliveryStatus};
use crate::error::ErrorCode;
use crate::ids::{FulfillerId, Sku};
use crate::input::{self, Fields, LineUnitsInput, List};
use crate::order::{LineQuantity, Order, OrderStatus};
use crate::process::settings::CancelUntil;
use crate::process::ProcessVersion;
use crate::ApiError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Stock promised to a delivery order that goes back to free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRelease {
    pub fulfiller_id: FulfillerId,
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CancellationPlan {
    pub order: Order,
    /// Only the delivery orders that changed.
    pub deliveries: Vec<DeliveryOrder>,
    pub releases: Vec<StockRelease>,
    /// Units cancelled now.
    pub cancelled: Vec<LineQuantity>,
}

/// The body of `POST /orders/{id}/cancel` as serde reads it (`parse_request` checks it).
#[derive(Deserialize)]
struct CancelInput {
    lines: Option<List<Fields<LineUnitsInput>>>,
}

/// Parses `{lines?: [{lineId, quantity}]}`; `None` means everything not shipped.
pub fn parse_request(body: Option<&Value>) -> Result<Option<Vec<LineQuantity>>, ApiError> {
    let Some(body) = body else {
        return Ok(None);
    };
    let Fields(request) = input::read::<Fields<CancelInput>>(body)?;
    let Some(List(lines)) = request.lines else {
        if !body.is_object() {
            return Err(ApiError::invalid("body", "the body must be an object"));
        }
        return Ok(None);
    };
    let lines = lines.ok_or_else(|| ApiError::invalid("lines", "lines must be an array"))?;
    if lines.is_empty() {
        return Err(ApiError::invalid(
            "lines",
            "lines must not be empty; omit it to cancel everything",
        ));
    }
    let mut out: Vec<LineQuantity> = Vec::with_capacity(lines.len());
    for (i, Fields(l)) in lines.into_iter().enumerate() {
        let id = input::line_id(i, l.line_id)?;
        if out.iter().any(|o| o.line_id == id) {
            return Err(ApiError::invalid(
                format!("lines[{i}].lineId"),
                format!("duplicate lineId {id}"),
            ));
        }
        let quantity = input::units(i, l.quantity)?;
        out.push(LineQuantity {
            line_id: id,
            quantity,
        });
    }
    Ok(Some(out))
}

/// Plans the cancellation or explains why it cannot happen (422 unknown line, 409 shipped).
pub fn plan(
    order: &Order,
    deliveries: &[DeliveryOrder],
    request: Option<Vec<LineQuantity>>,
    who: &str,
    now: DateTime<Utc>,
) -> Result<CancellationPlan, ApiError> {
    let cancellable = |l: &crate::order::OrderLine| l.quantities.open + l.quantities.backordered;
    let wanted: Vec<(usize, u32)> = match request {
        Some(lines) => {
            let mut wanted = Vec::with_capacity(lines.len());
            for (
                i,
                LineQuantity {
                    line_id: id,
                    quantity: q,
                },
            ) in lines.iter().enumerate()
            {
                let idx = order
                    .lines
                    .iter()
                    .position(|l| &l.line_id == id)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            format!("lines[{i}].lineId"),
                            format!("the order has no line {id}"),
                        )
                    })?;
                let line = &order.lines[idx];
                if *q > line.quantity {
                    return Err(ApiError::invalid(
                        format!("lines[{i}].quantity"),
                        format!("line {id} has only {} units", line.quantity),
                    ));
                }
                if *q > cancellable(line) {
                    return Err(refusal(line, *q));
                }
                wanted.push((idx, *q));
            }
            wanted
        }
        None => {
            let all: Vec<(usize, u32)> = order
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| (i, cancellable(l)))
                .filter(|(_, q)| *q > 0)
                .collect();
            if all.is_empty() {
                let shipped = order
                    .lines
                    .iter()
                    .any(|l| l.quantities.shipped + l.quantities.returned > 0);
                return Err(if shipped {
                    ApiError::conflict(
                        ErrorCode::AlreadyShipped,
                        "every unit not cancelled yet has been shipped",
                    )
                } else {
                    ApiError::conflict(
                        ErrorCode::AlreadyCancelled,
                        "the order is cancelled already",
                    )
                });
            }
            all
        }
    };

    let mut order = order.clone();
    let mut changed: BTreeMap<String, DeliveryOrder> = BTreeMap::new();
    let mut releases: BTreeMap<(FulfillerId, Sku), u32> = BTreeMap::new();
    let mut cancelled = Vec::with_capacity(wanted.len());
    // Delivery orders the fulfiller has not accepted yet give up their units first.
    let mut candidates: Vec<&DeliveryOrder> = deliveries.iter().filter(|d| d.is_active()).collect();
    candidates.sort_by_key(|d| {
        (
            d.status != DeliveryStatus::Open,
            std::cmp::Reverse(d.created_key.clone()),
        )
    });
    for (idx, q) in wanted {
        let line = &mut order.lines[idx];
        let from_backorder = q.min(line.quantities.backordered);
        line.quantities.backordered -= from_backorder;
        let mut from_open = q - from_backorder;
        // Open units on no active delivery order (a rejected one's, waiting for the next round)
        // go next: nothing to take back from a fulfiller.
        let on_active: u32 = candidates
            .iter()
            .flat_map(|d| d.lines.iter().filter(|dl| dl.line_id == line.line_id))
            .map(|dl| dl.open())
            .sum();
        let unassigned = line.quantities.open.saturating_sub(on_active);
        line.quantities.open -= from_open;
        from_open -= from_open.min(unassigned);
        line.quantities.cancelled += q;
        line.cancelled_by_customer += q;
        cancelled.push(LineQuantity {
            line_id: line.line_id.clone(),
            quantity: q,
        });
        for d in &candidates {
            if from_open == 0 {
                break;
            }
            let entry = changed.entry(d.id.clone()).or_insert_with(|| (*d).clone());
            if let Some(dl) = entry.lines.iter_mut().find(|dl| dl.line_id == line.line_id) {
                let take = dl.open().min(from_open);
                if take > 0 {
                    dl.cancelled += take;
                    from_open -= take;
                    *releases
                        .entry((entry.fulfiller_id.clone(), dl.sku.clone()))
                        .or_default() += take;
                }
            }
        }
        // Units of an order not routed yet have no delivery order: nothing to release.
    }
    let mut deliveries: Vec<DeliveryOrder> = changed
        .into_values()
        .filter(|d| {
            deliveries
                .iter()
                .any(|o| o.id == d.id && o.lines != d.lines)
        })
        .collect();
    for d in &mut deliveries {
        d.settle_status();
    }
    let routed = order.status != OrderStatus::Accepted;
    order.status = order.derive_status(routed);
    let what = cancelled
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.line_id))
        .collect::<Vec<_>>()
        .join(", ");
    order.record(now, who, format!("cancelled {what}"));
    Ok(CancellationPlan {
        order,
        deliveries,
        releases: releases
            .into_iter()
            .map(|((fulfiller_id, sku), quantity)| StockRelease {
                fulfiller_id,
                sku,
                quantity,
            })
            .collect(),
        cancelled,
    })
}

/// `plan` for a customer (who cancels through its channel): only the units the process
/// settings in force (`cancellation.customerMayCancelUntil`) still let the customer cancel.
/// Without lines, that is every such unit (409 `cancellation_closed` when there is none but
/// some not shipped); with lines, asking for more is 409 `cancellation_closed`. The history
/// entry of the cancellation names the version that decided.
pub fn plan_for_customer(
    order: &Order,
    deliveries: &[DeliveryOrder],
    request: Option<Vec<LineQuantity>>,
    who: &str,
    now: DateTime<Utc>,
    process: &ProcessVersion,
) -> Result<CancellationPlan, ApiError> {
    let until = process.settings.cancellation.customer_may_cancel_until;
    let allowed: Vec<u32> = order
        .lines
        .iter()
        .map(|l| customer_cancellable(order, l, deliveries, until))
        .collect();
    let request = match request {
        Some(lines) => {
            // A request naming a line the order lacks is bad input first: `plan` names it.
            if lines
                .iter()
                .any(|lq| !order.lines.iter().any(|l| l.line_id == lq.line_id))
            {
                return plan(order, deliveries, Some(lines), who, now);
            }
            for lq in &lines {
                let Some(idx) = order.lines.iter().position(|l| l.line_id == lq.line_id) else {
                    continue;
                };
                let q = order.lines[idx].quantities;
                if lq.quantity <= q.open + q.backordered && lq.quantity > allowed[idx] {
                    return Err(closed(&lq.line_id, lq.quantity, allowed[idx], process));
                }
            }
            Some(lines)
        }
        None => {
            let lines: Vec<LineQuantity> = order
                .lines
                .iter()
                .zip(&allowed)
                .filter(|(_, a)| **a > 0)
                .map(|(l, a)| LineQuantity {
                    line_id: l.line_id.clone(),
                    quantity: *a,
                })
                .collect();
            match order
                .lines
                .iter()
                .find(|l| l.quantities.open + l.quantities.backordered > 0)
            {
                Some(l) if lines.is_empty() => {
                    let q = l.quantities;
                    return Err(closed(&l.line_id, q.open + q.backordered, 0, process));
                }
                // Nothing left at all: `plan` says whether it was shipped or cancelled.
                _ if lines.is_empty() => None,
                _ => Some(lines),
            }
        }
    };
    let mut plan = plan(order, deliveries, request, who, now)?;
    if let Some(last) = plan.order.history.last_mut() {
        last.what = process.decided(&last.what);
    }
    Ok(plan)
}

/// The units of `order` still backordered once they waited the process settings'
/// `backorders.maxDays` (`process`: the version in force when the order was placed; waiting is
/// counted from then), as of `now`: what the system cancels, refunds and tells the customer of.
/// None when nothing is due (0 days: wait forever).
pub fn overdue_backorders(
    order: &Order,
    process: &ProcessVersion,
    now: DateTime<Utc>,
) -> Option<Vec<LineQuantity>> {
    let days = process.settings.backorders.max_days;
    if days == 0 || now < order.created_at + chrono::Duration::days(i64::from(days)) {
        return None;
    }
    let lines: Vec<LineQuantity> = order
        .lines
        .iter()
        .filter(|l| l.quantities.backordered > 0)
        .map(|l| LineQuantity::new(l.line_id.clone(), l.quantities.backordered))
        .collect();
    (!lines.is_empty()).then_some(lines)
}

/// Cancels `lines` (each line's overdue backordered units, `overdue_backorders`) as the system:
/// they count as units nobody could deliver, not as the customer's cancellation (so the refund
/// keeps the promotions the order earned, like unroutable units), and the history names the
/// version that decided.
pub fn cancel_overdue(
    order: &Order,
    lines: &[LineQuantity],
    process: &ProcessVersion,
    now: DateTime<Utc>,
) -> Order {
    let mut next = order.clone();
    for lq in lines {
        if let Some(line) = next.lines.iter_mut().find(|l| l.line_id == lq.line_id) {
            let q = lq.quantity.min(line.quantities.backordered);
            line.quantities.backordered -= q;
            line.quantities.cancelled += q;
        }
    }
    let routed = next.status != OrderStatus::Accepted;
    next.status = next.derive_status(routed);
    let what = lines
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.line_id))
        .collect::<Vec<_>>()
        .join(", ");
    let days = process.settings.backorders.max_days;
    next.record(
        now,
        "system:split-router",
        process.decided(format!(
            "cancelled {what}: backordered longer than {days} days"
        )),
    );
    next
}

/// Units of `line` a customer may still cancel under `until`. Backordered units wait for stock
/// with no fulfiller, and open units on no active delivery order (the order not routed yet, or
/// a rejected delivery order's units waiting for the next round) are not routed: neither is
/// past any limit.
fn customer_cancellable(
    order: &Order,
    line: &crate::order::OrderLine,
    deliveries: &[DeliveryOrder],
    until: CancelUntil,
) -> u32 {
    let q = line.quantities;
    let on_delivery_orders = |accepted_too: bool| -> u32 {
        deliveries
            .iter()
            .filter(|d| d.is_active() && (accepted_too || d.status == DeliveryStatus::Open))
            .flat_map(|d| d.lines.iter().filter(|dl| dl.line_id == line.line_id))
            .map(|dl| dl.open())
            .sum()
    };
    let not_routed = if order.status == OrderStatus::Accepted {
        q.open
    } else {
        q.open.saturating_sub(on_delivery_orders(true))
    };
    match until {
        CancelUntil::Shipped => q.open + q.backordered,
        CancelUntil::Accepted => {
            q.backordered + not_routed + on_delivery_orders(false).min(q.open - not_routed)
        }
        CancelUntil::Routed => q.backordered + not_routed,
    }
}

fn closed(line_id: &str, wanted: u32, allowed: u32, process: &ProcessVersion) -> ApiError {
    let until = process.settings.cancellation.customer_may_cancel_until;
    let rule = match until {
        CancelUntil::Shipped => "until it is shipped",
        CancelUntil::Accepted => "until its fulfiller accepted it",
        CancelUntil::Routed => "until it is routed",
    };
    ApiError::conflict(
        ErrorCode::CancellationClosed,
        process.decided(format!(
            "line {line_id}: {wanted} units asked, only {allowed} may still be cancelled: a \
             customer may cancel a unit {rule}"
        )),
    )
}

fn refusal(line: &crate::order::OrderLine, wanted: u32) -> ApiError {
    let q = line.quantities;
    if q.shipped + q.returned > 0 {
        ApiError::conflict(
            ErrorCode::AlreadyShipped,
            format!(
                "line {}: {wanted} units asked, only {} not shipped and not cancelled",
                line.line_id,
                q.open + q.backordered
            ),
        )
    } else {
        ApiError::conflict(
            ErrorCode::AlreadyCancelled,
            format!(
                "line {}: only {} units are left to cancel",
                line.line_id,
                q.open + q.backordered
            ),
        )
    }
}

#[cfg(test)]
mod tests;
