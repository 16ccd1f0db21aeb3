//! Who ships which line. Pure: the caller reads products, fulfillers and stock, this decides.
//!
//! Preference, per docs/api.md and the routing issue: (1) the fewest delivery orders for the whole
//! order, (2) lower source priority numbers, (3) the retailer's own warehouse before a dropshipper
//! on equal priority. A line is split only when no single source has its full quantity.
//!
//! Algorithm, for L lines with at most S sources each and F distinct fulfillers among them:
//! 1. Lines that no source can ship whole are split over their sources in preference order
//!    (what nobody has is backordered at the best source if the product allows, else unroutable);
//!    the fulfillers they use are in the order anyway, so later lines may join them for free.
//! 2. For the other lines, the smallest set of further fulfillers that can ship each of them whole
//!    is searched exactly for up to `EXACT_UP_TO` fulfillers: every combination of that size is
//!    tried, each line goes to its most preferred fulfiller in the set that still has the stock,
//!    and among the sets that serve every line the one with the lowest total priority, then the
//!    fewest dropshipper lines, wins. Cost: O(C(F, k) x L x S) for the k found, at most
//!    `MAX_COMBINATIONS` sets per size (about 2 ms for 100 lines x 20 sources, see BENCHMARKS.md).
//! 3. Beyond that (or when the combinations are too many) a greedy set cover takes the fulfiller
//!    that can ship the most remaining lines whole (ties: lower priority, warehouse first), until
//!    no line is left; a line that lost its stock to an earlier one falls back to step 1.

use crate::ids::{FulfillerId, Sku};
use crate::order::LineQuantity;
use crate::process::settings::{Routing, RoutingStrategy};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Sets of this many additional fulfillers are searched exactly.
pub const EXACT_UP_TO: usize = 3;
/// The exact search gives up on a size with more combinations than this (greedy takes over).
pub const MAX_COMBINATIONS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub fulfiller_id: FulfillerId,
    pub priority: u32,
    pub own_warehouse: bool,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDemand {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
    pub allow_backorder: bool,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutingPlan {
    /// fulfiller -> the units of each line it ships now.
    pub shipments: BTreeMap<FulfillerId, Vec<LineQuantity>>,
    /// Units waiting for stock at a fulfiller.
    pub backordered: Vec<Backorder>,
    /// Units of a line nobody can ship.
    pub unroutable: Vec<LineQuantity>,
}

/// Units of a line waiting for stock at the fulfiller that ships it best.
#[derive(Clone, PartialEq, Eq)]
pub struct Backorder {
    pub line_id: String,
    pub fulfiller_id: FulfillerId,
    pub units: u32,
}

debug_as_tuple!(Backorder, line_id, fulfiller_id, units);

type Free = HashMap<(FulfillerId, String), u32>;
/// Lines with the fulfiller each goes to, and the cost (total priority, dropshipper lines).
type Assignment<'a> = (Vec<(&'a LineDemand, FulfillerId)>, (u64, u64));

fn preference(c: &Candidate) -> (u32, bool, &str) {
    (c.priority, !c.own_warehouse, c.fulfiller_id.as_str())
}

fn sorted(line: &LineDemand) -> Vec<&Candidate> {
    let mut c: Vec<&Candidate> = line.candidates.iter().collect();
    c.sort_by(|a, b| preference(a).cmp(&preference(b)));
    c
}

fn free_of(free: &Free, f: &FulfillerId, sku: &str) -> u32 {
    free.get(&(f.clone(), sku.to_string()))
        .copied()
        .unwrap_or(0)
}

fn take(free: &mut Free, plan: &mut RoutingPlan, f: &FulfillerId, line: &LineDemand, n: u32) {
    if let Some(v) = free.get_mut(&(f.clone(), line.sku.to_string())) {
        *v -= n;
    }
    plan.shipments
        .entry(f.clone())
        .or_default()
        .push(LineQuantity::new(line.line_id.clone(), n));
}

/// Splits a line over its sources in preference order; the rest is backordered or unroutable.
fn split(line: &LineDemand, free: &mut Free, plan: &mut RoutingPlan) {
    let cands = sorted(line);
    let mut missing = line.quantity;
    for c in &cands {
        let n = free_of(free, &c.fulfiller_id, line.sku.as_str()).min(missing);
        if n > 0 {
            take(free, plan, &c.fulfiller_id, line, n);
            missing -= n;
        }
    }
    if missing > 0 {
        match cands.first() {
            Some(best) if line.allow_backorder => plan.backordered.push(Backorder {
                line_id: line.line_id.clone(),
                fulfiller_id: best.fulfiller_id.clone(),
                units: missing,
            }),
            _ => plan
                .unroutable
                .push(LineQuantity::new(line.line_id.clone(), missing)),
        }
    }
}

/// Assigns every line whole within `allowed`, most preferred first; None if one cannot be.
/// The cost orders equally small sets: total priority, then dropshipper lines.
fn assign<'a>(
    lines: &[&'a LineDemand],
    allowed: &BTreeSet<&FulfillerId>,
    free: &Free,
) -> Option<Assignment<'a>> {
    let mut free = free.clone();
    let mut out = Vec::with_capacity(lines.len());
    let (mut priority, mut dropship) = (0u64, 0u64);
    for line in lines {
        let c = sorted(line).into_iter().find(|c| {
            allowed.contains(&c.fulfiller_id)
                && free_of(&free, &c.fulfiller_id, line.sku.as_str()) >= line.quantity
        })?;
        if let Some(v) = free.get_mut(&(c.fulfiller_id.clone(), line.sku.to_string())) {
            *v -= line.quantity;
        }
        priority += u64::from(c.priority);
        dropship += u64::from(!c.own_warehouse);
        out.push((*line, c.fulfiller_id.clone()));
    }
    Some((out, (priority, dropship)))
}

/// All k-element combinations of `items`, in order, at most `limit` of them (None if more).
fn combinations<'a, T: ?Sized>(items: &[&'a T], k: usize, limit: usize) -> Option<Vec<Vec<&'a T>>> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    if k > items.len() {
        return Some(out);
    }
    loop {
        out.push(idx.iter().map(|&i| items[i]).collect());
        if out.len() > limit {
            return None;
        }
        let mut i = k;
        loop {
            if i == 0 {
                return Some(out);
            }
            i -= 1;
            if idx[i] != i + items.len() - k {
                break;
            }
            if i == 0 && idx[0] == items.len() - k {
                return Some(out);
            }
        }
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Routes as the process settings' `routing` says. `fewest_splits` is `route`. `priority` sends
/// each line to its most preferred source with stock, splitting it over the next ones when that
/// one has too little (what no one has is backordered at the best source, as in `route`).
/// Without `preferOwnWarehouses`, an own warehouse is no better than a dropshipper of the same
/// priority (ties go by fulfiller id).
pub fn route_with(lines: &[LineDemand], settings: &Routing) -> RoutingPlan {
    let neutral: Vec<LineDemand>;
    let lines = if settings.prefer_own_warehouses {
        lines
    } else {
        neutral = lines
            .iter()
            .map(|l| LineDemand {
                candidates: l
                    .candidates
                    .iter()
                    .map(|c| Candidate {
                        own_warehouse: false,
                        ..c.clone()
                    })
                    .collect(),
                ..l.clone()
            })
            .collect();
        &neutral
    };
    match settings.strategy {
        RoutingStrategy::FewestSplits => route(lines),
        RoutingStrategy::Priority => {
            let mut plan = RoutingPlan::default();
            let mut free = free_stock(lines);
            for line in lines.iter().filter(|l| l.quantity > 0) {
                split(line, &mut free, &mut plan);
            }
            plan
        }
    }
}

/// Stock free per (fulfiller, sku) before any line takes some: several lines may ask for the
/// same sku.
fn free_stock(lines: &[LineDemand]) -> Free {
    let mut free: Free = HashMap::new();
    for l in lines {
        for c in &l.candidates {
            free.entry((c.fulfiller_id.clone(), l.sku.to_string()))
                .or_insert(c.available);
        }
    }
    free
}

pub fn route(lines: &[LineDemand]) -> RoutingPlan {
    let mut plan = RoutingPlan::default();
    let mut free = free_stock(lines);
    let whole = |l: &LineDemand, free: &Free| {
        l.candidates
            .iter()
            .any(|c| free_of(free, &c.fulfiller_id, l.sku.as_str()) >= l.quantity)
    };
    // 1. Lines no single source can ship whole.
    let (rest, to_split): (Vec<&LineDemand>, Vec<&LineDemand>) = lines
        .iter()
        .filter(|l| l.quantity > 0)
        .partition(|l| whole(l, &free));
    for line in to_split {
        split(line, &mut free, &mut plan);
    }
    let mut used: BTreeSet<FulfillerId> = plan.shipments.keys().cloned().collect();

    // 2. The smallest set of further fulfillers, searched exactly.
    let mut remaining: Vec<&LineDemand> = rest;
    let fulfillers: Vec<FulfillerId> = remaining
        .iter()
        .flat_map(|l| l.candidates.iter().map(|c| c.fulfiller_id.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|f| !used.contains(f))
        .collect();
    let names: Vec<&FulfillerId> = fulfillers.iter().collect();
    // Which of the new fulfillers (bit i = names[i]) could ship each line whole, and whether a
    // fulfiller already in the order could: a set that leaves some line with neither is skipped
    // without trying to assign (most sets, when stock is scattered).
    let masks: Option<Vec<(u64, bool)>> = (names.len() <= 64).then(|| {
        remaining
            .iter()
            .map(|l| {
                let mut mask = 0u64;
                let mut by_used = false;
                for c in l
                    .candidates
                    .iter()
                    .filter(|c| free_of(&free, &c.fulfiller_id, l.sku.as_str()) >= l.quantity)
                {
                    match names.iter().position(|n| *n == &c.fulfiller_id) {
                        Some(i) => mask |= 1 << i,
                        None => by_used |= used.contains(&c.fulfiller_id),
                    }
                }
                (mask, by_used)
            })
            .collect()
    });
    let mut chosen: Option<Vec<(&LineDemand, FulfillerId)>> = None;
    'sizes: for k in 0..=EXACT_UP_TO.min(names.len()) {
        let Some(sets) = combinations(&names, k, MAX_COMBINATIONS) else {
            break;
        };
        let mut best: Option<Assignment<'_>> = None;
        for set in sets {
            if let Some(masks) = &masks {
                let set_mask = set
                    .iter()
                    .filter_map(|f| names.iter().position(|n| n == f))
                    .fold(0u64, |m, i| m | 1 << i);
                if masks
                    .iter()
                    .any(|(m, by_used)| !by_used && m & set_mask == 0)
                {
                    continue;
                }
            }
            let allowed: BTreeSet<&FulfillerId> = used.iter().chain(set.iter().copied()).collect();
            if let Some((assignment, cost)) = assign(&remaining, &allowed, &free) {
                if best.as_ref().is_none_or(|(_, c)| cost < *c) {
                    best = Some((assignment, cost));
                }
            }
        }
        if let Some((assignment, _)) = best {
            chosen = Some(assignment);
            break 'sizes;
        }
    }
    if let Some(assignment) = chosen {
        for (line, f) in assignment {
            take(&mut free, &mut plan, &f, line, line.quantity);
        }
        return plan;
    }

    // 3. Greedy set cover for what the exact search could not settle.
    while !remaining.is_empty() {
        let mut best: Option<(usize, (u64, bool, FulfillerId))> = None;
        for f in used
            .iter()
            .cloned()
            .chain(fulfillers.iter().cloned())
            .collect::<BTreeSet<_>>()
        {
            let servable: Vec<&&LineDemand> = remaining
                .iter()
                .filter(|l| {
                    l.candidates.iter().any(|c| c.fulfiller_id == f)
                        && free_of(&free, &f, l.sku.as_str()) >= l.quantity
                })
                .collect();
            if servable.is_empty() {
                continue;
            }
            let priority: u64 = servable
                .iter()
                .filter_map(|l| {
                    l.candidates
                        .iter()
                        .find(|c| c.fulfiller_id == f)
                        .map(|c| u64::from(c.priority))
                })
                .sum();
            let own = servable.iter().any(|l| {
                l.candidates
                    .iter()
                    .any(|c| c.fulfiller_id == f && c.own_warehouse)
            });
            // Reusing a fulfiller already in the order costs no delivery order: it goes first.
            let count = servable.len() + if used.contains(&f) { lines.len() } else { 0 };
            let key = (priority, !own, f.clone());
            if best
                .as_ref()
                .is_none_or(|(n, k)| count > *n || (count == *n && key < *k))
            {
                best = Some((count, key));
            }
        }
        let Some((_, (_, _, f))) = best else {
            // Nobody can ship a remaining line whole any more: split what is left.
            for line in remaining.drain(..) {
                split(line, &mut free, &mut plan);
            }
            break;
        };
        remaining.retain(|l| {
            if l.candidates.iter().any(|c| c.fulfiller_id == f)
                && free_of(&free, &f, l.sku.as_str()) >= l.quantity
            {
                take(&mut free, &mut plan, &f, l, l.quantity);
                false
            } else {
                true
            }
        });
        used.insert(f);
    }
    plan
}

#[cfg(test)]
mod tests {
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
}
