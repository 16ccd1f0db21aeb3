//! The process settings (issue 21): versioned with optimistic concurrency, validated naming the
//! field, the refund policy's return window shared, the diagram read by an independent BPMN
//! parser; and each setting deciding its step end to end with the version in force when the
//! step's trigger committed (a change applies only to what happens after it), recorded in the
//! order's history. Long timers are tested by moving the local clock of the scheduled checks.

use crate::setup;
use crate::support::{workspace_root, Stack};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// Writes the settings and, when they are stored, waits until they take effect (`updatedAt`,
/// a few seconds after the write).
async fn put_process(stack: &Stack, expected: u64, settings: Value) -> (u16, Value) {
    let (status, body) = stack
        .put(
            "/admin/process",
            Some(&stack.admin_token),
            &json!({"expectedVersion": expected, "settings": settings}),
        )
        .await;
    if status == 200 {
        setup::until_in_force(&body).await;
    }
    (status, body)
}

/// What bpmn-moddle (tests/portal/bpmn-check.mjs) reads from a BPMN document.
fn moddle(bpmn: &str, name: &str) -> Value {
    let file = std::env::temp_dir().join(format!("e2e-{name}-{}.bpmn", std::process::id()));
    std::fs::write(&file, bpmn).unwrap();
    let portal = workspace_root().join("tests/portal");
    let out = std::process::Command::new("node")
        .arg(portal.join("bpmn-check.mjs"))
        .arg(&file)
        .output()
        .expect("node runs (make system-deps installs it)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "bpmn-moddle refused the {name} diagram: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The diagram as served: its content type and text.
async fn diagram(stack: &Stack, format: &str) -> (String, String) {
    let resp = stack
        .http()
        .get(format!(
            "{}/admin/process/diagram?format={format}",
            stack.api
        ))
        .bearer_auth(&stack.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, resp.text().await.unwrap())
}

/// The order's history texts, as the admin sees them.
async fn history(stack: &Stack, order_id: &str) -> Vec<String> {
    let (status, order) = stack
        .get(
            &format!("/admin/orders/{order_id}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 200, "{order}");
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["what"].as_str().map(String::from))
        .collect()
}

/// Waits until the order's history has an entry containing every one of `parts`.
async fn wait_for_history(stack: &Stack, order_id: &str, parts: &[&str]) -> String {
    stack
        .eventually(
            &format!("history of {order_id} with {parts:?}"),
            WAIT,
            || async {
                history(stack, order_id)
                    .await
                    .into_iter()
                    .find(|h| parts.iter().all(|p| h.contains(p)))
            },
        )
        .await
}

async fn place(
    stack: &Stack,
    channel: &str,
    external_id: &str,
    lines: Value,
    total: &str,
) -> String {
    let body = setup::order(external_id, lines, total);
    let (status, created) = stack
        .post_idempotent("/orders", Some(channel), external_id, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    created["orderId"].as_str().unwrap().to_string()
}

/// The order's delivery orders as a fulfiller lists them.
async fn delivery_orders_of(stack: &Stack, token: &str, order_id: &str) -> Vec<Value> {
    let (_, list) = stack.get("/fulfiller/delivery-orders", Some(token)).await;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["orderId"] == order_id)
        .cloned()
        .collect()
}

/// Waits for the order's first delivery order at the fulfiller of `token`.
async fn first_delivery_order(stack: &Stack, token: &str, order_id: &str, what: &str) -> Value {
    stack
        .eventually(what, WAIT, || async {
            delivery_orders_of(stack, token, order_id)
                .await
                .into_iter()
                .next()
        })
        .await
}

#[tokio::test]
async fn the_settings_are_versioned_validated_shared_with_the_refund_policy_and_drawn() {
    let stack = Stack::start().await;
    let admin = Some(stack.admin_token.as_str());

    // Version 0: every key present, with its default.
    let (status, v0) = stack.get("/admin/process", admin).await;
    assert_eq!(status, 200, "{v0}");
    assert_eq!(v0["version"], 0);
    assert_eq!(
        v0["settings"],
        json!({
            "acceptance": {"rerouteIfSilentHours": 0},
            "routing": {"strategy": "fewest_splits", "preferOwnWarehouses": true},
            "customerMails": {"orderConfirmation": true, "shipment": true, "delay": true,
                "returnAuthorized": true, "refund": true},
            "returns": {"windowDays": 14},
            "cancellation": {"customerMayCancelUntil": "shipped"},
            "escalation": {"remindFulfillerAfterHours": 48, "escalateToOpsAfterMinutes": 240},
            "backorders": {"maxDays": 0}
        })
    );

    // Bad values and unknown keys are 422 naming the field, and write nothing.
    for (settings, field) in [
        (
            json!({"routing": {"strategy": "cheapest"}}),
            "settings.routing.strategy",
        ),
        (
            json!({"routing": {"colour": "red"}}),
            "settings.routing.colour",
        ),
        (
            json!({"returns": {"windowDays": 366}}),
            "settings.returns.windowDays",
        ),
        (
            json!({"customerMails": {"shipment": "no"}}),
            "settings.customerMails.shipment",
        ),
        (json!({"holidays": {}}), "settings.holidays"),
    ] {
        let (status, e) = put_process(&stack, 0, settings).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{e}"
        );
    }
    let (_, still) = stack.get("/admin/process", admin).await;
    assert_eq!(still, v0, "a refused PUT wrote nothing");

    // A write is the next version; a write based on an older one is a conflict.
    let (status, v1) = put_process(
        &stack,
        0,
        json!({"customerMails": {"shipment": false}, "escalation": {"escalateToOpsAfterMinutes": 0}}),
    )
    .await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!(v1["version"], 1, "{v1}");
    assert!(
        v1["updatedBy"]
            .as_str()
            .is_some_and(|by| !by.is_empty() && by != "defaults"),
        "{v1}"
    );
    assert_eq!(
        v1["settings"]["customerMails"]["orderConfirmation"], true,
        "left out: default"
    );
    let (status, e) = put_process(&stack, 0, json!({})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("version_conflict")),
        "{e}"
    );

    // The refund policy's return window is the settings' returns.windowDays: both ways.
    let (status, _) = stack
        .put(
            "/admin/refund-policy",
            admin,
            &json!({"allocation": "pro_rata", "returnWindowDays": 30}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, v2) = stack.get("/admin/process", admin).await;
    assert_eq!(v2["version"], 2, "{v2}");
    assert_eq!(v2["settings"]["returns"]["windowDays"], 30);
    assert_eq!(
        v2["settings"]["customerMails"]["shipment"], false,
        "the rest kept"
    );

    // Versions, newest first, a page at a time.
    let mut versions = Vec::new();
    let mut path = "/admin/process/versions?limit=1".to_string();
    loop {
        let (status, page) = stack.get(&path, admin).await;
        assert_eq!(status, 200, "{page}");
        versions.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].clone()),
        );
        match page["nextToken"].as_str() {
            Some(token) => path = format!("/admin/process/versions?limit=1&nextToken={token}"),
            None => break,
        }
    }
    assert_eq!(versions, [json!(2), json!(1)]);
    let (status, _) = stack
        .get("/admin/process/versions?nextToken=garbage", admin)
        .await;
    assert_eq!(status, 422);

    // The diagram: BPMN that bpmn-moddle reads without a warning, and an SVG picture; a step
    // switched off is absent.
    let (content_type, bpmn_now) = diagram(&stack, "bpmn").await;
    assert!(
        content_type.starts_with("application/xml"),
        "{content_type}"
    );
    assert!(
        !bpmn_now.contains("PT240M"),
        "the escalation timer is off (0 minutes)"
    );
    let now = moddle(&bpmn_now, "current");
    let (_, svg) = diagram(&stack, "svg").await;
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80.min(svg.len())]
    );
    let (status, _) = put_process(
        &stack,
        2,
        json!({"returns": {"windowDays": 30}, "acceptance": {"rerouteIfSilentHours": 24}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, bpmn_more) = diagram(&stack, "bpmn").await;
    assert!(
        bpmn_more.contains("PT24H") && bpmn_more.contains("PT240M"),
        "timers with their durations"
    );
    let more = moddle(&bpmn_more, "more");
    assert!(
        more["flowNodes"].as_u64() > now["flowNodes"].as_u64(),
        "switching the shipment mail and timers on adds steps: {now} -> {more}"
    );
    let (status, e) = stack.get("/admin/process/diagram?format=png", admin).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("format")),
        "{e}"
    );
}

#[tokio::test]
async fn mails_and_due_times_follow_the_version_in_force_when_their_trigger_committed() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let chair = json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "99.00"}]);

    // Version 1: delivery orders due after 10 hours; no order confirmation.
    let (status, _) = put_process(
        &stack,
        0,
        json!({"escalation": {"remindFulfillerAfterHours": 10}, "customerMails": {"orderConfirmation": false}}),
    )
    .await;
    assert_eq!(status, 200);
    let first = place(&stack, &world.web, "proc-1", chair.clone(), "99.00").await;
    wait_for_history(
        &stack,
        &first,
        &["routed into 1 delivery order(s)", "(process version 1)"],
    )
    .await;
    wait_for_history(
        &stack,
        &first,
        &[
            "orderConfirmation mail",
            "not sent: switched off",
            "(process version 1)",
        ],
    )
    .await;

    // Version 2: the defaults again (48 hours, confirmations) but no delay notice.
    let (status, _) = put_process(&stack, 1, json!({"customerMails": {"delay": false}})).await;
    assert_eq!(status, 200);
    let second = place(&stack, &world.web, "proc-2", chair, "99.00").await;
    wait_for_history(
        &stack,
        &second,
        &[
            "orderConfirmation mail",
            "to the customer",
            "(process version 2)",
        ],
    )
    .await;

    // The first delivery order keeps the due time version 1 gave it; the second has 48 hours.
    let hours_due = |d: &Value| {
        let at = |k: &str| chrono::DateTime::parse_from_rfc3339(d[k].as_str().unwrap()).unwrap();
        (at("dueAt") - at("createdAt")).num_hours()
    };
    let first_do =
        first_delivery_order(&stack, &world.acme, &first, "the first delivery order").await;
    let second_do =
        first_delivery_order(&stack, &world.acme, &second, "the second delivery order").await;
    assert_eq!((hours_due(&first_do), hours_due(&second_do)), (10, 48));

    // The confirmation went for the second order only.
    stack
        .eventually("the second order's confirmation", WAIT, || async {
            let mails = stack.outbox().await;
            (setup::mails_to(&mails, "carla@example.com").len() == 1).then_some(())
        })
        .await;

    // Eleven hours later (the local clock of the scheduled checks), the first is late: its
    // fulfiller is reminded, and the delay notice is decided by the version in force when it
    // became late (2: off). The second is not late.
    let (status, clock) = stack
        .request(
            "POST",
            "/_local/clock",
            None,
            Some(&json!({"advanceSeconds": 11 * 3600})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["aheadSeconds"], 11 * 3600);
    assert_eq!(stack.run_schedule("alerting").await, 202);
    let first_id = first_do["id"].as_str().unwrap().to_string();
    let alert = stack
        .eventually("the reminder of the late delivery order", WAIT, || async {
            let (_, alerts) = stack
                .get("/admin/alerts?state=open", Some(&stack.admin_token))
                .await;
            alerts["items"]
                .as_array()?
                .iter()
                .find(|a| a["subject"] == first_id.as_str() && a["remindedAt"].is_string())
                .cloned()
        })
        .await;
    let (_, alerts) = stack
        .get("/admin/alerts?state=open", Some(&stack.admin_token))
        .await;
    assert!(
        !alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["subject"] == second_do["id"]),
        "the second is due in 48 hours: {alerts}"
    );
    wait_for_history(
        &stack,
        &first,
        &[
            "delay mail",
            "not sent: switched off",
            "(process version 2)",
        ],
    )
    .await;
    assert!(
        alert["escalatedAt"].is_null(),
        "operations hear 240 minutes after the reminder"
    );

    // Four hours and a minute on, operations hear of it.
    let (status, _) = stack
        .request(
            "POST",
            "/_local/clock",
            None,
            Some(&json!({"advanceSeconds": 4 * 3600 + 60})),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = stack
        .request(
            "POST",
            "/_local/clock",
            None,
            Some(&json!({"advanceSeconds": -1})),
            &[],
        )
        .await;
    assert_eq!(status, 422, "time only moves forward");
    stack
        .eventually("the escalation to operations", WAIT, || async {
            assert_eq!(stack.run_schedule("alerting").await, 202);
            tokio::time::sleep(Duration::from_secs(1)).await;
            let (_, alerts) = stack
                .get("/admin/alerts?state=open", Some(&stack.admin_token))
                .await;
            alerts["items"]
                .as_array()?
                .iter()
                .find(|a| a["subject"] == first_id.as_str() && a["escalatedAt"].is_string())
                .cloned()
        })
        .await;
    assert!(
        setup::mails_to(&stack.outbox().await, "carla@example.com").len() == 1,
        "no delay notice reached the customer"
    );
}

#[tokio::test]
async fn routing_and_the_customers_cancellation_follow_the_settings() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // CHAIR-TEAK only acme has; VASE-BLUE nordic first (priority 1), acme second.
    let lines = json!([
        {"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "99.00"},
        {"lineId": "L2", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "20.00"}
    ]);
    let fewest = place(&stack, &world.web, "route-1", lines.clone(), "119.00").await;
    wait_for_history(
        &stack,
        &fewest,
        &["routed into 1 delivery order(s)", "(process version 0)"],
    )
    .await;

    let (status, _) = put_process(
        &stack,
        0,
        json!({"routing": {"strategy": "priority"}, "cancellation": {"customerMayCancelUntil": "accepted"}}),
    )
    .await;
    assert_eq!(status, 200);
    let by_priority = place(&stack, &world.web, "route-2", lines, "119.00").await;
    wait_for_history(
        &stack,
        &by_priority,
        &["routed into 2 delivery order(s)", "(process version 1)"],
    )
    .await;
    let at_acme =
        first_delivery_order(&stack, &world.acme, &by_priority, "acme's delivery order").await;
    let at_nordic = delivery_orders_of(&stack, &world.nordic, &by_priority).await;
    assert_eq!(at_nordic.len(), 1, "the vase goes to its first source");

    // acme accepts: from now on the customer may not cancel the chair; the vase still.
    let acme_id = at_acme["id"].as_str().unwrap();
    let (status, _) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{acme_id}/accept"),
            Some(&world.acme),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, e) = stack
        .post_idempotent(
            &format!("/orders/{by_priority}/cancel"),
            Some(&world.web),
            "cancel-chair",
            &json!({"lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("cancellation_closed")),
        "{e}"
    );
    wait_for_history(
        &stack,
        &by_priority,
        &["cancellation refused", "(process version 1)"],
    )
    .await;
    let (status, cancelled) = stack
        .post_idempotent(
            &format!("/orders/{by_priority}/cancel"),
            Some(&world.web),
            "cancel-all",
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let quantities = |line: &str| {
        cancelled["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lineId"] == line)
            .map(|l| l["quantities"]["cancelled"].clone())
    };
    assert_eq!(
        (quantities("L1"), quantities("L2")),
        (Some(json!(0)), Some(json!(1))),
        "{cancelled}"
    );
    wait_for_history(
        &stack,
        &by_priority,
        &["cancelled 1 x L2", "(process version 1)"],
    )
    .await;

    // The order placed under version 0 is still whole to cancel? Its units are on an open
    // delivery order, so under "accepted" they may go: the limit reads the state now.
    let (status, _) = stack
        .post_idempotent(
            &format!("/orders/{fewest}/cancel"),
            Some(&world.web),
            "cancel-first",
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
}

/// Moves the scheduled checks' clock forward and runs the alerting check.
async fn advance_and_check(stack: &Stack, seconds: i64) {
    let (status, clock) = stack
        .request(
            "POST",
            "/_local/clock",
            None,
            Some(&json!({ "advanceSeconds": seconds })),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(stack.run_schedule("alerting").await, 202);
}

/// The order as its channel sees it.
async fn channel_order(stack: &Stack, token: &str, order_id: &str) -> Value {
    let (status, order) = stack.get(&format!("/orders/{order_id}"), Some(token)).await;
    assert_eq!(status, 200, "{order}");
    order
}

#[tokio::test]
async fn a_silent_delivery_order_is_routed_elsewhere_and_overdue_backorders_are_cancelled() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let (status, _) = put_process(
        &stack,
        0,
        json!({"acceptance": {"rerouteIfSilentHours": 24}, "backorders": {"maxDays": 3}}),
    )
    .await;
    assert_eq!(status, 200);

    // The vase goes to nordic (its first source), which never answers.
    let vase = place(
        &stack,
        &world.web,
        "silent-1",
        json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "20.00"}]),
        "20.00",
    )
    .await;
    // 30 seeds: acme has 20 (it accepts them at once), 10 wait for stock.
    let seeds = place(
        &stack,
        &world.web,
        "backorder-1",
        json!([{"lineId": "L1", "sku": "SEEDS", "quantity": 30, "unitPrice": "2.00"}]),
        "60.00",
    )
    .await;
    let silent =
        first_delivery_order(&stack, &world.nordic, &vase, "nordic's delivery order").await;
    let seeds_at_acme = first_delivery_order(&stack, &world.acme, &seeds, "acme's seeds").await;
    let accept = |id: String| {
        let stack = &stack;
        let acme = &world.acme;
        async move {
            let (status, d) = stack
                .post(
                    &format!("/fulfiller/delivery-orders/{id}/accept"),
                    Some(acme),
                    &json!({}),
                )
                .await;
            assert_eq!(status, 200, "{d}");
        }
    };
    accept(seeds_at_acme["id"].as_str().unwrap().to_string()).await;
    assert_eq!(
        channel_order(&stack, &world.web, &seeds).await["status"],
        "backordered"
    );
    let nordic_mails = setup::mails_to(&stack.outbox().await, setup::NORDIC_EMAIL).len();

    // 25 hours on: nordic's delivery order is withdrawn (nordic told), the vase goes to acme.
    advance_and_check(&stack, 25 * 3600).await;
    let silent_id = silent["id"].as_str().unwrap();
    wait_for_history(
        &stack,
        &vase,
        &[
            "withdrew",
            silent_id,
            "no answer within 24 hours",
            "(process version 1)",
        ],
    )
    .await;
    let moved = first_delivery_order(&stack, &world.acme, &vase, "the vase at acme").await;
    let (_, withdrawn) = stack
        .get(
            &format!("/fulfiller/delivery-orders/{silent_id}"),
            Some(&world.nordic),
        )
        .await;
    assert_eq!(withdrawn["status"], "rejected", "{withdrawn}");
    stack
        .eventually("nordic told", WAIT, || async {
            (setup::mails_to(&stack.outbox().await, setup::NORDIC_EMAIL).len() > nordic_mails)
                .then_some(())
        })
        .await;
    accept(moved["id"].as_str().unwrap().to_string()).await;
    let seeds_now = channel_order(&stack, &world.web, &seeds).await;
    assert_eq!(
        seeds_now["status"], "backordered",
        "not 3 days yet: {seeds_now}"
    );

    // Three days after the order: the 10 seeds still waiting are cancelled and refunded.
    advance_and_check(&stack, 47 * 3600 + 60).await;
    wait_for_history(
        &stack,
        &seeds,
        &[
            "cancelled 10 x L1",
            "backordered longer than 3 days",
            "(process version 1)",
        ],
    )
    .await;
    let cancelled = stack
        .eventually("the seeds refunded", WAIT, || async {
            let o = channel_order(&stack, &world.web, &seeds).await;
            (o["totals"]["refunded"] == "20.00").then_some(o)
        })
        .await;
    assert_eq!(
        cancelled["lines"][0]["quantities"],
        json!({"open": 20, "backordered": 0, "shipped": 0, "cancelled": 10, "returned": 0}),
        "{cancelled}"
    );
    assert_eq!(cancelled["status"], "routed");
}

#[tokio::test]
async fn own_warehouses_first_and_the_customer_mails_follow_the_settings() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    // Mugs come from the own warehouse and from acme at the same priority ("acme-garden" sorts
    // before "wh-berlin": without the preference, the tie goes to acme).
    let (status, _) = stack
        .put(
            "/admin/products/MUG-CLAY",
            admin,
            &json!({"name": "Mug", "taxClass": "standard", "group": "g", "sources": [
                {"fulfillerId": "wh-berlin", "priority": 1}, {"fulfillerId": "acme-garden", "priority": 1}]}),
        )
        .await;
    assert_eq!(status, 200);
    setup::put_stock(&stack, &world.warehouse, "MUG-CLAY", 10).await;
    setup::put_stock(&stack, &world.acme, "MUG-CLAY", 10).await;
    let mug = json!([{"lineId": "L1", "sku": "MUG-CLAY", "quantity": 1, "unitPrice": "12.00"}]);

    let at_home = place(&stack, &world.web, "mug-1", mug.clone(), "12.00").await;
    first_delivery_order(
        &stack,
        &world.warehouse,
        &at_home,
        "the mug at the warehouse",
    )
    .await;

    let (status, _) = put_process(
        &stack,
        0,
        json!({"routing": {"preferOwnWarehouses": false},
            "customerMails": {"shipment": false, "returnAuthorized": false, "refund": false}}),
    )
    .await;
    assert_eq!(status, 200);
    let at_acme = place(&stack, &world.web, "mug-2", mug, "12.00").await;
    let d = first_delivery_order(&stack, &world.acme, &at_acme, "the mug at acme").await;
    let (status, shipped) = stack
        .post(
            &format!(
                "/fulfiller/delivery-orders/{}/shipments",
                d["id"].as_str().unwrap()
            ),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "MUG-1"}),
        )
        .await;
    assert_eq!(status, 200, "{shipped}");
    wait_for_history(
        &stack,
        &at_acme,
        &[
            "shipment mail for shipment",
            "not sent: switched off",
            "(process version 1)",
        ],
    )
    .await;
    // The return's labels and a goodwill refund: both mails switched off, both decisions recorded.
    let (status, r) = stack
        .post(
            &format!("/orders/{at_acme}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "chipped"}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    wait_for_history(
        &stack,
        &at_acme,
        &[
            "returnAuthorized mail for return",
            "not sent: switched off",
            "(process version 1)",
        ],
    )
    .await;
    let (status, g) = stack
        .post(
            &format!("/admin/orders/{at_acme}/goodwill"),
            admin,
            &json!({"amount": "2.00", "reason": "a chipped handle"}),
        )
        .await;
    assert_eq!(status, 201, "{g}");
    wait_for_history(
        &stack,
        &at_acme,
        &[
            "refund mail for refund",
            "not sent: switched off",
            "(process version 1)",
        ],
    )
    .await;

    // Both confirmations went; no shipment notice, return labels or refund notice did.
    let mails = stack
        .eventually("both confirmations", WAIT, || async {
            let mails = stack.outbox().await;
            (setup::mails_to(&mails, "carla@example.com").len() >= 2).then_some(mails)
        })
        .await;
    let to_carla = setup::mails_to(&mails, "carla@example.com");
    assert_eq!(to_carla.len(), 2, "{to_carla:?}");
    assert!(
        !to_carla
            .iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains("MUG-1"))),
        "no mail names the tracking number: {to_carla:?}"
    );
}
