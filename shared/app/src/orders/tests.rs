use super::*;
use crate::retry::ATTEMPTS;
use crate::testing::{api_error, routed};

fn cancel_all(channel: &str) -> CancelOrder {
    CancelOrder {
        channel: channel.into(),
        order: "o1".into(),
        request: None,
    }
}

#[tokio::test]
async fn a_cancellation_retried_after_a_conflict_releases_refunds_and_tells_once() {
    let fake = routed().conflicting(1);
    let (order, deliveries) = cancel_order(&fake, &fake, &cancel_all("web"))
        .await
        .unwrap();
    assert_eq!(deliveries[0].status, DeliveryStatus::Cancelled);
    assert_eq!(dropship_core::ledger::refunds(&order).len(), 1);
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert_eq!(
        state.stock[&crate::testing::stock_key("acme", "A")].reserved,
        0
    );
    let kinds: Vec<_> = state
        .published
        .iter()
        .map(|m| match m {
            Message::Event(BusinessEvent::DeliveryOrderChanged { cancelled, .. }) => {
                format!("changed cancelled={cancelled}")
            }
            Message::Event(BusinessEvent::OrderCancelled { refund_id, .. }) => {
                format!("cancelled refund={}", refund_id.is_some())
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["changed cancelled=true", "cancelled refund=true"]);
}

#[tokio::test]
async fn the_notices_are_committed_with_the_cancellation_not_sent_after_it() {
    // A queue that cannot be reached does not matter: nothing is sent by the use case.
    let fake = routed().failing_publishes();
    cancel_order(&fake, &fake, &cancel_all("web"))
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert_eq!(state.commits[0].messages.len(), 2);
    assert_eq!(
        state.publish_failures,
        usize::MAX,
        "the publisher was not used"
    );
}

#[tokio::test]
async fn another_channels_order_is_missing_and_a_busy_one_ends_in_the_409() {
    let fake = routed();
    let e = api_error(cancel_order(&fake, &fake, &cancel_all("shop")).await);
    assert_eq!(e.status, 404);
    // The body is not even looked at for someone else's order.
    let bad = AuthorizeReturn {
        channel: "shop".into(),
        order: "o1".into(),
        request: serde_json::json!("nonsense"),
    };
    let e = api_error(authorize_return(&fake, &fake, &bad).await);
    assert_eq!(e.status, 404);

    let fake = routed().conflicting(ATTEMPTS);
    let e = api_error(cancel_order(&fake, &fake, &cancel_all("web")).await);
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "concurrent_modification")
    );
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());
}
