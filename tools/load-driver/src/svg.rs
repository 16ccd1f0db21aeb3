//! The run as a plain SVG (no script): above, the target and achieved rate with errors per
//! second; below, each operation's p99 per second on a logarithmic axis.

use crate::mix::Op;
use crate::stats::Report;
use std::fmt::Write;

const W: f64 = 900.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 130.0;
const TOP1: f64 = 40.0;
const H1: f64 = 180.0;
const TOP2: f64 = 270.0;
const H2: f64 = 220.0;
const COLOURS: [&str; 7] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2",
];

fn polyline(out: &mut String, points: &[(f64, f64)], colour: &str, dash: bool) {
    if points.is_empty() {
        return;
    }
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let dash = if dash {
        r#" stroke-dasharray="4 3""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{}"/>"#,
        pts.join(" ")
    );
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{s}</text>"#
    );
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let seconds = r.timeline.len().max(1) as f64;
    let plot_w = W - LEFT - RIGHT;
    let x = |s: f64| LEFT + plot_w * (s + 0.5) / seconds;
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="540" viewBox="0 0 {W} 540" font-family="sans-serif" font-size="11">"#
    );
    o.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let title = format!(
        "load-driver: {} requests in {} s, {} ok/s on average, {} errors, {} dropped",
        r.completed, r.run.elapsed_seconds, r.achieved_rps, r.errors, r.dropped
    );
    text(&mut o, W / 2.0, 20.0, "middle", &title);

    // Panel 1: rates.
    let max_rate = r
        .timeline
        .iter()
        .map(|s| s.target_rps.max(s.completed as f64))
        .fold(1.0, f64::max)
        * 1.1;
    let y1 = |v: f64| TOP1 + H1 - H1 * v / max_rate;
    axes(&mut o, TOP1, H1);
    for i in 0..=4 {
        let v = max_rate * f64::from(i) / 4.0;
        text(&mut o, LEFT - 5.0, y1(v) + 4.0, "end", &format!("{v:.0}"));
    }
    text(&mut o, LEFT, TOP1 - 6.0, "start", "requests per second");
    let pts = |f: &dyn Fn(&crate::stats::SecondReport) -> f64| -> Vec<(f64, f64)> {
        r.timeline
            .iter()
            .map(|s| (x(s.second as f64), y1(f(s))))
            .collect()
    };
    polyline(&mut o, &pts(&|s| s.target_rps), "#888", true);
    polyline(&mut o, &pts(&|s| s.ok as f64), "#000", false);
    polyline(
        &mut o,
        &pts(&|s| (s.errors + s.dropped) as f64),
        "#d62728",
        false,
    );
    legend(
        &mut o,
        TOP1,
        &[
            ("#888", "target rps"),
            ("#000", "ok/s"),
            ("#d62728", "errors+dropped/s"),
        ],
    );

    // Panel 2: p99 per operation, log scale from 1 ms.
    let max_ms = r
        .timeline
        .iter()
        .flat_map(|s| s.p99_by_operation.values().copied())
        .fold(10.0, f64::max);
    let decades = max_ms.log10().ceil().max(1.0);
    let y2 = |ms: f64| TOP2 + H2 - H2 * ms.max(1.0).log10() / decades;
    axes(&mut o, TOP2, H2);
    for d in 0..=decades as i32 {
        let v = 10f64.powi(d);
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/>"##,
            W - RIGHT,
            y = y2(v)
        );
        text(&mut o, LEFT - 5.0, y2(v) + 4.0, "end", &format!("{v}"));
    }
    text(
        &mut o,
        LEFT,
        TOP2 - 6.0,
        "start",
        "p99 per operation, ms (log)",
    );
    let mut entries = Vec::new();
    for op in Op::ALL {
        let points: Vec<(f64, f64)> = r
            .timeline
            .iter()
            .filter_map(|s| {
                s.p99_by_operation
                    .get(op.key())
                    .map(|ms| (x(s.second as f64), y2(*ms)))
            })
            .collect();
        if !points.is_empty() {
            polyline(&mut o, &points, COLOURS[op.index()], false);
            entries.push((COLOURS[op.index()], op.key()));
        }
    }
    legend(&mut o, TOP2, &entries);
    for i in 0..=5 {
        let s = seconds * f64::from(i) / 5.0;
        text(
            &mut o,
            x(s - 0.5),
            TOP2 + H2 + 15.0,
            "middle",
            &format!("{s:.0}"),
        );
    }
    text(
        &mut o,
        LEFT + plot_w / 2.0,
        TOP2 + H2 + 32.0,
        "middle",
        "seconds since start (by scheduled start)",
    );
    if let Some(c) = &r.ceiling {
        let cx = x(c.at_second as f64);
        let _ = writeln!(
            o,
            r##"<line x1="{cx:.1}" x2="{cx:.1}" y1="{TOP1}" y2="{:.1}" stroke="#d62728" stroke-dasharray="2 2"/>"##,
            TOP2 + H2
        );
        let label = format!("ceiling ~{} rps ({})", c.target_rps, c.reason);
        text(&mut o, cx + 4.0, TOP1 + 12.0, "start", &label);
    }
    o.push_str("</svg>\n");
    o
}

fn axes(o: &mut String, top: f64, h: f64) {
    let _ = writeln!(
        o,
        r##"<rect x="{LEFT}" y="{top}" width="{:.1}" height="{h}" fill="none" stroke="#444"/>"##,
        W - LEFT - RIGHT
    );
}

fn legend(o: &mut String, top: f64, entries: &[(&str, &str)]) {
    for (i, (colour, name)) in entries.iter().enumerate() {
        let y = top + 10.0 + 16.0 * i as f64;
        let x = W - RIGHT + 10.0;
        let _ = writeln!(
            o,
            r#"<line x1="{x}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2"/>"#,
            x + 18.0
        );
        text(o, x + 22.0, y + 4.0, "start", name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Profile;
    use crate::stats::{test_run, Outcome, Recorder};

    #[test]
    fn the_plot_is_plain_svg_with_one_line_per_operation_seen() {
        let mut r = Recorder::default();
        for s in 0..10 {
            let at = f64::from(s);
            r.sent(at);
            r.record(Op::CreateOrder, at, 30_000, &Outcome::Status(201));
            r.record(Op::Report, at, 300_000, &Outcome::Status(200));
        }
        let report = r.report(test_run(Profile::parse("1,1,0,10").unwrap(), 10.0));
        let svg = render(&report);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script"));
        // target, answered, errors, and the two operations seen.
        assert_eq!(svg.matches("<polyline").count(), 5);
        assert!(svg.contains(">create</text>") && svg.contains(">report</text>"));
        assert!(!svg.contains(">ship</text>"));
    }
}
