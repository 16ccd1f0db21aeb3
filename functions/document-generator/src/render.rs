//! Renders documents in the retailer's design (name, address, logo, colours, footer, language).
//! Pure: data in, PDF bytes out. The fulfiller's identity never appears on a document: every
//! name and address printed comes from the branding or from the document's own data.
//!
//! Small and fast: text is set in the viewers' built-in Helvetica (no font embedded), laid out
//! with metrics parsed once per process, without the PDF/A colour profile and XMP packet; a
//! logo is scaled down to print resolution before it is embedded. Only a document that prints
//! a character outside WinAnsi embeds a font, a subset with just its characters (`fonts.rs`).

mod code128;
mod fonts;
mod invoice;
mod label;
mod layout;
mod logo;
mod subset;
#[cfg(test)]
mod tests;
mod text;

pub use invoice::invoice;
pub use label::{return_label, shipping_label};

use dropship_core::catalogue::{Address, Branding};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use genpdf::elements::TableLayout;
use genpdf::style::Color;
use genpdf::Document;
use layout::{cell, para, para_right, style, RowRules, Space, GREY};

/// `#RRGGBB` to a colour; branding is validated on input, black is the safe fallback.
pub fn color(hex: &str) -> Color {
    let c = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0)
    };
    Color::Rgb(c(1), c(3), c(5))
}

/// What an address puts on a document.
fn address_texts(a: &Address) -> [&str; 5] {
    [
        &a.name,
        &a.street,
        &a.postal_code,
        &a.city,
        a.country.as_str(),
    ]
}

/// What the retailer's details put on every A4 document.
fn branding_texts(b: &Branding) -> [&str; 8] {
    let a = &b.address;
    [
        &b.company_name,
        &a.street,
        &a.postal_code,
        &a.city,
        a.country.as_str(),
        &b.vat_id,
        &b.footer,
        &a.name,
    ]
}

/// An A4 document with the retailer's page (margins, footer, page numbers), in `faces`.
fn document(
    title: &str,
    branding: &Branding,
    words: &'static text::Words,
    faces: &fonts::Faces,
) -> anyhow::Result<Document> {
    let mut doc = Document::new(faces.family()?);
    // The file's metadata title (document number, no names) stays WinAnsi: printpdf 0.3 writes
    // it as a PDFDocEncoding string.
    doc.set_title(text::printable(title));
    doc.set_paper_size(genpdf::PaperSize::A4);
    // No embedded ICC profile and XMP packet (PDF/A extras): they were most of each file's size.
    doc.set_minimal_conformance();
    doc.set_font_size(10);
    doc.set_line_spacing(1.1);
    doc.set_page_decorator(layout::Page {
        footer: branding.footer.clone(),
        words,
        page: 0,
    });
    Ok(doc)
}

fn finish(doc: Document, faces: &fonts::Faces, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    doc.render(&mut out)
        .map_err(|e| anyhow::anyhow!("rendering {what}: {e}"))?;
    match faces {
        fonts::Faces::BuiltIn => Ok(out),
        fonts::Faces::Embedded { .. } => fonts::compress_streams(&out),
    }
}

/// The delivery note (Lieferschein): ship-to, order and delivery numbers, lines, no prices.
pub fn delivery_note(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
) -> anyhow::Result<Vec<u8>> {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let w = text::words(locale);
    let data = address_texts(&delivery.ship_to)
        .into_iter()
        .chain([order.external_id.as_str(), &delivery.id])
        .chain(
            delivery
                .lines
                .iter()
                .flat_map(|l| [l.sku.as_str(), &l.name]),
        );
    let faces = fonts::Faces::for_texts(branding_texts(branding).into_iter().chain(data))?;
    let mut doc = document(
        &format!("{} {}", w.delivery_note, delivery.id),
        branding,
        w,
        &faces,
    )?;
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
    finish(doc, &faces, "the delivery note")
}
