//! Committed means followed up, whoever dies right after the commit: every function that
//! commits a change with follow-up work is killed between its commit and its follow-ups (the
//! runner's `beforeFollowUp` kill: right before the first message or mail sent after a
//! successful DynamoDB write, or at the reply when the function sends nothing itself), with
//! no client retry (the HTTP client gets API Gateway's 500 and moves on). The order's whole life runs
//! through it: intake, routing, shipment, return, receipt, settlement. Each run must end with
//! its order routed once, shipped, its return refunded once, and each of the customer's four
//! mails and the fulfiller's mail sent exactly once, while the stream's batches are also
//! delivered two or three times at once (`make test`: 10 runs; `make soak`:
//! CRASH_RUNS=100, figures in RELIABILITY.md).

use crate::setup;

use crate::support::Stack;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(300);
/// The queue consumers that commit (and the relay that sends), killed after their commit
/// throughout: SQS or the stream delivers their batch again.
const CONSUMERS: [&str; 5] = [
    "split-router",
    "document-generator",
    "notifier",
    "return-processor",
    "change-relay",
];

async fn kill_after_commit(stack: &Stack, functions: &[&str], probability: f64) {
    for f in functions {
        let rule =
            json!({"function": f, "kill": {"probability": probability, "beforeFollowUp": true}});
        let (status, body) = stack.post("/_local/faults", None, &rule).await;
        assert_eq!(status, 201, "{body}");
    }
}

/// Kill rules for the HTTP function of a phase on top of the consumers' ones.
async fn phase_faults(stack: &Stack, http_function: Option<&str>) {
    stack
        .request("DELETE", "/_local/faults", None, None, &[])
        .await;
    kill_after_commit(stack, &CONSUMERS, 0.3).await;
    // The stream's batches come two or three times, at once: a retried batch replays the
    // follow-ups of commits whose consumers already acted, after newer ones.
    let rule =
        json!({"function": "change-relay", "duplicate": {"times": [2, 3], "concurrent": true}});
    let (status, body) = stack.post("/_local/faults", None, &rule).await;
    assert_eq!(status, 201, "{body}");
    if let Some(f) = http_function {
        kill_after_commit(stack, &[f], 0.5).await;
    }
}

/// Waits for every mail (the customers' four each, the fulfiller's one per delivery order);
/// on timeout says who lacks which mail and what the stack did, so that a failure explains
/// itself.
async fn every_mail(stack: &Stack, runs: usize, wait: Duration) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let mails = stack.outbox().await;
        let short: Vec<String> = (0..runs)
            .map(customer)
            .chain(std::iter::once(setup::ACME_EMAIL.to_string()))
            .filter_map(|who| {
                let got: Vec<&str> = setup::mails_to(&mails, &who)
                    .iter()
                    .filter_map(|m| m["subject"].as_str())
                    .collect();
                let wanted = if who == setup::ACME_EMAIL { runs } else { 4 };
                (got.len() < wanted).then(|| format!("{who}: {} of {wanted} {got:?}", got.len()))
            })
            .collect();
        if short.is_empty() {
            return mails;
        }
        if started.elapsed() > wait {
            panic!(
                "mails missing after {wait:?}: {short:#?}\ndead letters: {:#?}\nstats: {:#}",
                dead_letters(stack).await,
                stack.stats().await
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What lies in each dead-letter queue (bodies, without consuming them).
async fn dead_letters(stack: &Stack) -> Vec<(&'static str, Vec<String>)> {
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let mut found = Vec::new();
    for queue in [
        "RouteDeadLetterQueue",
        "DocumentsDeadLetterQueue",
        "EventsDeadLetterQueue",
        "ReturnsDeadLetterQueue",
        "ChangeRelayDeadLetterQueue",
    ] {
        let url = crate::support::queue_url(&sqs, queue).await;
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        let bodies: Vec<String> = got
            .messages()
            .iter()
            .map(|m| m.body().unwrap_or_default().chars().take(400).collect())
            .collect();
        found.push((queue, bodies));
    }
    found
}

fn customer(i: usize) -> String {
    format!("crash-{i}@example.com")
}

/// The channel's view of an order (GET /orders/{id} also lists its returns).
async fn order_view(stack: &Stack, token: &str, id: &str) -> Value {
    let (status, o) = stack.get(&format!("/orders/{id}"), Some(token)).await;
    assert_eq!(status, 200, "{o}");
    o
}

/// The orders whose intake committed, by external id: found through the admin list, as a
/// client that never heard back would ask support.
async fn committed_orders(stack: &Stack, runs: usize) -> Vec<String> {
    let by_external: std::collections::BTreeMap<String, String> =
        setup::admin_orders(stack, "channel=web-de&limit=100")
            .await
            .iter()
            .filter_map(|o| {
                Some((
                    o["externalId"].as_str()?.into(),
                    o["orderId"].as_str()?.into(),
                ))
            })
            .collect();
    (0..runs)
        .map(|i| {
            by_external
                .get(&format!("CRASH-AFTER-{i}"))
                .cloned()
                .unwrap_or_else(|| {
                    panic!(
                        "order {i} was not committed: {by_external:?}\n{}",
                        stack.output.tail(400)
                    )
                })
        })
        .collect()
}

/// Answers of a phase's requests: 2xx, or API Gateway's own 500 when the function died
/// after its commit.
fn answered(status: u16, body: &Value) -> bool {
    let died = status == 500 && body == &json!({"message": "Internal Server Error"});
    assert!((200..300).contains(&status) || died, "{status}: {body}");
    !died
}

#[tokio::test(flavor = "multi_thread")]
async fn every_commit_is_followed_up_when_its_function_dies_right_after_it() {
    let runs = setup::count_from_env("CRASH_RUNS", 10);
    // Messages come back 2 s after a failed receive, but a mail claimed by a killed notifier
    // stays leased until that invocation's deadline (15 s): each such kill costs about seven
    // receives, so the dead-letter queues get room for several kills in a row.
    let stack = Stack::builder()
        .param("QueueVisibilityTimeoutSeconds", "2")
        .param("QueueMaxReceiveCount", "100")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    setup::put_stock(&stack, &world.acme, "CHAIR-TEAK", 1000).await;
    let started = Instant::now();

    // Intake: no client retry, so a 502 leaves the client without the order id.
    phase_faults(&stack, Some("order-intake")).await;
    let lost_answers: usize = stream::iter(0..runs)
        .map(|i| {
            let stack = &stack;
            let web = &world.web;
            async move {
                let mut body = setup::order(
                    &format!("CRASH-AFTER-{i}"),
                    json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "129.00"}]),
                    "129.00",
                );
                body["customer"]["email"] = json!(customer(i));
                let (status, created) = stack
                    .post_idempotent("/orders", Some(web), &format!("crash-after-{i}"), &body)
                    .await;
                usize::from(!answered(status, &created))
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<usize>>()
        .await
        .into_iter()
        .sum();
    let ids = committed_orders(&stack, runs).await;
    phase_faults(&stack, None).await;

    // Routed once each, the delivery order's documents made.
    let deliveries: Vec<String> = stream::iter(ids.iter())
        .then(|id| {
            let stack = &stack;
            let web = &world.web;
            async move {
                stack
                    .eventually("the order routed", WAIT, || async {
                        let o = order_view(stack, web, id).await;
                        let d = o["deliveries"].as_array()?;
                        (o["status"] == "routed" && d.len() == 1)
                            .then(|| d[0]["id"].as_str().map(str::to_string))?
                    })
                    .await
            }
        })
        .collect()
        .await;

    // Shipment: fulfiller-api dies after committing it.
    phase_faults(&stack, Some("fulfiller-api")).await;
    let mut lost_shipments = 0;
    for (i, d) in deliveries.iter().enumerate() {
        let (status, body) = stack
            .post(
                &format!("/fulfiller/delivery-orders/{d}/shipments"),
                Some(&world.acme),
                &json!({"carrier": "DHL", "trackingNumber": format!("CRASH-{i}")}),
            )
            .await;
        lost_shipments += usize::from(!answered(status, &body));
    }
    phase_faults(&stack, None).await;
    for id in &ids {
        stack
            .eventually("the order shipped", WAIT, || async {
                let o = order_view(&stack, &world.web, id).await;
                (o["status"] == "shipped").then_some(())
            })
            .await;
    }

    // Return: order-api dies after authorizing it.
    phase_faults(&stack, Some("order-api")).await;
    let mut lost_returns = 0;
    for id in &ids {
        let (status, body) = stack
            .post_idempotent(
                &format!("/orders/{id}/returns"),
                Some(&world.web),
                &format!("crash-return-{id}"),
                &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "zu groß"}]}),
            )
            .await;
        lost_returns += usize::from(!answered(status, &body));
    }
    phase_faults(&stack, None).await;
    let mut returns = Vec::new();
    for id in &ids {
        let o = order_view(&stack, &world.web, id).await;
        let r = o["returns"].as_array().cloned().unwrap_or_default();
        assert_eq!(r.len(), 1, "the return was committed once: {o}");
        returns.push(r[0]["returnId"].as_str().unwrap_or_default().to_string());
    }

    // Receipt: fulfiller-api dies after recording it; the settlement follows from the commit.
    phase_faults(&stack, Some("fulfiller-api")).await;
    let mut lost_receipts = 0;
    for r in &returns {
        let (status, body) = stack
            .post(
                &format!("/fulfiller/returns/{r}/receive"),
                Some(&world.acme),
                &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"}]}),
            )
            .await;
        lost_receipts += usize::from(!answered(status, &body));
    }
    phase_faults(&stack, None).await;

    // Refunded once each, in full.
    for id in &ids {
        stack
            .eventually("the return refunded", WAIT, || async {
                let o = order_view(&stack, &world.web, id).await;
                (o["returns"][0]["status"] == "refunded").then_some(())
            })
            .await;
    }
    // Every mail out: the customer's four (confirmation, shipment, return labels, refund)
    // and the fulfiller's one per delivery order.
    // The notifier works through about five mails per order, its kills and leases included.
    let mail_wait = WAIT + Duration::from_secs(6 * runs as u64);
    let mails = every_mail(&stack, runs, mail_wait).await;
    let settled = started.elapsed();
    // Late duplicates would come within a few visibility timeouts.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stack
        .request("DELETE", "/_local/faults", None, None, &[])
        .await;
    let mails_now = stack.outbox().await;
    assert_eq!(mails_now.len(), mails.len(), "no mail after the last one");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            setup::mails_to(&mails_now, &customer(i)).len(),
            4,
            "order {i}: one confirmation, shipment, return and refund mail"
        );
        let o = order_view(&stack, &world.web, id).await;
        let refunds = o["refunds"].as_array().cloned().unwrap_or_default();
        assert_eq!(refunds.len(), 1, "one refund: {o}");
        assert_eq!(refunds[0]["amount"], "129.00", "{o}");
        assert_eq!(o["totals"]["refunded"], "129.00", "{o}");
    }
    let to_acme = setup::mails_to(&mails_now, setup::ACME_EMAIL).len();
    assert_eq!(
        to_acme, runs,
        "the fulfiller told once about each delivery order"
    );
    // Nothing gave up: every dead-letter queue is empty.
    for (queue, bodies) in dead_letters(&stack).await {
        assert!(bodies.is_empty(), "{queue}: {bodies:#?}");
    }
    let stats = stack.stats().await;
    let killed = |f: &str| stats[f]["faults"]["killed"].as_u64().unwrap_or(0);
    let consumers_killed: u64 = CONSUMERS.iter().map(|f| killed(f)).sum();
    let http_killed = lost_answers + lost_shipments + lost_returns + lost_receipts;
    assert!(http_killed > 0, "no request died after its commit: {stats}");
    assert!(consumers_killed > 0, "no consumer died: {stats}");
    let replayed = stats["change-relay"]["faults"]["duplicateBatches"]
        .as_u64()
        .unwrap_or(0);
    assert!(replayed > 0, "no stream batch came twice: {stats}");
    eprintln!(
        "crash after commit: {runs} orders, {http_killed} requests killed after their commit \
         (intake {lost_answers}, shipment {lost_shipments}, return {lost_returns}, receipt \
         {lost_receipts}), {consumers_killed} consumer invocations killed after their commit, {replayed} stream \
         batches delivered again; \
         0 lost, 0 doubled, settled in {:.1}s",
        settled.as_secs_f64()
    );
}
