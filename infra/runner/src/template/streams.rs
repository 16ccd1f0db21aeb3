//! `DynamoDB` events: a function fed by a table's change stream, with Lambda's event source
//! mapping settings (batching, retries, bisection, partial batch failures, the on-failure
//! destination and filter criteria).

use std::time::Duration;

use anyhow::{anyhow, bail, Result};

use super::expr::Expr;
use super::properties::{check_keys, literal_bool, literal_list, literal_str, literal_u64};
use crate::event_filter::Pattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest record still in the stream.
    TrimHorizon,
    /// Only records written after the poller started.
    Latest,
}

#[derive(Debug, Clone)]
pub struct StreamDef {
    /// The stream's arn (`!GetAtt Table.StreamArn`).
    pub stream: Expr,
    pub starting_position: StartingPosition,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// `None` = retry until the record expires (-1, Lambda's default).
    pub maximum_retry_attempts: Option<u32>,
    /// `None` = no limit but the stream's retention (-1, Lambda's default).
    pub maximum_record_age: Option<Duration>,
    pub bisect_on_error: bool,
    pub report_batch_item_failures: bool,
    /// An SQS queue's arn, where records go whose retries are exhausted.
    pub on_failure: Option<Expr>,
    pub filters: Vec<Pattern>,
    pub enabled: bool,
}

/// Reads a whole number that may be -1 (Lambda's "no limit"), within `lo..=hi` otherwise.
fn limit_or_infinite(props: &Expr, key: &str, what: &str, lo: i64, hi: i64) -> Result<Option<u64>> {
    let n = match props.get(key) {
        None => return Ok(None),
        Some(Expr::Number(n)) => n.as_i64(),
        Some(Expr::Str(s)) => s.parse().ok(),
        Some(other) => bail!(
            "{what}.{key} must be a literal number locally, found {}",
            other.describe()
        ),
    }
    .ok_or_else(|| anyhow!("{what}.{key} must be a whole number"))?;
    match n {
        -1 => Ok(None),
        n if (lo..=hi).contains(&n) => Ok(Some(n as u64)),
        n => bail!("{what}.{key} {n} is neither -1 nor within {lo}..={hi}"),
    }
}

pub(super) fn parse_stream(what: &str, props: &Expr) -> Result<StreamDef> {
    check_keys(
        what,
        props,
        &[
            "Stream",
            "StartingPosition",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
            "BisectBatchOnFunctionError",
            "ParallelizationFactor",
            "FunctionResponseTypes",
            "DestinationConfig",
            "FilterCriteria",
            "Enabled",
        ],
        &["KmsKeyArn", "MetricsConfig"],
    )?;
    let stream = props
        .get("Stream")
        .cloned()
        .ok_or_else(|| anyhow!("{what}: Stream is missing"))?;
    let starting_position = match literal_str(props, "StartingPosition", what)? {
        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
        Some("LATEST") => StartingPosition::Latest,
        Some(other) => bail!(
            "{what}: StartingPosition `{other}` is not TRIM_HORIZON or LATEST (AT_TIMESTAMP is for Kinesis)"
        ),
        None => bail!("{what}: StartingPosition is missing (TRIM_HORIZON or LATEST)"),
    };
    let batch_size = literal_u64(props, "BatchSize", what)?.unwrap_or(100);
    if !(1..=10_000).contains(&batch_size) {
        bail!("{what}: BatchSize {batch_size} is not within 1..=10000");
    }
    let window = literal_u64(props, "MaximumBatchingWindowInSeconds", what)?.unwrap_or(0);
    if window > 300 {
        bail!("{what}: MaximumBatchingWindowInSeconds {window} is over 300");
    }
    let parallelization = literal_u64(props, "ParallelizationFactor", what)?.unwrap_or(1);
    if parallelization != 1 {
        bail!(
            "{what}: ParallelizationFactor {parallelization} is not emulated (the runner \
             processes each shard with one batch at a time, as with factor 1)"
        );
    }
    let types = literal_list(props, "FunctionResponseTypes", what)?;
    if let Some(t) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
        bail!("{what}: FunctionResponseTypes `{t}` is unknown");
    }
    let on_failure = match props.get("DestinationConfig") {
        None => None,
        Some(config) => {
            check_keys(
                &format!("{what}.DestinationConfig"),
                config,
                &["OnFailure"],
                &[],
            )?;
            match config.get("OnFailure") {
                None => None,
                Some(on_failure) => {
                    let w = format!("{what}.DestinationConfig.OnFailure");
                    check_keys(&w, on_failure, &["Destination", "Type"], &[])?;
                    if let Some(t) = literal_str(on_failure, "Type", &w)? {
                        if t != "SQS" {
                            bail!("{w}.Type `{t}`: only SQS destinations run locally");
                        }
                    }
                    Some(
                        on_failure
                            .get("Destination")
                            .cloned()
                            .ok_or_else(|| anyhow!("{w}: Destination is missing"))?,
                    )
                }
            }
        }
    };
    Ok(StreamDef {
        stream,
        starting_position,
        batch_size: batch_size as usize,
        batching_window: Duration::from_secs(window),
        maximum_retry_attempts: limit_or_infinite(props, "MaximumRetryAttempts", what, 0, 10_000)?
            .map(|n| n as u32),
        maximum_record_age: limit_or_infinite(
            props,
            "MaximumRecordAgeInSeconds",
            what,
            60,
            604_800,
        )?
        .map(Duration::from_secs),
        bisect_on_error: literal_bool(props, "BisectBatchOnFunctionError", what)?.unwrap_or(false),
        report_batch_item_failures: !types.is_empty(),
        on_failure,
        filters: parse_filters(what, props)?,
        enabled: literal_bool(props, "Enabled", what)?.unwrap_or(true),
    })
}

/// `FilterCriteria: {Filters: [{Pattern: '<json>'}]}`, each pattern validated now.
fn parse_filters(what: &str, props: &Expr) -> Result<Vec<Pattern>> {
    let Some(criteria) = props.get("FilterCriteria") else {
        return Ok(Vec::new());
    };
    let w = format!("{what}.FilterCriteria");
    check_keys(&w, criteria, &["Filters"], &[])?;
    let filters = match criteria.get("Filters") {
        None => return Ok(Vec::new()),
        Some(Expr::List(items)) => items,
        Some(_) => bail!("{w}.Filters must be a list"),
    };
    if filters.len() > 5 {
        bail!(
            "{w}.Filters has {} patterns; Lambda allows 5",
            filters.len()
        );
    }
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let fw = format!("{w}.Filters[{i}]");
            check_keys(&fw, f, &["Pattern"], &[])?;
            let text = literal_str(f, "Pattern", &fw)?
                .ok_or_else(|| anyhow!("{fw}: Pattern is missing"))?;
            Pattern::parse(text).map_err(|e| anyhow!("{fw}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::expr::parse_expr;
    use serde_json::json;

    fn parse(yaml: &str) -> Result<StreamDef> {
        parse_stream("DynamoDB event E", &parse_expr(yaml))
    }

    #[test]
    fn reads_every_setting() {
        let d = parse(
            r#"{Stream: !GetAtt T.StreamArn, StartingPosition: TRIM_HORIZON, BatchSize: 5,
                MaximumBatchingWindowInSeconds: 1, MaximumRetryAttempts: 2, BisectBatchOnFunctionError: true,
                MaximumRecordAgeInSeconds: 60, ParallelizationFactor: 1,
                FunctionResponseTypes: [ReportBatchItemFailures],
                DestinationConfig: {OnFailure: {Destination: !GetAtt Dlq.Arn}},
                FilterCriteria: {Filters: [{Pattern: '{"eventName": ["INSERT"]}'}]}}"#,
        )
        .expect("parses");
        assert_eq!(d.stream, Expr::GetAtt("T".into(), "StreamArn".into()));
        assert_eq!(d.starting_position, StartingPosition::TrimHorizon);
        assert_eq!(d.batch_size, 5);
        assert_eq!(d.batching_window, Duration::from_secs(1));
        assert_eq!(d.maximum_retry_attempts, Some(2));
        assert_eq!(d.maximum_record_age, Some(Duration::from_secs(60)));
        assert!(d.bisect_on_error && d.report_batch_item_failures && d.enabled);
        assert_eq!(d.on_failure, Some(Expr::GetAtt("Dlq".into(), "Arn".into())));
        assert_eq!(d.filters.len(), 1);
        assert!(d.filters[0].matches(&json!({"eventName": "INSERT"})));

        let d = parse(
            "{Stream: !GetAtt T.StreamArn, StartingPosition: LATEST, MaximumRetryAttempts: -1}",
        )
        .expect("defaults");
        assert_eq!(d.batch_size, 100);
        assert_eq!(d.maximum_retry_attempts, None);
        assert_eq!(d.maximum_record_age, None);
        assert!(!d.bisect_on_error && !d.report_batch_item_failures);
        assert!(d.on_failure.is_none() && d.filters.is_empty());
    }

    #[test]
    fn what_is_not_emulated_is_named() {
        for (yaml, says) in [
            ("{StartingPosition: LATEST}", "Stream is missing"),
            ("{Stream: s}", "StartingPosition is missing"),
            ("{Stream: s, StartingPosition: AT_TIMESTAMP}", "AT_TIMESTAMP"),
            ("{Stream: s, StartingPosition: LATEST, ParallelizationFactor: 2}", "ParallelizationFactor"),
            ("{Stream: s, StartingPosition: LATEST, TumblingWindowInSeconds: 60}", "TumblingWindowInSeconds"),
            ("{Stream: s, StartingPosition: LATEST, MaximumRetryAttempts: -2}", "MaximumRetryAttempts"),
            ("{Stream: s, StartingPosition: LATEST, MaximumRecordAgeInSeconds: 10}", "MaximumRecordAgeInSeconds"),
            ("{Stream: s, StartingPosition: LATEST, BatchSize: 0}", "BatchSize"),
            ("{Stream: s, StartingPosition: LATEST, DestinationConfig: {OnFailure: {Type: SNS, Destination: x}}}", "SQS"),
            ("{Stream: s, StartingPosition: LATEST, FilterCriteria: {Filters: [{Pattern: '{\"a\": 1}'}]}}", "Filters[0]"),
        ] {
            let err = format!("{:#}", parse(yaml).expect_err(yaml));
            assert!(err.contains(says), "{yaml}: {err}");
        }
    }
}
