use super::*;
use crate::intake::fixtures::{base, order};
use crate::messages::BusinessEvent;
use serde_json::json;

fn an_order(status: OrderStatus) -> Order {
    let mut o = order(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "10.00"}]),
        json!([]),
        "0.00",
        "20.00",
    ));
    o.status = status;
    o
}

fn events(h: &[Happening]) -> Vec<&'static str> {
    h.iter().map(|h| h.event.as_str()).collect()
}

#[test]
fn a_new_order_says_nothing_until_it_is_routed() {
    let created = an_order(OrderStatus::Accepted);
    assert!(happenings(None, &created, &[]).is_empty());
    let routed = an_order(OrderStatus::Routed);
    let made = FollowUp::Documents(GenerateDocuments::DeliveryOrder {
        delivery_order_id: "o-1".into(),
    });
    let h = happenings(Some(&created), &routed, &[made, FollowUp::Other]);
    assert_eq!(events(&h), ["order.routed", "delivery_order.created"]);
    assert_eq!(
        h[1].subject,
        Subject::DeliveryOrder {
            delivery_order_id: "o-1".into()
        }
    );
    // The same status written again (a later change of something else) is no new event.
    assert!(happenings(Some(&routed), &routed, &[]).is_empty());
}

#[test]
fn every_shipment_is_told_with_the_status_it_leaves() {
    let routed = an_order(OrderStatus::Routed);
    let part = an_order(OrderStatus::PartiallyShipped);
    let all = an_order(OrderStatus::Shipped);
    let shipped = |n: &str| {
        FollowUp::Event(BusinessEvent::DeliveryShipped {
            order_id: "o".try_into().unwrap(),
            delivery_order_id: "o-1".into(),
            shipment_id: n.into(),
        })
    };
    let first = happenings(Some(&routed), &part, &[shipped("s1")]);
    assert_eq!(events(&first), ["order.partially_shipped"]);
    // A second partial shipment keeps the status and is still told.
    let second = happenings(Some(&part), &part, &[shipped("s2")]);
    assert_eq!(events(&second), ["order.partially_shipped"]);
    let last = happenings(Some(&part), &all, &[shipped("s3")]);
    assert_eq!(events(&last), ["order.shipped"]);
    assert_eq!(
        last[0].subject,
        Subject::Shipment {
            delivery_order_id: "o-1".into(),
            shipment_id: "s3".into()
        }
    );
    // Shipped because the open rest was cancelled: no shipment, the status still changed.
    let h = happenings(Some(&part), &all, &[]);
    assert_eq!(events(&h), ["order.shipped"]);
    assert_eq!(h[0].subject, Subject::Order);
}

#[test]
fn cancellations_refunds_and_returns_name_what_they_touched() {
    let routed = an_order(OrderStatus::Routed);
    let cancelled = an_order(OrderStatus::Cancelled);
    let follow_ups = [
        FollowUp::Event(BusinessEvent::DeliveryOrderChanged {
            delivery_order_id: "o-1".into(),
            fulfiller_id: "acme".try_into().unwrap(),
            order_id: "o".try_into().unwrap(),
            cancelled: true,
            version: 3,
        }),
        FollowUp::Event(BusinessEvent::RefundIssued {
            order_id: "o".try_into().unwrap(),
            refund_id: "r1".into(),
        }),
    ];
    let h = happenings(Some(&routed), &cancelled, &follow_ups);
    assert_eq!(
        events(&h),
        [
            "delivery_order.cancelled",
            "refund.issued",
            "order.cancelled"
        ]
    );
    let partly = FollowUp::Event(BusinessEvent::DeliveryOrderChanged {
        delivery_order_id: "o-1".into(),
        fulfiller_id: "acme".try_into().unwrap(),
        order_id: "o".try_into().unwrap(),
        cancelled: false,
        version: 2,
    });
    assert_eq!(
        events(&happenings(Some(&routed), &routed, &[partly])),
        ["delivery_order.changed"]
    );

    let shipped = an_order(OrderStatus::Shipped);
    let authorized = FollowUp::Documents(GenerateDocuments::Return {
        return_id: "R1".into(),
    });
    assert_eq!(
        events(&happenings(Some(&shipped), &shipped, &[authorized])),
        ["return.authorized", "return.announced"]
    );
    let received = FollowUp::Settle(SettleReturn {
        return_id: "R1".into(),
        fulfiller_id: "acme".try_into().unwrap(),
    });
    let h = happenings(Some(&shipped), &shipped, &[received]);
    assert_eq!(events(&h), ["return.received"]);
    let rejected = FollowUp::Event(BusinessEvent::ReturnRejected {
        order_id: "o".try_into().unwrap(),
        return_id: "R1".into(),
    });
    let r = happenings(Some(&shipped), &shipped, &[rejected]);
    assert_eq!(events(&r), ["return.rejected"]);
    assert_eq!(
        r[0].subject,
        Subject::Return {
            return_id: "R1".into()
        }
    );
    assert_eq!(
        h[0].subject,
        Subject::Return {
            return_id: "R1".into()
        }
    );
}

#[test]
fn sequence_keys_sort_as_the_changes_happened_and_name_their_order() {
    let order: OrderId = "WEB-1.a_b-c".try_into().unwrap();
    let t = |us: i64| DateTime::from_timestamp_micros(1_780_000_000_000_000 + us).unwrap();
    let key = |at, i| sequence_key(&order, at, i).unwrap();
    let keys = [
        key(t(0), 0),
        key(t(0), 1),
        key(t(0), 100),
        key(t(1), 0),
        key(t(1_000_000), 0),
    ];
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, keys);
    for k in &keys {
        assert_eq!(order_of_key(k), Some("WEB-1.a_b-c"), "{k}");
    }
    assert_eq!(order_of_key("WEB-1"), None);
    assert_eq!(order_of_key("WEB-1~2026~000"), None);
    assert_eq!(sequence_key(&order, t(0), MAX_MESSAGES_PER_CHANGE), None);
    assert_eq!(order_of_key(&format!("{}x", keys[0])), None);
}
