//! Logging as Lambda's logging configuration (template.yaml `LoggingConfig`) asks for it: the
//! level from `AWS_LAMBDA_LOG_LEVEL` unless `RUST_LOG` is set (then info), JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT` is JSON and plain text otherwise, no ANSI colours.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// What the environment asks of the logs: an `EnvFilter` directive and a line format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

/// The decision, from the values of `AWS_LAMBDA_LOG_LEVEL`, `RUST_LOG` and
/// `AWS_LAMBDA_LOG_FORMAT`. `RUST_LOG` is only ever set on purpose (the template sets none; a
/// developer's `RUST_LOG=debug make up`, the benchmark's `warn`), and it can make deployed logs
/// finer or quieter but never noisier than the configured level: Lambda drops JSON lines above
/// it. So it wins, then the configured level, then info. Lambda's levels are TRACE..FATAL;
/// tracing has no FATAL, and what stops a function is logged at error. An unknown level falls
/// through to info rather than silencing.
pub fn settings(
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
    lambda_format: Option<&str>,
) -> LogSettings {
    let from_lambda = lambda_level.and_then(|l| match l.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    });
    let filter = match (rust_log.map(str::trim), from_lambda) {
        (Some(directives), _) if !directives.is_empty() => directives.to_string(),
        (_, Some(level)) => level.to_string(),
        _ => "info".to_string(),
    };
    let format = match lambda_format {
        Some(f) if f.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    LogSettings { filter, format }
}

pub fn init() {
    let var = |name: &str| std::env::var(name).ok();
    let s = settings(
        var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        var("RUST_LOG").as_deref(),
        var("AWS_LAMBDA_LOG_FORMAT").as_deref(),
    );
    // A RUST_LOG that does not parse must not take the function down: info, as with none.
    let filter = EnvFilter::try_new(&s.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false);
    // try_init: a second call (tests) must not panic.
    let _ = match s.format {
        // The RFC 3339 timestamp stays: Lambda's level filtering reads `level` only from lines
        // with a valid timestamp and treats the others as INFO.
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        // CloudWatch stamps every text line itself.
        LogFormat::Text => builder.without_time().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(level: Option<&str>, rust_log: Option<&str>, format: Option<&str>) -> (String, LogFormat) {
        let s = settings(level, rust_log, format);
        (s.filter, s.format)
    }

    #[test]
    fn rust_log_set_on_purpose_wins_over_the_configured_level() {
        assert_eq!(
            s(Some("DEBUG"), Some("warn"), Some("JSON")),
            ("warn".into(), LogFormat::Json)
        );
        assert_eq!(
            s(Some("INFO"), Some("dropship_aws=debug,info"), None).0,
            "dropship_aws=debug,info"
        );
        assert_eq!(s(Some("WARN"), Some("  "), None).0, "warn");
    }

    #[test]
    fn every_lambda_level_maps_and_fatal_is_error() {
        for (lambda, tracing) in [
            ("TRACE", "trace"),
            ("DEBUG", "debug"),
            ("INFO", "info"),
            ("WARN", "warn"),
            ("ERROR", "error"),
            ("FATAL", "error"),
            ("info", "info"),
        ] {
            assert_eq!(s(Some(lambda), None, None).0, tracing, "{lambda}");
        }
    }

    #[test]
    fn info_when_neither_says_anything_usable() {
        assert_eq!(s(Some("LOUD"), None, None).0, "info");
        assert_eq!(s(Some(""), Some(" "), None).0, "info");
        assert_eq!(s(None, None, None), ("info".into(), LogFormat::Text));
    }

    #[test]
    fn json_only_when_lambda_says_json() {
        assert_eq!(s(None, None, Some("JSON")).1, LogFormat::Json);
        assert_eq!(s(None, None, Some("json")).1, LogFormat::Json);
        assert_eq!(s(None, None, Some("Text")).1, LogFormat::Text);
        assert_eq!(s(None, None, Some("")).1, LogFormat::Text);
    }
}
