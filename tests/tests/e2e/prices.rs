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

const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The promotions report's row of one promotion over today and tomorrow.
async fn promotion_report(stack: &Stack, promotion: &str) -> Value {
    let (status, r) = stack
        .get(
            &format!("/admin/reports/promotions?from={}&to={}", day(0), day(1)),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r["items"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["promotionId"] == promotion))
        .cloned()
        .unwrap_or_else(|| panic!("no row for {promotion}: {r}"))
}

/// Places an order and waits until it is routed; its id and delivery order's id.
async fn place_and_route(
    stack: &Stack,
    world: &setup::World,
    key: &str,
    body: &Value,
) -> (String, String) {
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), key, body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery = stack
        .eventually("the order routed", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{order_id}"), Some(&world.web))
                .await;
            o["deliveries"].as_array()?.first()?["id"]
                .as_str()
                .map(String::from)
        })
        .await;
    (order_id, delivery)
}

/// A return of `units` of line L1, received as resellable; the order once the return is
/// refunded and the order shows `refunds` refunds (the view reads the order and its returns
/// one after the other, so one may be seen a moment before the other).
async fn return_and_receive(
    stack: &Stack,
    world: &setup::World,
    order_id: &str,
    units: u32,
    refunds: usize,
) -> Value {
    let (status, r) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": units, "reason": "zu groß"}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (status, part) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": units, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200, "{part}");
    stack
        .eventually("the return refunded", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{order_id}"), Some(&world.web))
                .await;
            let r = o["returns"]
                .as_array()?
                .iter()
                .find(|r| r["returnId"] == return_id)?
                .clone();
            let all_refunds = o["refunds"].as_array()?.len() == refunds;
            (r["status"] == "refunded" && all_refunds).then_some(o)
        })
        .await
}

#[tokio::test]
async fn an_order_without_prices_is_priced_by_the_list_and_promotions_and_refunded_by_their_record()
{
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = stack.admin_token.as_str();
    setup::put_stock(&stack, &world.acme, "CHAIR-TEAK", 50).await;
    let (status, _) = stack
        .post(
            "/admin/prices/web-de/CHAIR-TEAK",
            Some(admin),
            &json!({"amount": "10.00", "validFrom": day(0)}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = stack
        .put(
            "/admin/promotions/CHAIRS-3FOR2",
            Some(admin),
            &json!({"name": "3 for 2",
            "kind": "multi_buy", "buy": 3, "pay": 2, "skus": ["CHAIR-TEAK"], "channels": ["web-de"],
            "validFrom": day(0)}),
        )
        .await;
    assert_eq!(status, 200);

    // The quote tells the channel what to take; nothing is written.
    let lines = json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 3}]);
    let mut quote = setup::order("PRICED-1", lines.clone(), "0.00");
    quote.as_object_mut().unwrap().remove("payments");
    let (status, q) = stack.post("/orders/quote", Some(&world.web), &quote).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["totals"]["total"], "20.00", "{q}");
    assert_eq!(q["lines"][0]["unitPrice"], "10.00");
    assert_eq!(
        q["lines"][0]["discountShares"],
        json!([{"code": "CHAIRS-3FOR2", "amount": "10.00"}])
    );
    assert!(
        setup::admin_orders(&stack, "channel=web-de")
            .await
            .is_empty(),
        "a quote writes nothing"
    );

    // The order as quoted.
    let (order_id, delivery) = place_and_route(
        &stack,
        &world,
        "priced-1",
        &setup::order("PRICED-1", lines, "20.00"),
    )
    .await;
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "PRICED-1"}),
        )
        .await;
    assert_eq!(status, 200, "{d}");

    // docs/api.md's example: one unit back refunds 0.00 (the two kept lose the free unit),
    // and completes the return; the other two bring back all 20.00.
    let o = return_and_receive(&stack, &world, &order_id, 1, 1).await;
    let refunds = o["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{o}");
    assert_eq!(refunds[0]["amount"], "0.00", "{o}");
    // The promotions report: the free unit given, 6.67 of it withdrawn from the refund.
    assert_eq!(
        promotion_report(&stack, "CHAIRS-3FOR2").await,
        json!({"promotionId": "CHAIRS-3FOR2", "name": "3 for 2", "kind": "multi_buy",
            "currency": "EUR", "orders": 1, "units": 3, "benefitGiven": "10.00",
            "benefitWithdrawn": "6.67"})
    );
    let o = return_and_receive(&stack, &world, &order_id, 2, 2).await;
    let amounts: Vec<&Value> = o["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["amount"])
        .collect();
    assert_eq!(amounts, [&json!("0.00"), &json!("20.00")], "{o}");
    assert_eq!(o["totals"]["refunded"], "20.00", "{o}");
    // Everything back: nothing is kept, so nothing is withdrawn any more.
    assert_eq!(
        promotion_report(&stack, "CHAIRS-3FOR2").await["benefitWithdrawn"],
        "0.00"
    );
    // The customer heard of both refunds.
    let mails = stack
        .eventually("both refund mails", WAIT, || async {
            let mails = stack.outbox().await;
            let to_carla = setup::mails_to(&mails, "carla@example.com").len();
            // confirmation, shipment, two return labels, two refunds
            (to_carla >= 6).then_some(mails)
        })
        .await;
    assert_eq!(setup::mails_to(&mails, "carla@example.com").len(), 6);

    // Another channel has no list price; a channel's currency is kept.
    let no_price = setup::order(
        "PRICED-2",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1}]),
        "10.00",
    );
    let (status, e) = stack
        .post_idempotent("/orders", Some(&world.marketplace), "priced-2", &no_price)
        .await;
    assert_eq!(
        (status, refused(&e)),
        (422, ("no_price", "lines[0].unitPrice")),
        "{e}"
    );
    let mut francs = setup::order(
        "PRICED-3",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1}]),
        "10.00",
    );
    francs["currency"] = json!("CHF");
    let (status, e) = stack
        .post_idempotent("/orders", Some(&world.web), "priced-3", &francs)
        .await;
    assert_eq!(
        (status, refused(&e)),
        (422, ("validation_failed", "currency")),
        "{e}"
    );

    // A channel that checks prices refuses one that is not its list price.
    let (status, c) = stack
        .put(
            "/admin/channels/web-de",
            Some(admin),
            &json!({"name": "web-de", "kind": "webshop", "priceCheck": "reject"}),
        )
        .await;
    assert_eq!(
        (status, &c["currency"], &c["priceCheck"]),
        (200, &json!("EUR"), &json!("reject")),
        "{c}"
    );
    let cheap = setup::order(
        "PRICED-4",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "9.00"}]),
        "9.00",
    );
    let (status, e) = stack
        .post_idempotent("/orders", Some(&world.web), "priced-4", &cheap)
        .await;
    assert_eq!(
        (status, refused(&e)),
        (422, ("price_mismatch", "lines[0].unitPrice")),
        "{e}"
    );
}

#[tokio::test]
async fn each_order_takes_its_days_price_and_a_threshold_lost_by_a_return_is_withdrawn() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = stack.admin_token.as_str();
    setup::put_stock(&stack, &world.acme, "CHAIR-TEAK", 50).await;
    for (amount, from) in [("60.00", day(0)), ("80.00", day(1))] {
        let (status, p) = stack
            .post(
                "/admin/prices/web-de/CHAIR-TEAK",
                Some(admin),
                &json!({"amount": amount, "validFrom": from}),
            )
            .await;
        assert_eq!(status, 201, "{p}");
    }
    let (status, p) = stack
        .put(
            "/admin/promotions/FROM-100",
            Some(admin),
            &json!({"name": "10 off from 100", "kind": "order_threshold", "minOrderValue": "100.00",
                "amount": "10.00", "channels": ["web-de"], "validFrom": day(0)}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let chairs = |n: u32| json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": n}]);
    let dated = |external: &str, n: u32, total: &str, ordered_at: String| {
        let mut o = setup::order(external, chairs(n), total);
        o["orderedAt"] = json!(ordered_at);
        o
    };
    let now = Utc::now();

    // Today: 2 x 60.00 reaches the threshold; 110.00 to pay.
    let today_order = dated("DAY-1", 2, "110.00", now.to_rfc3339());
    let (order_id, delivery) = place_and_route(&stack, &world, "day-1", &today_order).await;
    let (_, o) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(
        (
            &o["lines"][0]["unitPrice"],
            &o["lines"][0]["discountShares"]
        ),
        (
            &json!("60.00"),
            &json!([{"code": "FROM-100", "amount": "10.00"}])
        ),
        "{o}"
    );

    // An order dated tomorrow takes tomorrow's price; one sent after it but dated today, today's.
    let tomorrow = format!("{}T12:00:00+01:00", day(1));
    let (status, a) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "day-2",
            &dated("DAY-2", 1, "80.00", tomorrow),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let earlier = (now - chrono::Duration::minutes(1)).to_rfc3339();
    let (status, a) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "day-3",
            &dated("DAY-3", 1, "60.00", earlier.clone()),
        )
        .await;
    assert_eq!(status, 201, "dated before the price change: 60.00 {a}");
    let (status, e) = stack
        .post_idempotent(
            "/orders",
            Some(&world.web),
            "day-4",
            &dated("DAY-4", 1, "80.00", earlier),
        )
        .await;
    assert_eq!(
        (status, refused(&e)),
        (422, ("validation_failed", "payments")),
        "tomorrow's price on today's order does not add up: {e}"
    );

    // A percent promotion on another channel: round(49.99 x 10%) = 5.00 off each unit.
    let (status, p) = stack
        .put(
            "/admin/promotions/MARKET-10",
            Some(admin),
            &json!({"name": "10% on the marketplace", "kind": "percent_off", "percent": "10",
                "channels": ["marketplace"], "validFrom": day(0)}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let two = json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "49.99"}]);
    let (status, a) = stack
        .post_idempotent(
            "/orders",
            Some(&world.marketplace),
            "market-1",
            &setup::order("MARKET-1", two, "89.98"),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let (_, o) = stack
        .get(
            &format!("/orders/{}", a["orderId"].as_str().unwrap()),
            Some(&world.marketplace),
        )
        .await;
    assert_eq!(
        (&o["lines"][0]["discountShares"], &o["lines"][0]["paid"]),
        (
            &json!([{"code": "MARKET-10", "amount": "10.00"}]),
            &json!("89.98")
        ),
        "{o}"
    );

    // One chair back: the chair kept (60.00) no longer reaches 100.00, so the threshold's 5.00
    // on it is withdrawn: P = 55.00, W = round(10.00 x 1/2) = 5.00, refund 50.00.
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "DAY-1"}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    let o = return_and_receive(&stack, &world, &order_id, 1, 1).await;
    assert_eq!(o["refunds"][0]["amount"], "50.00", "{o}");
    assert_eq!(
        promotion_report(&stack, "FROM-100").await,
        json!({"promotionId": "FROM-100", "name": "10 off from 100", "kind": "order_threshold",
            "currency": "EUR", "orders": 1, "units": 2, "benefitGiven": "10.00",
            "benefitWithdrawn": "5.00"})
    );
}
