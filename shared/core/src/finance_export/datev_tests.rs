//! The DATEV file read back as an independent reader would: decoded from Windows-1252, split by
//! the csv crate at `;`, the header record's fields checked by position against the published
//! format, each booking's figures against the postings.

use super::datev::{belegfeld, col, exact_pieces, Buchungsstapel, COLUMNS};
use super::fixtures::*;
use super::*;
use crate::money::tax_of;
use chrono::TimeZone;
use serde_json::json;

fn write(
    postings: &[Posting],
    accounts: &FinanceAccounts,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<u8>, crate::ApiError> {
    Buchungsstapel {
        from,
        to,
        created_at: chrono::Utc.with_ymd_and_hms(2026, 4, 1, 8, 30, 15).unwrap(),
        accounts,
        postings,
    }
    .write()
}

/// The file's records, decoded and split as DATEV reads them.
fn read(bytes: &[u8]) -> Vec<Vec<String>> {
    let (text, had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    assert!(!had_errors);
    assert!(text.contains("\r\n"));
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn march() -> (NaiveDate, NaiveDate) {
    (day(2026, 3, 1), day(2026, 3, 31))
}

#[test]
fn the_header_record_has_the_published_fields_in_their_places() {
    let o = worked_example(json!(null));
    let ps = vec![document_posting(&invoice_of(&o, "2026-000001", day(2026, 3, 2))).unwrap()];
    let (from, to) = march();
    let bytes = write(&ps, &accounts(), from, to).unwrap();
    // Byte for byte the shape of DATEV's own sample header (Musterdaten DATEV-Format,
    // EXTF_Buchungsstapel.csv), only our values in its fields: timestamp, period, name, and
    // no Diktatkürzel.
    let sample = "\"EXTF\";700;21;\"Buchungsstapel\";13;20240130140440439;;\"RE\";\"\";\"\";29098;55003;20240101;4;20240101;20240831;\"Buchungsstapel\";\"WD\";1;0;0;\"EUR\";;\"\";;;\"03\";;;\"\";\"\"";
    let ours = sample
        .replace("20240130140440439", "20260401083015000")
        .replace(
            "20240101;4;20240101;20240831",
            "20260101;4;20260301;20260331",
        )
        .replace(
            "\"Buchungsstapel\";\"WD\"",
            "\"Finanzexport 20260301-20260331\";\"\"",
        );
    let first_line = bytes.split(|b| *b == b'\r').next().unwrap();
    assert_eq!(std::str::from_utf8(first_line).unwrap(), ours);
    let records = read(&bytes);
    let h = &records[0];
    assert_eq!(h.len(), 31, "{h:?}");
    let expected: [(usize, &str); 21] = [
        (0, "EXTF"),
        (1, "700"),
        (2, "21"),
        (3, "Buchungsstapel"),
        (4, "13"),
        (5, "20260401083015000"),
        (6, ""),
        (7, "RE"),
        (10, "29098"),
        (11, "55003"),
        (12, "20260101"),
        (13, "4"),
        (14, "20260301"),
        (15, "20260331"),
        (16, "Finanzexport 20260301-20260331"),
        (18, "1"),
        (19, "0"),
        (20, "0"),
        (21, "EUR"),
        (26, "03"),
        (30, ""),
    ];
    for (i, v) in expected {
        assert_eq!(h[i], v, "header field {}", i + 1);
    }
    assert_eq!(records[1], COLUMNS.map(String::from).to_vec());
    assert_eq!(COLUMNS.len(), 125);
    for (i, name) in [
        (col::UMSATZ, "Umsatz (ohne Soll/Haben-Kz)"),
        (col::SOLL_HABEN, "Soll/Haben-Kennzeichen"),
        (col::KONTO, "Konto"),
        (col::GEGENKONTO, "Gegenkonto (ohne BU-Schlüssel)"),
        (col::BELEGDATUM, "Belegdatum"),
        (col::BELEGFELD_1, "Belegfeld 1"),
        (col::BUCHUNGSTEXT, "Buchungstext"),
        (col::EU_LAND, "EU-Land u. UStID (Bestimmung)"),
        (col::EU_STEUERSATZ, "EU-Steuersatz (Bestimmung)"),
        (col::AUFTRAGSNUMMER, "Auftragsnummer"),
        (col::LEISTUNGSDATUM, "Leistungsdatum"),
    ] {
        assert_eq!(COLUMNS[i], name);
    }
    // Fiscal year from July: March 2026 belongs to the one beginning 2025-07-01.
    let mut july = accounts();
    july.datev.fiscal_year_start = "07-01".into();
    july.datev.account_length = 5;
    let h = &read(&write(&ps, &july, from, to).unwrap())[0];
    assert_eq!((h[12].as_str(), h[13].as_str()), ("20250701", "5"));
}

#[test]
fn every_document_line_and_shipping_share_is_one_booking_on_its_revenue_account() {
    let mut o =
        worked_example(json!([{"method": "card", "amount": "63.88", "reference": "psp-1"}]));
    return_units(&mut o, "L1", 1, "ref_1", noon(2026, 3, 10));
    let mut ps = vec![
        document_posting(&invoice_of(&o, "2026-000001", day(2026, 3, 2))).unwrap(),
        document_posting(&credit_of(&o, "ref_1", "2026-000002", day(2026, 3, 10))).unwrap(),
    ];
    ps.extend(ledger_postings(&o, TZ));
    let (from, to) = march();
    let records = read(&write(&ps, &accounts(), from, to).unwrap());
    let bookings: Vec<Vec<String>> = records[2..]
        .iter()
        .inspect(|b| assert_eq!(b.len(), 125))
        .map(|b| {
            [
                col::UMSATZ,
                col::SOLL_HABEN,
                col::KONTO,
                col::GEGENKONTO,
                col::BELEGDATUM,
                col::BELEGFELD_1,
                col::BUCHUNGSTEXT,
                col::AUFTRAGSNUMMER,
                col::LEISTUNGSDATUM,
            ]
            .iter()
            .map(|&i| b[i].clone())
            .collect()
        })
        .collect();
    let b = |v: [&str; 9]| v.map(String::from).to_vec();
    assert_eq!(
        bookings,
        vec![
            b([
                "46,13",
                "S",
                "10000",
                "8400",
                "0203",
                "2026-000001",
                "Rechnung WEB-1001, 2 x A",
                "WEB-1001",
                "02032026"
            ]),
            b([
                "13,85",
                "S",
                "10000",
                "8400",
                "0203",
                "2026-000001",
                "Rechnung WEB-1001, 1 x B",
                "WEB-1001",
                "02032026"
            ]),
            b([
                "3,90",
                "S",
                "10000",
                "8400",
                "0203",
                "2026-000001",
                "Rechnung WEB-1001, Versand",
                "WEB-1001",
                "02032026"
            ]),
            // The credit's tax 3.69 is not what DATEV derives from 23.07 (3.68): split so it
            // is (0.47 -> 0.08 and 22.60 -> 3.61).
            b([
                "0,47",
                "H",
                "10000",
                "8400",
                "1003",
                "2026-000002",
                "Rechnungskorrektur Erstattung WEB-1001, Erstattung (return)",
                "WEB-1001",
                ""
            ]),
            b([
                "22,60",
                "H",
                "10000",
                "8400",
                "1003",
                "2026-000002",
                "Rechnungskorrektur Erstattung WEB-1001, Erstattung (return)",
                "WEB-1001",
                ""
            ]),
            b([
                "63,88",
                "S",
                "1360",
                "10000",
                "0203",
                "pay-0",
                "Zahlungseingang WEB-1001 psp-1, card",
                "WEB-1001",
                ""
            ]),
            b([
                "23,07",
                "H",
                "1360",
                "10000",
                "1003",
                "ref-1",
                "Erstattung WEB-1001, card",
                "WEB-1001",
                ""
            ]),
        ]
    );
    // What DATEV derives from each revenue booking adds up to the documents' tax per rate.
    let derived: Money = records[2..]
        .iter()
        .filter(|r| r[col::GEGENKONTO] == "8400")
        .map(|r| {
            let gross = Money::from_decimal(r[col::UMSATZ].replace(',', ".").parse().unwrap());
            let t = tax_of(gross, "0.19".parse().unwrap());
            if r[col::SOLL_HABEN] == "S" {
                t
            } else {
                -t
            }
        })
        .sum();
    let t = totals_per_rate(&ps);
    let rt = t.values().next().unwrap();
    assert_eq!(derived, rt.invoiced.tax - rt.credited.tax);
    assert_eq!(derived.to_string(), "6.51");
}

#[test]
fn texts_are_windows_1252_and_clipped_and_other_eu_sales_name_country_and_rate() {
    let mut p = posting(
        PostingKind::Invoice,
        "2026-000009",
        vec![revenue_line(
            "120.00",
            "0.20",
            &format!("1 x Größe \"XL\" Jacke 😀 {}", "x".repeat(80)),
        )],
    );
    p.country = "AT".try_into().unwrap();
    let mut gr = posting(
        PostingKind::Invoice,
        "ref_0123456789abcdef0123456789abcdef-1",
        vec![revenue_line("12.40", "0.24", "y")],
    );
    gr.country = "GR".try_into().unwrap();
    let (from, to) = march();
    let bytes = write(&[p, gr], &accounts(), from, to).unwrap();
    // ö is one byte (0xF6) in Windows-1252; the emoji, which it lacks, became '?'.
    assert!(bytes.contains(&0xF6));
    let records = read(&bytes);
    let (at, gr) = (&records[2], &records[3]);
    assert_eq!(at[col::GEGENKONTO], "8320");
    assert_eq!(
        (at[col::EU_LAND].as_str(), at[col::EU_STEUERSATZ].as_str()),
        ("AT", "20,00")
    );
    let text = &at[col::BUCHUNGSTEXT];
    assert_eq!(text.chars().count(), 60);
    assert!(
        text.starts_with("Rechnung WEB-1001, 1 x Größe \"XL\" Jacke ? xx"),
        "{text}"
    );
    assert_eq!(
        (gr[col::EU_LAND].as_str(), gr[col::EU_STEUERSATZ].as_str()),
        ("EL", "24,00")
    );
    // 38 characters: the last 36.
    assert_eq!(gr[col::BELEGFELD_1], "f-0123456789abcdef0123456789abcdef-1");
    assert_eq!(belegfeld("2026-000001"), "2026-000001");
    assert_eq!(belegfeld("led_01 9"), "led-01-9");
}

#[test]
fn a_correction_books_back_with_h_and_forward_with_s() {
    let p = posting(
        PostingKind::Correction,
        "2020-000002",
        vec![
            revenue_line("-46.13", "0.19", "2 x A"),
            revenue_line("23.06", "0.16", "1 x A"),
        ],
    );
    let records = read(&write(&[p], &accounts(), day(2026, 3, 1), day(2026, 3, 31)).unwrap());
    let sh: Vec<(&str, &str, &str)> = records[2..]
        .iter()
        .map(|r| {
            (
                r[col::UMSATZ].as_str(),
                r[col::SOLL_HABEN].as_str(),
                r[col::GEGENKONTO].as_str(),
            )
        })
        .collect();
    assert_eq!(sh, [("46,13", "H", "8400"), ("23,06", "S", "8400")]);
}

#[test]
fn a_datev_export_is_refused_across_fiscal_years_in_another_currency_or_without_numbers() {
    let eur = posting(
        PostingKind::Invoice,
        "1",
        vec![revenue_line("10.00", "0.19", "x")],
    );
    let mut usd = eur.clone();
    usd.currency = "USD".try_into().unwrap();
    let mut july = accounts();
    july.datev.fiscal_year_start = "07-01".into();
    let mut unnumbered = accounts();
    unnumbered.datev.client_number = None;
    let ok = write(
        std::slice::from_ref(&eur),
        &july,
        day(2026, 3, 1),
        day(2026, 6, 30),
    );
    assert!(ok.is_ok());
    for (postings, accounts, from, to, field) in [
        (
            vec![eur.clone()],
            july.clone(),
            day(2026, 6, 1),
            day(2026, 7, 31),
            "to",
        ),
        (
            vec![eur.clone()],
            accounts(),
            day(2025, 12, 1),
            day(2026, 3, 31),
            "to",
        ),
        (
            vec![eur.clone()],
            accounts(),
            day(2026, 3, 31),
            day(2026, 3, 1),
            "to",
        ),
        (
            vec![eur.clone(), usd],
            accounts(),
            day(2026, 3, 1),
            day(2026, 3, 31),
            "format",
        ),
        (
            vec![eur],
            unnumbered,
            day(2026, 3, 1),
            day(2026, 3, 31),
            "datev.clientNumber",
        ),
    ] {
        let e = write(&postings, &accounts, from, to).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some(field)), "{e:?}");
    }
}

#[test]
fn exact_pieces_give_datev_the_documents_tax() {
    let m = |s: &str| Money::from_decimal(s.parse().unwrap());
    for (gross, tax, rate) in [
        ("23.07", "3.69", "0.19"),
        ("23.07", "3.68", "0.19"),
        ("100.00", "15.98", "0.19"),
        ("100.00", "15.95", "0.19"),
        ("0.05", "0.01", "0.19"),
        ("-23.07", "-3.69", "0.19"),
        ("10.70", "0.71", "0.07"),
    ] {
        let rate: Decimal = rate.parse().unwrap();
        let pieces = exact_pieces(m(gross), m(tax), rate);
        let sum_g: Money = pieces.iter().map(|p| p.0).sum();
        let sum_t: Money = pieces.iter().map(|p| p.1).sum();
        assert_eq!(sum_g, m(gross), "{gross} {tax}: {pieces:?}");
        for (g, t) in &pieces {
            let derived = if g.is_negative() {
                -tax_of(-*g, rate)
            } else {
                tax_of(*g, rate)
            };
            assert_eq!(*t, derived, "{gross} {tax}: {pieces:?}");
        }
        assert_eq!(sum_t, m(tax), "{gross} {tax}: {pieces:?}");
    }
    assert_eq!(
        exact_pieces(m("23.07"), m("3.68"), Decimal::new(19, 2)).len(),
        1
    );
    // No rounding makes tax on a 0 % line: DATEV's 0.00 stays.
    assert_eq!(
        exact_pieces(m("5.00"), m("0.01"), Decimal::ZERO),
        [(m("5.00"), m("0.00"))]
    );
}
