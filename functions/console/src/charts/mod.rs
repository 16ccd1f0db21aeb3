//! Charts for the console's report pages: the JSON rows of `GET /admin/reports/{kind}` turned
//! into a self-contained SVG (server-side, no JavaScript) with `plotters`.
//!
//! Which kind gets which chart (the others - customers, settlement, promotions - are tables):
//! - `orders`: order value per day (line; rows per day, channel and status summed per day,
//!   cancelled orders left out, one currency).
//! - `finance`: net revenue per month (bars; countries and tax rates summed per month, one
//!   currency).
//! - `sales`: top sellers and slow sellers by units sold (horizontal bars, label = sku), and as a
//!   second chart ([`charts_for_report`], [`return_rates`]) the return rate per sku.
//! - `returns`: share of the cases per kind (cancellation, unroutable, return, goodwill,
//!   chargeback), in percent.
//! - `stock`: units per fulfiller (free and reserved) and the hours since its last stock update.
//!
//! Money is read as `rust_decimal::Decimal` and summed as such; it becomes `f64` only for pixel
//! geometry (bar lengths, line points, axis ticks). A row missing a field, or with a field that
//! does not parse, is skipped. Where the rows carry several currencies, a money chart shows the
//! currency with the most rows (named in its captions) rather than adding up different money.
//!
//! Fonts: plotters is built without `ttf`/`ab_glyph`, so it estimates text sizes itself and
//! writes `<text font-family="sans-serif">`: the browser draws the text, no font file is read.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::error::Error;
use std::str::FromStr;

/// The accent colour of bars and lines when the caller gives none (a muted green).
pub const DEFAULT_ACCENT: &str = "#2E5E4E";

/// Bar charts show at most this many bars (per panel).
const MAX_BARS: usize = 20;
/// The SVG's coordinate width; it scales with the viewBox.
const WIDTH: u32 = 800;
/// Longest label (in characters) before it is shortened with an ellipsis.
const MAX_LABEL: usize = 30;
/// A day line covers at most this many days (the API allows 366); older days are dropped.
const MAX_DAYS: i64 = 400;
/// A month chart covers at most this many months.
const MAX_MONTHS: usize = 36;

const FONT: &str = "sans-serif";
const TEXT: RGBColor = RGBColor(0x33, 0x33, 0x33);
const MUTED: RGBColor = RGBColor(0x6B, 0x6F, 0x76);
const GRID: RGBColor = RGBColor(0xE3, 0xE5, 0xE8);
const AXIS: RGBColor = RGBColor(0x9A, 0x9E, 0xA5);

type DrawResult = Result<(), Box<dyn Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The chart for a report kind's rows, in the default accent colour; None for kinds a table
/// says enough about, for empty rows, or when no row has the fields the chart needs.
pub fn for_report(kind: &str, rows: &[Value], lang: &str) -> Option<String> {
    for_report_with_accent(kind, rows, lang, DEFAULT_ACCENT)
}

/// [`for_report`] with an accent colour `#RRGGBB` (an invalid one falls back to
/// [`DEFAULT_ACCENT`]).
pub fn for_report_with_accent(
    kind: &str,
    rows: &[Value],
    lang: &str,
    accent: &str,
) -> Option<String> {
    charts_for_report(kind, rows, lang, accent)
        .into_iter()
        .next()
}

/// All charts of a report kind, most important first: `sales` gives the top/slow sellers and
/// the return rates per sku, the other charted kinds one chart, the rest none.
pub fn charts_for_report(kind: &str, rows: &[Value], lang: &str, accent: &str) -> Vec<String> {
    let lang = Lang::of(lang);
    let accent = parse_colour(accent).unwrap_or(RGBColor(0x2E, 0x5E, 0x4E));
    if rows.is_empty() {
        return Vec::new();
    }
    let charts = match kind {
        "orders" => vec![orders_per_day(rows, lang, accent)],
        "finance" => vec![net_per_month(rows, lang, accent)],
        "sales" => vec![
            sellers(rows, lang, accent),
            return_rates_chart(rows, lang, accent),
        ],
        "returns" => vec![returns_by_kind(rows, lang, accent)],
        "stock" => vec![stock_by_fulfiller(rows, lang, accent)],
        _ => Vec::new(),
    };
    charts.into_iter().flatten().collect()
}

/// The return rate per sku (units returned / units ordered less cancelled, in percent) from the
/// rows of the `sales` report; None when no sku had a return.
pub fn return_rates(rows: &[Value], lang: &str, accent: &str) -> Option<String> {
    let accent = parse_colour(accent).unwrap_or(RGBColor(0x2E, 0x5E, 0x4E));
    return_rates_chart(rows, Lang::of(lang), accent)
}

// ---------------------------------------------------------------------------------------------
// Language and number formats

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lang {
    De,
    En,
}

impl Lang {
    fn of(lang: &str) -> Lang {
        if lang.trim().to_ascii_lowercase().starts_with("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    fn t(self, de: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::De => ('.', ','),
            Lang::En => (',', '.'),
        }
    }
}

/// Digits grouped by thousands: `1234567` as `1.234.567` (de) or `1,234,567` (en).
fn group_digits(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A decimal with `dp` places in the language's format (`1.234,50` or `1,234.50`).
fn fmt_decimal(d: Decimal, dp: u32, lang: Lang) -> String {
    let (thousands, point) = lang.separators();
    let d = d.round_dp(dp);
    let text = format!("{:.*}", dp as usize, d.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut out = String::new();
    if d.is_sign_negative() && !d.is_zero() {
        out.push('-');
    }
    out.push_str(&group_digits(&int, thousands));
    if let Some(f) = frac {
        out.push(point);
        out.push_str(&f);
    }
    out
}

fn fmt_count(n: u64, lang: Lang) -> String {
    group_digits(&n.to_string(), lang.separators().0)
}

/// An axis tick. Ticks are positions on the axis (pixel geometry), so they are f64 here; the
/// exact values are printed from Decimal next to the bars.
fn fmt_tick(v: f64, lang: Lang) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let rounded = v.round();
    if (v - rounded).abs() < 1e-6 {
        let neg = rounded < 0.0;
        // f64 -> integer only to print an axis position; out-of-range values saturate.
        let digits = group_digits(&(rounded.abs() as u64).to_string(), lang.separators().0);
        return if neg { format!("-{digits}") } else { digits };
    }
    let mut s = format!("{v:.2}");
    while s.ends_with('0') {
        s.pop();
    }
    if lang == Lang::De {
        s = s.replace('.', ",");
    }
    s
}

fn fmt_percent(p: Decimal, lang: Lang) -> String {
    format!("{} %", fmt_decimal(p, 1, lang))
}

fn fmt_age(hours: u64, lang: Lang) -> String {
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} {}", hours / 24, lang.t("Tage", "days"))
    }
}

/// A label shortened to [`MAX_LABEL`] characters.
fn short(label: &str) -> String {
    let label = label.trim();
    if label.chars().count() <= MAX_LABEL {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX_LABEL - 1).collect();
        s.push('…');
        s
    }
}

/// Decimal to f64, for pixel geometry only (bar lengths, line points, axis ranges).
fn px(d: Decimal) -> Option<f64> {
    d.to_f64().filter(|v| v.is_finite())
}

fn parse_colour(s: &str) -> Option<RGBColor> {
    let hex = s.trim().strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(RGBColor(byte(0)?, byte(2)?, byte(4)?))
}

/// The accent mixed with white (`share` of white, 0..=1), for a second series.
fn lighter(c: RGBColor, share: f64) -> RGBColor {
    let mix = |v: u8| {
        let v = f64::from(v);
        // Colour arithmetic, not money.
        (v + (255.0 - v) * share).round().clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

// ---------------------------------------------------------------------------------------------
// Reading rows

fn text<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn count(row: &Value, key: &str) -> Option<u64> {
    row.get(key)?.as_u64()
}

/// A signed integer (e.g. `free`, which could dip below zero) clamped at zero.
fn count_clamped(row: &Value, key: &str) -> Option<u64> {
    let v = row.get(key)?;
    v.as_u64()
        .or_else(|| v.as_i64().map(|n| u64::try_from(n.max(0)).unwrap_or(0)))
}

/// A money amount: a decimal string such as "12.50" (a plain JSON number is read too).
fn money(row: &Value, key: &str) -> Option<Decimal> {
    match row.get(key)? {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// A `YYYY-MM-DD` date as a day number (days since 0000-03-01, proleptic Gregorian), checked.
fn day_number(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe)
}

/// The (year, month, day) of a day number from [`day_number`].
fn civil(z: i64) -> (i64, i64, i64) {
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A `YYYY-MM` month as a month number (year * 12 + month - 1), checked.
fn month_number(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

/// The currency with the most rows (ties: alphabetical), among the rows `keep` accepts.
fn main_currency(rows: &[Value], keep: impl Fn(&Value) -> bool) -> Option<&str> {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| keep(r)) {
        if let Some(c) = text(r, "currency") {
            *n.entry(c).or_default() += 1;
        }
    }
    // max_by_key keeps the last maximum; iterate in reverse so ties go to the first name.
    n.into_iter().rev().max_by_key(|(_, k)| *k).map(|(c, _)| c)
}

// ---------------------------------------------------------------------------------------------
// SVG output

/// Draws on a fresh SVG of `width` x `height` and returns it sized by its viewBox, with
/// `role="img"`, an `aria-label` and a `<title>`.
fn render(
    width: u32,
    height: u32,
    label: &str,
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Option<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        draw(&root).ok()?;
        root.present().ok()?;
    }
    accessible(&buf, width, height, label)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces plotters' `<svg width=.. height=..>` by one that scales (viewBox, width 100%) and
/// says what it shows.
fn accessible(svg: &str, width: u32, height: u32, label: &str) -> Option<String> {
    let start = svg.find("<svg")?;
    let end = start + svg.get(start..)?.find('>')?;
    let label = escape(label);
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"{label}\">\n<title>{label}</title>{}",
        svg.get(end + 1..)?
    ))
}

// ---------------------------------------------------------------------------------------------
// Horizontal bars

/// One bar: stacked segments (length in axis units, pixel geometry only) and the exact value
/// printed after it.
struct Bar {
    label: String,
    segments: Vec<(f64, RGBColor)>,
    value: String,
}

impl Bar {
    fn total(&self) -> f64 {
        self.segments.iter().map(|s| s.0.max(0.0)).sum()
    }
}

const BAR_ROW: u32 = 28;
const PANEL_EXTRA: u32 = 100;

fn hbar_height(bars: usize) -> u32 {
    PANEL_EXTRA + BAR_ROW * u32::try_from(bars.max(1)).unwrap_or(1)
}

/// Left label area: wide enough for the longest label (plotters' naive estimate is about
/// 0.7 em per byte; 13 px labels).
fn label_width(bars: &[Bar]) -> u32 {
    let longest = bars.iter().map(|b| b.label.len()).max().unwrap_or(4);
    let longest = u32::try_from(longest.min(MAX_LABEL * 2)).unwrap_or(40);
    (longest * 15 / 2 + 16).clamp(40, 300)
}

/// A panel of horizontal bars, the first bar at the top. The bars sit on an f64 axis, bar `k`
/// from the top in the band `n-1-k .. n-k`; their labels are drawn next to them (plotters' own
/// labels of a category axis miss a single category).
fn hbar_panel(
    area: &Area<'_>,
    title: &str,
    caption: &str,
    bars: &[Bar],
    lang: Lang,
    legend: &[(&str, RGBColor)],
) -> DrawResult {
    // Counts as f64: pixel geometry only.
    let n = bars.len().max(1) as f64;
    let max = bars.iter().map(Bar::total).fold(0.0_f64, f64::max);
    // Room after the longest bar for its value.
    let x_max = if max > 0.0 { max * 1.22 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22).into_font().color(&TEXT))
        .margin(10)
        .margin_right(20)
        .x_label_area_size(44)
        .y_label_area_size(label_width(bars))
        .build_cartesian_2d(0.0..x_max, 0.0..n)?;
    let tick = |v: &f64| fmt_tick(*v, lang);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .x_labels(6)
        .x_label_formatter(&tick)
        .y_labels(0)
        .x_desc(caption)
        .label_style((FONT, 15).into_font().color(&TEXT))
        .axis_desc_style((FONT, 15).into_font().color(&MUTED))
        .draw()?;
    let base = area.get_base_pixel();
    for (k, bar) in bars.iter().enumerate() {
        let band = n - 1.0 - k as f64;
        let mut x = 0.0;
        for (len, colour) in &bar.segments {
            let len = len.max(0.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, band + 0.18), (x + len, band + 0.82)],
                colour.filled(),
            )))?;
            x += len;
        }
        let (bx, by) = chart.backend_coord(&(0.0, band + 0.5));
        area.draw(&Text::new(
            bar.label.clone(),
            (bx - base.0 - 8, by - base.1),
            (FONT, 15)
                .into_font()
                .color(&TEXT)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            bar.value.clone(),
            (x + x_max * 0.01, band + 0.5),
            (FONT, 15)
                .into_font()
                .color(&TEXT)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
    }
    if !legend.is_empty() {
        for (name, colour) in legend {
            let colour = *colour;
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FONT, 15).into_font().color(&TEXT))
            .draw()?;
    }
    Ok(())
}

fn hbar_chart(
    label: &str,
    panels: &[(&str, &str, &[Bar])],
    lang: Lang,
    legend: &[(&str, RGBColor)],
) -> Option<String> {
    let panels: Vec<_> = panels.iter().filter(|p| !p.2.is_empty()).collect();
    if panels.is_empty() {
        return None;
    }
    let heights: Vec<u32> = panels.iter().map(|p| hbar_height(p.2.len())).collect();
    let total: u32 = heights.iter().sum();
    render(WIDTH, total, label, |root| {
        let mut rest = root.clone();
        for (k, (title, caption, bars)) in panels.iter().map(|p| (p.0, p.1, p.2)).enumerate() {
            let h = heights.get(k).copied().unwrap_or(0);
            let (top, bottom) = rest.split_vertically(h);
            // The legend goes with the first panel only.
            let legend = if k == 0 { legend } else { &[] };
            hbar_panel(&top, title, caption, bars, lang, legend)?;
            rest = bottom;
        }
        Ok(())
    })
}

mod kinds;
use kinds::*;

#[cfg(test)]
mod tests;
