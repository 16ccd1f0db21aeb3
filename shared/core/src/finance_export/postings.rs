//! Postings from the records the system keeps: an invoice-like document (`documents`: the
//! figures its PDF shows, built by the same functions) and the order's ledger (every money
//! movement, once). Each record gives exactly one posting; a 0.00 refund gives none.

use super::{Posting, PostingKind, PostingLine};
use crate::catalogue::local_date;
use crate::documents::{InvoiceDocument, InvoiceKind};
use crate::money::Money;
use crate::order::{LedgerEntry, LedgerKind, Order, PaymentMethod};
use crate::ApiError;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// What a booking text calls each kind (German: DATEV is German bookkeeping; never
/// "Gutschrift", which in German VAT law means self-billing).
pub fn label(kind: PostingKind) -> &'static str {
    match kind {
        PostingKind::Invoice => "Rechnung",
        PostingKind::Correction => "Rechnungskorrektur",
        PostingKind::CreditNote => "Rechnungskorrektur Erstattung",
        PostingKind::PaymentReceived => "Zahlungseingang",
        PostingKind::Refund => "Erstattung",
        PostingKind::Goodwill => "Kulanz",
        PostingKind::Chargeback => "Rückbuchung",
    }
}

/// The text of a shipping share.
pub const SHIPPING: &str = "Versand";

/// The posting of an invoice or a credit document: one line per document line (a line supplied
/// in two rate periods has two) and per shipping share of a rate. A correction is posted with the
/// invoice it supersedes (`correction_posting`); given here, it is refused.
pub fn document_posting(doc: &InvoiceDocument) -> Result<Posting, ApiError> {
    let kind = match doc.kind {
        InvoiceKind::Invoice => PostingKind::Invoice,
        InvoiceKind::Credit { .. } => PostingKind::CreditNote,
        InvoiceKind::Correction { .. } => {
            return Err(ApiError::new(
                500,
                crate::ErrorCode::InternalError,
                "a correction is posted with the invoice it supersedes (correction_posting)",
            ))
        }
    };
    Ok(posting_of(doc, kind, document_lines(doc, false)))
}

/// The posting of a corrected invoice (Rechnungskorrektur): it takes back every line of the
/// document it supersedes (negative lines) and books its own. Per rate the two net out to the
/// difference; DATEV gets each line, so that the tax it derives per booking is the line's.
pub fn correction_posting(correction: &InvoiceDocument, superseded: &InvoiceDocument) -> Posting {
    let mut lines = document_lines(superseded, true);
    lines.extend(document_lines(correction, false));
    posting_of(correction, PostingKind::Correction, lines)
}

fn posting_of(doc: &InvoiceDocument, kind: PostingKind, lines: Vec<PostingLine>) -> Posting {
    Posting {
        date: doc.issued_on,
        document_number: doc.number.clone(),
        kind,
        order_id: doc.order_id.clone(),
        external_id: doc.order_external_id.clone(),
        country: doc.ship_to.country.clone(),
        currency: doc.currency.clone(),
        supply_date: (kind != PostingKind::CreditNote).then_some(doc.supply_date),
        text: format!("{} {}", label(kind), doc.order_external_id),
        lines,
    }
}

/// A document's lines, then the shipping's share of each rate: what the rate's total holds
/// beyond its lines (the document's `tax_totals` include shipping's split, `documents::invoice`).
/// `reversed`: every figure negated (a superseded document taken back).
fn document_lines(doc: &InvoiceDocument, reversed: bool) -> Vec<PostingLine> {
    let sign = |m: Money| if reversed { -m } else { m };
    let mut out = Vec::with_capacity(doc.lines.len() + doc.tax_totals.len());
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for l in &doc.lines {
        let rate = l.rate.normalize();
        let e = by_rate.entry(rate).or_default();
        e.0 += l.gross;
        e.1 += l.tax;
        let mut text = if l.sku.is_empty() {
            l.name.clone()
        } else {
            format!("{} x {}", l.quantity, l.name)
        };
        if reversed {
            text = format!("Storno {}: {text}", doc.number);
        }
        out.push(PostingLine {
            gross: sign(l.gross),
            tax: sign(l.tax),
            tax_rate: Some(rate),
            method: None,
            text,
        });
    }
    if doc.shipping.is_some() {
        for t in &doc.tax_totals {
            let rate = t.rate.normalize();
            let (lines_gross, lines_tax) = by_rate.get(&rate).copied().unwrap_or_default();
            let gross = t.net + t.tax - lines_gross;
            let tax = t.tax - lines_tax;
            if gross != Money::ZERO || tax != Money::ZERO {
                out.push(PostingLine {
                    gross: sign(gross),
                    tax: sign(tax),
                    tax_rate: Some(rate),
                    method: None,
                    text: if reversed {
                        format!("Storno {}: {SHIPPING}", doc.number)
                    } else {
                        SHIPPING.to_string()
                    },
                });
            }
        }
    }
    out
}

/// The order's money movements as postings, in ledger order: a payment the order was placed
/// with (but an invoice payment, which only opens the receivable its invoices book) and money
/// received on the invoice are `payment_received`; each refund and goodwill credit one posting
/// with a line per payment share; each chargeback one. A refund's invoice share first lowers
/// the receivable still open at that moment (folded as `ledger::balances` does); only what
/// exceeds it is paid out. Dated by the retailer's `time_zone`.
pub fn ledger_postings(order: &Order, time_zone: &str) -> Vec<Posting> {
    let mut due: Money = order
        .payments
        .iter()
        .filter(|p| p.method == PaymentMethod::Invoice)
        .map(|p| p.amount)
        .sum();
    let mut out: Vec<Posting> = Vec::new();
    for e in &order.ledger {
        let line = |gross: Money, method: Option<PaymentMethod>| PostingLine {
            gross,
            tax: Money::ZERO,
            tax_rate: None,
            method,
            text: method_text(method).to_string(),
        };
        let (kind, number, lines) = match e.kind {
            LedgerKind::Payment => match e.method {
                Some(PaymentMethod::Invoice) | None => continue,
                Some(m) => (
                    PostingKind::PaymentReceived,
                    e.id.clone(),
                    vec![line(e.amount, Some(m))],
                ),
            },
            LedgerKind::PaymentReceived => {
                due -= e.amount.min(due);
                (
                    PostingKind::PaymentReceived,
                    e.id.clone(),
                    vec![line(e.amount, Some(PaymentMethod::Invoice))],
                )
            }
            LedgerKind::Refund | LedgerKind::Goodwill => {
                let kind = if e.kind == LedgerKind::Goodwill {
                    PostingKind::Goodwill
                } else {
                    PostingKind::Refund
                };
                let lines = match e.method {
                    Some(PaymentMethod::Invoice) => {
                        let lowered = e.amount.min(due);
                        due -= lowered;
                        vec![
                            line(lowered, None),
                            line(e.amount - lowered, Some(PaymentMethod::Invoice)),
                        ]
                    }
                    method => vec![line(e.amount, method)],
                };
                (kind, refund_number(e), lines)
            }
            LedgerKind::Chargeback => (
                PostingKind::Chargeback,
                e.id.clone(),
                vec![line(e.amount, e.method)],
            ),
        };
        let lines: Vec<PostingLine> = lines
            .into_iter()
            .filter(|l| l.gross != Money::ZERO)
            .collect();
        // The shares of one refund are consecutive entries with the refund's id.
        match out
            .last_mut()
            .filter(|p| p.kind == kind && p.document_number == number)
        {
            Some(p) => p.lines.extend(lines),
            None => out.push(Posting {
                date: local_date(e.at, time_zone),
                text: money_text(kind, order, e),
                document_number: number,
                kind,
                order_id: order.id.clone(),
                external_id: order.external_id.clone(),
                country: order.shipping_address.country.clone(),
                currency: order.currency.clone(),
                supply_date: None,
                lines,
            }),
        }
    }
    out.retain(|p| !p.lines.is_empty());
    out
}

/// A refund's entries share its id as `reference` (`ledger::record_refund`).
fn refund_number(e: &LedgerEntry) -> String {
    e.reference.clone().unwrap_or_else(|| e.id.clone())
}

fn money_text(kind: PostingKind, order: &Order, e: &LedgerEntry) -> String {
    match (kind, &e.reference) {
        (PostingKind::PaymentReceived | PostingKind::Chargeback, Some(r)) => {
            format!("{} {} {r}", label(kind), order.external_id)
        }
        _ => format!("{} {}", label(kind), order.external_id),
    }
}

/// A money line's text: its payment method, or the receivable an invoice share lowered.
pub fn method_text(method: Option<PaymentMethod>) -> &'static str {
    match method {
        Some(PaymentMethod::Card) => "card",
        Some(PaymentMethod::Paypal) => "paypal",
        Some(PaymentMethod::Invoice) => "invoice",
        Some(PaymentMethod::GiftCard) => "gift_card",
        Some(PaymentMethod::BonusPoints) => "bonus_points",
        None => "receivable",
    }
}
