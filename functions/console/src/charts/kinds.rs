//! One chart per report kind, from the kind's rows (see the module's overview in `charts`).

use super::*;

// ---------------------------------------------------------------------------------------------
// orders: order value per day

pub(super) fn orders_per_day(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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

pub(super) fn net_per_month(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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

pub(super) struct SkuSales {
    name: Option<String>,
    sold: u64,
    ordered: u64,
    cancelled: u64,
    returned: u64,
}

/// The sales rows summed per sku (the report has a row per sku and currency).
pub(super) fn per_sku(rows: &[Value]) -> BTreeMap<String, SkuSales> {
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

pub(super) fn sku_label(sku: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != sku => short(&format!("{sku} · {n}")),
        _ => short(sku),
    }
}

pub(super) fn sellers(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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

pub(super) fn return_rates_chart(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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

pub(super) fn kind_label(kind: &str, lang: Lang) -> String {
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

pub(super) fn returns_by_kind(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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

pub(super) struct FulfillerStock {
    free: u64,
    reserved: u64,
    /// Hours since the fulfiller's most recent stock update (the smallest ageHours).
    age: u64,
}

pub(super) fn stock_by_fulfiller(rows: &[Value], lang: Lang, accent: RGBColor) -> Option<String> {
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
