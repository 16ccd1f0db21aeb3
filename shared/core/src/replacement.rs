//! Free replacements: a wrong or faulty item delivered gets a new delivery order at no charge,
//! to the fulfiller that shipped it or another. A replacement is kept beside the order's own
//! delivery orders (`Order::replacements`), so it never changes what the customer ordered,
//! paid or may return, and no invoice is made for it.

use crate::catalogue::Fulfiller;
use crate::delivery::{DeliveryLine, DeliveryOrder, DeliveryStatus};
use crate::ids::{check_text, FulfillerId};
use crate::input::{self, Fields, Lax, LineUnitsInput, List};
use crate::order::{LineQuantity, Order};
// Kept on the order (`Order::replacements`); reached through `replacement::` as well.
use crate::error::ErrorCode;
pub use crate::order::Replacement;
use crate::ApiError;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

/// `{lines: [{lineId, quantity}], reason, fulfillerId?}`.
pub struct ReplacementRequest {
    pub lines: Vec<LineQuantity>,
    pub reason: String,
    pub fulfiller_id: Option<FulfillerId>,
}

/// The body as serde reads it (`parse_request` checks it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplacementInput {
    #[serde(default)]
    lines: List<Fields<LineUnitsInput>>,
    #[serde(default)]
    reason: Lax<String>,
    fulfiller_id: Option<Lax<String>>,
}

pub fn parse_request(v: &Value) -> Result<ReplacementRequest, ApiError> {
    let Fields(request) = input::read::<Fields<ReplacementInput>>(v)?;
    let lines = request
        .lines
        .0
        .filter(|l| !l.is_empty() && l.len() <= 100)
        .ok_or_else(|| ApiError::invalid("lines", "lines must name 1..100 lines"))?;
    let mut out: Vec<LineQuantity> = Vec::with_capacity(lines.len());
    for (i, Fields(l)) in lines.into_iter().enumerate() {
        let id = input::line_id(i, l.line_id)?;
        let quantity = input::units(i, l.quantity)?;
        if out.iter().any(|o| o.line_id == id) {
            return Err(ApiError::invalid(
                format!("lines[{i}].lineId"),
                "duplicate lineId",
            ));
        }
        out.push(LineQuantity {
            line_id: id,
            quantity,
        });
    }
    let reason = match request.reason.0 {
        Some(r) if !r.trim().is_empty() => {
            check_text("reason", &r, 1000)?;
            r
        }
        _ => return Err(ApiError::required("reason", "reason is required")),
    };
    let fulfiller_id = match request.fulfiller_id {
        None => None,
        Some(Lax(f)) => {
            let f =
                f.ok_or_else(|| ApiError::invalid("fulfillerId", "fulfillerId must be text"))?;
            Some(FulfillerId::parse("fulfillerId", f)?)
        }
    };
    Ok(ReplacementRequest {
        lines: out,
        reason,
        fulfiller_id,
    })
}

/// The fulfiller that shipped the first of these lines (the default for a replacement).
pub fn shipped_by(deliveries: &[DeliveryOrder], line_id: &str) -> Option<FulfillerId> {
    deliveries
        .iter()
        .find(|d| {
            d.lines
                .iter()
                .any(|l| l.line_id == line_id && l.shipped > 0)
        })
        .map(|d| d.fulfiller_id.clone())
}

/// The replacement delivery order and the order that records it. Only shipped units can be
/// replaced (409 `not_shipped` otherwise).
pub fn plan(
    order: &Order,
    request: &ReplacementRequest,
    fulfiller: &Fulfiller,
    who: &str,
    now: DateTime<Utc>,
    process: &crate::process::ProcessVersion,
) -> Result<(DeliveryOrder, Order), ApiError> {
    let mut lines = Vec::with_capacity(request.lines.len());
    for (
        i,
        LineQuantity {
            line_id: id,
            quantity: q,
        },
    ) in request.lines.iter().enumerate()
    {
        let line = order
            .lines
            .iter()
            .find(|l| &l.line_id == id)
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("lines[{i}].lineId"),
                    format!("the order has no line {id}"),
                )
            })?;
        let delivered = line.quantities.shipped + line.quantities.returned;
        if *q > delivered {
            return Err(ApiError::conflict(
                ErrorCode::NotShipped,
                format!("line {id} has {delivered} delivered unit(s); only those can be replaced"),
            )
            .at(format!("lines[{i}].quantity")));
        }
        lines.push(DeliveryLine {
            line_id: id.clone(),
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: *q,
            shipped: 0,
            cancelled: 0,
        });
    }
    // Rounds above 1000 are replacements: the id stays deterministic and apart from routing's.
    let round = 1000 + order.replacements.len() as u32;
    let id = DeliveryOrder::id_for(&order.id, &fulfiller.id, round);
    let delivery = DeliveryOrder {
        id: id.clone(),
        order_id: order.id.clone(),
        fulfiller_id: fulfiller.id.clone(),
        status: DeliveryStatus::Open,
        ship_to: order.shipping_address.clone(),
        lines,
        created_at: now,
        due_at: now + Duration::hours(i64::from(fulfiller.due_hours(&process.settings))),
        created_key: DeliveryOrder::created_key(now, &id),
        documents: vec![],
        carrier: None,
        tracking_number: None,
        version: 0,
        shipments: vec![],
        stock_shortfall: false,
        rejection_reason: None,
        link_key: None,
    };
    let mut next = order.clone();
    next.replacements.push(Replacement {
        delivery_order_id: id.clone(),
        reason: request.reason.clone(),
        at: now,
        by: who.to_string(),
    });
    next.record(
        now,
        who,
        format!("free replacement {id}: {}", request.reason),
    );
    Ok((delivery, next))
}

/// True when the delivery order is a free replacement (shipping it changes no order quantity).
pub fn is_replacement(order: &Order, delivery_order_id: &str) -> bool {
    order
        .replacements
        .iter()
        .any(|r| r.delivery_order_id == delivery_order_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::refused;
    use serde_json::json;

    #[test]
    fn a_replacement_request_is_read_and_refused_as_before() {
        let r = parse_request(&json!({"lines": [{"lineId": "L1", "quantity": 2}],
            "reason": "broken", "fulfillerId": "acme"}))
        .unwrap();
        assert_eq!(
            (
                r.lines,
                r.reason.as_str(),
                r.fulfiller_id.as_ref().map(FulfillerId::as_str)
            ),
            (vec![LineQuantity::new("L1", 2)], "broken", Some("acme"))
        );
        let ok_lines = json!([{"lineId": "L1", "quantity": 1}]);
        for (body, field, message) in [
            (
                json!({"reason": "x"}),
                "lines",
                "lines must name 1..100 lines",
            ),
            (
                json!({"lines": [], "reason": "x"}),
                "lines",
                "lines must name 1..100 lines",
            ),
            (
                json!({"lines": [{"lineId": "L1"}], "reason": "x"}),
                "lines[0].quantity",
                "quantity must be an integer 1..999",
            ),
            (
                json!({"lines": [{"lineId": "L1", "quantity": 1}, {"lineId": "L1", "quantity": 1}], "reason": "x"}),
                "lines[1].lineId",
                "duplicate lineId",
            ),
            (
                json!({"lines": ok_lines, "reason": " "}),
                "reason",
                "reason is required",
            ),
            (
                json!({"lines": ok_lines, "reason": 5}),
                "reason",
                "reason is required",
            ),
            (
                json!({"lines": ok_lines, "reason": "x", "fulfillerId": 5}),
                "fulfillerId",
                "fulfillerId must be text",
            ),
            (
                json!({"lines": ok_lines, "reason": "x", "fulfillerId": "a b"}),
                "fulfillerId",
                "fulfillerId must match [A-Za-z0-9._-]{1,64}",
            ),
        ] {
            assert_eq!(
                refused(parse_request(&body)),
                (field.into(), message.into()),
                "{body}"
            );
        }
    }
}
