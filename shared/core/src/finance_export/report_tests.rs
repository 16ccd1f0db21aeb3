//! The export against the finance report: for the same orders, the invoices and corrections book
//! per rate the net and tax the report sums from the orders' totals, and the credit documents
//! the refunds and goodwill it sums from their ledgers (functions/reports `tables::finance`,
//! computed here the same way).

use super::fixtures::*;
use super::*;
use crate::documents::{self, InvoiceKind};
use crate::intake::fixtures::{base, date, order_2020, ship_on};
use crate::order::{LedgerKind, Order};
use serde_json::json;
use std::collections::BTreeMap;

/// What the finance report shows for `orders`: net and tax per rate, and the refunds.
fn report(orders: &[&Order]) -> (BTreeMap<String, (Money, Money)>, Money) {
    let mut per_rate: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    let mut refunds = Money::ZERO;
    for o in orders {
        for t in &o.totals.tax {
            let e = per_rate.entry(rate_text(t.rate)).or_default();
            e.0 += t.net;
            e.1 += t.tax;
        }
        refunds += o
            .ledger
            .iter()
            .filter(|e| matches!(e.kind, LedgerKind::Refund | LedgerKind::Goodwill))
            .map(|e| e.amount)
            .sum::<Money>();
    }
    (per_rate, refunds)
}

fn export(postings: &[Posting]) -> (BTreeMap<String, (Money, Money)>, Money) {
    let mut per_rate = BTreeMap::new();
    let mut credited = Money::ZERO;
    for ((_, _, rate), t) in totals_per_rate(postings) {
        per_rate.insert(rate_text(rate), (t.invoiced.net, t.invoiced.tax));
        credited += t.credited.net + t.credited.tax;
    }
    (per_rate, credited)
}

#[test]
fn the_postings_book_what_the_finance_report_sums_for_the_same_orders() {
    // 1. The worked example, split over two delivery orders (shipping on the first), one unit
    // of L1 returned and a goodwill credit.
    let mut a = worked_example(json!(null));
    let mut first = delivery_of(&a);
    first.lines.retain(|l| l.line_id == "L1");
    let mut second = delivery_of(&a);
    second.id = "DO-2".into();
    second.lines.retain(|l| l.line_id == "L2");
    let issued = day(2026, 3, 2);
    let mut postings = vec![
        document_posting(&documents::invoice(
            header(InvoiceKind::Invoice, "2026-000001", issued),
            &a,
            &first,
            true,
        ))
        .unwrap(),
        document_posting(&documents::invoice(
            header(InvoiceKind::Invoice, "2026-000002", issued),
            &a,
            &second,
            false,
        ))
        .unwrap(),
    ];
    return_units(&mut a, "L1", 1, "ref_1", noon(2026, 3, 10));
    crate::refund::goodwill(
        &mut a,
        &json!({"amount": "2.50", "reason": "late"}),
        crate::refund::Allocation::ProRata,
        "ref_g".into(),
        noon(2026, 3, 11),
    )
    .unwrap();
    postings
        .push(document_posting(&credit_of(&a, "ref_1", "2026-000003", day(2026, 3, 10))).unwrap());
    postings
        .push(document_posting(&credit_of(&a, "ref_g", "2026-000004", day(2026, 3, 11))).unwrap());
    // 2. An order of 2020-06-30 whose L1 ships on 1 July (16 %): invoice, then its correction.
    let mut b = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
        json!([{"code": "SAVE5", "amount": "5.00"}]),
        "3.90",
        "63.88",
    ));
    let original = invoice_of(&b, "2020-000001", date(2020, 6, 30));
    ship_on(&mut b, "L1", 2, date(2020, 7, 1));
    let mut correction = invoice_of(&b, "2020-000002", date(2020, 7, 2));
    correction.kind = InvoiceKind::Correction {
        supersedes: original.number.clone(),
    };
    postings.push(document_posting(&original).unwrap());
    postings.push(correction_posting(&correction, &original));
    postings.extend(ledger_postings(&a, TZ));
    postings.extend(ledger_postings(&b, TZ));

    let (report_rates, report_refunds) = report(&[&a, &b]);
    let (export_rates, export_credited) = export(&postings);
    assert_eq!(export_rates, report_rates);
    assert_eq!(export_credited, report_refunds);
    assert_eq!(report_refunds.to_string(), "25.57");
    // And the journal says the same per rate.
    let bytes = journal::journal(&postings, &accounts()).unwrap();
    let mut per_rate: BTreeMap<String, Money> = BTreeMap::new();
    for r in csv::Reader::from_reader(bytes.as_slice()).records() {
        let r = r.unwrap();
        if matches!(&r[2], "invoice" | "correction") {
            let amount = Money::from_decimal(r[7].parse().unwrap());
            let e = per_rate.entry(r[9].to_string()).or_default();
            *e += if &r[5] == "10000" { amount } else { -amount };
        }
    }
    let gross: BTreeMap<String, Money> = report_rates
        .into_iter()
        .map(|(rate, (net, tax))| (rate, net + tax))
        .collect();
    assert_eq!(per_rate, gross);
}
