//! Renders documents in the retailer's design (name, address, colours, footer, language).
//! Pure: data in, PDF bytes out. The fulfiller's identity never appears on a document.

use dropship_core::catalogue::{Branding, Locale};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use genpdf::elements::{Break, FrameCellDecorator, Paragraph, TableLayout, Text};
use genpdf::style::{Color, Style};
use genpdf::{fonts, Document, Element, SimplePageDecorator};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The font family, parsed once per process. The DejaVu files give the metrics for layout; the
/// PDF uses the viewer's built-in Helvetica (WinAnsi: umlauts, ß and € included), so no font is
/// embedded and a document stays a few kilobytes.
fn family() -> anyhow::Result<fonts::FontFamily<fonts::FontData>> {
    type Family = Result<fonts::FontFamily<fonts::FontData>, String>;
    static FAMILY: std::sync::OnceLock<Family> = std::sync::OnceLock::new();
    FAMILY
        .get_or_init(|| {
            let load = |bytes: &[u8], builtin| {
                fonts::FontData::new(bytes.to_vec(), Some(builtin))
                    .map_err(|e| format!("loading a font: {e}"))
            };
            let regular = load(REGULAR, printpdf::BuiltinFont::Helvetica)?;
            let bold = load(BOLD, printpdf::BuiltinFont::HelveticaBold)?;
            Ok(fonts::FontFamily {
                regular: regular.clone(),
                bold: bold.clone(),
                italic: regular,
                bold_italic: bold,
            })
        })
        .clone()
        .map_err(|e| anyhow::anyhow!(e))
}

/// `#RRGGBB` to a colour; branding is validated on input, black is the safe fallback.
pub fn color(hex: &str) -> Color {
    let c = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0)
    };
    Color::Rgb(c(1), c(3), c(5))
}

struct Words {
    delivery_note: &'static str,
    order: &'static str,
    delivery: &'static str,
    date: &'static str,
    ship_to: &'static str,
    item: &'static str,
    article: &'static str,
    quantity: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::De => Words {
            delivery_note: "Lieferschein",
            order: "Bestellung",
            delivery: "Lieferung",
            date: "Datum",
            ship_to: "Lieferadresse",
            item: "Pos.",
            article: "Artikel",
            quantity: "Menge",
        },
        Locale::En => Words {
            delivery_note: "Delivery note",
            order: "Order",
            delivery: "Delivery",
            date: "Date",
            ship_to: "Ship to",
            item: "Item",
            article: "Article",
            quantity: "Quantity",
        },
    }
}

fn letterhead(doc: &mut Document, b: &Branding) {
    doc.push(
        Text::new(b.company_name.clone()).styled(
            Style::new()
                .bold()
                .with_font_size(16)
                .with_color(color(&b.primary_color)),
        ),
    );
    doc.push(Paragraph::new(format!(
        "{} · {} · {} {} · {}",
        b.address.name, b.address.street, b.address.postal_code, b.address.city, b.address.country
    )));
    doc.push(Break::new(1.5));
}

fn footer(doc: &mut Document, b: &Branding) {
    doc.push(Break::new(2));
    doc.push(Paragraph::new(b.footer.clone()).styled(Style::new().with_font_size(8)));
}

/// The delivery note (Lieferschein): ship-to, order and delivery numbers, lines, no prices.
pub fn delivery_note(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
) -> anyhow::Result<Vec<u8>> {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let w = words(locale);
    let mut doc = Document::new(family()?);
    doc.set_title(format!("{} {}", w.delivery_note, delivery.id));
    doc.set_paper_size(genpdf::PaperSize::A4);
    // No embedded ICC profile and XMP packet (PDF/A extras): they were most of each file's size.
    doc.set_minimal_conformance();
    doc.set_font_size(10);
    let mut decorator = SimplePageDecorator::new();
    decorator.set_margins(18);
    doc.set_page_decorator(decorator);

    letterhead(&mut doc, branding);
    doc.push(Text::new(w.ship_to).styled(Style::new().bold()));
    let a = &delivery.ship_to;
    for line in [
        a.name.clone(),
        a.street.clone(),
        format!("{} {}", a.postal_code, a.city),
        a.country.clone(),
    ] {
        doc.push(Paragraph::new(line));
    }
    doc.push(Break::new(1.5));
    doc.push(
        Text::new(w.delivery_note).styled(
            Style::new()
                .bold()
                .with_font_size(14)
                .with_color(color(&branding.primary_color)),
        ),
    );
    doc.push(Paragraph::new(format!(
        "{}: {}",
        w.order, order.external_id
    )));
    doc.push(Paragraph::new(format!("{}: {}", w.delivery, delivery.id)));
    doc.push(Paragraph::new(format!(
        "{}: {}",
        w.date,
        delivery.created_at.format("%Y-%m-%d")
    )));
    doc.push(Break::new(1));

    let mut table = TableLayout::new(vec![1, 2, 6, 1]);
    table.set_cell_decorator(FrameCellDecorator::new(true, true, false));
    table
        .row()
        .element(Text::new(w.item).styled(Style::new().bold()))
        .element(Text::new("SKU").styled(Style::new().bold()))
        .element(Text::new(w.article).styled(Style::new().bold()))
        .element(Text::new(w.quantity).styled(Style::new().bold()))
        .push()
        .map_err(|e| anyhow::anyhow!("laying out the delivery note: {e}"))?;
    for (i, l) in delivery.lines.iter().enumerate() {
        table
            .row()
            .element(Paragraph::new((i + 1).to_string()).padded(1))
            .element(Paragraph::new(l.sku.clone()).padded(1))
            .element(Paragraph::new(l.name.clone()).padded(1))
            .element(Paragraph::new(l.quantity.to_string()).padded(1))
            .push()
            .map_err(|e| anyhow::anyhow!("laying out the delivery note: {e}"))?;
    }
    doc.push(table);
    footer(&mut doc, branding);

    let mut out = Vec::new();
    doc.render(&mut out)
        .map_err(|e| anyhow::anyhow!("rendering the delivery note: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_core::catalogue::Address;
    use dropship_core::delivery::{DeliveryLine, DeliveryStatus};

    fn address() -> Address {
        Address {
            name: "Carla Müller".into(),
            street: "Hauptstraße 1".into(),
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country: "DE".into(),
        }
    }

    #[test]
    fn a_delivery_note_is_a_pdf_in_the_retailers_colour() {
        let branding: Branding = serde_json::from_value(serde_json::json!({
            "companyName": "Lindenhof Living GmbH", "address": address(), "vatId": "DE1", "primaryColor": "#2E5E4E",
            "footer": "Lindenhof", "emailFrom": "s@l.example", "locale": "de", "timeZone": "Europe/Berlin"})).unwrap();
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": "o1", "channelId": "web", "externalId": "WEB-1", "status": "routed", "currency": "EUR",
            "customer": {"email": "c@example.com", "name": "Carla"}, "shippingAddress": address(),
            "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "lines": [], "discounts": [],
            "shippingCost": "0.00", "payments": [], "history": [],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00",
                       "tax": [], "refunded": "0.00", "due": "0.00"}})).unwrap();
        let now = chrono::Utc::now();
        let delivery = DeliveryOrder {
            id: "DO-1".into(),
            order_id: "o1".into(),
            fulfiller_id: "acme".into(),
            status: DeliveryStatus::Open,
            ship_to: address(),
            lines: vec![DeliveryLine {
                line_id: "L1".into(),
                sku: "LAMP".into(),
                name: "Tischleuchte".into(),
                quantity: 2,
                shipped: 0,
                cancelled: 0,
            }],
            created_at: now,
            due_at: now,
            created_key: "k".into(),
            documents: vec![],
            carrier: None,
            tracking_number: None,
            version: 0,
            shipments: Vec::new(),
            rejection_reason: None,
            stock_shortfall: false,
        };
        let pdf = delivery_note(&branding, &order, &delivery).unwrap();
        if let Ok(path) = std::env::var("DUMP_PDF") {
            std::fs::write(path, &pdf).unwrap();
        }
        assert!(pdf.starts_with(b"%PDF-"));
        // Built-in fonts and no PDF/X colour profile keep a document small (it was 2 MB).
        assert!(pdf.len() < 40_000, "{} bytes", pdf.len());
        assert_eq!(color("#2E5E4E"), Color::Rgb(0x2e, 0x5e, 0x4e));
    }
}
