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
        let p =
            plan_for_customer(&accepted, &[], None, "c", Utc::now(), &process(1, until)).unwrap();
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
        last.contains("backordered longer than 7 days") && last.ends_with("(process version 4)"),
        "{last}"
    );
}
