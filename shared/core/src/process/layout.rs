//! Where each node and flow of a `ProcessModel` is drawn, left to right: the one layout the BPMN
//! diagram section and the SVG picture share.
//!
//! Columns follow the flows (a node one column right of the furthest step before it; back flows
//! not counted), rows are the model's. Flows run orthogonally in the gaps between the cells, so
//! they cross no node.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{NodeKind, ProcessModel};

const CELL_WIDTH: i32 = 170;
const CELL_HEIGHT: i32 = 140;
const MARGIN: i32 = 40;
const TASK: (i32, i32) = (120, 80);
const EVENT: i32 = 36;
const GATEWAY: i32 = 50;
/// Room below a row for the labels of its events and gateways.
const LABEL_ROOM: i32 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Bounds {
    pub fn center(&self) -> (i32, i32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }
    fn right(&self) -> i32 {
        self.x + self.width
    }
    fn bottom(&self) -> i32 {
        self.y + self.height
    }
    /// Whether the two overlap (touching edges do not).
    pub fn overlaps(&self, o: &Bounds) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
}

pub type Point = (i32, i32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Per node id, its shape.
    pub shapes: BTreeMap<&'static str, Bounds>,
    /// Per flow (in the model's order), its waypoints from source to target.
    pub edges: Vec<Vec<Point>>,
    pub width: i32,
    pub height: i32,
}

/// Lays out `model`.
pub fn layout(model: &ProcessModel) -> Layout {
    let columns = columns(model);
    let cell = |id: &str| (columns.get(id).copied().unwrap_or(0), row_of(model, id));
    let mut shapes = BTreeMap::new();
    let mut boundaries: BTreeMap<&str, i32> = BTreeMap::new();
    // Hosts first, so their boundary events find them.
    for n in model
        .nodes
        .iter()
        .filter(|n| attached_to(&n.kind).is_none())
    {
        let (col, row) = cell(n.id);
        let (w, h) = match n.kind {
            NodeKind::Task(_) => TASK,
            NodeKind::Gateway => (GATEWAY, GATEWAY),
            _ => (EVENT, EVENT),
        };
        let (cx, cy) = cell_center(col, row);
        shapes.insert(
            n.id,
            Bounds {
                x: cx - w / 2,
                y: cy - h / 2,
                width: w,
                height: h,
            },
        );
    }
    for n in &model.nodes {
        let Some(host) = attached_to(&n.kind) else {
            continue;
        };
        let Some(h) = shapes.get(host).copied() else {
            continue;
        };
        // Side by side along the host's lower edge.
        let k = boundaries.entry(host).or_insert(0);
        let cx = h.x + 25 + *k * 70;
        *k += 1;
        shapes.insert(
            n.id,
            Bounds {
                x: cx - EVENT / 2,
                y: h.bottom() - EVENT / 2,
                width: EVENT,
                height: EVENT,
            },
        );
    }
    let occupied: BTreeSet<(u32, u32)> = model
        .nodes
        .iter()
        .filter(|n| attached_to(&n.kind).is_none())
        .map(|n| cell(n.id))
        .collect();
    let edges = model
        .flows
        .iter()
        .map(|f| {
            let (Some(s), Some(t)) = (shapes.get(f.source), shapes.get(f.target)) else {
                return Vec::new();
            };
            let from = model
                .node(f.source)
                .map(|n| attached_to(&n.kind).is_some())
                .unwrap_or(false);
            route(s, cell(f.source), from, t, cell(f.target), &occupied)
        })
        .collect();
    let max_col = columns.values().copied().max().unwrap_or(0);
    let max_row = model.nodes.iter().map(|n| n.row).max().unwrap_or(0);
    Layout {
        shapes,
        edges,
        width: 2 * MARGIN + to_i32(max_col + 1) * CELL_WIDTH,
        height: 2 * MARGIN + to_i32(max_row + 1) * CELL_HEIGHT,
    }
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn attached_to(k: &NodeKind) -> Option<&'static str> {
    match k {
        NodeKind::Timer { attached_to, .. } => *attached_to,
        _ => None,
    }
}

/// A node's row; a boundary event's is its host's.
fn row_of(model: &ProcessModel, id: &str) -> u32 {
    match model.node(id) {
        Some(n) => match attached_to(&n.kind) {
            Some(host) => model.node(host).map_or(n.row, |h| h.row),
            None => n.row,
        },
        None => 0,
    }
}

fn cell_left(col: u32) -> i32 {
    MARGIN + to_i32(col) * CELL_WIDTH
}

fn row_top(row: u32) -> i32 {
    MARGIN + to_i32(row) * CELL_HEIGHT
}

fn cell_center(col: u32, row: u32) -> Point {
    (cell_left(col) + CELL_WIDTH / 2, row_top(row) + TASK.1 / 2)
}

/// The horizontal gap under a row (labels of events sit just below their shape, above it).
fn gap_below(row: u32) -> i32 {
    row_top(row) + TASK.1 + LABEL_ROOM + (CELL_HEIGHT - TASK.1 - LABEL_ROOM) / 2
}

/// Each node's column: one right of the furthest node before it over forward flows; a boundary
/// event stands in its host's column; a node reached only by back flows stands just left of
/// what follows it.
fn columns(model: &ProcessModel) -> BTreeMap<&'static str, u32> {
    let mut col: BTreeMap<&'static str, u32> = model.nodes.iter().map(|n| (n.id, 0)).collect();
    // Longest paths over an acyclic graph: as many rounds as nodes settle it.
    for _ in 0..model.nodes.len() {
        let mut changed = false;
        for n in &model.nodes {
            if let Some(host) = attached_to(&n.kind) {
                let c = col.get(host).copied().unwrap_or(0);
                changed |= col.insert(n.id, c) != Some(c);
            }
        }
        for f in model.flows.iter().filter(|f| !f.back) {
            let c = col.get(f.source).copied().unwrap_or(0) + 1;
            if col.get(f.target).is_some_and(|t| *t < c) {
                col.insert(f.target, c);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for n in &model.nodes {
        let fed = model.flows.iter().any(|f| !f.back && f.target == n.id);
        let starts = matches!(n.kind, NodeKind::Start) || attached_to(&n.kind).is_some();
        if !fed && !starts {
            let next = model
                .flows
                .iter()
                .filter(|f| f.source == n.id)
                .filter_map(|f| col.get(f.target))
                .min();
            if let Some(next) = next.copied() {
                col.insert(n.id, next.saturating_sub(1));
            }
        }
    }
    col
}

/// The waypoints of a flow from `s` (in cell `sc`; a boundary event stands in its host's) to `t`
/// (in `tc`). Straight from side to side when nothing stands between them in one row; otherwise
/// out of the source's bottom (its top when the target is higher up) into the gap beside that
/// row, along it to the gap left of the target's column, and into the target's left side.
fn route(
    s: &Bounds,
    sc: (u32, u32),
    boundary: bool,
    t: &Bounds,
    tc: (u32, u32),
    occupied: &BTreeSet<(u32, u32)>,
) -> Vec<Point> {
    let (scx, scy) = s.center();
    let (_, tcy) = t.center();
    let entry = (t.x, tcy);
    let free_between = (sc.0 + 1..tc.0).all(|c| !occupied.contains(&(c, sc.1)));
    if !boundary && sc.1 == tc.1 && tc.0 > sc.0 && free_between {
        return vec![(s.right(), scy), entry];
    }
    let (exit, gap) = if boundary || tc.1 >= sc.1 {
        ((scx, s.bottom()), gap_below(sc.1))
    } else if sc.1 == 0 {
        ((scx, s.y), row_top(0) - MARGIN / 2)
    } else {
        ((scx, s.y), gap_below(sc.1 - 1))
    };
    let in_x = cell_left(tc.0);
    simplify(vec![exit, (scx, gap), (in_x, gap), (in_x, tcy), entry])
}

/// Drops repeated points and the middle of three in a line.
fn simplify(points: Vec<Point>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for p in points {
        if out.last() == Some(&p) {
            continue;
        }
        if let [.., a, b] = out.as_slice() {
            if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}
