//! Property and worked-example tests of the order's money rules. Compiled only for tests
//! (`#[cfg(test)]` in order.rs); the `unwrap`s parse constant literals and fixed dates.

use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn cents(c: i64) -> Money {
    Money::from_decimal(Decimal::new(c, 2))
}

proptest! {
    #[test]
    fn allocation_always_sums_exactly_to_the_discount(
        weights in proptest::collection::vec(1i64..1_000_000, 1..100),
        discount_fraction in 0u32..=1000,
    ) {
        let w: Vec<Money> = weights.iter().map(|c| cents(*c)).collect();
        let total: i64 = weights.iter().sum();
        let discount = cents(total * i64::from(discount_fraction) / 1000);
        let shares = allocate(discount, &w);
        prop_assert_eq!(shares.iter().copied().sum::<Money>(), discount);
        prop_assert!(shares.iter().all(|s| !s.is_negative()));
        prop_assert!(shares.iter().zip(&w).all(|(s, w)| s <= w));
    }

    #[test]
    fn net_plus_tax_is_paid(paid in 0i64..100_000_000, rate in prop::sample::select(vec!["0", "0.05", "0.07", "0.1", "0.16", "0.19", "0.2", "0.055"])) {
        let paid = cents(paid);
        let rate: Decimal = rate.parse().unwrap();
        let tax = tax_of(paid, rate);
        let net = paid - tax;
        prop_assert_eq!(net + tax, paid);
        prop_assert!(!tax.is_negative() && tax <= paid);
    }
}

#[test]
fn germany_2020_an_order_of_june_30_shipped_july_1_is_taxed_at_16_percent() {
    use crate::catalogue::{from_body, TaxRatesInput};
    let rates = from_body::<TaxRatesInput>(serde_json::json!({"rates": [
        {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
        {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
        {"rate": "0.19", "validFrom": "2021-01-01"}]}))
    .unwrap()
    .validate("DE", "standard")
    .unwrap();
    let paid = cents(11_600);
    let ordered = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
    let shipped = NaiveDate::from_ymd_opt(2020, 7, 1).unwrap();
    let (rate_at_order, tax_at_order) = tax_on_supply(paid, &rates, ordered).unwrap();
    assert_eq!(
        (rate_at_order.to_string(), tax_at_order.to_string()),
        ("0.19".into(), "18.52".into())
    );
    let (rate, tax) = tax_on_supply(paid, &rates, shipped).unwrap();
    assert_eq!(
        (rate.to_string(), tax.to_string()),
        ("0.16".into(), "16.00".into())
    );
}

#[test]
fn rounding_edges() {
    // One cent over three equal lines: 0.01 to the first (largest, first on a tie).
    let s = allocate(cents(1), &[cents(1000), cents(1000), cents(1000)]);
    assert_eq!(
        s.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ["0.01", "0.00", "0.00"]
    );
    // 0.005 boundaries round away from zero.
    assert_eq!(tax_of(cents(105), Decimal::new(5, 2)).to_string(), "0.05"); // 1.05*0.05/1.05 = 0.05
    assert_eq!(Money::from_decimal(Decimal::new(5, 3)).to_string(), "0.01");
    assert_eq!(Money::from_decimal(Decimal::new(15, 3)).to_string(), "0.02");
    assert_eq!(Money::from_decimal(Decimal::new(25, 3)).to_string(), "0.03");
}
