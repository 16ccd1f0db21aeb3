//! Split routing end to end: one order over three fulfillers, each seeing only its own part;
//! a rejection routed to the next source and, with nobody left, cancelled and refunded; a
//! redelivered routing message changing nothing; 50 concurrent orders never overselling.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

async fn deliveries(stack: &Stack, token: &str) -> Vec<Value> {
    let (status, list) = stack
        .get("/fulfiller/delivery-orders?limit=200", Some(token))
        .await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

async fn stock_of(stack: &Stack, token: &str, sku: &str) -> (i64, i64) {
    let (_, s) = stack.get("/fulfiller/stock", Some(token)).await;
    let item = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == sku)
        .cloned()
        .unwrap_or_default();
    (
        item["available"].as_i64().unwrap_or(0),
        item["reserved"].as_i64().unwrap_or(0),
    )
}

async fn order(stack: &Stack, token: &str, id: &str) -> Value {
    stack.get(&format!("/orders/{id}"), Some(token)).await.1
}

#[tokio::test]
async fn orders_split_reject_reroute_and_never_oversell() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;

    // Own warehouse and two dropshippers: three delivery orders, each fulfiller sees its own.
    let body = setup::order(
        "WEB-SPLIT",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "49.00"},
               {"lineId": "L2", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "99.00"},
               {"lineId": "L3", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "59.00"}]),
        "306.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "split-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let split_id = created["orderId"].as_str().unwrap().to_string();
    let view = stack
        .eventually("three delivery orders", Duration::from_secs(30), || async {
            let o = order(&stack, &world.web, &split_id).await;
            (o["deliveries"].as_array()?.len() == 3).then_some(o)
        })
        .await;
    assert_eq!(view["status"], "routed");
    for (token, line) in [
        (&world.warehouse, "L1"),
        (&world.acme, "L2"),
        (&world.nordic, "L3"),
    ] {
        let mine: Vec<Value> = deliveries(&stack, token)
            .await
            .into_iter()
            .filter(|d| d["orderId"] == split_id.as_str())
            .collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["lines"].as_array().unwrap().len(), 1);
        assert_eq!(mine[0]["lines"][0]["lineId"], line);
    }
    let text = view.to_string();
    assert!(
        !text.contains("wh-berlin") && !text.contains("acme") && !text.contains("nordic"),
        "{text}"
    );

    // A redelivered routing message changes nothing.
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let route_queue = sqs
        .get_queue_url()
        .queue_name("RouteQueue")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let invocations = stack.stats().await["split-router"]["invocations"]
        .as_u64()
        .unwrap_or(0);
    sqs.send_message()
        .queue_url(&route_queue)
        .message_body(json!({"orderId": split_id}).to_string())
        .send()
        .await
        .unwrap();
    stack
        .eventually(
            "the redelivery processed",
            Duration::from_secs(20),
            || async {
                (stack.stats().await["split-router"]["invocations"]
                    .as_u64()
                    .unwrap_or(0)
                    > invocations)
                    .then_some(())
            },
        )
        .await;
    assert_eq!(
        order(&stack, &world.web, &split_id).await["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(stock_of(&stack, &world.acme, "CHAIR-TEAK").await, (20, 2));

    // Rejected by the preferred source: routed to the next one.
    let body = setup::order(
        "WEB-VASE",
        json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "30.00"}]),
        "30.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let vase_id = created["orderId"].as_str().unwrap().to_string();
    let at_nordic = stack
        .eventually(
            "the vase at nordic-home",
            Duration::from_secs(30),
            || async {
                deliveries(&stack, &world.nordic)
                    .await
                    .into_iter()
                    .find(|d| d["orderId"] == vase_id.as_str())
            },
        )
        .await;
    assert_eq!(stock_of(&stack, &world.nordic, "VASE-BLUE").await, (20, 1));
    let reject = |token: String, id: String| {
        let stack = &stack;
        async move {
            stack
                .post(
                    &format!("/fulfiller/delivery-orders/{id}/reject"),
                    Some(&token),
                    &json!({"reason": "out of glaze"}),
                )
                .await
        }
    };
    let (status, e) = stack
        .post(
            &format!(
                "/fulfiller/delivery-orders/{}/reject",
                at_nordic["id"].as_str().unwrap()
            ),
            Some(&world.nordic),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    let (status, d) = reject(
        world.nordic.clone(),
        at_nordic["id"].as_str().unwrap().to_string(),
    )
    .await;
    assert_eq!(
        (status, d["status"].as_str()),
        (200, Some("rejected")),
        "{d}"
    );
    let at_acme = stack
        .eventually(
            "the vase re-routed to acme-garden",
            Duration::from_secs(30),
            || async {
                deliveries(&stack, &world.acme)
                    .await
                    .into_iter()
                    .find(|d| d["orderId"] == vase_id.as_str())
            },
        )
        .await;
    assert_eq!(stock_of(&stack, &world.nordic, "VASE-BLUE").await, (20, 0));
    assert_eq!(stock_of(&stack, &world.acme, "VASE-BLUE").await, (20, 1));
    assert_eq!(
        order(&stack, &world.web, &vase_id).await["status"],
        "routed"
    );

    // Rejected by the last source too: nobody can ship it, so it is cancelled and refunded.
    let (status, _) = reject(
        world.acme.clone(),
        at_acme["id"].as_str().unwrap().to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let o = stack
        .eventually("the vase unroutable", Duration::from_secs(30), || async {
            let o = order(&stack, &world.web, &vase_id).await;
            (o["status"] == "cancelled").then_some(o)
        })
        .await;
    assert_eq!(o["lines"][0]["quantities"]["cancelled"], 1);
    assert_eq!(o["totals"]["refunded"], "30.00", "{o}");
    assert_eq!(o["refunds"][0]["reason"], "unroutable");
    let (_, full) = stack
        .get(
            &format!("/admin/orders/{vase_id}"),
            Some(&stack.admin_token),
        )
        .await;
    let history = full["history"].to_string();
    assert!(
        history.contains("out of glaze") && history.contains("unroutable"),
        "{history}"
    );

    // The retailer moves a delivery order to another fulfiller; the reservation moves with it.
    let body = setup::order(
        "WEB-VASE-2",
        json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 2, "unitPrice": "30.00"}]),
        "60.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "vase-2", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let vase2 = created["orderId"].as_str().unwrap().to_string();
    let first = stack
        .eventually(
            "the second vase order at nordic-home",
            Duration::from_secs(30),
            || async {
                deliveries(&stack, &world.nordic)
                    .await
                    .into_iter()
                    .find(|d| d["orderId"] == vase2.as_str())
            },
        )
        .await;
    let first_id = first["id"].as_str().unwrap().to_string();
    let admin = Some(stack.admin_token.as_str());
    let path = format!("/admin/delivery-orders/{first_id}/reroute");
    let (status, e) = stack
        .post(&path, admin, &json!({"fulfillerId": "nobody"}))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("fulfillerId"))
    );
    let (status, e) = stack
        .post(
            &path,
            Some(&world.web),
            &json!({"fulfillerId": "acme-garden"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let nordic_before = stock_of(&stack, &world.nordic, "VASE-BLUE").await;
    let acme_before = stock_of(&stack, &world.acme, "VASE-BLUE").await;
    let (status, moved) = stack
        .post(&path, admin, &json!({"fulfillerId": "acme-garden"}))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        stock_of(&stack, &world.nordic, "VASE-BLUE").await.1,
        nordic_before.1 - 2
    );
    assert_eq!(
        stock_of(&stack, &world.acme, "VASE-BLUE").await.1,
        acme_before.1 + 2
    );
    let (_, old) = stack
        .get(
            &format!("/fulfiller/delivery-orders/{first_id}"),
            Some(&world.nordic),
        )
        .await;
    assert_eq!(old["status"], "cancelled");
    let (_, new) = stack
        .get(
            &format!(
                "/fulfiller/delivery-orders/{}",
                moved["id"].as_str().unwrap()
            ),
            Some(&world.acme),
        )
        .await;
    assert_eq!(
        (new["status"].as_str(), new["lines"][0]["quantity"].as_u64()),
        (Some("open"), Some(2)),
        "{new}"
    );
    let (status, e) = stack
        .post(&path, admin, &json!({"fulfillerId": "acme-garden"}))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("invalid_state"))
    );
    assert_eq!(
        order(&stack, &world.web, &vase2).await["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // 50 orders at once for a sku with 20 in stock at its only source (backorder allowed).
    let orders: Vec<_> = (0..50)
        .map(|i| {
            let body = setup::order(
                &format!("SEEDS-{i}"),
                json!([{"lineId": "L1", "sku": "SEEDS", "quantity": 1, "unitPrice": "2.50"}]),
                "2.50",
            );
            let stack = &stack;
            let token = world.web.clone();
            async move {
                stack
                    .post_idempotent("/orders", Some(&token), &format!("seeds-{i}"), &body)
                    .await
            }
        })
        .collect();
    let mut answers = futures::future::join_all(orders).await;
    // A shop whose request the gateway gave up on (503: 50 orders at once on a 2-core machine
    // can keep one waiting past the integration's timeout) sends it again with the same
    // Idempotency-Key: the order is taken once either way.
    for (i, answer) in answers.iter_mut().enumerate() {
        if answer.0 == 503 {
            let body = setup::order(
                &format!("SEEDS-{i}"),
                json!([{"lineId": "L1", "sku": "SEEDS", "quantity": 1, "unitPrice": "2.50"}]),
                "2.50",
            );
            // The first attempt may still be running: a repeat then waits for it (409
            // idempotency_in_progress after 5 s) and is sent again.
            *answer = stack
                .eventually("the order sent again", Duration::from_secs(60), || async {
                    let again = stack
                        .post_idempotent("/orders", Some(&world.web), &format!("seeds-{i}"), &body)
                        .await;
                    let busy =
                        again.0 == 503 || again.1["error"]["code"] == "idempotency_in_progress";
                    (!busy).then_some(again)
                })
                .await;
        }
    }

    assert!(
        answers.iter().all(|(s, _)| *s == 201),
        "{answers:?}\n{}",
        stack
            .output
            .text()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let ids: Vec<String> = answers
        .iter()
        .map(|(_, b)| b["orderId"].as_str().unwrap().to_string())
        .collect();
    let statuses = stack
        .eventually(
            "all 50 routed or backordered",
            Duration::from_secs(90),
            || async {
                let (available, reserved) = stock_of(&stack, &world.acme, "SEEDS").await;
                assert!(
                    available - reserved >= 0,
                    "oversold: {available} available, {reserved} reserved"
                );
                let mut statuses = Vec::new();
                for id in &ids {
                    statuses.push(
                        order(&stack, &world.web, id).await["status"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
                statuses
                    .iter()
                    .all(|s| s == "routed" || s == "backordered")
                    .then_some(statuses)
            },
        )
        .await;
    assert_eq!(statuses.iter().filter(|s| *s == "routed").count(), 20);
    assert_eq!(statuses.iter().filter(|s| *s == "backordered").count(), 30);
    assert_eq!(stock_of(&stack, &world.acme, "SEEDS").await, (20, 20));

    // Stock arrives: the waiting orders are routed again, as far as it goes.
    let (status, r) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.acme),
            &json!({"items": [{"sku": "SEEDS", "available": 40}]}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    stack
        .eventually(
            "20 more routed, 10 still waiting",
            Duration::from_secs(60),
            || async {
                let mut routed = 0;
                for id in &ids {
                    if order(&stack, &world.web, id).await["status"] == "routed" {
                        routed += 1;
                    }
                }
                (routed == 40).then_some(())
            },
        )
        .await;
    assert_eq!(stock_of(&stack, &world.acme, "SEEDS").await, (40, 40));

    // Less on hand than promised: an alert, and the delivery orders concerned are flagged.
    let (status, r) = stack
        .put(
            "/fulfiller/stock",
            Some(&world.acme),
            &json!({"items": [{"sku": "SEEDS", "available": 5}]}),
        )
        .await;
    assert_eq!(
        (status, r["shortfalls"].clone()),
        (200, json!(["SEEDS"])),
        "{r}"
    );
    let flagged = deliveries(&stack, &world.acme)
        .await
        .into_iter()
        .filter(|d| d["lines"][0]["sku"] == "SEEDS")
        .count();
    assert_eq!(flagged, 40);
    let (_, full) = stack
        .get(
            &format!("/admin/orders/{}", ids[0]),
            Some(&stack.admin_token),
        )
        .await;
    let flags: Vec<bool> = full["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["stockShortfall"].as_bool().unwrap_or(false))
        .collect();
    assert!(flags.is_empty() || flags.iter().all(|f| *f), "{full}");
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let alert = ddb
        .get_item()
        .table_name("AlertsTable")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("stock_shortfall#acme-garden/SEEDS".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("a shortfall alert");
    assert_eq!(alert["state"].as_s().unwrap(), "open");

    // A CSV feed with one bad row: the good rows apply, the fulfiller learns which line was bad.
    setup::upload_stock_feed(
        &stack,
        &world.nordic,
        "sku,available\nTHROW-WOOL,33\nVASE-BLUE,lots\n",
    )
    .await;
    stack
        .eventually("the feed applied", Duration::from_secs(30), || async {
            (stock_of(&stack, &world.nordic, "THROW-WOOL").await.0 == 33).then_some(())
        })
        .await;
    let mail = stack
        .eventually(
            "the feed report to nordic-home",
            Duration::from_secs(30),
            || async {
                stack.outbox().await.into_iter().find(|m| {
                    m["to"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|x| x == setup::NORDIC_EMAIL))
                        && m["subject"]
                            .as_str()
                            .is_some_and(|s| s.contains("Bestandsdatei"))
                })
            },
        )
        .await;
    assert!(mail["text"].as_str().unwrap().contains("Zeile 3"), "{mail}");
    assert_eq!(
        stock_of(&stack, &world.nordic, "VASE-BLUE").await.0,
        20,
        "the bad row changed stock"
    );
}

#[tokio::test]
async fn several_lines_per_fulfiller_across_three_fulfillers_route_in_one_go() {
    // Regression: the router's BatchGetItem of the fulfillers named a fulfiller once per line
    // and DynamoDB refused the duplicate keys, so such orders went to the dead-letter queue.
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let body = setup::order(
        "WEB-MANY",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "10.00"},
               {"lineId": "L2", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"},
               {"lineId": "L3", "sku": "SEEDS", "quantity": 1, "unitPrice": "10.00"},
               {"lineId": "L4", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "10.00"},
               {"lineId": "L5", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "10.00"}]),
        "50.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "many-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["orderId"].as_str().unwrap().to_string();
    let order = stack
        .eventually("the order routed", Duration::from_secs(30), || async {
            let (_, o) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
            (o["status"] == "routed").then_some(o)
        })
        .await;
    assert_eq!(order["deliveries"].as_array().unwrap().len(), 3, "{order}");
}

/// A delivery order rerouted to a fulfiller whose stock of the sku is spread over stock shards
/// takes its units from several items: the root alone holds only a share of them.
#[tokio::test]
async fn a_reroute_onto_a_sharded_sku_takes_its_units_from_several_stock_items() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let (status, p) = stack
        .put(
            "/admin/products/VASE-HOT",
            admin,
            &json!({"name": "Hot vase", "taxClass": "standard", "group": "g", "stockShards": 4,
                    "sources": [{"fulfillerId": "nordic-home", "priority": 1},
                                {"fulfillerId": "acme-garden", "priority": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    setup::put_stock(&stack, &world.nordic, "VASE-HOT", 5).await;
    // One unit on each of acme's four items.
    setup::put_stock(&stack, &world.acme, "VASE-HOT", 4).await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    let acme_items = || crate::races::stock_items_of(&ddb, "acme-garden", "VASE-HOT", 4);
    assert_eq!(
        acme_items().await.iter().map(|i| i.2).collect::<Vec<_>>(),
        [1, 1, 1, 1]
    );
    let body = setup::order(
        "HOT-VASE-1",
        json!([{"lineId": "L1", "sku": "VASE-HOT", "quantity": 3, "unitPrice": "10.00"}]),
        "30.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "hot-vase-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let delivery = stack
        .eventually("routed to nordic", Duration::from_secs(60), || async {
            deliveries(&stack, &world.nordic)
                .await
                .into_iter()
                .find(|d| d["orderId"] == created["orderId"])
        })
        .await;
    assert_eq!(stock_of(&stack, &world.nordic, "VASE-HOT").await, (5, 3));

    let (status, moved) = stack
        .post(
            &format!(
                "/admin/delivery-orders/{}/reroute",
                delivery["id"].as_str().unwrap()
            ),
            admin,
            &json!({"fulfillerId": "acme-garden"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(stock_of(&stack, &world.acme, "VASE-HOT").await, (4, 3));
    assert_eq!(stock_of(&stack, &world.nordic, "VASE-HOT").await, (5, 0));
    let items = acme_items().await;
    assert_eq!(
        items.iter().filter(|i| i.1 == 1).count(),
        3,
        "one unit from each of three items: {items:?}"
    );
    assert!(items.iter().all(|i| i.2 >= 0), "{items:?}");
}
