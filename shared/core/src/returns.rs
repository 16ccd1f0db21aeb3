//! Returns: the customer sends shipped units back to whoever shipped them. A return is stored
//! as one part per fulfiller involved; each fulfiller sees and receives only its own part, and
//! the customer's view joins the parts without naming anyone. Pure: states in, new states out.

use crate::delivery::{DeliveryOrder, DocumentRef};
use crate::error::ErrorCode;
use crate::ids::{check_text, ChannelId, Sku};
use crate::input::{self, Fields, Lax, List};
use crate::order::Order;
use crate::ApiError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Authorized,
    Received,
    Refunded,
    Rejected,
}

impl ReturnStatus {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::Received => "received",
            Self::Refunded => "refunded",
            Self::Rejected => "rejected",
        }
    }
}

/// What arrived of a return line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arrived {
    pub resellable: u32,
    pub damaged: u32,
}

impl Arrived {
    pub fn total(&self) -> u32 {
        self.resellable + self.damaged
    }
}

/// Units of one order line that the customer sends back to one delivery order's fulfiller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLine {
    pub line_id: String,
    pub sku: Sku,
    pub name: String,
    pub delivery_order_id: String,
    /// Authorized units.
    pub quantity: u32,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived: Option<Arrived>,
}

/// The part of a return that one fulfiller receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnPart {
    pub return_id: String,
    pub order_id: String,
    pub channel_id: ChannelId,
    pub fulfiller_id: String,
    pub status: ReturnStatus,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<ReturnLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<DocumentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
    /// The refund the receipt led to (none when nothing was due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(default)]
    pub version: u64,
}

impl ReturnPart {
    /// The sort key for "oldest first" lists.
    pub fn created_key(&self) -> String {
        format!(
            "{}#{}",
            self.created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            self.return_id
        )
    }
}

/// A return's status across its parts: the least advanced part's (a return is refunded only when
/// every fulfiller received its part and it was settled).
pub fn overall_status(parts: &[ReturnPart]) -> ReturnStatus {
    let live: Vec<ReturnStatus> = parts
        .iter()
        .map(|p| p.status)
        .filter(|s| *s != ReturnStatus::Rejected)
        .collect();
    live.into_iter().min().unwrap_or(ReturnStatus::Rejected)
}

/// The customer's (channel's) view of a return: no fulfiller, no delivery order.
pub fn channel_view(parts: &[ReturnPart]) -> Value {
    let Some(first) = parts.first() else {
        return Value::Null;
    };
    let mut lines: BTreeMap<String, (u32, u32, String)> = BTreeMap::new();
    for l in parts.iter().flat_map(|p| &p.lines) {
        let e = lines
            .entry(l.line_id.clone())
            .or_insert((0, 0, l.reason.clone()));
        e.0 += l.quantity;
        e.1 += l.arrived.map(|a| a.total()).unwrap_or(0);
    }
    json!({
        "id": first.return_id,
        "returnId": first.return_id,
        "status": overall_status(parts),
        "createdAt": first.created_at,
        "lines": lines.iter().map(|(id, (q, r, reason))| json!({
            "lineId": id, "quantity": q, "received": r, "reason": reason
        })).collect::<Vec<_>>(),
        "refundIds": parts.iter().filter_map(|p| p.refund_id.clone()).collect::<Vec<_>>(),
    })
}

/// A fulfiller's view of its part of a return (the customer's address is where it comes from).
pub fn fulfiller_view(part: &ReturnPart) -> Value {
    json!({
        "id": part.return_id,
        "returnId": part.return_id,
        "orderId": part.order_id,
        "status": part.status,
        "createdAt": part.created_at,
        "receivedAt": part.received_at,
        "lines": part.lines.iter().map(|l| json!({
            "lineId": l.line_id, "sku": l.sku, "name": l.name, "quantity": l.quantity,
            "reason": l.reason, "deliveryOrderId": l.delivery_order_id,
            "resellable": l.arrived.map(|a| a.resellable),
            "damaged": l.arrived.map(|a| a.damaged),
        })).collect::<Vec<_>>(),
    })
}

/// One line of a return request: units of an order line the customer sends back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedLine {
    pub line_id: String,
    pub quantity: u32,
    /// Empty when the channel gave none.
    pub reason: String,
}

/// The body of `POST /orders/{id}/returns` as serde reads it (`parse_request` checks it).
#[derive(Deserialize)]
struct ReturnInput {
    #[serde(default)]
    lines: List<Fields<ReturnLineInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReturnLineInput {
    #[serde(default)]
    line_id: Lax<String>,
    #[serde(default)]
    quantity: Lax<u64>,
    reason: Option<Lax<String>>,
}

/// `{lines: [{lineId, quantity, reason}]}` of `POST /orders/{id}/returns`.
pub fn parse_request(v: &Value) -> Result<Vec<ReturnedLine>, ApiError> {
    let Fields(body) = input::read::<Fields<ReturnInput>>(v)?;
    let lines = body
        .lines
        .0
        .ok_or_else(|| ApiError::required("lines", "lines is required"))?;
    if lines.is_empty() {
        return Err(ApiError::invalid("lines", "name at least one line"));
    }
    if lines.len() > 100 {
        return Err(ApiError::invalid("lines", "at most 100 lines"));
    }
    let mut out: Vec<ReturnedLine> = Vec::new();
    for (i, Fields(l)) in lines.into_iter().enumerate() {
        let line_id = input::line_id(i, l.line_id)?;
        let quantity = input::units(i, l.quantity)?;
        let reason = match l.reason {
            None => String::new(),
            Some(Lax(r)) => {
                let field = format!("lines[{i}].reason");
                let r = r.ok_or_else(|| ApiError::invalid(&field, "reason must be text"))?;
                check_text(&field, &r, 1000)?;
                r
            }
        };
        if out.iter().any(|l| l.line_id == line_id) {
            return Err(ApiError::invalid(
                format!("lines[{i}].lineId"),
                "duplicate lineId",
            ));
        }
        out.push(ReturnedLine {
            line_id,
            quantity,
            reason,
        });
    }
    Ok(out)
}

/// The return units a delivery order can still take back, per line: shipped within the window,
/// minus units already authorized in earlier returns.
fn returnable(
    d: &DeliveryOrder,
    line_id: &str,
    earlier: &[ReturnPart],
    now: DateTime<Utc>,
    window_days: u32,
) -> (u32, u32) {
    let opens_after = now - Duration::days(i64::from(window_days));
    let (mut in_window, mut late) = (0u32, 0u32);
    for s in &d.shipments {
        let units: u32 = s
            .lines
            .iter()
            .filter(|l| l.line_id == line_id)
            .map(|l| l.quantity)
            .sum();
        if s.shipped_at >= opens_after {
            in_window += units;
        } else {
            late += units;
        }
    }
    let authorized: u32 = earlier
        .iter()
        .filter(|p| p.status != ReturnStatus::Rejected)
        .flat_map(|p| &p.lines)
        .filter(|l| l.delivery_order_id == d.id && l.line_id == line_id)
        .map(|l| l.quantity)
        .sum();
    // Earlier returns took the oldest units first, so they use up late units before recent ones.
    let taken_late = authorized.min(late);
    let taken_recent = authorized - taken_late;
    (in_window.saturating_sub(taken_recent), late - taken_late)
}

/// Plans a return authorization: which fulfiller gets which units back. Units come from the
/// delivery orders that shipped them, oldest delivery order first. 409 `not_returnable` for
/// units never shipped or already returned, 409 `return_window_closed` for units shipped longer
/// than the window ago.
pub fn authorize(
    order: &Order,
    deliveries: &[DeliveryOrder],
    earlier: &[ReturnPart],
    request: &[ReturnedLine],
    return_id: &str,
    now: DateTime<Utc>,
    window_days: u32,
) -> Result<Vec<ReturnPart>, ApiError> {
    let mut parts: BTreeMap<String, ReturnPart> = BTreeMap::new();
    let mut ordered: Vec<&DeliveryOrder> = deliveries.iter().collect();
    ordered.sort_by(|a, b| a.created_key.cmp(&b.created_key));
    for (
        i,
        ReturnedLine {
            line_id,
            quantity,
            reason,
        },
    ) in request.iter().enumerate()
    {
        let field = format!("lines[{i}].quantity");
        let Some(line) = order.lines.iter().find(|l| &l.line_id == line_id) else {
            return Err(ApiError::invalid(
                format!("lines[{i}].lineId"),
                format!("the order has no line {line_id}"),
            ));
        };
        let mut wanted = *quantity;
        let mut late_total = 0;
        for d in &ordered {
            if wanted == 0 {
                break;
            }
            let (open, late) = returnable(d, line_id, earlier, now, window_days);
            late_total += late;
            let take = open.min(wanted);
            if take == 0 {
                continue;
            }
            wanted -= take;
            let part = parts
                .entry(d.fulfiller_id.clone())
                .or_insert_with(|| ReturnPart {
                    return_id: return_id.to_string(),
                    order_id: order.id.clone(),
                    channel_id: order.channel_id.clone(),
                    fulfiller_id: d.fulfiller_id.clone(),
                    status: ReturnStatus::Authorized,
                    created_at: now,
                    lines: Vec::new(),
                    label: None,
                    received_at: None,
                    refund_id: None,
                    version: 0,
                });
            part.lines.push(ReturnLine {
                line_id: line_id.clone(),
                sku: line.sku.clone(),
                name: line.name.clone(),
                delivery_order_id: d.id.clone(),
                quantity: take,
                reason: reason.clone(),
                arrived: None,
            });
        }
        if wanted > 0 {
            return Err(if late_total >= wanted {
                ApiError::conflict(
                    ErrorCode::ReturnWindowClosed,
                    format!(
                        "{wanted} unit(s) of line {line_id} were shipped more than {window_days} days ago"
                    ),
                )
                .at(field)
            } else {
                ApiError::conflict(
                    ErrorCode::NotReturnable,
                    format!(
                        "line {line_id} has fewer shipped, not yet returned units than {quantity}"
                    ),
                )
                .at(field)
            });
        }
    }
    Ok(parts.into_values().collect())
}

/// A receipt's body as serde reads it (`receive` checks it).
#[derive(Deserialize)]
struct ReceiptInput {
    #[serde(default)]
    lines: List<Fields<ReceivedLineInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReceivedLineInput {
    #[serde(default)]
    line_id: Lax<String>,
    #[serde(default)]
    quantity: Lax<u64>,
    #[serde(default)]
    condition: Lax<String>,
}

/// `{lines: [{lineId, quantity, condition: resellable|damaged}]}` of a receipt, applied to a part:
/// several entries per line are allowed (some resellable, some damaged). More than authorized:
/// 422. Receiving a part twice: 409 (the first receipt decided the refund).
pub fn receive(part: &ReturnPart, v: &Value, now: DateTime<Utc>) -> Result<ReturnPart, ApiError> {
    if part.status != ReturnStatus::Authorized {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyReceived,
            format!("return {} was already received", part.return_id),
        ));
    }
    let Fields(receipt) = input::read::<Fields<ReceiptInput>>(v)?;
    let lines = receipt
        .lines
        .0
        .ok_or_else(|| ApiError::required("lines", "lines is required"))?;
    if lines.len() > 200 {
        return Err(ApiError::invalid("lines", "at most 200 lines"));
    }
    let mut arrived: BTreeMap<&str, Arrived> = BTreeMap::new();
    for (i, Fields(l)) in lines.into_iter().enumerate() {
        let field = |f: &str| format!("lines[{i}].{f}");
        let line_id = input::named_line(i, l.line_id)?;
        let Some(authorized) = part.lines.iter().find(|r| r.line_id == line_id) else {
            return Err(ApiError::invalid(
                field("lineId"),
                format!("line {line_id} is not part of this return"),
            ));
        };
        let quantity = input::quantity(
            i,
            l.quantity,
            |q| q <= 999,
            "quantity must be an integer 0..999",
        )?;
        let a = arrived.entry(authorized.line_id.as_str()).or_default();
        match l.condition.0.as_deref() {
            Some("resellable") => a.resellable += quantity,
            Some("damaged") => a.damaged += quantity,
            _ => {
                return Err(ApiError::invalid(
                    field("condition"),
                    "condition must be resellable or damaged",
                ))
            }
        }
        let authorized_units: u32 = part
            .lines
            .iter()
            .filter(|r| r.line_id == line_id)
            .map(|r| r.quantity)
            .sum();
        if a.total() > authorized_units {
            return Err(ApiError::invalid(
                field("quantity"),
                format!("only {authorized_units} unit(s) of line {line_id} were authorized"),
            ));
        }
    }
    let mut next = part.clone();
    // A line may sit on several delivery orders of this fulfiller: fill them in order.
    for (line_id, a) in arrived {
        let mut left = a;
        for l in next.lines.iter_mut().filter(|l| l.line_id == line_id) {
            let resellable = left.resellable.min(l.quantity);
            let damaged = left.damaged.min(l.quantity - resellable);
            left.resellable -= resellable;
            left.damaged -= damaged;
            l.arrived = Some(Arrived {
                resellable,
                damaged,
            });
        }
    }
    for l in next.lines.iter_mut() {
        l.arrived.get_or_insert_with(Arrived::default);
    }
    next.status = ReturnStatus::Received;
    next.received_at = Some(now);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{DeliveryLine, DeliveryStatus};
    use crate::fulfilment::{Shipment, ShipmentLine};
    use crate::input::refused;
    use crate::order::fixtures::{base, order};

    fn shipped(id: &str, fulfiller: &str, lines: &[(&str, u32)], days_ago: i64) -> DeliveryOrder {
        let now = Utc::now();
        let at = now - Duration::days(days_ago);
        DeliveryOrder {
            id: id.into(),
            order_id: "o".into(),
            fulfiller_id: fulfiller.into(),
            status: DeliveryStatus::Shipped,
            ship_to: crate::catalogue::Address {
                name: "C".into(),
                street: "S 1".into(),
                postal_code: "1".into(),
                city: "B".into(),
                country: "DE".try_into().unwrap(),
            },
            lines: lines
                .iter()
                .map(|(l, q)| DeliveryLine {
                    line_id: (*l).into(),
                    sku: (*l).try_into().unwrap(),
                    name: (*l).into(),
                    quantity: *q,
                    shipped: *q,
                    cancelled: 0,
                })
                .collect(),
            created_at: at,
            due_at: at,
            created_key: DeliveryOrder::created_key(at, id),
            documents: vec![],
            carrier: None,
            tracking_number: None,
            version: 1,
            shipments: vec![Shipment {
                id: format!("shp-{id}"),
                carrier: "DHL".into(),
                tracking_number: "1".into(),
                shipped_at: at,
                lines: lines
                    .iter()
                    .map(|(l, q)| ShipmentLine {
                        line_id: (*l).into(),
                        quantity: *q,
                    })
                    .collect(),
            }],
            stock_shortfall: false,
            rejection_reason: None,
            link_key: None,
        }
    }

    fn two_line_order() -> Order {
        order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
                   {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
            json!([]),
            "0",
            "64.98",
        ))
    }

    fn ask(lines: &[(&str, u32)]) -> Vec<ReturnedLine> {
        lines
            .iter()
            .map(|(l, q)| ReturnedLine {
                line_id: (*l).to_string(),
                quantity: *q,
                reason: "too big".to_string(),
            })
            .collect()
    }

    #[test]
    fn a_return_goes_to_the_fulfillers_that_shipped_the_units() {
        let o = two_line_order();
        let ds = [
            shipped("DO-1", "acme", &[("L1", 2)], 1),
            shipped("DO-2", "nordic", &[("L2", 1)], 1),
        ];
        let parts = authorize(
            &o,
            &ds,
            &[],
            &ask(&[("L1", 1), ("L2", 1)]),
            "RT-1",
            Utc::now(),
            14,
        )
        .unwrap();
        let by: Vec<(&str, &str, u32)> = parts
            .iter()
            .flat_map(|p| {
                p.lines
                    .iter()
                    .map(move |l| (p.fulfiller_id.as_str(), l.line_id.as_str(), l.quantity))
            })
            .collect();
        assert_eq!(by, [("acme", "L1", 1), ("nordic", "L2", 1)]);
        // The channel's view joins the parts and names no one.
        let view = channel_view(&parts).to_string();
        assert!(!view.contains("acme") && !view.contains("nordic") && !view.contains("DO-"));
        // What was authorized cannot be authorized again: one unit of L1 is left.
        let again =
            authorize(&o, &ds, &parts, &ask(&[("L1", 2)]), "RT-2", Utc::now(), 14).unwrap_err();
        assert_eq!((again.status, again.code.as_str()), (409, "not_returnable"));
        assert!(authorize(&o, &ds, &parts, &ask(&[("L1", 1)]), "RT-2", Utc::now(), 14).is_ok());
    }

    #[test]
    fn units_shipped_before_the_window_cannot_be_returned() {
        let o = two_line_order();
        let ds = [shipped("DO-1", "acme", &[("L1", 2), ("L2", 1)], 20)];
        let err = authorize(&o, &ds, &[], &ask(&[("L1", 1)]), "RT-1", Utc::now(), 14).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (409, "return_window_closed")
        );
        assert!(authorize(&o, &ds, &[], &ask(&[("L1", 1)]), "RT-1", Utc::now(), 30).is_ok());
        // Never shipped at all: not returnable; unknown line: 422.
        let none = authorize(&o, &[], &[], &ask(&[("L1", 1)]), "RT-1", Utc::now(), 14).unwrap_err();
        assert_eq!(none.code.as_str(), "not_returnable");
        let unknown =
            authorize(&o, &ds, &[], &ask(&[("L9", 1)]), "RT-1", Utc::now(), 30).unwrap_err();
        assert_eq!(unknown.status, 422);
    }

    #[test]
    fn a_receipt_records_condition_per_line_and_refuses_more_than_authorized() {
        let o = two_line_order();
        let ds = [shipped("DO-1", "acme", &[("L1", 2)], 1)];
        let parts = authorize(&o, &ds, &[], &ask(&[("L1", 2)]), "RT-1", Utc::now(), 14).unwrap();
        let part = &parts[0];
        let too_many = receive(
            part,
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "condition": "resellable"},
                              {"lineId": "L1", "quantity": 1, "condition": "damaged"}]}),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(
            (too_many.status, too_many.field.as_deref()),
            (422, Some("lines[1].quantity"))
        );
        let bad = receive(
            part,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "wet"}]}),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(bad.status, 422);
        let got = receive(
            part,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"},
                              {"lineId": "L1", "quantity": 1, "condition": "damaged"}]}),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(got.status, ReturnStatus::Received);
        assert_eq!(
            got.lines[0].arrived,
            Some(Arrived {
                resellable: 1,
                damaged: 1
            })
        );
        let twice = receive(&got, &json!({"lines": []}), Utc::now()).unwrap_err();
        assert_eq!(
            (twice.status, twice.code.as_str()),
            (409, "already_received")
        );
    }
    #[test]
    fn a_return_request_is_read_into_lines_and_refused_as_before() {
        let lines = parse_request(&json!({"lines": [
            {"lineId": "L1", "quantity": 2, "reason": "too small"},
            {"lineId": "L2", "quantity": 1, "reason": null}, {"lineId": "L3", "quantity": 1}]}))
        .unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.line_id.as_str(), l.quantity, l.reason.as_str()))
                .collect::<Vec<_>>(),
            [("L1", 2, "too small"), ("L2", 1, ""), ("L3", 1, "")]
        );
        let line = |l: Value| json!({"lines": [{"lineId": "L0", "quantity": 1}, l]});
        for (body, field, message) in [
            // A body or list of another type reads as missing, as it always did.
            (json!("x"), "lines", "lines is required"),
            (json!({"lines": {}}), "lines", "lines is required"),
            (json!({"lines": []}), "lines", "name at least one line"),
            (line(json!("L1")), "lines[1].lineId", "lineId is required"),
            (
                line(json!({"lineId": 5, "quantity": 1})),
                "lines[1].lineId",
                "lineId is required",
            ),
            (
                line(json!({"lineId": "a b", "quantity": 1})),
                "lines[1].lineId",
                "lines[1].lineId must match [A-Za-z0-9._-]{1,64}",
            ),
            (
                line(json!({"lineId": "L1"})),
                "lines[1].quantity",
                "quantity must be an integer 1..999",
            ),
            (
                line(json!({"lineId": "L1", "quantity": "2"})),
                "lines[1].quantity",
                "quantity must be an integer 1..999",
            ),
            (
                line(json!({"lineId": "L1", "quantity": 1, "reason": 5})),
                "lines[1].reason",
                "reason must be text",
            ),
            (
                line(json!({"lineId": "L1", "quantity": 1, "reason": " "})),
                "lines[1].reason",
                "lines[1].reason must not be empty",
            ),
            (
                line(json!({"lineId": "L0", "quantity": 1})),
                "lines[1].lineId",
                "duplicate lineId",
            ),
        ] {
            assert_eq!(
                refused(parse_request(&body)),
                (field.into(), message.into()),
                "{body}"
            );
        }
    }

    #[test]
    fn a_receipt_is_refused_as_before() {
        let o = two_line_order();
        let ds = [shipped("DO-1", "acme", &[("L1", 2)], 1)];
        let parts = authorize(&o, &ds, &[], &ask(&[("L1", 2)]), "RT-1", Utc::now(), 14).unwrap();
        let line = |l: Value| json!({"lines": [l]});
        for (body, field, message) in [
            (json!({"lines": "L1"}), "lines", "lines is required"),
            (
                line(json!({"quantity": 1})),
                "lines[0].lineId",
                "lineId is required",
            ),
            (
                line(json!({"lineId": "L2", "quantity": 1})),
                "lines[0].lineId",
                "line L2 is not part of this return",
            ),
            (
                line(json!({"lineId": "L1", "quantity": -1, "condition": "damaged"})),
                "lines[0].quantity",
                "quantity must be an integer 0..999",
            ),
            (
                line(json!({"lineId": "L1", "quantity": 1})),
                "lines[0].condition",
                "condition must be resellable or damaged",
            ),
        ] {
            assert_eq!(
                refused(receive(&parts[0], &body, Utc::now())),
                (field.into(), message.into()),
                "{body}"
            );
        }
        // Nothing arrived of a line is a receipt too.
        let got = receive(
            &parts[0],
            &line(json!({"lineId": "L1", "quantity": 0, "condition": "damaged"})),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(got.lines[0].arrived, Some(Arrived::default()));
    }
}
