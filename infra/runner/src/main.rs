//! `local-runner`: the local twin of template.yaml. Run from the project root; see
//! `config.rs` for the `DROPSHIP_*` settings and docs/architecture.md ("The local stack") for the why.

mod app;
mod aws_proxy;
mod capacity;
mod config;
mod emulator;
mod event_filter;
mod faults;
mod http_api;
mod instrument;
mod lambda;
mod metrics;
mod outbox;
mod pollers;
mod process;
mod provision;
mod schedules;
mod seed;
mod streams;
mod template;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // DROPSHIP_LOG filters the runner's own log; RUST_LOG is passed on to the functions.
    let filter = EnvFilter::try_from_env("DROPSHIP_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,hyper=warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();

    let result = match config::Config::from_env() {
        Ok(config) => app::run(config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "local-runner: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
