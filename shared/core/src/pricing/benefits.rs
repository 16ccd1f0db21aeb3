//! The conditional benefits of an order (multi_buy and order_threshold promotions, channel
//! discounts with a `minOrderValue`): what the order recorded of them at intake, and what a
//! refund withdraws when the kept units alone no longer earn them (docs/api.md, the cumulative
//! refund rule's `W`). The record holds every term the rule needs, so a refund never reads the
//! promotion table, whose promotions may have changed or ended since.

use crate::money::Money;
use crate::order::{AppliedPromotions, BenefitRule, Discount, OrderLine};
use rust_decimal::Decimal;

/// The free units of a multi_buy `buy` for `pay` over entries of `(units, unit price)`: the
/// units sorted by price, highest first (entries in their given order on a tie), form
/// consecutive groups of `buy`; in each full group the last `buy - pay` units are free.
/// Returns the free units of each entry.
pub(super) fn free_units(entries: &[(u32, Money)], buy: u32, pay: u32) -> Vec<u32> {
    let buy = u64::from(buy.max(1));
    let pay = u64::from(pay).min(buy);
    let total: u64 = entries.iter().map(|(n, _)| u64::from(*n)).sum();
    let full = total / buy * buy;
    // Free units among the first `n` positions of the sorted units.
    let free_before = |n: u64| {
        let m = n.min(full);
        m / buy * (buy - pay) + (m % buy).saturating_sub(pay)
    };
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|a, b| entries[*b].1.cmp(&entries[*a].1)); // stable: ties keep entry order
    let mut out = vec![0; entries.len()];
    let mut position = 0u64;
    for i in order {
        let n = u64::from(entries[i].0);
        let free = free_before(position + n) - free_before(position);
        out[i] = u32::try_from(free).unwrap_or(u32::MAX);
        position += n;
    }
    out
}

/// What the kept units alone earn under the order's rules: each benefit's f (in `benefits`
/// order) and their merchandise after promotions (what a discount's `minOrderValue` compares).
fn kept_earnings(
    lines: &[OrderLine],
    applied: &AppliedPromotions,
    kept: &[u32],
) -> (Vec<u32>, Money) {
    let price = |i: usize| {
        applied
            .lines
            .get(i)
            .map_or(lines[i].unit_price, |t| t.unit_price_after_percent_off)
    };
    let terms = |i: usize| applied.lines.get(i);
    // Each kept line's gross after percent_off, then after the multi_buys' free units.
    let mut after: Vec<Money> = (0..lines.len()).map(|i| price(i) * kept[i]).collect();
    let mut earned = Vec::with_capacity(applied.benefits.len());
    let mut thresholds = Money::ZERO;
    for b in &applied.benefits {
        if let BenefitRule::MultiBuy { buy, pay } = b.rule {
            let taken: Vec<usize> = (0..lines.len())
                .filter(|i| terms(*i).and_then(|t| t.multi_buy.as_ref()) == Some(&b.code))
                .collect();
            let entries: Vec<(u32, Money)> = taken.iter().map(|i| (kept[*i], price(*i))).collect();
            let free = free_units(&entries, buy, pay);
            for (i, f) in taken.iter().zip(&free) {
                after[*i] -= price(*i) * *f;
            }
            earned.push(free.iter().sum());
        } else {
            earned.push(0);
        }
    }
    for (b, e) in applied.benefits.iter().zip(earned.iter_mut()) {
        if let BenefitRule::OrderThreshold {
            min_order_value,
            amount,
        } = b.rule
        {
            let gross: Money = (0..lines.len())
                .filter(|i| terms(*i).and_then(|t| t.order_threshold.as_ref()) == Some(&b.code))
                .map(|i| after[i])
                .sum();
            if gross >= min_order_value {
                *e = 1;
                thresholds += amount;
            }
        }
    }
    (earned, after.into_iter().sum::<Money>() - thresholds)
}

/// `W`: what a refund withdraws for the conditional benefits the kept units (`kept[i]` of
/// `lines[i]`) no longer earn. For each benefit that the whole order earned F of and the kept
/// units alone earn f < F of, `sum over lines of round(share x kept / quantity x (1 - f/F))`,
/// the share being that benefit's share on the line. A discount with a `minOrderValue` earns
/// 1 when the kept units' merchandise after promotions reaches it, else 0. Nothing is withdrawn
/// when no unit is kept. Without promotions (`applied` None) this is v1's rule exactly.
pub fn withdrawn(
    lines: &[OrderLine],
    discounts: &[Discount],
    applied: Option<&AppliedPromotions>,
    kept: &[u32],
) -> Money {
    withdrawn_by_benefit(lines, discounts, applied, kept)
        .into_iter()
        .map(|(_, w)| w)
        .sum()
}

/// `W` benefit by benefit: the code (promotion id or discount code) of each conditional
/// benefit the kept units no longer fully earn, and what is withdrawn for it (the promotions
/// report shows it per promotion; `withdrawn` is their sum).
pub fn withdrawn_by_benefit(
    lines: &[OrderLine],
    discounts: &[Discount],
    applied: Option<&AppliedPromotions>,
    kept: &[u32],
) -> Vec<(String, Money)> {
    if kept.iter().all(|k| *k == 0) {
        return Vec::new();
    }
    let none = AppliedPromotions::default();
    let applied = applied.unwrap_or(&none);
    let (earned, merchandise) = kept_earnings(lines, applied, kept);
    let promotions = applied
        .benefits
        .iter()
        .zip(earned)
        .map(|(b, f)| (b.code.as_str(), b.earned, f));
    let conditional_discounts = discounts.iter().filter_map(|d| {
        d.min_order_value
            .map(|min| (d.code.as_str(), 1, u32::from(merchandise >= min)))
    });
    promotions
        .chain(conditional_discounts)
        .filter(|(_, whole, kept_alone)| kept_alone < whole)
        .map(|(code, whole, kept_alone)| {
            let w = lines
                .iter()
                .zip(kept)
                .map(|(l, k)| {
                    l.share_of(code).pro_rata(
                        Decimal::from(*k) * Decimal::from(whole - kept_alone),
                        Decimal::from(l.quantity.max(1)) * Decimal::from(whole),
                    )
                })
                .sum::<Money>();
            (code.to_string(), w)
        })
        .collect()
}
