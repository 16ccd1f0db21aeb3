use super::*;
use serde_json::json;

fn outbox(commit_id: &str, messages: serde_json::Value) -> serde_json::Value {
    json!({"M": {"commitId": {"S": commit_id}, "messages": {"L": messages}}})
}

fn message(queue: &str, body: &str) -> serde_json::Value {
    json!({"M": {"queue": {"S": queue}, "body": {"S": body}}})
}

fn event(new: Option<serde_json::Value>, old: Option<serde_json::Value>) -> StreamEvent {
    let image = |o: Option<serde_json::Value>| {
        o.map(|o| json!({"pk": {"S": "ORDER#o1"}, "version": {"N": "3"}, "outbox": o}))
    };
    let mut dynamodb = json!({"Keys": {"pk": {"S": "ORDER#o1"}}, "SequenceNumber": "100",
        "StreamViewType": "NEW_AND_OLD_IMAGES"});
    if let Some(new) = image(new) {
        dynamodb["NewImage"] = new;
    }
    if let Some(old) = image(old) {
        dynamodb["OldImage"] = old;
    }
    serde_json::from_value(json!({"Records": [{"eventName": "MODIFY", "dynamodb": dynamodb}]}))
        .unwrap()
}

#[test]
fn a_new_commit_sends_its_messages_in_per_queue_batches_in_order() {
    let new = outbox(
        "c2",
        json!([
            message("events", r#"{"type":"a"}"#),
            message("events", r#"{"type":"b"}"#),
            message("documents", r#"{"kind":"invoice"}"#),
            message("events", r#"{"type":"c"}"#),
        ]),
    );
    let old = outbox("c1", json!([message("route", r#"{"orderId":"o1"}"#)]));
    let event = event(Some(new), Some(old));
    let messages = messages_of(&event.records[0].dynamodb).unwrap();
    assert_eq!(
        batches(messages),
        [
            (
                QueueKind::Events,
                vec![r#"{"type":"a"}"#.to_string(), r#"{"type":"b"}"#.to_string()]
            ),
            (
                QueueKind::Documents,
                vec![r#"{"kind":"invoice"}"#.to_string()]
            ),
            (QueueKind::Events, vec![r#"{"type":"c"}"#.to_string()]),
        ]
    );
}

#[test]
fn an_insert_sends_its_outbox() {
    let new = outbox("c1", json!([message("route", r#"{"orderId":"o1"}"#)]));
    let event = event(Some(new), None);
    let messages = messages_of(&event.records[0].dynamodb).unwrap();
    assert_eq!(
        batches(messages),
        [(QueueKind::Route, vec![r#"{"orderId":"o1"}"#.to_string()])]
    );
}

#[test]
fn a_write_that_kept_the_outbox_sends_nothing_again() {
    let same = outbox("c1", json!([message("events", "{}")]));
    let event = event(Some(same.clone()), Some(same));
    assert!(messages_of(&event.records[0].dynamodb).unwrap().is_empty());
}

#[test]
fn a_malformed_outbox_is_an_error_that_fails_the_record() {
    let bad = outbox("c1", json!([message("mail", "{}")]));
    let event = event(Some(bad), None);
    assert!(messages_of(&event.records[0].dynamodb).is_err());
}

#[test]
fn the_failure_answer_names_the_record_by_sequence_number() {
    let answer = BatchResponse {
        batch_item_failures: vec![ItemFailure {
            item_identifier: "100".into(),
        }],
    };
    assert_eq!(
        serde_json::to_value(answer).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "100"}]})
    );
}

#[test]
fn the_aggregator_hears_of_order_writes_only() {
    let record = |image: serde_json::Value| -> StreamImages {
        serde_json::from_value(json!({"SequenceNumber": "1", "NewImage": image})).unwrap()
    };
    let order = record(json!({"pk": {"S": "ORDER#o1"}, "gsi1pk": {"S": "ORDERS"}}));
    assert_eq!(order_id_of(&order), Some("o1".to_string()));
    // A hold of reservations lives in the same table under another index key.
    let hold = record(json!({"pk": {"S": "HOLD#o1#3"}, "gsi1pk": {"S": "HOLDS"}}));
    assert_eq!(order_id_of(&hold), None);
    let deleted: StreamImages = serde_json::from_value(json!({"SequenceNumber": "2"})).unwrap();
    assert_eq!(order_id_of(&deleted), None);
}
