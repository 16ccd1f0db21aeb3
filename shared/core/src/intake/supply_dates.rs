//! VAT on the supply date (docs/api.md): the hand-computed German 2020 cases. Ordered 2020-06-30 at
//! 19 %; a unit shipped from 2020-07-01 on is taxed at 16 %.

use super::fixtures::{base, date, order_2020, ship_on};
use super::*;
use rust_decimal::Decimal;
use serde_json::json;

fn show(taxes: &[PeriodTax]) -> Vec<String> {
    taxes
        .iter()
        .map(|t| format!("{} x{} net {} tax {}", t.rate, t.units, t.net, t.tax))
        .collect()
}

fn totals(o: &Order) -> Vec<String> {
    o.totals
        .tax
        .iter()
        .map(|t| format!("{} net {} tax {}", t.rate, t.net, t.tax))
        .collect()
}

#[test]
fn the_cumulative_rule_splits_paid_exactly() {
    // 100.00 over 3 units, 2 at 19 % then 1 at 16 %:
    // 19 %: round(100.00 x 2/3) - 0 = 66.67, tax round(66.67 x 0.19/1.19 = 10.6448) = 10.64;
    // 16 %: round(100.00 x 3/3) - 66.67 = 33.33, tax round(33.33 x 0.16/1.16 = 4.5972) = 4.60.
    let groups = [
        RateGroup {
            rate: Decimal::new(19, 2),
            units: 2,
        },
        RateGroup {
            rate: Decimal::new(16, 2),
            units: 1,
        },
    ];
    let t = taxes_per_period(Money::from_decimal(Decimal::new(10000, 2)), 3, &groups);
    assert_eq!(
        show(&t),
        ["0.19 x2 net 56.03 tax 10.64", "0.16 x1 net 28.73 tax 4.60"]
    );
}

#[test]
fn one_line_shipped_in_the_new_period() {
    let mut o = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
        json!([]),
        "0",
        "116.00",
    ));
    // Ordered at 19 %: round(116.00 x 0.19/1.19 = 18.5210) = 18.52.
    assert_eq!(o.lines[0].tax.to_string(), "18.52");
    // Shipped 2020-07-01 at 16 %: 116.00 x 0.16/1.16 = 16.00, net 100.00.
    ship_on(&mut o, "L1", 1, date(2020, 7, 1));
    let l = &o.lines[0];
    assert_eq!(show(&l.taxes()), ["0.16 x1 net 100.00 tax 16.00"]);
    assert_eq!(
        (l.tax_rate.to_string(), l.tax.to_string()),
        ("0.16".into(), "16.00".into())
    );
    assert_eq!(totals(&o), ["0.16 net 100.00 tax 16.00"]);
    // A unit shipped in the same period as the order date keeps the order's rate.
    let mut same = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
        json!([]),
        "0",
        "116.00",
    ));
    ship_on(&mut same, "L1", 1, date(2020, 6, 30));
    assert_eq!(same.lines[0].supplies[0].rate, None);
    assert_eq!(totals(&same), ["0.19 net 97.48 tax 18.52"]);
}

#[test]
fn a_line_split_over_two_periods() {
    // 3 x 40.00 = 120.00; 1 unit shipped 2020-07-01 (16 %), 2 still open (order date, 19 %).
    // 19 % (2 units): round(120.00 x 2/3) = 80.00, tax round(80.00 x 0.19/1.19 = 12.7731)
    //   = 12.77, net 67.23;
    // 16 % (1 unit): 120.00 - 80.00 = 40.00, tax round(40.00 x 0.16/1.16 = 5.5172) = 5.52,
    //   net 34.48. Line tax 12.77 + 5.52 = 18.29; taxRate 0.19 (2 of 3 units).
    let mut o = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 3, "unitPrice": "40.00"}]),
        json!([]),
        "0",
        "120.00",
    ));
    ship_on(&mut o, "L1", 1, date(2020, 7, 1));
    let l = &o.lines[0];
    assert_eq!(
        show(&l.taxes()),
        ["0.19 x2 net 67.23 tax 12.77", "0.16 x1 net 34.48 tax 5.52"]
    );
    assert_eq!(
        (l.tax_rate.to_string(), l.tax.to_string()),
        ("0.19".into(), "18.29".into())
    );
    assert_eq!(
        totals(&o),
        ["0.16 net 34.48 tax 5.52", "0.19 net 67.23 tax 12.77"]
    );
    // The second shipment moves a second unit: 16 % now has 2 of 3 units, and the rule
    // splits in the sequence order date first: 19 % round(120.00 x 1/3) = 40.00, tax
    // round(40.00 x 0.19/1.19 = 6.3866) = 6.39; 16 % 80.00, tax round(11.0345) = 11.03.
    ship_on(&mut o, "L1", 1, date(2020, 7, 2));
    let l = &o.lines[0];
    assert_eq!(
        show(&l.taxes()),
        ["0.19 x1 net 33.61 tax 6.39", "0.16 x2 net 68.97 tax 11.03"]
    );
    assert_eq!(
        (l.tax_rate.to_string(), l.tax.to_string()),
        ("0.16".into(), "17.42".into())
    );
}

#[test]
fn shipping_cost_is_split_over_the_rates_of_the_supplies() {
    // A 1 x 116.00 shipped at 16 %, B 1 x 119.00 still open at 19 %, shipping 5.00.
    // Paid per rate: 16 % 116.00, 19 % 119.00 (235.00). Shipping: round(5.00 x 116/235 =
    // 2.4681) = 2.47 and round(5.00 x 119/235 = 2.5319) = 2.53 (sum 5.00, no remainder).
    // Its tax: round(2.47 x 0.16/1.16 = 0.3407) = 0.34 and round(2.53 x 0.19/1.19 =
    // 0.4039) = 0.40: shippingTax 0.74. Totals: 16 % tax 16.00 + 0.34 = 16.34 on 118.47
    // (net 102.13); 19 % tax 19.00 + 0.40 = 19.40 on 121.53 (net 102.13).
    let mut o = order_2020(base(
        json!([{"lineId": "A", "sku": "A", "quantity": 1, "unitPrice": "116.00"},
               {"lineId": "B", "sku": "B", "quantity": 1, "unitPrice": "119.00"}]),
        json!([]),
        "5.00",
        "240.00",
    ));
    // Before: everything at 19 %, shipping round(5.00 x 0.19/1.19 = 0.7983) = 0.80.
    assert_eq!(o.totals.shipping_tax.to_string(), "0.80");
    ship_on(&mut o, "A", 1, date(2020, 7, 1));
    assert_eq!(o.totals.shipping_tax.to_string(), "0.74");
    assert_eq!(
        totals(&o),
        ["0.16 net 102.13 tax 16.34", "0.19 net 102.13 tax 19.40"]
    );
}

#[test]
fn a_discounted_line_shipped_in_two_periods() {
    // docs/api.md's worked example ordered 2020-06-30: L1 2 x 24.99 paid 46.13, L2 1 x 15.00
    // paid 13.85, shipping 3.90. One unit of L1 ships 2020-07-01 (16 %).
    // L1 19 % (1 unit): round(46.13 x 1/2 = 23.065) = 23.07, tax round(3.6834) = 3.68;
    // L1 16 % (1 unit): 46.13 - 23.07 = 23.06, tax round(23.06 x 0.16/1.16 = 3.1807) = 3.18.
    // L1 tax 6.86, taxRate 0.16 (1 unit each: the later period). L2 2.21 at 19 %.
    // Shipping over 16 % 23.06 / 19 % 36.92: round(3.90 x 23.06/59.98 = 1.4994) = 1.50 and
    // round(2.4006) = 2.40; tax round(0.2069) = 0.21 and round(0.3832) = 0.38 (0.59).
    // Totals: 16 % tax 3.18 + 0.21 = 3.39 on 24.56 (net 21.17); 19 % tax 3.68 + 2.21 +
    // 0.38 = 6.27 on 39.32 (net 33.05).
    let mut o = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
        json!([{"code": "SAVE5", "amount": "5.00"}]),
        "3.90",
        "63.88",
    ));
    ship_on(&mut o, "L1", 1, date(2020, 7, 1));
    let l1 = &o.lines[0];
    assert_eq!(
        show(&l1.taxes()),
        ["0.19 x1 net 19.39 tax 3.68", "0.16 x1 net 19.88 tax 3.18"]
    );
    assert_eq!(
        (l1.tax_rate.to_string(), l1.tax.to_string()),
        ("0.16".into(), "6.86".into())
    );
    assert_eq!(o.lines[1].tax.to_string(), "2.21");
    assert_eq!(o.totals.shipping_tax.to_string(), "0.59");
    assert_eq!(
        totals(&o),
        ["0.16 net 21.17 tax 3.39", "0.19 net 33.05 tax 6.27"]
    );
}

#[test]
fn orders_stored_before_supplies_were_recorded_still_read() {
    let o = order_2020(base(
        json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
        json!([]),
        "0",
        "116.00",
    ));
    let mut v = serde_json::to_value(&o).unwrap();
    let line = v["lines"][0].as_object_mut().unwrap();
    line.remove("orderDateRate");
    line.remove("supplies");
    let old: Order = serde_json::from_value(v).unwrap();
    assert_eq!(old.lines[0].rate_at_order_date().to_string(), "0.19");
    assert_eq!(show(&old.lines[0].taxes()), ["0.19 x1 net 97.48 tax 18.52"]);
}
