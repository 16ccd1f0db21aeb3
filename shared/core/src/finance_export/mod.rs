//! The finance export (docs/api.md "Finance export"): every posting of a period, derived from
//! the records the system already keeps (the invoice-like documents and the order's ledger), as
//! the journal CSV or as a DATEV Buchungsstapel (EXTF 700, category 21). Pure: the caller reads
//! the documents and orders and stores the file.
//!
//! Double entry, with the accounts of `accounts` (receivables, revenue per country and rate,
//! clearing per payment method, refunds, chargebacks):
//!
//! | kind               | debit (account)              | credit (contraAccount)       |
//! |--------------------|------------------------------|------------------------------|
//! | `invoice`          | receivables                  | revenue of (country, rate)   |
//! | `correction`       | receivables                  | revenue (new figures); the superseded figures the other way |
//! | `credit_note`      | revenue of (country, rate)   | refunds (what the customer is owed; by default the receivable itself) |
//! | `payment_received` | clearing of the method       | receivables                  |
//! | `refund`, `goodwill` | refunds                    | clearing of the method (paid out), or receivables (an invoice share that only lowers the open receivable) |
//! | `chargeback`       | chargebacks                  | clearing of the method       |
//!
//! Amounts are gross and positive; a line whose figure is negative (a correction taking back
//! what the superseded invoice booked) swaps the two accounts. A line whose two accounts are the
//! same (a refund's invoice share lowering the receivable while `refunds` is the receivable)
//! moves nothing and is left out.
//!
//! Revenue and tax per rate (`totals_per_rate`) are the documents' figures, which are the
//! order's (`documents::invoice` takes each rate period's figures from the order): for the same
//! orders and refunds they are what the finance report sums from the orders' totals and ledgers.

pub mod accounts;
pub mod datev;
pub mod journal;
pub mod postings;
pub mod request;

pub use accounts::{DatevSettings, FinanceAccounts};
pub use postings::{correction_posting, document_posting, ledger_postings};
pub use request::{ExportFormat, ExportRequest};

use crate::ids::{CountryCode, Currency, OrderId};
use crate::money::Money;
use crate::order::PaymentMethod;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a posting records, as the journal's `kind` column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingKind {
    Invoice,
    Correction,
    CreditNote,
    PaymentReceived,
    Refund,
    Goodwill,
    Chargeback,
}

impl PostingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostingKind::Invoice => "invoice",
            PostingKind::Correction => "correction",
            PostingKind::CreditNote => "credit_note",
            PostingKind::PaymentReceived => "payment_received",
            PostingKind::Refund => "refund",
            PostingKind::Goodwill => "goodwill",
            PostingKind::Chargeback => "chargeback",
        }
    }

    /// Revenue postings carry a tax rate per line; money postings a payment method.
    pub fn is_revenue(self) -> bool {
        matches!(
            self,
            PostingKind::Invoice | PostingKind::Correction | PostingKind::CreditNote
        )
    }
}

/// One document or money movement, dated, with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// The document's date (Belegdatum), or the day the money moved, in the retailer's time zone.
    pub date: NaiveDate,
    /// The invoice-like document's number, or the ledger's id for a money movement.
    pub document_number: String,
    pub kind: PostingKind,
    pub order_id: OrderId,
    pub external_id: String,
    /// The shipping country: with the rate it decides the revenue account.
    pub country: CountryCode,
    pub currency: Currency,
    /// The supply date (Leistungsdatum) of an invoice or correction.
    pub supply_date: Option<NaiveDate>,
    /// What the booking text says about the posting (the journal's `text`).
    pub text: String,
    pub lines: Vec<PostingLine>,
}

/// A part of a posting: for a document, one of its lines (or a shipping share) at one rate; for a
/// money movement, one payment's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingLine {
    /// Gross; positive in the kind's own direction (the table above), negative the other way.
    pub gross: Money,
    /// The tax in `gross`, with its sign; zero for money lines.
    pub tax: Money,
    /// The VAT rate of a document line; `None` on money lines (no tax applies).
    pub tax_rate: Option<Decimal>,
    /// Which payment's clearing account the money moves on. `None` on document lines, and on a
    /// refund's invoice share that only lowers the open receivable.
    pub method: Option<PaymentMethod>,
    /// The article, "Versand" for a shipping share, or the payment method.
    pub text: String,
}

/// Net and tax at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetAndTax {
    pub net: Money,
    pub tax: Money,
}

/// Revenue and tax at one rate booked by a period's postings, as the finance report sums them:
/// `invoiced` by the invoices and corrections, `credited` by the credit documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateTotals {
    pub invoiced: NetAndTax,
    pub credited: NetAndTax,
}

/// Per (country, currency, rate): the revenue and tax the postings book, to be set beside the
/// finance report's rows for the same period (each document's figures are the order's).
pub fn totals_per_rate(
    postings: &[Posting],
) -> BTreeMap<(CountryCode, Currency, Decimal), RateTotals> {
    let mut out: BTreeMap<(CountryCode, Currency, Decimal), RateTotals> = BTreeMap::new();
    for p in postings.iter().filter(|p| p.kind.is_revenue()) {
        for l in &p.lines {
            let Some(rate) = l.tax_rate else { continue };
            let e = out
                .entry((p.country.clone(), p.currency.clone(), rate.normalize()))
                .or_default();
            let side = if p.kind == PostingKind::CreditNote {
                &mut e.credited
            } else {
                &mut e.invoiced
            };
            side.net += l.gross - l.tax;
            side.tax += l.tax;
        }
    }
    out
}

/// The two accounts of a line in its kind's own direction, and whether DATEV's `Konto` (the
/// receivable or money side; the revenue or offset account is the `Gegenkonto`) is the debited
/// one: (debit, credit, konto_is_debit). A negative line swaps debit and credit.
pub(crate) fn accounts_of(
    kind: PostingKind,
    line: &PostingLine,
    country: &CountryCode,
    accounts: &FinanceAccounts,
) -> Result<(String, String, bool), crate::ApiError> {
    let money = |m: Option<PaymentMethod>| match m {
        Some(m) => accounts.clearing(m).to_string(),
        None => accounts.receivables.clone(),
    };
    let revenue = || match line.tax_rate {
        Some(rate) => accounts.revenue_account(country, rate).map(str::to_string),
        None => Err(crate::ApiError::new(
            500,
            crate::ErrorCode::InternalError,
            "a document line without a tax rate",
        )),
    };
    Ok(match kind {
        PostingKind::Invoice | PostingKind::Correction => {
            (accounts.receivables.clone(), revenue()?, true)
        }
        PostingKind::CreditNote => (revenue()?, accounts.refunds.clone(), false),
        PostingKind::PaymentReceived => (money(line.method), accounts.receivables.clone(), true),
        PostingKind::Refund | PostingKind::Goodwill => {
            (accounts.refunds.clone(), money(line.method), false)
        }
        PostingKind::Chargeback => (accounts.chargebacks.clone(), money(line.method), false),
    })
}

/// A rate as the journal writes it: `0.19`, `0.07`, `0.20`, `0.055` (at least two decimals).
pub fn rate_text(rate: Decimal) -> String {
    let mut r = rate.normalize();
    if r.scale() < 2 {
        r.rescale(2);
    }
    r.to_string()
}

#[cfg(test)]
mod datev_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod tests;
