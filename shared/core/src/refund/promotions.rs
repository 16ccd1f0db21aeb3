//! The cumulative rule with `W` over every conditional benefit (docs/api.md): orders priced by
//! `pricing::apply`, refunds computed as units come back.

use super::*;
use crate::intake::fixtures::{base, order};
use crate::order::Discount;
use crate::pricing::fixtures::{discount, lines, money, promotions};
use crate::pricing::{apply, Promotion};
use serde_json::json;

/// An order of `(sku, group, quantity, unit price)` lines priced under `promotions` and
/// `discounts`, with what its promotions recorded.
pub(super) fn priced(
    spec: &[(&str, &str, u32, &str)],
    promotions: &[Promotion],
    discounts: &[Discount],
    shipping: &str,
) -> Option<(Order, AppliedPromotions)> {
    let to_price = lines(spec);
    let in_force: Vec<&Promotion> = promotions.iter().collect();
    let p = apply(&to_price, &in_force, discounts).ok()?;
    let gross: Money = to_price.iter().map(|l| l.unit_price * l.quantity).sum();
    let body_lines: Vec<serde_json::Value> = spec
        .iter()
        .enumerate()
        .map(|(i, (sku, _, q, price))| {
            json!({"lineId": format!("L{i}"), "sku": sku, "quantity": q, "unitPrice": price})
        })
        .collect();
    let total = (gross + money(shipping)).to_string();
    let mut o = order(base(json!(body_lines), json!([]), shipping, &total));
    for (l, priced) in o.lines.iter_mut().zip(p.lines) {
        l.discount_shares = priced.discount_shares;
        l.discount_share = priced.discount_share;
        l.paid = priced.paid;
    }
    o.discounts = discounts.to_vec();
    o.retax();
    Some((o, p.promotions))
}

/// Units given back per line, the rest kept.
fn back(o: &Order, given_back: &[u32]) -> Vec<LineUnits> {
    o.lines
        .iter()
        .zip(given_back)
        .map(|(l, b)| LineUnits {
            given_back: *b,
            kept: l.quantity - b,
        })
        .collect()
}

/// The refunds as `given_back` grows step by step (each step the cumulative units back).
fn refunds(o: &Order, applied: &AppliedPromotions, steps: &[&[u32]]) -> Vec<String> {
    let mut so_far = Money::ZERO;
    steps
        .iter()
        .map(|s| {
            let r = next_refund(target_with(o, Some(applied), &back(o, s)), so_far);
            so_far += r;
            r.to_string()
        })
        .collect()
}

#[test]
fn three_for_two_returning_one_unit_refunds_nothing_the_other_two_everything_paid() {
    let (o, applied) = priced(
        &[("A", "g", 3, "10.00")],
        &promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}])),
        &[],
        "0",
    )
    .unwrap();
    assert_eq!(o.lines[0].paid, money("20.00"));
    // P = round(20.00 x 1/3) = 6.67; W = round(10.00 x 2/3 x (1 - 0/1)) = 6.67.
    let one = back(&o, &[1]);
    assert_eq!(withdrawn_benefits(&o, Some(&applied), &one), money("6.67"));
    assert_eq!(target_with(&o, Some(&applied), &one), money("0.00"));
    assert_eq!(refunds(&o, &applied, &[&[1], &[3]]), ["0.00", "20.00"]);
    // Without the record (v1's rule) the free unit would not be withdrawn.
    assert_eq!(target(&o, &one), money("6.67"));
}

#[test]
fn a_multi_buy_still_half_earned_is_withdrawn_by_half_of_the_kept_units_share() {
    // 2 for 1 on 4 x 10.00: F = 2 free units, share 20.00, paid 20.00.
    let (o, applied) = priced(
        &[("A", "g", 4, "10.00")],
        &promotions(json!([{"id": "2for1", "kind": "multi_buy", "buy": 2, "pay": 1}])),
        &[],
        "4.90",
    )
    .unwrap();
    // One back: K = 3 earns f = 1; W = round(20.00 x 3/4 x 1/2) = 7.50 > P = 5.00: nothing.
    // Two back: f = 1; W = round(20.00 x 2/4 x 1/2) = 5.00; P = 10.00: 5.00.
    // Three back: f = 0; W = round(20.00 x 1/4) = 5.00; P = 15.00: 10.00 - 5.00 = 5.00.
    // All back: 20.00 + 4.90 shipping.
    assert_eq!(
        refunds(&o, &applied, &[&[1], &[2], &[3], &[4]]),
        ["0.00", "5.00", "5.00", "14.90"]
    );
}

#[test]
fn a_threshold_lost_by_a_return_is_withdrawn_from_the_kept_units() {
    let (o, applied) = priced(
        &[("A", "g", 1, "30.00"), ("B", "g", 1, "25.00")],
        &promotions(json!([{"id": "fifty", "kind": "order_threshold",
            "minOrderValue": "50.00", "amount": "5.50"}])),
        &[],
        "3.90",
    )
    .unwrap();
    // Shares 3.00 and 2.50; paid 27.00 and 22.50. Returning B: P = 22.50, A alone (30.00)
    // is below 50.00, so A's 3.00 is withdrawn: 19.50. Then A: 27.00 + 3.00 + 3.90.
    assert_eq!(
        refunds(&o, &applied, &[&[0, 1], &[1, 1]]),
        ["19.50", "33.90"]
    );
    // Returning a unit of another line keeps the threshold when the rest still reaches it.
    let (o, applied) = priced(
        &[("A", "g", 2, "30.00"), ("B", "g", 1, "25.00")],
        &promotions(json!([{"id": "fifty", "kind": "order_threshold",
            "minOrderValue": "50.00", "amount": "5.50", "skus": ["A"]}])),
        &[],
        "0",
    )
    .unwrap();
    // Only A is eligible (60.00): 5.50 on A. B back: A's 60.00 still reaches 50.00.
    assert_eq!(refunds(&o, &applied, &[&[0, 1]]), ["25.00"]);
    // One A back: 30.00 < 50.00: W = round(5.50 x 1/2) = 2.75; P = round(54.50 / 2) = 27.25.
    assert_eq!(refunds(&o, &applied, &[&[1, 0]]), ["24.50"]);
}

#[test]
fn a_discount_minimum_compares_the_kept_units_after_their_own_promotions() {
    // 3 for 2 on 3 x 20.00 (share 20.00), then SAVE5 from 40.00: paid 35.00.
    let (o, applied) = priced(
        &[("A", "g", 3, "20.00")],
        &promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}])),
        &[discount("SAVE5", "5.00", Some("40.00"))],
        "0",
    )
    .unwrap();
    assert_eq!(o.lines[0].paid, money("35.00"));
    // One back: the two kept units alone earn no free unit, and pay 40.00: SAVE5 stays earned.
    // W = round(20.00 x 2/3) = 13.33 (the multi-buy only); P = round(35.00 / 3) = 11.67.
    let one = back(&o, &[1]);
    assert_eq!(withdrawn_benefits(&o, Some(&applied), &one), money("13.33"));
    // Two back: one unit kept (20.00 < 40.00): SAVE5's share on it, round(5.00 / 3) = 1.67,
    // and the multi-buy's, 6.67. P = round(35.00 x 2/3) = 23.33: 23.33 - 8.34 = 14.99.
    assert_eq!(
        refunds(&o, &applied, &[&[1], &[2], &[3]]),
        ["0.00", "14.99", "20.01"]
    );
    // The same W benefit by benefit (the promotions report shows each promotion's part).
    let kept = |b: &[LineUnits]| b.iter().map(|u| u.kept).collect::<Vec<u32>>();
    let by = |b: &[LineUnits]| {
        crate::pricing::withdrawn_by_benefit(&o.lines, &o.discounts, Some(&applied), &kept(b))
    };
    assert_eq!(by(&one), [("3for2".to_string(), money("13.33"))]);
    assert_eq!(
        by(&back(&o, &[2])),
        [
            ("3for2".to_string(), money("6.67")),
            ("SAVE5".to_string(), money("1.67"))
        ]
    );
    assert!(
        by(&back(&o, &[3])).is_empty(),
        "nothing kept, nothing withdrawn"
    );
}

#[test]
fn percent_off_is_never_withdrawn() {
    let (o, applied) = priced(
        &[("A", "g", 2, "10.00")],
        &promotions(json!([{"id": "ten", "kind": "percent_off", "percent": "10"}])),
        &[],
        "0",
    )
    .unwrap();
    assert_eq!(refunds(&o, &applied, &[&[1], &[2]]), ["9.00", "9.00"]);
}

#[test]
fn without_promotions_the_record_changes_nothing() {
    let (o, applied) = priced(
        &[("A", "g", 2, "30.00"), ("B", "g", 1, "5.00")],
        &[],
        &[discount("TEN", "10.00", Some("50.00"))],
        "4.90",
    )
    .unwrap();
    for s in [[0, 0], [1, 0], [0, 1], [1, 1], [2, 0], [2, 1]] {
        let u = back(&o, &s);
        assert_eq!(target_with(&o, Some(&applied), &u), target(&o, &u), "{s:?}");
    }
    // TEN's shares: round(10.00 x 60/65) = 9.23 on A, 0.77 on B. One A back: the kept
    // 35.00 < 50.00, so TEN is withdrawn from the kept units: round(9.23 / 2) = 4.62 + 0.77.
    assert_eq!(
        withdrawn_discounts(&o, &back(&o, &[1, 0])),
        money("4.62") + money("0.77")
    );
}

#[test]
fn the_refund_of_an_order_priced_at_intake_follows_its_own_record() {
    // docs/api.md: returning one unit refunds 0.00, the other two 20.00.
    let o = crate::intake::pricing_tests::three_for_two_order();
    let one = [LineUnits {
        given_back: 1,
        kept: 2,
    }];
    assert_eq!(target(&o, &one).to_string(), "0.00");
    let all = [LineUnits {
        given_back: 3,
        kept: 0,
    }];
    assert_eq!(target(&o, &all).to_string(), "20.00");
}
