use super::*;
use crate::retry::ATTEMPTS;
use crate::testing::{api_error, routed};
use serde_json::json;

fn command(movement: MoneyMovement, entry: serde_json::Value) -> RecordMoney {
    RecordMoney {
        admin: "ann".into(),
        order: "o1".into(),
        movement,
        entry,
    }
}

fn goodwill() -> RecordMoney {
    command(
        MoneyMovement::Goodwill,
        json!({"amount": "5.00", "reason": "late"}),
    )
}

#[tokio::test]
async fn goodwill_after_a_conflict_is_entered_once_with_its_notice_and_credit() {
    let fake = routed().conflicting(2);
    let recorded = record_money(&fake, &fake, &goodwill()).await.unwrap();
    assert_eq!(recorded.entry["amount"], json!("5.00"));
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert_eq!(dropship_core::ledger::refunds(&state.orders["o1"]).len(), 1);
    let refund_id = recorded.entry["id"].as_str().unwrap().to_string();
    assert_eq!(
        state.published,
        [
            Message::Event(BusinessEvent::RefundIssued {
                order_id: "o1".try_into().unwrap(),
                refund_id: refund_id.clone()
            }),
            Message::Documents(GenerateDocuments::Refund {
                order_id: "o1".try_into().unwrap(),
                refund_id
            }),
        ]
    );
}

#[tokio::test]
async fn a_busy_order_ends_in_the_409_and_a_refused_entry_in_its_error() {
    let fake = routed().conflicting(ATTEMPTS);
    let e = api_error(record_money(&fake, &fake, &goodwill()).await);
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "concurrent_modification")
    );
    assert_eq!(e.message, "the order kept changing; please retry");
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());

    let fake = routed();
    let too_much = command(
        MoneyMovement::Goodwill,
        json!({"amount": "31.00", "reason": "late"}),
    );
    let e = api_error(record_money(&fake, &fake, &too_much).await);
    assert_eq!((e.status, e.field.as_deref()), (422, Some("amount")));
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());
}

#[tokio::test]
async fn a_chargeback_opens_an_alert_and_a_lost_refund_notice_fails_after_the_commit() {
    let fake = routed();
    let chargeback = command(
        MoneyMovement::Chargeback,
        json!({"paymentReference": "p1", "amount": "30.00", "reason": "fraud"}),
    );
    record_money(&fake, &fake, &chargeback).await.unwrap();
    // The alert for customer service is a follow-up of the commit, relayed with it.
    let published = fake.state().published.clone();
    assert_eq!(published.len(), 1, "{published:?}");
    assert!(
        matches!(
            &published[0],
            Message::Event(BusinessEvent::ChargebackRecorded { order_id, entry_id })
                if order_id == "o1" && entry_id.starts_with("led_")
        ),
        "{published:?}"
    );

    // The refund's follow-ups are committed with it: an unreachable queue is the relay's
    // concern, not the request's.
    let fake = routed().failing_publishes();
    record_money(&fake, &fake, &goodwill()).await.unwrap();
    assert_eq!(fake.state().commits.len(), 1);
    assert_eq!(fake.state().commits[0].messages.len(), 2);
}
