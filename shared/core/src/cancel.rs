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
mod tests {
    use super::*;
    use crate::catalogue::Address;
    use crate::delivery::DeliveryLine;
    use crate::input::refused;
    use serde_json::json;

    fn order() -> Order {
        serde_json::from_value(json!({
            "id": "o1", "channelId": "web", "externalId": "E1", "status": "routed", "currency": "EUR",
            "customer": {"email": "c@example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "discounts": [], "shippingCost": "0.00",
            "payments": [], "history": [],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"},
            "lines": [
                {"lineId": "L1", "sku": "A", "name": "A", "quantity": 3, "unitPrice": "10.00", "gross": "30.00", "discountShare": "0.00",
                 "discountShares": [], "paid": "30.00", "taxClass": "standard", "taxRate": "0.19", "tax": "4.79",
                 "quantities": {"open": 2, "backordered": 1, "shipped": 0, "cancelled": 0, "returned": 0}},
                {"lineId": "L2", "sku": "B", "name": "B", "quantity": 1, "unitPrice": "5.00", "gross": "5.00", "discountShare": "0.00",
                 "discountShares": [], "paid": "5.00", "taxClass": "standard", "taxRate": "0.19", "tax": "0.80",
                 "quantities": {"open": 0, "backordered": 0, "shipped": 1, "cancelled": 0, "returned": 0}}
            ]})).unwrap()
    }

    fn delivery(
        id: &str,
        fulfiller: &str,
        status: DeliveryStatus,
        line: &str,
        sku: &str,
        q: u32,
        shipped: u32,
    ) -> DeliveryOrder {
        let now = Utc::now();
        DeliveryOrder {
            id: id.into(),
            order_id: "o1".try_into().unwrap(),
            fulfiller_id: fulfiller.try_into().unwrap(),
            status,
            ship_to: Address {
                name: "C".into(),
                street: "S".into(),
                postal_code: "1".into(),
                city: "B".into(),
                country: "DE".try_into().unwrap(),
            },
            lines: vec![DeliveryLine {
                line_id: line.into(),
                sku: sku.try_into().unwrap(),
                name: sku.into(),
                quantity: q,
                shipped,
                cancelled: 0,
            }],
            created_at: now,
            due_at: now,
            created_key: format!("k-{id}"),
            documents: vec![],
            carrier: None,
            tracking_number: None,
            version: 0,
            shipments: vec![],
            rejection_reason: None,
            link_key: None,
            stock_shortfall: false,
        }
    }

    #[test]
    fn backordered_units_go_first_then_unaccepted_delivery_orders() {
        let dos = [
            delivery("D1", "acme", DeliveryStatus::Accepted, "L1", "A", 1, 0),
            delivery("D2", "nord", DeliveryStatus::Open, "L1", "A", 1, 0),
            delivery("D3", "wh", DeliveryStatus::Shipped, "L2", "B", 1, 1),
        ];
        let p = plan(
            &order(),
            &dos,
            Some(vec![LineQuantity::new("L1", 2)]),
            "channel:web",
            Utc::now(),
        )
        .unwrap();
        let l1 = &p.order.lines[0];
        assert_eq!(
            (
                l1.quantities.backordered,
                l1.quantities.open,
                l1.quantities.cancelled
            ),
            (0, 1, 2)
        );
        assert_eq!(p.deliveries.len(), 1);
        assert_eq!(
            (p.deliveries[0].id.as_str(), p.deliveries[0].status),
            ("D2", DeliveryStatus::Cancelled)
        );
        assert_eq!(
            p.releases,
            vec![StockRelease {
                fulfiller_id: "nord".try_into().unwrap(),
                sku: "A".try_into().unwrap(),
                quantity: 1
            }]
        );
        assert_eq!(p.order.status, OrderStatus::PartiallyShipped);
        assert!(p.order.history.last().unwrap().what.contains("2 x L1"));
    }

    #[test]
    fn shipped_units_cannot_be_cancelled() {
        let e = plan(
            &order(),
            &[],
            Some(vec![LineQuantity::new("L2", 1)]),
            "c",
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (409, "already_shipped"));
        let e = plan(
            &order(),
            &[],
            Some(vec![LineQuantity::new("L9", 1)]),
            "c",
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (422, Some("lines[0].lineId"))
        );
    }

    #[test]
    fn cancel_all_takes_everything_not_shipped() {
        let p = plan(&order(), &[], None, "c", Utc::now()).unwrap();
        assert_eq!(p.cancelled, vec![LineQuantity::new("L1", 3)]);
        // order-api logs the plan's `cancelled` with `?`: it reads as the pairs it used to be.
        assert_eq!(format!("{:?}", p.cancelled), r#"[("L1", 3)]"#);
        assert_eq!(p.order.lines[0].cancelled_by_customer, 3);
        assert_eq!(p.order.status, OrderStatus::Shipped);
        let again = plan(&p.order, &[], None, "c", Utc::now()).unwrap_err();
        assert_eq!(again.code.as_str(), "already_shipped");
    }

    #[test]
    fn requests_are_checked() {
        assert_eq!(parse_request(None).unwrap(), None);
        assert_eq!(parse_request(Some(&json!({}))).unwrap(), None);
        assert_eq!(
            parse_request(Some(&json!({"lines": [{"lineId": "L1", "quantity": 2}]}))).unwrap(),
            Some(vec![LineQuantity::new("L1", 2)])
        );
        for (body, field) in [
            (json!({"lines": []}), "lines"),
            (
                json!({"lines": [{"lineId": "L1", "quantity": 0}]}),
                "lines[0].quantity",
            ),
            (
                json!({"lines": [{"lineId": "L1", "quantity": 1}, {"lineId": "L1", "quantity": 1}]}),
                "lines[1].lineId",
            ),
        ] {
            assert_eq!(
                parse_request(Some(&body)).unwrap_err().field.as_deref(),
                Some(field)
            );
        }
    }

    #[test]
    fn a_cancellation_is_refused_as_before() {
        let line = |l: Value| json!({"lines": [{"lineId": "L0", "quantity": 1}, l]});
        for (body, field, message) in [
            (json!("x"), "body", "the body must be an object"),
            (json!({"lines": {}}), "lines", "lines must be an array"),
            (
                json!({"lines": []}),
                "lines",
                "lines must not be empty; omit it to cancel everything",
            ),
            (line(json!(7)), "lines[1].lineId", "lineId is required"),
            (
                line(json!({"lineId": "L0", "quantity": 1})),
                "lines[1].lineId",
                "duplicate lineId L0",
            ),
            (
                line(json!({"lineId": "L1", "quantity": 1000})),
                "lines[1].quantity",
                "quantity must be an integer 1..999",
            ),
        ] {
            assert_eq!(
                refused(parse_request(Some(&body))),
                (field.into(), message.into()),
                "{body}"
            );
        }
        // A null list cancels everything, as a missing one does.
        assert_eq!(parse_request(Some(&json!({"lines": null}))).unwrap(), None);
    }

    fn process(version: u32, until: CancelUntil) -> ProcessVersion {
        let mut p = ProcessVersion {
            version,
            ..ProcessVersion::default()
        };
        p.settings.cancellation.customer_may_cancel_until = until;
        p
    }

    const EVERY_SETTING: [CancelUntil; 3] = [
        CancelUntil::Shipped,
        CancelUntil::Accepted,
        CancelUntil::Routed,
    ];

    /// L1 (3 units, 1 backordered): 1 on an accepted delivery order, 1 on an open one.
    fn accepted_and_open() -> [DeliveryOrder; 3] {
        [
            delivery("D1", "acme", DeliveryStatus::Accepted, "L1", "A", 1, 0),
            delivery("D2", "nord", DeliveryStatus::Open, "L1", "A", 1, 0),
            delivery("D3", "wh", DeliveryStatus::Shipped, "L2", "B", 1, 1),
        ]
    }

    fn closed_code(e: &ApiError) -> (u16, &str) {
        (e.status, e.code.as_str())
    }

    #[test]
    fn until_shipped_a_customer_cancels_what_plan_cancels_and_the_version_is_recorded() {
        let now = Utc::now();
        let dos = accepted_and_open();
        for request in [None, Some(vec![LineQuantity::new("L1", 3)])] {
            let mut expected = plan(&order(), &dos, request.clone(), "channel:web", now).unwrap();
            let got = plan_for_customer(
                &order(),
                &dos,
                request,
                "channel:web",
                now,
                &process(7, CancelUntil::Shipped),
            )
            .unwrap();
            let last = got.order.history.last().unwrap();
            assert_eq!(last.what, "cancelled 3 x L1 (process version 7)");
            expected.order.history.last_mut().unwrap().what += " (process version 7)";
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn until_accepted_cancelling_everything_leaves_the_units_a_fulfiller_accepted() {
        let p = plan_for_customer(
            &order(),
            &accepted_and_open(),
            None,
            "channel:web",
            Utc::now(),
            &process(3, CancelUntil::Accepted),
        )
        .unwrap();
        // The backordered unit and the one on the open D2; D1's stays.
        assert_eq!(p.cancelled, vec![LineQuantity::new("L1", 2)]);
        let q = p.order.lines[0].quantities;
        assert_eq!((q.backordered, q.open, q.cancelled), (0, 1, 2));
        assert_eq!(p.deliveries.len(), 1);
        assert_eq!(
            (p.deliveries[0].id.as_str(), p.deliveries[0].status),
            ("D2", DeliveryStatus::Cancelled)
        );
        assert_eq!(
            p.releases,
            vec![StockRelease {
                fulfiller_id: "nord".try_into().unwrap(),
                sku: "A".try_into().unwrap(),
                quantity: 1
            }]
        );
        assert_eq!(
            p.order.history.last().unwrap().what,
            "cancelled 2 x L1 (process version 3)"
        );
    }

    #[test]
    fn until_accepted_asking_for_units_a_fulfiller_accepted_is_closed() {
        let dos = accepted_and_open();
        let ask = |q| {
            plan_for_customer(
                &order(),
                &dos,
                Some(vec![LineQuantity::new("L1", q)]),
                "channel:web",
                Utc::now(),
                &process(3, CancelUntil::Accepted),
            )
        };
        let e = ask(3).unwrap_err();
        assert_eq!(closed_code(&e), (409, "cancellation_closed"));
        assert_eq!(e.code, ErrorCode::CancellationClosed);
        assert_eq!(
            e.message,
            "line L1: 3 units asked, only 2 may still be cancelled: a customer may cancel a unit \
             until its fulfiller accepted it (process version 3)"
        );
        // What the open delivery order and the backorder hold may still go.
        assert_eq!(ask(2).unwrap().cancelled, vec![LineQuantity::new("L1", 2)]);
    }

    #[test]
    fn until_routed_a_routed_order_is_closed_but_backordered_units_may_go() {
        let mut routed = order();
        routed.lines[0].quantities.backordered = 0;
        routed.lines[0].quantities.open = 3;
        let dos = [
            delivery("D1", "acme", DeliveryStatus::Accepted, "L1", "A", 2, 0),
            delivery("D2", "nord", DeliveryStatus::Open, "L1", "A", 1, 0),
        ];
        let until_routed = process(4, CancelUntil::Routed);
        let e = plan_for_customer(&routed, &dos, None, "c", Utc::now(), &until_routed).unwrap_err();
        assert_eq!(closed_code(&e), (409, "cancellation_closed"));
        assert_eq!(
            e.message,
            "line L1: 3 units asked, only 0 may still be cancelled: a customer may cancel a unit \
             until it is routed (process version 4)"
        );

        // `order()` has one unit of L1 backordered: that one, and only that one.
        let dos = accepted_and_open();
        let p = plan_for_customer(&order(), &dos, None, "c", Utc::now(), &until_routed).unwrap();
        assert_eq!(p.cancelled, vec![LineQuantity::new("L1", 1)]);
        let q = p.order.lines[0].quantities;
        assert_eq!((q.backordered, q.open, q.cancelled), (0, 2, 1));
        assert!(p.deliveries.is_empty() && p.releases.is_empty());
        let e = plan_for_customer(
            &order(),
            &dos,
            Some(vec![LineQuantity::new("L1", 2)]),
            "c",
            Utc::now(),
            &until_routed,
        )
        .unwrap_err();
        assert_eq!(closed_code(&e), (409, "cancellation_closed"));
    }

    #[test]
    fn an_order_not_routed_yet_may_be_cancelled_whole_under_every_setting() {
        let mut accepted = order();
        accepted.status = OrderStatus::Accepted;
        accepted.lines[0].quantities.open = 3;
        accepted.lines[0].quantities.backordered = 0;
        accepted.lines[1].quantities.open = 1;
        accepted.lines[1].quantities.shipped = 0;
        for until in EVERY_SETTING {
            let p = plan_for_customer(&accepted, &[], None, "c", Utc::now(), &process(1, until))
                .unwrap();
            assert_eq!(
                p.cancelled,
                vec![LineQuantity::new("L1", 3), LineQuantity::new("L2", 1)],
                "{until:?}"
            );
            assert_eq!(p.order.status, OrderStatus::Cancelled, "{until:?}");
            assert!(p.deliveries.is_empty() && p.releases.is_empty());
        }
    }

    #[test]
    fn shipped_units_and_unknown_lines_are_refused_as_plan_refuses_them() {
        let mut shipped = order();
        shipped.lines[0].quantities.open = 0;
        shipped.lines[0].quantities.backordered = 0;
        shipped.lines[0].quantities.shipped = 3;
        shipped.status = OrderStatus::Shipped;
        for until in EVERY_SETTING {
            let p = process(2, until);
            let e = plan_for_customer(&shipped, &[], None, "c", Utc::now(), &p).unwrap_err();
            assert_eq!(closed_code(&e), (409, "already_shipped"), "{until:?}");
            let e = plan_for_customer(
                &order(),
                &accepted_and_open(),
                Some(vec![LineQuantity::new("L2", 1)]),
                "c",
                Utc::now(),
                &p,
            )
            .unwrap_err();
            assert_eq!(closed_code(&e), (409, "already_shipped"), "{until:?}");
            let e = plan_for_customer(
                &order(),
                &accepted_and_open(),
                Some(vec![LineQuantity::new("L9", 1)]),
                "c",
                Utc::now(),
                &p,
            )
            .unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (422, Some("lines[0].lineId")),
                "{until:?}"
            );
        }
    }

    #[test]
    fn units_of_a_rejected_delivery_order_are_not_routed_and_may_be_cancelled() {
        // L1's two open units were on D1, which its fulfiller rejected: they wait for the next
        // round, with no fulfiller, so no limit has passed for them.
        let rejected = [delivery(
            "D1",
            "acme",
            DeliveryStatus::Rejected,
            "L1",
            "A",
            2,
            0,
        )];
        for until in EVERY_SETTING {
            let p = plan_for_customer(
                &order(),
                &rejected,
                None,
                "channel:web",
                Utc::now(),
                &process(2, until),
            )
            .unwrap();
            assert_eq!(p.cancelled, vec![LineQuantity::new("L1", 3)], "{until:?}");
        }
    }

    fn backorders_wait(days: u32) -> ProcessVersion {
        let mut p = ProcessVersion::default();
        p.settings.backorders.max_days = days;
        p
    }

    fn lines(due: Option<Vec<LineQuantity>>) -> Option<Vec<(String, u32)>> {
        due.map(|ls| ls.into_iter().map(|l| (l.line_id, l.quantity)).collect())
    }

    #[test]
    fn zero_days_waits_for_backorders_forever() {
        let o = order();
        let long_after = o.created_at + chrono::Duration::days(3650);
        assert!(overdue_backorders(&o, &backorders_wait(0), long_after).is_none());
    }

    #[test]
    fn backorders_are_overdue_from_max_days_after_the_order_was_placed() {
        let mut o = order();
        o.created_at = "2026-11-27T10:00:00Z".parse().unwrap();
        let p = backorders_wait(7);
        let due = o.created_at + chrono::Duration::days(7);
        let before = due - chrono::Duration::seconds(1);
        assert!(overdue_backorders(&o, &p, before).is_none());
        for now in [due, due + chrono::Duration::days(1)] {
            assert_eq!(
                lines(overdue_backorders(&o, &p, now)),
                Some(vec![("L1".to_string(), 1)]),
                "{now}"
            );
        }
    }

    #[test]
    fn an_order_with_nothing_backordered_has_nothing_overdue() {
        let mut o = order();
        o.lines[0].quantities.backordered = 0;
        o.lines[0].quantities.open = 3;
        let long_after = o.created_at + chrono::Duration::days(30);
        assert!(overdue_backorders(&o, &backorders_wait(7), long_after).is_none());
    }

    #[test]
    fn open_units_on_no_delivery_order_are_cancelled_before_a_fulfillers() {
        // L1: 2 open, 1 backordered. D1 (rejected) gave 1 unit back; D2 still holds the other.
        let deliveries = [
            delivery("D1", "acme", DeliveryStatus::Rejected, "L1", "A", 1, 0),
            delivery("D2", "nord", DeliveryStatus::Open, "L1", "A", 1, 0),
        ];
        let p = plan(
            &order(),
            &deliveries,
            Some(vec![LineQuantity::new("L1", 2)]),
            "channel:web",
            Utc::now(),
        )
        .unwrap();
        assert!(
            p.deliveries.is_empty(),
            "nord keeps its unit: {:?}",
            p.deliveries
        );
        assert!(p.releases.is_empty());
        assert_eq!(p.order.lines[0].quantities.open, 1);
        // The next routing round finds nothing of L1 pending: D2 holds the one left.
        assert_eq!(crate::split::pending_units(&p.order, &deliveries)[0], 0);
    }

    #[test]
    fn a_unit_cancelled_from_a_delivery_order_is_not_pending_again() {
        // L1 of 3: 1 backordered, 2 on D1, of which the customer cancelled 1.
        let mut d1 = delivery("D1", "acme", DeliveryStatus::Open, "L1", "A", 2, 0);
        let p = plan(
            &order(),
            std::slice::from_ref(&d1),
            Some(vec![LineQuantity::new("L1", 2)]),
            "channel:web",
            Utc::now(),
        )
        .unwrap();
        d1 = p.deliveries[0].clone();
        assert_eq!(d1.lines[0].cancelled, 1);
        assert_eq!(crate::split::pending_units(&p.order, &[d1])[0], 0);
    }

    #[test]
    fn overdue_backorders_are_cancelled_by_the_system_not_the_customer() {
        let mut v = process(4, CancelUntil::Shipped);
        v.settings.backorders.max_days = 7;
        let before = order();
        let next = cancel_overdue(&before, &[LineQuantity::new("L1", 1)], &v, Utc::now());
        let q = next.lines[0].quantities;
        assert_eq!(
            (q.backordered, q.cancelled),
            (0, before.lines[0].quantities.cancelled + 1)
        );
        assert_eq!(
            next.lines[0].cancelled_by_customer, before.lines[0].cancelled_by_customer,
            "the customer cancelled nothing"
        );
        let last = &next.history.last().unwrap().what;
        assert!(
            last.contains("backordered longer than 7 days")
                && last.ends_with("(process version 4)"),
            "{last}"
        );
    }
}
