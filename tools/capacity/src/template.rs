//! What the model needs from template.yaml, the one source of truth for the deployed system:
//! tables and their indexes, functions (memory, timeout, reserved concurrency, triggers),
//! queues, the HTTP API's route throttle.
//!
//! The template is read as CloudFormation would deploy it with given parameter values: its
//! `Conditions` are decided from them, an `Fn::If` stands for the value its condition picks and
//! `AWS::NoValue` for no value. [`parse`] reads it with the parameters' defaults (as a new stack
//! deploys it: the peak switches `PeakReservedConcurrency` and `PeakWarmThroughput` off);
//! [`Infra::with_parameters`] reads it again with other values (a scenario's
//! `template_parameters`, such as the peak switches on).

use serde_norway::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A DynamoDB table as the template defines it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Table {
    pub name: String,
    pub indexes: Vec<String>,
    pub on_demand: bool,
    pub stream: bool,
}

/// An SQS event source of a function.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueTrigger {
    pub queue: String,
    pub batch_size: f64,
    pub batching_window_s: f64,
    /// `ScalingConfig.MaximumConcurrency`, when set.
    pub max_concurrency: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Function {
    /// The logical id without its `Function` suffix is not used: functions are named by binary.
    pub binary: String,
    pub memory_mb: f64,
    pub timeout_s: f64,
    pub reserved_concurrency: Option<f64>,
    pub queue: Option<QueueTrigger>,
    /// `METHOD /path` of each HTTP API route, and whether the authorizer runs for it.
    pub routes: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Queue {
    pub name: String,
    pub fifo: bool,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Infra {
    pub tables: Vec<Table>,
    pub functions: Vec<Function>,
    pub queues: Vec<Queue>,
    /// `WarmThroughput` (read, write units per second) of a table (`Table`) or an index
    /// (`Table/index`), where set; a direction it leaves out is 0 (the on-demand baseline).
    pub warm: BTreeMap<String, (f64, f64)>,
    /// The HTTP API's `DefaultRouteSettings`: (rate per second, burst), per route.
    pub route_throttle: Option<(f64, f64)>,
    /// The parameter values the template was read with (defaults, then overrides).
    pub parameters: BTreeMap<String, String>,
    /// Its conditions, as decided with them.
    pub conditions: BTreeMap<String, bool>,
    /// The template, to read it again with other parameter values.
    #[serde(skip)]
    source: Option<Arc<Value>>,
}

impl Infra {
    pub fn function(&self, binary: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.binary == binary)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The same template read with `overrides` on top of the values it was read with.
    pub fn with_parameters(&self, overrides: &BTreeMap<String, String>) -> Result<Infra, String> {
        if overrides.is_empty() {
            return Ok(self.clone());
        }
        let doc = self
            .source
            .as_ref()
            .ok_or("template parameters: this model was not read from a template")?;
        let mut values = self.parameters.clone();
        for (name, value) in overrides {
            if !values.contains_key(name) && !declared(doc).contains(name) {
                return Err(format!(
                    "template parameter {name}: template.yaml declares no such parameter"
                ));
            }
            values.insert(name.clone(), value.clone());
        }
        read(doc.clone(), &values)
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// A scalar as CloudFormation compares it: as a string.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The argument of an intrinsic function, short (`!If ...`) or long (`{Fn::If: ...}`).
fn intrinsic<'a>(v: &'a Value, short: &str, long: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == short => Some(&t.value),
        Value::Mapping(m) if m.len() == 1 => m.get(long),
        _ => None,
    }
}

fn is_no_value(v: &Value) -> bool {
    intrinsic(v, "!Ref", "Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

/// The parameters the template declares.
fn declared(doc: &Value) -> Vec<String> {
    doc.get("Parameters")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Decides the template's conditions from the parameter values.
struct Decider<'a> {
    section: Option<&'a serde_norway::Mapping>,
    params: &'a BTreeMap<String, String>,
    decided: BTreeMap<String, bool>,
    stack: Vec<String>,
}

impl Decider<'_> {
    fn named(&mut self, name: &str) -> Result<bool, String> {
        if let Some(&b) = self.decided.get(name) {
            return Ok(b);
        }
        if self.stack.iter().any(|n| n == name) {
            return Err(format!(
                "conditions refer to each other in a cycle: {} -> {name}",
                self.stack.join(" -> ")
            ));
        }
        let definition = self
            .section
            .and_then(|s| s.get(name))
            .ok_or_else(|| format!("condition `{name}` is not defined in Conditions"))?;
        self.stack.push(name.to_string());
        let b = self.condition(definition);
        self.stack.pop();
        let b = b.map_err(|e| {
            if e.starts_with("condition") || e.starts_with("conditions") {
                e
            } else {
                format!("condition `{name}`: {e}")
            }
        })?;
        self.decided.insert(name.to_string(), b);
        Ok(b)
    }

    fn condition(&mut self, v: &Value) -> Result<bool, String> {
        let list = |args: &Value| args.as_sequence().cloned().unwrap_or_default();
        if let Some(args) = intrinsic(v, "!Equals", "Fn::Equals") {
            return match list(args).as_slice() {
                [a, b] => Ok(self.operand(a)? == self.operand(b)?),
                _ => Err(format!("Fn::Equals takes [value, value], found {args:?}")),
            };
        }
        if let Some(args) = intrinsic(v, "!Not", "Fn::Not") {
            return match list(args).as_slice() {
                [c] => Ok(!self.condition(c)?),
                _ => Err(format!("Fn::Not takes [condition], found {args:?}")),
            };
        }
        for (short, long, all) in [("!And", "Fn::And", true), ("!Or", "Fn::Or", false)] {
            if let Some(args) = intrinsic(v, short, long) {
                let items = list(args);
                if items.len() < 2 {
                    return Err(format!("{long} takes 2 to 10 conditions, found {args:?}"));
                }
                let mut result = all;
                for c in &items {
                    let b = self.condition(c)?;
                    result = if all { result && b } else { result || b };
                }
                return Ok(result);
            }
        }
        if let Some(name) = intrinsic(v, "!Condition", "Condition") {
            let name = name
                .as_str()
                .ok_or_else(|| format!("Condition takes a name, found {name:?}"))?;
            return self.named(name);
        }
        Err(format!(
            "not a condition function the model knows (Fn::Equals, Fn::Not, Fn::And, Fn::Or, \
             Condition): {v:?}"
        ))
    }

    /// An operand of `Fn::Equals`: a literal or a parameter's value.
    fn operand(&self, v: &Value) -> Result<String, String> {
        if let Some(name) = intrinsic(v, "!Ref", "Ref") {
            let name = name.as_str().unwrap_or_default();
            return self
                .params
                .get(name)
                .cloned()
                .ok_or_else(|| format!("Fn::Equals refers to `{name}`, which has no value here"));
        }
        scalar(v).ok_or_else(|| {
            format!("Fn::Equals: the model compares literals and parameters only, found {v:?}")
        })
    }
}

/// Reads values as deployed: an `Fn::If` as the value its condition picks, `AWS::NoValue` as
/// absent.
struct Reader {
    conditions: BTreeMap<String, bool>,
}

impl Reader {
    fn pick<'a>(&self, v: Option<&'a Value>) -> Result<Option<&'a Value>, String> {
        let Some(mut v) = v else {
            return Ok(None);
        };
        loop {
            if is_no_value(v) {
                return Ok(None);
            }
            let Some(args) = intrinsic(v, "!If", "Fn::If") else {
                return Ok(Some(v));
            };
            let Some([name, then, otherwise]) = args.as_sequence().map(Vec::as_slice) else {
                return Err(format!(
                    "Fn::If takes [condition, value if true, value if false], found {args:?}"
                ));
            };
            let name = name.as_str().unwrap_or_default();
            let holds = self.conditions.get(name).ok_or_else(|| {
                format!("Fn::If names condition `{name}`, which Conditions does not define")
            })?;
            v = if *holds { then } else { otherwise };
        }
    }

    /// `parent.key`, each as deployed.
    fn get<'a>(&self, parent: Option<&'a Value>, key: &str) -> Result<Option<&'a Value>, String> {
        self.pick(self.pick(parent)?.and_then(|p| p.get(key)))
    }

    fn num(&self, parent: Option<&Value>, key: &str) -> Result<Option<f64>, String> {
        Ok(num(self.get(parent, key)?))
    }

    fn text(&self, parent: Option<&Value>, key: &str) -> Result<Option<String>, String> {
        Ok(text(self.get(parent, key)?))
    }

    /// A table's or index's `WarmThroughput` (read, write units per second; 0 where not set).
    fn warm(&self, owner: Option<&Value>) -> Result<Option<(f64, f64)>, String> {
        let Some(w) = self.get(owner, "WarmThroughput")? else {
            return Ok(None);
        };
        Ok(Some((
            self.num(Some(w), "ReadUnitsPerSecond")?.unwrap_or(0.0),
            self.num(Some(w), "WriteUnitsPerSecond")?.unwrap_or(0.0),
        )))
    }
}

/// The resource a `!GetAtt X.Arn` or `!Ref X` names.
fn referenced(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Tagged(t) => t
            .value
            .as_str()
            .map(|s| s.split('.').next().unwrap_or(s).to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Reads the template's text with its parameters' defaults. CloudFormation's short tags
/// (`!Ref`, `!GetAtt`) stay tagged values.
pub fn parse(yaml: &str) -> Result<Infra, String> {
    let doc: Value =
        serde_norway::from_str(yaml).map_err(|e| format!("template.yaml is not YAML: {e}"))?;
    read(Arc::new(doc), &BTreeMap::new())
}

/// Reads the template with `overrides` over its parameters' defaults.
fn read(doc: Arc<Value>, overrides: &BTreeMap<String, String>) -> Result<Infra, String> {
    let mut parameters = BTreeMap::new();
    if let Some(declared) = doc.get("Parameters").and_then(Value::as_mapping) {
        for (name, p) in declared {
            let Some(name) = name.as_str() else { continue };
            let value = overrides
                .get(name)
                .cloned()
                .or_else(|| p.get("Default").and_then(scalar));
            if let Some(v) = value {
                parameters.insert(name.to_string(), v);
            }
        }
    }
    let section = doc.get("Conditions").and_then(Value::as_mapping);
    let mut decider = Decider {
        section,
        params: &parameters,
        decided: BTreeMap::new(),
        stack: Vec::new(),
    };
    for name in section.into_iter().flat_map(|s| s.keys()) {
        let name = name.as_str().ok_or("a condition name is not a string")?;
        decider
            .named(name)
            .map_err(|e| format!("template.yaml Conditions: {e}"))?;
    }
    let conditions = decider.decided;
    let r = Reader {
        conditions: conditions.clone(),
    };

    let globals = r.get(doc.get("Globals"), "Function")?;
    let default_memory = r.num(globals, "MemorySize")?.unwrap_or(128.0);
    let default_timeout = r.num(globals, "Timeout")?.unwrap_or(3.0);
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template.yaml has no Resources")?;
    let mut infra = Infra::default();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        let props = resource.get("Properties");
        let at = |e: String| format!("{id}: {e}");
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::DynamoDB::Table") => {
                let indexes: Vec<&Value> = r
                    .get(props, "GlobalSecondaryIndexes")
                    .map_err(at)?
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .collect();
                let mut names = Vec::new();
                if let Some(w) = r.warm(props).map_err(at)? {
                    infra.warm.insert(id.to_string(), w);
                }
                for index in indexes {
                    let Some(index) = r.pick(Some(index)).map_err(at)? else {
                        continue;
                    };
                    let Some(name) = r.text(Some(index), "IndexName").map_err(at)? else {
                        continue;
                    };
                    if let Some(w) = r.warm(Some(index)).map_err(at)? {
                        infra.warm.insert(format!("{id}/{name}"), w);
                    }
                    names.push(name);
                }
                infra.tables.push(Table {
                    name: id.to_string(),
                    indexes: names,
                    on_demand: r.text(props, "BillingMode").map_err(at)?.as_deref()
                        == Some("PAY_PER_REQUEST"),
                    stream: r.get(props, "StreamSpecification").map_err(at)?.is_some(),
                });
            }
            Some("AWS::SQS::Queue") => infra.queues.push(Queue {
                name: id.to_string(),
                fifo: r
                    .get(props, "FifoQueue")
                    .map_err(at)?
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }),
            Some("AWS::Serverless::HttpApi") => {
                let settings = r.get(props, "DefaultRouteSettings").map_err(at)?;
                let rate = r.num(settings, "ThrottlingRateLimit").map_err(at)?;
                let burst = r.num(settings, "ThrottlingBurstLimit").map_err(at)?;
                infra.route_throttle = rate.map(|rate| (rate, burst.unwrap_or(rate)));
            }
            Some("AWS::Serverless::Function") => infra
                .functions
                .push(function(&r, id, resource, default_memory, default_timeout).map_err(at)?),
            _ => {}
        }
    }
    infra.parameters = parameters;
    infra.conditions = conditions;
    infra.source = Some(doc);
    Ok(infra)
}

fn function(
    r: &Reader,
    id: &str,
    resource: &Value,
    default_memory: f64,
    default_timeout: f64,
) -> Result<Function, String> {
    let props = resource.get("Properties");
    let binary = resource
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| text(b.get("Binary")))
        .unwrap_or_else(|| id.to_string());
    let mut queue = None;
    let mut routes = Vec::new();
    let events: BTreeMap<String, Value> = r
        .get(props, "Events")?
        .and_then(|e| serde_norway::from_value(e.clone()).ok())
        .unwrap_or_default();
    for event in events.values() {
        let p = r.get(Some(event), "Properties")?;
        match r.text(Some(event), "Type")?.as_deref() {
            Some("SQS") => {
                let scaling = r.get(p, "ScalingConfig")?;
                queue = match referenced(r.get(p, "Queue")?) {
                    None => None,
                    Some(q) => Some(QueueTrigger {
                        queue: q,
                        batch_size: r.num(p, "BatchSize")?.unwrap_or(10.0),
                        batching_window_s: r
                            .num(p, "MaximumBatchingWindowInSeconds")?
                            .unwrap_or(0.0),
                        max_concurrency: r.num(scaling, "MaximumConcurrency")?,
                    }),
                };
            }
            Some("HttpApi") => {
                let method = r.text(p, "Method")?.unwrap_or_default().to_uppercase();
                let path = r.text(p, "Path")?.unwrap_or_default();
                let authorized =
                    r.text(r.get(p, "Auth")?, "Authorizer")?.as_deref() != Some("NONE");
                routes.push((format!("{method} {path}"), authorized));
            }
            _ => {}
        }
    }
    Ok(Function {
        binary,
        memory_mb: r.num(props, "MemorySize")?.unwrap_or(default_memory),
        timeout_s: r.num(props, "Timeout")?.unwrap_or(default_timeout),
        reserved_concurrency: r.num(props, "ReservedConcurrentExecutions")?,
        queue,
        routes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::TEMPLATE;

    #[test]
    fn reads_functions_with_their_triggers_and_the_globals() {
        let infra = parse(TEMPLATE).unwrap();
        let documents = infra.function("documents").unwrap();
        assert_eq!(documents.memory_mb, 256.0);
        assert_eq!(documents.timeout_s, 15.0);
        assert_eq!(documents.reserved_concurrency, Some(50.0));
        assert_eq!(
            documents.queue,
            Some(QueueTrigger {
                queue: "DocumentsQueue".into(),
                batch_size: 5.0,
                batching_window_s: 1.0,
                max_concurrency: Some(20.0),
            })
        );
        let router = infra.function("router").unwrap();
        assert_eq!(
            router.queue.as_ref().map(|q| q.batching_window_s),
            Some(0.0)
        );
        assert_eq!(router.queue.as_ref().and_then(|q| q.max_concurrency), None);
        assert_eq!(router.reserved_concurrency, None);
        let auth = infra.function("auth").unwrap();
        assert_eq!((auth.memory_mb, auth.timeout_s), (512.0, 5.0));
        let intake = infra.function("intake").unwrap();
        assert_eq!(intake.memory_mb, 1024.0);
        // Sorted by event name; the method upper-cased; Auth NONE skips the authorizer.
        assert_eq!(
            intake.routes,
            vec![
                ("GET /d".to_string(), false),
                ("POST /orders".to_string(), true)
            ]
        );
        assert_eq!(infra.route_throttle, Some((10.0, 20.0)));
    }

    #[test]
    fn reads_tables_indexes_and_queues() {
        let infra = parse(TEMPLATE).unwrap();
        let orders = infra.table("OrdersTable").unwrap();
        assert_eq!(orders.indexes, vec!["byCreated".to_string()]);
        assert!(orders.on_demand);
        assert!(!orders.stream);
        // By default the peak switch is off: only the table's unconditional setting.
        assert_eq!(infra.warm.get("OrdersTable"), Some(&(12000.0, 8000.0)));
        assert_eq!(infra.warm.len(), 1);
        let queues: Vec<(&str, bool)> = infra
            .queues
            .iter()
            .map(|q| (q.name.as_str(), q.fifo))
            .collect();
        assert_eq!(
            queues,
            vec![("RouteQueue", false), ("DocumentsQueue", false)]
        );
    }

    #[test]
    fn fn_if_reads_as_the_branch_its_condition_picks() {
        let infra = parse(TEMPLATE).unwrap();
        assert_eq!(infra.parameters["Peak"], "false");
        assert!(!infra.conditions["PeakOn"]);
        assert_eq!(infra.function("router").unwrap().reserved_concurrency, None);
        let on = [("Peak".to_string(), "true".to_string())]
            .into_iter()
            .collect();
        let peak = infra.with_parameters(&on).unwrap();
        assert!(peak.conditions["PeakOn"]);
        assert_eq!(
            peak.function("router").unwrap().reserved_concurrency,
            Some(40.0)
        );
        // Long form on the index; a direction left out reads as 0 (the on-demand baseline).
        assert_eq!(peak.warm.get("OrdersTable/byCreated"), Some(&(0.0, 4100.0)));
        // Everything else is as before.
        assert_eq!(peak.tables, infra.tables);
        assert_eq!(peak.function("documents"), infra.function("documents"),);
    }

    #[test]
    fn unknown_conditions_and_parameters_are_errors() {
        let infra = parse(TEMPLATE).unwrap();
        let typo = [("Peek".to_string(), "true".to_string())]
            .into_iter()
            .collect();
        assert!(infra.with_parameters(&typo).unwrap_err().contains("Peek"));
        let err = parse(&TEMPLATE.replace("[PeakOn, 40", "[PeakOff, 40")).unwrap_err();
        assert!(
            err.contains("RouterFunction") && err.contains("PeakOff"),
            "{err}"
        );
        let err = parse(&TEMPLATE.replace(
            "PeakOn: !Equals [!Ref Peak, \"true\"]",
            "PeakOn: !Not [!Condition Loop]\n  Loop: !Not [!Condition PeakOn]",
        ))
        .unwrap_err();
        assert!(err.contains("cycle"), "{err}");
        let err = parse(&TEMPLATE.replace("!Ref Peak,", "!Ref Nothing,")).unwrap_err();
        assert!(err.contains("PeakOn") && err.contains("Nothing"), "{err}");
    }

    #[test]
    fn the_repository_template_parses() {
        let yaml = include_str!("../../../template.yaml");
        let infra = parse(yaml).unwrap();
        assert!(infra.table("OrdersTable").is_some());
        let router = infra.function("split-router").unwrap();
        assert_eq!(
            router.queue.as_ref().map(|q| q.queue.as_str()),
            Some("RouteQueue")
        );
        assert!(infra
            .function("order-intake")
            .unwrap()
            .routes
            .iter()
            .any(|(r, a)| r == "POST /orders" && *a));
    }
}
