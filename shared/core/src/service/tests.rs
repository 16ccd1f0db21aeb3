use super::*;
use crate::intake::fixtures::{base, order};

#[test]
fn a_contact_names_its_channel_topic_and_note() {
    let c = parse_contact(
        &json!({"channel": "phone", "topic": "where_is_my_order", "note": "asked twice"}),
    )
    .unwrap();
    assert_eq!(
        c,
        ContactRequest {
            channel: ContactChannel::Phone,
            topic: ContactTopic::WhereIsMyOrder,
            note: "asked twice".into()
        }
    );
    for (body, field) in [
        (json!({"topic": "other", "note": "n"}), "channel"),
        (
            json!({"channel": "fax", "topic": "other", "note": "n"}),
            "channel",
        ),
        (
            json!({"channel": "chat", "topic": "weather", "note": "n"}),
            "topic",
        ),
        (json!({"channel": "chat", "topic": 3, "note": "n"}), "topic"),
        (json!({"channel": "chat", "topic": "other"}), "note"),
        (
            json!({"channel": "chat", "topic": "other", "note": " "}),
            "note",
        ),
        (
            json!({"channel": "chat", "topic": "other", "note": "x".repeat(1001)}),
            "note",
        ),
        (json!("nonsense"), "channel"),
    ] {
        let e = parse_contact(&body).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some(field)), "{body}");
    }
    assert!(parse_contact(
        &json!({"channel": "letter", "topic": "return", "note": "x".repeat(1000)})
    )
    .is_ok());
}

#[test]
fn a_customer_is_their_address_in_lower_case() {
    assert_eq!(
        customer_key(" Anna.Schmidt@Example.COM "),
        "anna.schmidt@example.com"
    );
    assert!(is_customer_key("a@b.de"));
    assert!(!is_customer_key("nobody") && !is_customer_key("a b@c.de"));
    assert_eq!(new_contact_id("0190abc"), "CT-0190ABC");
}

#[test]
fn the_customers_lists_are_newest_first_and_paged_per_list() {
    let line = json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "10.00"}]);
    let mut orders: Vec<Order> = (0..3)
        .map(|i| {
            let mut o = order(base(line.clone(), json!([]), "0", "10.00"));
            o.created_at += chrono::Duration::minutes(i);
            o.id = format!("o{i}").as_str().try_into().unwrap();
            o
        })
        .collect();
    orders.reverse();
    let contact = |id: &str, minutes: i64| Contact {
        id: id.into(),
        order_id: "o0".try_into().unwrap(),
        at: orders[0].created_at + chrono::Duration::minutes(minutes),
        by: "admin:Ann".into(),
        channel: ContactChannel::Email,
        topic: ContactTopic::Other,
        note: "n".into(),
    };
    let contacts = [contact("CT-1", 1), contact("CT-2", 2)];
    let records = CustomerRecords {
        orders: &orders,
        returns: &[],
        contacts: &contacts,
    };
    let v = customer_view("c@example.com", &records, &CustomerPages::default());
    assert_eq!(
        v["counts"],
        json!({"orders": 3, "returns": 0, "refunds": 0, "goodwill": 0, "contacts": 2})
    );
    let ids: Vec<&str> = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["o2", "o1", "o0"]);
    assert_eq!(v["contacts"][0]["id"], "CT-2");
    assert!(v.get("nextTokens").is_none());

    // More than a page: the token reads on from where the page ended.
    let many: Vec<Contact> = (0..(CUSTOMER_PAGE as i64 + 5))
        .map(|i| contact(&format!("CT-{i}"), i))
        .collect();
    let records = CustomerRecords {
        orders: &orders,
        returns: &[],
        contacts: &many,
    };
    let v = customer_view("c@example.com", &records, &CustomerPages::default());
    assert_eq!(v["contacts"].as_array().unwrap().len(), CUSTOMER_PAGE);
    let token = v["nextTokens"]["contacts"].as_str().unwrap().to_string();
    let pages =
        CustomerPages::parse(|name| (name == "contactsNextToken").then(|| token.clone())).unwrap();
    let v = customer_view("c@example.com", &records, &pages);
    assert_eq!(v["contacts"].as_array().unwrap().len(), 5);
    assert_eq!(v["contacts"][4]["id"], "CT-0");
    assert_eq!(v["counts"]["contacts"], CUSTOMER_PAGE + 5);
    let e = CustomerPages::parse(|name| (name == "ordersNextToken").then(|| "zz".to_string()))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("ordersNextToken"));
}
