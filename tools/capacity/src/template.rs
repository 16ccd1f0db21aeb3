//! What the model needs from template.yaml, the one source of truth for the deployed system:
//! tables and their indexes, functions (memory, timeout, reserved concurrency, triggers),
//! queues, the HTTP API's route throttle.

use serde_norway::Value;
use std::collections::BTreeMap;

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
    /// (`Table/index`), where set.
    pub warm: BTreeMap<String, (f64, f64)>,
    /// The HTTP API's `DefaultRouteSettings`: (rate per second, burst), per route.
    pub route_throttle: Option<(f64, f64)>,
}

impl Infra {
    pub fn function(&self, binary: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.binary == binary)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// A table's or index's `WarmThroughput` (read, write units per second).
fn warm(owner: Option<&Value>) -> Option<(f64, f64)> {
    let w = owner?.get("WarmThroughput")?;
    Some((
        num(w.get("ReadUnitsPerSecond")).unwrap_or(0.0),
        num(w.get("WriteUnitsPerSecond")).unwrap_or(0.0),
    ))
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

/// Reads the template's text. CloudFormation's short tags (`!Ref`, `!GetAtt`) stay tagged values.
pub fn parse(yaml: &str) -> Result<Infra, String> {
    let doc: Value =
        serde_norway::from_str(yaml).map_err(|e| format!("template.yaml is not YAML: {e}"))?;
    let globals = doc.get("Globals").and_then(|g| g.get("Function"));
    let default_memory = num(globals.and_then(|g| g.get("MemorySize"))).unwrap_or(128.0);
    let default_timeout = num(globals.and_then(|g| g.get("Timeout"))).unwrap_or(3.0);
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template.yaml has no Resources")?;
    let mut infra = Infra::default();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        let props = resource.get("Properties");
        let prop = |name: &str| props.and_then(|p| p.get(name));
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::DynamoDB::Table") => {
                let indexes: Vec<&Value> = prop("GlobalSecondaryIndexes")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .collect();
                let mut names = Vec::new();
                if let Some(w) = warm(props) {
                    infra.warm.insert(id.to_string(), w);
                }
                for index in indexes {
                    let Some(name) = text(index.get("IndexName")) else {
                        continue;
                    };
                    if let Some(w) = warm(Some(index)) {
                        infra.warm.insert(format!("{id}/{name}"), w);
                    }
                    names.push(name);
                }
                infra.tables.push(Table {
                    name: id.to_string(),
                    indexes: names,
                    on_demand: text(prop("BillingMode")).as_deref() == Some("PAY_PER_REQUEST"),
                    stream: prop("StreamSpecification").is_some(),
                });
            }
            Some("AWS::SQS::Queue") => infra.queues.push(Queue {
                name: id.to_string(),
                fifo: prop("FifoQueue").and_then(Value::as_bool).unwrap_or(false),
            }),
            Some("AWS::Serverless::HttpApi") => {
                let settings = prop("DefaultRouteSettings");
                let rate = num(settings.and_then(|s| s.get("ThrottlingRateLimit")));
                let burst = num(settings.and_then(|s| s.get("ThrottlingBurstLimit")));
                infra.route_throttle = rate.map(|r| (r, burst.unwrap_or(r)));
            }
            Some("AWS::Serverless::Function") => {
                infra
                    .functions
                    .push(function(id, resource, default_memory, default_timeout))
            }
            _ => {}
        }
    }
    Ok(infra)
}

fn function(id: &str, resource: &Value, default_memory: f64, default_timeout: f64) -> Function {
    let props = resource.get("Properties");
    let prop = |name: &str| props.and_then(|p| p.get(name));
    let binary = resource
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| text(b.get("Binary")))
        .unwrap_or_else(|| id.to_string());
    let mut queue = None;
    let mut routes = Vec::new();
    let events: BTreeMap<String, Value> = prop("Events")
        .and_then(|e| serde_norway::from_value(e.clone()).ok())
        .unwrap_or_default();
    for event in events.values() {
        let p = event.get("Properties");
        let ep = |name: &str| p.and_then(|p| p.get(name));
        match event.get("Type").and_then(Value::as_str) {
            Some("SQS") => {
                queue = referenced(ep("Queue")).map(|q| QueueTrigger {
                    queue: q,
                    batch_size: num(ep("BatchSize")).unwrap_or(10.0),
                    batching_window_s: num(ep("MaximumBatchingWindowInSeconds")).unwrap_or(0.0),
                    max_concurrency: num(
                        ep("ScalingConfig").and_then(|s| s.get("MaximumConcurrency"))
                    ),
                });
            }
            Some("HttpApi") => {
                let method = text(ep("Method")).unwrap_or_default().to_uppercase();
                let path = text(ep("Path")).unwrap_or_default();
                let authorized = ep("Auth")
                    .and_then(|a| a.get("Authorizer"))
                    .and_then(Value::as_str)
                    != Some("NONE");
                routes.push((format!("{method} {path}"), authorized));
            }
            _ => {}
        }
    }
    Function {
        binary,
        memory_mb: num(prop("MemorySize")).unwrap_or(default_memory),
        timeout_s: num(prop("Timeout")).unwrap_or(default_timeout),
        reserved_concurrency: num(prop("ReservedConcurrentExecutions")),
        queue,
        routes,
    }
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
        assert_eq!(infra.warm.get("OrdersTable"), Some(&(12000.0, 8000.0)));
        assert_eq!(
            infra.warm.get("OrdersTable/byCreated"),
            Some(&(100.0, 4100.0))
        );
        assert_eq!(infra.warm.len(), 2);
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
