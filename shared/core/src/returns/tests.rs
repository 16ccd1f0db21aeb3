use super::*;
use crate::delivery::{DeliveryLine, DeliveryStatus};
use crate::fulfilment::{Shipment, ShipmentLine};
use crate::input::refused;
use crate::intake::fixtures::{base, order};

fn shipped(id: &str, fulfiller: &str, lines: &[(&str, u32)], days_ago: i64) -> DeliveryOrder {
    let now = Utc::now();
    let at = now - Duration::days(days_ago);
    DeliveryOrder {
        id: id.into(),
        order_id: "o".try_into().unwrap(),
        fulfiller_id: fulfiller.try_into().unwrap(),
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
        ReturnWindow::Days(14),
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
    let again = authorize(
        &o,
        &ds,
        &parts,
        &ask(&[("L1", 2)]),
        "RT-2",
        Utc::now(),
        ReturnWindow::Days(14),
    )
    .unwrap_err();
    assert_eq!((again.status, again.code.as_str()), (409, "not_returnable"));
    assert!(authorize(
        &o,
        &ds,
        &parts,
        &ask(&[("L1", 1)]),
        "RT-2",
        Utc::now(),
        ReturnWindow::Days(14)
    )
    .is_ok());
}

#[test]
fn units_shipped_before_the_window_cannot_be_returned() {
    let o = two_line_order();
    let ds = [shipped("DO-1", "acme", &[("L1", 2), ("L2", 1)], 20)];
    let err = authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(14),
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (409, "return_window_closed")
    );
    assert!(authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(30)
    )
    .is_ok());
    // Never shipped at all: not returnable; unknown line: 422.
    let none = authorize(
        &o,
        &[],
        &[],
        &ask(&[("L1", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(14),
    )
    .unwrap_err();
    assert_eq!(none.code.as_str(), "not_returnable");
    let unknown = authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L9", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(30),
    )
    .unwrap_err();
    assert_eq!(unknown.status, 422);
}

#[test]
fn a_receipt_records_condition_per_line_and_refuses_more_than_authorized() {
    let o = two_line_order();
    let ds = [shipped("DO-1", "acme", &[("L1", 2)], 1)];
    let parts = authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 2)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(14),
    )
    .unwrap();
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
    let parts = authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 2)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(14),
    )
    .unwrap();
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

#[test]
fn a_window_of_0_days_closes_returns_and_staff_may_ignore_any_window() {
    let o = two_line_order();
    // Shipped just now: inside any window of a day or more, yet 0 days closes returns.
    let ds = [shipped("DO-1", "acme", &[("L1", 2)], 0)];
    let closed = authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(0),
    )
    .unwrap_err();
    assert_eq!(
        (closed.status, closed.code.as_str()),
        (409, "return_window_closed")
    );
    assert!(authorize(
        &o,
        &ds,
        &[],
        &ask(&[("L1", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Days(1)
    )
    .is_ok());
    let old = [shipped("DO-1", "acme", &[("L1", 2)], 400)];
    assert!(authorize(
        &o,
        &old,
        &[],
        &ask(&[("L1", 2)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Ignored
    )
    .is_ok());
    // Ignoring the window does not make units returnable twice, nor unshipped ones.
    let parts = authorize(
        &o,
        &old,
        &[],
        &ask(&[("L1", 2)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Ignored,
    )
    .unwrap();
    let twice = authorize(
        &o,
        &old,
        &parts,
        &ask(&[("L1", 1)]),
        "RT-2",
        Utc::now(),
        ReturnWindow::Ignored,
    )
    .unwrap_err();
    assert_eq!(twice.code.as_str(), "not_returnable");
    let never = authorize(
        &o,
        &old,
        &[],
        &ask(&[("L2", 1)]),
        "RT-1",
        Utc::now(),
        ReturnWindow::Ignored,
    )
    .unwrap_err();
    assert_eq!(never.code.as_str(), "not_returnable");
}

#[test]
fn the_window_ends_at_shipped_at_plus_the_days_in_hours() {
    let shipped_at = Utc::now() - Duration::days(10);
    let window = ReturnWindow::Days(14);
    assert!(window.is_open(shipped_at, shipped_at + Duration::hours(14 * 24)));
    assert!(!window.is_open(
        shipped_at,
        shipped_at + Duration::hours(14 * 24) + Duration::seconds(1)
    ));
    assert!(!ReturnWindow::Days(0).is_open(shipped_at, shipped_at));
    assert!(ReturnWindow::Ignored.is_open(shipped_at, shipped_at + Duration::days(3650)));
}

#[test]
fn staff_may_pass_ignore_return_window_as_a_boolean_only() {
    let lines = json!([{"lineId": "L1", "quantity": 1}]);
    let (got, window) = parse_staff_request(&json!({"lines": lines}), 14).unwrap();
    assert_eq!((got.len(), window), (1, ReturnWindow::Days(14)));
    let (_, window) =
        parse_staff_request(&json!({"lines": lines, "ignoreReturnWindow": true}), 0).unwrap();
    assert_eq!(window, ReturnWindow::Ignored);
    let (_, window) =
        parse_staff_request(&json!({"lines": lines, "ignoreReturnWindow": false}), 0).unwrap();
    assert_eq!(window, ReturnWindow::Days(0));
    let e =
        parse_staff_request(&json!({"lines": lines, "ignoreReturnWindow": "yes"}), 0).unwrap_err();
    assert_eq!(
        (e.status, e.field.as_deref()),
        (422, Some("ignoreReturnWindow"))
    );
    let e = parse_staff_request(&json!({"ignoreReturnWindow": true}), 0).unwrap_err();
    assert_eq!((e.status, e.field.as_deref()), (422, Some("lines")));
}

#[test]
fn only_an_authorized_return_is_rejected_and_its_units_may_be_asked_for_again() {
    let o = two_line_order();
    let ds = [shipped("DO-1", "acme", &[("L1", 2)], 1)];
    let window = ReturnWindow::Days(14);
    let parts = authorize(&o, &ds, &[], &ask(&[("L1", 2)]), "RT-1", Utc::now(), window).unwrap();
    let now = Utc::now();
    let rejected = reject(&parts, "worn", "admin:Ann", now).unwrap();
    assert!(rejected.iter().all(|p| p.status == ReturnStatus::Rejected));
    assert_eq!(
        rejected[0].rejection,
        Some(Rejection {
            reason: "worn".into(),
            by: "admin:Ann".into(),
            at: now
        })
    );
    assert_eq!(channel_view(&rejected)["status"], "rejected");
    // A second rejection, or one after the units arrived: 409.
    let again = reject(&rejected, "worn", "admin:Ann", now).unwrap_err();
    assert_eq!(
        (again.status, again.code.as_str()),
        (409, "return_not_authorized")
    );
    let received = receive(
        &parts[0],
        &json!({"lines": [{"lineId": "L1", "quantity": 2, "condition": "resellable"}]}),
        now,
    )
    .unwrap();
    let late = reject(&[received], "worn", "admin:Ann", now).unwrap_err();
    assert_eq!(
        (late.status, late.code.as_str()),
        (409, "return_not_authorized")
    );
    // A rejected return is never received.
    let e = receive(&rejected[0], &json!({"lines": []}), now).unwrap_err();
    assert_eq!(e.code.as_str(), "return_not_authorized");
    // The customer kept the units: within the window they may be returned again.
    assert!(authorize(&o, &ds, &rejected, &ask(&[("L1", 2)]), "RT-2", now, window).is_ok());
}

#[test]
fn a_rejection_needs_a_reason_of_1_to_1000_characters() {
    assert_eq!(parse_rejection(&json!({"reason": "used"})).unwrap(), "used");
    for body in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": "  "}),
        json!({"reason": 5}),
        json!({"reason": "x".repeat(1001)}),
    ] {
        let e = parse_rejection(&body).unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (422, Some("reason")),
            "{body}"
        );
    }
}
