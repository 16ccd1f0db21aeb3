//! Logging as Lambda wants it: JSON lines on stdout, level from RUST_LOG, no ANSI colours.

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // try_init: a second call (tests) must not panic.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false)
        .with_current_span(true)
        .without_time() // CloudWatch stamps every line itself.
        .try_init();
}
