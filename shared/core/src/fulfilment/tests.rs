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
    assert!(withdraw_silent(&made_at_ten(), &order(), &silent_after(24, 2), just_before).is_none());
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
