use crate::order::Discount;
use crate::pricing::apply::allocate_within;
use crate::pricing::fixtures::{discount, lines, money, promotions};
use crate::pricing::{apply, Benefit, BenefitRule, LineToPrice, PricedOrder, Promotion};
use serde_json::json;

fn price(l: &[LineToPrice], p: &[Promotion], d: &[Discount]) -> PricedOrder {
    let p: Vec<&Promotion> = p.iter().collect();
    apply(l, &p, d).unwrap()
}

/// Each line as `paid` and its shares `code amount`.
fn summary(o: &PricedOrder) -> Vec<(String, Vec<String>)> {
    o.lines
        .iter()
        .map(|l| {
            assert_eq!(l.paid, l.gross - l.discount_share);
            assert_eq!(
                l.discount_share,
                l.discount_shares.iter().map(|s| s.amount).sum()
            );
            (
                l.paid.to_string(),
                l.discount_shares
                    .iter()
                    .map(|s| format!("{} {}", s.code, s.amount))
                    .collect(),
            )
        })
        .collect()
}

fn row(paid: &str, shares: &[&str]) -> (String, Vec<String>) {
    (paid.into(), shares.iter().map(|s| s.to_string()).collect())
}

#[test]
fn three_for_two_on_a_ten_euro_item_the_third_unit_is_free() {
    let o = price(
        &lines(&[("A", "g", 3, "10.00")]),
        &promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}])),
        &[],
    );
    assert_eq!(summary(&o), [row("20.00", &["3for2 10.00"])]);
    assert_eq!(
        o.promotions.benefits,
        [Benefit {
            code: "3for2".into(),
            rule: BenefitRule::MultiBuy { buy: 3, pay: 2 },
            earned: 1
        }]
    );
    assert_eq!(o.promotions.lines[0].multi_buy.as_deref(), Some("3for2"));
    // Four units: one full group, the fourth pays.
    let o = price(
        &lines(&[("A", "g", 4, "10.00")]),
        &promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}])),
        &[],
    );
    assert_eq!(summary(&o), [row("30.00", &["3for2 10.00"])]);
}

#[test]
fn percent_off_is_rounded_per_unit() {
    // 10 % of 9.99 = 0.999 -> 1.00 a unit, 7.00 for 7 units (rounding the line's 6.993
    // would give 6.99).
    let o = price(
        &lines(&[("A", "g", 7, "9.99"), ("B", "g", 1, "0.33")]),
        &promotions(
            json!([{"id": "ten", "kind": "percent_off", "percent": "10", "skus": ["A"]},
            {"id": "fifteen", "kind": "percent_off", "percent": "15", "skus": ["B"]}]),
        ),
        &[],
    );
    // B: 15 % of 0.33 = 0.0495 -> 0.05.
    assert_eq!(
        summary(&o),
        [row("62.93", &["ten 7.00"]), row("0.28", &["fifteen 0.05"])]
    );
    assert_eq!(
        o.promotions.lines[0].unit_price_after_percent_off,
        money("8.99")
    );
    assert!(
        o.promotions.benefits.is_empty(),
        "percent_off is unconditional"
    );
}

#[test]
fn one_percent_off_a_unit_the_largest_and_on_a_tie_the_smallest_id() {
    let both = promotions(json!([
        {"id": "b-ten", "kind": "percent_off", "percent": "10"},
        {"id": "a-ten", "kind": "percent_off", "percent": "10"},
        {"id": "c-five", "kind": "percent_off", "percent": "5"},
        {"id": "d-twenty-shoes", "kind": "percent_off", "percent": "20", "groups": ["shoes"]}]));
    let o = price(
        &lines(&[("A", "g", 1, "50.00"), ("B", "shoes", 1, "50.00")]),
        &both,
        &[],
    );
    assert_eq!(
        summary(&o),
        [
            row("45.00", &["a-ten 5.00"]),
            row("40.00", &["d-twenty-shoes 10.00"])
        ]
    );
}

#[test]
fn multi_buy_groups_units_across_lines_by_price_after_percent_off() {
    // 2 for 1 over every product. Before percent_off the order would be 20, 8, 5, 5; B's 70 %
    // makes it 8 (C), 6 (B), 5, 5 (A): groups [8, 6] free 6 (B), [5, 5] free 5 (A).
    let o = price(
        &lines(&[
            ("A", "g", 2, "5.00"),
            ("B", "g", 1, "20.00"),
            ("C", "g", 1, "8.00"),
        ]),
        &promotions(json!([
            {"id": "2for1", "kind": "multi_buy", "buy": 2, "pay": 1},
            {"id": "b70", "kind": "percent_off", "percent": "70", "skus": ["B"]}])),
        &[],
    );
    assert_eq!(
        summary(&o),
        [
            row("5.00", &["2for1 5.00"]),
            row("0.00", &["b70 14.00", "2for1 6.00"]),
            row("8.00", &[])
        ]
    );
    assert_eq!(o.promotions.benefits[0].earned, 2);
    // C took part in the groups (paid in full) and is recorded as the promotion's.
    assert_eq!(o.promotions.lines[2].multi_buy.as_deref(), Some("2for1"));
}

#[test]
fn equal_prices_across_lines_keep_the_line_order_and_a_partial_group_pays() {
    // 3 for 2 over 5 units of 10.00: [L1, L1, L2] free L2's unit; [L2, L3] is not a full group.
    let o = price(
        &lines(&[
            ("A", "g", 2, "10.00"),
            ("B", "g", 2, "10.00"),
            ("C", "g", 1, "10.00"),
        ]),
        &promotions(json!([{"id": "3for2", "kind": "multi_buy", "buy": 3, "pay": 2}])),
        &[],
    );
    assert_eq!(
        summary(&o),
        [
            row("20.00", &[]),
            row("10.00", &["3for2 10.00"]),
            row("10.00", &[])
        ]
    );
}

#[test]
fn of_two_multi_buys_the_one_giving_more_takes_the_units_on_a_tie_the_smallest_id() {
    // 4 units of 10.00: 3 for 2 gives one free unit, 2 for 1 gives two.
    let ps = promotions(json!([
        {"id": "a-3for2", "kind": "multi_buy", "buy": 3, "pay": 2},
        {"id": "b-2for1", "kind": "multi_buy", "buy": 2, "pay": 1}]));
    let o = price(&lines(&[("A", "g", 4, "10.00")]), &ps, &[]);
    assert_eq!(summary(&o), [row("20.00", &["b-2for1 20.00"])]);
    // 3 units: each gives one free unit, a tie: the smallest id.
    let o = price(&lines(&[("A", "g", 3, "10.00")]), &ps, &[]);
    assert_eq!(summary(&o), [row("20.00", &["a-3for2 10.00"])]);
    assert_eq!(o.promotions.benefits.len(), 1, "one multi_buy per unit");
    // The one giving more takes only its units; the other still applies to the rest.
    let ps = promotions(json!([
        {"id": "a-3for2", "kind": "multi_buy", "buy": 3, "pay": 2},
        {"id": "b-2for1-shoes", "kind": "multi_buy", "buy": 2, "pay": 1, "groups": ["shoes"]}]));
    let o = price(
        &lines(&[("A", "shoes", 2, "30.00"), ("B", "g", 3, "10.00")]),
        &ps,
        &[],
    );
    assert_eq!(
        summary(&o),
        [
            row("30.00", &["b-2for1-shoes 30.00"]),
            row("20.00", &["a-3for2 10.00"])
        ]
    );
}

#[test]
fn a_threshold_applies_pro_rata_when_its_lines_reach_the_minimum_after_the_earlier_steps() {
    let ps = promotions(json!([
        {"id": "fifty", "kind": "order_threshold", "minOrderValue": "50.00", "amount": "5.50"}]));
    let o = price(
        &lines(&[("A", "g", 1, "30.00"), ("B", "g", 1, "25.00")]),
        &ps,
        &[],
    );
    // 5.50 x 30 / 55 = 3.00, 5.50 x 25 / 55 = 2.50.
    assert_eq!(
        summary(&o),
        [row("27.00", &["fifty 3.00"]), row("22.50", &["fifty 2.50"])]
    );
    assert_eq!(o.promotions.benefits[0].earned, 1);
    // A 10 % off first leaves 49.50: below the minimum, no threshold.
    let mut with_percent = ps.clone();
    with_percent.extend(promotions(
        json!([{"id": "ten", "kind": "percent_off", "percent": "10"}]),
    ));
    let o = price(
        &lines(&[("A", "g", 1, "30.00"), ("B", "g", 1, "25.00")]),
        &with_percent,
        &[],
    );
    assert_eq!(
        summary(&o),
        [row("27.00", &["ten 3.00"]), row("22.50", &["ten 2.50"])]
    );
    assert!(o.promotions.benefits.is_empty());
    // Only eligible lines count towards the minimum and share the amount.
    let shoes = promotions(json!([{"id": "shoes50", "kind": "order_threshold",
        "minOrderValue": "50.00", "amount": "10.00", "groups": ["shoes"]}]));
    let o = price(
        &lines(&[("A", "shoes", 2, "30.00"), ("B", "g", 1, "100.00")]),
        &shoes,
        &[],
    );
    assert_eq!(
        summary(&o),
        [row("50.00", &["shoes50 10.00"]), row("100.00", &[])]
    );
    assert_eq!(o.promotions.lines[1].order_threshold, None);
}

#[test]
fn channel_discounts_come_after_promotions_pro_rata_to_what_the_lines_pay_then() {
    // A: 40.00 - 20 % = 32.00; B: 8.00. The discount 4.00 splits 32 : 8 = 3.20, 0.80.
    let o = price(
        &lines(&[("A", "g", 1, "40.00"), ("B", "g", 1, "8.00")]),
        &promotions(
            json!([{"id": "twenty", "kind": "percent_off", "percent": "20", "skus": ["A"]}]),
        ),
        &[discount("SAVE4", "4.00", Some("40.00"))],
    );
    assert_eq!(
        summary(&o),
        [
            row("28.80", &["twenty 8.00", "SAVE4 3.20"]),
            row("7.20", &["SAVE4 0.80"])
        ]
    );
    // The minimum compares the merchandise after promotions (40.00), not the gross (48.00).
    let l = lines(&[("A", "g", 1, "40.00"), ("B", "g", 1, "8.00")]);
    let p = promotions(
        json!([{"id": "twenty", "kind": "percent_off", "percent": "20", "skus": ["A"]}]),
    );
    let p: Vec<&Promotion> = p.iter().collect();
    let e = apply(&l, &p, &[discount("X", "1.00", Some("40.01"))]).unwrap_err();
    assert_eq!(
        (e.status, e.field.as_deref()),
        (422, Some("discounts[0].minOrderValue"))
    );
    let e = apply(&l, &p, &[discount("X", "40.01", None)]).unwrap_err();
    assert_eq!((e.status, e.field.as_deref()), (422, Some("discounts")));
    let e = apply(&l, &p, &[discount("twenty", "1.00", None)]).unwrap_err();
    assert_eq!(
        (e.status, e.field.as_deref()),
        (422, Some("discounts[0].code"))
    );
}

#[test]
fn without_promotions_the_worked_example_prices_as_intake_always_did() {
    let o = price(
        &lines(&[("A", "g", 2, "24.99"), ("B", "g", 1, "15.00")]),
        &[],
        &[discount("SAVE5", "5.00", None)],
    );
    assert_eq!(
        summary(&o),
        [row("46.13", &["SAVE5 3.85"]), row("13.85", &["SAVE5 1.15"])]
    );
    // Every line records every discount, 0.00 included.
    let o = price(
        &lines(&[("A", "g", 1, "100.00"), ("B", "g", 1, "0.01")]),
        &[],
        &[discount("C", "0.01", None)],
    );
    assert_eq!(
        summary(&o),
        [row("99.99", &["C 0.01"]), row("0.01", &["C 0.00"])]
    );
}

#[test]
fn no_line_pays_below_zero() {
    // Everything off: a free unit from 2 for 1, 100 % off, and a discount of what is left.
    let o = price(
        &lines(&[
            ("A", "g", 2, "0.01"),
            ("B", "g", 1, "0.03"),
            ("C", "g", 3, "0.01"),
        ]),
        &promotions(json!([
            {"id": "all", "kind": "percent_off", "percent": "100", "skus": ["B"]},
            {"id": "2for1", "kind": "multi_buy", "buy": 2, "pay": 1, "skus": ["A", "C"]}])),
        &[
            discount("REST", "0.02", None),
            discount("MORE", "0.01", None),
        ],
    );
    assert!(o.lines.iter().all(|l| !l.paid.is_negative()), "{o:?}");
    assert_eq!(
        o.lines.iter().map(|l| l.paid).sum::<crate::money::Money>(),
        money("0.00")
    );
    // A rounding that would put a share above what its line still pays moves to another line.
    let shares = allocate_within(
        money("1.00"),
        &[money("1.00"), money("1.00")],
        &[money("0.00"), money("2.00")],
    );
    assert_eq!(shares, [money("0.00"), money("1.00")]);
    let shares = allocate_within(
        money("0.03"),
        &[money("1.00"), money("1.00"), money("1.00")],
        &[money("0.01"), money("0.00"), money("0.05")],
    );
    assert_eq!(shares, [money("0.01"), money("0.00"), money("0.02")]);
}
