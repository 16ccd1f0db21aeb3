//! Refunds (API.md "Money rules"): cumulative per order, never above what was paid, never
//! charging a shortfall to the customer, and allocated across the order's payments.

use crate::money::Money;
use crate::order::{Order, PaymentMethod};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Units of one line in a set S (returned or cancelled by the customer), and the units kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineUnits {
    /// Returned or cancelled by the customer (the set S).
    pub given_back: u32,
    /// Neither returned nor cancelled by the customer (units the system could not route count as kept).
    pub kept: u32,
}

/// `round(amount * units / quantity)`: a line amount's share for some of its units.
pub fn share(amount: Money, units: u32, quantity: u32) -> Money {
    amount.pro_rata(Decimal::from(units), Decimal::from(quantity.max(1)))
}

/// The cumulative refund target of an order: `P(S) + shipping (if nothing is kept) - W`.
/// `units[i]` belongs to `order.lines[i]`.
pub fn target(order: &Order, units: &[LineUnits]) -> Money {
    let p: Money = order
        .lines
        .iter()
        .zip(units)
        .map(|(l, u)| share(l.paid, u.given_back, l.quantity))
        .sum();
    let kept_units: u32 = units.iter().map(|u| u.kept).sum();
    let shipping = if kept_units == 0 {
        order.shipping_cost
    } else {
        Money::ZERO
    };
    p + shipping - withdrawn_discounts(order, units)
}

/// `W`: for each discount with a minimum order value that the kept units no longer reach (while
/// at least one unit is kept), its share on the kept units.
pub fn withdrawn_discounts(order: &Order, units: &[LineUnits]) -> Money {
    let kept_units: u32 = units.iter().map(|u| u.kept).sum();
    if kept_units == 0 {
        return Money::ZERO;
    }
    let kept_gross: Money = order
        .lines
        .iter()
        .zip(units)
        .map(|(l, u)| l.unit_price * u.kept)
        .sum();
    order
        .discounts
        .iter()
        .filter(|d| d.min_order_value.is_some_and(|min| kept_gross < min))
        .map(|d| {
            order
                .lines
                .iter()
                .zip(units)
                .map(|(l, u)| {
                    let line_share = l
                        .discount_shares
                        .iter()
                        .filter(|s| s.code == d.code)
                        .map(|s| s.amount)
                        .sum();
                    share(line_share, u.kept, l.quantity)
                })
                .sum::<Money>()
        })
        .sum()
}

/// The next refund: what the target exceeds the refunds so far by, never negative.
pub fn next_refund(target: Money, refunded_so_far: Money) -> Money {
    let r = target - refunded_so_far;
    if r.is_negative() {
        Money::ZERO
    } else {
        r
    }
}

/// A refund recorded on an order: how much, to which payments, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    pub allocation: Vec<RefundShare>,
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// A goodwill credit stands outside the cumulative rule (see `settle`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub goodwill: bool,
}

/// A refund's part for one payment (`payment` is its index in the order's payments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundShare {
    pub method: PaymentMethod,
    pub amount: Money,
    pub payment: usize,
}

/// What each payment of the order can still take back: paid - refunded - charged back, from
/// the order's ledger.
pub fn refundable(order: &Order) -> Vec<Refundable> {
    crate::ledger::balances(order)
        .payments
        .iter()
        .map(|p| Refundable {
            method: p.method,
            remaining: p.remaining(),
        })
        .collect()
}

/// The units of each line as the refund rules see them, from the order's quantities.
pub fn line_units(order: &Order) -> Vec<LineUnits> {
    order
        .lines
        .iter()
        .map(|l| LineUnits {
            given_back: l.quantities.returned + l.quantities.cancelled,
            kept: l.quantity - l.quantities.returned - l.cancelled_by_customer,
        })
        .collect()
}

/// A new refund id: time-ordered (UUID v7).
pub fn new_refund_id(uuid_v7_simple: impl std::fmt::Display) -> String {
    format!("ref_{uuid_v7_simple}")
}

/// Records the refund the order's current quantities call for (nothing when none is due),
/// allocated by `policy`; the totals' `refunded` and `due` follow.
pub fn settle(
    order: &mut Order,
    policy: Allocation,
    id: String,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Refund> {
    let units = line_units(order);
    // Goodwill is not part of the cumulative rule's "refunded so far"; but nothing goes back
    // beyond what the payments still hold (goodwill and chargebacks already took theirs).
    let refunded_so_far: Money = order
        .refunds
        .iter()
        .filter(|r| !r.goodwill)
        .map(|r| r.amount)
        .sum();
    let payments = refundable(order);
    let holding: Money = payments.iter().map(|p| p.remaining).sum();
    let amount = next_refund(target(order, &units), refunded_so_far).min(holding);
    if amount == Money::ZERO {
        return None;
    }
    let shares = allocate_refund(amount, &payments, policy);
    let allocation: Vec<RefundShare> = shares
        .iter()
        .enumerate()
        .filter(|(_, a)| **a != Money::ZERO)
        .map(|(i, a)| RefundShare {
            method: payments[i].method,
            amount: *a,
            payment: i,
        })
        .collect();
    let refund = Refund {
        id,
        amount,
        allocation,
        reason: reason.to_string(),
        created_at: now,
        goodwill: false,
    };
    // The ledger derives `refunded` and `due` (an invoice share first reduces the receivable).
    crate::ledger::record_refund(order, &refund, crate::ledger::LedgerKind::Refund);
    order.refunds.push(refund.clone());
    Some(refund)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    #[default]
    ProRata,
    CashFirst,
    PointsFirst,
}

/// How much each payment can still take back: paid - refunded - charged back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refundable {
    pub method: PaymentMethod,
    pub remaining: Money,
}

fn rank(method: PaymentMethod, policy: Allocation) -> u8 {
    use PaymentMethod::*;
    match policy {
        Allocation::ProRata => 0,
        Allocation::CashFirst => match method {
            Card | Paypal => 0,
            GiftCard => 1,
            BonusPoints => 2,
            Invoice => 3,
        },
        Allocation::PointsFirst => match method {
            BonusPoints => 0,
            GiftCard => 1,
            Card | Paypal => 2,
            Invoice => 3,
        },
    }
}

/// Splits `amount` over the payments (same order as given). Pro rata uses the remaining amounts
/// as weights (cents remainder to the largest, first on a tie); the two priority policies fill
/// payments in their order. Never gives a payment more than it has left; `amount` above the
/// total remaining is capped (the caller never refunds more than was paid).
pub fn allocate_refund(amount: Money, payments: &[Refundable], policy: Allocation) -> Vec<Money> {
    let total: Money = payments.iter().map(|p| p.remaining).sum();
    let amount = amount.min(total);
    if policy == Allocation::ProRata {
        let weights: Vec<Money> = payments.iter().map(|p| p.remaining).collect();
        return crate::order::allocate(amount, &weights);
    }
    let mut order: Vec<usize> = (0..payments.len()).collect();
    order.sort_by_key(|&i| rank(payments[i].method, policy)); // stable: ties keep payment order
    let mut out = vec![Money::ZERO; payments.len()];
    let mut left = amount;
    for i in order {
        let take = left.min(payments[i].remaining);
        out[i] = take;
        left -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{from_body, ProductInput, TaxClass, TaxRates, TaxRatesInput};
    use crate::order::{OrderRequest, PricingContext};
    use chrono::{NaiveDate, Utc};
    use rust_decimal_macros::dec;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn m(d: Decimal) -> Money {
        Money::from_decimal(d)
    }

    fn order(body: serde_json::Value) -> Order {
        let mut products = BTreeMap::new();
        for sku in ["A", "B", "C"] {
            let p = from_body::<ProductInput>(
                json!({"name": sku, "taxClass": "standard", "group": "g", "sources": []}),
            )
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
            products.insert(sku.to_string(), p);
        }
        let rates: TaxRates = from_body::<TaxRatesInput>(
            json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}),
        )
        .unwrap()
        .validate("DE", "standard")
        .unwrap();
        let tax = BTreeMap::from([(("DE".to_string(), TaxClass::Standard), rates)]);
        let ctx = PricingContext {
            products: &products,
            tax_rates: &tax,
            order_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        OrderRequest::parse(&body)
            .unwrap()
            .price(&ctx, "o".into(), "c".into(), Utc::now(), "t".into())
            .unwrap()
    }

    fn base(
        lines: serde_json::Value,
        discounts: serde_json::Value,
        shipping: &str,
        total: &str,
    ) -> serde_json::Value {
        json!({"externalId": "e", "customer": {"email": "c@example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S 1", "postalCode": "1", "city": "B", "country": "DE"},
            "currency": "EUR", "lines": lines, "discounts": discounts, "shippingCost": shipping,
            "payments": [{"method": "card", "amount": total}]})
    }

    #[test]
    fn the_worked_example_refunds_add_up_to_paid() {
        let o = order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"}, {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
            json!([{"code": "SAVE5", "amount": "5.00"}]),
            "3.90",
            "63.88",
        ));
        let one = target(
            &o,
            &[
                LineUnits {
                    given_back: 1,
                    kept: 1,
                },
                LineUnits {
                    given_back: 0,
                    kept: 1,
                },
            ],
        );
        assert_eq!(next_refund(one, Money::ZERO).to_string(), "23.07");
        let two = target(
            &o,
            &[
                LineUnits {
                    given_back: 2,
                    kept: 0,
                },
                LineUnits {
                    given_back: 0,
                    kept: 1,
                },
            ],
        );
        assert_eq!(next_refund(two, one).to_string(), "23.06");
        // Everything back: all paid plus shipping.
        let all = target(
            &o,
            &[
                LineUnits {
                    given_back: 2,
                    kept: 0,
                },
                LineUnits {
                    given_back: 1,
                    kept: 0,
                },
            ],
        );
        assert_eq!(all.to_string(), "63.88");
    }

    #[test]
    fn one_then_two_then_three_units_of_an_uneven_line_add_up_exactly() {
        // 3 x 10.00 with 0.01 off: paid 29.99, not divisible by 3.
        let o = order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 3, "unitPrice": "10.00"}]),
            json!([{"code": "X", "amount": "0.01"}]),
            "0",
            "29.99",
        ));
        let mut refunded = Money::ZERO;
        let mut refunds = Vec::new();
        for back in 1..=3 {
            let t = target(
                &o,
                &[LineUnits {
                    given_back: back,
                    kept: 3 - back,
                }],
            );
            let r = next_refund(t, refunded);
            refunded += r;
            refunds.push(r.to_string());
        }
        assert_eq!(refunds, ["10.00", "9.99", "10.00"]);
        assert_eq!(refunded.to_string(), "29.99");
    }

    #[test]
    fn a_discount_whose_minimum_is_no_longer_met_is_withdrawn_from_the_refund() {
        // 2 x 30.00, 10.00 off from 50.00: returning one unit leaves 30.00 < 50.00 kept.
        let o = order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "30.00"}]),
            json!([{"code": "TEN", "amount": "10.00", "minOrderValue": "50.00"}]),
            "4.90",
            "54.90",
        ));
        let t = target(
            &o,
            &[LineUnits {
                given_back: 1,
                kept: 1,
            }],
        );
        // P = round(50.00 / 2) = 25.00; W = round(10.00 * 1 / 2) = 5.00.
        assert_eq!(t.to_string(), "20.00");
        // Returning the last unit too: nothing kept, so nothing withdrawn and shipping back.
        let t = target(
            &o,
            &[LineUnits {
                given_back: 2,
                kept: 0,
            }],
        );
        assert_eq!(t.to_string(), "54.90");
        assert_eq!(next_refund(m(dec!(10)), m(dec!(20))), Money::ZERO);
    }

    #[test]
    fn allocation_policies() {
        use PaymentMethod::*;
        let pays = [
            Refundable {
                method: Invoice,
                remaining: m(dec!(10.00)),
            },
            Refundable {
                method: BonusPoints,
                remaining: m(dec!(5.00)),
            },
            Refundable {
                method: Card,
                remaining: m(dec!(20.00)),
            },
            Refundable {
                method: GiftCard,
                remaining: m(dec!(5.00)),
            },
        ];
        let show = |v: Vec<Money>| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            show(allocate_refund(
                m(dec!(22.00)),
                &pays,
                Allocation::CashFirst
            )),
            ["0.00", "0.00", "20.00", "2.00"]
        );
        assert_eq!(
            show(allocate_refund(
                m(dec!(12.00)),
                &pays,
                Allocation::PointsFirst
            )),
            ["0.00", "5.00", "2.00", "5.00"]
        );
        assert_eq!(
            show(allocate_refund(m(dec!(10.00)), &pays, Allocation::ProRata)),
            ["2.50", "1.25", "5.00", "1.25"]
        );
        // Cents remainder to the largest remaining amount.
        let even = [
            Refundable {
                method: Card,
                remaining: m(dec!(1.00)),
            },
            Refundable {
                method: Paypal,
                remaining: m(dec!(2.00)),
            },
        ];
        assert_eq!(
            show(allocate_refund(m(dec!(0.01)), &even, Allocation::ProRata)),
            ["0.00", "0.01"]
        );
        // Never more than is left.
        assert_eq!(
            allocate_refund(m(dec!(100)), &pays, Allocation::CashFirst)
                .iter()
                .copied()
                .sum::<Money>()
                .to_string(),
            "40.00"
        );
    }
}
