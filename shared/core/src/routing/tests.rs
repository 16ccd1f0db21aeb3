use super::*;

fn cand(f: &str, priority: u32, own: bool, available: u32) -> Candidate {
    Candidate {
        fulfiller_id: f.try_into().unwrap(),
        priority,
        own_warehouse: own,
        available,
    }
}

fn line(id: &str, sku: &str, q: u32, backorder: bool, c: Vec<Candidate>) -> LineDemand {
    LineDemand {
        line_id: id.into(),
        sku: sku.try_into().unwrap(),
        quantity: q,
        allow_backorder: backorder,
        candidates: c,
    }
}

#[test]
fn own_warehouse_wins_a_tie_and_priority_wins_over_it() {
    let p = route(&[line(
        "L1",
        "A",
        1,
        false,
        vec![cand("drop", 1, false, 5), cand("wh", 1, true, 5)],
    )]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["wh"]);
    let p = route(&[line(
        "L1",
        "A",
        1,
        false,
        vec![cand("drop", 1, false, 5), cand("wh", 2, true, 5)],
    )]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["drop"]);
}

#[test]
fn splits_only_when_no_single_source_has_enough_and_shares_stock_between_lines() {
    let p = route(&[line(
        "L1",
        "A",
        5,
        false,
        vec![cand("a", 1, false, 3), cand("b", 2, false, 3)],
    )]);
    assert_eq!(p.shipments["a"], vec![LineQuantity::new("L1", 3)]);
    assert_eq!(p.shipments["b"], vec![LineQuantity::new("L1", 2)]);
    let p = route(&[
        line("L1", "A", 2, false, vec![cand("a", 1, false, 3)]),
        line("L2", "A", 2, false, vec![cand("a", 1, false, 3)]),
    ]);
    assert_eq!(
        p.shipments["a"],
        vec![LineQuantity::new("L1", 2), LineQuantity::new("L2", 1)]
    );
    assert_eq!(p.unroutable, vec![LineQuantity::new("L2", 1)]);
}

#[test]
fn missing_units_are_backordered_at_the_best_source_or_unroutable() {
    let p = route(&[line(
        "L1",
        "A",
        4,
        true,
        vec![cand("b", 2, false, 0), cand("a", 1, false, 1)],
    )]);
    assert_eq!(p.shipments["a"], vec![LineQuantity::new("L1", 1)]);
    assert_eq!(
        p.backordered,
        vec![Backorder {
            line_id: "L1".into(),
            fulfiller_id: "a".try_into().unwrap(),
            units: 3
        }]
    );
    let p = route(&[line("L1", "A", 1, false, vec![])]);
    assert_eq!(p.unroutable, vec![LineQuantity::new("L1", 1)]);
}

#[test]
fn prefers_a_fulfiller_already_in_the_order() {
    let p = route(&[
        line("L1", "A", 1, false, vec![cand("x", 1, false, 1)]),
        line(
            "L2",
            "B",
            1,
            false,
            vec![cand("y", 1, false, 1), cand("x", 2, false, 1)],
        ),
    ]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["x"]);
}

#[test]
fn the_fewest_delivery_orders_beat_line_preferences() {
    // L1 prefers x, but y alone can ship everything: one delivery order, not two.
    let p = route(&[
        line(
            "L1",
            "A",
            1,
            false,
            vec![cand("x", 1, false, 5), cand("y", 2, false, 5)],
        ),
        line("L2", "B", 1, false, vec![cand("y", 1, false, 5)]),
        line(
            "L3",
            "C",
            1,
            false,
            vec![cand("x", 1, false, 5), cand("y", 3, false, 5)],
        ),
    ]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["y"]);
    assert_eq!(p.shipments["y"].len(), 3);
}

#[test]
fn among_equally_small_sets_the_lower_priorities_win() {
    // {a, b} and {c, d} both cover all four lines; {a, b} has the lower priorities.
    let p = route(&[
        line(
            "L1",
            "A",
            1,
            false,
            vec![cand("a", 1, false, 1), cand("c", 5, false, 1)],
        ),
        line(
            "L2",
            "B",
            1,
            false,
            vec![cand("b", 1, false, 1), cand("d", 5, false, 1)],
        ),
        line(
            "L3",
            "C",
            1,
            false,
            vec![cand("a", 1, false, 1), cand("d", 5, false, 1)],
        ),
        line(
            "L4",
            "D",
            1,
            false,
            vec![cand("b", 1, false, 1), cand("c", 5, false, 1)],
        ),
    ]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn a_greedy_choice_would_need_three_the_exact_search_finds_two() {
    // Greedy would take m (three lines) and then need both p and q; {p, q} cover all.
    let p = route(&[
        line(
            "L1",
            "A",
            1,
            false,
            vec![cand("m", 1, false, 1), cand("p", 1, false, 1)],
        ),
        line(
            "L2",
            "B",
            1,
            false,
            vec![cand("m", 1, false, 1), cand("p", 1, false, 1)],
        ),
        line(
            "L3",
            "C",
            1,
            false,
            vec![cand("m", 1, false, 1), cand("q", 1, false, 1)],
        ),
        line("L4", "D", 1, false, vec![cand("p", 1, false, 1)]),
        line("L5", "E", 1, false, vec![cand("q", 1, false, 1)]),
    ]);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["p", "q"]);
}

#[test]
fn combinations_are_complete_and_bounded() {
    let items = ["a", "b", "c", "d", "e"];
    assert_eq!(
        combinations(&items, 0, 100).unwrap(),
        vec![Vec::<&str>::new()]
    );
    assert_eq!(combinations(&items, 2, 100).unwrap().len(), 10);
    assert_eq!(combinations(&items, 5, 100).unwrap(), vec![items.to_vec()]);
    assert!(combinations(&items, 6, 100).unwrap().is_empty());
    assert!(combinations(&items, 2, 5).is_none());
}

#[test]
fn a_hundred_lines_over_twenty_sources_route_completely() {
    let lines: Vec<LineDemand> = (0..100)
        .map(|i| {
            let cands = (0..20)
                .map(|f| {
                    cand(
                        &format!("f{f:02}"),
                        (f + i) % 7,
                        f == 0,
                        if (i + f) % 3 == 0 { 10 } else { 0 },
                    )
                })
                .collect();
            line(&format!("L{i}"), &format!("S{i}"), 2, false, cands)
        })
        .collect();
    let p = route(&lines);
    let routed: u32 = p.shipments.values().flatten().map(|l| l.quantity).sum();
    assert_eq!(routed, 200);
    assert!(p.unroutable.is_empty() && p.backordered.is_empty());
    assert!(
        p.shipments.len() <= 3,
        "{:?}",
        p.shipments.keys().collect::<Vec<_>>()
    );
}

fn settings(strategy: RoutingStrategy, prefer_own_warehouses: bool) -> Routing {
    Routing {
        strategy,
        prefer_own_warehouses,
    }
}

const PRIORITY: Routing = Routing {
    strategy: RoutingStrategy::Priority,
    prefer_own_warehouses: true,
};

#[test]
fn fewest_splits_routes_as_route_does() {
    let cases = [
        vec![
            line(
                "L1",
                "A",
                1,
                false,
                vec![cand("x", 1, false, 5), cand("y", 2, false, 5)],
            ),
            line("L2", "B", 1, false, vec![cand("y", 1, false, 5)]),
            line(
                "L3",
                "C",
                4,
                true,
                vec![cand("x", 1, false, 1), cand("wh", 1, true, 2)],
            ),
        ],
        vec![line(
            "L1",
            "A",
            1,
            false,
            vec![cand("drop", 1, false, 5), cand("wh", 1, true, 5)],
        )],
    ];
    for lines in cases {
        let p = route_with(&lines, &Routing::default());
        assert_eq!(p, route(&lines));
    }
}

#[test]
fn priority_sends_each_line_to_its_best_source_even_if_that_adds_a_delivery_order() {
    // y alone could ship both lines, but L1 prefers x.
    let lines = [
        line(
            "L1",
            "A",
            1,
            false,
            vec![cand("x", 1, false, 5), cand("y", 2, false, 5)],
        ),
        line("L2", "B", 1, false, vec![cand("y", 1, false, 5)]),
    ];
    let fewest = route_with(&lines, &settings(RoutingStrategy::FewestSplits, true));
    assert_eq!(fewest.shipments.keys().collect::<Vec<_>>(), ["y"]);
    assert_eq!(fewest.shipments["y"].len(), 2);
    let p = route_with(&lines, &PRIORITY);
    assert_eq!(p.shipments["x"], vec![LineQuantity::new("L1", 1)]);
    assert_eq!(p.shipments["y"], vec![LineQuantity::new("L2", 1)]);
    assert_eq!(p.shipments.len(), 2);
}

#[test]
fn priority_splits_a_line_its_best_source_has_too_little_for() {
    // b could ship all five, but a comes first and ships what it has.
    let lines = [line(
        "L1",
        "A",
        5,
        false,
        vec![cand("b", 2, false, 10), cand("a", 1, false, 2)],
    )];
    let p = route_with(&lines, &PRIORITY);
    assert_eq!(p.shipments["a"], vec![LineQuantity::new("L1", 2)]);
    assert_eq!(p.shipments["b"], vec![LineQuantity::new("L1", 3)]);
    assert!(p.backordered.is_empty() && p.unroutable.is_empty());
    let fewest = route_with(&lines, &Routing::default());
    assert_eq!(fewest.shipments.keys().collect::<Vec<_>>(), ["b"]);
}

#[test]
fn priority_shares_stock_between_lines_in_their_order() {
    let lines = [
        line(
            "L1",
            "A",
            2,
            false,
            vec![cand("a", 1, false, 3), cand("b", 2, false, 5)],
        ),
        line(
            "L2",
            "A",
            2,
            false,
            vec![cand("a", 1, false, 3), cand("b", 2, false, 5)],
        ),
    ];
    let p = route_with(&lines, &PRIORITY);
    assert_eq!(
        p.shipments["a"],
        vec![LineQuantity::new("L1", 2), LineQuantity::new("L2", 1)]
    );
    assert_eq!(p.shipments["b"], vec![LineQuantity::new("L2", 1)]);
}

#[test]
fn without_preferring_own_warehouses_a_tie_goes_by_fulfiller_id() {
    let lines = [line(
        "L1",
        "A",
        1,
        false,
        vec![cand("wh", 1, true, 5), cand("drop", 1, false, 5)],
    )];
    for strategy in [RoutingStrategy::FewestSplits, RoutingStrategy::Priority] {
        let own = route_with(&lines, &settings(strategy, true));
        assert_eq!(
            own.shipments.keys().collect::<Vec<_>>(),
            ["wh"],
            "{strategy:?}"
        );
        let neutral = route_with(&lines, &settings(strategy, false));
        assert_eq!(
            neutral.shipments.keys().collect::<Vec<_>>(),
            ["drop"],
            "{strategy:?}"
        );
    }
    // A better priority still wins over the preference.
    let lines = [line(
        "L1",
        "A",
        1,
        false,
        vec![cand("wh", 2, true, 5), cand("drop", 1, false, 5)],
    )];
    let p = route_with(&lines, &PRIORITY);
    assert_eq!(p.shipments.keys().collect::<Vec<_>>(), ["drop"]);
}

#[test]
fn priority_backorders_what_nobody_has_at_the_best_source() {
    let lines = [line(
        "L1",
        "A",
        4,
        true,
        vec![cand("b", 2, false, 2), cand("a", 1, false, 1)],
    )];
    let p = route_with(&lines, &PRIORITY);
    assert_eq!(p.shipments["a"], vec![LineQuantity::new("L1", 1)]);
    assert_eq!(p.shipments["b"], vec![LineQuantity::new("L1", 2)]);
    assert_eq!(
        p.backordered,
        vec![Backorder {
            line_id: "L1".into(),
            fulfiller_id: "a".try_into().unwrap(),
            units: 1
        }]
    );
    assert!(p.unroutable.is_empty());
    let no_backorder = [LineDemand {
        allow_backorder: false,
        ..lines[0].clone()
    }];
    let p = route_with(&no_backorder, &PRIORITY);
    assert!(p.backordered.is_empty());
    assert_eq!(p.unroutable, vec![LineQuantity::new("L1", 1)]);
}
