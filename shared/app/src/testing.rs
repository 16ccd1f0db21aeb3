//! Fixtures for the use cases' tests: an order of three units of sku A, routed to `acme` in
//! delivery order D1, and a fake holding both with acme's stock reserved for it.
//! Compiled only for tests (`#[cfg(test)]` in lib.rs); the `expect`s below parse constant
//! literals, so they fail only if a fixture itself is wrong, which the tests then name.

use crate::fake::Fake;
use dropship_aws::http::HandlerError;
use dropship_core::catalogue::Fulfiller;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::FulfillerId;
use dropship_core::order::Order;
use dropship_core::returns::ReturnPart;
use dropship_core::ApiError;
use serde_json::json;

pub fn order() -> Order {
    serde_json::from_value(json!({
        "id": "o1", "channelId": "web", "externalId": "E1", "status": "routed", "currency": "EUR",
        "customer": {"email": "c@example.com", "name": "C"},
        "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
        "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "discounts": [], "shippingCost": "0.00",
        "payments": [{"method": "card", "amount": "30.00", "reference": "p1"}], "history": [], "deliveryOrderIds": ["D1"],
        "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"},
        "lines": [{"lineId": "L1", "sku": "A", "name": "A", "quantity": 3, "unitPrice": "10.00", "gross": "30.00", "discountShare": "0.00",
             "discountShares": [], "paid": "30.00", "taxClass": "standard", "taxRate": "0.19", "tax": "4.79",
             "quantities": {"open": 3, "backordered": 0, "shipped": 0, "cancelled": 0, "returned": 0}}]}))
    .expect("the fixture order is valid")
}

pub fn delivery() -> DeliveryOrder {
    serde_json::from_value(json!({
        "id": "D1", "orderId": "o1", "fulfillerId": "acme", "status": "open",
        "shipTo": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
        "lines": [{"lineId": "L1", "sku": "A", "name": "A", "quantity": 3, "shipped": 0}],
        "createdAt": "2026-11-27T10:00:00Z", "dueAt": "2026-11-29T10:00:00Z", "createdKey": "k"}))
    .expect("the fixture delivery order is valid")
}

/// A fulfiller without a return address.
pub fn fulfiller(id: &str) -> Fulfiller {
    serde_json::from_value(
        json!({"id": id, "name": id, "kind": "warehouse", "email": "f@example.com",
        "slaHours": 48, "stockMaxAgeHours": 24,
        "address": {"name": id, "street": "S", "postalCode": "1", "city": "B", "country": "DE"}}),
    )
    .expect("the fixture fulfiller is valid")
}

/// The order, its delivery order and acme's 5 units of A, 3 of them reserved for it.
pub fn routed() -> Fake {
    Fake::default()
        .with_order(order())
        .with_delivery(delivery())
        .with_stock(fulfiller_id("acme"), "A", 5, 3)
}

/// The client's error of a refused use case.
pub fn api_error<T>(result: Result<T, HandlerError>) -> ApiError {
    match result {
        Err(HandlerError::Api(e)) => e,
        Err(HandlerError::Internal(e)) => panic!("expected an answer for the client, got {e:#}"),
        Ok(_) => panic!("expected a refusal"),
    }
}

/// Acme's part of return RT-1: both shipped units of line L1, authorized, nothing arrived yet.
pub fn return_part() -> ReturnPart {
    serde_json::from_value(json!({
        "returnId": "RT-1", "orderId": "o1", "channelId": "web", "fulfillerId": "acme",
        "status": "authorized", "createdAt": "2026-11-28T10:00:00Z",
        "lines": [{"lineId": "L1", "sku": "A", "name": "A", "deliveryOrderId": "D1",
            "quantity": 2, "reason": "too small"}]}))
    .expect("the fixture return part is valid")
}

pub fn fulfiller_id(id: &str) -> FulfillerId {
    FulfillerId::try_from(id).expect("a fixture fulfiller id is valid")
}

/// The fake's key of a stock level.
pub fn stock_key(fulfiller_id: &str, sku: &str) -> (FulfillerId, String) {
    (self::fulfiller_id(fulfiller_id), sku.to_string())
}
