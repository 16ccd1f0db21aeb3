//! Renders documents in the retailer's design (name, address, logo, colours, footer, language).
//! Pure: data in, PDF bytes out. The fulfiller's identity never appears on a document: every
//! name and address printed comes from the branding or from the document's own data.
//!
//! Small and fast: text is set in the viewers' built-in Helvetica (no font embedded), laid out
//! with metrics parsed once per process, without the PDF/A colour profile and XMP packet; a
//! logo is scaled down to print resolution before it is embedded.

mod code128;
mod invoice;
mod label;
mod layout;
mod logo;
#[cfg(test)]
mod tests;
mod text;

pub use invoice::invoice;
pub use label::{return_label, shipping_label};

use dropship_core::catalogue::Branding;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use genpdf::elements::TableLayout;
use genpdf::style::Color;
use genpdf::{fonts, Document};
use layout::{cell, para, para_right, style, RowRules, Space, GREY};

static REGULAR: &[u8] = include_bytes!("../fonts/ParcelMetricsSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/ParcelMetricsSans-Bold.ttf");

/// The font family, parsed once per process. The font files only give the metrics for layout
/// (Liberation Sans widths, which are Helvetica's); the PDF uses the viewer's built-in
/// Helvetica (WinAnsi: umlauts, ß and € included), so no font is embedded.
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

/// An A4 document with the retailer's page (margins, footer, page numbers).
fn document(
    title: &str,
    branding: &Branding,
    words: &'static text::Words,
) -> anyhow::Result<Document> {
    let mut doc = Document::new(family()?);
    doc.set_title(text::printable(title));
    doc.set_paper_size(genpdf::PaperSize::A4);
    // No embedded ICC profile and XMP packet (PDF/A extras): they were most of each file's size.
    doc.set_minimal_conformance();
    doc.set_font_size(10);
    doc.set_line_spacing(1.1);
    doc.set_page_decorator(layout::Page {
        footer: text::printable(&branding.footer),
        words,
        page: 0,
    });
    Ok(doc)
}

fn finish(doc: Document, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    doc.render(&mut out)
        .map_err(|e| anyhow::anyhow!("rendering {what}: {e}"))?;
    Ok(out)
}

/// The delivery note (Lieferschein): ship-to, order and delivery numbers, lines, no prices.
pub fn delivery_note(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
) -> anyhow::Result<Vec<u8>> {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let w = text::words(locale);
    let mut doc = document(&format!("{} {}", w.delivery_note, delivery.id), branding, w)?;
    doc.push(layout::letterhead(branding, locale)?);

    let mut head = TableLayout::new(vec![10, 9]);
    head.row()
        .element(layout::address_block(w.ship_to, &delivery.ship_to, locale))
        .element(layout::facts(&[
            (w.order, order.external_id.clone()),
            (w.delivery, delivery.id.clone()),
            (w.date, text::date(delivery.created_at.date_naive(), locale)),
        ])?)
        .push()
        .map_err(|e| anyhow::anyhow!("laying out the delivery note: {e}"))?;
    doc.push(head);
    doc.push(Space(10.0));
    doc.push(layout::title(w.delivery_note, branding));
    doc.push(Space(5.0));

    let mut table = TableLayout::new(vec![11, 32, 111, 18]);
    table.set_cell_decorator(RowRules {
        header: color(&branding.primary_color),
        rows: 0,
    });
    let head_style = style(9).bold();
    table
        .row()
        .element(cell(para(w.item, head_style)))
        .element(cell(para(w.sku, head_style)))
        .element(cell(para(w.article, head_style)))
        .element(cell(para_right(w.quantity, head_style)))
        .push()
        .map_err(|e| anyhow::anyhow!("laying out the delivery note: {e}"))?;
    // What is in this parcel: units the customer cancelled meanwhile are not.
    let lines = delivery
        .lines
        .iter()
        .map(|l| (l, l.quantity.saturating_sub(l.cancelled)))
        .filter(|(_, units)| *units > 0);
    for (i, (l, units)) in lines.enumerate() {
        table
            .row()
            .element(cell(para((i + 1).to_string(), style(9))))
            .element(cell(para(&l.sku, style(9).with_color(GREY))))
            .element(cell(para(&l.name, style(9))))
            .element(cell(para_right(units.to_string(), style(9))))
            .push()
            .map_err(|e| anyhow::anyhow!("laying out the delivery note: {e}"))?;
    }
    doc.push(table);
    doc.push(Space(8.0));
    doc.push(para(w.check_parcel, style(9)));
    doc.push(Space(2.0));
    doc.push(para(w.thanks, style(9)));
    finish(doc, "the delivery note")
}
