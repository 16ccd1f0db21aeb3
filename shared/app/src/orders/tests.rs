use super::*;
use crate::retry::ATTEMPTS;
use crate::testing::{api_error, routed};

fn cancel_all(channel: &str) -> CancelOrder {
    CancelOrder {
        by: Acting::Channel(channel.into()),
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
        by: Acting::Channel("shop".into()),
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

#[tokio::test]
async fn customer_service_cancels_any_channels_order_in_its_own_name() {
    let fake = routed();
    let command = CancelOrder {
        by: Acting::Staff("admin:Ann Admin".into()),
        order: "o1".into(),
        request: None,
    };
    let (order, deliveries) = cancel_order(&fake, &fake, &command).await.unwrap();
    assert_eq!(deliveries[0].status, DeliveryStatus::Cancelled);
    assert!(order.history.iter().any(|h| h.who == "admin:Ann Admin"));
    assert!(order.history.iter().all(|h| !h.who.starts_with("channel:")));
    // A missing order is missing for staff too.
    let e = api_error(
        cancel_order(
            &fake,
            &fake,
            &CancelOrder {
                order: "o9".into(),
                ..command
            },
        )
        .await,
    );
    assert_eq!(e.status, 404);
}

/// The order with acme's part of return RT-1 authorized.
fn with_authorized_return() -> crate::fake::Fake {
    let mut o = crate::testing::order();
    o.return_ids.push("RT-1".into());
    crate::fake::Fake::default()
        .with_order(o)
        .with_return_part(crate::testing::return_part())
}

#[tokio::test]
async fn a_rejection_rejects_the_return_tells_the_customer_and_names_the_staff_member() {
    use dropship_core::returns::ReturnStatus;
    let fake = with_authorized_return().conflicting(1);
    let reject = RejectReturn {
        admin: "admin:Ann".into(),
        return_id: "RT-1".into(),
        request: serde_json::json!({"reason": "worn and washed"}),
    };
    let parts = reject_return(&fake, &reject).await.unwrap();
    assert!(parts.iter().all(|p| p.status == ReturnStatus::Rejected));
    {
        let state = fake.state();
        assert_eq!(state.commits.len(), 1);
        assert_eq!(
            state.commits[0].messages,
            [Message::Event(BusinessEvent::ReturnRejected {
                order_id: "o1".try_into().unwrap(),
                return_id: "RT-1".into()
            })]
        );
        let last = state.orders["o1"].history.last().cloned().unwrap();
        assert_eq!(last.who, "admin:Ann");
        assert!(last.what.contains("RT-1 rejected") && last.what.contains("worn and washed"));
    }
    // Rejected once: a second rejection is refused, and writes nothing.
    let e = api_error(reject_return(&fake, &reject).await);
    assert_eq!((e.status, e.code.as_str()), (409, "return_not_authorized"));
    let e = api_error(
        reject_return(
            &fake,
            &RejectReturn {
                return_id: "RT-9".into(),
                ..reject.clone()
            },
        )
        .await,
    );
    assert_eq!(e.status, 404);
    let e = api_error(
        reject_return(
            &fake,
            &RejectReturn {
                request: serde_json::json!({}),
                ..reject
            },
        )
        .await,
    );
    assert_eq!((e.status, e.field.as_deref()), (422, Some("reason")));
    assert_eq!(fake.state().commits.len(), 1);
}
