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
mod tests;
