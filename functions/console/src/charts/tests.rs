//! The charts' unit tests: each kind's chart from realistic rows, empty and junk rows.

use super::*;
use serde_json::json;

const ACCENT_FILL: &str = "fill=\"#2E5E4E\"";

fn rects_with(svg: &str, fill: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<rect") && l.contains(fill))
        .count()
}

fn polyline_points(svg: &str) -> usize {
    let Some(start) = svg.find("<polyline fill=\"none\" opacity=\"1\" stroke=\"#2E5E4E\"") else {
        return 0;
    };
    let rest = &svg[start..];
    let Some(p) = rest.find("points=\"") else {
        return 0;
    };
    let pts = &rest[p + 8..];
    let end = pts.find('"').unwrap_or(0);
    pts[..end].split_whitespace().count()
}

/// A crude well-formedness check: one root, every opened tag closed in order.
fn assert_xmlish(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("viewBox=\"0 0 800 "));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("<title>"));
    let open = &svg[..svg.find('>').unwrap_or(0)];
    assert!(
        open.contains("width=\"100%\"") && !open.contains("height="),
        "{open}"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()));
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn order_row(date: &str, channel: &str, status: &str, cur: &str, total: &str) -> Value {
    json!({"date": date, "channel": channel, "status": status, "currency": cur,
           "orders": 2, "units": 3, "total": total})
}

#[test]
fn orders_line_per_day_sums_channels_and_skips_cancelled() {
    let rows = vec![
        order_row("2026-03-01", "web", "shipped", "EUR", "100.00"),
        order_row("2026-03-01", "amazon", "routed", "EUR", "50.50"),
        order_row("2026-03-01", "web", "cancelled", "EUR", "999.00"),
        order_row("2026-03-02", "web", "shipped", "EUR", "20.00"),
        // 03-03 has no orders: a zero point.
        order_row("2026-03-04", "web", "shipped", "EUR", "1234.56"),
        order_row("2026-03-04", "web", "shipped", "CHF", "10.00"),
    ];
    let svg = for_report("orders", &rows, "en").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(polyline_points(&svg), 4);
    assert_eq!(svg.matches("<circle").count(), 4);
    assert!(svg.contains("Order value per day (EUR)"));
    // 150.50 + 20.00 + 0 + 1234.56, cancelled left out, CHF not added.
    assert!(svg.contains("1,405.06 EUR"), "{svg}");
    assert!(svg.contains("2026-03-01"));

    let de = for_report("orders", &rows, "de").expect("chart");
    assert!(de.contains("Bestellwert pro Tag (EUR)"));
    assert!(de.contains("1.405,06 EUR"));
    assert!(de.contains("01.03.26"));
}

#[test]
fn orders_across_a_year_and_a_junk_date() {
    let mut rows: Vec<Value> = Vec::new();
    for (m, d) in [(1, 5), (4, 17), (12, 31)] {
        rows.push(order_row(
            &format!("2026-{m:02}-{d:02}"),
            "web",
            "shipped",
            "EUR",
            "10.00",
        ));
    }
    rows.push(order_row("2026-02-30", "web", "shipped", "EUR", "10.00"));
    rows.push(order_row("1999-01-01", "web", "shipped", "EUR", "10.00"));
    let svg = for_report("orders", &rows, "en").expect("chart");
    assert_xmlish(&svg);
    // 1999 is more than MAX_DAYS before the last day: the line covers the last 400 days.
    assert_eq!(polyline_points(&svg), 400);
    assert_eq!(svg.matches("<circle").count(), 0);
}

#[test]
fn finance_bars_per_month() {
    let rows = vec![
        json!({"month": "2026-01", "country": "DE", "currency": "EUR", "taxRate": "19",
               "net": "1000.00", "tax": "190.00", "gross": "1190.00", "refunds": "0.00"}),
        json!({"month": "2026-01", "country": "AT", "currency": "EUR", "taxRate": "20",
               "net": "500.00", "tax": "100.00", "gross": "600.00", "refunds": "0.00"}),
        json!({"month": "2026-01", "country": "DE", "currency": "EUR", "taxRate": null,
               "net": "0.00", "tax": "0.00", "gross": "0.00", "refunds": "-30.00"}),
        json!({"month": "2026-03", "country": "DE", "currency": "EUR", "taxRate": "7",
               "net": "250.25", "tax": "17.52", "gross": "267.77", "refunds": "0.00"}),
        json!({"month": "2026-03", "currency": "EUR", "net": "abc"}),
    ];
    let svg = for_report("finance", &rows, "de").expect("chart");
    assert_xmlish(&svg);
    // Jan, Feb (zero), Mar.
    assert_eq!(rects_with(&svg, ACCENT_FILL), 3);
    assert!(svg.contains("Nettoumsatz pro Monat (EUR)"));
    assert!(svg.contains("1.750,25 EUR"));
    assert!(svg.contains("01/2026") && svg.contains("03/2026"));
}

fn sales_row(sku: &str, sold: u64, returned: u64, cur: Option<&str>, revenue: &str) -> Value {
    json!({"rank": 1, "sku": sku, "name": format!("Name {sku}"), "group": "Lampen",
           "orders": sold, "unitsOrdered": sold + returned + 1, "unitsCancelled": 1,
           "unitsReturned": returned, "unitsSold": sold, "currency": cur, "revenue": revenue})
}

#[test]
fn sales_few_skus_one_panel_summed_over_currencies() {
    let rows = vec![
        sales_row("LAMP-1", 40, 4, Some("EUR"), "400.00"),
        sales_row("LAMP-1", 2, 0, Some("CHF"), "21.00"),
        sales_row("DESK-2", 12, 6, Some("EUR"), "1200.00"),
        sales_row("CHAIR<3>", 0, 0, None, "0.00"),
    ];
    let charts = charts_for_report("sales", &rows, "en", DEFAULT_ACCENT);
    assert_eq!(charts.len(), 2);
    let svg = &charts[0];
    assert_xmlish(svg);
    assert_eq!(rects_with(svg, ACCENT_FILL), 3);
    assert!(svg.contains("LAMP-1 · Name LAMP-1"));
    assert!(svg.contains("DESK-2"));
    assert!(svg.contains("CHAIR&lt;3&gt;"), "label escaped");
    assert!(svg.contains("\n42\n</text>"));
    assert_eq!(
        for_report("sales", &rows, "en").as_deref(),
        Some(svg.as_str())
    );

    // Return rates: DESK-2 6/(12+6+1-1)=33.3 %, LAMP-1 4/46=8.7 %; CHAIR has none.
    let rates = &charts[1];
    assert_xmlish(rates);
    assert_eq!(rects_with(rates, ACCENT_FILL), 2);
    assert!(rates.contains("33.3 % (6/18)"));
    assert!(rates.contains("8.7 % (4/46)"));
    assert!(!rates.contains("CHAIR"));
    assert_eq!(
        return_rates(&rows, "de", DEFAULT_ACCENT).map(|s| s.contains("33,3 %")),
        Some(true)
    );
}

#[test]
fn sales_many_skus_top_and_slow_panels() {
    let rows: Vec<Value> = (0..50)
        .map(|i| sales_row(&format!("SKU-{i:03}"), i * 3, 0, Some("EUR"), "1.00"))
        .collect();
    let svg = for_report("sales", &rows, "de").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(rects_with(&svg, ACCENT_FILL), 40);
    assert!(svg.contains("Topseller (verkaufte Einheiten)"));
    assert!(svg.contains("Langsamdreher (verkaufte Einheiten)"));
    assert!(svg.contains("SKU-049")); // best
    assert!(svg.contains("SKU-000")); // slowest
    assert!(!svg.contains("SKU-025 ")); // in neither panel
    assert!(!svg.contains("SKU-025\n"));
    // No returns at all: no return-rate chart.
    assert_eq!(
        charts_for_report("sales", &rows, "de", DEFAULT_ACCENT).len(),
        1
    );
}

#[test]
fn returns_share_per_kind() {
    let row = |kind: &str, units: u64| {
        json!({"date": "2026-03-01", "kind": kind, "orderId": "o1", "channel": "web",
               "fulfillerId": null, "currency": "EUR", "units": units, "amount": "10.00", "note": null})
    };
    let rows = vec![
        row("return", 1),
        row("return", 2),
        row("return", 1),
        row("cancellation", 1),
        row("goodwill", 0),
        json!({"kind": "return"}),
        json!("junk"),
    ];
    let svg = for_report("returns", &rows, "de").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(rects_with(&svg, ACCENT_FILL), 3);
    assert!(svg.contains("Retoure") && svg.contains("Stornierung") && svg.contains("Kulanz"));
    assert!(svg.contains("60,0 % (3)"));
    assert!(svg.contains("Anteil an allen Fällen (%)"));
    let en = for_report("returns", &rows, "en").expect("chart");
    assert!(en.contains("60.0 % (3)") && en.contains("Cancellation"));
}

#[test]
fn stock_per_fulfiller_and_age() {
    let row = |f: &str, sku: &str, avail: i64, reserved: i64, age: i64| {
        json!({"fulfillerId": f, "sku": sku, "group": "g", "available": avail,
               "reserved": reserved, "free": avail - reserved,
               "updatedAt": "2026-03-01T10:00:00+00:00", "ageHours": age})
    };
    let rows = vec![
        row("berlin-wh", "A", 100, 10, 3),
        row("berlin-wh", "B", 50, 0, 30),
        row("muenchen", "A", 20, 5, 72),
        json!({"fulfillerId": "broken", "free": "lots"}),
    ];
    let svg = for_report("stock", &rows, "de").expect("chart");
    assert_xmlish(&svg);
    // Free segments and age bars in the accent (2 + 2), plus its legend box.
    assert_eq!(rects_with(&svg, ACCENT_FILL), 5);
    assert!(svg.contains("berlin-wh") && svg.contains("muenchen"));
    assert!(!svg.contains("broken"));
    assert!(svg.contains("Bestand je Fulfiller"));
    assert!(svg.contains("3 h") && svg.contains("3 Tage"));
    assert!(svg.contains("\n150\n</text>") && svg.contains("\n20\n</text>"));
    let en = for_report_with_accent("stock", &rows, "en", "#112233").expect("chart");
    assert_eq!(rects_with(&en, "fill=\"#112233\""), 5);
    assert!(en.contains("Last stock update"));
}

#[test]
fn single_entries() {
    let sales = vec![sales_row("ONLY-1", 5, 1, Some("EUR"), "50.00")];
    let svg = for_report("sales", &sales, "en").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(rects_with(&svg, ACCENT_FILL), 1);
    assert!(svg.contains("ONLY-1"));
    let orders = vec![order_row("2026-03-01", "web", "shipped", "EUR", "9.99")];
    let svg = for_report("orders", &orders, "de").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(polyline_points(&svg), 1);
    assert_eq!(svg.matches("<circle").count(), 1);
    let finance =
        vec![json!({"month": "2026-01", "currency": "EUR", "taxRate": "19", "net": "0.00"})];
    let svg = for_report("finance", &finance, "en").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(rects_with(&svg, ACCENT_FILL), 1);
}

#[test]
fn empty_rows_and_table_kinds_give_none() {
    for kind in ["orders", "finance", "sales", "returns", "stock"] {
        assert_eq!(for_report(kind, &[], "de"), None, "{kind}");
    }
    let any = vec![json!({"customer": "a@example.com", "total": "1.00"})];
    for kind in ["customers", "settlement", "promotions", "nonsense"] {
        assert_eq!(for_report(kind, &any, "en"), None, "{kind}");
    }
}

#[test]
fn junk_rows_are_skipped_without_panic() {
    let junk = vec![
        json!(null),
        json!(42),
        json!([1, 2]),
        json!({}),
        json!({"date": "not-a-date", "currency": "EUR", "total": "1.00", "status": "shipped"}),
        json!({"date": "2026-13-01", "currency": "EUR", "total": "1.00"}),
        json!({"date": "2026-03-01", "currency": "EUR", "total": "1,00"}),
        json!({"month": "2026-1", "currency": "EUR", "net": "1.00"}),
        json!({"sku": "X", "unitsSold": -3, "unitsOrdered": 1, "unitsCancelled": 0, "unitsReturned": 0}),
        json!({"sku": "", "unitsSold": 3}),
        json!({"kind": 7, "date": "2026-03-01"}),
        json!({"fulfillerId": "f", "free": 1.5, "reserved": 0, "ageHours": 1}),
        json!({"date": "2026-03-01", "currency": "EUR", "status": "shipped",
               "total": "79228162514264337593543950335"}),
        json!({"date": "2026-03-01", "currency": "EUR", "status": "shipped",
               "total": "79228162514264337593543950335"}),
    ];
    for kind in ["orders", "finance", "sales", "returns", "stock"] {
        for lang in ["de", "en"] {
            let _ = charts_for_report(kind, &junk, lang, "not a colour");
        }
    }
    // Only the overflowing totals are valid orders rows: they are charted, not panicking.
    let svg = for_report("orders", &junk, "en").expect("chart");
    assert_xmlish(&svg);
    assert_eq!(for_report("finance", &junk, "en"), None);
    assert_eq!(for_report("sales", &junk, "en"), None);
    assert_eq!(for_report("returns", &junk, "en"), None);
    assert_eq!(for_report("stock", &junk, "en"), None);
}

#[test]
fn formats() {
    assert_eq!(
        fmt_decimal(Decimal::new(123456789, 2), 2, Lang::De),
        "1.234.567,89"
    );
    assert_eq!(
        fmt_decimal(Decimal::new(-123456, 2), 2, Lang::En),
        "-1,234.56"
    );
    assert_eq!(fmt_decimal(Decimal::new(5, 1), 2, Lang::De), "0,50");
    assert_eq!(fmt_tick(2500.0, Lang::De), "2.500");
    assert_eq!(fmt_tick(0.25, Lang::De), "0,25");
    assert_eq!(day_number("2026-03-01").map(civil), Some((2026, 3, 1)));
    assert_eq!(day_number("2024-02-29").map(civil), Some((2024, 2, 29)));
    assert_eq!(day_number("2025-02-29"), None);
    assert_eq!(
        day_number("2026-03-01")
            .zip(day_number("2026-02-28"))
            .map(|(a, b)| a - b),
        Some(1)
    );
    assert_eq!(parse_colour("#2e5e4e"), Some(RGBColor(0x2E, 0x5E, 0x4E)));
    assert_eq!(parse_colour("red"), None);
    assert_eq!(
        short("abcdefghijklmnopqrstuvwxyz0123456789")
            .chars()
            .count(),
        MAX_LABEL
    );
}
