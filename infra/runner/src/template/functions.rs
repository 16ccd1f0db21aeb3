//! Functions: their binary, runtime limits, environment (Globals merged with their own) and
//! the events that invoke them.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_norway::Value as Yaml;

use super::api::HttpApiDef;
use super::conditions::Conditions;
use super::events::{parse_event, EventDef};
use super::expr::Expr;
use super::properties::check_keys;
use super::resources::{check_properties, Kind};
use super::{ACCOUNT_ID, PARTITION, REGION};

#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub id: String,
    pub binary: String,
    /// Physical name; the logical id unless `FunctionName` says otherwise.
    pub name: String,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub handler: String,
    /// Globals first, then the function's own (which win), in template order.
    pub environment: Vec<(String, Expr)>,
    pub events: Vec<EventDef>,
}

impl FunctionDef {
    pub fn arn(&self) -> String {
        format!(
            "arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{}",
            self.name
        )
    }
}

/// Globals.Function, as an expression map; other Globals sections are not emulated.
pub(super) fn parse_globals(section: Option<&Yaml>, conditions: &Conditions) -> Result<Expr> {
    let Some(map) = section.and_then(Yaml::as_mapping) else {
        return Ok(Expr::Map(Vec::new()));
    };
    let mut function = Expr::Map(Vec::new());
    for (k, v) in map {
        match k.as_str() {
            Some("Function") => {
                function =
                    Expr::from_yaml(v, conditions).map_err(|e| anyhow!("Globals.Function: {e}"))?;
                check_properties("Globals.Function", Kind::Function, &function)?;
            }
            Some(other) => bail!("Globals.{other} is not supported by the local runner"),
            None => bail!("Globals key {k:?} is not a string"),
        }
    }
    Ok(function)
}

pub(super) fn parse_function(
    id: &str,
    yaml: &Yaml,
    globals: &Expr,
    http_api: Option<&HttpApiDef>,
    conditions: &Conditions,
) -> Result<FunctionDef> {
    let binary = yaml
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(Yaml::as_str)
        .ok_or_else(|| {
            anyhow!("Metadata.BuildProperties.Binary is missing: the runner needs the binary name")
        })?
        .to_string();
    let props = match yaml.get("Properties") {
        Some(p) => Expr::from_yaml(p, conditions).map_err(|e| anyhow!("Properties: {e}"))?,
        None => Expr::Map(Vec::new()),
    };
    // Function properties override Globals; Environment.Variables merge (function wins).
    let lookup = |key: &str| props.get(key).or_else(|| globals.get(key));

    let runtime = match lookup("Runtime") {
        Some(Expr::Str(s)) => s.clone(),
        None => bail!("Runtime is missing"),
        Some(other) => bail!(
            "Runtime must be a literal string, found {}",
            other.describe()
        ),
    };
    if !runtime.starts_with("provided") {
        bail!(
            "Runtime {runtime}: only custom runtimes (provided.al2023, provided.al2) run locally"
        );
    }
    let handler = match lookup("Handler") {
        Some(Expr::Str(s)) => s.clone(),
        _ => "bootstrap".to_string(),
    };
    let num = |key: &str, default: u64| -> Result<u64> {
        match lookup(key) {
            None => Ok(default),
            Some(Expr::Number(n)) => n
                .as_u64()
                .ok_or_else(|| anyhow!("{key} must be a non-negative integer")),
            Some(other) => bail!(
                "{key} must be a literal number locally, found {}",
                other.describe()
            ),
        }
    };
    let memory_mb = num("MemorySize", 128)?;
    let timeout_s = num("Timeout", 3)?;
    if timeout_s == 0 {
        bail!("Timeout must be at least 1 second");
    }
    let name = match props.get("FunctionName") {
        None => id.to_string(),
        Some(Expr::Str(s)) => s.clone(),
        Some(_) => bail!("FunctionName must be a literal string locally"),
    };

    let mut environment: Vec<(String, Expr)> = Vec::new();
    for source in [globals.get("Environment"), props.get("Environment")]
        .into_iter()
        .flatten()
    {
        check_keys("Environment", source, &["Variables"], &[])?;
        match source.get("Variables") {
            Some(Expr::Map(vars)) => {
                for (k, v) in vars {
                    environment.retain(|(existing, _)| existing != k);
                    environment.push((k.clone(), v.clone()));
                }
            }
            None => {}
            Some(_) => bail!("Environment.Variables must be a mapping"),
        }
    }

    // Lambda hands the logging configuration to the code as two variables (set after the
    // template's own, as Lambda's win); local runs then log as deployed ones do.
    for source in [globals.get("LoggingConfig"), props.get("LoggingConfig")]
        .into_iter()
        .flatten()
    {
        check_keys(
            "LoggingConfig",
            source,
            &["LogFormat", "ApplicationLogLevel"],
            &["SystemLogLevel", "LogGroup"],
        )?;
    }
    for (key, var) in [
        ("LogFormat", "AWS_LAMBDA_LOG_FORMAT"),
        ("ApplicationLogLevel", "AWS_LAMBDA_LOG_LEVEL"),
    ] {
        let value = [props.get("LoggingConfig"), globals.get("LoggingConfig")]
            .into_iter()
            .flatten()
            .find_map(|l| l.get(key));
        if let Some(v) = value {
            environment.retain(|(existing, _)| existing != var);
            environment.push((var.to_string(), v.clone()));
        }
    }

    let mut events = Vec::new();
    if let Some(evs) = props.get("Events") {
        let Expr::Map(entries) = evs else {
            bail!("Events must be a mapping");
        };
        for (event_id, ev) in entries {
            let source =
                parse_event(event_id, ev, http_api).with_context(|| format!("event {event_id}"))?;
            events.push(EventDef {
                id: event_id.clone(),
                source,
            });
        }
    }

    Ok(FunctionDef {
        id: id.to_string(),
        binary,
        name,
        memory_mb,
        timeout: Duration::from_secs(timeout_s),
        handler,
        environment,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::super::api::RouteAuth;
    use super::super::events::EventSource;
    use super::super::parse;
    use super::super::tests::SMALL;
    use super::*;

    #[test]
    fn logging_config_becomes_lambdas_log_variables_function_over_globals() {
        let t = parse(&SMALL.replace(
            "    Environment: { Variables: { RUST_LOG: !Ref Level, SHARED: g } }",
            "    Environment: { Variables: { RUST_LOG: !Ref Level, SHARED: g } }\n    \
             LoggingConfig: { LogFormat: JSON, ApplicationLogLevel: !Ref Level, SystemLogLevel: WARN }",
        )
        .replace(
            "    Properties: { MemorySize: 128 }",
            "    Properties: { MemorySize: 128, LoggingConfig: { LogGroup: authz-logs, ApplicationLogLevel: ERROR } }",
        ))
        .expect("parse");
        let env_of = |id: &str| {
            let f = t.functions.iter().find(|f| f.id == id).expect(id);
            f.environment
                .iter()
                .filter(|(k, _)| k.starts_with("AWS_LAMBDA_LOG_"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            env_of("Fn"),
            vec![
                ("AWS_LAMBDA_LOG_FORMAT".into(), Expr::Str("JSON".into())),
                ("AWS_LAMBDA_LOG_LEVEL".into(), Expr::Ref("Level".into())),
            ]
        );
        assert_eq!(
            env_of("AuthFn"),
            vec![
                ("AWS_LAMBDA_LOG_FORMAT".into(), Expr::Str("JSON".into())),
                ("AWS_LAMBDA_LOG_LEVEL".into(), Expr::Str("ERROR".into())),
            ]
        );
        // Without a LoggingConfig, Lambda sets neither (the code then logs text at RUST_LOG).
        let plain = parse(SMALL).expect("parse");
        assert!(plain.functions.iter().all(|f| f
            .environment
            .iter()
            .all(|(k, _)| !k.starts_with("AWS_LAMBDA_LOG_"))));
        let err = parse(&SMALL.replace(
            "    Properties: { MemorySize: 128 }",
            "    Properties: { MemorySize: 128, LoggingConfig: { LogFormats: JSON } }",
        ))
        .expect_err("unknown LoggingConfig key");
        assert!(format!("{err:#}").contains("LogFormats"), "{err:#}");
    }

    #[test]
    fn parses_functions_with_globals_and_events() {
        let t = parse(SMALL).expect("parse");
        assert_eq!(t.functions.len(), 2);
        let f = t.functions.iter().find(|f| f.id == "Fn").expect("Fn");
        assert_eq!(f.binary, "fn-bin");
        assert_eq!(f.timeout, Duration::from_secs(30));
        assert_eq!(f.memory_mb, 256);
        let env: Vec<&str> = f.environment.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(env, vec!["RUST_LOG", "SHARED", "TABLE"]);
        assert_eq!(f.environment[1].1, Expr::Str("own".into()));
        let auth = t
            .functions
            .iter()
            .find(|f| f.id == "AuthFn")
            .expect("AuthFn");
        assert_eq!(auth.memory_mb, 128);
        assert_eq!(auth.timeout, Duration::from_secs(7));

        let routes: Vec<(&str, &str, RouteAuth)> = f
            .events
            .iter()
            .filter_map(|e| match &e.source {
                EventSource::Http(r) => Some((r.method.as_str(), r.path.as_str(), r.auth.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            routes,
            vec![
                ("GET", "/things/{id}", RouteAuth::Default),
                ("GET", "/open", RouteAuth::None)
            ]
        );
        let sqs = f
            .events
            .iter()
            .find_map(|e| match &e.source {
                EventSource::Sqs(s) => Some(s),
                _ => None,
            })
            .expect("sqs event");
        assert!(sqs.report_batch_item_failures);
        let sched = f
            .events
            .iter()
            .find_map(|e| match &e.source {
                EventSource::Schedule(s) => Some(s),
                _ => None,
            })
            .expect("schedule");
        assert_eq!(sched.every, Some(Duration::from_secs(900)));
        let api = t.http_api.expect("api");
        assert_eq!(api.default_authorizer.as_deref(), Some("Authz"));
    }
}
