//! `load-driver`: the realistic mix (orders of 1 to 30 lines, reads, fulfillers listing and
//! shipping, returns, stock updates, a report) against a base URL, ramped and held on an open
//! model, bounded in requests and time; p50/p90/p99/max and errors per operation as JSON, and
//! the run as an SVG. Usage and design: tools/load-driver/README.md.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: the summary goes to stdout, progress and errors to stderr"
)]

mod args;
mod http;
mod mix;
mod run;
mod schedule;
mod seed;
mod stats;
mod svg;

use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Duration;

#[tokio::main]
async fn main() {
    if let Err(e) = drive().await {
        eprintln!("load-driver: {e:#}");
        std::process::exit(1);
    }
}

async fn drive() -> Result<()> {
    let args = args::parse(std::env::args().skip(1))?;
    if args.base_url.starts_with("https://") && !cfg!(feature = "tls") {
        bail!("this build has no TLS: cargo build --release -p load-driver --features tls");
    }
    let tokens = args::tokens(args.tokens_file.as_ref(), |k| std::env::var(k).ok())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_seconds))
        .pool_max_idle_per_host(args.max_in_flight)
        .build()
        .context("building the HTTP client")?;
    let api = http::Api {
        client,
        base_url: args.base_url.clone(),
    };
    let catalogue = mix::catalogue(args.products, &mut StdRng::seed_from_u64(args.seed));
    eprintln!(
        "load-driver: seeding {} products at {}",
        catalogue.len(),
        args.base_url
    );
    let seeded = seed::seed(&api, &args, &tokens, &catalogue).await?;
    eprintln!(
        "load-driver: {:?}, at most {} requests and {} s",
        args.profile, args.max_requests, args.max_seconds
    );
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let roles = run::Roles {
        admin: tokens.admin.clone(),
        channel: seeded.channel_token.clone(),
        fulfiller: seeded.fulfiller_token.clone(),
    };
    let finished = run::run(&api, &args, roles, catalogue).await;
    if let Err(e) = seed::revoke(&api, &tokens.admin, &seeded.minted).await {
        eprintln!("load-driver: could not revoke the run's tokens: {e:#}");
    }
    let report = finished.recorder.report(stats::RunInfo {
        base_url: args.base_url.clone(),
        started_at,
        profile: args.profile,
        mix: args.mix.clone(),
        max_requests: args.max_requests,
        max_seconds: args.max_seconds,
        stopped_by: finished.stopped_by,
        elapsed_seconds: finished.elapsed_seconds,
    });
    summary(&report);
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&report)?;
        write(out, format!("{json}\n"))?;
    }
    if let Some(path) = &args.svg {
        write(path, svg::render(&report))?;
    }
    Ok(())
}

fn write(path: &std::path::Path, text: String) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn summary(r: &stats::Report) {
    println!(
        "{} sent, {} ended ({} of them errors), {} dropped in {} s ({} ok/s), stopped by {}",
        r.sent,
        r.completed,
        r.errors,
        r.dropped,
        r.run.elapsed_seconds,
        r.achieved_rps,
        r.run.stopped_by
    );
    println!(
        "{:<8} {:>7} {:>9} {:>9} {:>9} {:>9}  errors",
        "op", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (name, o) in &r.operations {
        println!(
            "{name:<8} {:>7} {:>9} {:>9} {:>9} {:>9}  {:?}",
            o.count, o.p50_ms, o.p90_ms, o.p99_ms, o.max_ms, o.errors
        );
    }
    match &r.ceiling {
        Some(c) => println!(
            "ceiling: at second {} (target {} rps, {} ok/s): {} (p99 {} ms, {} errors+dropped)",
            c.at_second, c.target_rps, c.achieved_rps, c.reason, c.p99_ms, c.error_share
        ),
        None => println!("no ceiling reached (p99 stayed under 1 s, errors under 1 %)"),
    }
}
