use super::*;
use crate::fake::{Fake, Level};
use crate::retry::ATTEMPTS;
use crate::testing::{api_error, routed};
use dropship_core::delivery::DeliveryStatus;
use dropship_core::returns::ReturnStatus;
use serde_json::json;

fn ship(units: u32) -> ActOnDeliveryOrder {
    ActOnDeliveryOrder {
        fulfiller: "acme".try_into().unwrap(),
        delivery_order: "D1".into(),
        action: DeliveryOrderAction::Ship(json!({"carrier": "DHL", "trackingNumber": "1",
            "lines": [{"lineId": "L1", "quantity": units}]})),
    }
}

fn reject() -> ActOnDeliveryOrder {
    ActOnDeliveryOrder {
        action: DeliveryOrderAction::Reject(json!({"reason": "out of stock"})),
        ..ship(0)
    }
}

fn kinds(fake: &Fake) -> Vec<&'static str> {
    fake.state()
        .published
        .iter()
        .map(|m| match m {
            Message::Event(BusinessEvent::DeliveryShipped { .. }) => "shipped",
            Message::Documents(GenerateDocuments::Shipment { .. }) => "invoice check",
            Message::Route(_) => "route",
            Message::Settle(_) => "settle",
            _ => "other",
        })
        .collect()
}

#[tokio::test]
async fn a_conflict_on_the_first_commit_is_read_again_and_committed() {
    let fake = routed().conflicting(1);
    let d = act_on_delivery_order(&fake, &ship(2)).await.unwrap();
    assert_eq!((d.status, d.version), (DeliveryStatus::PartiallyShipped, 1));
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert_eq!(state.deliveries["D1"], d);
    assert_eq!(state.orders["o1"].lines[0].quantities.shipped, 2);
    // Shipped units leave the shelf and the reservation.
    let level = state.stock[&crate::testing::stock_key("acme", "A")];
    assert_eq!(
        level,
        Level {
            available: 3,
            reserved: 1
        }
    );
    drop(state);
    assert_eq!(kinds(&fake), ["invoice check", "shipped"]);
}

#[tokio::test]
async fn conflicts_on_every_attempt_end_in_the_409_and_publish_nothing() {
    let fake = routed().conflicting(ATTEMPTS);
    let e = api_error(act_on_delivery_order(&fake, &ship(2)).await);
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "concurrent_modification")
    );
    assert_eq!(e.message, "the delivery order kept changing; please retry");
    let state = fake.state();
    assert!(state.commits.is_empty() && state.published.is_empty());
    assert_eq!(state.deliveries["D1"].version, 0);
    assert!(state.conflicts.is_empty(), "every attempt committed once");
}

#[tokio::test]
async fn a_refused_plan_commits_and_publishes_nothing() {
    let fake = routed();
    let e = api_error(act_on_delivery_order(&fake, &ship(4)).await);
    assert_eq!(e.status, 422);
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());
    let e = api_error(
        act_on_delivery_order(
            &fake,
            &ActOnDeliveryOrder {
                fulfiller: "other".try_into().unwrap(),
                ..ship(1)
            },
        )
        .await,
    );
    assert_eq!(
        e.status, 404,
        "another fulfiller's delivery order is missing"
    );
}

#[tokio::test]
async fn a_shipment_commits_its_invoice_check_and_notice_with_it() {
    // No queue is used by the request: an unreachable one changes nothing.
    let fake = routed().failing_publishes();
    let d = act_on_delivery_order(&fake, &ship(3)).await.unwrap();
    assert_eq!(d.status, DeliveryStatus::Shipped);
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    let committed: Vec<_> = state.commits[0]
        .messages
        .iter()
        .map(|m| match m {
            Message::Documents(GenerateDocuments::Shipment { .. }) => "invoice check",
            Message::Event(BusinessEvent::DeliveryShipped { .. }) => "shipped",
            _ => "other",
        })
        .collect();
    assert_eq!(committed, ["invoice check", "shipped"]);
}

#[tokio::test]
async fn a_rejection_asks_for_rerouting_once_in_its_commit() {
    let fake = routed().conflicting(2);
    let d = act_on_delivery_order(&fake, &reject()).await.unwrap();
    assert_eq!(d.status, DeliveryStatus::Rejected);
    assert_eq!(kinds(&fake), ["route"]);
    assert_eq!(
        fake.state().stock[&crate::testing::stock_key("acme", "A")].reserved,
        0
    );
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    let [Message::Route(route)] = state.commits[0].messages.as_slice() else {
        panic!("{:?}", state.commits[0].messages);
    };
    assert_eq!(route.order_id.as_str(), "o1");
    assert!(route.due.is_none());
    // The round it asks for follows the process settings in force at the rejection.
    assert!(route.triggered_at.is_some());
}

#[tokio::test]
async fn accepting_twice_writes_once() {
    let fake = routed();
    let accept = ActOnDeliveryOrder {
        action: DeliveryOrderAction::Accept,
        ..ship(0)
    };
    let first = act_on_delivery_order(&fake, &accept).await.unwrap();
    let again = act_on_delivery_order(&fake, &accept).await.unwrap();
    assert_eq!((first.status, first.version), (DeliveryStatus::Accepted, 1));
    assert_eq!(again, first);
    assert_eq!(fake.state().commits.len(), 1);
    assert!(fake.state().published.is_empty());
}

fn receipt() -> ReceiveReturn {
    ReceiveReturn {
        fulfiller: "acme".try_into().unwrap(),
        return_id: "RT-1".into(),
        receipt: json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"},
            {"lineId": "L1", "quantity": 1, "condition": "damaged"}]}),
    }
}

#[tokio::test]
async fn a_receipt_restocks_what_can_be_sold_and_asks_for_settlement_once() {
    let fake = routed()
        .with_return_part(crate::testing::return_part())
        .conflicting(1);
    let part = receive_return(&fake, &fake, &receipt()).await.unwrap();
    assert_eq!(part.status, ReturnStatus::Received);
    assert_eq!(
        fake.state().stock[&crate::testing::stock_key("acme", "A")].available,
        6
    );
    assert_eq!(kinds(&fake), ["settle"]);

    let fake = routed()
        .with_return_part(crate::testing::return_part())
        .conflicting(ATTEMPTS);
    let e = api_error(receive_return(&fake, &fake, &receipt()).await);
    assert_eq!(e.message, "the return kept changing; please retry");
    assert!(fake.state().published.is_empty());
}
