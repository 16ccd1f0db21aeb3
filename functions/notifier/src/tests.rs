//! The handler on its own: every sample event is a business event, and an unreadable message
//! fails alone. What each mail says is tested beside the mails, in `mails/tests.rs`.

use super::*;
use dropship_aws::config::{offline, offline_config, FromConfig};

#[test]
fn every_sample_event_is_a_business_event() {
    let sample: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_str(include_str!("../../../events/notifier.json")).unwrap();
    assert!(sample.records.len() >= 5);
    for r in sample.records {
        let body = r.body.unwrap();
        serde_json::from_str::<BusinessEvent>(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
    }
}

#[tokio::test]
async fn an_unreadable_message_is_reported_alone() {
    let handler = Notifier::from_config(&offline_config().unwrap(), &offline()).unwrap();
    let mut event =
        dropship_aws::sqs_batch::with_poison(include_str!("../../../events/notifier.json"));
    // Offline, every readable event fails at its idempotency claim; keep the poison alone.
    event
        .records
        .retain(|r| r.message_id.as_deref() == Some("poison-1"));
    let resp = handler.handle(event, chrono::Utc::now()).await;
    let failed: Vec<&str> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["poison-1"]);
}
