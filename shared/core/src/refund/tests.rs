use super::*;
use chrono::Utc;
use rust_decimal_macros::dec;
use serde_json::json;

fn m(d: Decimal) -> Money {
    Money::from_decimal(d)
}

use crate::intake::fixtures::{base, order};

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
                if let Some(r) = crate::ledger::refund(&o, &format!("r{n}")) {
                    refunds.push(r);
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
    use crate::intake::fixtures::{date, order_2020, ship_on};
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

/// An order paid by card and gift card, a return refunded, goodwill granted, a second return
/// refunded: each as `settle`/`goodwill` made it, in order.
fn refunded_twice_with_goodwill() -> (Order, Vec<Refund>) {
    let mut body = base(worked_lines(), json!([]), "0", "64.98");
    body["payments"] = json!([{"method": "card", "amount": "40.00", "reference": "c1"},
        {"method": "gift_card", "amount": "24.98"}]);
    let mut o = order(body);
    let mut made = Vec::new();
    o.lines[0].quantities.returned = 1;
    o.lines[0].quantities.open -= 1;
    made.extend(settle(
        &mut o,
        Allocation::ProRata,
        "r1".into(),
        "return",
        Utc::now(),
    ));
    made.push(
        goodwill(
            &mut o,
            &json!({"amount": "5.00", "reason": "late"}),
            Allocation::CashFirst,
            "g1".into(),
            Utc::now(),
        )
        .unwrap(),
    );
    o.lines[1].quantities.returned = 1;
    o.lines[1].quantities.open -= 1;
    made.extend(settle(
        &mut o,
        Allocation::ProRata,
        "r2".into(),
        "return",
        Utc::now(),
    ));
    (o, made)
}

#[test]
fn the_ledger_gives_back_each_refund_as_it_was_made() {
    let (o, made) = refunded_twice_with_goodwill();
    assert_eq!(made.len(), 3);
    assert!(made[0].allocation.len() == 2 && !made[0].tax.is_empty() && made[1].goodwill);
    assert_eq!(crate::ledger::refunds(&o), made);
    assert_eq!(crate::ledger::refund(&o, "g1").as_ref(), Some(&made[1]));
    assert_eq!(crate::ledger::refund(&o, "nope"), None);
    // The balances come from the same entries: every share once, goodwill apart.
    let b = crate::ledger::balances(&o);
    let total: Money = made.iter().map(|r| r.amount).sum();
    assert_eq!((b.refunded, o.totals.refunded), (total, total));
    assert_eq!(b.goodwill, made[1].amount);
    let shares: usize = made.iter().map(|r| r.allocation.len()).sum();
    assert_eq!(o.ledger.len(), o.payments.len() + shares);
}

#[test]
fn the_channel_view_shows_the_refunds_as_before() {
    let (o, made) = refunded_twice_with_goodwill();
    // What the view wrote from the order's own list of refunds before the ledger held them.
    let before: Vec<serde_json::Value> = made
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "amount": r.amount, "reason": r.reason, "createdAt": r.created_at, "tax": r.tax,
                "allocation": r.allocation.iter().map(|a| json!({"method": a.method, "amount": a.amount})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let channel = crate::views::channel_order(&o, &[]);
    assert_eq!(channel["refunds"], json!(before));
    // The admin's ledger shows each entry as before: the refund's tax stays with the refund.
    let admin = crate::views::admin_order(&o, &[]);
    let ledger = admin["ledger"].as_array().unwrap();
    assert_eq!(ledger.len(), o.ledger.len());
    assert!(ledger.iter().all(|e| e.get("tax").is_none()));
    assert_eq!(admin["refunds"], json!(before));
}

#[test]
fn an_order_stored_by_an_older_build_with_its_refunds_list_still_reads() {
    let (o, made) = refunded_twice_with_goodwill();
    let mut stored = serde_json::to_value(&o).unwrap();
    assert!(stored.get("refunds").is_none());
    stored["refunds"] = json!(made);
    let read: Order = serde_json::from_value(stored).unwrap();
    assert_eq!(read, o);
}

#[test]
fn a_goodwill_body_is_refused_as_before() {
    for (body, field, message) in [
        (
            json!("5.00"),
            "amount",
            "amount must be a string amount like \"19.99\"",
        ),
        (
            json!({"amount": 5, "reason": "x"}),
            "amount",
            "amount must be a string amount like \"19.99\"",
        ),
        (
            json!({"amount": "0.00", "reason": "x"}),
            "amount",
            "amount must be above 0",
        ),
        (json!({"amount": "1.00"}), "reason", "reason is required"),
        (
            json!({"amount": "1.00", "reason": " "}),
            "reason",
            "reason is required",
        ),
    ] {
        let mut o = order(base(worked_lines(), json!([]), "0", "64.98"));
        let refused = goodwill(&mut o, &body, Allocation::ProRata, "g".into(), Utc::now());
        assert_eq!(
            crate::input::refused(refused),
            (field.into(), message.into()),
            "{body}"
        );
    }
}
