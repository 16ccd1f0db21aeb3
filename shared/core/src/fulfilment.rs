//! What a fulfiller does with a delivery order: accept it, ship it (in parts), and what that
//! changes on the order. Pure: states in, new states out, or the reason it cannot happen.

use crate::delivery::{DeliveryLine, DeliveryOrder, DeliveryStatus};
use crate::error::ErrorCode;
use crate::ids::check_text;
use crate::input::{self, Fields, Lax, LineUnitsInput, List};
use crate::order::{Order, Supply};
use crate::stock::SkuUnits;
use crate::ApiError;

// Shipments are kept on the delivery order; reached through `fulfilment::` as well.
pub use crate::delivery::{Shipment, ShipmentLine};
// Deciding a supply's rate changes only the order; reached through `fulfilment::` as well.
pub use crate::order::{set_supply_rates, without_supply_rates};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

fn state_error(d: &DeliveryOrder, action: &str) -> ApiError {
    let status = serde_json::to_value(d.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    ApiError::conflict(
        ErrorCode::InvalidState,
        format!("delivery order {} is {status}; it cannot be {action}", d.id),
    )
}

/// Accepting: open -> accepted; accepting twice is harmless.
pub fn accept(d: &DeliveryOrder) -> Result<Option<DeliveryOrder>, ApiError> {
    match d.status {
        DeliveryStatus::Open => {
            let mut next = d.clone();
            next.status = DeliveryStatus::Accepted;
            Ok(Some(next))
        }
        DeliveryStatus::Accepted | DeliveryStatus::PartiallyShipped | DeliveryStatus::Shipped => {
            Ok(None)
        }
        DeliveryStatus::Rejected | DeliveryStatus::Cancelled => Err(state_error(d, "accepted")),
    }
}

/// What a shipment or rejection changes.
pub struct Shipped {
    pub delivery: DeliveryOrder,
    pub order: Order,
    /// Units per sku that leave stock (shipped) or go back to free (rejected).
    pub units: Vec<SkuUnits>,
}

/// A rejection's body as serde reads it (`reject` checks it).
#[derive(Deserialize)]
struct RejectionInput {
    #[serde(default)]
    reason: Lax<String>,
}

/// Rejecting, with a reason (1..1000 characters), before anything of it shipped: its open units
/// go back to routing without this fulfiller. Returns the delivery order, the order (with the
/// history entry) and the units per sku to release.
pub fn reject(
    d: &DeliveryOrder,
    order: &Order,
    body: &Value,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Shipped, ApiError> {
    let Fields(rejection) = input::read::<Fields<RejectionInput>>(body)?;
    let reason = rejection
        .reason
        .0
        .ok_or_else(|| input::required("reason"))?;
    check_text("reason", &reason, 1000)?;
    if !matches!(d.status, DeliveryStatus::Open | DeliveryStatus::Accepted)
        || d.lines.iter().any(|l| l.shipped > 0)
    {
        return Err(state_error(d, "rejected"));
    }
    let (next, released) = rejected(d, &reason);
    let mut order = order.clone();
    order.record(now, who, format!("rejected {}: {reason}", d.id));
    Ok(Shipped {
        delivery: next,
        order,
        units: released,
    })
}

/// `d` rejected for `reason`, and its open units per sku (its stock goes back to free).
fn rejected(d: &DeliveryOrder, reason: &str) -> (DeliveryOrder, Vec<SkuUnits>) {
    let mut next = d.clone();
    next.status = DeliveryStatus::Rejected;
    next.rejection_reason = Some(reason.to_string());
    let open = d
        .lines
        .iter()
        .filter(|l| l.open() > 0)
        .map(|l| SkuUnits {
            sku: l.sku.clone(),
            units: l.open(),
        })
        .collect();
    (next, open)
}

/// When a delivery order still unanswered (open: neither accepted, rejected nor shipped) is
/// withdrawn from its fulfiller under `process`: `rerouteIfSilentHours` after it was made; never
/// when that is 0.
pub fn silent_deadline(
    d: &DeliveryOrder,
    process: &crate::process::ProcessVersion,
) -> Option<DateTime<Utc>> {
    let hours = process.settings.acceptance.reroute_if_silent_hours;
    (hours > 0).then(|| d.created_at + Duration::hours(i64::from(hours)))
}

/// Withdraws a delivery order its fulfiller has not answered by its deadline (`silent_deadline`
/// under the version in force when it was made): it ends as rejected by the system, so that its
/// open units go back to routing without that fulfiller, and the order's history names the
/// version that decided. None when it was answered meanwhile or is not due at `now`.
pub fn withdraw_silent(
    d: &DeliveryOrder,
    order: &Order,
    process: &crate::process::ProcessVersion,
    now: DateTime<Utc>,
) -> Option<Shipped> {
    let deadline = silent_deadline(d, process)?;
    if d.status != DeliveryStatus::Open || !d.shipments.is_empty() || now < deadline {
        return None;
    }
    let hours = process.settings.acceptance.reroute_if_silent_hours;
    let reason = format!("no answer within {hours} hours: withdrawn and routed again");
    let (next, units) = rejected(d, &reason);
    let mut order = order.clone();
    order.record(
        now,
        "system:split-router",
        process.decided(format!(
            "withdrew {} from {}: {reason}",
            d.id, d.fulfiller_id
        )),
    );
    Some(Shipped {
        delivery: next,
        order,
        units,
    })
}

/// A shipment's body as serde reads it (`parse_shipment` checks it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentInput {
    #[serde(default)]
    carrier: Lax<String>,
    #[serde(default)]
    tracking_number: Lax<String>,
    shipped_at: Option<Lax<String>>,
    lines: Option<List<Fields<LineUnitsInput>>>,
}

/// A shipment request checked against the delivery order.
pub fn parse_shipment(
    v: &Value,
    d: &DeliveryOrder,
    id: String,
    now: DateTime<Utc>,
) -> Result<Shipment, ApiError> {
    if !v.is_object() {
        return Err(ApiError::invalid("body", "the body must be an object"));
    }
    let Fields(request) = input::read::<Fields<ShipmentInput>>(v)?;
    let text = |name: &str, given: Lax<String>| -> Result<String, ApiError> {
        let s = given.0.ok_or_else(|| input::required(name))?;
        check_text(name, &s, 200)?;
        Ok(s)
    };
    let carrier = text("carrier", request.carrier)?;
    let tracking_number = text("trackingNumber", request.tracking_number)?;
    let shipped_at = input::time(
        "shippedAt",
        request.shipped_at,
        "shippedAt must be an RFC 3339 timestamp",
    )?
    .unwrap_or(now);
    // A minute of clock skew is tolerated; a shipment cannot predate its delivery order.
    if shipped_at > now + Duration::minutes(1) {
        return Err(ApiError::invalid(
            "shippedAt",
            "shippedAt lies in the future",
        ));
    }
    if shipped_at < d.created_at - Duration::minutes(1) {
        return Err(ApiError::invalid(
            "shippedAt",
            "shippedAt is before the delivery order was made",
        ));
    }
    let lines = match request.lines {
        None => {
            let all: Vec<ShipmentLine> = d
                .lines
                .iter()
                .filter(|l| l.open() > 0)
                .map(|l| ShipmentLine {
                    line_id: l.line_id.clone(),
                    quantity: l.open(),
                })
                .collect();
            if all.is_empty() {
                return Err(state_error(d, "shipped again"));
            }
            all
        }
        Some(List(raw)) => {
            let raw = raw
                .filter(|a| !a.is_empty())
                .ok_or_else(|| ApiError::invalid("lines", "lines must be a non-empty array"))?;
            let mut out: Vec<ShipmentLine> = Vec::with_capacity(raw.len());
            for (i, Fields(l)) in raw.into_iter().enumerate() {
                let f = |n: &str| format!("lines[{i}].{n}");
                let line_id = input::line_id(i, l.line_id)?;
                let dl = d
                    .lines
                    .iter()
                    .find(|x| x.line_id == line_id)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            f("lineId"),
                            format!("the delivery order has no line {line_id}"),
                        )
                    })?;
                if out.iter().any(|o| o.line_id == line_id) {
                    return Err(ApiError::invalid(
                        f("lineId"),
                        format!("duplicate lineId {line_id}"),
                    ));
                }
                let q = l.quantity.0.filter(|q| *q >= 1).ok_or_else(|| {
                    ApiError::invalid(f("quantity"), "quantity must be a positive integer")
                })?;
                let quantity = u32::try_from(q)
                    .ok()
                    .filter(|q| *q <= dl.open())
                    .ok_or_else(|| {
                        ApiError::invalid(
                            f("quantity"),
                            format!("only {} units of line {line_id} are open", dl.open()),
                        )
                    })?;
                out.push(ShipmentLine { line_id, quantity });
            }
            out
        }
    };
    Ok(Shipment {
        id,
        carrier,
        tracking_number,
        shipped_at,
        lines,
    })
}

/// Applies a shipment to the delivery order and its order.
pub fn ship(
    d: &DeliveryOrder,
    order: &Order,
    shipment: &Shipment,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Shipped, ApiError> {
    if !matches!(
        d.status,
        DeliveryStatus::Open | DeliveryStatus::Accepted | DeliveryStatus::PartiallyShipped
    ) {
        return Err(state_error(d, "shipped"));
    }
    let mut d = d.clone();
    let mut order = order.clone();
    let mut consumed = Vec::with_capacity(shipment.lines.len());
    for s in &shipment.lines {
        let dl = d
            .lines
            .iter_mut()
            .find(|l| l.line_id == s.line_id)
            .ok_or_else(|| ApiError::invalid("lines", format!("no line {}", s.line_id)))?;
        if s.quantity > dl.open() {
            return Err(ApiError::invalid(
                "lines",
                format!("only {} units of line {} are open", dl.open(), s.line_id),
            ));
        }
        dl.shipped += s.quantity;
        consumed.push(SkuUnits {
            sku: dl.sku.clone(),
            units: s.quantity,
        });
        if crate::replacement::is_replacement(&order, &d.id) {
            // A free replacement: the customer's ordered units were delivered already.
            continue;
        }
        let ol = order
            .lines
            .iter_mut()
            .find(|l| l.line_id == s.line_id)
            .ok_or_else(|| ApiError::internal().at(format!("order line {}", s.line_id)))?;
        let q = s.quantity.min(ol.quantities.open);
        ol.quantities.open -= q;
        ol.quantities.shipped += q;
        if q > 0 {
            // The supply date decides these units' VAT; the document generator, which knows
            // the retailer's time zone and rates, sets their rate (`set_supply_rates`).
            ol.supplies.push(Supply {
                shipment_id: shipment.id.clone(),
                delivery_order_id: d.id.clone(),
                shipped_at: shipment.shipped_at,
                units: q,
                rate: None,
            });
        }
    }
    d.settle_status();
    d.carrier = Some(shipment.carrier.clone());
    d.tracking_number = Some(shipment.tracking_number.clone());
    d.shipments.push(shipment.clone());
    order.status = order.derive_status(true);
    let what = shipment
        .lines
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.line_id))
        .collect::<Vec<_>>()
        .join(", ");
    order.record(
        now,
        who,
        format!(
            "shipped {what} ({} {}) from {}",
            shipment.carrier, shipment.tracking_number, d.id
        ),
    );
    Ok(Shipped {
        delivery: d,
        order,
        units: consumed,
    })
}

/// The retailer moves a delivery order to another fulfiller before anything of it shipped.
pub struct Reroute {
    /// The old delivery order, cancelled (its open units taken away).
    pub old: DeliveryOrder,
    /// The new delivery order at the target fulfiller, with the same open units.
    pub new: DeliveryOrder,
    pub order: Order,
    /// Units per sku: released at the old fulfiller, reserved at the new one.
    pub units: Vec<SkuUnits>,
}

pub fn reroute(
    d: &DeliveryOrder,
    order: &Order,
    target: &crate::catalogue::Fulfiller,
    who: &str,
    now: DateTime<Utc>,
    process: &crate::process::ProcessVersion,
) -> Result<Reroute, ApiError> {
    if d.lines.iter().any(|l| l.shipped > 0) {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyShipped,
            format!("{} has shipped units; it cannot be rerouted", d.id),
        ));
    }
    if !matches!(d.status, DeliveryStatus::Open | DeliveryStatus::Accepted) {
        return Err(state_error(d, "rerouted"));
    }
    if target.id == d.fulfiller_id {
        return Err(ApiError::invalid(
            "fulfillerId",
            "the delivery order is with this fulfiller already",
        ));
    }
    let mut order = order.clone();
    let id = DeliveryOrder::id_for(&order.id, &target.id, order.routing_round);
    let mut new = d.clone();
    new.id = id.clone();
    new.fulfiller_id = target.id.clone();
    new.status = DeliveryStatus::Open;
    new.created_at = now;
    new.created_key = DeliveryOrder::created_key(now, &id);
    new.due_at = now + Duration::hours(i64::from(target.due_hours(&process.settings)));
    new.documents = Vec::new();
    // Its own link key comes with its own documents.
    new.link_key = None;
    new.version = 0;
    new.stock_shortfall = false;
    new.lines = d
        .lines
        .iter()
        .filter(|l| l.open() > 0)
        .map(|l| DeliveryLine {
            quantity: l.open(),
            shipped: 0,
            cancelled: 0,
            ..l.clone()
        })
        .collect();
    let units = new.lines.iter().map(DeliveryLine::units).collect();
    let mut old = d.clone();
    for l in &mut old.lines {
        l.cancelled += l.open();
    }
    old.status = DeliveryStatus::Cancelled;
    order.routing_round += 1;
    order.delivery_order_ids.push(id.clone());
    order.record(
        now,
        who,
        process.decided(format!(
            "rerouted {} from {} to {} as {id}",
            d.id, d.fulfiller_id, target.id
        )),
    );
    Ok(Reroute {
        old,
        new,
        order,
        units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Address;
    use crate::delivery::DeliveryLine;
    use crate::input::refused;
    use crate::order::OrderStatus;
    use serde_json::json;

    fn delivery() -> DeliveryOrder {
        let now = Utc::now() - Duration::hours(1);
        DeliveryOrder {
            id: "D1".into(),
            order_id: "o1".try_into().unwrap(),
            fulfiller_id: "acme".try_into().unwrap(),
            status: DeliveryStatus::Open,
            ship_to: Address {
                name: "C".into(),
                street: "S".into(),
                postal_code: "1".into(),
                city: "B".into(),
                country: "DE".try_into().unwrap(),
            },
            lines: vec![DeliveryLine {
                line_id: "L1".into(),
                sku: "A".try_into().unwrap(),
                name: "A".into(),
                quantity: 3,
                shipped: 0,
                cancelled: 0,
            }],
            created_at: now,
            due_at: now,
            created_key: "k".into(),
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

    fn order() -> Order {
        serde_json::from_value(json!({
            "id": "o1", "channelId": "web", "externalId": "E1", "status": "routed", "currency": "EUR",
            "customer": {"email": "c@example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "discounts": [], "shippingCost": "0.00",
            "payments": [], "history": [],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"},
            "lines": [{"lineId": "L1", "sku": "A", "name": "A", "quantity": 3, "unitPrice": "10.00", "gross": "30.00", "discountShare": "0.00",
                 "discountShares": [], "paid": "30.00", "taxClass": "standard", "taxRate": "0.19", "tax": "4.79",
                 "quantities": {"open": 3, "backordered": 0, "shipped": 0, "cancelled": 0, "returned": 0}}]})).unwrap()
    }

    #[test]
    fn partial_then_rest_moves_to_partially_shipped_then_shipped() {
        let now = Utc::now();
        let d = delivery();
        let s1 = parse_shipment(&json!({"carrier": "DHL", "trackingNumber": "1", "lines": [{"lineId": "L1", "quantity": 2}]}), &d, "s1".into(), now).unwrap();
        let Shipped {
            delivery: d,
            order: o,
            units: consumed,
        } = ship(&d, &order(), &s1, "fulfiller:acme", now).unwrap();
        assert_eq!(
            (d.status, o.status),
            (
                DeliveryStatus::PartiallyShipped,
                OrderStatus::PartiallyShipped
            )
        );
        assert_eq!(
            consumed,
            vec![SkuUnits {
                sku: "A".try_into().unwrap(),
                units: 2
            }]
        );
        let s2 = parse_shipment(
            &json!({"carrier": "DHL", "trackingNumber": "2"}),
            &d,
            "s2".into(),
            now,
        )
        .unwrap();
        assert_eq!(s2.lines[0].quantity, 1);
        let Shipped {
            delivery: d,
            order: o,
            ..
        } = ship(&d, &o, &s2, "fulfiller:acme", now).unwrap();
        assert_eq!(
            (d.status, o.status),
            (DeliveryStatus::Shipped, OrderStatus::Shipped)
        );
        assert_eq!(o.lines[0].quantities.shipped, 3);
        assert_eq!(d.shipments.len(), 2);
        let e = parse_shipment(
            &json!({"carrier": "DHL", "trackingNumber": "3"}),
            &d,
            "s3".into(),
            now,
        )
        .unwrap_err();
        assert_eq!(e.status, 409);
    }

    #[test]
    fn shipments_are_checked() {
        let now = Utc::now();
        let d = delivery();
        for (body, field) in [
            (json!({"trackingNumber": "1"}), "carrier"),
            (
                json!({"carrier": "DHL", "trackingNumber": "1", "lines": [{"lineId": "L1", "quantity": 4}]}),
                "lines[0].quantity",
            ),
            (
                json!({"carrier": "DHL", "trackingNumber": "1", "lines": [{"lineId": "L9", "quantity": 1}]}),
                "lines[0].lineId",
            ),
            (
                json!({"carrier": "DHL", "trackingNumber": "1", "shippedAt": "2999-01-01T00:00:00Z"}),
                "shippedAt",
            ),
        ] {
            assert_eq!(
                parse_shipment(&body, &d, "s".into(), now)
                    .unwrap_err()
                    .field
                    .as_deref(),
                Some(field),
                "{body}"
            );
        }
    }

    #[test]
    fn accept_is_idempotent_but_not_after_cancel() {
        let d = delivery();
        let a = accept(&d).unwrap().unwrap();
        assert_eq!(a.status, DeliveryStatus::Accepted);
        assert!(accept(&a).unwrap().is_none());
        let mut c = d;
        c.status = DeliveryStatus::Cancelled;
        assert_eq!(accept(&c).unwrap_err().code.as_str(), "invalid_state");
    }

    #[test]
    fn a_shipment_and_a_rejection_are_refused_as_before() {
        let d = delivery();
        let now = Utc::now();
        let s = parse_shipment(
            &json!({"carrier": "DHL", "trackingNumber": "T1",
            "lines": [{"lineId": "L1", "quantity": 1}]}),
            &d,
            "s1".into(),
            now,
        )
        .unwrap();
        assert_eq!(
            (s.carrier.as_str(), s.tracking_number.as_str(), s.shipped_at),
            ("DHL", "T1", now)
        );
        assert_eq!(
            s.lines,
            [ShipmentLine {
                line_id: "L1".into(),
                quantity: 1
            }]
        );
        let ship = |more: Value| {
            let mut body = json!({"carrier": "DHL", "trackingNumber": "T1"});
            body.as_object_mut()
                .unwrap()
                .extend(more.as_object().unwrap().clone());
            parse_shipment(&body, &d, "s1".into(), now)
        };
        for (more, field, message) in [
            (json!({"carrier": null}), "carrier", "carrier is required"),
            (
                json!({"trackingNumber": 7}),
                "trackingNumber",
                "trackingNumber is required",
            ),
            (
                json!({"carrier": " "}),
                "carrier",
                "carrier must not be empty",
            ),
            (
                json!({"shippedAt": 5}),
                "shippedAt",
                "shippedAt must be an RFC 3339 timestamp",
            ),
            (
                json!({"shippedAt": "2999-01-01T00:00:00Z"}),
                "shippedAt",
                "shippedAt lies in the future",
            ),
            (
                json!({"lines": []}),
                "lines",
                "lines must be a non-empty array",
            ),
            (
                json!({"lines": "L1"}),
                "lines",
                "lines must be a non-empty array",
            ),
            (
                json!({"lines": [{"quantity": 1}]}),
                "lines[0].lineId",
                "lineId is required",
            ),
            (
                json!({"lines": [{"lineId": "L9", "quantity": 1}]}),
                "lines[0].lineId",
                "the delivery order has no line L9",
            ),
            (
                json!({"lines": [{"lineId": "L1", "quantity": 0}]}),
                "lines[0].quantity",
                "quantity must be a positive integer",
            ),
            (
                json!({"lines": [{"lineId": "L1", "quantity": 5000000000u64}]}),
                "lines[0].quantity",
                "only 3 units of line L1 are open",
            ),
        ] {
            assert_eq!(
                refused(ship(more.clone())),
                (field.into(), message.into()),
                "{more}"
            );
        }
        let e = parse_shipment(&json!([]), &d, "s1".into(), now).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("body"), "the body must be an object")
        );
        let o = order();
        for (body, field, message) in [
            (json!({}), "reason", "reason is required"),
            (json!("no stock"), "reason", "reason is required"),
            (json!({"reason": ""}), "reason", "reason must not be empty"),
        ] {
            assert_eq!(
                refused(reject(&d, &o, &body, "w", now)),
                (field.into(), message.into()),
                "{body}"
            );
        }
        let r = reject(&d, &o, &json!({"reason": "no stock"}), "w", now).unwrap();
        assert_eq!(r.delivery.rejection_reason.as_deref(), Some("no stock"));
    }

    fn silent_after(hours: u32, version: u32) -> crate::process::ProcessVersion {
        let mut p = crate::process::ProcessVersion {
            version,
            ..Default::default()
        };
        p.settings.acceptance.reroute_if_silent_hours = hours;
        p
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// Made at 10:00; L1 has 2 of 3 units open (1 cancelled), L2 none (cancelled).
    fn made_at_ten() -> DeliveryOrder {
        let mut d = delivery();
        d.created_at = t("2026-11-27T10:00:00Z");
        d.lines[0].cancelled = 1;
        d.lines.push(DeliveryLine {
            line_id: "L2".into(),
            sku: "B".try_into().unwrap(),
            name: "B".into(),
            quantity: 1,
            shipped: 0,
            cancelled: 1,
        });
        d
    }

    #[test]
    fn zero_hours_never_withdraws() {
        let d = made_at_ten();
        let p = silent_after(0, 2);
        assert_eq!(silent_deadline(&d, &p), None);
        assert!(withdraw_silent(&d, &order(), &p, t("2999-01-01T00:00:00Z")).is_none());
    }

    #[test]
    fn the_deadline_is_the_hours_after_the_delivery_order_was_made() {
        let p = silent_after(24, 2);
        assert_eq!(
            silent_deadline(&made_at_ten(), &p),
            Some(t("2026-11-28T10:00:00Z"))
        );
    }

    #[test]
    fn an_open_delivery_order_is_not_withdrawn_before_its_deadline() {
        let just_before = t("2026-11-28T09:59:59Z");
        assert!(
            withdraw_silent(&made_at_ten(), &order(), &silent_after(24, 2), just_before).is_none()
        );
    }

    #[test]
    fn at_its_deadline_an_open_delivery_order_is_withdrawn_and_its_open_units_released() {
        let d = made_at_ten();
        let o = order();
        for now in [t("2026-11-28T10:00:00Z"), t("2026-12-05T00:00:00Z")] {
            let w = withdraw_silent(&d, &o, &silent_after(24, 5), now).unwrap();
            assert_eq!(w.delivery.status, DeliveryStatus::Rejected);
            let reason = w.delivery.rejection_reason.as_deref().unwrap();
            assert!(reason.contains("24 hours"), "{reason}");
            assert_eq!(
                w.units,
                vec![SkuUnits {
                    sku: "A".try_into().unwrap(),
                    units: 2
                }]
            );
            assert_eq!(w.order.history.len(), o.history.len() + 1);
            let last = w.order.history.last().unwrap();
            assert_eq!((last.at, last.who.as_str()), (now, "system:split-router"));
            assert!(last.what.ends_with("(process version 5)"), "{}", last.what);
            assert!(
                last.what.contains("D1") && last.what.contains("acme"),
                "{}",
                last.what
            );
            // Only the status and the reason change on the delivery order.
            let mut expected = d.clone();
            expected.status = DeliveryStatus::Rejected;
            expected.rejection_reason = Some(reason.to_string());
            assert_eq!(w.delivery, expected);
        }
    }

    #[test]
    fn a_delivery_order_answered_meanwhile_is_not_withdrawn() {
        let now = t("2026-12-05T00:00:00Z");
        let p = silent_after(24, 2);
        let mut accepted = made_at_ten();
        accepted.status = DeliveryStatus::Accepted;
        let mut rejected = made_at_ten();
        rejected.status = DeliveryStatus::Rejected;
        rejected.rejection_reason = Some("no stock".into());
        let mut with_shipment = made_at_ten();
        with_shipment.lines[0].shipped = 1;
        with_shipment.shipments.push(Shipment {
            id: "s1".into(),
            carrier: "DHL".into(),
            tracking_number: "T1".into(),
            shipped_at: now,
            lines: vec![ShipmentLine {
                line_id: "L1".into(),
                quantity: 1,
            }],
        });
        let mut partly = with_shipment.clone();
        partly.status = DeliveryStatus::PartiallyShipped;
        let mut cancelled = made_at_ten();
        cancelled.status = DeliveryStatus::Cancelled;
        for d in [accepted, rejected, with_shipment, partly, cancelled] {
            assert!(
                withdraw_silent(&d, &order(), &p, now).is_none(),
                "{:?}",
                d.status
            );
        }
    }
}
