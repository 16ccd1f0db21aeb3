//! VAT on the supply date everywhere (docs/api.md "Money rules"): after a shipment across a rate
//! change, the order view (per line and in the totals, shipping included), the finance report, a
//! refund and its credit document all show what the corrected invoice shows, to the cent.
//!
//! The German 2020 change (19 % to 16 % on 2020-07-01) moved to now, as in documents.rs: a
//! shipment may be neither in the future nor before its delivery order was made, so the rate
//! changes yesterday and the order is dated three days back.

use crate::setup;

use crate::support::{pdf_text, Stack};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn periods(line: &Value) -> Vec<String> {
    line["taxes"]
        .as_array()
        .unwrap_or_else(|| panic!("no taxes on {line}"))
        .iter()
        .map(|t| {
            format!(
                "{} x{} net {} tax {}",
                t["rate"], t["units"], t["net"], t["tax"]
            )
        })
        .map(|s| s.replace('"', ""))
        .collect()
}

fn per_rate(lines: &Value) -> Vec<String> {
    lines
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {lines}"))
        .iter()
        .map(|t| format!("{} net {} tax {}", t["rate"], t["net"], t["tax"]).replace('"', ""))
        .collect()
}

#[tokio::test]
async fn a_shipment_across_the_rate_change_is_taxed_alike_in_view_report_refund_and_invoice() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    setup::rate_change_yesterday(&stack).await;
    let day = |d: i64| {
        (chrono::Utc::now() + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    // 3 x 40.00 = 120.00 plus 5.00 shipping, ordered at 19 %.
    let mut body = setup::order(
        "WEB-VAT-2020",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 3, "unitPrice": "40.00"}]),
        "125.00",
    );
    body["orderedAt"] = json!((chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339());
    body["shippingCost"] = json!("5.00");
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "vat-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery = setup::first_delivery_order(&stack, &world.acme, 3, WAIT).await;
    let delivery_id = delivery["id"].as_str().unwrap().to_string();

    // Two of the three units ship today (16 %); the third stays open (order date, 19 %).
    let (status, d) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "VAT-1", "lines": [{"lineId": "L1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{d}");

    // The line's paid 120.00 split cumulatively, the order date's period first:
    //   19 % 1 unit: round(120.00 x 1/3) = 40.00, tax round(40.00 x 0.19/1.19 = 6.3866) = 6.39;
    //   16 % 2 units: 120.00 - 40.00 = 80.00, tax round(80.00 x 0.16/1.16 = 11.0345) = 11.03.
    // Line: tax 17.42, taxRate 0.16 (2 of 3 units).
    // Shipping 5.00 pro rata to paid per rate (80.00 / 40.00): round(3.3333) = 3.33 at 16 %,
    // round(1.6667) = 1.67 at 19 %; tax round(3.33 x 0.16/1.16 = 0.4593) = 0.46 and
    // round(1.67 x 0.19/1.19 = 0.2666) = 0.27: shippingTax 0.73.
    // Totals: 16 % tax 11.03 + 0.46 = 11.49 on 83.33 (net 71.84);
    //         19 % tax 6.39 + 0.27 = 6.66 on 41.67 (net 35.01).
    // (Before: everything at 19 %: line tax 19.16, totals 19 % tax 19.96.)
    let view = stack
        .eventually("the supply rates on the order", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{order_id}"), Some(&world.web))
                .await;
            (o["lines"][0]["taxRate"] == "0.16").then_some(o)
        })
        .await;
    let line = &view["lines"][0];
    assert_eq!(
        periods(line),
        ["0.19 x1 net 33.61 tax 6.39", "0.16 x2 net 68.97 tax 11.03"]
    );
    assert_eq!(line["tax"], "17.42", "{line}");
    assert_eq!(view["totals"]["shippingTax"], "0.73", "{view}");
    assert_eq!(
        per_rate(&view["totals"]["tax"]),
        ["0.16 net 71.84 tax 11.49", "0.19 net 35.01 tax 6.66"]
    );
    let (_, admin_view) = stack.get(&format!("/admin/orders/{order_id}"), admin).await;
    assert_eq!(admin_view["lines"], view["lines"]);
    assert_eq!(admin_view["totals"], view["totals"]);

    // The corrected invoice in force shows the same figures (German number format).
    let corrected = stack
        .eventually("the corrected invoice", WAIT, || async {
            let (_, d) = stack
                .get(
                    &format!("/fulfiller/delivery-orders/{delivery_id}"),
                    Some(&world.acme),
                )
                .await;
            let url = d["documents"]
                .as_array()?
                .iter()
                .find(|x| x["kind"] == "invoice")?["url"]
                .as_str()?
                .to_string();
            let pdf = reqwest::get(&url).await.ok()?.bytes().await.ok()?;
            let text = pdf_text(&pdf);
            text.contains("Rechnungskorrektur").then_some(text)
        })
        .await;
    for figure in ["6,39", "11,03", "11,49", "6,66", "71,84", "35,01", "125,00"] {
        assert!(corrected.contains(figure), "{figure} not in {corrected}");
    }

    // The finance report books the same per rate.
    let (status, report) = stack
        .get(
            &format!("/admin/reports/finance?from={}&to={}", day(-1), day(1)),
            admin,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let rows: Vec<String> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["taxRate"].is_null())
        .map(|r| format!("{} net {} tax {}", r["taxRate"], r["net"], r["tax"]).replace('"', ""))
        .collect();
    assert_eq!(
        rows,
        ["0.16 net 71.84 tax 11.49", "0.19 net 35.01 tax 6.66"]
    );

    // One unit comes back: the latest shipped, a 16 % one. Refund round(120.00 x 1/3) = 40.00
    // (two units kept: no shipping, no discount withdrawn); its tax at 16 %: of the period's
    // 11.03 on 2 units, round(11.03 x 1/2 = 5.515) = 5.52, net 34.48 (at 19 % it was 6.39).
    let (status, r) = stack
        .post_idempotent(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            "vat-ret-1",
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "zu groß"}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (status, part) = stack
        .post(
            &format!("/fulfiller/returns/{return_id}/receive"),
            Some(&world.acme),
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "condition": "resellable"}]}),
        )
        .await;
    assert_eq!(status, 200, "{part}");
    let refund = stack
        .eventually("the refund", WAIT, || async {
            let (_, o) = stack
                .get(&format!("/orders/{order_id}"), Some(&world.web))
                .await;
            o["refunds"].as_array()?.first().cloned()
        })
        .await;
    assert_eq!(refund["amount"], "40.00", "{refund}");
    assert_eq!(per_rate(&refund["tax"]), ["0.16 net 34.48 tax 5.52"]);

    // Its credit document books back the same.
    let cfg = stack.aws_sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let credit = stack
        .eventually("the credit document", WAIT, || async {
            let list = s3
                .list_objects_v2()
                .bucket("dropship-documentbucket")
                .prefix(format!("documents/{order_id}/credit"))
                .send()
                .await
                .ok()?;
            let key = list.contents().first()?.key()?.to_string();
            let obj = s3
                .get_object()
                .bucket("dropship-documentbucket")
                .key(key)
                .send()
                .await
                .ok()?;
            Some(pdf_text(&obj.body.collect().await.ok()?.into_bytes()))
        })
        .await;
    for figure in ["16 %", "34,48", "5,52", "40,00"] {
        assert!(credit.contains(figure), "{figure} not in {credit}");
    }
    assert!(!credit.contains("19 %"), "{credit}");
}
