//! The order process as an SVG picture, with the layout the BPMN diagram has
//! (`layout::layout`): tasks as boxes, events as circles (timers with their duration), gateways
//! as diamonds, flows as arrows.

use std::fmt::Write as _;

use super::escape;
use super::layout::{layout, Bounds};
use super::model::{NodeKind, ProcessModel, TaskKind};

const FONT: &str = r#"font-family="sans-serif" font-size="11""#;
/// Characters per label line inside a task box and under an event.
const TASK_LINE: usize = 19;
const EVENT_LINE: usize = 24;
/// Narrower under a boundary event: a second one may stand beside it.
const BOUNDARY_LINE: usize = 12;
const LINE_HEIGHT: i32 = 13;

/// The SVG picture of `model`.
pub fn to_svg(model: &ProcessModel) -> String {
    let l = layout(model);
    let mut s = String::with_capacity(32 * 1024);
    // Writing into a String cannot fail: the results of write! are ignored below.
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        w = l.width,
        h = l.height
    );
    s.push_str(concat!(
        "<title>Order process</title>\n",
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">"#,
        r##"<path d="M 0 0 L 10 5 L 0 10 z" fill="#333" /></marker></defs>"##,
        "\n",
        r##"<rect width="100%" height="100%" fill="#fff" />"##,
        "\n",
    ));
    for (f, points) in model.flows.iter().zip(&l.edges) {
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = writeln!(
            s,
            r##"<polyline id="{}" points="{}" fill="none" stroke="#333" stroke-width="1.5" marker-end="url(#arrow)" />"##,
            escape(&f.id),
            path.join(" ")
        );
        // A condition's name where its flow leaves the gateway: beside one that leaves downwards,
        // above any other.
        if let (Some(name), [(x0, y0), (x1, y1), ..]) = (f.name, points.as_slice()) {
            let (x, y) = if x0 == x1 && y1 > y0 {
                (x0 + 4, y0 + 12)
            } else {
                (x0 + 4, y0 - 4)
            };
            let _ = writeln!(
                s,
                r##"<text x="{x}" y="{y}" {FONT} fill="#555">{}</text>"##,
                escape(name)
            );
        }
    }
    for n in &model.nodes {
        let Some(b) = l.shapes.get(n.id) else {
            continue;
        };
        let (cx, cy) = b.center();
        let id = escape(n.id);
        match &n.kind {
            NodeKind::Task(kind) => {
                let fill = match kind {
                    TaskKind::Service => "#ffffff",
                    TaskKind::User => "#e8f1fb",
                    TaskKind::Send => "#fff6d8",
                    TaskKind::Receive => "#eeeeee",
                };
                let _ = writeln!(
                    s,
                    r##"<rect id="{id}" x="{}" y="{}" width="{}" height="{}" rx="10" fill="{fill}" stroke="#333" stroke-width="1.5" />"##,
                    b.x, b.y, b.width, b.height
                );
                label(&mut s, &n.name, TASK_LINE, cx, cy);
            }
            NodeKind::Gateway => {
                let _ = writeln!(
                    s,
                    r##"<polygon id="{id}" points="{cx},{} {},{cy} {cx},{} {},{cy}" fill="#fff" stroke="#333" stroke-width="1.5" />"##,
                    b.y,
                    b.x + b.width,
                    b.y + b.height,
                    b.x
                );
                let _ = writeln!(
                    s,
                    r#"<text x="{cx}" y="{}" font-family="sans-serif" font-size="20" text-anchor="middle">×</text>"#,
                    cy + 7
                );
                label_above(&mut s, &n.name, b);
            }
            NodeKind::Start | NodeKind::End => {
                let width = if matches!(n.kind, NodeKind::End) {
                    4
                } else {
                    2
                };
                let _ = writeln!(
                    s,
                    r##"<circle id="{id}" cx="{cx}" cy="{cy}" r="{}" fill="#fff" stroke="#333" stroke-width="{width}" />"##,
                    b.width / 2
                );
                label_below(&mut s, &n.name, EVENT_LINE, b);
            }
            NodeKind::Timer {
                interrupting,
                attached_to,
                ..
            } => {
                // BPMN draws a boundary timer that lets its host go on with a dashed rim.
                let dash = if *interrupting {
                    ""
                } else {
                    r#" stroke-dasharray="4 2""#
                };
                let r = b.width / 2;
                let _ = writeln!(
                    s,
                    concat!(
                        r##"<g id="{id}"><circle cx="{cx}" cy="{cy}" r="{r}" fill="#fff" stroke="#333" stroke-width="1.5"{dash} />"##,
                        r##"<circle cx="{cx}" cy="{cy}" r="{ri}" fill="#fff" stroke="#333"{dash} />"##,
                        r##"<path d="M {cx} {top} L {cx} {cy} L {right} {cy}" stroke="#333" fill="none" /></g>"##,
                    ),
                    id = id,
                    cx = cx,
                    cy = cy,
                    r = r,
                    ri = r - 4,
                    dash = dash,
                    top = cy - r + 8,
                    right = cx + 7,
                );
                label_below(
                    &mut s,
                    &n.name,
                    if attached_to.is_some() {
                        BOUNDARY_LINE
                    } else {
                        EVENT_LINE
                    },
                    b,
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A label centred on (`cx`, `cy`), wrapped at `width` characters.
fn label(s: &mut String, text: &str, width: usize, cx: i32, cy: i32) {
    let lines = wrap(text, width);
    let count = i32::try_from(lines.len()).unwrap_or(1);
    let first = cy - (count - 1) * LINE_HEIGHT / 2 + 4;
    write_lines(s, &lines, cx, first);
}

/// An event's label under its shape.
fn label_below(s: &mut String, text: &str, width: usize, b: &Bounds) {
    write_lines(
        s,
        &wrap(text, width),
        b.center().0,
        b.y + b.height + LINE_HEIGHT,
    );
}

/// A gateway's label above it: its ways out leave to the side and downwards.
fn label_above(s: &mut String, text: &str, b: &Bounds) {
    let lines = wrap(text, EVENT_LINE);
    let count = i32::try_from(lines.len()).unwrap_or(1);
    write_lines(s, &lines, b.center().0, b.y - 6 - (count - 1) * LINE_HEIGHT);
}

fn write_lines(s: &mut String, lines: &[String], cx: i32, first: i32) {
    let _ = write!(
        s,
        r#"<text x="{cx}" y="{first}" {FONT} text-anchor="middle">"#
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0 } else { LINE_HEIGHT };
        let _ = write!(s, r#"<tspan x="{cx}" dy="{dy}">{}</tspan>"#, escape(line));
    }
    s.push_str("</text>\n");
}

/// Words into lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}
