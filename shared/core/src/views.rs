//! What each principal sees of an order. The channel's view never names a fulfiller: the
//! customer must not learn who ships (white label).

use crate::delivery::DeliveryOrder;
use crate::order::Order;
use serde_json::{json, Value};

/// `GET /orders/{orderId}` for the channel (docs/api.md "Channel").
pub fn channel_order(order: &Order, deliveries: &[DeliveryOrder]) -> Value {
    let refunds: Vec<Value> = crate::ledger::refunds(order)
        .iter()
        .map(|r| {
            json!({
                // Its net and tax per rate, at the rate of the units' original supply.
                "id": r.id, "amount": r.amount, "reason": r.reason, "createdAt": r.created_at, "tax": r.tax,
                "allocation": r.allocation.iter().map(|a| json!({"method": a.method, "amount": a.amount})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            // The tax per rate period of the units' supplies; taxRate and tax summarise it.
            let (rate, tax) = l.summary();
            json!({
                "lineId": l.line_id, "sku": l.sku, "name": l.name, "quantity": l.quantity,
                "unitPrice": l.unit_price, "gross": l.gross, "discountShare": l.discount_share,
                "discountShares": l.discount_shares, "paid": l.paid, "taxRate": rate.normalize().to_string(),
                "tax": tax, "taxes": l.taxes(), "status": l.quantities.status(), "quantities": l.quantities,
            })
        })
        .collect();
    let deliveries: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "lines": d.lines.iter().map(|l| json!({"lineId": l.line_id, "quantity": l.quantity, "shipped": l.shipped})).collect::<Vec<_>>(),
                "status": d.status, "carrier": d.carrier, "trackingNumber": d.tracking_number,
            })
        })
        .collect();
    json!({
        "id": order.id, "orderId": order.id, "externalId": order.external_id, "status": order.status,
        "currency": order.currency, "orderedAt": order.ordered_at, "lines": lines, "deliveries": deliveries,
        "totals": order.totals, "payments": order.payments, "refunds": refunds, "returns": [],
    })
}

/// `GET /admin/orders/{orderId}`: everything, deliveries with their fulfiller.
pub fn admin_order(order: &Order, deliveries: &[DeliveryOrder]) -> Value {
    let mut v = channel_order(order, deliveries);
    v["channelId"] = json!(order.channel_id);
    v["customer"] = json!(order.customer);
    v["shippingAddress"] = json!(order.shipping_address);
    v["billingAddress"] = json!(order.billing_address);
    v["discounts"] = json!(order.discounts);
    v["shippingCost"] = json!(order.shipping_cost);
    v["history"] = json!(order.history);
    v["ledger"] = json!(order.ledger);
    // A refund's tax is shown with the refund (`refunds`), as before the ledger held it.
    for e in v["ledger"].as_array_mut().into_iter().flatten() {
        if let Some(e) = e.as_object_mut() {
            e.remove("tax");
        }
    }
    v["replacements"] = json!(order.replacements);
    v["createdAt"] = json!(order.created_at);
    v["deliveries"] = json!(deliveries);
    // A delivery order's link key signs its document links: no view shows it.
    for d in v["deliveries"].as_array_mut().into_iter().flatten() {
        if let Some(d) = d.as_object_mut() {
            d.remove("linkKey");
        }
    }
    v
}

/// A delivery order as its fulfiller sees it; `documents` are `{kind, url, expiresAt}` links.
pub fn fulfiller_delivery_order(d: &DeliveryOrder, documents: Option<Vec<Value>>) -> Value {
    let mut v = json!({
        "id": d.id, "orderId": d.order_id, "status": d.status, "shipTo": d.ship_to,
        "lines": d.lines, "createdAt": d.created_at, "dueAt": d.due_at,
        "carrier": d.carrier, "trackingNumber": d.tracking_number,
    });
    if let Some(docs) = documents {
        v["documents"] = json!(docs);
    }
    v
}
