//! The change feed (`GET /orders?updatedSince=`), end to end: a channel creates orders and one
//! is shipped; polling page by page shows each of its orders once per pass, oldest change first,
//! as `GET /orders/{id}` shows it plus its `updatedAt`; never another channel's order; nothing
//! younger than 5 s; and asking again from the last `updatedAt` seen finds what changed after it.

use crate::setup;
use crate::support::Stack;
use chrono::{DateTime, Duration as Age, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// One page of the feed with the time its answer arrived (the server answered before it).
struct Page {
    items: Vec<Value>,
    next: Option<String>,
    answered_by: DateTime<Utc>,
}

async fn page(stack: &Stack, token: &str, query: &str) -> Page {
    let (status, body) = stack.get(&format!("/orders?{query}"), Some(token)).await;
    let answered_by = Utc::now();
    assert_eq!(status, 200, "GET /orders?{query}: {body}");
    Page {
        items: body["items"].as_array().expect("items").clone(),
        next: body["nextToken"].as_str().map(String::from),
        answered_by,
    }
}

fn stamp(item: &Value) -> DateTime<Utc> {
    let text = item["updatedAt"].as_str().expect("updatedAt");
    assert_eq!(text.len(), 27, "fixed width, six decimals: {text}");
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A whole poll from `since`, `limit` per page, to the end (no nextToken). Checks what every
/// poll must hold: oldest change first, nothing changed before `since`, nothing younger than
/// 5 s at the time of its page, only `owner`'s orders.
async fn poll(
    stack: &Stack,
    token: &str,
    since: DateTime<Utc>,
    limit: u32,
    not_owned: &[&str],
) -> Vec<Value> {
    let base = format!("updatedSince={}&limit={limit}", rfc3339(since));
    let mut all: Vec<Value> = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..200 {
        let query = match &next {
            Some(t) => format!("{base}&nextToken={t}"),
            None => base.clone(),
        };
        let p = page(stack, token, &query).await;
        assert!(p.items.len() <= limit as usize);
        for item in &p.items {
            let at = stamp(item);
            let id = item["id"].as_str().unwrap();
            assert!(at >= since, "{id} changed at {at}, before {since}");
            assert!(
                at <= p.answered_by - Age::seconds(5),
                "{id} changed at {at}, less than 5 s before its page ({})",
                p.answered_by
            );
            assert!(!not_owned.contains(&id), "another channel's order {id}");
            if let Some(previous) = all.last() {
                assert!(
                    stamp(previous) <= at,
                    "not oldest change first: {all:?} then {item}"
                );
            }
        }
        all.extend(p.items);
        next = p.next;
        if next.is_none() {
            return all;
        }
    }
    panic!("the feed did not end within 200 pages");
}

/// The latest state each order was listed in.
fn latest(items: &[Value]) -> BTreeMap<String, Value> {
    items
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i.clone()))
        .collect()
}

#[tokio::test]
async fn a_polling_channel_sees_each_change_oldest_first_and_misses_nothing() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let since = Utc::now() - Age::seconds(1);

    // Two orders of the web shop, one of the marketplace.
    let mut ids = Vec::new();
    for (n, token) in [(1, &world.web), (2, &world.web), (3, &world.marketplace)] {
        let body = setup::order(
            &format!("FEED-{n}"),
            json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"}]),
            "10.00",
        );
        let (status, created) = stack
            .post_idempotent("/orders", Some(token), &format!("feed-{n}"), &body)
            .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["orderId"].as_str().unwrap().to_string());
    }
    let (first, second, theirs) = (ids[0].clone(), ids[1].clone(), ids[2].clone());

    // acme ships the first web order.
    let delivery = stack
        .eventually(
            "acme's delivery order of the first order",
            Duration::from_secs(30),
            || async {
                let (_, l) = stack
                    .get("/fulfiller/delivery-orders", Some(&world.acme))
                    .await;
                l["items"]
                    .as_array()?
                    .iter()
                    .find(|d| d["orderId"] == first.as_str())?["id"]
                    .as_str()
                    .map(String::from)
            },
        )
        .await;
    let (status, shipped) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "FEED-1", "lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 200, "{shipped}");

    // Polled a page of one at a time until both web orders are listed as they now are: the first
    // shipped, the second routed (5 s after their last change at the earliest).
    // Each exactly as GET /orders/{id} shows it, plus updatedAt (compared once nothing moves:
    // the shipment's documents may still change the order after it is listed shipped).
    let mine = stack
        .eventually(
            "both web orders in the feed, settled",
            Duration::from_secs(60),
            || async {
                let items = poll(&stack, &world.web, since, 1, &[theirs.as_str()]).await;
                let mine = latest(&items);
                let settled = mine.get(&first)?["status"] == "shipped"
                    && mine.get(&second)?["status"] == "routed";
                // One pass lists each order once, at its last change.
                if !settled || items.len() != mine.len() {
                    return None;
                }
                for item in &items {
                    let id = item["id"].as_str()?;
                    let (status, one) = stack.get(&format!("/orders/{id}"), Some(&world.web)).await;
                    assert_eq!(status, 200);
                    let mut listed = item.clone();
                    listed.as_object_mut()?.remove("updatedAt");
                    if listed != one {
                        return None;
                    }
                }
                Some(items)
            },
        )
        .await;
    assert_eq!(mine.len(), 2, "{mine:?}");
    let shipment = &latest(&mine)[&first]["deliveries"][0];
    assert_eq!(shipment["trackingNumber"], "FEED-1");
    assert!(shipment.get("fulfillerId").is_none());

    // The marketplace sees its own order only; fulfillers and admin nothing.
    // (Its latest change may be a mail's entry in its history, listed once 5 s old.)
    let theirs_listed = stack
        .eventually(
            "the marketplace's order in its feed",
            Duration::from_secs(30),
            || async {
                let items = poll(&stack, &world.marketplace, since, 50, &[&first, &second]).await;
                (!items.is_empty()).then_some(items)
            },
        )
        .await;
    assert_eq!(
        latest(&theirs_listed).keys().collect::<Vec<_>>(),
        vec![&theirs]
    );
    for token in [&world.acme, &stack.admin_token] {
        let (status, body) = stack
            .get(
                &format!("/orders?updatedSince={}", rfc3339(since)),
                Some(token),
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }

    // Asking again from the last updatedAt seen finds the next change, and only once it is
    // 5 s old: a poll answered sooner after the change was asked for does not list it yet.
    let last_seen = mine.iter().map(stamp).max().unwrap();
    let cancel_asked = Utc::now();
    let (status, cancelled) = stack
        .post(
            &format!("/orders/{second}/cancel"),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let early_polls = std::cell::Cell::new(0);
    let after = stack
        .eventually(
            "the cancellation in the feed",
            Duration::from_secs(30),
            || async {
                let p = page(
                    &stack,
                    &world.web,
                    &format!("updatedSince={}&limit=200", rfc3339(last_seen)),
                )
                .await;
                assert!(p.next.is_none(), "one page holds everything here");
                let found = p
                    .items
                    .iter()
                    .find(|i| i["id"] == second.as_str() && i["status"] == "cancelled")
                    .cloned();
                if p.answered_by < cancel_asked + Age::seconds(5) {
                    early_polls.set(early_polls.get() + 1);
                    assert!(found.is_none(), "listed before it was 5 s old: {found:?}");
                }
                for item in &p.items {
                    assert!(stamp(item) >= last_seen);
                    assert_ne!(item["id"], theirs.as_str());
                }
                found
            },
        )
        .await;
    assert!(
        early_polls.get() > 0,
        "no poll came within 5 s of the change"
    );
    assert!(stamp(&after) > last_seen);
    assert!(stamp(&after) >= cancel_asked - Age::milliseconds(500));
    // Asked from that very updatedAt, it comes again (updatedSince is inclusive: at least
    // once), or at a later change of its own.
    let again = page(
        &stack,
        &world.web,
        &format!("updatedSince={}", rfc3339(stamp(&after))),
    )
    .await;
    assert!(
        again
            .items
            .iter()
            .any(|i| i["id"] == second.as_str() && stamp(i) >= stamp(&after)),
        "{:?}",
        again.items
    );
}

#[tokio::test]
async fn a_poll_names_what_is_wrong_with_its_query() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let since = rfc3339(Utc::now() - Age::hours(1));
    for (query, field) in [
        (String::new(), "updatedSince"),
        ("updatedSince=yesterday".to_string(), "updatedSince"),
        ("updatedSince=2026-03-01".to_string(), "updatedSince"),
        (format!("updatedSince={since}&limit=0"), "limit"),
        (format!("updatedSince={since}&limit=201"), "limit"),
        (
            format!("updatedSince={since}&nextToken=bm90LW91cnM"),
            "nextToken",
        ),
    ] {
        let (status, body) = stack
            .get(&format!("/orders?{query}"), Some(&world.web))
            .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // An offset other than Z, encoded, is the same instant.
    let (status, body) = stack
        .get(
            "/orders?updatedSince=2026-03-01T11:00:00%2B01:00",
            Some(&world.web),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
