use super::*;
use crate::fake::Fake;
use crate::testing::order;
use dropship_core::order::Supply;
use rust_decimal::Decimal;
use serde_json::json;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn invoice(purpose: &str, issued_on: &str) -> BookInvoice {
    BookInvoice {
        purpose: purpose.into(),
        kind: "invoice".into(),
        order_id: "o1".into(),
        issued_on: day(issued_on),
        supersedes: None,
    }
}

#[tokio::test]
async fn numbers_follow_each_other_per_year_and_a_purpose_keeps_its_own() {
    let fake = Fake::default();
    let first = book_invoice(&fake, &invoice("D1", "2026-12-30"))
        .await
        .unwrap();
    let second = book_invoice(&fake, &invoice("D2", "2026-12-31"))
        .await
        .unwrap();
    let next_year = book_invoice(&fake, &invoice("D3", "2027-01-01"))
        .await
        .unwrap();
    assert_eq!(
        [&first.number, &second.number, &next_year.number],
        ["2026-000001", "2026-000002", "2027-000001"]
    );
    assert_eq!(first.key, "documents/o1/invoice-2026-000001.pdf");
    // A redelivered job, even on another day, finds its number.
    let again = book_invoice(&fake, &invoice("D1", "2027-01-02"))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(fake.state().invoice_counters[&2027], 1);
}

#[tokio::test]
async fn a_correction_supersedes_the_invoice_in_force_once_per_shipment() {
    let fake = Fake::default();
    let correct = |shipment: &str| CorrectInvoice {
        order_id: "o1".into(),
        delivery_order_id: "D1".into(),
        shipment_id: shipment.into(),
        issued_on: day("2026-12-02"),
    };
    let err = book_correction(&fake, &correct("s1")).await.unwrap_err();
    assert!(err.to_string().contains("has no invoice yet"), "{err}");

    let original = book_invoice(&fake, &invoice("D1", "2026-11-27"))
        .await
        .unwrap();
    let first = book_correction(&fake, &correct("s1")).await.unwrap();
    assert_eq!(first.supersedes.as_deref(), Some(original.number.as_str()));
    assert_eq!(first.kind, "correction");
    fake.supersede("D1", &first.number).await.unwrap();
    // A redelivery finds the same correction, still naming the invoice it replaced.
    assert_eq!(book_correction(&fake, &correct("s1")).await.unwrap(), first);
    // The next shipment's correction replaces the first correction.
    let second = book_correction(&fake, &correct("s2")).await.unwrap();
    assert_eq!(second.supersedes.as_deref(), Some(first.number.as_str()));

    let mut o = order();
    o.delivery_order_ids = vec!["D1".into(), "D9".into()];
    assert_eq!(invoices_in_force(&fake, &o).await.unwrap(), [first.number]);
}

/// The fixture order with its 3 units shipped in s1 on 1 December, when the standard rate
/// went from 19% to 16%.
fn shipped() -> (Order, BTreeMap<(CountryCode, TaxClass), TaxRates>) {
    let mut o = order();
    o.lines[0].order_date_rate = Some(Decimal::new(19, 2));
    o.lines[0].supplies = vec![Supply {
        shipment_id: "s1".into(),
        delivery_order_id: "D1".into(),
        shipped_at: "2026-12-01T10:00:00Z".parse().unwrap(),
        units: 3,
        rate: None,
    }];
    let rates: TaxRates = serde_json::from_value(json!({"country": "DE", "taxClass": "standard",
        "rates": [{"rate": "0.19", "validFrom": "2020-01-01", "validTo": "2026-11-30"},
                  {"rate": "0.16", "validFrom": "2026-12-01"}]}))
    .unwrap();
    (
        o,
        BTreeMap::from([(
            (
                CountryCode::parse("country", "DE").unwrap(),
                TaxClass::Standard,
            ),
            rates,
        )]),
    )
}

#[tokio::test]
async fn the_rates_are_booked_again_on_a_fresh_read_when_the_order_moved() {
    let (o, rates) = shipped();
    let fake = Fake::default().with_order(o.clone()).conflicting(1);
    let store = &fake;
    let book = |order: Order| BookSupplyRates {
        order,
        shipment_id: "s1",
        supply_date: day("2026-12-01"),
        tax_rates: &rates,
    };
    let booked = book_supply_rates(store, book(o.clone())).await.unwrap();
    {
        let state = fake.state();
        assert_eq!(state.commits.len(), 1);
        let stored = &state.orders["o1"];
        assert_eq!(&booked, stored, "the answer is the order as stored");
        assert_eq!(stored.lines[0].supplies[0].rate, Some(Decimal::new(16, 2)));
        assert_ne!(
            stored.lines[0].tax, o.lines[0].tax,
            "the tax follows the rate"
        );
    }
    // Booked already: nothing to write.
    let again = book_supply_rates(store, book(booked.clone()))
        .await
        .unwrap();
    assert_eq!(again, booked);
    assert_eq!(fake.state().commits.len(), 1);
}

#[tokio::test]
async fn a_supply_in_the_order_dates_period_writes_nothing() {
    let (o, rates) = shipped();
    let fake = Fake::default().with_order(o.clone());
    let command = BookSupplyRates {
        order: o.clone(),
        shipment_id: "s1",
        supply_date: day("2026-11-30"),
        tax_rates: &rates,
    };
    assert_eq!(book_supply_rates(&fake, command).await.unwrap(), o);
    assert!(fake.state().commits.is_empty());
}
