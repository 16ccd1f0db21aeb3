//! Table tests: each posting kind from the records it comes from, the accounts document, the
//! journal. The DATEV file is tested in `datev_tests`.

use super::fixtures::*;
use super::*;
use crate::documents::InvoiceKind;
use crate::input::refused;
use crate::intake::fixtures::{base, date, order_2020, ship_on};
use crate::order::{without_supply_rates, Order, PaymentMethod};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

/// (rate, gross, tax, text) of each line, as strings.
fn lines(p: &Posting) -> Vec<(String, String, String, String)> {
    p.lines
        .iter()
        .map(|l| {
            (
                l.tax_rate.map(rate_text).unwrap_or_default(),
                l.gross.to_string(),
                l.tax.to_string(),
                l.text.clone(),
            )
        })
        .collect()
}

fn row(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| s.to_string()).collect()
}

/// The journal's records (header first), read back by the csv crate.
fn journal_rows(postings: &[Posting]) -> Vec<Vec<String>> {
    let bytes = journal::journal(postings, &accounts()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn an_invoice_books_each_line_and_the_shipping_share_of_its_rate() {
    let o = worked_example(json!(null));
    let p = document_posting(&invoice_of(&o, "2026-000001", day(2026, 3, 2))).unwrap();
    assert_eq!(
        (p.kind, p.date, p.document_number.as_str(), p.supply_date),
        (
            PostingKind::Invoice,
            day(2026, 3, 2),
            "2026-000001",
            Some(day(2026, 3, 2))
        )
    );
    let s = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        lines(&p),
        vec![
            s("0.19", "46.13", "7.37", "2 x A"),
            s("0.19", "13.85", "2.21", "1 x B"),
            s("0.19", "3.90", "0.62", "Versand"),
        ]
    );
    assert_eq!(p.text, "Rechnung WEB-1001");
}

#[test]
fn a_correction_takes_back_the_superseded_invoice_and_books_the_new_figures() {
    // docs/api.md's worked example ordered 2020-06-30; one unit of L1 ships 2020-07-01 (16 %).
    let mut o = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
        json!([{"code": "SAVE5", "amount": "5.00"}]),
        "3.90",
        "63.88",
    ));
    let original = invoice_of(&o, "2020-000001", date(2020, 6, 30));
    ship_on(&mut o, "L1", 1, date(2020, 7, 1));
    let shipment = o.lines[0].supplies[0].shipment_id.clone();
    // The invoice in force before the shipment's rate was booked is the original.
    assert_eq!(
        invoice_of(
            &without_supply_rates(&o, &shipment),
            "2020-000001",
            date(2020, 6, 30)
        ),
        original
    );
    let mut correction = invoice_of(&o, "2020-000002", date(2020, 7, 2));
    correction.kind = InvoiceKind::Correction {
        supersedes: "2020-000001".into(),
    };
    assert!(document_posting(&correction).is_err());
    let p = correction_posting(&correction, &original);
    assert_eq!(p.kind, PostingKind::Correction);
    assert_eq!(
        (p.lines[0].text.as_str(), p.lines[3].text.as_str()),
        ("Storno 2020-000001: 2 x A", "1 x A")
    );
    // The original's three lines back, then the correction's own (with shipping per rate).
    let grosses: Vec<String> = p.lines.iter().map(|l| l.gross.to_string()).collect();
    assert_eq!(
        grosses,
        ["-46.13", "-13.85", "-3.90", "23.07", "23.06", "13.85", "1.50", "2.40"]
    );
    // Invoice plus correction book what the order (and so the finance report) shows per rate.
    let invoice = document_posting(&original).unwrap();
    let totals = totals_per_rate(&[invoice, p.clone()]);
    let booked: Vec<(String, String, String)> = totals
        .iter()
        .map(|((_, _, rate), t)| {
            (
                rate_text(*rate),
                t.invoiced.net.to_string(),
                t.invoiced.tax.to_string(),
            )
        })
        .collect();
    let order: Vec<(String, String, String)> = o
        .totals
        .tax
        .iter()
        .map(|t| (rate_text(t.rate), t.net.to_string(), t.tax.to_string()))
        .collect();
    assert_eq!(booked, order);
    // The journal nets each rate: 19 % goes back (revenue debited), 16 % is booked.
    let rows = journal_rows(&[p]);
    let brief: Vec<Vec<String>> = rows[1..]
        .iter()
        .map(|r| row(&[&r[2], &r[5], &r[6], &r[7], &r[9], &r[10]]))
        .collect();
    assert_eq!(
        brief,
        vec![
            row(&["correction", "8400", "10000", "24.56", "0.19", "3.93"]),
            row(&["correction", "10000", "8400", "24.56", "0.16", "3.39"]),
        ]
    );
}

#[test]
fn a_credit_document_books_the_refund_per_rate_against_refunds() {
    let mut o = worked_example(json!(null));
    return_units(&mut o, "L1", 1, "ref_1", noon(2026, 3, 10));
    let p = document_posting(&credit_of(&o, "ref_1", "2026-000007", day(2026, 3, 10))).unwrap();
    assert_eq!((p.kind, p.supply_date), (PostingKind::CreditNote, None));
    let s = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        lines(&p),
        vec![s("0.19", "23.07", "3.69", "Erstattung (return)")]
    );
    let t = totals_per_rate(std::slice::from_ref(&p));
    let credited = t.values().next().unwrap().credited;
    assert_eq!(
        (credited.net.to_string(), credited.tax.to_string()),
        ("19.38".into(), "3.69".into())
    );
}

/// What happens to the order before its ledger is posted.
type Act = fn(&mut Order, DateTime<Utc>);
/// A posting as (kind, number, [(method, gross)]).
type Seen = (PostingKind, String, Vec<(String, String)>);

#[test]
fn money_movements_are_posted_once_each_from_the_ledger() {
    // (payments, what happens, expected postings: kind, number, [(method, gross)])
    type Expect = Vec<(PostingKind, &'static str, Vec<(&'static str, &'static str)>)>;
    let card = json!([{"method": "card", "amount": "63.88", "reference": "psp-1"}]);
    let invoice = json!([{"method": "invoice", "amount": "63.88"}]);
    let split = json!([{"method": "gift_card", "amount": "20.00"}, {"method": "invoice", "amount": "43.88"}]);
    let now = noon(2026, 3, 12);
    let cases: Vec<(serde_json::Value, Act, Expect)> = vec![
        (
            card.clone(),
            |_, _| {},
            vec![(
                PostingKind::PaymentReceived,
                "pay-0",
                vec![("card", "63.88")],
            )],
        ),
        (invoice.clone(), |_, _| {}, vec![]),
        (
            invoice.clone(),
            |o, now| {
                crate::ledger::receive_payment(
                    o,
                    &json!({"amount": "60.00", "receivedAt": "2026-03-05T10:00:00Z"}),
                    "led_1".into(),
                    now,
                )
                .unwrap();
            },
            vec![(
                PostingKind::PaymentReceived,
                "led_1",
                vec![("invoice", "60.00")],
            )],
        ),
        (
            // Refunded before any money came: the invoice share only lowers the receivable.
            invoice.clone(),
            |o, now| return_units(o, "L1", 1, "ref_1", now),
            vec![(PostingKind::Refund, "ref_1", vec![("receivable", "23.07")])],
        ),
        (
            // 60.00 received, 3.88 open: 3.88 of the refund lowers it, 19.19 goes to the bank.
            invoice,
            |o, now| {
                crate::ledger::receive_payment(o, &json!({"amount": "60.00"}), "led_1".into(), now)
                    .unwrap();
                return_units(o, "L1", 1, "ref_1", now);
            },
            vec![
                (
                    PostingKind::PaymentReceived,
                    "led_1",
                    vec![("invoice", "60.00")],
                ),
                (
                    PostingKind::Refund,
                    "ref_1",
                    vec![("receivable", "3.88"), ("invoice", "19.19")],
                ),
            ],
        ),
        (
            split,
            |o, now| return_units(o, "L2", 1, "ref_2", now),
            vec![
                (
                    PostingKind::PaymentReceived,
                    "pay-0",
                    vec![("gift_card", "20.00")],
                ),
                (
                    PostingKind::Refund,
                    "ref_2",
                    vec![("gift_card", "4.34"), ("receivable", "9.51")],
                ),
            ],
        ),
        (
            card.clone(),
            |o, now| {
                crate::refund::goodwill(
                    o,
                    &json!({"amount": "5.00", "reason": "late"}),
                    crate::refund::Allocation::ProRata,
                    "ref_g".into(),
                    now,
                )
                .unwrap();
            },
            vec![
                (
                    PostingKind::PaymentReceived,
                    "pay-0",
                    vec![("card", "63.88")],
                ),
                (PostingKind::Goodwill, "ref_g", vec![("card", "5.00")]),
            ],
        ),
        (
            card,
            |o, now| {
                crate::ledger::charge_back(
                    o,
                    &json!({"paymentReference": "psp-1", "amount": "10.00"}),
                    "led_c".into(),
                    now,
                )
                .unwrap();
            },
            vec![
                (
                    PostingKind::PaymentReceived,
                    "pay-0",
                    vec![("card", "63.88")],
                ),
                (PostingKind::Chargeback, "led_c", vec![("card", "10.00")]),
            ],
        ),
    ];
    for (i, (payments, act, expect)) in cases.into_iter().enumerate() {
        let mut o = worked_example(payments);
        act(&mut o, now);
        let got: Vec<Seen> = ledger_postings(&o, TZ)
            .iter()
            .map(|p| {
                (
                    p.kind,
                    p.document_number.clone(),
                    p.lines
                        .iter()
                        .map(|l| {
                            (
                                postings::method_text(l.method).to_string(),
                                l.gross.to_string(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        let expect: Vec<Seen> = expect
            .into_iter()
            .map(|(k, n, l)| {
                (
                    k,
                    n.to_string(),
                    l.into_iter().map(|(m, g)| (m.into(), g.into())).collect(),
                )
            })
            .collect();
        assert_eq!(got, expect, "case {i}");
    }
}

#[test]
fn money_postings_are_dated_in_the_retailers_time_zone_and_a_zero_refund_gives_none() {
    let mut o = worked_example(json!(null));
    // 23:30 UTC on 31 March is 1 April in Berlin.
    let late = Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap();
    crate::refund::goodwill(
        &mut o,
        &json!({"amount": "1.00", "reason": "sorry"}),
        crate::refund::Allocation::ProRata,
        "ref_g".into(),
        late,
    )
    .unwrap();
    crate::ledger::record_refund(
        &mut o,
        &crate::ledger::Refund {
            id: "ref_0".into(),
            amount: Money::ZERO,
            allocation: vec![],
            reason: "return".into(),
            created_at: late,
            goodwill: false,
            tax: vec![],
        },
    );
    let ps = ledger_postings(&o, TZ);
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert_eq!(
        (ps[1].kind, ps[1].date),
        (PostingKind::Goodwill, day(2026, 4, 1))
    );
    assert_eq!(ledger_postings(&o, "UTC")[1].date, day(2026, 3, 31));
}

#[test]
fn the_journal_has_the_documented_header_and_one_row_per_document_and_rate() {
    let mut o =
        worked_example(json!([{"method": "card", "amount": "63.88", "reference": "psp-1"}]));
    return_units(&mut o, "L1", 1, "ref_1", noon(2026, 3, 10));
    let mut ps = vec![
        document_posting(&invoice_of(&o, "2026-000001", day(2026, 3, 2))).unwrap(),
        document_posting(&credit_of(&o, "ref_1", "2026-000002", day(2026, 3, 10))).unwrap(),
    ];
    ps.extend(ledger_postings(&o, TZ));
    let rows = journal_rows(&ps);
    assert_eq!(rows[0], journal::HEADER.map(String::from).to_vec());
    let o_id = o.id.to_string();
    let r = |v: &[&str]| row(v);
    assert_eq!(
        rows[1..].to_vec(),
        vec![
            r(&[
                "2026-03-02",
                "2026-000001",
                "invoice",
                &o_id,
                "WEB-1001",
                "10000",
                "8400",
                "63.88",
                "EUR",
                "0.19",
                "10.20",
                "Rechnung WEB-1001"
            ]),
            r(&[
                "2026-03-10",
                "2026-000002",
                "credit_note",
                &o_id,
                "WEB-1001",
                "8400",
                "10000",
                "23.07",
                "EUR",
                "0.19",
                "3.69",
                "Rechnungskorrektur Erstattung WEB-1001"
            ]),
            r(&[
                "2026-03-02",
                "pay-0",
                "payment_received",
                &o_id,
                "WEB-1001",
                "1360",
                "10000",
                "63.88",
                "EUR",
                "",
                "",
                "Zahlungseingang WEB-1001 psp-1 (card)"
            ]),
            r(&[
                "2026-03-10",
                "ref_1",
                "refund",
                &o_id,
                "WEB-1001",
                "10000",
                "1360",
                "23.07",
                "EUR",
                "",
                "",
                "Erstattung WEB-1001 (card)"
            ]),
        ]
    );
}

#[test]
fn journal_fields_are_quoted_by_the_csv_rules() {
    let mut p = posting(
        PostingKind::Invoice,
        "2026-1",
        vec![revenue_line("10.00", "0.07", "x")],
    );
    p.external_id = "A,\"B\"\nC".into();
    p.text = "Rechnung A,\"B\"".into();
    let bytes = journal::journal(std::slice::from_ref(&p), &accounts()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\"A,\"\"B\"\"\nC\""), "{text}");
    let rows = journal_rows(&[p]);
    assert_eq!(
        (
            rows[1][4].as_str(),
            rows[1][6].as_str(),
            rows[1][9].as_str()
        ),
        ("A,\"B\"\nC", "8300", "0.07")
    );
    // An external id a channel chose as a formula stays text; amounts stay numbers.
    let mut p = posting(
        PostingKind::Invoice,
        "2026-2",
        vec![revenue_line("10.00", "0.07", "x")],
    );
    p.external_id = "=HYPERLINK(\"http://evil.example\")".into();
    let rows = journal_rows(&[p]);
    assert_eq!(rows[1][4], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(rows[1][7], "10.00");
}

#[test]
fn the_accounts_default_to_skr03_and_a_put_sets_what_it_names() {
    let d = FinanceAccounts::parse(&json!({})).unwrap();
    assert_eq!(d, FinanceAccounts::skr03(4));
    assert_eq!(
        serde_json::to_value(&d).unwrap()["datev"],
        json!({"consultantNumber": null, "clientNumber": null, "fiscalYearStart": "01-01", "accountLength": 4})
    );
    let de = |s: &str| crate::ids::CountryCode::try_from(s).unwrap();
    let r = |c: &str, rate: &str| {
        d.revenue_account(&de(c), rate.parse().unwrap())
            .map(str::to_string)
    };
    for (country, rate, account) in [
        ("DE", "0.19", "8400"),
        ("DE", "0.190", "8400"),
        ("DE", "0.16", "8400"),
        ("DE", "0.07", "8300"),
        ("DE", "0", "8200"),
        ("AT", "0.20", "8320"),
        ("FR", "0", "8125"),
        ("CH", "0", "8120"),
    ] {
        assert_eq!(r(country, rate).unwrap(), account, "{country} {rate}");
    }
    assert_eq!(refused(r("CH", "0.081")).0, "revenue");
    assert_eq!(
        (
            d.receivables.as_str(),
            d.refunds.as_str(),
            d.chargebacks.as_str(),
            d.clearing(PaymentMethod::Invoice)
        ),
        ("10000", "10000", "1460", "1200")
    );
    let long = FinanceAccounts::parse(&json!({"datev": {"accountLength": 6}})).unwrap();
    assert_eq!(
        (
            long.receivables.as_str(),
            long.clearing(PaymentMethod::Card)
        ),
        ("1000000", "136000")
    );
    assert_eq!(
        long.revenue_account(&de("DE"), "0.19".parse().unwrap())
            .unwrap(),
        "840000"
    );
    let set = FinanceAccounts::parse(&json!({
        "revenue": [{"country": "AT", "rate": "0.20", "account": "8321"}],
        "clearing": {"paypal": "1361"}, "receivables": "1400", "refunds": "1700",
        "datev": {"consultantNumber": 1001, "clientNumber": 1, "fiscalYearStart": "07-01"}}))
    .unwrap();
    assert_eq!(
        set.revenue_account(&de("AT"), "0.2".parse().unwrap())
            .unwrap(),
        "8321"
    );
    // The list replaces the defaults' list; the fallbacks stay.
    assert!(set
        .revenue_account(&de("DE"), "0.19".parse().unwrap())
        .is_err());
    assert_eq!(
        (
            set.clearing(PaymentMethod::Paypal),
            set.clearing(PaymentMethod::Card)
        ),
        ("1361", "1360")
    );
    let shown = serde_json::to_value(&set).unwrap();
    assert_eq!(
        shown["datev"],
        json!({"consultantNumber": 1001, "clientNumber": 1, "fiscalYearStart": "07-01", "accountLength": 4})
    );
    assert_eq!(
        shown["revenue"],
        json!([{"country": "AT", "rate": "0.20", "account": "8321"}])
    );
    assert_eq!(shown["clearing"]["giftCard"], json!("1700"));
    assert_eq!(
        FinanceAccounts::parse(&shown).unwrap(),
        set,
        "what GET shows, PUT takes back"
    );
}

#[test]
fn a_wrong_accounts_field_is_refused_naming_it() {
    for (body, field) in [
        (json!([]), "body"),
        (json!({"receivables": 1400}), "receivables"),
        (json!({"receivables": "0140"}), "receivables"),
        (json!({"receivables": "100000"}), "receivables"),
        (json!({"chargebacks": "10000"}), "chargebacks"),
        (json!({"clearing": {"card": "13a0"}}), "clearing.card"),
        (json!({"clearing": {"cash": "1000"}}), "clearing.cash"),
        (
            json!({"revenue": [{"country": "XX", "rate": "0.19", "account": "8400"}]}),
            "revenue[0].country",
        ),
        (
            json!({"revenue": [{"country": "DE", "rate": "19", "account": "8400"}]}),
            "revenue[0].rate",
        ),
        (
            json!({"revenue": [{"country": "DE", "rate": "-0.1", "account": "8400"}]}),
            "revenue[0].rate",
        ),
        (
            json!({"revenue": [{"country": "DE", "rate": "0.19", "account": ""}]}),
            "revenue[0].account",
        ),
        (
            json!({"revenue": [{"country": "DE", "rate": "0.19", "account": "8400"}, {"country": "DE", "rate": "0.190", "account": "8401"}]}),
            "revenue[1].rate",
        ),
        (
            json!({"revenue": [{"country": "DE", "rate": "0.19"}]}),
            "revenue[0].account",
        ),
        (
            json!({"datev": {"accountLength": 3}}),
            "datev.accountLength",
        ),
        (
            json!({"datev": {"accountLength": 9}}),
            "datev.accountLength",
        ),
        (
            json!({"datev": {"consultantNumber": 1000}}),
            "datev.consultantNumber",
        ),
        (
            json!({"datev": {"clientNumber": 100000}}),
            "datev.clientNumber",
        ),
        (json!({"datev": {"clientNumber": 0}}), "datev.clientNumber"),
        (
            json!({"datev": {"fiscalYearStart": "02-29"}}),
            "datev.fiscalYearStart",
        ),
        (
            json!({"datev": {"fiscalYearStart": "2026-01-01"}}),
            "datev.fiscalYearStart",
        ),
        (
            json!({"datev": {"fiscalYearStart": "1-1"}}),
            "datev.fiscalYearStart",
        ),
    ] {
        let e = FinanceAccounts::parse(&body).unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (422, Some(field)),
            "{body}: {e:?}"
        );
    }
    // A receivable may be a debtor (one digit longer than a G/L account), a chargeback not.
    assert!(FinanceAccounts::parse(&json!({"receivables": "12345", "refunds": "1700"})).is_ok());
}
