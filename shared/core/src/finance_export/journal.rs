//! The journal CSV (docs/api.md): one row per document and rate (per payment method for a money
//! movement), `account` debited and `contraAccount` credited, the amount gross and positive.

use super::{accounts_of, rate_text, FinanceAccounts, Posting, PostingLine};
use crate::money::Money;
use crate::ApiError;
use rust_decimal::Decimal;

/// The journal's header, exactly as docs/api.md gives it.
pub const HEADER: [&str; 12] = [
    "date",
    "documentNumber",
    "kind",
    "orderId",
    "externalId",
    "account",
    "contraAccount",
    "amount",
    "currency",
    "taxRate",
    "tax",
    "text",
];

/// A posting's lines summed per (rate, payment method), in the order each first appears,
/// with their signs: a correction's lines of one rate net out to the difference.
pub(crate) fn per_rate(p: &Posting) -> Vec<PostingLine> {
    let mut out: Vec<PostingLine> = Vec::new();
    for l in &p.lines {
        let key = |o: &PostingLine| (o.tax_rate, o.method);
        match out.iter_mut().find(|o| key(o) == key(l)) {
            Some(o) => {
                o.gross += l.gross;
                o.tax += l.tax;
            }
            None => out.push(l.clone()),
        }
    }
    out.retain(|l| l.gross != Money::ZERO || l.tax != Money::ZERO);
    out
}

/// One journal row of a summed line: the accounts in the row's direction and the amount.
struct Row {
    account: String,
    contra: String,
    amount: Money,
    tax: Option<Money>,
}

fn row(p: &Posting, l: &PostingLine, accounts: &FinanceAccounts) -> Result<Option<Row>, ApiError> {
    let (debit, credit, _) = accounts_of(p.kind, l, &p.country, accounts)?;
    // The same account on both sides moves nothing (a refund's invoice share that lowers the
    // receivable while refunds are booked on the receivable itself).
    if debit == credit {
        return Ok(None);
    }
    let backwards = l.gross.is_negative() || (l.gross == Money::ZERO && l.tax.is_negative());
    let (account, contra) = if backwards {
        (credit, debit)
    } else {
        (debit, credit)
    };
    let sign = if backwards {
        -Decimal::ONE
    } else {
        Decimal::ONE
    };
    Ok(Some(Row {
        account,
        contra,
        amount: Money::from_decimal(l.gross.amount() * sign),
        tax: l
            .tax_rate
            .map(|_| Money::from_decimal(l.tax.amount() * sign)),
    }))
}

/// The journal of `postings` (already the period's), as CSV bytes (UTF-8).
pub fn journal(postings: &[Posting], accounts: &FinanceAccounts) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| internal(format!("writing the journal: {e}"));
    w.write_record(HEADER).map_err(fail)?;
    for p in postings {
        for l in per_rate(p) {
            let Some(r) = row(p, &l, accounts)? else {
                continue;
            };
            // Ids and texts come from channels and staff: none may become a formula.
            let cells = [
                p.date.to_string(),
                p.document_number.clone(),
                p.kind.as_str().to_string(),
                p.order_id.to_string(),
                p.external_id.clone(),
                r.account,
                r.contra,
                r.amount.to_string(),
                p.currency.to_string(),
                l.tax_rate.map(rate_text).unwrap_or_default(),
                r.tax.map(|t| t.to_string()).unwrap_or_default(),
                line_text(p, &l),
            ];
            w.write_record(cells.map(crate::spreadsheet::neutralise))
                .map_err(fail)?;
        }
    }
    w.into_inner()
        .map_err(|e| internal(format!("writing the journal: {e}")))
}

/// The row's text: the posting's, and for a money row its payment method.
fn line_text(p: &Posting, l: &PostingLine) -> String {
    if p.kind.is_revenue() {
        p.text.clone()
    } else {
        format!("{} ({})", p.text, super::postings::method_text(l.method))
    }
}

/// Writing to memory cannot fail short of a bug; it answers 500 with what happened.
fn internal(what: String) -> ApiError {
    ApiError::new(500, crate::ErrorCode::InternalError, what)
}
