//! The runner end to end with the echo example function standing in for every binary:
//! HTTP API and authorizer semantics, the Lambda environment, SQS polling with partial batch
//! failures and redrive, timeouts and crashes, schedules, S3 notifications and the outbox.
//! Needs the example built (`cargo test -p local-runner` does it).
#![allow(
    clippy::expect_used,
    reason = "test code (with the shared support module): a failed expect is a failed test"
)]

// The end-to-end tests' harness; this file uses only part of it.
#[path = "../../../tests/tests/e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{echo_bin_dir, workspace_root, Stack, TempDir};

const MINI_TEMPLATE: &str = r#"
Parameters:
  MaxReceive: { Type: Number, Default: 2 }
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 1
    Environment: { Variables: { SHARED: global } }
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Echo:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: echo } }
    Properties:
      Environment: { Variables: { WORK_QUEUE_URL: !Ref Work, BUCKET: !Ref Files, JOINED: !Join ["|", [!Ref Work, !GetAtt WorkDlq.Arn]] } }
      Events:
        Any: { Type: HttpApi, Properties: { ApiId: !Ref Api, Method: ANY, Path: "/{proxy+}" } }
        Work: { Type: SQS, Properties: { Queue: !GetAtt Work.Arn, BatchSize: 10, FunctionResponseTypes: [ReportBatchItemFailures] } }
        Daily: { Type: Schedule, Properties: { Schedule: rate(1 day), Input: '{"tick": true}' } }
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: { deadLetterTargetArn: !GetAtt WorkDlq.Arn, maxReceiveCount: !Ref MaxReceive }
  WorkDlq:
    Type: AWS::SQS::Queue
  Files:
    Type: AWS::S3::Bucket
"#;

async fn queue_depth(sqs: &aws_sdk_sqs::Client, name: &str) -> (i64, i64) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .expect("queue url")
        .queue_url
        .unwrap_or_default();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let get = |a: A| {
        attrs
            .attributes()
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        get(A::ApproximateNumberOfMessages),
        get(A::ApproximateNumberOfMessagesNotVisible),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn mini_template_timeouts_crashes_sqs_and_schedules() {
    let dir = TempDir::new("dropship-mini");
    let template = dir.path().join("template.yaml");
    std::fs::write(&template, MINI_TEMPLATE).expect("write template");
    let bins = echo_bin_dir(&template);
    let stack = Stack::builder()
        .template(&template)
        .bin_dir(bins.path())
        .start()
        .await;

    // Routes, greedy path parameters, no authorizer, resolved environment.
    let (status, body) = stack.get("/hello/world?a=1", None).await;
    assert_eq!(status, 200, "{body}");
    // The echo function answers with its event and environment.
    let event = &body["event"];
    assert_eq!(event["routeKey"], "ANY /{proxy+}");
    assert_eq!(event["pathParameters"]["proxy"], "hello/world");
    assert!(event["requestContext"].get("authorizer").is_none());
    let env = &body["env"];
    assert_eq!(env["SHARED"], "global");
    assert_eq!(env["BUCKET"], "dropship-files");
    let work_url = env["WORK_QUEUE_URL"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(work_url.ends_with("/Work"), "{work_url}");
    assert_eq!(
        env["JOINED"],
        format!("{work_url}|arn:aws:sqs:eu-central-1:123456789012:WorkDlq")
    );

    // A timeout fails the request like API Gateway and replaces the instance.
    let started = Instant::now();
    let (status, body) = stack.get("/sleep?ms=5000", None).await;
    assert_eq!(
        (status, body),
        (500, json!({"message": "Internal Server Error"}))
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // So does a crash.
    let (status, _) = stack.get("/crash", None).await;
    assert_eq!(status, 500);
    let (status, _) = stack.get("/error", None).await;
    assert_eq!(status, 500);
    for _ in 0..4 {
        let (status, _) = stack.get("/still-serving", None).await;
        assert_eq!(status, 200);
    }

    // SQS: successes are deleted, reported failures come back and end in the DLQ.
    let sqs = aws_sdk_sqs::Client::new(&stack.aws_sdk_config().await);
    for body in ["fine", "please fail"] {
        sqs.send_message()
            .queue_url(&work_url)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }
    stack
        .eventually(
            "the failing message reaches the DLQ",
            Duration::from_secs(30),
            || async {
                let work = queue_depth(&sqs, "Work").await;
                let dlq = queue_depth(&sqs, "WorkDlq").await;
                (work == (0, 0) && dlq.0 == 1).then_some(())
            },
        )
        .await;
    let dlq_url = sqs
        .get_queue_url()
        .queue_name("WorkDlq")
        .send()
        .await
        .expect("dlq url")
        .queue_url
        .unwrap_or_default();
    let dead = sqs
        .receive_message()
        .queue_url(dlq_url)
        .send()
        .await
        .expect("receive dlq");
    assert_eq!(dead.messages()[0].body(), Some("please fail"));

    // Schedules run on demand; unknown ones are 404 in the API's error shape.
    let before = stack.stats().await["echo"]["invocations"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(stack.run_schedule("echo").await, 202);
    stack
        .eventually(
            "the scheduled invocation",
            Duration::from_secs(10),
            || async {
                let now = stack.stats().await["echo"]["invocations"]
                    .as_u64()
                    .unwrap_or(0);
                (now > before).then_some(())
            },
        )
        .await;
    let (status, body) = stack
        .request("POST", "/_local/schedules/nope", None, None, &[])
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");

    let stats = stack.stats().await;
    assert!(
        stats["echo"]["errors"].as_u64().unwrap_or(0) >= 3,
        "{stats}"
    );
    assert!(stats["echo"]["coldStartMs"].is_u64(), "{stats}");
    assert!(stats["echo"]["p99Ms"].is_number(), "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn project_template_with_echo_functions() {
    let template = workspace_root().join("template.yaml");
    let bins = echo_bin_dir(&template);
    let seed_dir = TempDir::new("dropship-seed");
    let seed = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({"requests": [
            {"method": "PUT", "path": "/admin/channels/web-de", "body": {"name": "Web", "kind": "webshop"}}
        ]})
        .to_string(),
    )
    .expect("write seed");
    let stack = Stack::builder()
        .bin_dir(bins.path())
        .seed(&seed)
        .env("DROPSHIP_INSTANCES", "1")
        .start()
        .await;
    assert!(
        stack
            .output
            .text()
            .contains("Dropship OMS is running locally"),
        "banner:\n{}",
        stack.output.tail(40)
    );

    let (status, body) = stack.get("/health", None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));

    // The authorizer runs first and its context reaches the function.
    let (status, body) = stack
        .request(
            "GET",
            "/orders/o%201?x=1&x=2",
            Some("tok"),
            None,
            &[("cookie", "a=1; b=2")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let event = &body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /orders/{orderId}");
    assert_eq!(event["rawPath"], "/orders/o%201");
    assert_eq!(event["pathParameters"]["orderId"], "o 1");
    assert_eq!(event["queryStringParameters"]["x"], "1,2");
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(event["requestContext"]["stage"], "$default");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(
        event["requestContext"]["authorizer"]["lambda"]["token"],
        "Bearer tok"
    );

    // The function sees a Lambda environment, not the runner's.
    let env = &body["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "OrderApiFunction");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(
        env["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/OrderApiFunction"
    );
    assert_eq!(env["AWS_REGION"], "eu-central-1");
    // The template's LoggingConfig, as Lambda hands it to the code.
    assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "JSON");
    assert_eq!(env["AWS_LAMBDA_LOG_LEVEL"], "INFO");
    assert_eq!(env["ORDERS_TABLE"], "OrdersTable");
    // Each instance reaches the emulators through its slot's counting proxy.
    let proxy = env["AWS_ENDPOINT_URL"].as_str().unwrap_or_default();
    assert!(proxy.starts_with("http://127.0.0.1:"), "{proxy}");
    assert_ne!(proxy, stack.aws_endpoint.as_str());
    assert!(
        env.get("HOME").is_none(),
        "the runner's environment leaked: {env}"
    );
    assert!(env.get("CARGO_MANIFEST_DIR").is_none());

    // API Gateway's answers of its own.
    let (status, body) = stack.get("/orders/o-1", Some("deny")).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    let (status, body) = stack.get("/no/such/route", Some("tok")).await;
    assert_eq!((status, body), (404, json!({"message": "Not Found"})));

    // Auth: NONE skips the authorizer.
    let (status, body) = stack.get("/documents/link-1", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["event"]["requestContext"].get("authorizer").is_none());

    // JSON bodies travel as text, binary ones base64-encoded.
    let (status, body) = stack
        .post_idempotent("/orders", Some("tok"), "k-1", &json!({"a": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["body"], r#"{"a":1}"#);
    assert_eq!(body["event"]["isBase64Encoded"], false);
    assert_eq!(body["event"]["headers"]["idempotency-key"], "k-1");
    let resp = stack
        .http()
        .post(format!("{}/orders", stack.api))
        .bearer_auth("tok")
        .header("content-type", "application/pdf")
        .body(vec![0u8, 1, 2])
        .send()
        .await
        .expect("binary post");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["event"]["body"], "AAEC");
    assert_eq!(body["event"]["isBase64Encoded"], true);

    // S3 notifications reach the stock-feed function through its queue.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&stack.aws_sdk_config().await)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket("dropship-documentbucket")
        .key("stock-feeds/acme/feed.csv")
        .body(b"sku,available\n".to_vec().into())
        .send()
        .await
        .expect("put object");
    stack
        .eventually("stock-update invoked", Duration::from_secs(15), || async {
            let n = stack.stats().await["stock-update"]["invocations"]
                .as_u64()
                .unwrap_or(0);
            (n >= 1).then_some(())
        })
        .await;

    // Calls through a function's proxy are counted by service and operation, presigned URLs
    // keep resolving through it, HEAD keeps its Content-Length, and a call can be failed.
    let (status, body) = stack
        .put("/_local/calls", None, &json!({"recording": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let via_proxy = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&stack.aws_sdk_config().await)
            .endpoint_url(proxy)
            .force_path_style(true)
            .build(),
    );
    let doc = b"%PDF-1.4 proxied".to_vec();
    via_proxy
        .put_object()
        .bucket("dropship-documentbucket")
        .key("docs/proxied.pdf")
        .body(doc.clone().into())
        .send()
        .await
        .expect("put through the proxy");
    let head = via_proxy
        .head_object()
        .bucket("dropship-documentbucket")
        .key("docs/proxied.pdf")
        .send()
        .await
        .expect("head through the proxy");
    assert_eq!(head.content_length(), Some(doc.len() as i64));
    let presigned = via_proxy
        .get_object()
        .bucket("dropship-documentbucket")
        .key("docs/proxied.pdf")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(900))
                .expect("presigning config"),
        )
        .await
        .expect("presign");
    assert!(presigned.uri().starts_with(proxy), "{}", presigned.uri());
    let fetched = stack
        .http()
        .get(presigned.uri())
        .send()
        .await
        .expect("presigned GET");
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.bytes().await.expect("body").to_vec(), doc);
    let (status, body) = stack
        .post(
            "/_local/faults",
            None,
            &json!({"function": "order-api", "failAws": {"service": "s3", "operation": "GetObject",
                "kind": "throttle", "count": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let got = via_proxy
        .get_object()
        .bucket("dropship-documentbucket")
        .key("docs/proxied.pdf")
        .send()
        .await
        .expect("get after one throttle (the SDK retries SlowDown)");
    let bytes = got.body.collect().await.expect("object body").into_bytes();
    assert_eq!(bytes.to_vec(), doc);
    let (_, calls) = stack.get("/_local/calls", None).await;
    let s3 = &calls["functions"]["order-api"]["services"]["s3"];
    assert_eq!(s3["PutObject"]["count"], 1, "{calls}");
    assert_eq!(s3["HeadObject"]["count"], 1, "{calls}");
    assert_eq!(s3["GetObject"]["count"], 2, "{calls}");
    assert_eq!(s3["GetObject"]["errors"], 1, "{calls}");
    assert_eq!(
        calls["functions"]["(presigned URLs)"]["services"]["s3"]["GetObject"]["count"], 1,
        "{calls}"
    );
    let stats = stack.stats().await;
    assert_eq!(stats["order-api"]["faults"]["failedAwsCalls"], 1, "{stats}");

    // Mail sent through the SES emulator (here via the proxy, which routes SES calls there)
    // shows up in the outbox.
    assert_eq!(env["AWS_ENDPOINT_URL_SESV2"], proxy);
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&stack.aws_sdk_config().await)
            .endpoint_url(proxy)
            .build(),
    );
    ses.create_email_identity()
        .email_identity("shop@example.com")
        .send()
        .await
        .expect("verify sender");
    let raw = "From: Shop <shop@example.com>\r\nTo: Ann <ann@example.com>\r\nSubject: Your order\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nHello Ann\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0K\r\n--b--\r\n";
    ses.send_email()
        .from_email_address("shop@example.com")
        .destination(
            aws_sdk_sesv2::types::Destination::builder()
                .to_addresses("ann@example.com")
                .build(),
        )
        .content(
            aws_sdk_sesv2::types::EmailContent::builder()
                .raw(
                    aws_sdk_sesv2::types::RawMessage::builder()
                        .data(aws_sdk_sesv2::primitives::Blob::new(raw.as_bytes()))
                        .build()
                        .expect("raw message"),
                )
                .build(),
        )
        .send()
        .await
        .expect("send mail");
    let mails = stack.outbox().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["subject"], "Your order");
    assert_eq!(mails[0]["from"], "shop@example.com");
    assert_eq!(mails[0]["to"], json!(["ann@example.com"]));
    assert_eq!(mails[0]["attachments"], json!(["invoice.pdf"]));
    assert!(mails[0]["text"]
        .as_str()
        .unwrap_or("")
        .contains("Hello Ann"));
    assert!(mails[0]["sentAt"].is_string());
    let (_, calls) = stack.get("/_local/calls", None).await;
    let ses = &calls["functions"]["order-api"]["services"]["ses"];
    assert_eq!(ses["CreateEmailIdentity"]["count"], 1, "{calls}");
    assert_eq!(ses["SendEmail"]["count"], 1, "{calls}");
    let (status, _) = stack.delete("/_local/calls", None).await;
    assert_eq!(status, 204);
    let (_, calls) = stack.get("/_local/calls", None).await;
    assert!(calls["functions"]["order-api"]["services"]
        .as_object()
        .is_none_or(|m| m.is_empty()));
}
