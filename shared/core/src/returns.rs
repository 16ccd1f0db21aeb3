//! Returns: the customer sends shipped units back to whoever shipped them. A return is stored
//! as one part per fulfiller involved; each fulfiller sees and receives only its own part, and
//! the customer's view joins the parts without naming anyone. Pure: states in, new states out.

use crate::delivery::{DeliveryOrder, DocumentRef};
use crate::error::ErrorCode;
use crate::ids::{check_text, ChannelId, FulfillerId, OrderId, Sku};
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
    pub order_id: OrderId,
    pub channel_id: ChannelId,
    pub fulfiller_id: FulfillerId,
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
    /// Why customer service rejected the return, who and when (status `rejected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    #[serde(default)]
    pub version: u64,
}

/// Customer service's rejection of an authorized return: the customer keeps the units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub reason: String,
    /// The staff member, as the order's history names them (`admin:<name>`).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// How long shipped units may be returned: until the shipment's `shippedAt` plus the days (0
/// closes returns), or, for customer service acting for the customer, not at all limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWindow {
    Days(u32),
    /// Staff passed `ignoreReturnWindow: true`: every shipped unit counts as in the window.
    Ignored,
}

impl ReturnWindow {
    /// Whether units shipped at `shipped_at` may still be returned at `now`.
    pub fn is_open(self, shipped_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self {
            Self::Ignored => true,
            // Closed, even for a shipment stamped a moment ahead of this clock.
            Self::Days(0) => false,
            Self::Days(days) => now <= shipped_at + Duration::hours(24 * i64::from(days)),
        }
    }
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
/// minus units already authorized in earlier returns (a rejected return's units count as kept,
/// not as returned: they may be asked for again while the window allows).
fn returnable(
    d: &DeliveryOrder,
    line_id: &str,
    earlier: &[ReturnPart],
    now: DateTime<Utc>,
    window: ReturnWindow,
) -> (u32, u32) {
    let (mut in_window, mut late) = (0u32, 0u32);
    for s in &d.shipments {
        let units: u32 = s
            .lines
            .iter()
            .filter(|l| l.line_id == line_id)
            .map(|l| l.quantity)
            .sum();
        if window.is_open(s.shipped_at, now) {
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
/// than the window ago (every unit when the window is 0 days).
pub fn authorize(
    order: &Order,
    deliveries: &[DeliveryOrder],
    earlier: &[ReturnPart],
    request: &[ReturnedLine],
    return_id: &str,
    now: DateTime<Utc>,
    window: ReturnWindow,
) -> Result<Vec<ReturnPart>, ApiError> {
    let mut parts: BTreeMap<FulfillerId, ReturnPart> = BTreeMap::new();
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
            let (open, late) = returnable(d, line_id, earlier, now, window);
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
                    rejection: None,
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
                let why = match window {
                    ReturnWindow::Days(0) => {
                        "returns are closed (a return window of 0 days)".to_string()
                    }
                    ReturnWindow::Days(days) => format!("were shipped more than {days} days ago"),
                    ReturnWindow::Ignored => "cannot be returned".to_string(),
                };
                ApiError::conflict(
                    ErrorCode::ReturnWindowClosed,
                    format!("{wanted} unit(s) of line {line_id}: {why}"),
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

/// `POST /admin/orders/{id}/returns`: the channel's body (`parse_request`) plus customer
/// service's `ignoreReturnWindow` (a boolean, default false). The answer is the lines and the
/// window to apply: `window_days` unless staff ignore it.
pub fn parse_staff_request(
    v: &Value,
    window_days: u32,
) -> Result<(Vec<ReturnedLine>, ReturnWindow), ApiError> {
    let ignore = match v.get("ignoreReturnWindow") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                "ignoreReturnWindow",
                "ignoreReturnWindow must be true or false",
            ))
        }
    };
    let lines = parse_request(v)?;
    let window = if ignore {
        ReturnWindow::Ignored
    } else {
        ReturnWindow::Days(window_days)
    };
    Ok((lines, window))
}

/// `{reason}` of `POST /admin/returns/{id}/reject`: 1..1000 characters.
pub fn parse_rejection(v: &Value) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct RejectionInput {
        #[serde(default)]
        reason: Lax<String>,
    }
    let Fields(body) = input::read::<Fields<RejectionInput>>(v)?;
    let reason = body.reason.0.ok_or_else(|| input::required("reason"))?;
    check_text("reason", &reason, 1000)?;
    Ok(reason)
}

/// Customer service rejects a return: allowed only while every part is `authorized` (nothing
/// of it arrived, nothing refunded); else 409 `return_not_authorized`. Every part becomes
/// `rejected` with the reason: the units count as kept by the customer, never refunded, and a
/// later return may ask for them again as far as the window allows.
pub fn reject(
    parts: &[ReturnPart],
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ReturnPart>, ApiError> {
    if let Some(p) = parts.iter().find(|p| p.status != ReturnStatus::Authorized) {
        return Err(ApiError::conflict(
            ErrorCode::ReturnNotAuthorized,
            format!(
                "return {} is {}; only an authorized return can be rejected",
                p.return_id,
                p.status.as_str()
            ),
        ));
    }
    Ok(parts
        .iter()
        .map(|p| ReturnPart {
            status: ReturnStatus::Rejected,
            rejection: Some(Rejection {
                reason: reason.to_string(),
                by: by.to_string(),
                at: now,
            }),
            ..p.clone()
        })
        .collect())
}

/// The units a return covers, over all its parts.
pub fn units(parts: &[ReturnPart]) -> u32 {
    parts
        .iter()
        .flat_map(|p| &p.lines)
        .map(|l| l.quantity)
        .sum()
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
    if part.status == ReturnStatus::Rejected {
        return Err(ApiError::conflict(
            ErrorCode::ReturnNotAuthorized,
            format!("return {} was rejected by customer service", part.return_id),
        ));
    }
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
mod tests;
