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

// ---------------------------------------------------------------------------------------------
// orders: order value per day

fn orders_per_day(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let live = |r: &Value| text(r, "status") != Some("cancelled");
    let currency = main_currency(rows, |r| {
        live(r) && text(r, "date").and_then(day_number).is_some() && money(r, "total").is_some()
    })?;
    let mut per_day: BTreeMap<i64, Decimal> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| live(r) && text(r, "currency") == Some(currency))
    {
        let (Some(day), Some(total)) = (text(r, "date").and_then(day_number), money(r, "total"))
        else {
            continue;
        };
        let sum = per_day.entry(day).or_insert(Decimal::ZERO);
        if let Some(s) = sum.checked_add(total) {
            *sum = s;
        }
    }
    let last = *per_day.keys().next_back()?;
    let first = (*per_day.keys().next()?).max(last - (MAX_DAYS - 1));
    // Every day of the span, days without orders at zero.
    let days: Vec<(i64, Decimal)> = (first..=last)
        .map(|d| (d, per_day.get(&d).copied().unwrap_or(Decimal::ZERO)))
        .collect();
    let points: Vec<(i32, f64)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| Some((i32::try_from(i).ok()?, px(*v)?)))
        .collect();
    let sum = days
        .iter()
        .try_fold(Decimal::ZERO, |a, (_, v)| a.checked_add(*v))
        .unwrap_or(Decimal::ZERO);
    let title = format!(
        "{} ({currency})",
        lang.t("Bestellwert pro Tag", "Order value per day")
    );
    let label = format!(
        "{title}: {} {} {} {}",
        fmt_decimal(sum, 2, lang),
        currency,
        lang.t("in", "over"),
        match lang {
            Lang::De => format!("{} Tagen", days.len()),
            Lang::En => format!("{} days", days.len()),
        }
    );
    let caption_y = format!(
        "{} ({currency})",
        lang.t(
            "Bestellwert brutto, ohne stornierte Bestellungen",
            "Gross order value, cancelled orders excluded"
        )
    );
    let date_of = |i: &i32| -> String {
        let Some((d, _)) = usize::try_from(*i).ok().and_then(|i| days.get(i)) else {
            return String::new();
        };
        let (y, m, d) = civil(*d);
        match lang {
            Lang::De => format!("{d:02}.{m:02}.{}", y % 100),
            Lang::En => format!("{y:04}-{m:02}-{d:02}"),
        }
    };
    let lo = points.iter().map(|p| p.1).fold(0.0_f64, f64::min);
    let hi = points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let (lo, hi) = if hi - lo > 0.0 {
        (lo * 1.1, hi * 1.1)
    } else {
        (0.0, 1.0)
    };
    let x_hi = i32::try_from(days.len().saturating_sub(1))
        .unwrap_or(0)
        .max(1);
    render(WIDTH, 420, &label, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 22).into_font().color(&TEXT))
            .margin(10)
            .margin_right(30)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0..x_hi, lo..hi)?;
        let tick = |v: &f64| fmt_tick(*v, lang);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(days.len().clamp(2, 8))
            .x_label_formatter(&date_of)
            .y_labels(6)
            .y_label_formatter(&tick)
            .y_desc(caption_y.as_str())
            .label_style((FONT, 15).into_font().color(&TEXT))
            .axis_desc_style((FONT, 15).into_font().color(&MUTED))
            .draw()?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            accent.stroke_width(2),
        ))?;
        if points.len() <= 31 {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, accent.filled())))?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// finance: net revenue per month

fn net_per_month(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let valid =
        |r: &Value| text(r, "month").and_then(month_number).is_some() && money(r, "net").is_some();
    let currency = main_currency(rows, valid)?;
    let mut per_month: BTreeMap<i64, Decimal> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| text(r, "currency") == Some(currency))
    {
        // Refund rows (taxRate empty) carry net 0.00; summing them changes nothing.
        let (Some(m), Some(net)) = (text(r, "month").and_then(month_number), money(r, "net"))
        else {
            continue;
        };
        let sum = per_month.entry(m).or_insert(Decimal::ZERO);
        if let Some(s) = sum.checked_add(net) {
            *sum = s;
        }
    }
    let last = *per_month.keys().next_back()?;
    let first = (*per_month.keys().next()?).max(last - (MAX_MONTHS as i64 - 1));
    let months: Vec<(i64, Decimal)> = (first..=last)
        .map(|m| (m, per_month.get(&m).copied().unwrap_or(Decimal::ZERO)))
        .collect();
    let title = format!(
        "{} ({currency})",
        lang.t("Nettoumsatz pro Monat", "Net revenue per month")
    );
    let sum = months
        .iter()
        .try_fold(Decimal::ZERO, |a, (_, v)| a.checked_add(*v))
        .unwrap_or(Decimal::ZERO);
    let label = format!(
        "{title}: {} {currency} {}",
        fmt_decimal(sum, 2, lang),
        lang.t("gesamt", "in total")
    );
    let values: Vec<f64> = months.iter().map(|(_, v)| px(*v).unwrap_or(0.0)).collect();
    let lo = values.iter().copied().fold(0.0_f64, f64::min);
    let hi = values.iter().copied().fold(0.0_f64, f64::max);
    let (lo, hi) = if hi - lo > 0.0 {
        (lo * 1.1, hi * 1.1)
    } else {
        (0.0, 1.0)
    };
    let month_name = |m: i64| {
        let (y, m) = (m.div_euclid(12), m.rem_euclid(12) + 1);
        match lang {
            Lang::De => format!("{m:02}/{y:04}"),
            Lang::En => format!("{y:04}-{m:02}"),
        }
    };
    // Month count as f64: pixel geometry only.
    let n = months.len() as f64;
    render(WIDTH, 420, &label, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 22).into_font().color(&TEXT))
            .margin(10)
            .margin_right(20)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..n, lo..hi)?;
        let tick = |v: &f64| fmt_tick(*v, lang);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&tick)
            .y_desc(format!("{} ({currency})", lang.t("Netto", "Net")))
            .label_style((FONT, 15).into_font().color(&TEXT))
            .axis_desc_style((FONT, 15).into_font().color(&MUTED))
            .draw()?;
        let base = root.get_base_pixel();
        // Month labels only where they fit (at most 12 across the width).
        let every = months.len().div_ceil(12).max(1);
        for (i, ((m, _), v)) in months.iter().zip(&values).enumerate() {
            let x = i as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.12, 0.0), (x + 0.88, *v)],
                accent.filled(),
            )))?;
            if i % every == 0 {
                let (px_x, px_y) = chart.backend_coord(&(x + 0.5, lo));
                root.draw(&Text::new(
                    month_name(*m),
                    (px_x - base.0, px_y - base.1 + 10),
                    (FONT, 15)
                        .into_font()
                        .color(&TEXT)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// sales: top sellers and slow sellers; return rates

struct SkuSales {
    name: Option<String>,
    sold: u64,
    ordered: u64,
    cancelled: u64,
    returned: u64,
}

/// The sales rows summed per sku (the report has a row per sku and currency).
fn per_sku(rows: &[Value]) -> BTreeMap<String, SkuSales> {
    let mut by: BTreeMap<String, SkuSales> = BTreeMap::new();
    for r in rows {
        let Some(sku) = text(r, "sku") else { continue };
        let (Some(sold), Some(ordered), Some(cancelled), Some(returned)) = (
            count(r, "unitsSold"),
            count(r, "unitsOrdered"),
            count(r, "unitsCancelled"),
            count(r, "unitsReturned"),
        ) else {
            continue;
        };
        let s = by.entry(sku.to_string()).or_insert(SkuSales {
            name: None,
            sold: 0,
            ordered: 0,
            cancelled: 0,
            returned: 0,
        });
        if s.name.is_none() {
            s.name = text(r, "name").map(str::to_string);
        }
        s.sold = s.sold.saturating_add(sold);
        s.ordered = s.ordered.saturating_add(ordered);
        s.cancelled = s.cancelled.saturating_add(cancelled);
        s.returned = s.returned.saturating_add(returned);
    }
    by
}

fn sku_label(sku: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != sku => short(&format!("{sku} · {n}")),
        _ => short(sku),
    }
}

fn sellers(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let by = per_sku(rows);
    let mut ranked: Vec<(&String, &SkuSales)> = by.iter().collect();
    ranked.sort_by(|a, b| b.1.sold.cmp(&a.1.sold).then_with(|| a.0.cmp(b.0)));
    let bar = |(sku, s): &(&String, &SkuSales)| Bar {
        label: sku_label(sku, s.name.as_deref()),
        // Unit counts as f64 for bar length only.
        segments: vec![(s.sold as f64, accent)],
        value: fmt_count(s.sold, lang),
    };
    let caption = lang.t("Verkaufte Einheiten", "Units sold");
    if ranked.len() <= MAX_BARS {
        let bars: Vec<Bar> = ranked.iter().map(bar).collect();
        let title = lang.t("Verkaufte Einheiten je Artikel", "Units sold per sku");
        return hbar_chart(title, &[(title, caption, &bars)], lang, &[]);
    }
    let top: Vec<Bar> = ranked.iter().take(MAX_BARS).map(bar).collect();
    // The slowest first, among those not shown as top sellers.
    let slow: Vec<Bar> = ranked
        .iter()
        .skip(MAX_BARS)
        .rev()
        .take(MAX_BARS)
        .map(bar)
        .collect();
    let top_title = lang.t(
        "Topseller (verkaufte Einheiten)",
        "Top sellers (units sold)",
    );
    let slow_title = lang.t(
        "Langsamdreher (verkaufte Einheiten)",
        "Slow sellers (units sold)",
    );
    hbar_chart(
        lang.t(
            "Topseller und Langsamdreher",
            "Top sellers and slow sellers",
        ),
        &[(top_title, caption, &top), (slow_title, caption, &slow)],
        lang,
        &[],
    )
}

fn return_rates_chart(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let by = per_sku(rows);
    let mut rates: Vec<(&String, &SkuSales, Decimal)> = by
        .iter()
        .filter_map(|(sku, s)| {
            let shipped = s.ordered.saturating_sub(s.cancelled);
            if shipped == 0 || s.returned == 0 {
                return None;
            }
            let rate = Decimal::from(s.returned)
                .checked_mul(Decimal::ONE_HUNDRED)?
                .checked_div(Decimal::from(shipped))?;
            Some((sku, s, rate))
        })
        .collect();
    rates.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then_with(|| b.1.returned.cmp(&a.1.returned))
            .then_with(|| a.0.cmp(b.0))
    });
    let bars: Vec<Bar> = rates
        .iter()
        .take(MAX_BARS)
        .map(|(sku, s, rate)| Bar {
            label: sku_label(sku, s.name.as_deref()),
            segments: vec![(px(*rate).unwrap_or(0.0), accent)],
            value: format!(
                "{} ({}/{})",
                fmt_percent(*rate, lang),
                fmt_count(s.returned, lang),
                fmt_count(s.ordered.saturating_sub(s.cancelled), lang)
            ),
        })
        .collect();
    let title = lang.t("Retourenquote je Artikel", "Return rate per sku");
    let caption = lang.t(
        "Retournierte Einheiten in % der nicht stornierten",
        "Units returned, % of units not cancelled",
    );
    hbar_chart(title, &[(title, caption, &bars)], lang, &[])
}

// ---------------------------------------------------------------------------------------------
// returns: cases per kind, in percent

fn kind_label(kind: &str, lang: Lang) -> String {
    let known = match kind {
        "cancellation" => lang.t("Stornierung", "Cancellation"),
        "unroutable" => lang.t("Nicht lieferbar", "Unroutable"),
        "return" => lang.t("Retoure", "Return"),
        "goodwill" => lang.t("Kulanz", "Goodwill"),
        "chargeback" => lang.t("Rückbuchung", "Chargeback"),
        other => return short(other),
    };
    known.to_string()
}

fn returns_by_kind(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows {
        // A case needs its kind and date; the rest (amount, units) is not charted.
        if let (Some(kind), Some(_)) = (text(r, "kind"), text(r, "date").and_then(day_number)) {
            *by.entry(kind).or_default() += 1;
        }
    }
    let all: u64 = by.values().sum();
    if all == 0 {
        return None;
    }
    let mut kinds: Vec<(&str, u64)> = by.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let bars: Vec<Bar> = kinds
        .iter()
        .take(MAX_BARS)
        .filter_map(|(kind, n)| {
            let share = Decimal::from(*n)
                .checked_mul(Decimal::ONE_HUNDRED)?
                .checked_div(Decimal::from(all))?;
            Some(Bar {
                label: kind_label(kind, lang),
                segments: vec![(px(share)?, accent)],
                value: format!("{} ({})", fmt_percent(share, lang), fmt_count(*n, lang)),
            })
        })
        .collect();
    let title = lang.t("Fälle nach Art", "Cases by kind");
    let caption = lang.t("Anteil an allen Fällen (%)", "Share of all cases (%)");
    let label = match lang {
        Lang::De => format!("{title}: {} Fälle", fmt_count(all, lang)),
        Lang::En => format!("{title}: {} cases", fmt_count(all, lang)),
    };
    hbar_chart(&label, &[(title, caption, &bars)], lang, &[])
}

// ---------------------------------------------------------------------------------------------
// stock: units per fulfiller, hours since its last update

struct FulfillerStock {
    free: u64,
    reserved: u64,
    /// Hours since the fulfiller's most recent stock update (the smallest ageHours).
    age: u64,
}

fn stock_by_fulfiller(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
    let mut by: BTreeMap<&str, FulfillerStock> = BTreeMap::new();
    for r in rows {
        let (Some(f), Some(free), Some(reserved), Some(age)) = (
            text(r, "fulfillerId"),
            count_clamped(r, "free"),
            count_clamped(r, "reserved"),
            count_clamped(r, "ageHours"),
        ) else {
            continue;
        };
        let s = by.entry(f).or_insert(FulfillerStock {
            free: 0,
            reserved: 0,
            age,
        });
        s.free = s.free.saturating_add(free);
        s.reserved = s.reserved.saturating_add(reserved);
        s.age = s.age.min(age);
    }
    if by.is_empty() {
        return None;
    }
    let mut ranked: Vec<(&str, FulfillerStock)> = by.into_iter().collect();
    ranked.sort_by(|a, b| {
        let (ta, tb) = (
            a.1.free.saturating_add(a.1.reserved),
            b.1.free.saturating_add(b.1.reserved),
        );
        tb.cmp(&ta).then_with(|| a.0.cmp(b.0))
    });
    ranked.truncate(MAX_BARS);
    let reserved_colour = lighter(accent, 0.55);
    // Unit counts and hours as f64 for bar lengths only.
    let stock: Vec<Bar> = ranked
        .iter()
        .map(|(f, s)| Bar {
            label: short(f),
            segments: vec![
                (s.free as f64, accent),
                (s.reserved as f64, reserved_colour),
            ],
            value: fmt_count(s.free.saturating_add(s.reserved), lang),
        })
        .collect();
    let ages: Vec<Bar> = ranked
        .iter()
        .map(|(f, s)| Bar {
            label: short(f),
            segments: vec![(s.age as f64, accent)],
            value: fmt_age(s.age, lang),
        })
        .collect();
    let free_name = lang.t("frei", "free");
    let reserved_name = lang.t("reserviert", "reserved");
    hbar_chart(
        lang.t(
            "Bestand je Fulfiller und Alter der letzten Bestandsmeldung",
            "Stock per fulfiller and age of its last stock update",
        ),
        &[
            (
                lang.t("Bestand je Fulfiller", "Stock per fulfiller"),
                lang.t("Einheiten (frei + reserviert)", "Units (free + reserved)"),
                &stock,
            ),
            (
                lang.t("Letzte Bestandsmeldung", "Last stock update"),
                lang.t("Stunden seitdem", "Hours since"),
                &ages,
            ),
        ],
        lang,
        &[(free_name, accent), (reserved_name, reserved_colour)],
    )
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCENT_FILL: &str = "fill=\"#2E5E4E\"";

    fn rects_with(svg: &str, fill: &str) -> usize {
        svg.lines()
            .filter(|l| l.starts_with("<rect") && l.contains(fill))
            .count()
    }

    fn polyline_points(svg: &str) -> usize {
        let Some(start) = svg.find("<polyline fill=\"none\" opacity=\"1\" stroke=\"#2E5E4E\"")
        else {
            return 0;
        };
        let rest = &svg[start..];
        let Some(p) = rest.find("points=\"") else {
            return 0;
        };
        let pts = &rest[p + 8..];
        let end = pts.find('"').unwrap_or(0);
        pts[..end].split_whitespace().count()
    }

    /// A crude well-formedness check: one root, every opened tag closed in order.
    fn assert_xmlish(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("viewBox=\"0 0 800 "));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title>"));
        let open = &svg[..svg.find('>').unwrap_or(0)];
        assert!(
            open.contains("width=\"100%\"") && !open.contains("height="),
            "{open}"
        );
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = rest.find('>').expect("tag closed");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name.trim()));
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("").to_string();
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    fn order_row(date: &str, channel: &str, status: &str, cur: &str, total: &str) -> Value {
        json!({"date": date, "channel": channel, "status": status, "currency": cur,
               "orders": 2, "units": 3, "total": total})
    }

    #[test]
    fn orders_line_per_day_sums_channels_and_skips_cancelled() {
        let rows = vec![
            order_row("2026-03-01", "web", "shipped", "EUR", "100.00"),
            order_row("2026-03-01", "amazon", "routed", "EUR", "50.50"),
            order_row("2026-03-01", "web", "cancelled", "EUR", "999.00"),
            order_row("2026-03-02", "web", "shipped", "EUR", "20.00"),
            // 03-03 has no orders: a zero point.
            order_row("2026-03-04", "web", "shipped", "EUR", "1234.56"),
            order_row("2026-03-04", "web", "shipped", "CHF", "10.00"),
        ];
        let svg = for_report("orders", &rows, "en").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(polyline_points(&svg), 4);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("Order value per day (EUR)"));
        // 150.50 + 20.00 + 0 + 1234.56, cancelled left out, CHF not added.
        assert!(svg.contains("1,405.06 EUR"), "{svg}");
        assert!(svg.contains("2026-03-01"));

        let de = for_report("orders", &rows, "de").expect("chart");
        assert!(de.contains("Bestellwert pro Tag (EUR)"));
        assert!(de.contains("1.405,06 EUR"));
        assert!(de.contains("01.03.26"));
    }

    #[test]
    fn orders_across_a_year_and_a_junk_date() {
        let mut rows: Vec<Value> = Vec::new();
        for (m, d) in [(1, 5), (4, 17), (12, 31)] {
            rows.push(order_row(
                &format!("2026-{m:02}-{d:02}"),
                "web",
                "shipped",
                "EUR",
                "10.00",
            ));
        }
        rows.push(order_row("2026-02-30", "web", "shipped", "EUR", "10.00"));
        rows.push(order_row("1999-01-01", "web", "shipped", "EUR", "10.00"));
        let svg = for_report("orders", &rows, "en").expect("chart");
        assert_xmlish(&svg);
        // 1999 is more than MAX_DAYS before the last day: the line covers the last 400 days.
        assert_eq!(polyline_points(&svg), 400);
        assert_eq!(svg.matches("<circle").count(), 0);
    }

    #[test]
    fn finance_bars_per_month() {
        let rows = vec![
            json!({"month": "2026-01", "country": "DE", "currency": "EUR", "taxRate": "19",
                   "net": "1000.00", "tax": "190.00", "gross": "1190.00", "refunds": "0.00"}),
            json!({"month": "2026-01", "country": "AT", "currency": "EUR", "taxRate": "20",
                   "net": "500.00", "tax": "100.00", "gross": "600.00", "refunds": "0.00"}),
            json!({"month": "2026-01", "country": "DE", "currency": "EUR", "taxRate": null,
                   "net": "0.00", "tax": "0.00", "gross": "0.00", "refunds": "-30.00"}),
            json!({"month": "2026-03", "country": "DE", "currency": "EUR", "taxRate": "7",
                   "net": "250.25", "tax": "17.52", "gross": "267.77", "refunds": "0.00"}),
            json!({"month": "2026-03", "currency": "EUR", "net": "abc"}),
        ];
        let svg = for_report("finance", &rows, "de").expect("chart");
        assert_xmlish(&svg);
        // Jan, Feb (zero), Mar.
        assert_eq!(rects_with(&svg, ACCENT_FILL), 3);
        assert!(svg.contains("Nettoumsatz pro Monat (EUR)"));
        assert!(svg.contains("1.750,25 EUR"));
        assert!(svg.contains("01/2026") && svg.contains("03/2026"));
    }

    fn sales_row(sku: &str, sold: u64, returned: u64, cur: Option<&str>, revenue: &str) -> Value {
        json!({"rank": 1, "sku": sku, "name": format!("Name {sku}"), "group": "Lampen",
               "orders": sold, "unitsOrdered": sold + returned + 1, "unitsCancelled": 1,
               "unitsReturned": returned, "unitsSold": sold, "currency": cur, "revenue": revenue})
    }

    #[test]
    fn sales_few_skus_one_panel_summed_over_currencies() {
        let rows = vec![
            sales_row("LAMP-1", 40, 4, Some("EUR"), "400.00"),
            sales_row("LAMP-1", 2, 0, Some("CHF"), "21.00"),
            sales_row("DESK-2", 12, 6, Some("EUR"), "1200.00"),
            sales_row("CHAIR<3>", 0, 0, None, "0.00"),
        ];
        let charts = charts_for_report("sales", &rows, "en", DEFAULT_ACCENT);
        assert_eq!(charts.len(), 2);
        let svg = &charts[0];
        assert_xmlish(svg);
        assert_eq!(rects_with(svg, ACCENT_FILL), 3);
        assert!(svg.contains("LAMP-1 · Name LAMP-1"));
        assert!(svg.contains("DESK-2"));
        assert!(svg.contains("CHAIR&lt;3&gt;"), "label escaped");
        assert!(svg.contains("\n42\n</text>"));
        assert_eq!(
            for_report("sales", &rows, "en").as_deref(),
            Some(svg.as_str())
        );

        // Return rates: DESK-2 6/(12+6+1-1)=33.3 %, LAMP-1 4/46=8.7 %; CHAIR has none.
        let rates = &charts[1];
        assert_xmlish(rates);
        assert_eq!(rects_with(rates, ACCENT_FILL), 2);
        assert!(rates.contains("33.3 % (6/18)"));
        assert!(rates.contains("8.7 % (4/46)"));
        assert!(!rates.contains("CHAIR"));
        assert_eq!(
            return_rates(&rows, "de", DEFAULT_ACCENT).map(|s| s.contains("33,3 %")),
            Some(true)
        );
    }

    #[test]
    fn sales_many_skus_top_and_slow_panels() {
        let rows: Vec<Value> = (0..50)
            .map(|i| sales_row(&format!("SKU-{i:03}"), i * 3, 0, Some("EUR"), "1.00"))
            .collect();
        let svg = for_report("sales", &rows, "de").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(rects_with(&svg, ACCENT_FILL), 40);
        assert!(svg.contains("Topseller (verkaufte Einheiten)"));
        assert!(svg.contains("Langsamdreher (verkaufte Einheiten)"));
        assert!(svg.contains("SKU-049")); // best
        assert!(svg.contains("SKU-000")); // slowest
        assert!(!svg.contains("SKU-025 ")); // in neither panel
        assert!(!svg.contains("SKU-025\n"));
        // No returns at all: no return-rate chart.
        assert_eq!(
            charts_for_report("sales", &rows, "de", DEFAULT_ACCENT).len(),
            1
        );
    }

    #[test]
    fn returns_share_per_kind() {
        let row = |kind: &str, units: u64| {
            json!({"date": "2026-03-01", "kind": kind, "orderId": "o1", "channel": "web",
                   "fulfillerId": null, "currency": "EUR", "units": units, "amount": "10.00", "note": null})
        };
        let rows = vec![
            row("return", 1),
            row("return", 2),
            row("return", 1),
            row("cancellation", 1),
            row("goodwill", 0),
            json!({"kind": "return"}),
            json!("junk"),
        ];
        let svg = for_report("returns", &rows, "de").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(rects_with(&svg, ACCENT_FILL), 3);
        assert!(svg.contains("Retoure") && svg.contains("Stornierung") && svg.contains("Kulanz"));
        assert!(svg.contains("60,0 % (3)"));
        assert!(svg.contains("Anteil an allen Fällen (%)"));
        let en = for_report("returns", &rows, "en").expect("chart");
        assert!(en.contains("60.0 % (3)") && en.contains("Cancellation"));
    }

    #[test]
    fn stock_per_fulfiller_and_age() {
        let row = |f: &str, sku: &str, avail: i64, reserved: i64, age: i64| {
            json!({"fulfillerId": f, "sku": sku, "group": "g", "available": avail,
                   "reserved": reserved, "free": avail - reserved,
                   "updatedAt": "2026-03-01T10:00:00+00:00", "ageHours": age})
        };
        let rows = vec![
            row("berlin-wh", "A", 100, 10, 3),
            row("berlin-wh", "B", 50, 0, 30),
            row("muenchen", "A", 20, 5, 72),
            json!({"fulfillerId": "broken", "free": "lots"}),
        ];
        let svg = for_report("stock", &rows, "de").expect("chart");
        assert_xmlish(&svg);
        // Free segments and age bars in the accent (2 + 2), plus its legend box.
        assert_eq!(rects_with(&svg, ACCENT_FILL), 5);
        assert!(svg.contains("berlin-wh") && svg.contains("muenchen"));
        assert!(!svg.contains("broken"));
        assert!(svg.contains("Bestand je Fulfiller"));
        assert!(svg.contains("3 h") && svg.contains("3 Tage"));
        assert!(svg.contains("\n150\n</text>") && svg.contains("\n20\n</text>"));
        let en = for_report_with_accent("stock", &rows, "en", "#112233").expect("chart");
        assert_eq!(rects_with(&en, "fill=\"#112233\""), 5);
        assert!(en.contains("Last stock update"));
    }

    #[test]
    fn single_entries() {
        let sales = vec![sales_row("ONLY-1", 5, 1, Some("EUR"), "50.00")];
        let svg = for_report("sales", &sales, "en").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(rects_with(&svg, ACCENT_FILL), 1);
        assert!(svg.contains("ONLY-1"));
        let orders = vec![order_row("2026-03-01", "web", "shipped", "EUR", "9.99")];
        let svg = for_report("orders", &orders, "de").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(polyline_points(&svg), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        let finance =
            vec![json!({"month": "2026-01", "currency": "EUR", "taxRate": "19", "net": "0.00"})];
        let svg = for_report("finance", &finance, "en").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(rects_with(&svg, ACCENT_FILL), 1);
    }

    #[test]
    fn empty_rows_and_table_kinds_give_none() {
        for kind in ["orders", "finance", "sales", "returns", "stock"] {
            assert_eq!(for_report(kind, &[], "de"), None, "{kind}");
        }
        let any = vec![json!({"customer": "a@example.com", "total": "1.00"})];
        for kind in ["customers", "settlement", "promotions", "nonsense"] {
            assert_eq!(for_report(kind, &any, "en"), None, "{kind}");
        }
    }

    #[test]
    fn junk_rows_are_skipped_without_panic() {
        let junk = vec![
            json!(null),
            json!(42),
            json!([1, 2]),
            json!({}),
            json!({"date": "not-a-date", "currency": "EUR", "total": "1.00", "status": "shipped"}),
            json!({"date": "2026-13-01", "currency": "EUR", "total": "1.00"}),
            json!({"date": "2026-03-01", "currency": "EUR", "total": "1,00"}),
            json!({"month": "2026-1", "currency": "EUR", "net": "1.00"}),
            json!({"sku": "X", "unitsSold": -3, "unitsOrdered": 1, "unitsCancelled": 0, "unitsReturned": 0}),
            json!({"sku": "", "unitsSold": 3}),
            json!({"kind": 7, "date": "2026-03-01"}),
            json!({"fulfillerId": "f", "free": 1.5, "reserved": 0, "ageHours": 1}),
            json!({"date": "2026-03-01", "currency": "EUR", "status": "shipped",
                   "total": "79228162514264337593543950335"}),
            json!({"date": "2026-03-01", "currency": "EUR", "status": "shipped",
                   "total": "79228162514264337593543950335"}),
        ];
        for kind in ["orders", "finance", "sales", "returns", "stock"] {
            for lang in ["de", "en"] {
                let _ = charts_for_report(kind, &junk, lang, "not a colour");
            }
        }
        // Only the overflowing totals are valid orders rows: they are charted, not panicking.
        let svg = for_report("orders", &junk, "en").expect("chart");
        assert_xmlish(&svg);
        assert_eq!(for_report("finance", &junk, "en"), None);
        assert_eq!(for_report("sales", &junk, "en"), None);
        assert_eq!(for_report("returns", &junk, "en"), None);
        assert_eq!(for_report("stock", &junk, "en"), None);
    }

    #[test]
    fn formats() {
        assert_eq!(
            fmt_decimal(Decimal::new(123456789, 2), 2, Lang::De),
            "1.234.567,89"
        );
        assert_eq!(
            fmt_decimal(Decimal::new(-123456, 2), 2, Lang::En),
            "-1,234.56"
        );
        assert_eq!(fmt_decimal(Decimal::new(5, 1), 2, Lang::De), "0,50");
        assert_eq!(fmt_tick(2500.0, Lang::De), "2.500");
        assert_eq!(fmt_tick(0.25, Lang::De), "0,25");
        assert_eq!(day_number("2026-03-01").map(civil), Some((2026, 3, 1)));
        assert_eq!(day_number("2024-02-29").map(civil), Some((2024, 2, 29)));
        assert_eq!(day_number("2025-02-29"), None);
        assert_eq!(
            day_number("2026-03-01")
                .zip(day_number("2026-02-28"))
                .map(|(a, b)| a - b),
            Some(1)
        );
        assert_eq!(parse_colour("#2e5e4e"), Some(RGBColor(0x2E, 0x5E, 0x4E)));
        assert_eq!(parse_colour("red"), None);
        assert_eq!(
            short("abcdefghijklmnopqrstuvwxyz0123456789")
                .chars()
                .count(),
            MAX_LABEL
        );
    }
}
