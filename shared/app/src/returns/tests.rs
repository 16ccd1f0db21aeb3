use super::*;
use crate::fake::Fake;
use crate::retry::ATTEMPTS;
use crate::testing::{order, return_part};

fn settle() -> SettleReturn {
    SettleReturn {
        return_id: "RT-1".into(),
        fulfiller_id: "acme".try_into().unwrap(),
    }
}

/// The order with 2 units shipped, and acme's part of RT-1 received (1 resellable, 1 damaged).
fn received() -> Fake {
    let mut o = order();
    o.lines[0].quantities.open = 1;
    o.lines[0].quantities.shipped = 2;
    o.return_ids.push("RT-1".into());
    let mut part = return_part();
    part.status = ReturnStatus::Received;
    part.lines[0].arrived = Some(dropship_core::returns::Arrived {
        resellable: 1,
        damaged: 1,
    });
    Fake::default().with_order(o).with_return_part(part)
}

fn follow_ups(refund_id: &str) -> [Message; 2] {
    [
        Message::Documents(GenerateDocuments::Refund {
            order_id: "o1".try_into().unwrap(),
            refund_id: refund_id.into(),
        }),
        Message::Event(BusinessEvent::RefundIssued {
            order_id: "o1".try_into().unwrap(),
            refund_id: refund_id.into(),
        }),
    ]
}

#[tokio::test]
async fn a_settlement_after_a_conflict_refunds_once_and_a_redelivery_does_nothing() {
    let fake = received().conflicting(1);
    settle_return(&fake, &fake, &settle()).await.unwrap();
    let id = refund_id("RT-1", "acme");
    {
        let state = fake.state();
        assert_eq!(state.commits.len(), 1);
        let o = &state.orders["o1"];
        assert_eq!(o.lines[0].quantities.returned, 2);
        assert_eq!(
            dropship_core::ledger::refunds(o)
                .iter()
                .map(|r| r.id.clone())
                .collect::<Vec<_>>(),
            std::slice::from_ref(&id)
        );
        let part = &state.return_parts[&("RT-1".to_string(), crate::testing::fulfiller_id("acme"))];
        assert_eq!(
            (part.status, part.refund_id.as_deref()),
            (ReturnStatus::Refunded, Some(id.as_str()))
        );
        assert_eq!(state.published, follow_ups(&id));
    }
    settle_return(&fake, &fake, &settle()).await.unwrap();
    let state = fake.state();
    assert_eq!(state.commits.len(), 1, "settled once");
    // The follow-ups went out with the commit (its outbox); the redelivery adds none.
    assert_eq!(state.published, follow_ups(&id));
    assert_eq!(state.commits[0].messages, follow_ups(&id));
}

#[tokio::test]
async fn a_return_that_keeps_changing_is_left_for_the_redelivery() {
    let fake = received().conflicting(ATTEMPTS);
    let e = settle_return(&fake, &fake, &settle()).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "return RT-1 kept changing while being settled"
    );
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());
}
