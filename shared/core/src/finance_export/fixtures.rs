//! Orders, documents and postings for the finance export's tests, built by the functions the
//! system itself uses (`intake` fixtures, `documents::invoice`, `refund::settle`, the ledger).

use super::*;
use crate::catalogue::Locale;
use crate::delivery::{DeliveryLine, DeliveryOrder, DeliveryStatus};
use crate::documents::{self, InvoiceDocument, InvoiceHeader, InvoiceKind};
use crate::intake::fixtures::{base, order};
use crate::order::Order;
use crate::refund::{settle, Allocation};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

pub(crate) const TZ: &str = "Europe/Berlin";

pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Noon UTC of a day: the same day in Berlin.
pub(crate) fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// docs/api.md's worked example: L1 2 x 24.99, L2 1 x 15.00, SAVE5, shipping 3.90, total 63.88,
/// paid by `payments` (default: card).
pub(crate) fn worked_example(payments: serde_json::Value) -> Order {
    let mut body = base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
        json!([{"code": "SAVE5", "amount": "5.00"}]),
        "3.90",
        "63.88",
    );
    body["externalId"] = json!("WEB-1001");
    if !payments.is_null() {
        body["payments"] = payments;
    }
    let mut o = order(body);
    o.created_at = noon(2026, 3, 2);
    for e in &mut o.ledger {
        e.at = o.created_at;
    }
    o
}

/// One delivery order holding every unit of the order.
pub(crate) fn delivery_of(o: &Order) -> DeliveryOrder {
    let now = o.created_at;
    DeliveryOrder {
        id: "DO-1".into(),
        order_id: o.id.clone(),
        fulfiller_id: "acme".try_into().unwrap(),
        status: DeliveryStatus::Open,
        ship_to: o.shipping_address.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| DeliveryLine {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity,
                shipped: 0,
                cancelled: 0,
            })
            .collect(),
        created_at: now,
        due_at: now,
        created_key: "k".into(),
        documents: vec![],
        carrier: None,
        tracking_number: None,
        version: 0,
        shipments: vec![],
        stock_shortfall: false,
        rejection_reason: None,
        link_key: None,
    }
}

pub(crate) fn header(kind: InvoiceKind, number: &str, issued_on: NaiveDate) -> InvoiceHeader {
    InvoiceHeader {
        kind,
        number: number.into(),
        issued_on,
        supply_date: issued_on,
        locale: Locale::De,
    }
}

/// The order's invoice (one delivery order, with shipping), as the document generator makes it.
pub(crate) fn invoice_of(o: &Order, number: &str, issued_on: NaiveDate) -> InvoiceDocument {
    documents::invoice(
        header(InvoiceKind::Invoice, number, issued_on),
        o,
        &delivery_of(o),
        true,
    )
}

/// Returns `units` of line `line_id` and settles the refund on `at` (pro rata).
pub(crate) fn return_units(o: &mut Order, line_id: &str, units: u32, id: &str, at: DateTime<Utc>) {
    let l = o.lines.iter_mut().find(|l| l.line_id == line_id).unwrap();
    l.quantities.returned += units;
    settle(o, Allocation::ProRata, id.into(), "return", at).unwrap();
}

/// The credit document of the order's refund `id`.
pub(crate) fn credit_of(
    o: &Order,
    id: &str,
    number: &str,
    issued_on: NaiveDate,
) -> InvoiceDocument {
    let refund = crate::ledger::refund(o, id).unwrap();
    documents::credit_note(
        header(
            InvoiceKind::Credit {
                refund_id: id.into(),
                invoice_numbers: vec![],
            },
            number,
            issued_on,
        ),
        o,
        &refund,
        "Erstattung (return)",
    )
}

/// The SKR03 defaults with the DATEV numbers of DATEV's own sample file.
pub(crate) fn accounts() -> FinanceAccounts {
    FinanceAccounts::parse(&json!({"datev": {"consultantNumber": 29098, "clientNumber": 55003}}))
        .unwrap()
}

/// A posting with the given lines, for the writers' tests.
pub(crate) fn posting(kind: PostingKind, number: &str, lines: Vec<PostingLine>) -> Posting {
    Posting {
        date: day(2026, 3, 2),
        document_number: number.into(),
        kind,
        order_id: "ord_1".try_into().unwrap(),
        external_id: "WEB-1001".into(),
        country: "DE".try_into().unwrap(),
        currency: "EUR".try_into().unwrap(),
        supply_date: kind.is_revenue().then(|| day(2026, 3, 1)),
        text: format!("{} WEB-1001", postings::label(kind)),
        lines,
    }
}

pub(crate) fn revenue_line(gross: &str, rate: &str, text: &str) -> PostingLine {
    // Negative figures (a correction's reversal) are written with a leading minus.
    let gross = Money::from_decimal(gross.parse::<Decimal>().unwrap());
    let rate: Decimal = rate.parse().unwrap();
    let tax = if gross.is_negative() {
        -crate::money::tax_of(-gross, rate)
    } else {
        crate::money::tax_of(gross, rate)
    };
    PostingLine {
        gross,
        tax,
        tax_rate: Some(rate),
        method: None,
        text: text.into(),
    }
}

pub(crate) fn money_line(gross: &str, method: Option<PaymentMethod>) -> PostingLine {
    PostingLine {
        gross: Money::from_decimal(gross.parse::<Decimal>().unwrap()),
        tax: Money::ZERO,
        tax_rate: None,
        method,
        text: postings::method_text(method).into(),
    }
}
