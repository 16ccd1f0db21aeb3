//! The customer's mails on the local stack: the order confirmation once an order is routed (in
//! the customer's language, escaped), the cancellation with its refund exactly once, a delay
//! notice, the shipping notice and the return label attached as a PDF; replayed events send
//! nothing twice; no customer mail names a dropshipper.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const CUSTOMER: &str = "carla@example.com";

fn to(m: &Value, who: &str) -> bool {
    m["to"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == who))
}

fn subject(m: &Value) -> &str {
    m["subject"].as_str().unwrap_or_default()
}

/// Mails to `who` with exactly this subject.
async fn mails(stack: &Stack, who: &str, subj: &str) -> Vec<Value> {
    stack
        .outbox()
        .await
        .into_iter()
        .filter(|m| to(m, who) && subject(m) == subj)
        .collect()
}

async fn one_mail(stack: &Stack, who: &str, subj: &str) -> Value {
    stack
        .eventually(&format!("the mail \"{subj}\""), WAIT, || async {
            mails(stack, who, subj).await.into_iter().next()
        })
        .await
}

/// A customer mail reveals nobody who ships: not in its subject, texts or attachment names.
fn assert_no_dropshipper(m: &Value) {
    let all = m.to_string().to_lowercase();
    for who in ["acme", "nordic", "wh-berlin"] {
        assert!(!all.contains(who), "{who} in a customer mail: {m}");
    }
}

/// Waits until the events queue has nothing left, visible or in flight, twice in a row.
async fn events_drained(stack: &Stack, sqs: &aws_sdk_sqs::Client, url: &str) {
    let quiet = std::cell::Cell::new(0);
    stack
        .eventually("the events queue drained", WAIT, || {
            let sqs = sqs.clone();
            let url = url.to_string();
            let quiet = &quiet;
            async move {
                let attrs = sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(
                        aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                    )
                    .attribute_names(
                        aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                    )
                    .send()
                    .await
                    .ok()?;
                let n: u64 = attrs
                    .attributes()?
                    .values()
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum();
                quiet.set(if n == 0 { quiet.get() + 1 } else { 0 });
                (quiet.get() >= 2).then_some(())
            }
        })
        .await;
}

async fn delivery_of(stack: &Stack, token: &str, order_id: &str) -> Value {
    stack
        .eventually("the delivery order", WAIT, || async {
            let (_, list) = stack.get("/fulfiller/delivery-orders", Some(token)).await;
            list["items"]
                .as_array()?
                .iter()
                .find(|d| d["orderId"] == order_id)
                .cloned()
        })
        .await
}

#[tokio::test]
async fn the_customer_hears_about_each_step_once_in_the_retailers_name() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let cfg = stack.aws_sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let events = sqs
        .get_queue_url()
        .queue_name("EventsQueue")
        .send()
        .await
        .expect("the events queue")
        .queue_url
        .expect("its url");

    // Two dropshippers ship one order; the confirmation names neither.
    let body = setup::order(
        "WEB-MAIL-1",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "99.00"},
               {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "49.00"}]),
        "247.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "mail-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let confirmation = one_mail(&stack, CUSTOMER, "Ihre Bestellung WEB-MAIL-1").await;
    let text = confirmation["text"].as_str().unwrap();
    assert!(
        text.contains("Guten Tag Carla Beispiel")
            && text.contains("- 2 x CHAIR-TEAK: 198.00 EUR")
            && text.contains("Gesamt: 247.00 EUR")
            && text.contains("darin enthalten 19 % MwSt.: 39.43 EUR"),
        "{text}"
    );
    let html = confirmation["html"].as_str().unwrap();
    assert!(
        html.contains("Lindenhof Living GmbH") && html.contains("#2E5E4E"),
        "{html}"
    );
    assert!(confirmation["from"]
        .as_str()
        .unwrap()
        .contains("service@lindenhof.example"));
    assert_no_dropshipper(&confirmation);

    // The customer cancels the throw: one cancellation mail with the refund and its split.
    let (status, o) = stack
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L2", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 200, "{o}");
    let refund = o["refunds"]
        .as_array()
        .and_then(|r| r.last())
        .cloned()
        .expect("a refund");
    assert_eq!(refund["amount"], "49.00", "{o}");
    let cancelled = one_mail(
        &stack,
        CUSTOMER,
        "Stornierung zu Ihrer Bestellung WEB-MAIL-1",
    )
    .await;
    let text = cancelled["text"].as_str().unwrap();
    assert!(
        text.contains("Auf Ihren Wunsch:\n- 1 x THROW-WOOL\n")
            && text.contains("Wir erstatten Ihnen 49.00 EUR:\n- Kreditkarte: 49.00 EUR")
            && text.contains("Die übrigen Artikel Ihrer Bestellung sind davon nicht betroffen."),
        "{text}"
    );
    assert_no_dropshipper(&cancelled);
    // The dropshipper hears of its cancelled delivery order, in the retailer's name.
    stack
        .eventually("nordic's cancellation notice", WAIT, || async {
            stack
                .outbox()
                .await
                .into_iter()
                .find(|m| to(m, setup::NORDIC_EMAIL) && subject(m).ends_with("storniert"))
        })
        .await;

    // Replayed events: the same body twice, straight onto the events queue. The confirmation
    // was sent already; the delay notice is new and goes out once.
    let acme = delivery_of(&stack, &world.acme, &order_id).await;
    let acme_id = acme["id"].as_str().unwrap().to_string();
    let replays = [
        json!({"type": "order_confirmed", "orderId": order_id}),
        json!({"type": "delivery_late", "orderId": order_id, "deliveryOrderId": acme_id}),
    ];
    for event in replays.iter().chain(replays.iter()) {
        sqs.send_message()
            .queue_url(&events)
            .message_body(event.to_string())
            .send()
            .await
            .expect("send an event");
    }
    let late = one_mail(
        &stack,
        CUSTOMER,
        "Ihre Bestellung WEB-MAIL-1 verzögert sich",
    )
    .await;
    let text = late["text"].as_str().unwrap();
    assert!(
        text.contains("leider verzögert sich die Lieferung dieser Artikel")
            && text.contains("- 2 x CHAIR-TEAK\n"),
        "{text}"
    );
    assert_no_dropshipper(&late);
    events_drained(&stack, &sqs, &events).await;
    for subj in [
        "Ihre Bestellung WEB-MAIL-1",
        "Stornierung zu Ihrer Bestellung WEB-MAIL-1",
        "Ihre Bestellung WEB-MAIL-1 verzögert sich",
    ] {
        assert_eq!(mails(&stack, CUSTOMER, subj).await.len(), 1, "{subj}");
    }

    // acme ships: the customer gets carrier, tracking number and link, and no acme.
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{acme_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "00340434161094000042"}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    let shipped = one_mail(&stack, CUSTOMER, "Ihre Bestellung WEB-MAIL-1 ist unterwegs").await;
    let text = shipped["text"].as_str().unwrap();
    assert!(
        text.contains("Versand mit DHL, Sendungsnummer 00340434161094000042")
            && text.contains("piececode=00340434161094000042"),
        "{text}"
    );
    assert_no_dropshipper(&shipped);

    // A return: the document generator renders the label, the notifier attaches it as a PDF
    // named without the dropshipper.
    let (status, ret) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "zu groß"}]}),
        )
        .await;
    assert_eq!(status, 201, "{ret}");
    let labels = one_mail(
        &stack,
        CUSTOMER,
        "Ihre Rücksendung zur Bestellung WEB-MAIL-1",
    )
    .await;
    assert_eq!(
        labels["attachments"],
        json!(["Retourenschein-1.pdf"]),
        "{labels}"
    );
    let text = labels["text"].as_str().unwrap();
    assert!(
        text.contains("Paket 1, Retourenschein Retourenschein-1.pdf:\n- 1 x CHAIR-TEAK"),
        "{text}"
    );
    assert_no_dropshipper(&labels);
    // The attachment is the PDF itself: base64 of "%PDF-" opens its body in the raw mail.
    let raw: Value = stack
        .http()
        .get(format!("{}/moto-api/data.json", stack.ses_endpoint))
        .send()
        .await
        .expect("the SES emulator's data")
        .json()
        .await
        .expect("JSON");
    let mime = raw["ses"]["RawMessage"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["raw_data"].as_str())
        .find(|m| m.contains("filename=\"Retourenschein-1.pdf\""))
        .expect("the raw return mail");
    let part = &mime[mime.find("filename=\"Retourenschein-1.pdf\"").unwrap()..];
    let body = &part[part.find("\r\n\r\n").unwrap() + 4..];
    assert!(
        body.starts_with("JVBERi0"),
        "not a PDF: {}",
        &body[..40.min(body.len())]
    );
}

#[tokio::test]
async fn a_customer_who_chose_english_gets_english_with_every_value_escaped() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let mut body = setup::order(
        "WEB-MAIL-EN",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "59.00"}]),
        "59.00",
    );
    body["customer"] =
        json!({"email": CUSTOMER, "name": "<script>alert(1)</script> Ørsted", "locale": "en"});
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "mail-en", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let mail = one_mail(&stack, CUSTOMER, "Your order WEB-MAIL-EN").await;
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("Hello <script>alert(1)</script> Ørsted,")
            && text.contains("Total: 59.00 EUR"),
        "{text}"
    );
    let html = mail["html"].as_str().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; Ørsted"),
        "{html}"
    );
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert_no_dropshipper(&mail);
}

/// The retailer's name is the sender's display name: with a comma, an ampersand, quotes and
/// letters outside Latin it must stay one From address with exactly that name (issue 15,
/// defect 4), read from the raw message SES was handed, by mail-parser.
#[tokio::test]
async fn a_sender_name_with_commas_and_any_script_stays_one_from_address() {
    const NAME: &str = "Smith, Jones & Co \"Lindenhof\" – Müller · Ελληνικά · Дом · 株式会社";
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    // The branding setup::configure writes, under another company name.
    let address = json!({"name": NAME, "street": "Lindenstraße 12", "postalCode": "10969",
        "city": "Berlin", "country": "DE"});
    let branding = json!({"companyName": NAME, "address": address, "vatId": "DE123456789",
        "primaryColor": "#2E5E4E", "footer": "Lindenhof Living GmbH · Berlin",
        "emailFrom": "service@lindenhof.example", "locale": "de"});
    let (status, body) = stack
        .request("PUT", "/admin/branding", admin, Some(&branding), &[])
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let body = setup::order(
        "WEB-MAIL-NAME",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "59.00"}]),
        "59.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "mail-name", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    one_mail(&stack, CUSTOMER, "Ihre Bestellung WEB-MAIL-NAME").await;
    let raw: Value = stack
        .http()
        .get(format!("{}/moto-api/data.json", stack.ses_endpoint))
        .send()
        .await
        .expect("the SES emulator's data")
        .json()
        .await
        .expect("JSON");
    let mime = raw["ses"]["RawMessage"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["raw_data"].as_str())
        .find(|m| m.contains("WEB-MAIL-NAME"))
        .expect("the raw confirmation");
    let msg = mail_parser::MessageParser::default()
        .parse(mime.as_bytes())
        .expect("a parseable mail");
    let from: Vec<_> = msg.from().expect("a From header").iter().collect();
    assert_eq!(from.len(), 1, "{mime}");
    assert_eq!(from[0].name(), Some(NAME), "{mime}");
    assert_eq!(from[0].address(), Some("service@lindenhof.example"));
}
