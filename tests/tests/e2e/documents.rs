//! Every paper of a delivery order, end to end: the fulfiller's mail links to a delivery note,
//! a shipping label and a numbered invoice, each downloading as a PDF in the retailer's name;
//! the links are signed (one character of the mac changed, another kind, or another fulfiller's
//! delivery order under the same mac is a plain 404); a shipment in another tax-rate period than
//! the order date brings a corrected invoice that supersedes the first (which stays stored), and
//! the invoice links, the mailed one too, give the correction; the customer never sees the
//! dropshipper.

use crate::setup;

use crate::support::{pdf_text, Stack};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

async fn download(url: &str) -> Vec<u8> {
    // The link answers 302 to a presigned S3 URL; follow it like a browser would.
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF: {url}");
    bytes
}

/// The status and body of a document link, without following its redirect.
async fn follow(url: &str) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn document<'a>(delivery: &'a Value, kind: &str) -> &'a str {
    delivery["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == kind)
        .and_then(|d| d["url"].as_str())
        .unwrap_or_else(|| panic!("no {kind} in {delivery}"))
}

#[tokio::test]
async fn a_delivery_orders_papers_and_a_corrected_invoice_after_a_rate_change() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // The standard rate drops from 19 % to 16 % between the order date and the shipment.
    setup::rate_change_yesterday(&stack).await;
    let mut body = setup::order(
        "WEB-PAPER",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "59.50"}]),
        "122.90",
    );
    body["orderedAt"] = json!((chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339());
    body["shippingCost"] = json!("3.90");
    body["payments"] = json!([{"method": "invoice", "amount": "122.90"}]);
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "paper-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    // Another fulfiller's delivery order, whose id a link of acme's is tried with below.
    let other = setup::order(
        "WEB-PAPER-NORDIC",
        json!([{"lineId": "L1", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "49.00"}]),
        "49.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "paper-2", &other)
        .await;
    assert_eq!(status, 201, "{created}");

    let delivery = setup::first_delivery_order(&stack, &world.acme, 3, WAIT).await;
    let delivery_id = delivery["id"].as_str().unwrap().to_string();

    let note = pdf_text(&download(document(&delivery, "delivery_note")).await);
    let label = pdf_text(&download(document(&delivery, "shipping_label")).await);
    let invoice = pdf_text(&download(document(&delivery, "invoice")).await);
    for text in [&note, &label, &invoice] {
        assert!(text.contains("Lindenhof Living GmbH"), "{text}");
        assert!(
            !text.contains("acme"),
            "a document names the dropshipper: {text}"
        );
        assert!(
            text.contains("Carla Beispiel") && text.contains("Hauptstraße 1"),
            "{text}"
        );
    }
    assert!(
        !note.contains("59,50") && !note.contains("59.50"),
        "no prices on a delivery note: {note}"
    );
    assert!(label.contains(&delivery_id), "{label}");
    assert!(
        invoice.contains("DE123456789") && invoice.contains("19 %"),
        "{invoice}"
    );
    assert!(invoice.contains("122,90"), "{invoice}");
    let year = chrono::Utc::now().format("%Y").to_string();
    let number = invoice
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{year}-")) && w.len() == 11)
        .unwrap_or_else(|| panic!("no invoice number in {invoice}"))
        .to_string();

    // The dropshipper's mail carries working links to the same papers.
    let mail = stack
        .eventually("the new delivery order mail", WAIT, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["to"][0] == setup::ACME_EMAIL
                    && m["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("/documents/"))
            })
        })
        .await;
    let links: Vec<String> = mail["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .filter(|w| w.contains("/documents/"))
        .map(|w| {
            w.trim_matches(|c: char| c == '<' || c == '>' || c == '(' || c == ')')
                .to_string()
        })
        .collect();
    assert_eq!(links.len(), 3, "{mail}");
    for link in &links {
        download(link).await;
    }

    // A link names its delivery order, the kind of document and its expiry, under a mac made
    // with the delivery order's own key: tampered with, it is the same 404 as an unknown link.
    let nordic_delivery = setup::first_delivery_order(&stack, &world.nordic, 3, WAIT).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let note_link = links
        .iter()
        .find(|l| l.contains(&format!("/documents/{delivery_id}.n.")))
        .unwrap_or_else(|| panic!("no delivery note link of {delivery_id} in {links:?}"));
    let (status, _) = follow(note_link).await;
    assert_eq!(status, 302, "{note_link}");
    let (signed, mac) = note_link.rsplit_once('.').unwrap();
    assert_eq!(mac.len(), 22, "{note_link}");
    let mut changed = mac.as_bytes().to_vec();
    changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
    let (_, unknown) = follow(&format!("{}/documents/no-such-link", stack.api)).await;
    assert_eq!(unknown["error"]["code"], "not_found", "{unknown}");
    for tampered in [
        format!("{signed}.{}", String::from_utf8(changed).unwrap()),
        note_link.replacen(
            &format!("{delivery_id}.n."),
            &format!("{delivery_id}.i."),
            1,
        ),
        note_link.replacen(
            &format!("{delivery_id}.n."),
            &format!("{delivery_id}.l."),
            1,
        ),
        note_link.replacen(&delivery_id, &nordic_delivery, 1),
    ] {
        assert_ne!(&tampered, note_link);
        let (status, body) = follow(&tampered).await;
        assert_eq!(status, 404, "{tampered} worked: {body}");
        assert_eq!(
            body, unknown,
            "{tampered}: not the plain 404 of any unknown link"
        );
    }

    // Shipped today, at 16 %: a corrected invoice supersedes the first one.
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "00340434161094000042"}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    let corrected = stack
        .eventually("the corrected invoice", WAIT, || async {
            let (_, d) = stack
                .get(
                    &format!("/fulfiller/delivery-orders/{delivery_id}"),
                    Some(&world.acme),
                )
                .await;
            let url = document(&d, "invoice").to_string();
            let text = pdf_text(&download(&url).await);
            text.contains("16 %").then_some(text)
        })
        .await;
    assert!(
        corrected.contains(&number),
        "the correction names the invoice it supersedes: {corrected}"
    );
    assert!(corrected.contains("Rechnungskorrektur"), "{corrected}");
    assert!(!corrected.contains("Gutschrift"), "{corrected}");
    // The invoice link mailed before the correction gives the current invoice too.
    let mailed_invoice = links
        .iter()
        .find(|l| l.contains(&format!("/documents/{delivery_id}.i.")))
        .unwrap_or_else(|| panic!("no invoice link of {delivery_id} in {links:?}"));
    let text = pdf_text(&download(mailed_invoice).await);
    assert!(text.contains("Rechnungskorrektur"), "{text}");

    // The customer hears about the parcel, in the retailer's name only.
    let shipped = stack
        .eventually("the shipment mail", WAIT, || async {
            stack.outbox().await.into_iter().find(|m| {
                m["to"][0] == "carla@example.com"
                    && m["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("00340434161094000042"))
            })
        })
        .await;
    for m in stack
        .outbox()
        .await
        .iter()
        .filter(|m| m["to"][0] == "carla@example.com")
    {
        let text = m.to_string();
        assert!(!text.contains("acme") && !text.contains("Acme"), "{text}");
    }
    assert!(
        shipped["from"].as_str().unwrap().contains("lindenhof"),
        "{shipped}"
    );
}
