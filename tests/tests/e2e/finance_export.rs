//! The finance export end to end: orders shipped and invoiced (one paid by card and points with a
//! discount and shipping, one by invoice payment with money received), one returned and
//! refunded. The journal, read back with the csv crate, holds every document and money movement
//! exactly once, and its revenue and tax per rate equal the finance report for the same day to
//! the cent; the DATEV file, decoded from Windows-1252 and read with `;`, carries the EXTF
//! header with the numbers put via the accounts, and a booking for every posting.

use crate::setup;
use crate::support::Stack;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn dec(v: &str) -> Decimal {
    Decimal::from_str(v).unwrap_or_else(|_| panic!("not a decimal: {v:?}"))
}

/// Belegfeld 1 as the DATEV format allows it (docs/api.md): letters, digits and `$&%*+-/`, any
/// other character as `-`, at most 36 (the tail).
fn belegfeld(number: &str) -> String {
    let clean: Vec<char> = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "$&%*+-/".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean[clean.len().saturating_sub(36)..].iter().collect()
}

/// An invoice or correction row books revenue when the receivable (the default debtor 10000) is
/// debited; a correction's row taking back more than it books has the accounts swapped.
fn revenue_sign(r: &BTreeMap<String, String>) -> Decimal {
    match (r["account"].as_str(), r["contraAccount"].as_str()) {
        ("10000", _) => Decimal::ONE,
        (_, "10000") => -Decimal::ONE,
        _ => panic!("a revenue row without the receivable: {r:?}"),
    }
}

/// The journal read with the csv crate: its header checked, each row by column name.
fn journal_rows(journal: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(journal);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "date,documentNumber,kind,orderId,externalId,account,contraAccount,amount,currency,taxRate,tax,text"
    );
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Net and tax per rate (normalised, `0.19`) of the invoice and correction rows.
fn invoiced_per_rate(rows: &[BTreeMap<String, String>]) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut out: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| ["invoice", "correction"].contains(&r["kind"].as_str()))
    {
        let (amount, tax, sign) = (dec(&r["amount"]), dec(&r["tax"]), revenue_sign(r));
        let e = out
            .entry(dec(&r["taxRate"]).normalize().to_string())
            .or_default();
        e.0 += sign * (amount - tax);
        e.1 += sign * tax;
    }
    out
}

/// Net and tax per rate of the finance report's rows for the period.
async fn report_per_rate(stack: &Stack, period: &str) -> BTreeMap<String, (Decimal, Decimal)> {
    let (status, report) = stack
        .get(
            &format!("/admin/reports/finance?{period}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let mut out: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for i in report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["taxRate"].is_string())
    {
        let e = out
            .entry(dec(i["taxRate"].as_str().unwrap()).normalize().to_string())
            .or_default();
        e.0 += dec(i["net"].as_str().unwrap());
        e.1 += dec(i["tax"].as_str().unwrap());
    }
    out
}

async fn delivery_at(stack: &Stack, token: &str, order_id: &str) -> String {
    stack
        .eventually("the delivery order", WAIT, || async {
            let (_, list) = stack.get("/fulfiller/delivery-orders", Some(token)).await;
            list["items"]
                .as_array()?
                .iter()
                .find(|d| d["orderId"] == order_id)
                .and_then(|d| d["id"].as_str().map(String::from))
        })
        .await
}

async fn ship(stack: &Stack, token: &str, delivery: &str) {
    let (status, body) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(token),
            &json!({"carrier": "DHL", "trackingNumber": format!("T-{delivery}")}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
}

/// The export's file through its link: the answer and the bytes.
async fn export(stack: &Stack, query: &str) -> (Value, Vec<u8>) {
    let path = format!("/admin/finance/export?{query}");
    let (status, answer) = stack.get(&path, Some(&stack.admin_token)).await;
    assert_eq!(status, 200, "{path}: {answer}");
    assert_eq!(answer["status"], "ready", "{answer}");
    assert!(answer["expiresAt"].is_string(), "{answer}");
    let url = answer["url"].as_str().expect("url");
    let resp = stack.http().get(url).send().await.expect("download");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    (
        answer.clone(),
        resp.bytes().await.expect("the file").to_vec(),
    )
}

/// The invoice-like documents stored for the orders: number -> kind (from the PDF keys,
/// `documents/{orderId}/{kind}-{number}.pdf`).
async fn stored_documents(
    stack: &Stack,
    order_ids: &[String],
) -> BTreeMap<(String, String), String> {
    let cfg = stack.aws_sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let mut out = BTreeMap::new();
    for id in order_ids {
        let list = s3
            .list_objects_v2()
            .bucket("dropship-documentbucket")
            .prefix(format!("documents/{id}/"))
            .send()
            .await
            .unwrap();
        for key in list.contents().iter().filter_map(|o| o.key()) {
            let name = key.rsplit('/').next().unwrap();
            let Some(stem) = name.strip_suffix(".pdf") else {
                continue;
            };
            for kind in ["invoice", "correction", "credit"] {
                if let Some(number) = stem.strip_prefix(&format!("{kind}-")) {
                    out.insert((id.clone(), number.to_string()), kind.to_string());
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_journal_and_the_datev_file_book_every_posting_once_and_agree_with_the_report() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());

    // Before any PUT: the SKR03 defaults, without DATEV numbers (the DATEV file is 422 then).
    let (status, accounts) = stack.get("/admin/finance/accounts", admin).await;
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(
        (
            &accounts["receivables"],
            &accounts["datev"]["consultantNumber"]
        ),
        (&json!("10000"), &Value::Null),
        "{accounts}"
    );

    // A: docs/api.md's worked example (discount, shipping, card and points), returned in part.
    let mut a = setup::order(
        "FX-A",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "THROW-WOOL", "quantity": 1, "unitPrice": "15.00"}]),
        "63.88",
    );
    a["discounts"] = json!([{"code": "SAVE5", "amount": "5.00"}]);
    a["shippingCost"] = json!("3.90");
    a["payments"] = json!([{"method": "card", "amount": "50.00", "reference": "card-1"},
                           {"method": "bonus_points", "amount": "13.88"}]);
    // B: paid by invoice, part of it received.
    let mut b = setup::order(
        "FX-B",
        json!([{"lineId": "L1", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "40.00"}]),
        "40.00",
    );
    b["payments"] = json!([{"method": "invoice", "amount": "40.00"}]);
    let mut ids = Vec::new();
    for (token, body) in [(&world.web, &a), (&world.marketplace, &b)] {
        let key = body["externalId"].as_str().unwrap();
        let (status, created) = stack
            .post_idempotent("/orders", Some(token), key, body)
            .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["orderId"].as_str().unwrap().to_string());
    }
    let (a_id, b_id) = (ids[0].clone(), ids[1].clone());
    for (token, order) in [
        (&world.acme, &a_id),
        (&world.nordic, &a_id),
        (&world.warehouse, &b_id),
    ] {
        let d = delivery_at(&stack, token, order).await;
        ship(&stack, token, &d).await;
    }
    let (status, body) = stack
        .post(
            &format!("/admin/orders/{b_id}/payments-received"),
            admin,
            &json!({"amount": "25.00", "reference": "bank-1"}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");

    // A's chairs come back and are refunded (a credit document).
    let (status, r) = stack
        .post(
            &format!("/orders/{a_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "zu groß"}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap();
    let (status, part) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200, "{part}");
    let documents = stack
        .eventually("three invoices and a credit document", WAIT, || async {
            let docs = stored_documents(&stack, &ids).await;
            let kinds: Vec<&String> = docs.values().collect();
            let invoices = kinds.iter().filter(|k| **k == "invoice").count();
            let credits = kinds.iter().filter(|k| **k == "credit").count();
            (invoices == 3 && credits == 1).then_some(docs)
        })
        .await;

    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    let period = format!("from={today}&to={today}");

    // The journal, read with the csv crate.
    let (_, journal) = export(&stack, &format!("{period}&format=journal")).await;
    let rows = journal_rows(&journal);
    assert!(rows.iter().all(|r| r["date"] == today), "{rows:?}");
    assert!(
        rows.iter().all(|r| dec(&r["amount"]) > Decimal::ZERO),
        "{rows:?}"
    );

    // Every document exactly once, with its kind, one row per rate.
    // Keyed by order and number: a money movement's number is its ledger id, unique per order.
    let mut per_document: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut seen_rows = BTreeSet::new();
    for r in &rows {
        assert!(
            seen_rows.insert((
                r["orderId"].clone(),
                r["documentNumber"].clone(),
                r["kind"].clone(),
                r["taxRate"].clone(),
                r["account"].clone(),
                r["contraAccount"].clone()
            )),
            "a row twice: {r:?}"
        );
        per_document
            .entry((r["orderId"].clone(), r["documentNumber"].clone()))
            .or_default()
            .insert(r["kind"].clone());
    }
    for ((order, number), kind) in &documents {
        let want = if kind == "credit" {
            "credit_note"
        } else {
            kind.as_str()
        };
        assert_eq!(
            per_document.get(&(order.clone(), number.clone())),
            Some(&BTreeSet::from([want.to_string()])),
            "document {number} ({kind}): {rows:?}"
        );
    }
    // Every money movement exactly once: the opening payments but the invoice one, the money
    // received, the refund (its shares are one posting, numbered by the refund's id).
    let mut money = BTreeMap::new();
    for id in &ids {
        let (_, o) = stack.get(&format!("/admin/orders/{id}"), admin).await;
        for e in o["ledger"].as_array().unwrap() {
            let (kind, number) = match e["kind"].as_str().unwrap() {
                "payment" if e["method"] == "invoice" => continue,
                "payment" | "payment_received" => ("payment_received", e["id"].clone()),
                "refund" => ("refund", e["reference"].clone()),
                other => panic!("no {other} in this test: {o}"),
            };
            money.insert(
                (id.clone(), number.as_str().unwrap().to_string()),
                kind.to_string(),
            );
        }
    }
    assert_eq!(
        money.len(),
        4,
        "card, points, bank-1, the refund: {money:?}"
    );
    for (key, kind) in &money {
        assert_eq!(
            per_document.get(key),
            Some(&BTreeSet::from([kind.clone()])),
            "{key:?}: {rows:?}"
        );
    }
    assert_eq!(
        per_document.len(),
        documents.len() + money.len(),
        "nothing else is booked: {rows:?}"
    );

    // Revenue and tax per rate: the report's, to the cent; the credit documents' gross is the
    // report's refunds.
    let by_rate = report_per_rate(&stack, &period).await;
    assert!(by_rate.contains_key("0.19"), "{by_rate:?}");
    assert_eq!(invoiced_per_rate(&rows), by_rate, "journal {rows:?}");
    let credited: Decimal = rows
        .iter()
        .filter(|r| r["kind"] == "credit_note")
        .map(|r| dec(&r["amount"]))
        .sum();
    let (status, report) = stack
        .get(&format!("/admin/reports/finance?{period}"), admin)
        .await;
    assert_eq!(status, 200, "{report}");
    let items = report["items"].as_array().unwrap();
    let refunds: Decimal = items
        .iter()
        .filter(|i| i["taxRate"].is_null())
        .map(|i| dec(i["refunds"].as_str().unwrap()))
        .sum();
    assert_eq!(credited, refunds, "journal {rows:?} vs report {items:?}");
    assert!(refunds > Decimal::ZERO);

    // DATEV: 422 until the numbers are set; then the EXTF header carries them.
    let (status, e) = stack
        .get(
            &format!("/admin/finance/export?{period}&format=datev"),
            admin,
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("datev.consultantNumber")),
        "{e}"
    );
    let (status, put) = stack
        .request(
            "PUT",
            "/admin/finance/accounts",
            admin,
            Some(&json!({"datev": {"consultantNumber": 1234567, "clientNumber": 10001}})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{put}");
    let (status, bad) = stack
        .request(
            "PUT",
            "/admin/finance/accounts",
            admin,
            Some(&json!({"datev": {"consultantNumber": 1234567, "clientNumber": 100001}})),
            &[],
        )
        .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (422, Some("datev.clientNumber")),
        "{bad}"
    );
    let (_, stored) = stack.get("/admin/finance/accounts", admin).await;
    assert_eq!(stored, put, "the refused PUT wrote nothing");

    let (answer, datev) = export(&stack, &format!("{period}&format=datev")).await;
    let (text, _, malformed) = encoding_rs::WINDOWS_1252.decode(&datev);
    assert!(!malformed);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let h = &records[0];
    let compact = today.replace('-', "");
    assert_eq!(
        (&h[0][..], &h[1][..], &h[2][..], &h[3][..]),
        ("EXTF", "700", "21", "Buchungsstapel"),
        "{h:?}"
    );
    assert_eq!(
        (
            &h[10][..],
            &h[11][..],
            &h[12][..],
            &h[13][..],
            &h[14][..],
            &h[15][..]
        ),
        (
            "1234567",
            "10001",
            &format!("{}0101", &today[..4])[..],
            "4",
            &compact[..],
            &compact[..]
        ),
        "{h:?}"
    );
    let columns = &records[1];
    let col = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{name}: {columns:?}"))
    };
    let (umsatz, sh, konto, beleg) = (
        col("Umsatz (ohne Soll/Haben-Kz)"),
        col("Soll/Haben-Kennzeichen"),
        col("Konto"),
        col("Belegfeld 1"),
    );
    let bookings = &records[2..];
    assert!(!bookings.is_empty());
    let belege: BTreeSet<String> = bookings.iter().map(|b| b[beleg].clone()).collect();
    let numbers: BTreeSet<String> = per_document.keys().map(|(_, n)| belegfeld(n)).collect();
    assert_eq!(belege, numbers, "every posting has its bookings");
    for b in bookings {
        assert!(["S", "H"].contains(&b[sh].as_str()), "{b:?}");
        assert!(!b[konto].is_empty(), "{b:?}");
        assert!(dec(&b[umsatz].replace(',', ".")) > Decimal::ZERO, "{b:?}");
    }
    // The status route gives the same export again.
    let id = answer["id"].as_str().unwrap();
    let (status, again) = stack
        .get(&format!("/admin/finance/exports/{id}"), admin)
        .await;
    assert_eq!(
        (status, &again["status"]),
        (200, &json!("ready")),
        "{again}"
    );
    let (status, _) = stack
        .get(&format!("/admin/finance/exports/{}", "0".repeat(32)), admin)
        .await;
    assert_eq!(status, 404);
}

/// A shipment across a rate change corrects the invoice (19 % to 16 % on two of three units,
/// shipping following): the journal books the invoice and the correction, which takes the
/// invoice's figures back and books its own, and per rate they add up to the finance report's.
#[tokio::test]
async fn a_vat_correction_is_booked_against_the_invoice_and_agrees_with_the_report() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    setup::rate_change_yesterday(&stack).await;
    let mut body = setup::order(
        "FX-VAT",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 3, "unitPrice": "40.00"}]),
        "125.00",
    );
    body["orderedAt"] = json!((chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339());
    body["shippingCost"] = json!("5.00");
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "fx-vat", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery = delivery_at(&stack, &world.acme, &order_id).await;
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "FX-VAT-1", "lines": [{"lineId": "L1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    let ids = [order_id.clone()];
    let documents = stack
        .eventually("the invoice and its correction", WAIT, || async {
            let docs = stored_documents(&stack, &ids).await;
            (docs.values().filter(|k| *k == "correction").count() == 1).then_some(docs)
        })
        .await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    let period = format!("from={today}&to={today}");
    let (_, journal) = export(&stack, &format!("{period}&format=journal")).await;
    let rows = journal_rows(&journal);
    let kinds: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r["documentNumber"].clone(), r["kind"].clone()))
        .collect();
    for ((_, number), kind) in &documents {
        assert!(
            kinds.contains(&(number.clone(), kind.clone())),
            "{number} {kind}: {rows:?}"
        );
    }
    let journal_rates = invoiced_per_rate(&rows);
    let report = report_per_rate(&stack, &period).await;
    assert!(
        report.contains_key("0.16") && report.contains_key("0.19"),
        "{report:?}"
    );
    assert_eq!(journal_rates, report, "journal {rows:?}");
}
