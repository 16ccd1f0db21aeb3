//! Invoices, corrected invoices and credit documents (Rechnung, Rechnungskorrektur,
//! Rechnungskorrektur (Storno)) on A4. Every figure comes from `InvoiceDocument`; this only
//! lays them out. A credit document shows its amounts negative: it reverses part of an invoice.

use super::layout::{self, cell, para, para_right, style, Boxed, RowRules, Space, GREY};
use super::text::{self, fill};
use dropship_core::catalogue::Branding;
use dropship_core::documents::{InvoiceDocument, InvoiceKind, InvoiceLine};
use dropship_core::money::Money;
use dropship_core::order::PaymentMethod;
use genpdf::elements::{LinearLayout, TableLayout};
use genpdf::Element;

/// Column weights (millimetres of the 172 mm text width): pos, article, qty, unit price,
/// discount, rate, net, tax, gross. Money columns fit "-12.345,67 €" at 8 pt.
const COLUMNS: [usize; 9] = [10, 40, 13, 19, 17, 12, 20, 20, 21];

/// What the document's data puts on it (names, addresses, articles, numbers).
fn texts(doc: &InvoiceDocument) -> impl Iterator<Item = &str> {
    let references: Vec<&str> = match &doc.kind {
        InvoiceKind::Invoice => Vec::new(),
        InvoiceKind::Correction { supersedes } => vec![supersedes],
        InvoiceKind::Credit {
            refund_id,
            invoice_numbers,
        } => std::iter::once(refund_id)
            .chain(invoice_numbers)
            .map(String::as_str)
            .collect(),
    };
    super::address_texts(&doc.bill_to)
        .into_iter()
        .chain(super::address_texts(&doc.ship_to))
        .chain([
            doc.number.as_str(),
            doc.currency.as_str(),
            &doc.order_external_id,
            doc.delivery_order_id.as_deref().unwrap_or_default(),
        ])
        .chain(doc.lines.iter().flat_map(|l| [l.sku.as_str(), &l.name]))
        .chain(references)
}

pub fn invoice(branding: &Branding, doc: &InvoiceDocument) -> anyhow::Result<Vec<u8>> {
    let locale = doc.locale;
    let w = text::words(locale);
    let money = |m: Money| text::money(m, doc.currency.as_str(), locale);
    // A credit document reverses (part of) an invoice: its figures are shown negative.
    let signed = |m: Money| match doc.kind {
        InvoiceKind::Credit { .. } => money(-m),
        _ => money(m),
    };
    let kind_title = match &doc.kind {
        InvoiceKind::Invoice => w.invoice,
        InvoiceKind::Correction { .. } => w.correction,
        InvoiceKind::Credit { .. } => w.credit,
    };
    let title = format!("{kind_title} {} {}", w.number, doc.number);

    let faces = super::fonts::Faces::for_texts(
        super::branding_texts(branding)
            .into_iter()
            .chain(texts(doc))
            .chain([title.as_str()]),
    )?;
    let mut pdf = super::document(&title, branding, w, &faces)?;
    pdf.push(layout::letterhead(branding, locale)?);

    let mut facts = vec![
        (
            match doc.kind {
                InvoiceKind::Invoice => w.invoice_no,
                InvoiceKind::Correction { .. } => w.correction_no,
                InvoiceKind::Credit { .. } => w.credit_no,
            },
            doc.number.clone(),
        ),
        (w.issued_on, text::date(doc.issued_on, locale)),
        (w.supply_date, text::date(doc.supply_date, locale)),
        (w.order, doc.order_external_id.clone()),
    ];
    if let Some(delivery) = &doc.delivery_order_id {
        facts.push((w.delivery, delivery.clone()));
    }
    let mut head = TableLayout::new(vec![5, 5, 8]);
    head.row()
        .element(layout::address_block(w.bill_to, &doc.bill_to, locale))
        .element(layout::address_block(w.ship_to, &doc.ship_to, locale))
        .element(layout::facts(&facts)?)
        .push()?;
    pdf.push(head);
    pdf.push(Space(10.0));

    pdf.push(layout::title(&title, branding));
    match &doc.kind {
        InvoiceKind::Invoice => {}
        InvoiceKind::Correction { supersedes } => {
            pdf.push(para(fill(w.supersedes, supersedes), style(10)));
        }
        InvoiceKind::Credit {
            refund_id,
            invoice_numbers,
        } => {
            let mut refs = Vec::new();
            if !invoice_numbers.is_empty() {
                refs.push(fill(w.for_invoices, invoice_numbers.join(", ")));
            }
            refs.push(format!("{} {refund_id}", w.refund));
            pdf.push(para(refs.join(" · "), style(10)));
        }
    }
    pdf.push(Space(5.0));

    // The lines.
    let mut lines = TableLayout::new(COLUMNS.to_vec());
    lines.set_cell_decorator(RowRules {
        header: super::color(&branding.primary_color),
        rows: 0,
    });
    let head_style = style(8).bold();
    let header = [
        w.item,
        w.article,
        w.quantity,
        w.unit_price,
        w.discount,
        w.tax_rate,
        w.net,
        w.tax,
        w.gross,
    ];
    let row = header
        .iter()
        .enumerate()
        .map(|(i, h)| -> Box<dyn Element> {
            if i < 2 {
                Box::new(cell(para(h, head_style)))
            } else {
                Box::new(cell(para_right(h, head_style)))
            }
        })
        .collect();
    lines.push_row(row)?;
    let body = style(8);
    let figures = |l: &InvoiceLine, pos: String, article: Box<dyn Element>| {
        let discount = if l.discount.amount().is_zero() {
            "–".to_string()
        } else {
            money(-l.discount)
        };
        let row: Vec<Box<dyn Element>> = vec![
            Box::new(cell(para(pos, body))),
            Box::new(cell(Boxed(article))),
            Box::new(cell(para_right(l.quantity.to_string(), body))),
            Box::new(cell(para_right(money(l.unit_price), body))),
            Box::new(cell(para_right(discount, body))),
            Box::new(cell(para_right(text::percent(l.rate, locale), body))),
            Box::new(cell(para_right(signed(l.net), body))),
            Box::new(cell(para_right(signed(l.tax), body))),
            Box::new(cell(para_right(signed(l.gross), body))),
        ];
        row
    };
    for (i, l) in doc.lines.iter().enumerate() {
        let mut article = LinearLayout::vertical();
        article.push(para(&l.name, body));
        article.push(para(
            format!("{} {}", w.sku, l.sku),
            style(7).with_color(GREY),
        ));
        lines.push_row(figures(l, (i + 1).to_string(), Box::new(article)))?;
    }
    if let Some(shipping) = &doc.shipping {
        lines.push_row(figures(
            shipping,
            String::new(),
            Box::new(para(w.shipping, body)),
        ))?;
    }
    pdf.push(lines);
    pdf.push(Space(4.0));

    // Totals per rate, then the totals, right-aligned under the money columns.
    let mut totals = TableLayout::new(vec![92, 50, 30]);
    let total_row = |t: &mut TableLayout, label: String, amount: String, strong: bool| {
        let s = if strong { style(10).bold() } else { style(9) };
        t.row()
            .element(Space(0.0))
            .element(para(label, s).padded(genpdf::Margins::trbl(0.8, 0, 0.8, 1.5)))
            .element(para_right(amount, s).padded(genpdf::Margins::trbl(0.8, 1.5, 0.8, 0)))
            .push()
    };
    for t in &doc.tax_totals {
        let rate = text::percent(t.rate, locale);
        total_row(&mut totals, fill(w.net_at, &rate), signed(t.net), false)?;
        total_row(&mut totals, fill(w.tax_at, &rate), signed(t.tax), false)?;
    }
    total_row(
        &mut totals,
        w.total_net.into(),
        signed(doc.total_net),
        false,
    )?;
    total_row(
        &mut totals,
        w.total_tax.into(),
        signed(doc.total_tax),
        false,
    )?;
    total_row(
        &mut totals,
        w.total_gross.into(),
        signed(doc.total_gross),
        true,
    )?;
    pdf.push(totals);
    pdf.push(Space(6.0));

    // Payments (for a credit: where the money goes back to) and what is still due.
    let by_invoice = doc
        .payments
        .iter()
        .any(|p| p.method == PaymentMethod::Invoice);
    if !doc.payments.is_empty() || !doc.due.amount().is_zero() {
        let heading = match doc.kind {
            InvoiceKind::Credit { .. } => w.refunded_to,
            _ => w.payments,
        };
        pdf.push(para(heading, style(9).bold()));
        pdf.push(Space(1.0));
        let mut pay = TableLayout::new(vec![45, 25, 102]);
        for p in &doc.payments {
            pay.row()
                .element(para(text::payment_method(p.method, locale), style(9)))
                .element(para_right(money(p.amount), style(9)))
                .element(Space(0.0))
                .push()?;
        }
        if by_invoice || !doc.due.amount().is_zero() {
            pay.row()
                .element(para(w.amount_due, style(9).bold()))
                .element(para_right(money(doc.due), style(9).bold()))
                .element(Space(0.0))
                .push()?;
        }
        pdf.push(pay);
    }
    if doc.kind == InvoiceKind::Invoice {
        pdf.push(Space(8.0));
        pdf.push(para(w.thanks, style(9)));
    }
    super::finish(pdf, &faces, "the invoice")
}
