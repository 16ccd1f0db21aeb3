//! Refunds (docs/api.md "Money rules"): cumulative per order, never above what was paid, never
//! charging a shortfall to the customer, and allocated across the order's payments.

use crate::money::Money;
use crate::order::{Order, OrderLine, PaymentMethod};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Net and tax per rate, at the rates of the original supply.
    #[serde(default)]
    pub tax: Vec<crate::order::TaxLine>,
}

/// A line's given-back units by the rate of their original supply. Cancelled units were never
/// supplied: the order date's rate. Returned units are taken from the latest shipments first (a
/// customer sends back what arrived last; it also needs no knowledge of which parcel a return
/// came from); returned units older than the recorded supplies count at the order date's rate.
pub fn given_back_by_rate(line: &OrderLine, given_back: u32) -> Vec<(Decimal, u32)> {
    let cancelled = line.quantities.cancelled.min(given_back);
    let mut returned = given_back - cancelled;
    let mut out = vec![(line.rate_at_order_date(), cancelled)];
    let mut latest_first: Vec<&crate::order::Supply> = line.supplies.iter().collect();
    latest_first.sort_by_key(|s| std::cmp::Reverse(s.shipped_at));
    for s in latest_first {
        let n = s.units.min(returned);
        returned -= n;
        out.push((line.rate_of(s), n));
    }
    out[0].1 += returned;
    out
}

/// Per rate, what the given-back units paid and the tax they carried, the cumulative rule of
/// docs/api.md applied to each rate period of each line (`round(period's paid x units / period's
/// units)`, and the same from the period's tax), plus the shipping cost's per-rate parts when no
/// unit is kept (split as the order's totals split it).
fn given_back_per_rate(order: &Order, units: &[LineUnits]) -> BTreeMap<Decimal, (Money, Money)> {
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for (l, u) in order.lines.iter().zip(units) {
        let mut back: BTreeMap<Decimal, u32> = BTreeMap::new();
        for (rate, n) in given_back_by_rate(l, u.given_back) {
            *back.entry(rate).or_default() += n;
        }
        for p in l.taxes() {
            let n = back.get(&p.rate).copied().unwrap_or(0).min(p.units);
            let e = by_rate.entry(p.rate).or_default();
            e.0 += share(p.gross(), n, p.units);
            e.1 += share(p.tax, n, p.units);
        }
    }
    if units.iter().all(|u| u.kept == 0) && order.shipping_cost != Money::ZERO {
        let mut paid: BTreeMap<Decimal, Money> = BTreeMap::new();
        for p in order.lines.iter().flat_map(OrderLine::taxes) {
            *paid.entry(p.rate).or_default() += p.gross();
        }
        let weights: Vec<Money> = paid.values().copied().collect();
        let parts = crate::order::allocate(order.shipping_cost, &weights);
        for (rate, part) in paid.keys().zip(parts) {
            let e = by_rate.entry(*rate).or_default();
            e.0 += part;
            e.1 += crate::order::tax_of(part, *rate);
        }
    }
    by_rate
}

/// A refund amount's net and tax per rate, at the rate of each unit's original supply.
///
/// Like the amount, the tax is cumulative (docs/api.md: "computed the same way from the lines'
/// tax"): per rate, what the given-back units carried so far minus what earlier refunds booked
/// back at that rate. When the refund is exactly that increment (the usual case), every unit's
/// tax goes back as its invoice showed it, to the cent, once all units are back. When it is not
/// (a withdrawn discount, a cap by what the payments still hold, goodwill: nothing given back),
/// the amount is split pro rata over the increments (over all units' paid when there are
/// none), each part taxed at its rate. The parts always add up to the amount.
pub fn tax_breakdown(
    order: &Order,
    amount: Money,
    units: &[LineUnits],
) -> Vec<crate::order::TaxLine> {
    let cumulative = given_back_per_rate(order, units);
    let mut booked: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for t in order
        .refunds
        .iter()
        .filter(|r| !r.goodwill)
        .flat_map(|r| &r.tax)
    {
        let e = booked.entry(t.rate.normalize()).or_default();
        e.0 += t.net + t.tax;
        e.1 += t.tax;
    }
    let increments: BTreeMap<Decimal, (Money, Money)> = cumulative
        .iter()
        .map(|(rate, (gross, tax))| {
            let (g, t) = booked.get(rate).copied().unwrap_or_default();
            (*rate, (*gross - g, *tax - t))
        })
        .filter(|(_, (gross, _))| *gross != Money::ZERO)
        .collect();
    let exact = increments.values().map(|(g, _)| *g).sum::<Money>() == amount
        && increments
            .values()
            .all(|(g, t)| !g.is_negative() && !t.is_negative() && t <= g);
    if exact {
        return increments
            .into_iter()
            .map(|(rate, (gross, tax))| crate::order::TaxLine {
                rate,
                net: gross - tax,
                tax,
            })
            .collect();
    }
    let mut weights: BTreeMap<Decimal, Money> = increments
        .iter()
        .filter(|(_, (g, _))| !g.is_negative())
        .map(|(rate, (g, _))| (*rate, *g))
        .collect();
    if weights.values().all(|m| *m == Money::ZERO) {
        weights.clear();
        for p in order.lines.iter().flat_map(OrderLine::taxes) {
            *weights.entry(p.rate).or_default() += p.gross();
        }
    }
    let w: Vec<Money> = weights.values().copied().collect();
    let parts = crate::order::allocate(amount, &w);
    weights
        .keys()
        .zip(parts)
        .filter(|(_, gross)| *gross != Money::ZERO)
        .map(|(rate, gross)| {
            let tax = crate::order::tax_of(gross, *rate);
            crate::order::TaxLine {
                rate: *rate,
                net: gross - tax,
                tax,
            }
        })
        .collect()
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
    let allocation = refund_shares(&payments, &shares);
    let refund = Refund {
        id,
        amount,
        allocation,
        reason: reason.to_string(),
        created_at: now,
        goodwill: false,
        tax: tax_breakdown(order, amount, &units),
    };
    // The ledger derives `refunded` and `due` (an invoice share first reduces the receivable).
    crate::ledger::record_refund(order, &refund, crate::ledger::LedgerKind::Refund);
    order.refunds.push(refund.clone());
    Some(refund)
}

/// The non-zero parts of an allocation, each naming its payment.
fn refund_shares(payments: &[Refundable], shares: &[Money]) -> Vec<RefundShare> {
    shares
        .iter()
        .enumerate()
        .filter(|(_, a)| **a != Money::ZERO)
        .map(|(i, a)| RefundShare {
            method: payments[i].method,
            amount: *a,
            payment: i,
        })
        .collect()
}

/// A goodwill credit (`{amount, reason}`): at most what was paid minus what went back already
/// (refunds, goodwill, chargebacks), allocated like a refund and entered in the ledger.
pub fn goodwill(
    order: &mut Order,
    v: &serde_json::Value,
    policy: Allocation,
    id: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Refund, crate::ApiError> {
    let amount = crate::ledger::money_field(v, "amount")?;
    let reason = match v.get("reason").and_then(serde_json::Value::as_str) {
        Some(r) if !r.trim().is_empty() => {
            crate::ids::check_text("reason", r, 1000)?;
            r.to_string()
        }
        _ => return Err(crate::ApiError::invalid("reason", "reason is required")),
    };
    let payments = refundable(order);
    let holding: Money = payments.iter().map(|p| p.remaining).sum();
    if amount > holding {
        return Err(crate::ApiError::invalid(
            "amount",
            format!("at most {holding} (paid minus refunded) can be credited"),
        ));
    }
    let shares = allocate_refund(amount, &payments, policy);
    let refund = Refund {
        id,
        amount,
        allocation: refund_shares(&payments, &shares),
        reason,
        created_at: now,
        goodwill: true,
        tax: tax_breakdown(
            order,
            amount,
            &vec![LineUnits::default(); order.lines.len()],
        ),
    };
    crate::ledger::record_refund(order, &refund, crate::ledger::LedgerKind::Goodwill);
    order.refunds.push(refund.clone());
    Ok(refund)
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
    use chrono::Utc;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn m(d: Decimal) -> Money {
        Money::from_decimal(d)
    }

    use crate::order::fixtures::{base, order};

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

    /// One step of a case: units handed back per line (cumulative per step), or a money event.
    enum Step {
        Return(&'static [(&'static str, u32)], &'static str),
        Received(&'static str),
        Goodwill(&'static str),
    }

    struct Case {
        name: &'static str,
        lines: serde_json::Value,
        discounts: serde_json::Value,
        shipping: &'static str,
        payments: serde_json::Value,
        policy: Allocation,
        steps: Vec<Step>,
        /// Per refund: amount and the allocation per payment index ("0.00" where nothing).
        allocations: Vec<Vec<&'static str>>,
        refunded: &'static str,
        due: &'static str,
    }

    fn worked_lines() -> serde_json::Value {
        json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
               {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}])
    }

    fn run(case: &Case) {
        let mut body = base(
            case.lines.clone(),
            case.discounts.clone(),
            case.shipping,
            "0",
        );
        body["payments"] = case.payments.clone();
        let mut o = order(body);
        let mut refunds = Vec::new();
        let mut n = 0;
        for step in &case.steps {
            match step {
                Step::Return(units, expected) => {
                    for (line, k) in *units {
                        let l = o.lines.iter_mut().find(|l| l.line_id == *line).unwrap();
                        l.quantities.returned += k;
                    }
                    n += 1;
                    let got = settle(&mut o, case.policy, format!("r{n}"), "return", Utc::now())
                        .map(|r| r.amount.to_string())
                        .unwrap_or_else(|| "0.00".into());
                    assert_eq!(&got, expected, "{}: refund {n}", case.name);
                    if let Some(r) = o.refunds.last().filter(|r| r.id == format!("r{n}")) {
                        refunds.push(r.clone());
                    }
                }
                Step::Received(amount) => {
                    crate::ledger::receive_payment(
                        &mut o,
                        &json!({"amount": amount, "reference": "bank-1"}),
                        "rcv".into(),
                        Utc::now(),
                    )
                    .unwrap();
                }
                Step::Goodwill(amount) => {
                    goodwill(
                        &mut o,
                        &json!({"amount": amount, "reason": "late"}),
                        case.policy,
                        "gw".into(),
                        Utc::now(),
                    )
                    .unwrap();
                }
            }
        }
        let allocations: Vec<Vec<String>> = refunds
            .iter()
            .map(|r| {
                (0..o.payments.len())
                    .map(|i| {
                        r.allocation
                            .iter()
                            .filter(|s| s.payment == i)
                            .map(|s| s.amount)
                            .sum::<Money>()
                            .to_string()
                    })
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<String>> = case
            .allocations
            .iter()
            .map(|a| a.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(allocations, expected, "{}: allocations", case.name);
        assert_eq!(
            o.totals.refunded.to_string(),
            case.refunded,
            "{}: refunded",
            case.name
        );
        assert_eq!(o.totals.due.to_string(), case.due, "{}: due", case.name);
        // Never more back than was paid.
        let paid: Money = o.payments.iter().map(|p| p.amount).sum();
        assert!(o.totals.refunded <= paid, "{}", case.name);
    }

    #[test]
    fn refunds_by_hand_computed_cases() {
        let card = |a: &str| json!([{"method": "card", "amount": a, "reference": "c-1"}]);
        let cases = vec![
            Case {
                // Worked example: one of two units of L1 after SAVE5.
                name: "partial return of a discounted order",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: card("63.88"),
                policy: Allocation::ProRata,
                steps: vec![Step::Return(&[("L1", 1)], "23.07")],
                allocations: vec![vec!["23.07"]],
                refunded: "23.07",
                due: "0.00",
            },
            Case {
                // 2 x 30.00, TEN off from 50.00: one back leaves 30.00 kept, so TEN's share on
                // the kept unit (5.00) is withdrawn: 25.00 - 5.00. The second brings it back
                // with the shipping: 54.90 - 20.00.
                name: "minimum order value no longer met, then everything back",
                lines: json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "30.00"}]),
                discounts: json!([{"code": "TEN", "amount": "10.00", "minOrderValue": "50.00"}]),
                shipping: "4.90",
                payments: card("54.90"),
                policy: Allocation::ProRata,
                steps: vec![
                    Step::Return(&[("L1", 1)], "20.00"),
                    Step::Return(&[("L1", 1)], "34.90"),
                ],
                allocations: vec![vec!["20.00"], vec!["34.90"]],
                refunded: "54.90",
                due: "0.00",
            },
            Case {
                name: "full return including shipping",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: card("63.88"),
                policy: Allocation::ProRata,
                steps: vec![Step::Return(&[("L1", 2), ("L2", 1)], "63.88")],
                allocations: vec![vec!["63.88"]],
                refunded: "63.88",
                due: "0.00",
            },
            Case {
                // 23.07 over card 50.00 and points 13.88: 18.06 + 5.01.
                name: "card and bonus points, pro rata",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: json!([{"method": "card", "amount": "50.00"}, {"method": "bonus_points", "amount": "13.88"}]),
                policy: Allocation::ProRata,
                steps: vec![Step::Return(&[("L1", 1)], "23.07")],
                allocations: vec![vec!["18.06", "5.01"]],
                refunded: "23.07",
                due: "0.00",
            },
            Case {
                name: "card and bonus points, cash first",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: json!([{"method": "bonus_points", "amount": "13.88"}, {"method": "card", "amount": "50.00"}]),
                policy: Allocation::CashFirst,
                steps: vec![Step::Return(&[("L1", 1)], "23.07")],
                allocations: vec![vec!["0.00", "23.07"]],
                refunded: "23.07",
                due: "0.00",
            },
            Case {
                // Points hold 13.88; the card takes the other 9.19.
                name: "card and bonus points, points first",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: json!([{"method": "card", "amount": "50.00"}, {"method": "bonus_points", "amount": "13.88"}]),
                policy: Allocation::PointsFirst,
                steps: vec![Step::Return(&[("L1", 1)], "23.07")],
                allocations: vec![vec!["9.19", "13.88"]],
                refunded: "23.07",
                due: "0.00",
            },
            Case {
                // 63.88 on invoice, 30.00 received: 33.88 open. The first refund (23.07) only
                // lowers the receivable to 10.81; the second (40.81) clears it and pays out 30.00.
                name: "invoice payment, partly paid",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: json!([{"method": "invoice", "amount": "63.88"}]),
                policy: Allocation::ProRata,
                steps: vec![
                    Step::Received("30.00"),
                    Step::Return(&[("L1", 1)], "23.07"),
                    Step::Return(&[("L1", 1), ("L2", 1)], "40.81"),
                ],
                allocations: vec![vec!["23.07"], vec!["40.81"]],
                refunded: "63.88",
                due: "0.00",
            },
            Case {
                // 90.00 + 10.00 with 30.00 off from 95.00: shares 27.00 and 3.00. Returning B
                // (paid 7.00) withdraws A's 27.00: target -20.00, refund 0, never negative.
                // Returning A then refunds all that was paid.
                name: "withdrawal above the return's value",
                lines: json!([{"lineId": "A", "sku": "A", "quantity": 1, "unitPrice": "90.00"},
                              {"lineId": "B", "sku": "B", "quantity": 1, "unitPrice": "10.00"}]),
                discounts: json!([{"code": "BIG", "amount": "30.00", "minOrderValue": "95.00"}]),
                shipping: "5.00",
                payments: card("75.00"),
                policy: Allocation::ProRata,
                steps: vec![
                    Step::Return(&[("B", 1)], "0.00"),
                    Step::Return(&[("A", 1)], "75.00"),
                ],
                allocations: vec![vec!["75.00"]],
                refunded: "75.00",
                due: "0.00",
            },
            Case {
                // 50.00 goodwill first: the full return's target (63.88) finds only 13.88
                // left on the card, so the customer never gets more than was paid.
                name: "more than paid is never refunded",
                lines: worked_lines(),
                discounts: json!([{"code": "SAVE5", "amount": "5.00"}]),
                shipping: "3.90",
                payments: card("63.88"),
                policy: Allocation::ProRata,
                steps: vec![
                    Step::Goodwill("50.00"),
                    Step::Return(&[("L1", 2), ("L2", 1)], "13.88"),
                ],
                allocations: vec![vec!["13.88"]],
                refunded: "63.88",
                due: "0.00",
            },
        ];
        for case in &cases {
            run(case);
        }
    }

    #[test]
    fn a_refund_after_the_rate_change_books_back_the_supply_rate() {
        use crate::order::fixtures::{date, order_2020, ship_on};
        // 3 x 40.00 ordered 2020-06-30 (19 %); one unit shipped 2020-06-30 (19 %), two on
        // 2020-07-01 (16 %). Periods: 19 % 1 unit round(120.00 x 1/3) = 40.00, tax 6.39;
        // 16 % 2 units 80.00, tax round(80.00 x 0.16/1.16 = 11.0345) = 11.03.
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 3, "unitPrice": "40.00"}]),
            json!([]),
            "0",
            "120.00",
        ));
        ship_on(&mut o, "L1", 1, date(2020, 6, 30));
        ship_on(&mut o, "L1", 2, date(2020, 7, 1));
        // One unit back: the latest shipped first, so a 16 % unit. Refund round(120.00 x 1/3)
        // = 40.00, all of it at 16 %: tax round(40.00 x 0.16/1.16 = 5.5172) = 5.52, net 34.48
        // (at the order date's 19 % it was 6.39).
        o.lines[0].quantities.returned = 1;
        let r = settle(
            &mut o,
            Allocation::ProRata,
            "r1".into(),
            "return",
            Utc::now(),
        )
        .unwrap();
        let show = |r: &Refund| {
            r.tax
                .iter()
                .map(|t| format!("{} net {} tax {}", t.rate, t.net, t.tax))
                .collect::<Vec<_>>()
        };
        assert_eq!(r.amount.to_string(), "40.00");
        assert_eq!(show(&r), ["0.16 net 34.48 tax 5.52"]);
        // All three back: target 120.00, refund 120.00 - 40.00 = 80.00. Per rate, what the
        // given-back units carried minus what the first refund booked back: 16 % 80.00 - 40.00
        // = 40.00 with tax 11.03 - 5.52 = 5.51 (net 34.49); 19 % 40.00 with tax 6.39 (net
        // 33.61). Both refunds together book back exactly the periods' 11.03 and 6.39.
        o.lines[0].quantities.returned = 3;
        o.lines[0].quantities.shipped = 0;
        let r = settle(
            &mut o,
            Allocation::ProRata,
            "r2".into(),
            "return",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(r.amount.to_string(), "80.00");
        assert_eq!(
            show(&r),
            ["0.16 net 34.49 tax 5.51", "0.19 net 33.61 tax 6.39"]
        );
    }

    #[test]
    fn goodwill_above_what_is_left_is_refused_and_changes_nothing() {
        let mut o = order(base(worked_lines(), json!([]), "0", "64.98"));
        let before = o.clone();
        let err = goodwill(
            &mut o,
            &json!({"amount": "64.99", "reason": "x"}),
            Allocation::ProRata,
            "g".into(),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!((err.status, err.field.as_deref()), (422, Some("amount")));
        assert_eq!(o, before);
    }
}
