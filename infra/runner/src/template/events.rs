//! Event sources that invoke a function: HTTP routes, SQS queues (which is also how S3
//! notifications arrive), DynamoDB change streams ([`super::streams`]) and schedules.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use serde_json::Value as Json;

use super::api::{parse_route, HttpApiDef, RouteDef};
use super::expr::Expr;
use super::properties::{check_keys, literal_bool, literal_list, literal_str, literal_u64};
use super::streams::{parse_stream, StreamDef};

#[derive(Debug, Clone)]
pub struct EventDef {
    pub id: String,
    pub source: EventSource,
}

#[derive(Debug, Clone)]
pub enum EventSource {
    Http(RouteDef),
    Sqs(SqsDef),
    DynamoDb(StreamDef),
    Schedule(ScheduleDef),
}

#[derive(Debug, Clone)]
pub struct SqsDef {
    pub queue: Expr,
    pub batch_size: Expr,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct ScheduleDef {
    /// `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler).
    pub v2: bool,
    pub expression: String,
    /// `None` for cron expressions, which only run on demand locally.
    pub every: Option<Duration>,
    pub input: Option<String>,
    pub retries: u32,
    pub enabled: bool,
}

/// One entry of a function's `Events`, read by its `Type`.
pub(super) fn parse_event(
    event_id: &str,
    ev: &Expr,
    http_api: Option<&HttpApiDef>,
) -> Result<EventSource> {
    check_keys(event_id, ev, &["Type", "Properties"], &[])?;
    let ty = ev
        .get("Type")
        .and_then(Expr::as_literal_str)
        .ok_or_else(|| anyhow!("Type is missing"))?;
    let empty = Expr::Map(Vec::new());
    let props = ev.get("Properties").unwrap_or(&empty);
    let what = format!("{ty} event {event_id}");
    match ty {
        "HttpApi" => parse_route(&what, props, http_api).map(EventSource::Http),
        "SQS" => parse_sqs(&what, props).map(EventSource::Sqs),
        "DynamoDB" => parse_stream(&what, props).map(EventSource::DynamoDb),
        "Schedule" | "ScheduleV2" => {
            parse_schedule(&what, props, ty == "ScheduleV2").map(EventSource::Schedule)
        }
        other => bail!(
            "event type {other} is not supported by the local runner (supported: HttpApi, SQS, \
             DynamoDB, Schedule, ScheduleV2; S3 notifications reach functions through SQS)"
        ),
    }
}

/// An `SQS` event: the queue a function polls, and whether it reports partial batch failures.
fn parse_sqs(what: &str, props: &Expr) -> Result<SqsDef> {
    check_keys(
        what,
        props,
        &["Queue", "BatchSize", "FunctionResponseTypes", "Enabled"],
        &[
            "MaximumBatchingWindowInSeconds",
            "ScalingConfig",
            "KmsKeyArn",
            "MetricsConfig",
        ],
    )?;
    let queue = props
        .get("Queue")
        .cloned()
        .ok_or_else(|| anyhow!("{what}: Queue is missing"))?;
    let types = literal_list(props, "FunctionResponseTypes", what)?;
    for t in &types {
        if t != "ReportBatchItemFailures" {
            bail!("{what}: FunctionResponseTypes `{t}` is unknown");
        }
    }
    Ok(SqsDef {
        queue,
        batch_size: props
            .get("BatchSize")
            .cloned()
            .unwrap_or(Expr::Number(10.into())),
        report_batch_item_failures: !types.is_empty(),
        enabled: literal_bool(props, "Enabled", what)?.unwrap_or(true),
    })
}

/// A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event.
fn parse_schedule(what: &str, props: &Expr, v2: bool) -> Result<ScheduleDef> {
    let expr_key = if v2 { "ScheduleExpression" } else { "Schedule" };
    let accepted: &[&str] = if v2 {
        &[
            "Name",
            "Description",
            "RetryPolicy",
            "DeadLetterConfig",
            "FlexibleTimeWindow",
            "ScheduleExpressionTimezone",
            "StartDate",
            "EndDate",
            "GroupName",
            "KmsKeyArn",
            "RoleArn",
            "PermissionsBoundary",
            "OmitName",
        ]
    } else {
        &["Name", "Description", "RetryPolicy", "DeadLetterConfig"]
    };
    check_keys(
        what,
        props,
        &[expr_key, "Input", "Enabled", "State"],
        accepted,
    )?;
    let expression = literal_str(props, expr_key, what)?
        .ok_or_else(|| anyhow!("{what}: {expr_key} is missing"))?
        .to_string();
    let every = parse_schedule_expression(&expression).map_err(|e| anyhow!("{what}: {e}"))?;
    let input = literal_str(props, "Input", what)?.map(str::to_string);
    if let Some(input) = &input {
        serde_json::from_str::<Json>(input)
            .map_err(|e| anyhow!("{what}: Input is not valid JSON: {e}"))?;
    }
    let mut enabled = literal_bool(props, "Enabled", what)?.unwrap_or(true);
    if let Some(state) = literal_str(props, "State", what)? {
        enabled = enabled && state.eq_ignore_ascii_case("ENABLED");
    }
    let retries = match props.get("RetryPolicy") {
        Some(rp) => literal_u64(rp, "MaximumRetryAttempts", what)?.unwrap_or(0) as u32,
        None => 0,
    };
    Ok(ScheduleDef {
        v2,
        expression,
        every,
        input,
        retries,
        enabled,
    })
}

/// `rate(N unit)` → its period; `cron(...)` → `None` (on demand only); anything else is an error.
pub fn parse_schedule_expression(expr: &str) -> Result<Option<Duration>, String> {
    let expr = expr.trim();
    if expr.starts_with("cron(") && expr.ends_with(')') {
        return Ok(None);
    }
    let inner = expr
        .strip_prefix("rate(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| {
            format!("schedule expression `{expr}` is neither rate(N unit) nor cron(...)")
        })?;
    let (n, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("schedule expression `{expr}`: expected rate(N unit)"))?;
    let n: u64 = n
        .parse()
        .map_err(|_| format!("schedule expression `{expr}`: `{n}` is not a whole number"))?;
    if n == 0 {
        return Err(format!(
            "schedule expression `{expr}`: the rate must be positive"
        ));
    }
    let secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => {
            return Err(format!(
                "schedule expression `{expr}`: unit `{other}` is not minute(s), hour(s) or day(s)"
            ))
        }
    };
    Ok(Some(Duration::from_secs(n * secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_expressions() {
        assert_eq!(
            parse_schedule_expression("rate(1 minute)"),
            Ok(Some(Duration::from_secs(60)))
        );
        assert_eq!(
            parse_schedule_expression("rate(2 hours)"),
            Ok(Some(Duration::from_secs(7200)))
        );
        assert_eq!(
            parse_schedule_expression("rate(1 day)"),
            Ok(Some(Duration::from_secs(86400)))
        );
        assert_eq!(parse_schedule_expression("cron(0 12 * * ? *)"), Ok(None));
        assert!(parse_schedule_expression("rate(5 seconds)").is_err());
        assert!(parse_schedule_expression("at(2025-01-01T00:00:00)").is_err());
        assert!(parse_schedule_expression("rate(0 minutes)").is_err());
    }
}
