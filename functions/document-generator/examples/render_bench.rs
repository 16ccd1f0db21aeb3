//! Size and render time of every document kind for a three-line order (`make bench-documents`),
//! release build, warm (fonts parsed once per process, logo decoded once, as in a warm Lambda).
//!
//! The `… exact names` rows are the same documents for a Polish and a Hungarian-Romanian
//! customer (Łukasz Dvořák, ul. Żółkiewskiego 5, 90-001 Łódź; Gödöllő, Ștefan): letters
//! outside WinAnsi, so these embed font subsets instead of naming the built-in Helvetica.
//!
//! `SAMPLES=dir` also writes one PDF of each kind there, and a PNG of its first page
//! (`pdftoppm -png -r 60`), e.g. `SAMPLES=docs/samples`. `SAMPLE=path` keeps the delivery note.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark: its figures go to the terminal"
)]

use base64::Engine as _;
use chrono::Utc;
use document_generator::render;
use dropship_core::catalogue::Branding;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::documents::{InvoiceDocument, ReturnLabel, ShippingLabel};
use dropship_core::order::Order;
use image::{ImageBuffer, ImageEncoder, Rgba};
use serde_json::json;
use std::time::{Duration, Instant};

const RUNS: usize = 300;

/// A small PNG logo (480 x 160, RGBA): a linden-green tree mark and a bar, on transparency.
fn logo_png() -> anyhow::Result<Vec<u8>> {
    let green = Rgba([0x2e, 0x5e, 0x4e, 255]);
    let light = Rgba([0x8a, 0xb3, 0x9f, 255]);
    let img: ImageBuffer<Rgba<u8>, Vec<u8>> = ImageBuffer::from_fn(480, 160, |x, y| {
        let (x, y) = (x as i32, y as i32);
        let crown = (x - 80).pow(2) + (y - 62).pow(2) < 52 * 52;
        let inner = (x - 80).pow(2) + (y - 62).pow(2) < 30 * 30;
        let trunk = (72..88).contains(&x) && (100..150).contains(&y);
        if trunk || (crown && !inner) {
            green
        } else if inner {
            light
        } else if (160..470).contains(&x) && ((56..76).contains(&y) || (92..100).contains(&y)) {
            if y < 80 {
                green
            } else {
                light
            }
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        img.as_raw(),
        480,
        160,
        image::ColorType::Rgba8,
    )?;
    Ok(png)
}

/// A worst case for size: a 1200 x 400 photo-like logo (gradients and grain, little to compress).
fn photo_logo_png() -> anyhow::Result<Vec<u8>> {
    let mut seed = 0x2545_f491_u32;
    let img: ImageBuffer<Rgba<u8>, Vec<u8>> = ImageBuffer::from_fn(1200, 400, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 24) as u8;
        Rgba([
            (x * 200 / 1200) as u8 + grain,
            (y * 200 / 400) as u8 + grain,
            120 + grain,
            255,
        ])
    });
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        img.as_raw(),
        1200,
        400,
        image::ColorType::Rgba8,
    )?;
    Ok(png)
}

fn main() -> anyhow::Result<()> {
    let customer = json!({"name": "Jörg Weiß", "street": "Straße des 17. Juni 1", "postalCode": "10623", "city": "Berlin", "country": "DE"});
    let ship_to = json!({"name": "Jörg Weiß c/o Müller", "street": "Königsallee 5", "postalCode": "40212", "city": "Düsseldorf", "country": "DE"});
    let retailer = json!({"name": "Lindenhof Living GmbH", "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"});
    let branding_json = json!({
        "companyName": "Lindenhof Living GmbH", "address": retailer, "vatId": "DE123456789", "primaryColor": "#2E5E4E",
        "footer": "Lindenhof Living GmbH · Lindenstraße 12 · 10969 Berlin · Amtsgericht Charlottenburg HRB 123456 · Geschäftsführerin: Anna Groß · USt-IdNr. DE123456789 · service@lindenhof.example",
        "emailFrom": "service@lindenhof.example", "locale": "de", "timeZone": "Europe/Berlin"});
    let plain: Branding = serde_json::from_value(branding_json.clone())?;
    let logo = base64::engine::general_purpose::STANDARD.encode(logo_png()?);
    let mut with_logo = plain.clone();
    with_logo.logo_png_base64 = Some(logo.clone());
    let mut with_photo = plain.clone();
    with_photo.logo_png_base64 =
        Some(base64::engine::general_purpose::STANDARD.encode(photo_logo_png()?));

    let order: Order = serde_json::from_value(json!({
        "id": "o1", "channelId": "web", "externalId": "WEB-100234", "status": "routed", "currency": "EUR",
        "customer": {"email": "c@example.com", "name": "Jörg Weiß"}, "shippingAddress": ship_to,
        "orderedAt": Utc::now(), "createdAt": Utc::now(), "lines": [], "discounts": [], "shippingCost": "0.00",
        "payments": [], "history": [],
        "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00",
                   "tax": [], "refunded": "0.00", "due": "0.00"}}))?;
    let delivery: DeliveryOrder = serde_json::from_value(json!({
        "id": "DO-3C0A944DB535215729D4", "orderId": "o1", "fulfillerId": "f-1", "status": "open", "shipTo": ship_to,
        "lines": [
            {"lineId": "L1", "sku": "LAMP-OAK", "name": "Tischleuchte Eiche", "quantity": 2, "shipped": 0},
            {"lineId": "L2", "sku": "CUSHION-LINEN", "name": "Kissen Leinen 50×50", "quantity": 1, "shipped": 0},
            {"lineId": "L3", "sku": "BOOK-SUESS", "name": "Kochbuch „Süße Grüße“", "quantity": 1, "shipped": 0}],
        "createdAt": Utc::now(), "dueAt": Utc::now(), "createdKey": "k"}))?;
    // The money rules of docs/api.md: discount 10.00 shared 8.00 / 1.11 / 0.89; shipping 4.90.
    let line = |sku: &str,
                name: &str,
                qty: u32,
                unit: &str,
                discount: &str,
                rate: &str,
                net: &str,
                tax: &str,
                gross: &str| {
        json!({"sku": sku, "name": name, "quantity": qty, "unitPrice": unit, "discount": discount, "rate": rate,
               "net": net, "tax": tax, "gross": gross})
    };
    let invoice_json = json!({
        "kind": "invoice", "number": "2026-000042", "issuedOn": "2026-11-27", "supplyDate": "2026-11-26",
        "locale": "de", "currency": "EUR", "orderExternalId": "WEB-100234", "orderId": "o1",
        "deliveryOrderId": "DO-3C0A944DB535215729D4", "billTo": customer, "shipTo": ship_to,
        "lines": [
            line("LAMP-OAK", "Tischleuchte Eiche", 2, "89.90", "8.00", "0.19", "144.37", "27.43", "171.80"),
            line("CUSHION-LINEN", "Kissen Leinen 50×50", 1, "24.99", "1.11", "0.19", "20.07", "3.81", "23.88"),
            line("BOOK-SUESS", "Kochbuch „Süße Grüße“", 1, "19.95", "0.89", "0.07", "17.81", "1.25", "19.06")],
        "shipping": line("SHIPPING", "Versand", 1, "4.90", "0.00", "0.19", "4.16", "0.74", "4.90"),
        "taxTotals": [{"rate": "0.19", "net": "168.20", "tax": "31.95"}, {"rate": "0.07", "net": "18.21", "tax": "1.28"}],
        "totalNet": "186.41", "totalTax": "33.23", "totalGross": "219.64",
        "payments": [{"method": "card", "amount": "150.00"}, {"method": "invoice", "amount": "69.64"}],
        "due": "69.64"});
    let invoice: InvoiceDocument = serde_json::from_value(invoice_json.clone())?;
    let mut correction_json = invoice_json.clone();
    correction_json["kind"] = json!("correction");
    correction_json["supersedes"] = json!("2026-000042");
    correction_json["number"] = json!("2026-000043");
    let correction: InvoiceDocument = serde_json::from_value(correction_json)?;
    let credit: InvoiceDocument = serde_json::from_value(json!({
        "kind": "credit", "refundId": "ref_0193a1b2c3d4", "invoiceNumbers": ["2026-000043"],
        "number": "2026-000044", "issuedOn": "2026-12-03", "supplyDate": "2026-11-26",
        "locale": "de", "currency": "EUR", "orderExternalId": "WEB-100234", "orderId": "o1",
        "deliveryOrderId": "DO-3C0A944DB535215729D4", "billTo": customer, "shipTo": ship_to,
        "lines": [line("CUSHION-LINEN", "Kissen Leinen 50×50", 1, "24.99", "1.11", "0.19", "20.07", "3.81", "23.88")],
        "taxTotals": [{"rate": "0.19", "net": "20.07", "tax": "3.81"}],
        "totalNet": "20.07", "totalTax": "3.81", "totalGross": "23.88",
        "payments": [{"method": "invoice", "amount": "23.88"}],
        "due": "45.76"}))?;
    let shipping_label: ShippingLabel = serde_json::from_value(json!({
        "senderName": "Lindenhof Living GmbH", "sender": retailer, "shipTo": ship_to,
        "barcode": "DO-3C0A944DB535215729D4", "orderExternalId": "WEB-100234", "units": 4, "locale": "de"}))?;
    let return_label: ReturnLabel = serde_json::from_value(json!({
        "sender": customer, "recipientName": "Lindenhof Living GmbH",
        "recipient": {"name": "", "street": "Retourenstraße 7, Halle 3", "postalCode": "04129", "city": "Leipzig", "country": "DE"},
        "barcode": "ret_0193a1b2c3d47e8f", "orderExternalId": "WEB-100234",
        "lines": [["Tischleuchte Eiche", 2], ["Kissen Leinen 50×50", 1], ["Kochbuch „Süße Grüße“", 1]],
        "locale": "de"}))?;

    // The embedded-font path: the same documents for customers whose names are not WinAnsi.
    let polish = json!({"name": "Łukasz Dvořák", "street": "ul. Żółkiewskiego 5", "postalCode": "90-001", "city": "Łódź", "country": "PL"});
    let hungarian = json!({"name": "Gödöllő, Ștefan", "street": "Szabadság tér 3", "postalCode": "2100", "city": "Gödöllő", "country": "HU"});
    let mut named_delivery = delivery.clone();
    named_delivery.ship_to = serde_json::from_value(polish.clone())?;
    let mut named_invoice = invoice.clone();
    named_invoice.bill_to = serde_json::from_value(polish.clone())?;
    named_invoice.ship_to = serde_json::from_value(hungarian)?;
    let mut named_label = shipping_label.clone();
    named_label.ship_to = serde_json::from_value(polish)?;

    type Render<'a> = Box<dyn Fn() -> anyhow::Result<Vec<u8>> + 'a>;
    let kinds: Vec<(&str, &str, Render<'_>)> = vec![
        (
            "delivery-note",
            "delivery note",
            Box::new(|| render::delivery_note(&plain, &order, &delivery)),
        ),
        (
            "delivery-note-logo",
            "delivery note, logo",
            Box::new(|| render::delivery_note(&with_logo, &order, &delivery)),
        ),
        (
            "shipping-label",
            "shipping label",
            Box::new(|| render::shipping_label(&plain, &shipping_label)),
        ),
        (
            "invoice",
            "invoice",
            Box::new(|| render::invoice(&plain, &invoice)),
        ),
        (
            "invoice-logo",
            "invoice, logo",
            Box::new(|| render::invoice(&with_logo, &invoice)),
        ),
        (
            "invoice-photo-logo",
            "invoice, photo-like logo",
            Box::new(|| render::invoice(&with_photo, &invoice)),
        ),
        (
            "correction",
            "corrected invoice",
            Box::new(|| render::invoice(&plain, &correction)),
        ),
        (
            "credit-note",
            "credit note",
            Box::new(|| render::invoice(&plain, &credit)),
        ),
        (
            "return-label",
            "return label",
            Box::new(|| render::return_label(&plain, &return_label)),
        ),
        (
            "delivery-note-names",
            "delivery note, exact names (embedded subset)",
            Box::new(|| render::delivery_note(&plain, &order, &named_delivery)),
        ),
        (
            "invoice-names",
            "invoice, exact names (embedded subset)",
            Box::new(|| render::invoice(&plain, &named_invoice)),
        ),
        (
            "shipping-label-names",
            "shipping label, exact names (embedded subset)",
            Box::new(|| render::shipping_label(&plain, &named_label)),
        ),
    ];
    println!(
        "| document (3 lines) | size | p50 | p99 |\n| --- | ---: | ---: | ---: |\n\
         | (logo: 480x160 PNG, {} bytes; photo-like logo: 1200x400 PNG, {} KB) | | | |",
        logo_png()?.len(),
        photo_logo_png()?.len() / 1024
    );
    let samples = std::env::var("SAMPLES").ok();
    for (file, name, render) in &kinds {
        render()?; // warm: fonts parsed, logo decoded
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        let mut size = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            size = render()?.len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "| {name} | {:.1} KB | {:.2} ms | {:.2} ms |",
            size as f64 / 1024.0,
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[RUNS * 99 / 100].as_secs_f64() * 1e3
        );
        if let Some(dir) = &samples {
            // The samples show each kind once; the logo and name variants only measure.
            if (file.ends_with("logo") && *file != "invoice-logo") || file.ends_with("names") {
                continue;
            }
            let pdf = format!("{dir}/{file}.pdf");
            std::fs::write(&pdf, render()?)?;
            let status = std::process::Command::new("pdftoppm")
                .args([
                    "-png",
                    "-r",
                    "60",
                    "-singlefile",
                    &pdf,
                    &format!("{dir}/{file}"),
                ])
                .status()?;
            anyhow::ensure!(status.success(), "pdftoppm failed for {pdf}");
        }
    }
    if let Ok(path) = std::env::var("SAMPLE") {
        std::fs::write(path, render::delivery_note(&plain, &order, &delivery)?)?;
    }
    Ok(())
}
