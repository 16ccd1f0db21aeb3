//! Every document rendered for a three-line order and read back with `pdftotext` (Debian's
//! poppler-utils): what a customer or fulfiller would see, not what we meant to draw.

use super::*;
use base64::Engine as _;
use dropship_core::catalogue::{Address, Locale};
use dropship_core::delivery::{DeliveryLine, DeliveryStatus};
use dropship_core::documents::{
    InvoiceDocument, InvoiceKind, InvoiceLine, PaymentLine, ReturnLabel, ShippingLabel,
};
use dropship_core::money::Money;
use dropship_core::order::{PaymentMethod, TaxLine};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The text of a PDF as `pdftotext -layout` extracts it. Fails (never skips) without pdftotext.
pub fn pdf_text(pdf: &[u8]) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "document-test-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!(
            "pdftotext is needed to check the documents' text ({e}); \
             install Debian's poppler-utils: apt-get install poppler-utils"
        ),
    };
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts what every document of ours must hold, and returns its text.
/// `DUMP_PDF_DIR=dir` keeps every checked PDF there, to look at.
fn checked(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"));
    if let Ok(dir) = std::env::var("DUMP_PDF_DIR") {
        let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        std::fs::write(
            format!("{dir}/{:?}-{n}.pdf", std::thread::current().name()),
            pdf,
        )
        .unwrap();
    }
    let text = pdf_text(pdf);
    assert!(text.contains("Lindenhof Living GmbH"), "{text}");
    for word in ["Acme", "Dropship", "acme"] {
        assert!(!text.contains(word), "a fulfiller's name shows: {text}");
    }
    text
}

fn m(s: &str) -> Money {
    Money::from_decimal(Decimal::from_str(s).unwrap())
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn address(name: &str) -> Address {
    Address {
        name: name.into(),
        street: "Straße des 17. Juni 1".into(),
        postal_code: "10623".into(),
        city: "Berlin".into(),
        country: "DE".try_into().unwrap(),
    }
}

pub fn branding(locale: Locale, logo: Option<String>) -> Branding {
    Branding {
        company_name: "Lindenhof Living GmbH".into(),
        address: Address {
            name: "Lindenhof Living GmbH".into(),
            street: "Lindenstraße 12".into(),
            postal_code: "10969".into(),
            city: "Berlin".into(),
            country: "DE".try_into().unwrap(),
        },
        vat_id: "DE123456789".into(),
        logo_png_base64: logo,
        primary_color: "#2E5E4E".into(),
        footer: "Lindenhof Living GmbH · Lindenstraße 12 · 10969 Berlin · Amtsgericht \
                 Charlottenburg HRB 123456 · Geschäftsführerin: Anna Groß · USt-IdNr. DE123456789"
            .into(),
        email_from: "service@lindenhof.example".into(),
        locale,
        time_zone: "Europe/Berlin".into(),
    }
}

/// An invoice line from unit price, discount, rate, net and tax; gross is net + tax.
fn line(
    sku: &str,
    name: &str,
    qty: u32,
    [unit, discount, rate, net, tax]: [&str; 5],
) -> InvoiceLine {
    InvoiceLine {
        sku: sku.into(),
        name: name.into(),
        quantity: qty,
        unit_price: m(unit),
        discount: m(discount),
        rate: d(rate),
        net: m(net),
        tax: m(tax),
        gross: m(net) + m(tax),
    }
}

/// A three-line order by the money rules of docs/api.md: 2 x 89.90 + 24.99 (19 %) and a book at
/// 7 %, discount 10.00 shared 8.00 / 1.11 / 0.89, shipping 4.90 split 4.47 / 0.43 over the
/// rates; paid 150.00 by card, the rest by invoice.
pub fn three_line_invoice(locale: Locale) -> InvoiceDocument {
    InvoiceDocument {
        kind: InvoiceKind::Invoice,
        number: "2026-000042".into(),
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        supply_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        locale,
        currency: "EUR".try_into().unwrap(),
        order_external_id: "WEB-100234".into(),
        order_id: "o1".try_into().unwrap(),
        delivery_order_id: Some("DO-3C0A944DB535215729D4".into()),
        bill_to: address("Jörg Weiß"),
        ship_to: Address {
            name: "Jörg Weiß c/o Müller".into(),
            street: "Königsallee 5".into(),
            postal_code: "40212".into(),
            city: "Düsseldorf".into(),
            country: "DE".try_into().unwrap(),
        },
        lines: vec![
            line(
                "LAMP-OAK",
                "Tischleuchte Eiche",
                2,
                ["89.90", "8.00", "0.19", "144.37", "27.43"],
            ),
            line(
                "CUSHION-LINEN",
                "Kissen Leinen 50×50",
                1,
                ["24.99", "1.11", "0.19", "20.07", "3.81"],
            ),
            line(
                "BOOK-SUESS",
                "Kochbuch „Süße Grüße“",
                1,
                ["19.95", "0.89", "0.07", "17.81", "1.25"],
            ),
        ],
        shipping: Some(line(
            "SHIPPING",
            "Versand",
            1,
            ["4.90", "0", "0.19", "4.16", "0.74"],
        )),
        tax_totals: vec![
            TaxLine {
                rate: d("0.19"),
                net: m("168.20"),
                tax: m("31.95"),
            },
            TaxLine {
                rate: d("0.07"),
                net: m("18.21"),
                tax: m("1.28"),
            },
        ],
        total_net: m("186.41"),
        total_tax: m("33.23"),
        total_gross: m("219.64"),
        payments: vec![
            PaymentLine {
                method: PaymentMethod::Card,
                amount: m("150.00"),
            },
            PaymentLine {
                method: PaymentMethod::Invoice,
                amount: m("69.64"),
            },
        ],
        due: m("69.64"),
    }
}

pub fn correction(locale: Locale) -> InvoiceDocument {
    InvoiceDocument {
        kind: InvoiceKind::Correction {
            supersedes: "2026-000042".into(),
        },
        number: "2026-000043".into(),
        ..three_line_invoice(locale)
    }
}

/// The credit document for returning the cushion, refunded to the card.
pub fn credit(locale: Locale) -> InvoiceDocument {
    InvoiceDocument {
        kind: InvoiceKind::Credit {
            refund_id: "ref_0193a1b2c3d4".into(),
            invoice_numbers: vec!["2026-000042".into()],
        },
        number: "2026-000044".into(),
        lines: vec![line(
            "CUSHION-LINEN",
            "Kissen Leinen 50×50",
            1,
            ["24.99", "1.11", "0.19", "20.07", "3.81"],
        )],
        shipping: None,
        tax_totals: vec![TaxLine {
            rate: d("0.19"),
            net: m("20.07"),
            tax: m("3.81"),
        }],
        total_net: m("20.07"),
        total_tax: m("3.81"),
        total_gross: m("23.88"),
        payments: vec![PaymentLine {
            method: PaymentMethod::Card,
            amount: m("23.88"),
        }],
        due: Money::ZERO,
        ..three_line_invoice(locale)
    }
}

pub fn shipping_label_data(locale: Locale) -> ShippingLabel {
    ShippingLabel {
        sender_name: "Lindenhof Living GmbH".into(),
        sender: branding(locale, None).address,
        ship_to: Address {
            name: "Jörg Weiß c/o Müller".into(),
            street: "Königsallee 5".into(),
            postal_code: "40212".into(),
            city: "Düsseldorf".into(),
            country: "DE".try_into().unwrap(),
        },
        barcode: "DO-3C0A944DB535215729D4".into(),
        order_external_id: "WEB-100234".into(),
        units: 4,
        locale,
    }
}

pub fn return_label_data(locale: Locale) -> ReturnLabel {
    ReturnLabel {
        sender: address("Jörg Weiß"),
        recipient_name: "Lindenhof Living GmbH".into(),
        recipient: Address {
            name: String::new(),
            street: "Retourenstraße 7, Halle 3".into(),
            postal_code: "04129".into(),
            city: "Leipzig".into(),
            country: "DE".try_into().unwrap(),
        },
        barcode: "ret_0193a1b2c3d47e8f".into(),
        order_external_id: "WEB-100234".into(),
        lines: vec![
            ("Tischleuchte Eiche".into(), 2),
            ("Kissen Leinen 50×50".into(), 1),
            ("Kochbuch „Süße Grüße“".into(), 1),
        ],
        locale,
    }
}

pub fn delivery_fixture(locale: Option<Locale>) -> (Order, DeliveryOrder) {
    let order: Order = serde_json::from_value(serde_json::json!({
        "id": "o1", "channelId": "web", "externalId": "WEB-100234", "status": "routed", "currency": "EUR",
        "customer": {"email": "c@example.com", "name": "Jörg Weiß", "locale": locale},
        "shippingAddress": address("Jörg Weiß"),
        "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "lines": [], "discounts": [],
        "shippingCost": "0.00", "payments": [], "history": [],
        "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00",
                   "tax": [], "refunded": "0.00", "due": "0.00"}}))
    .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:05:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let dl = |id: &str, sku: &str, name: &str, quantity, cancelled| DeliveryLine {
        line_id: id.into(),
        sku: sku.try_into().unwrap(),
        name: name.into(),
        quantity,
        shipped: 0,
        cancelled,
    };
    let delivery = DeliveryOrder {
        id: "DO-3C0A944DB535215729D4".into(),
        order_id: "o1".try_into().unwrap(),
        fulfiller_id: "f-1".try_into().unwrap(),
        status: DeliveryStatus::Open,
        ship_to: address("Jörg Weiß"),
        lines: vec![
            dl("L1", "LAMP-OAK", "Tischleuchte Eiche", 2, 0),
            dl("L2", "CUSHION-LINEN", "Kissen Leinen 50×50", 1, 0),
            dl("L3", "BOOK-SUESS", "Kochbuch „Süße Grüße“", 3, 1),
        ],
        created_at: now,
        due_at: now,
        created_key: "k".into(),
        documents: vec![],
        carrier: None,
        tracking_number: None,
        version: 0,
        shipments: Vec::new(),
        rejection_reason: None,
        link_key: None,
        stock_shortfall: false,
    };
    (order, delivery)
}

/// Collapses runs of spaces, so that assertions do not depend on column widths.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_delivery_note_lists_the_parcel_without_prices() {
    let (order, delivery) = delivery_fixture(None);
    let pdf = delivery_note(&branding(Locale::De, None), &order, &delivery).unwrap();
    // Built-in fonts and no PDF/X colour profile keep a document small (it was 2 MB).
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Lieferschein",
        "Jörg Weiß",
        "Straße des 17. Juni 1",
        "WEB-100234",
        "DO-3C0A944DB535215729D4",
        "Kissen Leinen 50×50",
        "Kochbuch „Süße Grüße“",
        "USt-IdNr. DE123456789",
        "Seite 1",
    ] {
        assert!(flat.contains(want), "{want} missing: {text}");
    }
    assert!(flat.contains("LAMP-OAK Tischleuchte Eiche 2"), "{text}");
    assert!(
        flat.contains("Grüße“ 2"),
        "a cancelled unit is not in the parcel: {text}"
    );
    assert!(!text.contains('€'), "no prices on a delivery note: {text}");
    assert_eq!(color("#2E5E4E"), Color::Rgb(0x2e, 0x5e, 0x4e));
}

#[test]
fn a_delivery_note_speaks_the_customers_language() {
    let (order, delivery) = delivery_fixture(Some(Locale::En));
    let pdf = delivery_note(&branding(Locale::De, None), &order, &delivery).unwrap();
    let text = checked(&pdf);
    for want in [
        "Delivery note",
        "Ship to",
        "Order number",
        "Germany",
        "Page 1",
    ] {
        assert!(text.contains(want), "{want} missing: {text}");
    }
    assert!(!text.contains("Lieferschein"));
}

#[test]
fn an_invoice_shows_seller_lines_taxes_totals_and_what_is_due() {
    let pdf = invoice(&branding(Locale::De, None), &three_line_invoice(Locale::De)).unwrap();
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Rechnung Nr. 2026-000042",
        "USt-IdNr. DE123456789",
        "Lindenstraße 12",
        "Rechnungsadresse",
        "Lieferadresse",
        "Jörg Weiß c/o Müller",
        "40212 Düsseldorf",
        "Rechnungsdatum 27.11.2026",
        "Leistungsdatum 26.11.2026",
        "Bestellnummer WEB-100234",
        "Art.-Nr. LAMP-OAK",
        "Kochbuch „Süße Grüße“",
        // pos, qty, unit price, discount, rate, net, tax, gross
        "1 Tischleuchte Eiche 2 89,90 € -8,00 € 19 % 144,37 € 27,43 € 171,80 €",
        // pdftotext joins a line's two one-letter words ("7", "%") into "7%" (poppler takes
        // them for letter-spaced text); the PDF itself says "7 %", as the totals show.
        "3 Kochbuch „Süße Grüße“ 1 19,95 € -0,89 € 7% 17,81 € 1,25 € 19,06 €",
        "Versandkosten 1 4,90 € – 19 % 4,16 € 0,74 € 4,90 €",
        "Nettobetrag 19 % 168,20 €",
        "Umsatzsteuer 19 % 31,95 €",
        "Nettobetrag 7 % 18,21 €",
        "Umsatzsteuer 7 % 1,28 €",
        "Summe netto 186,41 €",
        "Summe Umsatzsteuer 33,23 €",
        "Gesamtbetrag 219,64 €",
        "Kreditkarte 150,00 €",
        "Kauf auf Rechnung 69,64 €",
        "Offener Betrag 69,64 €",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}

#[test]
fn an_english_invoice_uses_english_words_and_numbers() {
    let mut doc = three_line_invoice(Locale::En);
    doc.payments = vec![
        PaymentLine {
            method: PaymentMethod::GiftCard,
            amount: m("100.00"),
        },
        PaymentLine {
            method: PaymentMethod::BonusPoints,
            amount: m("19.64"),
        },
        PaymentLine {
            method: PaymentMethod::Paypal,
            amount: m("100.00"),
        },
    ];
    doc.due = Money::ZERO;
    let text = checked(&invoice(&branding(Locale::De, None), &doc).unwrap());
    let flat = squeezed(&text);
    for want in [
        "Invoice no. 2026-000042",
        "Date of supply 26 Nov 2026",
        "Total €219.64",
        "VAT 19 % €31.95",
        "Gift card €100.00",
        "Bonus points €19.64",
        "PayPal €100.00",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
    assert!(
        !flat.contains("Amount due"),
        "nothing due without invoice payment: {text}"
    );
}

#[test]
fn gift_cards_are_geschenkkarten() {
    let mut doc = three_line_invoice(Locale::De);
    doc.payments.push(PaymentLine {
        method: PaymentMethod::GiftCard,
        amount: m("10.00"),
    });
    doc.payments.push(PaymentLine {
        method: PaymentMethod::BonusPoints,
        amount: m("1.00"),
    });
    let text = checked(&invoice(&branding(Locale::De, None), &doc).unwrap());
    assert!(
        text.contains("Geschenkkarte") && text.contains("Bonuspunkte"),
        "{text}"
    );
    assert!(
        !text.contains("Gutschein") && !text.contains("Gutschrift"),
        "{text}"
    );
}

#[test]
fn the_germany_2020_invoice_shows_16_percent() {
    let doc = InvoiceDocument {
        supply_date: chrono::NaiveDate::from_ymd_opt(2020, 11, 20).unwrap(),
        issued_on: chrono::NaiveDate::from_ymd_opt(2020, 11, 20).unwrap(),
        lines: vec![line(
            "LAMP-OAK",
            "Tischleuchte Eiche",
            1,
            ["116.00", "0", "0.16", "100.00", "16.00"],
        )],
        shipping: None,
        tax_totals: vec![TaxLine {
            rate: d("0.16"),
            net: m("100.00"),
            tax: m("16.00"),
        }],
        total_net: m("100.00"),
        total_tax: m("16.00"),
        total_gross: m("116.00"),
        payments: vec![PaymentLine {
            method: PaymentMethod::Card,
            amount: m("116.00"),
        }],
        due: Money::ZERO,
        ..three_line_invoice(Locale::De)
    };
    let text = checked(&invoice(&branding(Locale::De, None), &doc).unwrap());
    let flat = squeezed(&text);
    assert!(flat.contains("16 % 100,00 € 16,00 € 116,00 €"), "{text}");
    assert!(flat.contains("Umsatzsteuer 16 % 16,00 €"), "{text}");
    assert!(!flat.contains("19 %"), "{text}");
}

#[test]
fn a_correction_names_the_invoice_it_supersedes() {
    for (locale, want) in [
        (
            Locale::De,
            [
                "Rechnungskorrektur Nr. 2026-000043",
                "ersetzt Rechnung Nr. 2026-000042",
            ],
        ),
        (
            Locale::En,
            [
                "Corrected invoice no. 2026-000043",
                "supersedes invoice no. 2026-000042",
            ],
        ),
    ] {
        let text = checked(&invoice(&branding(Locale::De, None), &correction(locale)).unwrap());
        for want in want {
            assert!(squeezed(&text).contains(want), "{want:?} missing: {text}");
        }
    }
}

#[test]
fn a_credit_document_reverses_amounts_and_never_says_gutschrift() {
    let text = checked(&invoice(&branding(Locale::De, None), &credit(Locale::De)).unwrap());
    let flat = squeezed(&text);
    for want in [
        "Rechnungskorrektur (Storno) Nr. 2026-000044",
        "zu Rechnung Nr. 2026-000042",
        "Erstattung ref_0193a1b2c3d4",
        "Kissen Leinen 50×50 1 24,99 € -1,11 € 19 % -20,07 € -3,81 € -23,88 €",
        "Gesamtbetrag -23,88 €",
        "Erstattung auf",
        "Kreditkarte 23,88 €",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
    assert!(!text.contains("Gutschrift"), "{text}");
    assert!(!flat.contains("Offener Betrag"), "{text}");

    let text = checked(&invoice(&branding(Locale::De, None), &credit(Locale::En)).unwrap());
    let flat = squeezed(&text);
    for want in [
        "Credit note no. 2026-000044",
        "for invoice no. 2026-000042",
        "Refund ref_0193a1b2c3d4",
        "Total -€23.88",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}

#[test]
fn a_logo_is_embedded_small_and_a_bad_one_falls_back_to_the_name() {
    let png = base64::engine::general_purpose::STANDARD.encode(super::logo::tests::sample_png());
    let with_logo = invoice(
        &branding(Locale::De, Some(png)),
        &three_line_invoice(Locale::De),
    )
    .unwrap();
    assert!(with_logo
        .windows(12)
        .any(|w| w == b"/Subtype /Im" || w == b"/Subtype/Ima"));
    checked(&with_logo);

    let bad = invoice(
        &branding(Locale::De, Some("bm90IGEgcG5n".into())),
        &three_line_invoice(Locale::De),
    )
    .unwrap();
    let text = checked(&bad);
    assert!(text.contains("Gesamtbetrag"), "{text}");
    let (order, delivery) = delivery_fixture(None);
    let png = base64::engine::general_purpose::STANDARD.encode(super::logo::tests::sample_png());
    checked(&delivery_note(&branding(Locale::De, Some(png)), &order, &delivery).unwrap());
}

/// Whether a PDF embeds a TrueType font (rather than naming a viewer's built-in one).
fn embeds_a_font(pdf: &[u8]) -> bool {
    pdf.windows(9).any(|w| w == b"FontFile2")
}

/// A Polish customer billed, a Hungarian-Romanian one shipped to: letters outside WinAnsi.
fn polish_address() -> Address {
    Address {
        name: "Łukasz Dvořák".into(),
        street: "ul. Żółkiewskiego 5".into(),
        postal_code: "90-001".into(),
        city: "Łódź".into(),
        country: "PL".try_into().unwrap(),
    }
}

fn hungarian_address() -> Address {
    Address {
        name: "Gödöllő, Ștefan".into(),
        street: "Szabadság tér 3".into(),
        postal_code: "2100".into(),
        city: "Gödöllő".into(),
        country: "HU".try_into().unwrap(),
    }
}

#[test]
fn an_invoice_carries_names_outside_win_ansi_exactly() {
    let mut doc = three_line_invoice(Locale::De);
    doc.bill_to = polish_address();
    doc.ship_to = hungarian_address();
    doc.lines[1].name = "Подушка Λινό".into();
    let pdf = invoice(&branding(Locale::De, None), &doc).unwrap();
    assert!(embeds_a_font(&pdf));
    // Subsets: the two Liberation Sans files are 400 KB each.
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Łukasz Dvořák",
        "ul. Żółkiewskiego 5",
        "90-001 Łódź",
        "Gödöllő, Ștefan",
        "2100 Gödöllő",
        "Подушка Λινό",
        // The rest of the invoice is unchanged: same words, same figures, same columns.
        "Rechnung Nr. 2026-000042",
        "Lindenstraße 12",
        "Kochbuch „Süße Grüße“",
        "1 Tischleuchte Eiche 2 89,90 € -8,00 € 19 % 144,37 € 27,43 € 171,80 €",
        "Gesamtbetrag 219,64 €",
        "Seite 1",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}

#[test]
fn a_shipping_label_carries_names_outside_win_ansi_exactly() {
    let mut label = shipping_label_data(Locale::De);
    label.ship_to = polish_address();
    let pdf = shipping_label(&branding(Locale::De, None), &label).unwrap();
    assert!(embeds_a_font(&pdf));
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Łukasz Dvořák",
        "ul. Żółkiewskiego 5",
        "90-001 Łódź",
        "POLEN",
        "DO-3C0A944DB535215729D4",
        "Lindenstraße 12",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }

    label.ship_to = hungarian_address();
    let text = pdf_text(&shipping_label(&branding(Locale::De, None), &label).unwrap());
    let flat = squeezed(&text);
    for want in ["Gödöllő, Ștefan", "2100 Gödöllő", "HU"] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }

    let mut back = return_label_data(Locale::De);
    back.sender = hungarian_address();
    back.lines[0].0 = "Lampă Łódź".into();
    let text = pdf_text(&return_label(&branding(Locale::De, None), &back).unwrap());
    let flat = squeezed(&text);
    for want in ["Gödöllő, Ștefan", "2 × Lampă Łódź", "RETOURE"] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}

#[test]
fn a_delivery_note_carries_names_outside_win_ansi_exactly() {
    let (order, mut delivery) = delivery_fixture(None);
    delivery.ship_to = polish_address();
    let pdf = delivery_note(&branding(Locale::De, None), &order, &delivery).unwrap();
    assert!(embeds_a_font(&pdf));
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Łukasz Dvořák",
        "ul. Żółkiewskiego 5",
        "90-001 Łódź",
        "Polen",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}

#[test]
fn all_win_ansi_documents_embed_no_font() {
    let b = branding(Locale::De, None);
    let (order, delivery) = delivery_fixture(None);
    let mut invoice_doc = three_line_invoice(Locale::De);
    // Dashes and spaces outside WinAnsi have twins that look the same: still no font.
    invoice_doc.bill_to.name = "Jörg\u{2011}Weiß\u{202f}GmbH\u{200b}".into();
    for (what, pdf) in [
        (
            "delivery note",
            delivery_note(&b, &order, &delivery).unwrap(),
        ),
        ("invoice", invoice(&b, &invoice_doc).unwrap()),
        ("credit", invoice(&b, &credit(Locale::En)).unwrap()),
        (
            "shipping label",
            shipping_label(&b, &shipping_label_data(Locale::De)).unwrap(),
        ),
        (
            "return label",
            return_label(&b, &return_label_data(Locale::De)).unwrap(),
        ),
    ] {
        assert!(!embeds_a_font(&pdf), "the {what} embeds a font");
        assert!(
            String::from_utf8_lossy(&pdf).contains("Helvetica"),
            "the {what} does not use the built-in Helvetica"
        );
    }
}

#[test]
fn characters_no_font_has_print_as_a_replacement_and_do_not_fail_a_document() {
    let mut doc = three_line_invoice(Locale::De);
    doc.bill_to.name = "Łukasz Wałęsa 東京".into();
    doc.lines[0].name = "Lampe\tmit Zeilen\numbruch".into();
    let text = checked(&invoice(&branding(Locale::De, None), &doc).unwrap());
    assert!(text.contains("Łukasz Wałęsa ??"), "{text}");
    let mut label = shipping_label_data(Locale::De);
    label.ship_to.city = "Łódź 東".into();
    let text = pdf_text(&shipping_label(&branding(Locale::De, None), &label).unwrap());
    assert!(text.contains("40212 Łódź ?"), "{text}");
}

#[test]
fn a_shipping_label_is_4_by_6_inches_with_the_barcode_and_its_text() {
    let pdf = shipping_label(
        &branding(Locale::De, None),
        &shipping_label_data(Locale::De),
    )
    .unwrap();
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "Absender",
        "Lindenstraße 12",
        "Empfänger",
        "Jörg Weiß c/o Müller",
        "Königsallee 5",
        "40212 Düsseldorf",
        "DEUTSCHLAND",
        "DO-3C0A944DB535215729D4",
        "WEB-100234",
        "Anzahl Artikel",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
    // 4 x 6 inches in PDF points.
    let pdf_str = String::from_utf8_lossy(&pdf);
    assert!(
        pdf_str.contains("288") && pdf_str.contains("432"),
        "MediaBox 288 x 432 pt"
    );

    let text = pdf_text(
        &shipping_label(
            &branding(Locale::De, None),
            &shipping_label_data(Locale::En),
        )
        .unwrap(),
    );
    assert!(
        text.contains("Ship to") && text.contains("GERMANY") && text.contains("Units"),
        "{text}"
    );
}

#[test]
fn a_return_label_goes_to_the_retailer_with_the_articles_to_pack() {
    let pdf = return_label(&branding(Locale::De, None), &return_label_data(Locale::De)).unwrap();
    assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
    let text = checked(&pdf);
    let flat = squeezed(&text);
    for want in [
        "RETOURE",
        "Absender",
        "Jörg Weiß",
        "Straße des 17. Juni 1",
        "Empfänger",
        "Retourenstraße 7, Halle 3",
        "04129 Leipzig",
        "ret_0193a1b2c3d47e8f",
        "Bestellnummer WEB-100234",
        "Bitte in das Paket legen:",
        "2 × Tischleuchte Eiche",
        "1 × Kochbuch „Süße Grüße“",
        "Annahmestelle",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }

    let mut many = return_label_data(Locale::En);
    many.lines = (1..=40).map(|i| (format!("Article {i}"), 1)).collect();
    let text = pdf_text(&return_label(&branding(Locale::De, None), &many).unwrap());
    assert!(
        text.contains("RETURN") && text.contains("more articles"),
        "{text}"
    );
    assert!(
        text.contains("drop-off point"),
        "the instruction is never crowded out: {text}"
    );
}

#[test]
fn a_label_with_an_unencodable_barcode_is_an_error_not_a_panic() {
    let mut label = shipping_label_data(Locale::De);
    label.barcode = "DO-Ä".into();
    assert!(shipping_label(&branding(Locale::De, None), &label).is_err());
}

#[test]
fn a_long_invoice_continues_on_further_pages() {
    let mut doc = three_line_invoice(Locale::De);
    doc.lines = (1..=60)
        .map(|i| {
            let mut l = line("SKU", "Artikel", 1, ["1.19", "0", "0.19", "1.00", "0.19"]);
            l.sku = format!("SKU-{i}");
            l.name = format!("Artikel Nummer {i} mit einem recht langen Namen, der umbrechen muss");
            l
        })
        .collect();
    let text = checked(&invoice(&branding(Locale::De, None), &doc).unwrap());
    let flat = squeezed(&text);
    for want in [
        "Seite 2",
        "Art.-Nr. SKU-60",
        "Gesamtbetrag 219,64 €",
        "Offener Betrag",
    ] {
        assert!(flat.contains(want), "{want:?} missing: {text}");
    }
}
