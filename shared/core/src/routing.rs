//! Who ships which line. Pure: the caller reads products, fulfillers and stock, this decides.
//!
//! Preference, per API.md and the routing issue: (1) few delivery orders for the whole order,
//! (2) lower source priority number, (3) the retailer's own warehouse before a dropshipper on equal
//! priority. A line is split only when no single source has its full quantity.
//!
//! Current algorithm (greedy, O(lines x sources x log sources)): lines are taken in order; a line
//! goes to a fulfiller already chosen for this order when that one has its full quantity, else to
//! the most preferred source with the full quantity, else it is split over sources in preference
//! order; what no source has is backordered at the best source (when the product allows) or is
//! unroutable.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub fulfiller_id: String,
    pub priority: u32,
    pub own_warehouse: bool,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDemand {
    pub line_id: String,
    pub sku: String,
    pub quantity: u32,
    pub allow_backorder: bool,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutingPlan {
    /// fulfiller -> [(line id, units)] to ship now.
    pub shipments: BTreeMap<String, Vec<(String, u32)>>,
    /// (line id, fulfiller, units) waiting for stock at that fulfiller.
    pub backordered: Vec<(String, String, u32)>,
    /// (line id, units) nobody can ship.
    pub unroutable: Vec<(String, u32)>,
}

fn preference(c: &Candidate) -> (u32, bool, String) {
    (c.priority, !c.own_warehouse, c.fulfiller_id.clone())
}

pub fn route(lines: &[LineDemand]) -> RoutingPlan {
    let mut plan = RoutingPlan::default();
    // Stock still free per (fulfiller, sku): several lines may ask for the same sku.
    let mut free: HashMap<(String, String), u32> = HashMap::new();
    for l in lines {
        for c in &l.candidates {
            free.entry((c.fulfiller_id.clone(), l.sku.clone()))
                .or_insert(c.available);
        }
    }
    for line in lines {
        let mut cands: Vec<&Candidate> = line.candidates.iter().collect();
        cands.sort_by_key(|c| preference(c));
        let free_of = |free: &HashMap<(String, String), u32>, f: &str| {
            free.get(&(f.to_string(), line.sku.clone()))
                .copied()
                .unwrap_or(0)
        };
        let whole = cands
            .iter()
            .find(|c| {
                plan.shipments.contains_key(&c.fulfiller_id)
                    && free_of(&free, &c.fulfiller_id) >= line.quantity
            })
            .or_else(|| {
                cands
                    .iter()
                    .find(|c| free_of(&free, &c.fulfiller_id) >= line.quantity)
            });
        let mut missing = line.quantity;
        let take =
            |f: &str, n: u32, free: &mut HashMap<(String, String), u32>, plan: &mut RoutingPlan| {
                if let Some(v) = free.get_mut(&(f.to_string(), line.sku.clone())) {
                    *v -= n;
                }
                plan.shipments
                    .entry(f.to_string())
                    .or_default()
                    .push((line.line_id.clone(), n));
            };
        if let Some(c) = whole {
            take(&c.fulfiller_id, line.quantity, &mut free, &mut plan);
            missing = 0;
        } else {
            for c in &cands {
                let n = free_of(&free, &c.fulfiller_id).min(missing);
                if n > 0 {
                    take(&c.fulfiller_id, n, &mut free, &mut plan);
                    missing -= n;
                }
            }
        }
        if missing > 0 {
            match cands.first() {
                Some(best) if line.allow_backorder => plan.backordered.push((
                    line.line_id.clone(),
                    best.fulfiller_id.clone(),
                    missing,
                )),
                _ => plan.unroutable.push((line.line_id.clone(), missing)),
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(f: &str, priority: u32, own: bool, available: u32) -> Candidate {
        Candidate {
            fulfiller_id: f.into(),
            priority,
            own_warehouse: own,
            available,
        }
    }

    fn line(id: &str, sku: &str, q: u32, backorder: bool, c: Vec<Candidate>) -> LineDemand {
        LineDemand {
            line_id: id.into(),
            sku: sku.into(),
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
        assert_eq!(p.shipments["a"], vec![("L1".to_string(), 3)]);
        assert_eq!(p.shipments["b"], vec![("L1".to_string(), 2)]);
        let p = route(&[
            line("L1", "A", 2, false, vec![cand("a", 1, false, 3)]),
            line("L2", "A", 2, false, vec![cand("a", 1, false, 3)]),
        ]);
        assert_eq!(
            p.shipments["a"],
            vec![("L1".to_string(), 2), ("L2".to_string(), 1)]
        );
        assert_eq!(p.unroutable, vec![("L2".to_string(), 1)]);
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
        assert_eq!(p.shipments["a"], vec![("L1".to_string(), 1)]);
        assert_eq!(p.backordered, vec![("L1".to_string(), "a".to_string(), 3)]);
        let p = route(&[line("L1", "A", 1, false, vec![])]);
        assert_eq!(p.unroutable, vec![("L1".to_string(), 1)]);
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
}
