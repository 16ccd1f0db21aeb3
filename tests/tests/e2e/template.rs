//! template.yaml passes cfn-lint with no error or warning AND transforms cleanly with
//! aws-sam-translator offline, whose output passes cfn-lint too (cfn-lint alone misses SAM errors).

use std::path::PathBuf;
use std::process::Command;

use crate::support::workspace_root;

fn validate(template: Option<&PathBuf>) -> (bool, String) {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the project virtualenv is missing: run `make venv` (make test does)"
    );
    let mut cmd = Command::new(python);
    cmd.arg(workspace_root().join("infra/validate_template.py"))
        .current_dir(workspace_root());
    if let Some(t) = template {
        cmd.arg(t);
    }
    let out = cmd.output().expect("running infra/validate_template.py");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn template_is_valid_sam_and_cloudformation() {
    let (ok, text) = validate(None);
    assert!(ok, "template validation failed:\n{text}");
    assert!(text.contains("template valid"), "{text}");
    assert!(
        text.contains("cfn-lint transformed template"),
        "the transformed template was not linted:\n{text}"
    );
}

#[test]
fn a_broken_template_is_caught() {
    let broken = std::env::temp_dir().join(format!("broken-template-{}.yaml", std::process::id()));
    let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("reading template.yaml");
    // A mistake only the transformed template shows: an SQS event on a queue that does not exist.
    let text = text.replacen(
        "Queue: !GetAtt RouteQueue.Arn",
        "Queue: !GetAtt NoSuchQueue.Arn",
        1,
    );
    std::fs::write(&broken, text).expect("writing the broken template");
    let (ok, text) = validate(Some(&broken));
    let _ = std::fs::remove_file(&broken);
    assert!(
        !ok,
        "a template referencing a missing queue passed validation:\n{text}"
    );
}

// ------------------------------------------------------------------------------------------
// Alarms: every dead-letter queue, every function and the API have theirs, all on the ops topic.
// The lists come from the template itself, so a new queue or function without alarms fails.

use serde_norway::Value as Yaml;

/// `!Ref X` or `{Ref: X}`.
fn ref_of(v: &Yaml) -> Option<&str> {
    match v {
        Yaml::Tagged(t) if t.tag == "!Ref" => t.value.as_str(),
        Yaml::Mapping(m) if m.len() == 1 => m.get("Ref").and_then(Yaml::as_str),
        _ => None,
    }
}

/// `!GetAtt X.Attr`, `!GetAtt [X, Attr]` or `{Fn::GetAtt: ...}`, as (X, Attr).
fn get_att(v: &Yaml) -> Option<(String, String)> {
    let inner = match v {
        Yaml::Tagged(t) if t.tag == "!GetAtt" => &t.value,
        Yaml::Mapping(m) if m.len() == 1 => m.get("Fn::GetAtt")?,
        _ => return None,
    };
    match inner {
        Yaml::String(s) => s
            .split_once('.')
            .map(|(a, b)| (a.to_string(), b.to_string())),
        Yaml::Sequence(items) => Some((
            items.first()?.as_str()?.to_string(),
            items.get(1)?.as_str()?.to_string(),
        )),
        _ => None,
    }
}

fn resources_of<'a>(doc: &'a Yaml, ty: &str) -> Vec<(&'a str, &'a Yaml)> {
    doc.get("Resources")
        .and_then(Yaml::as_mapping)
        .map(|m| {
            m.iter()
                .filter(|(_, r)| r.get("Type").and_then(Yaml::as_str) == Some(ty))
                .filter_map(|(k, r)| {
                    Some((k.as_str()?, r.get("Properties").unwrap_or(&Yaml::Null)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The metric an alarm watches, directly or as a MetricStat of its Metrics.
struct Watched<'a> {
    namespace: &'a str,
    name: &'a str,
    dimensions: Vec<(&'a str, &'a Yaml)>,
}

fn dims(m: &Yaml) -> Vec<(&str, &Yaml)> {
    m.get("Dimensions")
        .and_then(Yaml::as_sequence)
        .map(|ds| {
            ds.iter()
                .filter_map(|d| Some((d.get("Name")?.as_str()?, d.get("Value")?)))
                .collect()
        })
        .unwrap_or_default()
}

fn watched(props: &Yaml) -> Vec<Watched<'_>> {
    let mut out = Vec::new();
    if let (Some(ns), Some(name)) = (
        props.get("Namespace").and_then(Yaml::as_str),
        props.get("MetricName").and_then(Yaml::as_str),
    ) {
        out.push(Watched {
            namespace: ns,
            name,
            dimensions: dims(props),
        });
    }
    for m in props
        .get("Metrics")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(metric) = m.get("MetricStat").and_then(|s| s.get("Metric")) {
            if let (Some(ns), Some(name)) = (
                metric.get("Namespace").and_then(Yaml::as_str),
                metric.get("MetricName").and_then(Yaml::as_str),
            ) {
                out.push(Watched {
                    namespace: ns,
                    name,
                    dimensions: dims(metric),
                });
            }
        }
    }
    out
}

/// Everything missing or misdirected about the template's alarms.
fn alarm_problems(doc: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    // The ops topic: an SNS topic with an email subscription to an address from a parameter.
    let params = doc.get("Parameters").and_then(Yaml::as_mapping);
    let topics: Vec<&str> = resources_of(doc, "AWS::SNS::Topic")
        .into_iter()
        .filter(|(_, p)| {
            p.get("Subscription")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
                .any(|s| {
                    s.get("Protocol").and_then(Yaml::as_str) == Some("email")
                        && s.get("Endpoint")
                            .and_then(ref_of)
                            .is_some_and(|p| params.is_some_and(|ps| ps.contains_key(p)))
                })
        })
        .map(|(id, _)| id)
        .collect();
    let [topic] = topics.as_slice() else {
        return vec![format!(
            "expected one SNS topic with an email subscription from a parameter, found {topics:?}"
        )];
    };
    let alarms = resources_of(doc, "AWS::CloudWatch::Alarm");
    for (id, p) in &alarms {
        let actions: Vec<Option<&str>> = p
            .get("AlarmActions")
            .and_then(Yaml::as_sequence)
            .map(|a| a.iter().map(ref_of).collect())
            .unwrap_or_default();
        if actions.is_empty() || actions.iter().any(|a| *a != Some(*topic)) {
            problems.push(format!("alarm {id} does not notify only {topic}"));
        }
    }
    let has_alarm = |namespace: &str, metric: &str, dim: &str, matches: &dyn Fn(&Yaml) -> bool| {
        alarms.iter().any(|(_, p)| {
            watched(p).iter().any(|w| {
                w.namespace == namespace
                    && w.name == metric
                    && w.dimensions.iter().any(|(n, v)| *n == dim && matches(v))
            })
        })
    };
    // Every queue has a dead-letter queue, and every dead-letter queue an alarm on its depth.
    let queues = resources_of(doc, "AWS::SQS::Queue");
    // A stream event source's OnFailure queue is a dead-letter queue too (the change relay's).
    let on_failure = resources_of(doc, "AWS::Serverless::Function")
        .into_iter()
        .filter_map(|(_, p)| p.get("Events")?.as_mapping())
        .flat_map(|events| events.values())
        .filter_map(|e| {
            get_att(
                e.get("Properties")?
                    .get("DestinationConfig")?
                    .get("OnFailure")?
                    .get("Destination")?,
            )
        });
    let dlqs: Vec<String> = queues
        .iter()
        .filter_map(|(_, p)| get_att(p.get("RedrivePolicy")?.get("deadLetterTargetArn")?))
        .chain(on_failure)
        .map(|(q, _)| q)
        .collect();
    for (id, p) in &queues {
        if p.get("RedrivePolicy").is_none() && !dlqs.iter().any(|d| d == id) {
            problems.push(format!("queue {id} has no dead-letter queue"));
        }
    }
    for dlq in &dlqs {
        let ok = has_alarm(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            &|v| get_att(v) == Some((dlq.clone(), "QueueName".into())),
        );
        if !ok {
            problems.push(format!("dead-letter queue {dlq} has no depth alarm"));
        }
    }
    // Every function: Errors and Throttles.
    for (id, _) in resources_of(doc, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            if !has_alarm("AWS/Lambda", metric, "FunctionName", &|v| {
                ref_of(v) == Some(id)
            }) {
                problems.push(format!("function {id} has no {metric} alarm"));
            }
        }
    }
    // Every HTTP API: 5xx and p99 latency.
    for (id, _) in resources_of(doc, "AWS::Serverless::HttpApi") {
        if !has_alarm("AWS/ApiGateway", "5xx", "ApiId", &|v| ref_of(v) == Some(id)) {
            problems.push(format!("API {id} has no 5xx alarm"));
        }
        let p99 = alarms.iter().any(|(_, p)| {
            p.get("ExtendedStatistic").and_then(Yaml::as_str) == Some("p99")
                && watched(p).iter().any(|w| {
                    w.name == "Latency" && w.dimensions.iter().any(|(_, v)| ref_of(v) == Some(id))
                })
        });
        if !p99 {
            problems.push(format!("API {id} has no p99 latency alarm"));
        }
    }
    // The business metrics (EMF, namespace Dropship), and anomaly detection on the intake.
    for metric in [
        "OrdersAccepted",
        "LinesUnroutable",
        "DeliveryOrdersLate",
        "StockFeedsStale",
        "RefundsIssued",
        "MessagesDeadLettered",
    ] {
        if !alarms.iter().any(|(_, p)| {
            watched(p)
                .iter()
                .any(|w| w.namespace == "Dropship" && w.name == metric)
        }) {
            problems.push(format!("business metric {metric} has no alarm"));
        }
    }
    let anomaly = alarms.iter().any(|(_, p)| {
        watched(p).iter().any(|w| w.name == "OrdersAccepted")
            && p.get("Metrics")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
                .any(|m| {
                    m.get("Expression")
                        .and_then(Yaml::as_str)
                        .is_some_and(|e| e.starts_with("ANOMALY_DETECTION_BAND"))
                })
    });
    if !anomaly {
        problems.push("OrdersAccepted has no anomaly-detection alarm".into());
    }
    problems
}

fn template_yaml() -> Yaml {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("reading template.yaml");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

#[test]
fn every_dead_letter_queue_function_and_the_api_have_alarms_on_the_ops_topic() {
    let doc = template_yaml();
    let problems = alarm_problems(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
    // The lists were really taken from the template.
    assert!(resources_of(&doc, "AWS::Serverless::Function").len() >= 12);
    assert!(resources_of(&doc, "AWS::CloudWatch::Alarm").len() >= 30);
}

/// A copy of one of the template's resources, to change in a test.
fn copy_of(resources: &serde_norway::Mapping, id: &str) -> Yaml {
    resources
        .get(id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not in the template"))
}

fn assert_reported(problems: &[String], expected: &[&str]) {
    for e in expected {
        assert!(problems.iter().any(|p| p == e), "{e}: {problems:#?}");
    }
}

#[test]
fn a_new_function_or_queue_without_alarms_is_caught() {
    let mut doc = template_yaml();
    let resources = doc
        .get_mut("Resources")
        .and_then(Yaml::as_mapping_mut)
        .expect("Resources");
    let function = copy_of(resources, "AlertingFunction");
    resources.insert("NewFunction".into(), function);
    resources.insert(
        "LonelyQueue".into(),
        serde_norway::from_str("{Type: AWS::SQS::Queue, Properties: {SqsManagedSseEnabled: true}}")
            .expect("yaml"),
    );
    // An alarm that mails someone else.
    let mut alarm = copy_of(resources, "RouteDeadLetterAlarm");
    alarm["Properties"]["AlarmActions"] =
        serde_norway::from_str("[arn:aws:sns:eu-central-1:123456789012:elsewhere]").expect("yaml");
    resources.insert("StrayAlarm".into(), alarm);
    assert_reported(
        &alarm_problems(&doc),
        &[
            "function NewFunction has no Errors alarm",
            "function NewFunction has no Throttles alarm",
            "queue LonelyQueue has no dead-letter queue",
            "alarm StrayAlarm does not notify only OpsTopic",
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Data and logs outlive the stack: tables and the bucket are retained on delete and on
// replacement; every function logs JSON at LogLevel into a log group of its own, retained too,
// that keeps lines for LogRetentionDays. The lists come from the template itself.

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
const CLOUDWATCH_RETENTION_DAYS: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Resources of a type, whole (with their DeletionPolicy), not only their Properties.
fn whole_resources_of<'a>(doc: &'a Yaml, ty: &str) -> Vec<(&'a str, &'a Yaml)> {
    resources_of(doc, ty)
        .into_iter()
        .filter_map(|(id, _)| Some((id, doc.get("Resources")?.get(id)?)))
        .collect()
}

fn not_retained(id: &str, resource: &Yaml) -> Vec<String> {
    ["DeletionPolicy", "UpdateReplacePolicy"]
        .into_iter()
        .filter(|policy| resource.get(policy).and_then(Yaml::as_str) != Some("Retain"))
        .map(|policy| format!("{id} has no {policy}: Retain"))
        .collect()
}

/// Everything missing about retention and logging.
fn retention_problems(doc: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    for ty in [
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
    ] {
        for (id, resource) in whole_resources_of(doc, ty) {
            problems.extend(not_retained(id, resource));
        }
    }
    let param = |name: &str| doc.get("Parameters").and_then(|p| p.get(name));
    let days = param("LogRetentionDays");
    let allowed: Vec<u64> = days
        .and_then(|d| d.get("AllowedValues"))
        .and_then(Yaml::as_sequence)
        .map(|vs| vs.iter().filter_map(Yaml::as_u64).collect())
        .unwrap_or_default();
    if days.and_then(|d| d.get("Default")).and_then(Yaml::as_u64) != Some(30)
        || allowed != CLOUDWATCH_RETENTION_DAYS
    {
        problems.push(
            "parameter LogRetentionDays: default 30, allowed values those of CloudWatch Logs"
                .into(),
        );
    }
    // Business metrics are EMF lines without a level, which Lambda files under INFO.
    let level = param("LogLevel");
    let levels: Vec<&str> = level
        .and_then(|l| l.get("AllowedValues"))
        .and_then(Yaml::as_sequence)
        .map(|vs| vs.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default();
    if level.and_then(|l| l.get("Default")).and_then(Yaml::as_str) != Some("INFO")
        || levels.is_empty()
        || levels
            .iter()
            .any(|l| !["TRACE", "DEBUG", "INFO"].contains(l))
    {
        problems.push("parameter LogLevel: default INFO, nothing above INFO allowed".into());
    }

    let groups = whole_resources_of(doc, "AWS::Logs::LogGroup");
    let global_logging = doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(|f| f.get("LoggingConfig"));
    let global_env = doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(|f| f.get("Environment"));
    let mut used_groups: Vec<&str> = Vec::new();
    for (id, props) in resources_of(doc, "AWS::Serverless::Function") {
        // SAM merges Globals' LoggingConfig into the function's; the function's keys win.
        let logging = |key: &str| {
            props
                .get("LoggingConfig")
                .and_then(|l| l.get(key))
                .or_else(|| global_logging.and_then(|l| l.get(key)))
        };
        // RUST_LOG set in the template would take the level out of LogLevel's hands.
        let sets_rust_log = [global_env, props.get("Environment")]
            .into_iter()
            .flatten()
            .any(|e| e.get("Variables").and_then(|v| v.get("RUST_LOG")).is_some());
        if sets_rust_log {
            problems.push(format!("function {id} sets RUST_LOG"));
        }
        if logging("LogFormat").and_then(Yaml::as_str) != Some("JSON") {
            problems.push(format!("function {id} does not log JSON"));
        }
        if logging("ApplicationLogLevel").and_then(ref_of) != Some("LogLevel") {
            problems.push(format!("function {id} does not log at LogLevel"));
        }
        let Some(group) = logging("LogGroup").and_then(ref_of) else {
            problems.push(format!("function {id} has no log group of the template"));
            continue;
        };
        if used_groups.contains(&group) {
            problems.push(format!("function {id} shares log group {group}"));
        }
        used_groups.push(group);
        match groups.iter().find(|(g, _)| *g == group) {
            None => problems.push(format!("function {id}: {group} is not a log group")),
            Some((_, g)) => {
                let retention = g.get("Properties").and_then(|p| p.get("RetentionInDays"));
                if retention.and_then(ref_of) != Some("LogRetentionDays") {
                    problems.push(format!("log group {group} does not keep LogRetentionDays"));
                }
            }
        }
    }
    problems
}

#[test]
fn data_and_logs_are_retained_and_every_function_logs_json_to_its_own_group() {
    let doc = template_yaml();
    let problems = retention_problems(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
    // The lists were really taken from the template.
    assert!(whole_resources_of(&doc, "AWS::DynamoDB::Table").len() >= 8);
    assert_eq!(whole_resources_of(&doc, "AWS::S3::Bucket").len(), 1);
    assert_eq!(
        whole_resources_of(&doc, "AWS::Logs::LogGroup").len(),
        resources_of(&doc, "AWS::Serverless::Function").len()
    );
}

#[test]
fn a_table_or_function_that_would_lose_its_data_or_logs_is_caught() {
    let mut doc = template_yaml();
    let resources = doc
        .get_mut("Resources")
        .and_then(Yaml::as_mapping_mut)
        .expect("Resources");
    let mut table = copy_of(resources, "OrdersTable");
    table
        .as_mapping_mut()
        .expect("table")
        .remove("UpdateReplacePolicy");
    resources.insert("FragileTable".into(), table);
    // A copy of a function shares its group; one whose own LoggingConfig is text has none.
    let function = copy_of(resources, "AlertingFunction");
    resources.insert("CopiedFunction".into(), function.clone());
    let mut text = function;
    text["Properties"]["LoggingConfig"] =
        serde_norway::from_str("{LogFormat: Text}").expect("yaml");
    text["Properties"]["Environment"]["Variables"]["RUST_LOG"] =
        serde_norway::from_str("debug").expect("yaml");
    resources.insert("TextFunction".into(), text);
    let mut group = copy_of(resources, "ReportsLogGroup");
    group["Properties"]["RetentionInDays"] = serde_norway::from_str("7").expect("yaml");
    resources.insert("ReportsLogGroup".into(), group);
    let problems = retention_problems(&doc);
    assert_reported(
        &problems,
        &[
            "FragileTable has no UpdateReplacePolicy: Retain",
            "function CopiedFunction shares log group AlertingLogGroup",
            "function TextFunction does not log JSON",
            "function TextFunction has no log group of the template",
            "function TextFunction sets RUST_LOG",
            "log group ReportsLogGroup does not keep LogRetentionDays",
        ],
    );
    assert_eq!(problems.len(), 6, "{problems:#?}");
}
