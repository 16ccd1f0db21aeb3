//! Refunds (docs/api.md "Money rules"): cumulative per order, never above what was paid, never
//! charging a shortfall to the customer, and allocated across the order's payments.

use crate::input::{self, Fields, Lax};
use crate::money::Money;
use crate::order::{Order, OrderLine, PaymentMethod};
use crate::pricing::AppliedPromotions;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

// The policy is part of the money rules (`money`), set in the catalogue's refund policy.
pub use crate::money::Allocation;
// A refund is recorded in the order's ledger and read back from it.
pub use crate::ledger::{Refund, RefundShare};

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

/// The cumulative refund target of an order: `P(S) + shipping (if nothing is kept) - W`, `W`
/// over every conditional benefit: its discounts with a minimum and the promotions it recorded
/// at intake. `units[i]` belongs to `order.lines[i]`.
pub fn target(order: &Order, units: &[LineUnits]) -> Money {
    target_with(order, order.promotions.as_ref(), units)
}

/// The target with the promotion record `applied` given explicitly (`target` passes the
/// order's own).
pub fn target_with(
    order: &Order,
    applied: Option<&AppliedPromotions>,
    units: &[LineUnits],
) -> Money {
    given_back_paid(order, units) - withdrawn_benefits(order, applied, units)
}

/// `P(S) + shipping (if nothing is kept)`: what the units given back paid, the most a
/// refund of them can reach.
pub fn given_back_paid(order: &Order, units: &[LineUnits]) -> Money {
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
    p + shipping
}

/// `W` of an order without promotions: for each discount with a minimum order value that the
/// kept units no longer reach (while at least one unit is kept), its share on the kept units.
pub fn withdrawn_discounts(order: &Order, units: &[LineUnits]) -> Money {
    withdrawn_benefits(order, None, units)
}

/// `W` over every conditional benefit: discounts with a minimum order value and the multi_buy
/// and order_threshold promotions `applied` recorded (`pricing::withdrawn`).
pub fn withdrawn_benefits(
    order: &Order,
    applied: Option<&AppliedPromotions>,
    units: &[LineUnits],
) -> Money {
    let kept: Vec<u32> = units.iter().map(|u| u.kept).collect();
    crate::pricing::withdrawn(&order.lines, &order.discounts, applied, &kept)
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
    for t in crate::ledger::refunds(order)
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
    let refunded_so_far: Money = crate::ledger::refunds(order)
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
    crate::ledger::record_refund(order, &refund);
    Some(refund)
}

/// `settle` for a return, which a refund always completes: when nothing is due (the units
/// kept lose a benefit worth all that the returned ones paid), a refund of 0.00 is recorded,
/// so that the return shows its refund and the customer is told (docs/api.md).
pub fn settle_return(
    order: &mut Order,
    policy: Allocation,
    id: String,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Refund {
    if let Some(refund) = settle(order, policy, id.clone(), reason, now) {
        return refund;
    }
    let refund = Refund {
        id,
        amount: Money::ZERO,
        allocation: Vec::new(),
        reason: reason.to_string(),
        created_at: now,
        goodwill: false,
        tax: Vec::new(),
    };
    crate::ledger::record_refund(order, &refund);
    refund
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

/// A goodwill credit's body as serde reads it (`goodwill` checks it).
#[derive(Deserialize)]
struct GoodwillInput {
    #[serde(default)]
    amount: Lax<String>,
    #[serde(default)]
    reason: Lax<String>,
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
    let Fields(credit) = input::read::<Fields<GoodwillInput>>(v)?;
    let amount = crate::ledger::money_field("amount", credit.amount)?;
    let reason = match credit.reason.0 {
        Some(r) if !r.trim().is_empty() => {
            crate::ids::check_text("reason", &r, 1000)?;
            r
        }
        _ => return Err(crate::ApiError::required("reason", "reason is required")),
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
    crate::ledger::record_refund(order, &refund);
    Ok(refund)
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
mod tests;

#[cfg(test)]
mod promotions;
#[cfg(test)]
mod properties;
