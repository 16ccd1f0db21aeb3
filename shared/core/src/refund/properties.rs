//! Properties of the cumulative rule over orders priced with random promotions and discounts,
//! their units coming back in random orders and batches.

use super::promotions::priced;
use super::*;
use crate::order::Discount;
use crate::pricing::fixtures::discount;
use crate::pricing::{BenefitRule, Promotion};
use proptest::prelude::*;
use serde_json::json;

fn cents(c: u32) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// `(sku, group, quantity, unit price in cents)`.
fn line() -> impl Strategy<Value = (&'static str, &'static str, u32, u32)> {
    (
        prop::sample::select(vec!["A", "B", "C"]),
        prop::sample::select(vec!["g", "shoes"]),
        1u32..=6,
        0u32..=5000,
    )
}

/// A promotion's kind and terms as JSON, and whom it covers (0 every product, 1 sku A,
/// 2 group shoes).
fn promotion() -> impl Strategy<Value = serde_json::Value> {
    let kind = prop_oneof![
        (1u32..=100).prop_map(|p| json!({"kind": "percent_off", "percent": p.to_string()})),
        (1u32..=4)
            .prop_flat_map(|buy| (Just(buy), 0..buy))
            .prop_map(|(buy, pay)| json!({"kind": "multi_buy", "buy": buy, "pay": pay})),
        (0u32..=20000)
            .prop_flat_map(|min| (Just(min), 0..=min))
            .prop_map(|(min, amount)| json!({"kind": "order_threshold",
                "minOrderValue": cents(min), "amount": cents(amount)})),
    ];
    (kind, 0u8..3).prop_map(|(mut k, who)| {
        match who {
            1 => k["skus"] = json!(["A"]),
            2 => k["groups"] = json!(["shoes"]),
            _ => {}
        }
        k
    })
}

fn discounts() -> impl Strategy<Value = Vec<Discount>> {
    prop::collection::vec((0u32..=2000, prop::option::of(0u32..=20000)), 0..=2).prop_map(|ds| {
        ds.iter()
            .enumerate()
            .map(|(i, (a, min))| {
                let min = min.map(cents);
                discount(&format!("D{i}"), &cents(*a), min.as_deref())
            })
            .collect()
    })
}

/// An order with its promotions' record, and its units (line indexes) in the order they come
/// back, split into returns after the units marked `true`.
type Case = (Order, AppliedPromotions, Vec<usize>, Vec<bool>);

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(line(), 1..=4),
        prop::collection::vec(promotion(), 0..=4),
        discounts(),
        0u32..=1000,
        any::<u64>(),
        prop::collection::vec(any::<bool>(), 24),
    )
        .prop_map(|(lines, ps, ds, shipping, seed, cuts)| {
            let prices: Vec<String> = lines.iter().map(|l| cents(l.3)).collect();
            let spec: Vec<(&str, &str, u32, &str)> = lines
                .iter()
                .zip(&prices)
                .map(|(l, p)| (l.0, l.1, l.2, p.as_str()))
                .collect();
            let ps: Vec<Promotion> =
                crate::pricing::fixtures::promotions(serde_json::Value::Array(
                    ps.into_iter()
                        .enumerate()
                        .map(|(i, mut p)| {
                            p["id"] = json!(format!("p{i}"));
                            p
                        })
                        .collect(),
                ));
            // Discounts the merchandise cannot carry are refused at intake: price without them.
            let shipping = cents(shipping);
            let (o, applied) = priced(&spec, &ps, &ds, &shipping)
                .or_else(|| priced(&spec, &ps, &[], &shipping))
                .unwrap();
            let mut units: Vec<usize> = o
                .lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| std::iter::repeat_n(i, l.quantity as usize))
                .collect();
            // A shuffle from the seed (Fisher-Yates over a linear congruential sequence).
            let mut s = seed;
            for i in (1..units.len()).rev() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                units.swap(i, (s >> 33) as usize % (i + 1));
            }
            (o, applied, units, cuts)
        })
}

/// Returns the units in `order`, a batch ending after each unit `cuts` marks (and every unit
/// past its end): the refunds so far, checked on the way.
fn return_all(o: &Order, applied: &AppliedPromotions, order: &[usize], cuts: &[bool]) -> Money {
    let mut units: Vec<LineUnits> = o
        .lines
        .iter()
        .map(|l| LineUnits {
            given_back: 0,
            kept: l.quantity,
        })
        .collect();
    let mut refunded = Money::ZERO;
    for (n, line) in order.iter().enumerate() {
        units[*line].given_back += 1;
        units[*line].kept -= 1;
        let last = n + 1 == order.len();
        if cuts.get(n).copied().unwrap_or(true) || last {
            let r = next_refund(target_with(o, Some(applied), &units), refunded);
            assert!(!r.is_negative());
            refunded += r;
            // Never more than the units given back paid (and shipping once all are back).
            assert!(
                refunded <= given_back_paid(o, &units),
                "{refunded} after {units:?}"
            );
        }
    }
    refunded
}

proptest! {
    #[test]
    fn pricing_never_takes_a_line_below_zero_and_every_benefit_is_shared_out_exactly(
        (o, applied, _, _) in case()
    ) {
        for l in &o.lines {
            prop_assert!(!l.paid.is_negative(), "{l:?}");
            prop_assert_eq!(l.paid, l.gross - l.discount_shares.iter().map(|s| s.amount).sum::<Money>());
        }
        let shared = |code: &str| -> Money {
            o.lines.iter().map(|l| l.share_of(code)).sum()
        };
        for d in &o.discounts {
            prop_assert_eq!(shared(&d.code), d.amount);
        }
        for b in &applied.benefits {
            prop_assert!(b.earned > 0);
            if let BenefitRule::OrderThreshold { amount, .. } = b.rule {
                prop_assert_eq!(shared(&b.code), amount);
            }
        }
    }

    #[test]
    fn cumulative_refunds_never_exceed_what_was_paid_and_reach_it_exactly_when_all_is_back(
        (o, applied, order, cuts) in case()
    ) {
        let total: Money = o.lines.iter().map(|l| l.paid).sum::<Money>() + o.shipping_cost;
        prop_assert_eq!(return_all(&o, &applied, &order, &cuts), total);
        // In the reverse order one by one, or all at once: the same.
        let reverse: Vec<usize> = order.iter().rev().copied().collect();
        prop_assert_eq!(return_all(&o, &applied, &reverse, &[]), total);
        prop_assert_eq!(return_all(&o, &applied, &order, &vec![false; order.len()]), total);
    }

    #[test]
    fn a_partial_return_in_batches_refunds_at_least_the_rule_for_its_units_and_never_more_than_they_paid(
        (o, applied, order, cuts) in case(),
        cut in any::<prop::sample::Index>(),
    ) {
        // At least one unit kept.
        let part = &order[..cut.index(order.len())];
        let in_batches = return_all(&o, &applied, part, &cuts);
        let at_once = return_all(&o, &applied, part, &vec![false; part.len()]);
        // At once is `max(0, target)`; batches may have refunded more on the way (a shortfall
        // is never charged back), never beyond what the units paid (checked in `return_all`).
        prop_assert!(in_batches >= at_once, "{in_batches} < {at_once}");
        let mut units: Vec<LineUnits> = o.lines.iter().map(|l| LineUnits { given_back: 0, kept: l.quantity }).collect();
        for line in part {
            units[*line].given_back += 1;
            units[*line].kept -= 1;
        }
        prop_assert_eq!(at_once, next_refund(target_with(&o, Some(&applied), &units), Money::ZERO));
    }
}
