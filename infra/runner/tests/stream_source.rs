//! The DynamoDB stream event source end to end, with the echo example function behind it
//! (see its `stream_batch` for how records make it fail): order per item, filter criteria,
//! one record per change of a transaction, retries, partial batch failures, bisection down to
//! a poison record, the on-failure queue, and duplicate and kill faults.
//! Needs the example built (`cargo test -p local-runner` does it).
#![allow(
    clippy::expect_used,
    reason = "test code (with the shared support module): a failed expect is a failed test"
)]

// The end-to-end tests' harness; this file uses only part of it.
#[path = "../../../tests/tests/e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use serde_json::{json, Value};
use support::{echo_bin_dir, Stack, TempDir};

const STREAM_TEMPLATE: &str = r#"
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 2
    Environment: { Variables: { ECHO_STATE_DIR: "@STATE@" } }
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
  Follow:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: follow } }
    Properties:
      Environment: { Variables: { STREAM: !GetAtt Orders.StreamArn } }
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 4
            MaximumBatchingWindowInSeconds: 1
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig: { OnFailure: { Destination: !GetAtt ChangesFailed.Arn } }
            FilterCriteria:
              Filters:
                - Pattern: '{"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": {"prefix": "skip"}}]}}}}'
  ChangesFailed:
    Type: AWS::SQS::Queue
"#;

/// The batches the echo function saw, in order: each a list of `pk=v`.
fn batches(stack: &Stack) -> Vec<Vec<String>> {
    stack
        .output
        .text()
        .lines()
        .filter_map(|l| l.split_once("echo-stream-batch Follow ").map(|(_, b)| b))
        .map(|b| serde_json::from_str(b).expect("a batch line"))
        .collect()
}

/// How often each `pk=v` was delivered.
fn deliveries(stack: &Stack) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for record in batches(stack).into_iter().flatten() {
        *n.entry(record).or_insert(0) += 1;
    }
    n
}

fn item(pk: &str, v: &str, mode: Option<&str>) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("v".to_string(), AttributeValue::S(v.into())),
    ]);
    if let Some(m) = mode {
        item.insert("mode".into(), AttributeValue::S(m.into()));
    }
    item
}

async fn put(ddb: &aws_sdk_dynamodb::Client, pk: &str, v: &str, mode: Option<&str>) {
    ddb.put_item()
        .table_name("Orders")
        .set_item(Some(item(pk, v, mode)))
        .send()
        .await
        .expect("put item");
}

/// One BatchWriteItem, so that its records arrive in one batch.
async fn put_all(ddb: &aws_sdk_dynamodb::Client, items: &[(&str, Option<&str>)]) {
    let requests = items
        .iter()
        .map(|(pk, mode)| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item(pk, "1", *mode)))
                        .build()
                        .expect("put request"),
                )
                .build()
        })
        .collect();
    ddb.batch_write_item()
        .request_items("Orders", requests)
        .send()
        .await
        .expect("batch write");
}

async fn seen(stack: &Stack, what: &str, expected: &[(&str, usize)]) {
    stack
        .eventually(what, Duration::from_secs(30), || async {
            let n = deliveries(stack);
            expected
                .iter()
                .all(|(record, count)| n.get(*record).copied().unwrap_or(0) >= *count)
                .then_some(())
        })
        .await;
}

/// Runs `during` with a fault rule for the stream's function, then removes the rule.
async fn with_fault<F, Fut>(stack: &Stack, mut rule: Value, during: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rule["function"] = json!("follow");
    let (status, body) = stack.post("/_local/faults", None, &rule).await;
    assert_eq!(status, 201, "{body}");
    during().await;
    let (status, body) = stack.delete("/_local/faults", None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_event_source_like_lambda() {
    let dir = TempDir::new("dropship-stream");
    let state = TempDir::new("dropship-stream-state");
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        STREAM_TEMPLATE.replace("@STATE@", &state.path().display().to_string()),
    )
    .expect("write template");
    let bins = echo_bin_dir(&template);
    let stack = Stack::builder()
        .template(&template)
        .bin_dir(bins.path())
        .start()
        .await;
    let config = stack.aws_sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);

    // Order per item, every kind of change, and records the filter rejects never delivered.
    put(&ddb, "a", "1", None).await;
    put(&ddb, "skip-1", "1", None).await;
    put(&ddb, "a", "2", None).await;
    put(&ddb, "b", "1", None).await;
    ddb.update_item()
        .table_name("Orders")
        .key("pk", AttributeValue::S("a".into()))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", AttributeValue::S("3".into()))
        .send()
        .await
        .expect("update");
    ddb.delete_item()
        .table_name("Orders")
        .key("pk", AttributeValue::S("b".into()))
        .send()
        .await
        .expect("delete");
    seen(&stack, "the first changes", &[("a=3", 1), ("b=-", 1)]).await;
    let order: Vec<String> = batches(&stack).into_iter().flatten().collect();
    assert_eq!(order, ["a=1", "a=2", "b=1", "a=3", "b=-"], "{order:?}");

    // A transaction of three items gives one record each; a cancelled one gives none.
    let transact_put = |pk: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name("Orders")
                    .set_item(Some(item(pk, "1", None)))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .expect("put"),
            )
            .build()
    };
    ddb.transact_write_items()
        .set_transact_items(Some(vec![
            transact_put("t1"),
            transact_put("t2"),
            transact_put("t3"),
        ]))
        .send()
        .await
        .expect("transaction");
    let cancelled = ddb
        .transact_write_items()
        .set_transact_items(Some(vec![transact_put("t4"), transact_put("t1")]))
        .send()
        .await;
    assert!(
        cancelled.is_err(),
        "t1 exists: the transaction is cancelled"
    );
    put(&ddb, "after-transactions", "1", None).await;
    seen(
        &stack,
        "the transaction's records",
        &[("after-transactions=1", 1)],
    )
    .await;
    let n = deliveries(&stack);
    for t in ["t1=1", "t2=1", "t3=1"] {
        assert_eq!(n.get(t), Some(&1), "{t}: {n:?}");
    }
    assert_eq!(n.get("t4=1"), None, "{n:?}");

    // An error retries the same batch.
    put(&ddb, "e", "1", Some("error-once")).await;
    seen(&stack, "the retried batch", &[("e=1", 2)]).await;

    // A partial failure resumes at the failed record without re-sending the ones before it.
    put_all(
        &ddb,
        &[("p1", None), ("p2", Some("partial-once")), ("p3", None)],
    )
    .await;
    seen(
        &stack,
        "the partial failure's retry",
        &[("p2=1", 2), ("p3=1", 2)],
    )
    .await;
    let partial: Vec<Vec<String>> = batches(&stack)
        .into_iter()
        .filter(|b| b.iter().any(|r| r.starts_with('p')))
        .collect();
    assert_eq!(
        partial,
        [vec!["p1=1", "p2=1", "p3=1"], vec!["p2=1", "p3=1"]],
        "{partial:?}"
    );

    // Bisection isolates a poison record; once its retries are exhausted it goes to the
    // on-failure queue, and the records behind it are delivered.
    put_all(
        &ddb,
        &[
            ("q1", None),
            ("q2", None),
            ("q3", Some("poison")),
            ("q4", None),
        ],
    )
    .await;
    put(&ddb, "behind-poison", "1", None).await;
    seen(
        &stack,
        "the record behind the poison",
        &[("behind-poison=1", 1)],
    )
    .await;
    let n = deliveries(&stack);
    assert_eq!(
        n.get("q1=1"),
        Some(&2),
        "the whole batch, then its good half: {n:?}"
    );
    assert_eq!(
        n.get("q3=1"),
        Some(&4),
        "4, 2, then 1 record, retried to the limit: {n:?}"
    );
    assert_eq!(n.get("q4=1"), Some(&3), "{n:?}");
    let dlq = sqs
        .get_queue_url()
        .queue_name("ChangesFailed")
        .send()
        .await
        .expect("queue url")
        .queue_url
        .unwrap_or_default();
    let failed = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(failed.messages().len(), 1, "{failed:?}");
    let record: Value =
        serde_json::from_str(failed.messages()[0].body().unwrap_or("")).expect("invocation record");
    assert_eq!(
        record["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 4);
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:eu-central-1:123456789012:function:Follow"
    );
    let info = &record["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1, "{record}");
    assert_eq!(
        info["startSequenceNumber"], info["endSequenceNumber"],
        "{record}"
    );
    assert!(
        info["shardId"]
            .as_str()
            .is_some_and(|s| s.starts_with("shardId-")),
        "{record}"
    );
    assert!(
        info["streamArn"]
            .as_str()
            .is_some_and(|s| s.contains(":table/Orders/stream/")),
        "{record}"
    );
    assert!(
        info["approximateArrivalOfFirstRecord"].is_string(),
        "{record}"
    );

    // Faults: a duplicated batch is delivered twice, a killed invocation is retried.
    with_fault(&stack, json!({"duplicate": {"times": 2}}), || async {
        put(&ddb, "d", "1", None).await;
        seen(&stack, "the duplicated batch", &[("d=1", 2)]).await;
    })
    .await;
    let retries = |stats: &Value| stats["follow"]["streams"]["Changes"]["retries"].as_u64();
    let retries_before = retries(&stack.stats().await);
    with_fault(&stack, json!({"kill": {"count": 1}}), || async {
        put(&ddb, "k", "1", None).await;
        seen(&stack, "the killed batch's retry", &[("k=1", 1)]).await;
    })
    .await;

    let stats = stack.stats().await;
    let follow = &stats["follow"];
    let changes = &follow["streams"]["Changes"];
    assert_eq!(changes["filtered"], 1, "{stats}");
    assert_eq!(changes["discarded"], 1, "{stats}");
    assert!(changes["partialFailures"].as_u64() >= Some(1), "{stats}");
    assert!(changes["bisections"].as_u64() >= Some(2), "{stats}");
    assert!(changes["retries"].as_u64() >= Some(6), "{stats}");
    assert!(changes["batches"].as_u64() >= Some(12), "{stats}");
    assert!(
        changes["checkpoints"]
            .as_object()
            .is_some_and(|c| c.len() == 1),
        "{stats}"
    );
    assert_eq!(follow["faults"]["duplicateBatches"], 1, "{stats}");
    // The killed invocation failed its batch, which was delivered again.
    assert_eq!(follow["faults"]["killed"], 1, "{stats}");
    assert_eq!(retries(&stats), retries_before.map(|n| n + 1), "{stats}");
}
