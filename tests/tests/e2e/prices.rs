//! The price memory and the promotions through the admin API (docs/api.md "Prices and
//! promotions"): prices append-only once begun, the history by date, a planned price replaced,
//! promotions whose terms freeze once begun, and every refusal with its code and field.

use crate::setup;
use crate::support::Stack;
use chrono::{Days, NaiveDate, Utc};
use serde_json::{json, Value};

/// Today where the retailer is (the configured branding keeps the default Europe/Berlin).
fn today() -> NaiveDate {
    dropship_core::catalogue::local_date(Utc::now(), "Europe/Berlin")
}

fn day(offset: i64) -> String {
    let t = today();
    let d = if offset >= 0 {
        t.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        t.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    d.unwrap().to_string()
}

fn refused(answer: &Value) -> (&str, &str) {
    (
        answer["error"]["code"].as_str().unwrap_or_default(),
        answer["error"]["field"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn prices_are_remembered_and_never_rewritten_once_begun() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = stack.admin_token.as_str();
    let url = "/admin/prices/web-de/CHAIR-TEAK";
    let add = |amount: &str, valid_from: String| json!({"amount": amount, "validFrom": valid_from});

    // Before the first price: yesterday is refused, today is allowed for the first one only.
    let (status, a) = stack.post(url, Some(admin), &add("129.00", day(-1))).await;
    assert_eq!(
        (status, refused(&a)),
        (409, ("price_history_immutable", "validFrom")),
        "{a}"
    );
    let (status, first) = stack.post(url, Some(admin), &add("129.00", day(0))).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["amount"], "129.00");
    assert_eq!(first["channelId"], "web-de");
    assert!(first.get("validTo").is_none(), "{first}");
    let (status, a) = stack.post(url, Some(admin), &add("99.00", day(0))).await;
    assert_eq!(
        (status, refused(&a)),
        (409, ("price_history_immutable", "validFrom")),
        "{a}"
    );

    // A planned price ends the current one the day before; planning the same day again replaces it.
    let (status, planned) = stack.post(url, Some(admin), &add("119.00", day(10))).await;
    assert_eq!(status, 201, "{planned}");
    let (status, _) = stack.post(url, Some(admin), &add("109.00", day(10))).await;
    assert_eq!(status, 201);
    let (status, h) = stack.get(url, Some(admin)).await;
    assert_eq!(status, 200, "{h}");
    let items = h["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{h}");
    assert_eq!(
        (&items[0]["amount"], &items[0]["validTo"]),
        (&json!("129.00"), &json!(day(9)))
    );
    assert_eq!(
        (&items[1]["amount"], &items[1]["validFrom"]),
        (&json!("109.00"), &json!(day(10)))
    );
    assert!(items[1]["createdBy"].is_string() && items[1]["createdAt"].is_string());

    // The price of a day.
    let (_, p) = stack
        .get(&format!("{url}?at={}", day(3)), Some(admin))
        .await;
    assert_eq!(p["amount"], "129.00", "{p}");
    let (_, p) = stack
        .get(&format!("{url}?at={}", day(400)), Some(admin))
        .await;
    assert_eq!(p["amount"], "109.00", "{p}");
    let (status, _) = stack
        .get(&format!("{url}?at={}", day(-1)), Some(admin))
        .await;
    assert_eq!(status, 404, "no price had begun yesterday");

    // Bad input writes nothing: unknown channel or product, a negative amount, an unknown field.
    let (status, _) = stack
        .post(
            "/admin/prices/nowhere/CHAIR-TEAK",
            Some(admin),
            &add("1.00", day(1)),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = stack
        .post(
            "/admin/prices/web-de/NO-SUCH-SKU",
            Some(admin),
            &add("1.00", day(1)),
        )
        .await;
    assert_eq!(status, 404);
    let (status, a) = stack.post(url, Some(admin), &add("-1.00", day(20))).await;
    assert_eq!(
        (status, refused(&a)),
        (422, ("validation_failed", "amount")),
        "{a}"
    );
    let (status, a) = stack
        .post(
            url,
            Some(admin),
            &json!({"amount": "1.00", "validFrom": day(20), "currency": "EUR"}),
        )
        .await;
    assert_eq!(status, 422, "{a}");
    let (_, h) = stack.get(url, Some(admin)).await;
    assert_eq!(
        h["items"].as_array().unwrap().len(),
        2,
        "nothing written: {h}"
    );

    // Channels see none of it.
    let (status, _) = stack.get(url, Some(&world.web)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_promotion_keeps_its_terms_once_begun_and_may_only_be_ended() {
    let stack = Stack::start().await;
    setup::configure(&stack).await;
    let admin = stack.admin_token.as_str();
    let running = json!({"name": "3 for 2 chairs", "kind": "multi_buy", "buy": 3, "pay": 2,
        "groups": ["garden"], "channels": ["web-de"], "validFrom": day(0)});
    let (status, p) = stack
        .put("/admin/promotions/CHAIRS-3FOR2", Some(admin), &running)
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        (&p["id"], &p["kind"], &p["buy"]),
        (&json!("CHAIRS-3FOR2"), &json!("multi_buy"), &json!(3))
    );
    assert!(
        p["updatedAt"].is_string() && p["updatedBy"].is_string(),
        "{p}"
    );

    // Begun today: its terms stay; ending it (from today on) is allowed, ending it yesterday not.
    let mut changed = running.clone();
    changed["pay"] = json!(1);
    let (status, a) = stack
        .put("/admin/promotions/CHAIRS-3FOR2", Some(admin), &changed)
        .await;
    assert_eq!(
        (status, refused(&a)),
        (409, ("promotion_begun", "kind")),
        "{a}"
    );
    let mut ended_before = running.clone();
    ended_before["validTo"] = json!(day(-1));
    let (status, a) = stack
        .put("/admin/promotions/CHAIRS-3FOR2", Some(admin), &ended_before)
        .await;
    assert_eq!(status, 422, "validTo before validFrom: {a}");
    let mut ended = running.clone();
    ended["validTo"] = json!(day(0));
    let (status, p) = stack
        .put("/admin/promotions/CHAIRS-3FOR2", Some(admin), &ended)
        .await;
    assert_eq!((status, &p["validTo"]), (200, &json!(day(0))), "{p}");

    // One not yet begun may change in every way.
    let planned =
        json!({"name": "Spring", "kind": "percent_off", "percent": "10", "validFrom": day(30)});
    let (status, _) = stack
        .put("/admin/promotions/SPRING-10", Some(admin), &planned)
        .await;
    assert_eq!(status, 200);
    let replanned = json!({"name": "Spring", "kind": "order_threshold", "minOrderValue": "100.00",
        "amount": "15.00", "validFrom": day(31)});
    let (status, p) = stack
        .put("/admin/promotions/SPRING-10", Some(admin), &replanned)
        .await;
    assert_eq!(
        (status, &p["kind"], &p["amount"]),
        (200, &json!("order_threshold"), &json!("15.00")),
        "{p}"
    );

    // Terms of another kind and bad terms are refused, naming the field.
    for (body, field) in [
        (
            json!({"name": "x", "kind": "multi_buy", "buy": 2, "pay": 2, "validFrom": day(1)}),
            "buy",
        ),
        (
            json!({"name": "x", "kind": "percent_off", "percent": "10", "buy": 3, "validFrom": day(1)}),
            "buy",
        ),
        (
            json!({"name": "x", "kind": "order_threshold", "minOrderValue": "10.00", "amount": "20.00", "validFrom": day(1)}),
            "amount",
        ),
    ] {
        let (status, a) = stack.put("/admin/promotions/BAD", Some(admin), &body).await;
        assert_eq!((status, refused(&a).1), (422, field), "{body}: {a}");
    }
    let (status, _) = stack.get("/admin/promotions/BAD", Some(admin)).await;
    assert_eq!(status, 404, "nothing written");

    // Read back: one, and the list by id with the active filter and pages.
    let (status, p) = stack.get("/admin/promotions/SPRING-10", Some(admin)).await;
    assert_eq!(
        (status, &p["minOrderValue"]),
        (200, &json!("100.00")),
        "{p}"
    );
    let (_, all) = stack.get("/admin/promotions", Some(admin)).await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["CHAIRS-3FOR2", "SPRING-10"], "{all}");
    let (_, page) = stack.get("/admin/promotions?limit=1", Some(admin)).await;
    assert_eq!(page["items"][0]["id"], "CHAIRS-3FOR2", "{page}");
    let next = page["nextToken"].as_str().unwrap();
    let (_, page) = stack
        .get(
            &format!("/admin/promotions?limit=1&nextToken={next}"),
            Some(admin),
        )
        .await;
    assert_eq!(page["items"][0]["id"], "SPRING-10", "{page}");
    assert!(page.get("nextToken").is_none(), "{page}");
    let (_, ended_list) = stack
        .get("/admin/promotions?active=false", Some(admin))
        .await;
    assert!(
        ended_list["items"].as_array().unwrap().is_empty(),
        "ends today: still active {ended_list}"
    );
}
