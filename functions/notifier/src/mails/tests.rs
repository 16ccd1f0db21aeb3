//! Every mail rendered in both languages from fixtures: what it must say, what it must never
//! say (a fulfiller's name or address to a customer), and how it escapes.

use super::*;
use crate::render;
use chrono::{TimeZone, Utc};
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::{Branding, Fulfiller, Locale};
use dropship_core::delivery::{DeliveryOrder, DocumentKind};
use dropship_core::fulfilment::Shipment;
use dropship_core::order::Order;
use dropship_core::refund::Refund;
use dropship_core::returns::ReturnPart;
use serde_json::json;

const FULFILLER_NAME: &str = "Acme Dropship GmbH";
const FULFILLER_STREET: &str = "Fabrikweg 99";

fn branding(locale: Locale) -> Branding {
    serde_json::from_value(json!({
        "companyName": "Lindenhof Living GmbH",
        "address": {"name": "Lindenhof Living GmbH", "street": "Lindenstraße 12", "postalCode": "10969",
                    "city": "Berlin", "country": "DE"},
        "vatId": "DE123456789", "primaryColor": "#2E5E4E",
        "footer": "Lindenhof Living GmbH · Preise in € inkl. MwSt.\nHotline 030 1234",
        "emailFrom": "service@lindenhof.example", "locale": locale, "timeZone": "Europe/Berlin"
    }))
    .unwrap()
}

fn fulfiller(locale: Option<Locale>) -> Fulfiller {
    serde_json::from_value(json!({
        "id": "acme-dropship", "name": FULFILLER_NAME, "kind": "dropshipper",
        "email": "orders@acme-dropship.example", "slaHours": 48, "stockMaxAgeHours": 24,
        "locale": locale,
        "address": {"name": FULFILLER_NAME, "street": FULFILLER_STREET, "postalCode": "20095",
                    "city": "Hamburg", "country": "DE"}
    }))
    .unwrap()
}

fn line(
    id: &str,
    name: &str,
    quantity: u32,
    price: &str,
    cancelled: u32,
    by_customer: u32,
) -> serde_json::Value {
    json!({"lineId": id, "sku": format!("SKU-{id}"), "name": name, "quantity": quantity,
        "unitPrice": price, "gross": price, "discountShare": "0.00", "discountShares": [],
        "paid": price, "taxClass": "standard", "taxRate": "0.19", "tax": "1.00",
        "quantities": {"open": quantity - cancelled, "backordered": 0, "shipped": 0,
                       "cancelled": cancelled, "returned": 0},
        "cancelledByCustomer": by_customer})
}

/// A three-line order of `customer_name`, with one unit of L1 cancelled by the customer, one of
/// L3 that nobody could ship, and a refund split over card and gift card.
fn order(customer_name: &str, locale: Option<Locale>) -> Order {
    let mut l2 = line("L2", "Duftkerze „Fußbad“", 1, "12.50", 0, 0);
    l2["quantities"]["backordered"] = json!(1);
    l2["quantities"]["open"] = json!(0);
    serde_json::from_value(json!({
        "id": "ord_1", "channelId": "web-de", "externalId": "WEB-1001", "status": "routed",
        "currency": "EUR",
        "customer": {"email": "carla@example.com", "name": customer_name, "locale": locale},
        "shippingAddress": {"name": customer_name, "street": "Hauptstraße 1", "postalCode": "10115",
                            "city": "Berlin", "country": "DE"},
        "orderedAt": "2026-03-01T10:00:00Z", "createdAt": "2026-03-01T10:00:00Z",
        "lines": [line("L1", "Gartenstuhl Größe L", 2, "99.00", 1, 1), l2,
                  line("L3", "Gutschein-Box 10 €", 1, "10.00", 1, 0)],
        "discounts": [], "shippingCost": "4.90",
        "payments": [{"method": "card", "amount": "200.00"}, {"method": "gift_card", "amount": "25.40"}],
        "totals": {"merchandise": "220.50", "discount": "5.00", "shipping": "4.90", "shippingTax": "0.78",
                   "total": "225.40", "tax": [{"rate": "0.19", "net": "189.41", "tax": "35.99"}],
                   "refunded": "109.00", "due": "0.00"},
        "ledger": [{"id": "ref_1-0", "at": "2026-03-02T10:00:00Z", "kind": "refund", "amount": "96.00",
                    "payment": 0, "method": "card", "reference": "ref_1",
                    "reason": "Artikel beschädigt – Kulanz"},
                   {"id": "ref_1-1", "at": "2026-03-02T10:00:00Z", "kind": "refund", "amount": "13.00",
                    "payment": 1, "method": "gift_card", "reference": "ref_1",
                    "reason": "Artikel beschädigt – Kulanz"}],
        "history": [], "version": 3,
        "deliveryOrderIds": ["DO-1"]
    }))
    .unwrap()
}

fn delivery_order(order: &Order) -> DeliveryOrder {
    serde_json::from_value(json!({
        "id": "DO-1", "orderId": order.id, "fulfillerId": "acme-dropship", "status": "accepted",
        "shipTo": order.shipping_address,
        "lines": [{"lineId": "L1", "sku": "SKU-L1", "name": "Gartenstuhl Größe L", "quantity": 2,
                   "shipped": 0, "cancelled": 1},
                  {"lineId": "L3", "sku": "SKU-L3", "name": "Gutschein-Box 10 €", "quantity": 1,
                   "shipped": 1, "cancelled": 0}],
        "createdAt": "2026-03-01T10:00:00Z", "dueAt": "2026-03-03T10:00:00Z",
        "createdKey": "2026-03-01T10:00:00Z#DO-1"
    }))
    .unwrap()
}

fn shipment() -> Shipment {
    serde_json::from_value(json!({
        "id": "shp_1", "carrier": "DHL", "trackingNumber": "00340434161094000001",
        "shippedAt": "2026-03-02T08:00:00Z", "lines": [{"lineId": "L1", "quantity": 1}]
    }))
    .unwrap()
}

fn return_parts(order: &Order) -> Vec<ReturnPart> {
    ["acme-dropship", "nordic-home"]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            serde_json::from_value(json!({
                "returnId": "ret_1", "orderId": order.id, "channelId": "web-de", "fulfillerId": f,
                "status": "authorized", "createdAt": "2026-03-05T10:00:00Z",
                "lines": [{"lineId": format!("L{}", i + 1), "sku": "S", "deliveryOrderId": format!("DO-{f}"),
                           "name": if i == 0 { "Gartenstuhl Größe L" } else { "Duftkerze „Fußbad“" },
                           "quantity": 1, "reason": "gefällt nicht"}],
                "label": {"kind": "shipping_label", "key": format!("documents/{i}.pdf")}
            }))
            .unwrap()
        })
        .collect()
}

fn alert() -> AlertNotice {
    AlertNotice {
        id: "late_delivery#DO-1".into(),
        kind: "late_delivery".into(),
        subject: "DO-1".into(),
        details: "DO-1 is 6 h past its 48 h SLA".into(),
        since: Utc.with_ymd_and_hms(2026, 3, 3, 10, 0, 0).unwrap(),
    }
}

/// The order's one refund, read from its ledger.
fn refund(order: &Order) -> Refund {
    dropship_core::ledger::refunds(order).remove(0)
}

/// Every customer mail for `order`, in the language the order and branding imply.
fn customer_mails(branding: &Branding, order: &Order) -> Vec<(&'static str, Mail)> {
    let delivery = delivery_order(order);
    let parts = return_parts(order);
    vec![
        (
            "order_confirmation",
            order_confirmation_mail(branding, order).unwrap(),
        ),
        (
            "delivery_shipped",
            shipped_mail(branding, order, &shipment()).unwrap(),
        ),
        (
            "refund",
            refund_mail(branding, order, &refund(order)).unwrap(),
        ),
        (
            "order_cancelled",
            order_cancelled_mail(branding, order, Some(&refund(order))).unwrap(),
        ),
        (
            "delivery_late",
            delivery_late_mail(branding, order, &delivery)
                .unwrap()
                .unwrap(),
        ),
        (
            "return_authorized",
            return_authorized_mail(
                branding,
                order,
                "ret_1",
                &parts,
                vec![b"%PDF-1 a".to_vec(), b"%PDF-1 b".to_vec()],
            )
            .unwrap(),
        ),
        (
            "return_rejected",
            return_rejected_mail(branding, order, "ret_1", &rejected_parts(order)).unwrap(),
        ),
    ]
}

/// The return's parts after customer service rejected it.
fn rejected_parts(order: &Order) -> Vec<ReturnPart> {
    return_parts(order)
        .into_iter()
        .map(|mut p| {
            p.status = dropship_core::returns::ReturnStatus::Rejected;
            p.rejection = Some(dropship_core::returns::Rejection {
                reason: "Die Ware ist benutzt & gewaschen".into(),
                by: "admin:Ann".into(),
                at: Utc.with_ymd_and_hms(2026, 3, 6, 10, 0, 0).unwrap(),
            });
            p
        })
        .collect()
}

/// Every fulfiller's and operations' mail.
fn other_mails(branding: &Branding, fulfiller: &Fulfiller) -> Vec<(&'static str, Mail)> {
    let o = order("Carla Beispiel", None);
    let mut d = delivery_order(&o);
    let changed = delivery_order_changed_mail(branding, fulfiller, &d).unwrap();
    d.status = dropship_core::delivery::DeliveryStatus::Cancelled;
    vec![
        (
            "documents_ready",
            documents_ready_mail(
                branding,
                fulfiller,
                "DO-1",
                &[
                    (
                        DocumentKind::DeliveryNote,
                        "https://oms.example.com/documents/a1".into(),
                    ),
                    (
                        DocumentKind::ShippingLabel,
                        "https://oms.example.com/documents/a2".into(),
                    ),
                    (
                        DocumentKind::Invoice,
                        "https://oms.example.com/documents/a3".into(),
                    ),
                ],
            )
            .unwrap(),
        ),
        ("delivery_order_changed", changed),
        (
            "delivery_order_cancelled",
            delivery_order_changed_mail(branding, fulfiller, &d).unwrap(),
        ),
        (
            "stock_feed",
            stock_feed_mail(
                branding,
                fulfiller,
                "feed-1.csv",
                5,
                &[
                    (3, "available is not a whole number: lots".into()),
                    (
                        7,
                        "available \"1.000\" must be a whole number without separators".into(),
                    ),
                ],
                None,
            )
            .unwrap(),
        ),
        (
            "stock_feed_refused",
            stock_feed_mail(
                branding,
                fulfiller,
                "feed-2.csv",
                0,
                &[],
                Some("no sku,available header"),
            )
            .unwrap(),
        ),
        (
            "alert_reminder",
            alert_reminder_mail(branding, fulfiller, &alert()).unwrap(),
        ),
        (
            "alert_escalation",
            alert_escalation_mail(branding, "ops@lindenhof.example", &alert(), Some(fulfiller))
                .unwrap(),
        ),
    ]
}

fn assert_well_formed(name: &str, mail: &Mail) {
    assert!(!mail.subject.is_empty(), "{name}: empty subject");
    assert!(!mail.subject.contains('\n'), "{name}: {}", mail.subject);
    for (part, body) in [("text", &mail.text), ("html", &mail.html)] {
        for leftover in ["{{", "}}", "{%", "%}", "{#"] {
            assert!(
                !body.contains(leftover),
                "{name} {part}: {leftover}\n{body}"
            );
        }
        assert!(body.contains("Lindenhof Living GmbH"), "{name} {part}");
    }
    assert!(mail.html.starts_with("<!doctype html>"), "{name}");
    assert!(
        mail.html.contains("#2E5E4E"),
        "{name}: the retailer's colour"
    );
    assert_eq!(mail.from_address, "service@lindenhof.example");
    assert_eq!(mail.from_name, "Lindenhof Living GmbH");
}

#[test]
fn every_mail_renders_in_both_languages_with_umlauts_sharp_s_and_euro_intact() {
    for locale in [Locale::De, Locale::En] {
        let b = branding(locale);
        let o = order("Jürgen Weiß", None);
        let f = fulfiller(None);
        let mails: Vec<_> = customer_mails(&b, &o)
            .into_iter()
            .chain(other_mails(&b, &f))
            .collect();
        assert_eq!(mails.len(), 14);
        for (name, mail) in &mails {
            assert_well_formed(name, mail);
            // The footer carries € and ß-free umlauts; the retailer's street carries ß.
            for part in [&mail.text, &mail.html] {
                assert!(part.contains("Preise in € inkl."), "{name}: {part}");
                assert!(part.contains("Lindenstraße 12"), "{name}: {part}");
            }
        }
        for (name, mail) in customer_mails(&b, &o) {
            for part in [&mail.text, &mail.html] {
                assert!(part.contains("Jürgen Weiß"), "{name}: {part}");
                assert!(
                    part.contains("Gartenstuhl Größe L")
                        || part.contains("Duftkerze „Fußbad“")
                        || part.contains("Artikel beschädigt – Kulanz"),
                    "{name}: {part}"
                );
            }
        }
        // Each language speaks its own words.
        let confirmation = &mails[0].1;
        match locale {
            Locale::De => {
                assert_eq!(confirmation.subject, "Ihre Bestellung WEB-1001");
                assert!(confirmation
                    .text
                    .contains("vielen Dank für Ihre Bestellung"));
                assert!(confirmation
                    .html
                    .contains("vielen Dank für Ihre Bestellung"));
                assert!(confirmation.text.contains("Gutschein-Box 10 €: 10.00 EUR"));
                assert!(confirmation.html.contains("Gutschein-Box 10 €"));
                assert!(confirmation.html.contains("USt-IdNr. DE123456789"));
            }
            Locale::En => {
                assert_eq!(confirmation.subject, "Your order WEB-1001");
                assert!(confirmation.text.contains("thank you for your order"));
                assert!(confirmation.html.contains("VAT ID DE123456789"));
            }
        }
    }
}

#[test]
fn the_recipients_language_wins_over_the_retailers() {
    let b = branding(Locale::De);
    let english_customer = order("Carla Beispiel", Some(Locale::En));
    for (name, mail) in customer_mails(&b, &english_customer) {
        assert!(mail.html.contains("<html lang=\"en\">"), "{name}");
        assert!(!mail.text.contains("Guten Tag"), "{name}: {}", mail.text);
    }
    let english_fulfiller = fulfiller(Some(Locale::En));
    for (name, mail) in other_mails(&b, &english_fulfiller) {
        // Operations read the retailer's language; fulfillers their own.
        let expected = if name == "alert_escalation" {
            "de"
        } else {
            "en"
        };
        assert!(
            mail.html.contains(&format!("<html lang=\"{expected}\">")),
            "{name}"
        );
    }
    let german = fulfiller(None);
    let b_en = branding(Locale::En);
    let reminder = alert_reminder_mail(&b_en, &german, &alert()).unwrap();
    assert!(
        reminder.subject.starts_with("Reminder:"),
        "{}",
        reminder.subject
    );
    let b_de = branding(Locale::De);
    let reminder = alert_reminder_mail(&b_de, &german, &alert()).unwrap();
    assert_eq!(
        reminder.subject,
        "Erinnerung: Lieferauftrag DO-1 ist überfällig"
    );
    assert!(
        reminder
            .text
            .contains("seit 03.03.2026, 11:00 Uhr (CET) überfällig"),
        "{}",
        reminder.text
    );
}

#[test]
fn every_alert_kind_has_its_reminder_and_escalation() {
    let f = fulfiller(None);
    for locale in [Locale::De, Locale::En] {
        let b = branding(locale);
        for (kind, subject, expected) in [
            (
                "late_delivery",
                "DO-1",
                [
                    "Lieferauftrag DO-1 ist überfällig",
                    "delivery order DO-1 is overdue",
                ],
            ),
            (
                "stale_stock",
                "acme-dropship",
                [
                    "Bitte aktualisieren Sie Ihren Bestand",
                    "please update your stock",
                ],
            ),
            (
                "stock_shortfall",
                "acme-dropship/SKU-1",
                [
                    "Bestand reicht nicht für Ihre Lieferaufträge (acme-dropship/SKU-1)",
                    "stock short of your delivery orders (acme-dropship/SKU-1)",
                ],
            ),
            (
                "something_new",
                "x-1",
                [
                    "Erinnerung: something_new (x-1)",
                    "Reminder: something_new (x-1)",
                ],
            ),
        ] {
            let a = AlertNotice {
                id: format!("{kind}#{subject}"),
                kind: kind.into(),
                subject: subject.into(),
                details: "English details from the alerting run".into(),
                since: alert().since,
            };
            let reminder = alert_reminder_mail(&b, &f, &a).unwrap();
            let want = if locale == Locale::De {
                expected[0]
            } else {
                expected[1]
            };
            assert!(reminder.subject.contains(want), "{}", reminder.subject);
            assert_well_formed(kind, &reminder);
            // Known kinds are explained in the fulfiller's language; the raw details only
            // stand in for a kind the templates do not know yet.
            assert_eq!(
                reminder.text.contains("English details"),
                kind == "something_new",
                "{}",
                reminder.text
            );
            let escalation = alert_escalation_mail(&b, "ops@lindenhof.example", &a, None).unwrap();
            assert_well_formed(kind, &escalation);
            assert!(escalation.text.contains("English details"));
            assert!(!escalation.text.contains("Fulfiller:"));
        }
    }
}

#[test]
fn no_customer_mail_names_a_fulfiller_or_its_address() {
    for locale in [Locale::De, Locale::En] {
        let b = branding(locale);
        for customer_locale in [None, Some(Locale::De), Some(Locale::En)] {
            let o = order("Carla Beispiel", customer_locale);
            for (name, mail) in customer_mails(&b, &o) {
                let attachments: Vec<&str> = mail
                    .attachments
                    .iter()
                    .map(|a| a.filename.as_str())
                    .collect();
                let all = format!(
                    "{}\n{}\n{}\n{}\n{:?}",
                    mail.subject, mail.text, mail.html, mail.from_name, attachments
                )
                .to_lowercase();
                for secret in [
                    FULFILLER_NAME,
                    "acme",
                    FULFILLER_STREET,
                    "Hamburg",
                    "nordic",
                ] {
                    assert!(
                        !all.contains(&secret.to_lowercase()),
                        "{name} ({locale:?}) reveals {secret}: {all}"
                    );
                }
                assert_eq!(mail.to, ["carla@example.com"], "{name}");
            }
        }
    }
}

#[test]
fn html_escapes_every_value_and_text_keeps_it_verbatim() {
    let b = branding(Locale::De);
    let o = order("<script>alert(1)</script> & \"Co\"", None);
    for (name, mail) in customer_mails(&b, &o) {
        assert!(!mail.html.contains("<script>"), "{name}: {}", mail.html);
        assert!(
            mail.html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &quot;Co&quot;"),
            "{name}: {}",
            mail.html
        );
        assert!(
            mail.text.contains("<script>alert(1)</script> & \"Co\""),
            "{name}"
        );
    }
    // Values from the branding and fulfillers too; a colour that is not one never reaches CSS.
    let mut evil = branding(Locale::En);
    evil.company_name = "Evil <b>Shop</b>".into();
    evil.footer = "line one\n<img src=x onerror=alert(1)>".into();
    evil.primary_color = "red;background:url(https://evil.example/x)".into();
    let mut f = fulfiller(None);
    f.name = "<i>Dropper</i>".into();
    for (name, mail) in other_mails(&evil, &f)
        .into_iter()
        .chain(customer_mails(&evil, &order("Carla", None)))
    {
        assert!(!mail.html.contains("<b>Shop"), "{name}");
        assert!(!mail.html.contains("<img src=x"), "{name}");
        assert!(!mail.html.contains("<i>Dropper"), "{name}");
        assert!(!mail.html.contains("evil.example"), "{name}");
        assert!(
            mail.html.contains("line one<br>"),
            "{name}: footer lines kept"
        );
        assert!(mail.html.contains("#333333"), "{name}: default colour");
    }
}

#[test]
fn the_logo_is_an_inline_image_when_there_is_one() {
    let mut b = branding(Locale::De);
    let o = order("Carla", None);
    let without = order_confirmation_mail(&b, &o).unwrap();
    assert!(without.inline_images.is_empty());
    assert!(!without.html.contains("<img"));
    // A 1x1 PNG.
    b.logo_png_base64 = Some("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into());
    let with = order_confirmation_mail(&b, &o).unwrap();
    assert_eq!(with.inline_images.len(), 1);
    assert_eq!(with.inline_images[0].content_id, "logo");
    assert!(with.inline_images[0].bytes.starts_with(b"\x89PNG"));
    assert!(with.html.contains("src=\"cid:logo\""));
    // A broken logo is left out, the mail still goes.
    b.logo_png_base64 = Some("not base64!".into());
    let broken = order_confirmation_mail(&b, &o).unwrap();
    assert!(broken.inline_images.is_empty());
    assert!(!broken.html.contains("cid:logo"));
}

#[test]
fn subjects_and_phrases_the_end_to_end_tests_rely_on() {
    let b = branding(Locale::De);
    let f = fulfiller(None);
    let o = order("Carla Beispiel", None);
    let mails: std::collections::HashMap<_, _> = customer_mails(&b, &o)
        .into_iter()
        .chain(other_mails(&b, &f))
        .collect();
    let confirmation = &mails["order_confirmation"];
    assert!(confirmation.text.contains("Gesamt: 225.40 EUR"));
    assert!(confirmation.text.contains("1 folgen, sobald verfügbar"));
    assert!(confirmation
        .text
        .contains("darin enthalten 19 % MwSt.: 35.99 EUR"));
    assert!(confirmation.text.contains("Rabatt: -5.00 EUR"));
    assert!(confirmation.text.contains("- Kreditkarte: 200.00 EUR"));
    let shipped = &mails["delivery_shipped"];
    assert_eq!(shipped.subject, "Ihre Bestellung WEB-1001 ist unterwegs");
    assert!(shipped.text.contains("00340434161094000001"));
    assert!(shipped.text.contains("https://www.dhl.de/"));
    assert!(shipped.text.contains("- 1 x Gartenstuhl Größe L"));
    let refund = &mails["refund"];
    assert_eq!(refund.subject, "Ihre Erstattung zur Bestellung WEB-1001");
    assert!(refund.text.contains("wir erstatten Ihnen 109.00 EUR"));
    assert!(refund.text.contains("Grund: Artikel beschädigt – Kulanz"));
    assert!(refund.text.contains("- Kreditkarte: 96.00 EUR"));
    assert!(refund.text.contains("- Gutschein: 13.00 EUR"));
    let cancelled = &mails["order_cancelled"];
    assert_eq!(
        cancelled.subject,
        "Stornierung zu Ihrer Bestellung WEB-1001"
    );
    assert!(cancelled
        .text
        .contains("Auf Ihren Wunsch:\n- 1 x Gartenstuhl Größe L\n"));
    assert!(cancelled
        .text
        .contains("Leider nicht lieferbar:\n- 1 x Gutschein-Box 10 €\n"));
    assert!(cancelled.text.contains("Wir erstatten Ihnen 109.00 EUR:"));
    assert!(cancelled.text.contains("- Gutschein: 13.00 EUR"));
    assert!(cancelled.text.contains("übrigen Artikel"));
    let late = &mails["delivery_late"];
    assert_eq!(late.subject, "Ihre Bestellung WEB-1001 verzögert sich");
    // Only what is still open: one chair (one shipped... none; one cancelled), no box (shipped).
    assert!(
        late.text.contains("- 1 x Gartenstuhl Größe L\n"),
        "{}",
        late.text
    );
    assert!(!late.text.contains("Gutschein-Box"), "{}", late.text);
    let ret = &mails["return_authorized"];
    assert_eq!(ret.subject, "Ihre Rücksendung zur Bestellung WEB-1001");
    let names: Vec<&str> = ret
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["Retourenschein-1.pdf", "Retourenschein-2.pdf"]);
    assert!(ret
        .attachments
        .iter()
        .all(|a| a.content_type == "application/pdf"));
    assert_eq!(ret.attachments[1].bytes, b"%PDF-1 b");
    assert!(ret
        .text
        .contains("Paket 2, Retourenschein Retourenschein-2.pdf:\n- 1 x Duftkerze „Fußbad“"));
    let ready = &mails["documents_ready"];
    assert_eq!(ready.subject, "Neuer Lieferauftrag DO-1");
    assert!(ready
        .text
        .contains("- Lieferschein: https://oms.example.com/documents/a1"));
    assert!(ready
        .html
        .contains("href=\"https:&#x2f;&#x2f;oms.example.com&#x2f;documents&#x2f;a3\""));
    assert_eq!(ready.to, ["orders@acme-dropship.example"]);
    assert_eq!(
        mails["delivery_order_changed"].subject,
        "Lieferauftrag DO-1 geändert"
    );
    assert!(mails["delivery_order_changed"]
        .text
        .contains("- SKU-L1 Gartenstuhl Größe L: noch zu liefern 1, storniert 1"));
    assert_eq!(
        mails["delivery_order_cancelled"].subject,
        "Lieferauftrag DO-1 storniert"
    );
    let feed = &mails["stock_feed"];
    assert_eq!(
        feed.subject,
        "Bestandsdatei feed-1.csv: 2 Zeile(n) abgelehnt"
    );
    assert!(feed
        .text
        .contains("- Zeile 3: available is not a whole number: lots"));
    // Every refused row, in the text and as a table in the HTML part.
    assert!(feed
        .text
        .contains("- Zeile 7: available \"1.000\" must be a whole number without separators"));
    assert!(
        feed.html.contains(
            ">7</td><td>available &quot;1.000&quot; must be a whole number without separators</td>"
        ),
        "{}",
        feed.html
    );
    assert!(feed.text.contains("sku;available"));
    assert_eq!(
        mails["stock_feed_refused"].subject,
        "Bestandsdatei feed-2.csv abgelehnt"
    );
    let escalation = &mails["alert_escalation"];
    assert_eq!(escalation.to, ["ops@lindenhof.example"]);
    assert_eq!(
        escalation.subject,
        "Eskalation: Lieferauftrag überfällig (DO-1)"
    );
    assert!(escalation
        .text
        .contains("Fulfiller: Acme Dropship GmbH (acme-dropship)"));
    assert!(escalation
        .text
        .contains("Details: DO-1 is 6 h past its 48 h SLA"));
}

#[test]
fn english_wording() {
    let b = branding(Locale::En);
    let o = order("Carla Beispiel", None);
    let mails: std::collections::HashMap<_, _> = customer_mails(&b, &o).into_iter().collect();
    assert_eq!(mails["refund"].subject, "Your refund for order WEB-1001");
    assert!(mails["refund"].text.contains("- Gift card: 13.00 EUR"));
    assert_eq!(
        mails["order_cancelled"].subject,
        "Cancellation for your order WEB-1001"
    );
    assert!(mails["order_cancelled"]
        .text
        .contains("Unfortunately not available:\n- 1 x Gutschein-Box 10 €\n"));
    let names: Vec<&str> = mails["return_authorized"]
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["return-label-1.pdf", "return-label-2.pdf"]);
    assert_eq!(
        mails["delivery_late"].subject,
        "Your order WEB-1001 is delayed"
    );
}

#[test]
fn a_cancellation_without_refund_and_an_invoice_refund() {
    let b = branding(Locale::De);
    let mut o = order("Carla", None);
    let mail = order_cancelled_mail(&b, &o, None).unwrap();
    assert!(!mail.text.contains("erstatten"), "{}", mail.text);
    let mut r = refund(&o);
    r.allocation[0].method = dropship_core::order::PaymentMethod::Invoice;
    let mail = refund_mail(&b, &o, &r).unwrap();
    assert!(mail.text.contains(
        "- Kauf auf Rechnung: 96.00 EUR (verringert zuerst den noch offenen Rechnungsbetrag)"
    ));
    // Everything cancelled: nothing "goes on".
    for l in &mut o.lines {
        l.quantities.cancelled = l.quantity;
    }
    let mail = order_cancelled_mail(&b, &o, None).unwrap();
    assert!(!mail.text.contains("übrigen"), "{}", mail.text);
}

#[test]
fn no_delay_notice_when_nothing_is_left_to_ship() {
    let b = branding(Locale::De);
    let o = order("Carla", None);
    let mut d = delivery_order(&o);
    d.lines[0].shipped = 1;
    assert!(delivery_late_mail(&b, &o, &d).unwrap().is_none());
    let mut d = delivery_order(&o);
    d.status = dropship_core::delivery::DeliveryStatus::Cancelled;
    assert!(delivery_late_mail(&b, &o, &d).unwrap().is_none());
}

#[test]
fn every_payment_method_and_document_kind_has_a_name() {
    use dropship_core::order::PaymentMethod::*;
    for locale in [Locale::De, Locale::En] {
        let b = branding(locale);
        let o = order("Carla", None);
        let mut r = refund(&o);
        for m in [Card, Paypal, Invoice, GiftCard, BonusPoints] {
            r.allocation[0].method = m;
            let mail = refund_mail(&b, &o, &r).unwrap();
            assert!(!mail.text.contains("bonus_points") && !mail.text.contains("gift_card"));
        }
    }
}

#[test]
fn a_rejected_return_tells_the_customer_why_and_that_the_units_stay_with_them() {
    let o = order("Carla Beispiel", None);
    let de = return_rejected_mail(&branding(Locale::De), &o, "ret_1", &rejected_parts(&o)).unwrap();
    assert_eq!(
        de.subject,
        "Ihre Rücksendung ret_1 zur Bestellung WEB-1001 wurde abgelehnt"
    );
    assert!(
        de.text.contains("Grund: Die Ware ist benutzt & gewaschen"),
        "{}",
        de.text
    );
    assert!(
        de.html.contains("Die Ware ist benutzt &amp; gewaschen"),
        "{}",
        de.html
    );
    assert!(de.text.contains("- 1 x Gartenstuhl Größe L"), "{}", de.text);
    assert!(de.attachments.is_empty());
    let en = return_rejected_mail(&branding(Locale::En), &o, "ret_1", &rejected_parts(&o)).unwrap();
    assert_eq!(
        en.subject,
        "Your return ret_1 for order WEB-1001 was not accepted"
    );
    assert!(
        en.text.contains("The articles stay with you"),
        "{}",
        en.text
    );
    // Only a rejected return has a rejection to tell.
    assert!(return_rejected_mail(&branding(Locale::De), &o, "ret_1", &return_parts(&o)).is_err());
}

#[test]
fn a_return_with_more_labels_than_parts_is_refused() {
    let b = branding(Locale::De);
    let o = order("Carla", None);
    let parts = return_parts(&o);
    assert!(return_authorized_mail(&b, &o, "ret_1", &parts, vec![Vec::new()]).is_err());
}

/// Writes every mail to `$TMPDIR/notifier-mails/` to look at (`cargo test -p notifier --lib
/// -- --ignored write_samples`), e.g. with a browser or `chromium --headless --screenshot`.
#[test]
#[ignore]
fn write_samples() {
    let dir = std::env::temp_dir().join("notifier-mails");
    std::fs::create_dir_all(&dir).unwrap();
    for locale in [Locale::De, Locale::En] {
        let b = branding(locale);
        let o = order("Jürgen Weiß", None);
        let f = fulfiller(None);
        for (name, mail) in customer_mails(&b, &o)
            .into_iter()
            .chain(other_mails(&b, &f))
        {
            let base = dir.join(format!("{name}.{}", render::locale_code(locale)));
            std::fs::write(
                base.with_extension(format!("{}.txt", render::locale_code(locale))),
                format!("Subject: {}\n\n{}", mail.subject, mail.text),
            )
            .unwrap();
            std::fs::write(
                base.with_extension(format!("{}.html", render::locale_code(locale))),
                &mail.html,
            )
            .unwrap();
        }
    }
    println!("{}", dir.display());
}
