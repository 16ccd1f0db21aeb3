//! Customer service acting for the customer on the local stack: with the return window at 0 the
//! channel's return is refused and so is staff's, until staff ignore the window; staff reject
//! the return (once: a second rejection is 409), the customer is mailed why and the history names
//! the staff member; staff cancel an open order; contacts are recorded and listed in the order
//! view; the customer's page finds every order, return, refund, goodwill credit and contact by the
//! address in any case.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
/// The customer, as the channel sent the address (the page finds it in any case).
const CUSTOMER: &str = "Carla.Service@Example.COM";
/// The staff member's token name: the histories' `admin:<name>`.
const STAFF: &str = "Ann Service";

/// An admin token named `STAFF`.
async fn staff_token(stack: &Stack) -> String {
    let (status, created) = stack
        .post(
            "/admin/tokens",
            Some(&stack.admin_token),
            &json!({"principal": "admin", "name": STAFF}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_string()
}

/// Places an order of the customer through the web shop; its id.
async fn place(stack: &Stack, web: &str, external_id: &str, sku: &str, total: &str) -> String {
    let mut body = setup::order(
        external_id,
        json!([{"lineId": "L1", "sku": sku, "quantity": 2, "unitPrice": "24.99"}]),
        total,
    );
    body["customer"]["email"] = json!(CUSTOMER);
    let (status, created) = stack
        .post_idempotent("/orders", Some(web), external_id, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    created["orderId"].as_str().unwrap().to_string()
}

/// The fulfiller's open delivery order of `order_id`, once routed.
async fn open_delivery(stack: &Stack, token: &str, order_id: &str) -> String {
    stack
        .eventually(&format!("a delivery order of {order_id}"), WAIT, || async {
            let (_, list) = stack
                .get("/fulfiller/delivery-orders?status=open", Some(token))
                .await;
            list["items"]
                .as_array()?
                .iter()
                .find(|d| d["orderId"] == order_id)?["id"]
                .as_str()
                .map(String::from)
        })
        .await
}

async fn admin_order(stack: &Stack, staff: &str, order_id: &str) -> Value {
    let (status, order) = stack
        .get(&format!("/admin/orders/{order_id}"), Some(staff))
        .await;
    assert_eq!(status, 200, "{order}");
    order
}

/// The order's history entries written by the staff member.
fn by_staff(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["who"] == format!("admin:{STAFF}"))
        .filter_map(|h| h["what"].as_str().map(String::from))
        .collect()
}

fn code(e: &Value) -> Option<&str> {
    e["error"]["code"].as_str()
}

/// Sets the return window to 0 days and waits until it is in force (a process version takes
/// effect at its `updatedAt`, shortly after it is written).
async fn close_returns(stack: &Stack) {
    let admin = Some(stack.admin_token.as_str());
    let (status, body) = stack
        .put(
            "/admin/refund-policy",
            admin,
            &json!({"allocation": "pro_rata", "returnWindowDays": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, process) = stack.get("/admin/process", admin).await;
    assert_eq!(process["settings"]["returns"]["windowDays"], 0, "{process}");
    let in_force: chrono::DateTime<chrono::Utc> =
        process["updatedAt"].as_str().unwrap().parse().unwrap();
    let wait = in_force - chrono::Utc::now() + chrono::Duration::seconds(1);
    if let Ok(wait) = wait.to_std() {
        tokio::time::sleep(wait).await;
    }
}

#[tokio::test]
async fn staff_take_back_past_a_closed_window_then_reject_it_and_the_customer_hears_why() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let staff = staff_token(&stack).await;
    let staff = staff.as_str();
    close_returns(&stack).await;

    let order_id = place(&stack, &world.web, "WEB-CS-1", "LAMP-OAK", "49.98").await;
    let delivery = open_delivery(&stack, &world.warehouse, &order_id).await;
    let (status, shipped) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(&world.warehouse),
            &json!({"carrier": "DHL", "trackingNumber": "CS-1"}),
        )
        .await;
    assert_eq!(status, 200, "{shipped}");

    // A window of 0 days: the channel may not take anything back, nor staff by default.
    let ask = json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "zu dunkel"}]});
    let (status, e) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &ask,
        )
        .await;
    assert_eq!(
        (status, code(&e)),
        (409, Some("return_window_closed")),
        "{e}"
    );
    let staff_returns = format!("/admin/orders/{order_id}/returns");
    let (status, e) = stack.post(&staff_returns, Some(staff), &ask).await;
    assert_eq!(
        (status, code(&e)),
        (409, Some("return_window_closed")),
        "{e}"
    );
    let (status, e) = stack
        .post(
            &staff_returns,
            Some(staff),
            &json!({"lines": [{"lineId": "L1", "quantity": 2}], "ignoreReturnWindow": "yes"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("ignoreReturnWindow")),
        "{e}"
    );
    let (status, e) = stack
        .post(
            "/admin/orders/WEB-NOBODY/returns",
            Some(staff),
            &json!({"lines": [{"lineId": "L1", "quantity": 1}], "ignoreReturnWindow": true}),
        )
        .await;
    assert_eq!((status, code(&e)), (404, Some("not_found")), "{e}");

    // Ignoring the window: 201, once per idempotency key.
    let mut ignoring = ask.clone();
    ignoring["ignoreReturnWindow"] = json!(true);
    let (status, r) = stack
        .post_idempotent(&staff_returns, Some(staff), "cs-return-1", &ignoring)
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (201, Some("authorized")),
        "{r}"
    );
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (status, again) = stack
        .post_idempotent(&staff_returns, Some(staff), "cs-return-1", &ignoring)
        .await;
    assert_eq!((status, &again), (201, &r), "the first answer again");

    // Rejected: a reason is required; once rejected, never again.
    let reject = format!("/admin/returns/{return_id}/reject");
    let (status, e) = stack
        .post(&reject, Some(staff), &json!({"reason": ""}))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("reason")),
        "{e}"
    );
    let (status, e) = stack
        .post(
            "/admin/returns/RT-NOBODY/reject",
            Some(staff),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!((status, code(&e)), (404, Some("not_found")), "{e}");
    let (status, rejected) = stack
        .post(
            &reject,
            Some(staff),
            &json!({"reason": "Die Leuchte zeigt deutliche Gebrauchsspuren"}),
        )
        .await;
    assert_eq!(
        (status, rejected["status"].as_str()),
        (200, Some("rejected")),
        "{rejected}"
    );
    assert_eq!(rejected["rejection"]["by"], format!("admin:{STAFF}"));
    let (status, e) = stack
        .post(&reject, Some(staff), &json!({"reason": "noch einmal"}))
        .await;
    assert_eq!(
        (status, code(&e)),
        (409, Some("return_not_authorized")),
        "{e}"
    );

    // The channel sees it rejected, nothing refunded; the warehouse cannot receive it.
    let (_, channel_view) = stack
        .get(&format!("/orders/{order_id}"), Some(&world.web))
        .await;
    assert_eq!(
        channel_view["returns"][0]["status"], "rejected",
        "{channel_view}"
    );
    assert_eq!(channel_view["refunds"], json!([]), "{channel_view}");
    let (status, e) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.warehouse),
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(
        (status, code(&e)),
        (409, Some("return_not_authorized")),
        "{e}"
    );

    // The customer is told why, in the retailer's German.
    let subject = format!("Ihre Rücksendung {return_id} zur Bestellung WEB-CS-1 wurde abgelehnt");
    let mail = stack
        .eventually("the rejection mail", WAIT, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["subject"] == subject.as_str()
                    && m["to"].as_array().is_some_and(|to| {
                        to.iter()
                            .any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case(CUSTOMER)))
                    })
            })
        })
        .await;
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("Die Leuchte zeigt deutliche Gebrauchsspuren"),
        "{mail}"
    );
    assert!(
        !mail.to_string().to_lowercase().contains("wh-berlin"),
        "{mail}"
    );

    // The history names the staff member for the return and its rejection.
    let order = admin_order(&stack, staff, &order_id).await;
    let entries = by_staff(&order);
    assert!(
        entries
            .iter()
            .any(|w| w.contains(&format!("return {return_id} authorized"))
                && w.contains("return window ignored")),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|w| w.contains(&format!("return {return_id} rejected"))
                && w.contains("Gebrauchsspuren")),
        "{entries:?}"
    );
}

#[tokio::test]
async fn staff_cancel_record_contacts_and_find_the_customer_in_any_case() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let staff = staff_token(&stack).await;
    let staff = staff.as_str();

    let first = place(&stack, &world.web, "WEB-CS-2", "LAMP-OAK", "49.98").await;
    open_delivery(&stack, &world.warehouse, &first).await;
    let second = place(&stack, &world.web, "WEB-CS-3", "THROW-WOOL", "49.98").await;
    open_delivery(&stack, &world.nordic, &second).await;

    // Staff cancel the open order for the customer, in their own name; once.
    let cancel = format!("/admin/orders/{second}/cancel");
    let (status, cancelled) = stack
        .post_idempotent(&cancel, Some(staff), "cs-cancel-1", &json!({}))
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    let (status, again) = stack
        .post_idempotent(&cancel, Some(staff), "cs-cancel-1", &json!({}))
        .await;
    assert_eq!(
        (status, &again),
        (200, &cancelled),
        "the first answer again"
    );
    let (status, e) = stack.post(&cancel, Some(staff), &json!({})).await;
    assert_eq!((status, code(&e)), (409, Some("already_cancelled")), "{e}");
    let (status, e) = stack
        .post("/admin/orders/WEB-NOBODY/cancel", Some(staff), &json!({}))
        .await;
    assert_eq!((status, code(&e)), (404, Some("not_found")), "{e}");
    let entries = by_staff(&admin_order(&stack, staff, &second).await);
    assert!(
        !entries.is_empty(),
        "the cancellation names the staff member"
    );

    // Goodwill on the first order, for the customer's page.
    let (status, goodwill) = stack
        .post(
            &format!("/admin/orders/{first}/goodwill"),
            Some(staff),
            &json!({"amount": "5.00", "reason": "Lieferung verspätet"}),
        )
        .await;
    assert_eq!(status, 201, "{goodwill}");

    // Contacts: recorded, refused when invalid, listed oldest first in the order view.
    let contacts = format!("/admin/orders/{first}/contacts");
    let (status, call) = stack
        .post_idempotent(
            &contacts,
            Some(staff),
            "cs-contact-1",
            &json!({"channel": "phone", "topic": "where_is_my_order", "note": "Kundin fragt nach der Lieferung"}),
        )
        .await;
    assert_eq!(status, 201, "{call}");
    let (status, again) = stack
        .post_idempotent(
            &contacts,
            Some(staff),
            "cs-contact-1",
            &json!({"channel": "phone", "topic": "where_is_my_order", "note": "Kundin fragt nach der Lieferung"}),
        )
        .await;
    assert_eq!((status, &again), (201, &call), "recorded once per key");
    let (status, mail) = stack
        .post(
            &contacts,
            Some(staff),
            &json!({"channel": "email", "topic": "payment", "note": "Rechnung erneut gesendet"}),
        )
        .await;
    assert_eq!(status, 201, "{mail}");
    for (body, field) in [
        (
            json!({"channel": "fax", "topic": "other", "note": "n"}),
            "channel",
        ),
        (
            json!({"channel": "chat", "topic": "weather", "note": "n"}),
            "topic",
        ),
        (
            json!({"channel": "chat", "topic": "other", "note": ""}),
            "note",
        ),
        (
            json!({"channel": "chat", "topic": "other", "note": "x".repeat(1001)}),
            "note",
        ),
    ] {
        let (status, e) = stack.post(&contacts, Some(staff), &body).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {e}"
        );
    }
    let (status, e) = stack
        .post(
            "/admin/orders/WEB-NOBODY/contacts",
            Some(staff),
            &json!({"channel": "chat", "topic": "other", "note": "n"}),
        )
        .await;
    assert_eq!((status, code(&e)), (404, Some("not_found")), "{e}");
    let listed = stack
        .eventually("both contacts in the order view", WAIT, || async {
            let order = admin_order(&stack, staff, &first).await;
            let list = order["contacts"].as_array()?.clone();
            (list.len() == 2).then_some(list)
        })
        .await;
    assert_eq!(listed[0]["id"], call["id"]);
    assert_eq!(listed[0]["channel"], "phone");
    assert_eq!(listed[0]["topic"], "where_is_my_order");
    assert_eq!(listed[0]["note"], "Kundin fragt nach der Lieferung");
    assert_eq!(listed[0]["by"], format!("admin:{STAFF}"));
    assert_eq!(listed[1]["id"], mail["id"]);

    // The customer's page, by the address in another case (percent-encoded `@`).
    let page = stack
        .eventually("the customer's page", WAIT, || async {
            let (status, page) = stack
                .get("/admin/customers/CARLA.SERVICE%40example.com", Some(staff))
                .await;
            (status == 200 && page["counts"]["contacts"] == 2).then_some(page)
        })
        .await;
    assert_eq!(page["email"], "carla.service@example.com");
    assert_eq!(
        page["counts"],
        json!({"orders": 2, "returns": 0, "refunds": 1, "goodwill": 1, "contacts": 2}),
        "{page}"
    );
    let orders: Vec<&str> = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(orders, [second.as_str(), first.as_str()], "newest first");
    assert_eq!(page["orders"][0]["externalId"], "WEB-CS-3");
    assert_eq!(page["orders"][0]["status"], "cancelled");
    assert_eq!(page["orders"][1]["total"], "49.98");
    assert_eq!(page["refunds"][0]["orderId"], second.as_str());
    assert_eq!(page["goodwill"][0]["amount"], "5.00");
    assert_eq!(page["contacts"][0]["id"], mail["id"], "newest first");
    assert_eq!(page["contacts"][0]["orderId"], first.as_str());
    assert!(page.get("nextTokens").is_none(), "{page}");

    // Someone without orders is not found; a token not ours is refused; staff only.
    let (status, e) = stack
        .get("/admin/customers/nobody%40example.com", Some(staff))
        .await;
    assert_eq!((status, code(&e)), (404, Some("not_found")), "{e}");
    let (status, e) = stack
        .get(
            "/admin/customers/carla.service%40example.com?ordersNextToken=garbage",
            Some(staff),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("ordersNextToken")),
        "{e}"
    );
    let (status, _) = stack
        .get(
            "/admin/customers/carla.service%40example.com",
            Some(&world.web),
        )
        .await;
    assert_eq!(status, 403);
}
