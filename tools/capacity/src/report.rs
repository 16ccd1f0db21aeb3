//! The figures at each order rate, as JSON and as the markdown of docs/capacity-figures.md.

use crate::limits::{self, Check, TableFigures};
use crate::model::{self, Cost, PerOrder};
use crate::prices::{self, Prices};
use crate::profile::{Profile, Scenario};
use crate::scenario::{self, Sized};
use crate::template::Infra;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Level {
    pub orders_per_second: f64,
    pub tables: Vec<TableFigures>,
    pub functions: Vec<FunctionFigures>,
    pub queues: Vec<QueueFigures>,
    pub api_requests_per_second: f64,
    pub mails_per_second: f64,
    /// Limits reached at this rate, the lowest ceiling first.
    pub over: Vec<String>,
    pub cost_per_thousand_orders: Cost,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionFigures {
    pub name: String,
    pub invocations_per_second: f64,
    pub concurrency: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueFigures {
    pub name: String,
    pub sent_per_second: f64,
}

/// A limit and the order rate at which it is reached.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limit {
    #[serde(flatten)]
    pub check: Check,
    /// Orders per second; null when nothing the orders do reaches it.
    pub ceiling: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ShardsFigure {
    pub reservations_per_second: f64,
    pub shards: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub per_order: PerOrder,
    pub checks: Vec<Limit>,
    pub levels: Vec<Level>,
    pub prices: Prices,
    pub prices_as_of: &'static str,
    pub hot_sku_shards: Vec<ShardsFigure>,
    pub scenarios: Vec<ScenarioReport>,
}

/// The figures again with a scenario's changes (`crate::scenario`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioReport {
    pub name: String,
    /// The template parameters it reads template.yaml with, over their defaults.
    pub template_parameters: BTreeMap<String, String>,
    /// Function (binary) -> ReservedConcurrentExecutions as modelled: the template's with the
    /// scenario's parameters, then the scenario's own.
    pub reserved_concurrency: BTreeMap<String, f64>,
    /// Function (binary) -> ScalingConfig.MaximumConcurrency as modelled, likewise.
    pub max_concurrency: BTreeMap<String, f64>,
    pub sized: Sized,
    pub report: Report,
}

/// The figures for the profile and template, and for each of the profile's scenarios.
pub fn build(profile: &Profile, infra: &Infra) -> Result<Report, String> {
    let mut report = build_one(profile, infra)?;
    for s in &profile.scenarios {
        let (p, i, sized) = scenario::apply(profile, infra, s)?;
        report.scenarios.push(ScenarioReport {
            name: s.name.clone(),
            template_parameters: s.template_parameters.clone(),
            reserved_concurrency: i
                .functions
                .iter()
                .filter_map(|f| Some((f.binary.clone(), f.reserved_concurrency?)))
                .collect(),
            max_concurrency: i
                .functions
                .iter()
                .filter_map(|f| Some((f.binary.clone(), f.queue.as_ref()?.max_concurrency?)))
                .collect(),
            sized,
            report: build_one(&p, &i)?,
        });
    }
    Ok(report)
}

fn build_one(profile: &Profile, infra: &Infra) -> Result<Report, String> {
    let load = model::per_order(profile, infra)?;
    let prices = Prices::eu_central_1();
    let mut checks: Vec<Limit> = limits::checks(profile, infra, &load)
        .into_iter()
        .map(|check| Limit {
            ceiling: check.ceiling(),
            check,
        })
        .collect();
    checks.sort_by(|a, b| a.ceiling.total_cmp(&b.ceiling));
    let cost = model::cost_per_thousand(&load, &prices);
    let levels = profile
        .rates
        .iter()
        .map(|&rate| Level {
            orders_per_second: rate,
            tables: limits::partitions_at(profile, &load, rate),
            functions: load
                .functions
                .iter()
                .map(|(n, f)| FunctionFigures {
                    name: n.clone(),
                    invocations_per_second: f.invocations * rate,
                    concurrency: model::concurrency(rate, f.busy_ms),
                })
                .collect(),
            queues: load
                .queue_messages
                .iter()
                .map(|(q, n)| QueueFigures {
                    name: q.clone(),
                    sent_per_second: n * rate,
                })
                .collect(),
            api_requests_per_second: load.api_requests * rate,
            mails_per_second: load.mails * rate,
            over: checks
                .iter()
                .filter(|l| l.check.utilisation(rate) >= 1.0)
                .map(|l| l.check.name.clone())
                .collect(),
            // Every service here is paid per request: the cost per order does not change with
            // the rate (fixed monthly costs are left out, see docs/capacity.md).
            cost_per_thousand_orders: cost.clone(),
        })
        .collect();
    let sku = &profile.hot_sku;
    let hot_sku_shards = [500.0, 1000.0, sku.scenario_reservations_per_second, 5000.0]
        .iter()
        .map(|&r| ShardsFigure {
            reservations_per_second: r,
            shards: model::shards_needed(
                r,
                sku.write_units_per_reservation,
                profile.quotas.partition_write_units,
                sku.target_utilisation,
            ),
        })
        .collect();
    Ok(Report {
        per_order: load,
        checks,
        levels,
        prices,
        prices_as_of: prices::AS_OF,
        hot_sku_shards,
        scenarios: Vec::new(),
    })
}

/// A number as the tables show it: no decimals from 100 up, one below, two below 1.
pub fn fmt(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x >= 100.0 {
        let s = format!("{x:.0}");
        // Thousands separated for reading: 12,500.
        let (neg, digits) = s
            .strip_prefix('-')
            .map_or((false, s.as_str()), |d| (true, d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if neg {
            format!("-{out}")
        } else {
            out
        }
    } else if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn header(out: &mut String, first: &str, rates: &[f64]) {
    let cols: Vec<String> = rates
        .iter()
        .map(|r| format!("{} orders/s", fmt(*r)))
        .collect();
    let _ = writeln!(out, "| {first} | {} |", cols.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(rates.len()));
}

/// Per rate the limits reached, then the `top` lowest ceilings.
fn limits_section(out: &mut String, report: &Report, top: usize) {
    table(
        out,
        &[
            "at",
            "limits reached",
            "the first five (lowest ceiling first)",
        ],
        "|---:|---:|---|",
        report.levels.iter().map(|l| {
            let first: Vec<&str> = l.over.iter().take(5).map(String::as_str).collect();
            vec![
                format!("{} orders/s", fmt(l.orders_per_second)),
                l.over.len().to_string(),
                if first.is_empty() {
                    "none".to_string()
                } else {
                    first.join("; ")
                },
            ]
        }),
    );
    let _ = writeln!(
        out,
        "\nThe limits with their ceilings (orders per second at which the demand reaches them), lowest first:\n"
    );
    table(
        out,
        &[
            "limit",
            "demand at 1 order/s",
            "limit",
            "ceiling orders/s",
            "remedy",
        ],
        "|---|---:|---:|---:|---|",
        report
            .checks
            .iter()
            .take(top)
            .map(|Limit { check: c, ceiling }| {
                vec![
                    format!("{}: {}", c.area, c.name),
                    fmt(c.per_order_per_second),
                    format!("{} {}", fmt(c.limit), c.unit),
                    format!("**{}**", fmt(*ceiling)),
                    c.remedy.clone(),
                ]
            }),
    );
}

/// A markdown table: the header, its alignment line, the rows.
fn table(out: &mut String, head: &[&str], align: &str, rows: impl Iterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |\n{align}", head.join(" | "));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

/// A row of one figure per level.
fn row(out: &mut String, label: &str, levels: &[Level], cell: impl Fn(&Level) -> String) {
    let cells: Vec<String> = levels.iter().map(cell).collect();
    let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
}

/// A row per entry of a per-level list (every level lists the same entries in the same order).
fn rows<T>(
    out: &mut String,
    levels: &[Level],
    list: impl Fn(&Level) -> &Vec<T>,
    name: impl Fn(&T) -> String,
    cell: impl Fn(&T) -> String,
) {
    let Some(first) = levels.first() else { return };
    for (i, entry) in list(first).iter().enumerate() {
        row(out, &name(entry), levels, |l| {
            list(l).get(i).map(&cell).unwrap_or_default()
        });
    }
}

pub fn markdown(report: &Report, profile: &Profile) -> String {
    let rates = &profile.rates;
    let load = &report.per_order;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Capacity figures\n\nWritten by `make capacity` (tools/capacity) from template.yaml and \
         tools/capacity/profile.json; the model and what to do about its findings are in \
         docs/capacity.md. Do not edit by hand.\n\nThe mean order of the profile: {:.1} lines, {:.2} delivery \
         orders, {:.1} read units, {:.1} write units, {:.1} API requests, {:.2} mails.\n",
        load.lines,
        load.delivery_orders,
        load.tables.values().map(|t| t.read_units).sum::<f64>(),
        load.tables.values().map(|t| t.write_units).sum::<f64>(),
        load.api_requests,
        load.mails
    );
    let _ = writeln!(out, "## Which limit bites first\n");
    limits_section(&mut out, report, report.checks.len());
    let _ = writeln!(out, "\n## Per operation, per average order\n");
    table(
        &mut out,
        &[
            "operation",
            "function",
            "times per order",
            "read units",
            "write units",
        ],
        "|---|---|---:|---:|---:|",
        load.operations.iter().map(|o| {
            vec![
                o.name.clone(),
                o.function.clone(),
                fmt(o.count),
                fmt(o.read_units),
                fmt(o.write_units),
            ]
        }),
    );
    let _ = writeln!(out, "\n## DynamoDB: units per second and partitions\n");
    let _ = writeln!(
        out,
        "Read / write units per second, partitions (3,000 read or 1,000 write units, 10 GB each; size for {} stored orders).\n",
        fmt(profile.stored_orders)
    );
    header(&mut out, "table / index", rates);
    let levels = &report.levels;
    rows(
        &mut out,
        levels,
        |l| &l.tables,
        |t| t.name.clone(),
        |t| {
            format!(
                "{} / {} ({})",
                fmt(t.read_units),
                fmt(t.write_units),
                fmt(t.partitions)
            )
        },
    );
    let _ = writeln!(out, "\n## Lambda: invocations per second and concurrency\n");
    let _ = writeln!(
        out,
        "Invocations per second / concurrent executions (rate x duration).\n"
    );
    header(&mut out, "function", rates);
    rows(
        &mut out,
        levels,
        |l| &l.functions,
        |f| f.name.clone(),
        |f| format!("{} / {}", fmt(f.invocations_per_second), fmt(f.concurrency)),
    );
    row(&mut out, "**all**", levels, |l| {
        fmt(l.functions.iter().map(|f| f.concurrency).sum())
    });
    let _ = writeln!(out, "\n## Queues, API Gateway, SES\n");
    header(&mut out, "messages or requests per second", rates);
    rows(
        &mut out,
        levels,
        |l| &l.queues,
        |q| format!("SQS {} (sent)", q.name),
        |q| fmt(q.sent_per_second),
    );
    row(&mut out, "API Gateway requests", levels, |l| {
        fmt(l.api_requests_per_second)
    });
    row(&mut out, "SES mails", levels, |l| fmt(l.mails_per_second));
    let _ = writeln!(out, "\n## The promoted sku\n");
    let sku = &profile.hot_sku;
    let _ = writeln!(
        out,
        "{} write units per reservation (a transactional update of the stock item), one item takes {} units/s, \
         planned at {:.0}% of it:\n",
        fmt(sku.write_units_per_reservation),
        fmt(profile.quotas.partition_write_units),
        sku.target_utilisation * 100.0
    );
    table(
        &mut out,
        &[
            "reservations/s on the sku",
            "write units/s",
            "stock shards needed",
        ],
        "|---:|---:|---:|",
        report.hot_sku_shards.iter().map(|f| {
            vec![
                fmt(f.reservations_per_second),
                fmt(f.reservations_per_second * sku.write_units_per_reservation),
                fmt(f.shards),
            ]
        }),
    );
    let _ = writeln!(out, "\n## Cost per 1,000 orders\n");
    let _ = writeln!(out, "Prices: {}. Pay-per-request throughout, so the cost per order is the same at every rate.\n", report.prices_as_of);
    header(&mut out, "service", rates);
    for (label, part) in [
        (
            "DynamoDB reads",
            (|c| c.dynamodb_reads) as fn(&Cost) -> Decimal,
        ),
        ("DynamoDB writes", |c| c.dynamodb_writes),
        ("Lambda", |c| c.lambda),
        ("SQS", |c| c.sqs),
        ("API Gateway", |c| c.api_gateway),
        ("S3 (requests, first month's storage)", |c| c.s3),
        ("**total without SES**", |c| c.total_without_ses),
        ("SES", |c| c.ses),
        ("**total**", |c| c.total),
    ] {
        row(&mut out, label, levels, |l| {
            format!("${}", part(&l.cost_per_thousand_orders).round_dp(4))
        });
    }
    for (sr, s) in report.scenarios.iter().zip(&profile.scenarios) {
        scenario_section(&mut out, sr, s, profile.hot_sku.target_utilisation);
    }
    out
}

/// What a scenario changes, and the limits left.
fn scenario_section(out: &mut String, sr: &ScenarioReport, s: &Scenario, target: f64) {
    let _ = writeln!(out, "\n## After: {}\n", sr.name);
    let pairs = |m: &std::collections::BTreeMap<String, f64>| {
        m.iter()
            .map(|(k, v)| format!("{k} {}", fmt(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut changes = Vec::new();
    if !s.template_parameters.is_empty() {
        changes.push(format!(
            "template.yaml read with {}",
            s.template_parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    changes.push(format!("quotas: {}", pairs(&s.quotas)));
    if let Some((rate, burst)) = s.route_throttle {
        changes.push(format!(
            "route throttle: {} requests/s, burst {}",
            fmt(rate),
            fmt(burst)
        ));
    }
    changes.push(format!(
        "ReservedConcurrentExecutions: {}",
        pairs(&sr.reserved_concurrency)
    ));
    changes.push(format!(
        "ScalingConfig.MaximumConcurrency: {}",
        pairs(&sr.max_concurrency)
    ));
    changes.push(format!(
        "kept in the functions (no DynamoDB reads): {}",
        s.cached_hot_keys.join(", ")
    ));
    let shards: Vec<String> = sr
        .sized
        .shards
        .iter()
        .map(|s| format!("{} {}", s.key, fmt(s.shards)))
        .collect();
    changes.push(format!(
        "keys spread (shards or number series, sized for {} orders/s at {:.0}% of a key): {}",
        fmt(s.sized_for),
        target * 100.0,
        shards.join(", ")
    ));
    for c in changes {
        let _ = writeln!(out, "- {c}");
    }
    let _ = writeln!(
        out,
        "\nWarmThroughput (read / write units per second): the load at {} orders/s x {}, and \
         what template.yaml sets{} (modelled where set; `-`: not set, the on-demand baseline \
         of a new table or index covers it):\n",
        fmt(s.sized_for),
        s.warm_headroom,
        if s.template_parameters.is_empty() {
            String::new()
        } else {
            " with those parameters".to_string()
        }
    );
    let set = |x: f64| if x > 0.0 { fmt(x) } else { "-".into() };
    table(
        out,
        &[
            "table / index",
            "load read",
            "load write",
            "template read",
            "template write",
        ],
        "|---|---:|---:|---:|---:|",
        sr.sized.warm.iter().map(|w| {
            let (tr, tw) = w.template.unwrap_or((0.0, 0.0));
            vec![
                w.name.clone(),
                fmt(w.read_units_per_second),
                fmt(w.write_units_per_second),
                set(tr),
                set(tw),
            ]
        }),
    );
    let _ = writeln!(out);
    limits_section(out, &sr.report, 12);
    let cost = sr
        .report
        .levels
        .first()
        .map(|l| &l.cost_per_thousand_orders);
    if let Some(c) = cost {
        let _ = writeln!(
            out,
            "\nCost per 1,000 orders: ${} without SES, ${} with it.",
            c.total_without_ses.round_dp(4),
            c.total.round_dp(4)
        );
    }
}

/// The scale table of BENCHMARKS.md (between its `bench:scale-model` markers): per rate the
/// DynamoDB units, the functions' concurrency, requests, mails, the limits reached and the cost
/// per 1,000 orders, for the template as it is and after each of the profile's scenarios.
pub fn scale_summary(report: &Report, profile: &Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Written by `make capacity` from template.yaml and tools/capacity/profile.json (all \
         figures: docs/capacity-figures.md; the model: docs/capacity.md).\n"
    );
    let mut section = |name: &str, r: &Report| {
        let _ = writeln!(out, "{name}\n");
        header(&mut out, "at", &profile.rates);
        let levels = &r.levels;
        let sum = |l: &Level, f: fn(&TableFigures) -> f64| l.tables.iter().map(f).sum::<f64>();
        row(&mut out, "DynamoDB read units/s", levels, |l| {
            fmt(sum(l, |t| t.read_units))
        });
        row(&mut out, "DynamoDB write units/s", levels, |l| {
            fmt(sum(l, |t| t.write_units))
        });
        row(&mut out, "Lambda concurrent executions", levels, |l| {
            fmt(l.functions.iter().map(|f| f.concurrency).sum())
        });
        row(&mut out, "API Gateway requests/s", levels, |l| {
            fmt(l.api_requests_per_second)
        });
        row(&mut out, "SES mails/s", levels, |l| fmt(l.mails_per_second));
        row(&mut out, "limits reached", levels, |l| {
            l.over.len().to_string()
        });
        row(&mut out, "first limit", levels, |l| {
            l.over.first().cloned().unwrap_or_else(|| "none".into())
        });
        row(&mut out, "cost per 1,000 orders", levels, |l| {
            format!("${}", l.cost_per_thousand_orders.total.round_dp(3))
        });
        row(&mut out, "of it without SES", levels, |l| {
            format!(
                "${}",
                l.cost_per_thousand_orders.total_without_ses.round_dp(3)
            )
        });
        let _ = writeln!(out);
    };
    section(
        "The template as it is (its parameters' defaults: the peak switches off):",
        report,
    );
    for sr in &report.scenarios {
        section(&format!("After: {}.", sr.name), &sr.report);
    }
    out
}

/// `doc` with the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` replaced; None
/// when the markers are missing.
pub fn replace_section(doc: &str, name: &str, content: &str) -> Option<String> {
    let (open, close) = (
        format!("<!-- bench:{name} -->"),
        format!("<!-- /bench:{name} -->"),
    );
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    Some(format!(
        "{}\n{}\n{}",
        &doc[..start],
        content.trim_end(),
        &doc[end..]
    ))
}
