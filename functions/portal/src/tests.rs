//! Every page renders in both languages with what the handlers give it, user data escaped; a
//! portal that cannot reach its tables answers a plain 500 that says nothing about why.

use super::*;
use crate::i18n::Lang;
use crate::view::{self, Clock};
use chrono::{TimeZone, Utc};
use dropship_aws::config::FromConfig as _;
use dropship_core::delivery::DeliveryOrder;
use serde_json::{json, Value};

fn base(lang: Lang, texts: &Texts, signed_in: bool) -> Value {
    json!({
        "lang": lang.code(),
        "t": texts.all(lang),
        "brand": view::brand(None),
        "fulfiller": if signed_in { json!({"id": "acme-garden", "name": "Acme <Garden>"}) } else { Value::Null },
        "csrf": "c".repeat(64),
        "nonce": "n0nce",
        "section": "dashboard",
        "done": null,
    })
}

fn render(template: &str, lang: Lang, signed_in: bool, page: Value) -> String {
    let texts = crate::i18n::texts().unwrap_or_else(|e| panic!("texts: {e}"));
    let env = templates().unwrap_or_else(|e| panic!("templates: {e}"));
    let mut ctx = base(lang, &texts, signed_in);
    if let (Some(c), Value::Object(p)) = (ctx.as_object_mut(), page) {
        c.extend(p);
    }
    env.get_template(template)
        .and_then(|t| t.render(&ctx))
        .unwrap_or_else(|e| panic!("{template}: {e:#}"))
}

fn clock(lang: Lang) -> Clock {
    Clock {
        now: Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap_or_default(),
        tz: chrono_tz::Europe::Berlin,
        lang,
    }
}

fn delivery() -> DeliveryOrder {
    serde_json::from_value(json!({
        "id": "DO-1", "orderId": "o1", "fulfillerId": "acme-garden", "status": "accepted",
        "shipTo": {"name": "<script>alert(1)</script>", "street": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
        "lines": [{"lineId": "L1", "sku": "CHAIR-TEAK", "name": "Teak chair", "quantity": 3, "shipped": 1}],
        "createdAt": "2026-03-01T08:00:00Z", "dueAt": "2026-03-02T08:00:00Z", "createdKey": "k",
        "shipments": [{"id": "s1", "carrier": "DHL", "trackingNumber": "0034", "shippedAt": "2026-03-01T12:00:00Z",
            "lines": [{"lineId": "L1", "quantity": 1}]}]
    }))
    .unwrap_or_else(|e| panic!("fixture: {e}"))
}

#[test]
fn every_page_renders_in_both_languages_and_escapes_what_it_shows() {
    let texts = crate::i18n::texts().unwrap_or_else(|e| panic!("texts: {e}"));
    for lang in [Lang::De, Lang::En] {
        let c = clock(lang);
        let d = delivery();
        let row = view::delivery_row(&d, &c, &texts);
        let pages = [
            (
                "sign_in.html",
                false,
                json!({"error": {"field": "email", "message": "bad"}, "email": "a@b.example"}),
            ),
            ("magic.html", false, json!({"action": "/portal/magic/x"})),
            (
                "message.html",
                true,
                json!({"heading": "h", "text": "t", "back": "/portal"}),
            ),
            (
                "dashboard.html",
                true,
                json!({"today": "2.3.2026", "late": 1, "due_today": 0, "to_accept": 0, "returns_waiting": "0", "due": [row.clone()]}),
            ),
            (
                "delivery_orders.html",
                true,
                json!({"tabs": [{"href": "/portal/delivery-orders", "label": "x", "current": true}], "due": [row], "next": "/n"}),
            ),
            (
                "delivery_order.html",
                true,
                json!({"d": view::delivery_detail(&d, &c, &texts),
                    "documents": [{"kind": "delivery_note", "url": "http://x/documents/abc", "label": "Lieferschein"}],
                    "can_accept": true, "can_ship": true, "can_reject": true, "form_id": "f",
                    "form": {"carrier": "DHL", "qty": {"L1": "7"}},
                    "error": {"field": "qty:L1", "message": "only 2 units of line L1 are open"}}),
            ),
            (
                "stock.html",
                true,
                json!({"q": "teak", "items": [{"sku": "CHAIR-TEAK", "name": "Teak chair", "available": 3, "edit_value": "x",
                    "reserved": 1, "short": false, "updated": "1.3.2026", "invalid": true}],
                    "error": {"field": "feed", "message": "m", "rows": [{"line": 3, "reason": "invalid sku \"a b\""}]}}),
            ),
            (
                "returns.html",
                true,
                json!({"form_id": "f", "waiting": [{"id": "R1", "status": "authorized", "status_label": "x", "created": "1.3.2026",
                    "error": "e", "lines": [{"line_id": "L1", "sku": "S", "name": "N", "reason": "zu groß", "quantity": 2, "good": 2, "bad": 0, "invalid": true}]}]}),
            ),
        ];
        for (template, signed_in, page) in pages {
            let html = render(template, lang, signed_in, page);
            assert!(
                html.contains(&format!("<html lang=\"{}\">", lang.code())),
                "{template}"
            );
            assert!(!html.contains("<script>alert"), "{template} must escape");
            if signed_in {
                assert!(html.contains("Acme &lt;Garden&gt;"), "{template}");
                assert!(html.contains("action=\"/portal/sign-out\""), "{template}");
            }
            // Every form that posts carries the CSRF token.
            assert_eq!(
                html.matches("method=\"post\"").count(),
                html.matches(&format!("name=\"csrf\" value=\"{}\"", "c".repeat(64)))
                    .count(),
                "{template}"
            );
            // Every input that is not hidden has a label.
            for id in html
                .split("<input ")
                .skip(1)
                .filter(|i| !i.starts_with("type=\"hidden\""))
                .filter_map(|i| i.split("id=\"").nth(1)?.split('"').next())
            {
                assert!(
                    html.contains(&format!("for=\"{id}\"")),
                    "{template}: {id} has no label"
                );
            }
        }
        let detail = render(
            "delivery_order.html",
            lang,
            true,
            json!({"d": view::delivery_detail(&delivery(), &c, &texts), "documents": [], "can_ship": true, "form": {}}),
        );
        // Without values sent back, a line's open units are proposed.
        assert!(detail.contains("name=\"qty:L1\" min=\"0\" max=\"2\" step=\"1\" inputmode=\"numeric\"\n          value=\"2\""));
    }
}

#[test]
fn the_sign_in_mail_carries_the_link_in_the_recipients_language() {
    let texts = crate::i18n::texts().unwrap_or_else(|e| panic!("texts: {e}"));
    let env = templates().unwrap_or_else(|e| panic!("templates: {e}"));
    let ctx = json!({"t": texts.all(Lang::En), "lang": "en", "brand": view::brand(None), "person": "Acme & Co",
        "site": {"path": "/portal", "title": "Supplier portal"},
        "url": "https://oms.example/portal/magic/abc", "subject": "s"});
    let text = env
        .get_template("mail_link.txt")
        .and_then(|t| t.render(&ctx))
        .unwrap_or_default();
    assert!(text.contains("https://oms.example/portal/magic/abc") && text.contains("15 minutes"));
    assert!(text.contains("Acme & Co"), "plain text is not HTML-escaped");
    let html = env
        .get_template("mail_link.html")
        .and_then(|t| t.render(&ctx))
        .unwrap_or_default();
    assert!(html.contains("Acme &amp; Co") && html.contains("Supplier portal"));
}

#[tokio::test]
async fn without_its_tables_the_portal_answers_a_plain_500() {
    let config: Config = dropship_aws::config::offline_config().unwrap_or_else(|e| panic!("{e}"));
    let portal = Portal::from_config(&config, &dropship_aws::config::offline())
        .unwrap_or_else(|e| panic!("{e}"));
    let req = lambda_http::request::from_str(include_str!("../../../events/portal.json"))
        .unwrap_or_else(|e| panic!("event: {e}"));
    let resp = portal
        .handle(req)
        .await
        .unwrap_or_else(|e| panic!("handler: {e}"));
    assert_eq!(resp.status().as_u16(), 500);
    let body = String::from_utf8_lossy(resp.body().as_ref()).to_string();
    assert!(
        !body.contains("127.0.0.1") && !body.contains("Table"),
        "{body}"
    );
}

/// Every variable the portal reads is one template.yaml's PortalFunction gives it.
#[test]
fn the_template_gives_the_portal_every_variable_it_reads() {
    let template = include_str!("../../../template.yaml");
    let portal = template
        .split("\n  PortalFunction:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n      Policies:").next())
        .and_then(|props| props.split("Variables:\n").nth(1))
        .unwrap_or_else(|| panic!("no PortalFunction with Environment Variables in template.yaml"));
    let names: Vec<&str> = portal
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':').map(|(name, _)| name))
        .collect();
    assert!(names.contains(&"CATALOGUE_TABLE"), "{names:?}");
    let config: anyhow::Result<Config> =
        dropship_aws::config::from_vars(names.iter().map(|n| (*n, "x")));
    if let Err(e) = config {
        panic!("{e}");
    }
}
