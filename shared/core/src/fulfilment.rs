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
mod tests;
