use std::collections::HashSet;

use serde_json::json;

use super::api::{lambda_record, on_failure_record, Discarded};
use super::*;

const STREAM: &str =
    "arn:aws:dynamodb:eu-central-1:123456789012:table/Orders/stream/2026-12-02T10:00:00.000";

/// A record as moto's GetRecords returns it.
fn emulator_record(seq: &str, pk: &str) -> Value {
    json!({
        "eventID": "4b25b2f5f7f94e5e9d2d1d1c2a4b6f01",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.0",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1_780_000_000.25,
            "SequenceNumber": seq,
            "SizeBytes": 97,
            "Keys": {"pk": {"S": pk}},
            "NewImage": {"pk": {"S": pk}, "status": {"S": "shipped"}, "lines": {"N": "2"}},
            "OldImage": {"pk": {"S": pk}, "status": {"S": "open"}, "lines": {"N": "2"}}
        }
    })
}

#[test]
fn the_event_is_what_lambda_sends_and_aws_lambda_events_reads_it() {
    let record = lambda_record(
        emulator_record("1100000000017454423009", "ORDER#o-1"),
        STREAM,
    );
    assert_eq!(record["eventSourceARN"], STREAM);
    assert_eq!(record["awsRegion"], "eu-central-1");
    assert_eq!(record["eventVersion"], "1.1");
    assert_eq!(
        record["dynamodb"]["ApproximateCreationDateTime"],
        json!(1_780_000_000)
    );
    let event = json!({ "Records": [record] });
    let parsed: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(event).expect("a DynamoDbEvent");
    let r = &parsed.records[0];
    assert_eq!(r.event_name, "MODIFY");
    assert_eq!(r.event_source.as_deref(), Some("aws:dynamodb"));
    assert_eq!(r.event_source_arn.as_deref(), Some(STREAM));
    assert_eq!(r.aws_region, "eu-central-1");
    assert_eq!(
        r.change.sequence_number.as_deref(),
        Some("1100000000017454423009")
    );
    assert_eq!(r.change.size_bytes, 97);
    assert_eq!(
        r.change.approximate_creation_date_time.timestamp(),
        1_780_000_000
    );
    assert!(r.change.new_image.get("status").is_some());
    assert!(r.change.old_image.get("status").is_some());
    assert!(r.change.keys.get("pk").is_some());
}

#[test]
fn iso_creation_times_become_epoch_seconds() {
    let mut raw = emulator_record("1", "a");
    raw["dynamodb"]["ApproximateCreationDateTime"] = json!("2026-12-02T10:00:00Z");
    let record = lambda_record(raw, STREAM);
    assert_eq!(
        record["dynamodb"]["ApproximateCreationDateTime"],
        json!(1_796_205_600)
    );
}

#[test]
fn the_on_failure_record_names_the_batch_not_its_records() {
    let batch = vec![
        lambda_record(emulator_record("11", "a"), STREAM),
        lambda_record(emulator_record("12", "b"), STREAM),
    ];
    let v = on_failure_record(
        "arn:aws:lambda:eu-central-1:123456789012:function:F",
        STREAM,
        "shardId-1",
        &batch,
        3,
        Discarded::RetryAttemptsExhausted,
    );
    assert_eq!(v["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(v["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(v["responseContext"]["functionError"], "Unhandled");
    let info = &v["DDBStreamBatchInfo"];
    assert_eq!(info["shardId"], "shardId-1");
    assert_eq!(info["startSequenceNumber"], "11");
    assert_eq!(info["endSequenceNumber"], "12");
    assert_eq!(info["batchSize"], 2);
    assert_eq!(info["streamArn"], STREAM);
    assert_eq!(
        info["approximateArrivalOfFirstRecord"],
        "2026-05-28T20:26:40.000Z"
    );
    assert!(v.get("Records").is_none() && v["version"] == "1.0");
}

#[test]
fn partial_failures_resume_at_the_lowest_failed_sequence_number() {
    let ids: Vec<String> = ["10", "11", "12"].iter().map(|s| s.to_string()).collect();
    let failed =
        |s: &[&str]| Settle::AllBut(s.iter().map(|x| x.to_string()).collect::<HashSet<_>>());
    assert_eq!(outcome(Settle::All, &ids), Outcome::Success);
    assert_eq!(outcome(Settle::None, &ids), Outcome::Error);
    assert_eq!(outcome(failed(&["12", "11"]), &ids), Outcome::FailedFrom(1));
    assert_eq!(outcome(failed(&["10"]), &ids), Outcome::FailedFrom(0));
}

#[test]
fn of_duplicate_deliveries_the_furthest_counts() {
    assert_eq!(
        best(vec![Outcome::Error, Outcome::Success]),
        Outcome::Success
    );
    assert_eq!(
        best(vec![
            Outcome::FailedFrom(2),
            Outcome::Error,
            Outcome::FailedFrom(0)
        ]),
        Outcome::FailedFrom(2)
    );
    assert_eq!(best(vec![Outcome::Error]), Outcome::Error);
    assert_eq!(best(Vec::new()), Outcome::Error);
}

#[test]
fn the_sample_stream_event_has_the_shape_the_runner_sends() {
    let sample: Value =
        serde_json::from_str(include_str!("../../../../events/dynamodb-stream.json"))
            .expect("events/dynamodb-stream.json is JSON");
    let parsed: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(sample.clone()).expect("a DynamoDbEvent");
    assert_eq!(parsed.records.len(), 1);
    let record = &sample["Records"][0];
    let ours = lambda_record(emulator_record("1", "ORDER#o-1"), STREAM);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(record), keys(&ours));
    assert_eq!(keys(&record["dynamodb"]), keys(&ours["dynamodb"]));
    for field in ["eventSource", "eventVersion", "awsRegion"] {
        assert_eq!(record[field], ours[field], "{field}");
    }
}

#[test]
fn a_child_shard_waits_until_its_parent_is_read_to_its_end() {
    let shard = |id: &str, parent: Option<&str>| Shard {
        id: id.into(),
        parent: parent.map(str::to_string),
    };
    let shards = vec![
        shard("old", None),
        shard("left", Some("old")),
        shard("right", Some("old")),
        shard("orphan", Some("trimmed")),
    ];
    let ids = |v: Vec<&Shard>| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let none = HashSet::new();
    assert_eq!(ids(ready_shards(&shards, &none, &none)), ["old", "orphan"]);
    let started: HashSet<String> = ["old".to_string(), "orphan".to_string()].into();
    assert!(ready_shards(&shards, &started, &none).is_empty());
    let finished: HashSet<String> = ["old".to_string()].into();
    assert_eq!(
        ids(ready_shards(&shards, &started, &finished)),
        ["left", "right"]
    );
}

#[test]
fn records_older_than_the_maximum_age_are_the_first_ones() {
    let at = |seq: &str, created: f64| {
        let mut r = emulator_record(seq, "a");
        r["dynamodb"]["ApproximateCreationDateTime"] = json!(created);
        r
    };
    let records = vec![at("1", 1000.0), at("2", 1030.0), at("3", 1100.0)];
    let minute = Duration::from_secs(60);
    assert_eq!(expired_prefix(&records, minute, 1050.0), 0);
    assert_eq!(expired_prefix(&records, minute, 1061.0), 1);
    assert_eq!(expired_prefix(&records, minute, 1095.0), 2);
    assert_eq!(expired_prefix(&records, minute, 2000.0), 3);
}
