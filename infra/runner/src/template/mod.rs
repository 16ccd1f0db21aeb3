//! Reads the SAM template into what the runner emulates, and resolves CloudFormation
//! intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, and `Fn::If` with the template's
//! `Conditions` and `AWS::NoValue`) against the parameter values and the local resources.
//!
//! Everything the template says is either understood, explicitly accepted as having no local
//! behaviour, or rejected with an error that names the resource: a silently ignored setting
//! would make the local twin lie about production.
//!
//! By concern: [`expr`] (values and intrinsics), [`conditions`] (the `Conditions` section that
//! `Fn::If` decides by), [`resolve`] (what they mean locally),
//! [`resources`] (types and their properties), [`functions`], [`events`] (what invokes a
//! function), [`api`] (the HTTP API, its authorizers and routes), [`routes`] (path matching),
//! [`properties`] (reading literal settings), [`streams`] (DynamoDB stream events). This file holds the template as a whole.

mod api;
mod conditions;
mod events;
mod expr;
mod functions;
mod properties;
mod resolve;
mod resources;
mod routes;
mod streams;

use std::collections::{BTreeMap, HashSet};

use anyhow::{anyhow, bail, Context as _, Result};
use serde_norway::Value as Yaml;

pub use api::{HttpApiDef, RouteAuth};
pub use conditions::Conditions;
pub use events::{EventSource, ScheduleDef};
pub use expr::Expr;
pub use functions::FunctionDef;
pub use resolve::{scalar_string, Context};
pub use resources::{Kind, Resource};
pub use routes::{percent_decode, RoutePattern};
pub use streams::{StartingPosition, StreamDef};

use api::parse_http_api;
use functions::{parse_function, parse_globals};
use resources::parse_resource;

// The stack's fixed local identity: what the pseudo parameters (`AWS::Region`, ...) resolve to.
pub const REGION: &str = "eu-central-1";
pub const ACCOUNT_ID: &str = "123456789012";
pub const PARTITION: &str = "aws";
pub const URL_SUFFIX: &str = "amazonaws.com";
pub const STACK_NAME: &str = "dropship-local";

/// A template parameter, as declared (its value comes from [`Template::parameter_values`]).
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub default: Option<String>,
    pub allowed_values: Option<Vec<String>>,
}

/// The whole template as the runner understands it.
#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: Vec<Parameter>,
    /// Decided by the parameter values where a value is resolved (`Fn::If`).
    pub conditions: Conditions,
    pub resources: Vec<Resource>,
    pub functions: Vec<FunctionDef>,
    pub http_api: Option<HttpApiDef>,
    pub outputs: Vec<(String, Expr)>,
}

impl Template {
    /// Parameter values: template defaults, then local defaults, then explicit overrides.
    /// Unknown override names and missing values are errors, and so is a condition that cannot
    /// be decided with the values (checked here, before anything is started).
    pub fn parameter_values(
        &self,
        local_defaults: &BTreeMap<String, String>,
        overrides: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        for name in overrides.keys() {
            if !self.parameters.iter().any(|p| &p.name == name) {
                bail!(
                    "DROPSHIP_PARAM_{name} overrides a parameter that template.yaml does not \
                     declare (declared: {})",
                    self.parameters
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let mut values = BTreeMap::new();
        for p in &self.parameters {
            let value = overrides
                .get(&p.name)
                .or_else(|| local_defaults.get(&p.name))
                .or(p.default.as_ref())
                .ok_or_else(|| {
                    anyhow!(
                        "parameter {} has no default; set DROPSHIP_PARAM_{}",
                        p.name,
                        p.name
                    )
                })?;
            if let Some(allowed) = &p.allowed_values {
                if !allowed.contains(value) {
                    bail!(
                        "parameter {} = `{value}` is not one of its AllowedValues {allowed:?}",
                        p.name
                    );
                }
            }
            values.insert(p.name.clone(), value.clone());
        }
        let ctx = Context::new(values.clone());
        let mut decided = Vec::new();
        for (name, c) in self.conditions.all() {
            let holds = ctx.condition(&c).map_err(|e| anyhow!("{e}"))?;
            decided.push(format!("{name}={holds}"));
        }
        if !decided.is_empty() {
            tracing::info!("template conditions: {}", decided.join(", "));
        }
        Ok(values)
    }
}

/// Reads template.yaml: sections, parameters, resources, the HTTP API, functions and outputs,
/// rejecting whatever the runner cannot emulate (see the module comment).
pub fn parse(text: &str) -> Result<Template> {
    let doc: Yaml = serde_norway::from_str(text).context("template is not valid YAML")?;
    let top = doc
        .as_mapping()
        .ok_or_else(|| anyhow!("template is not a YAML mapping"))?;

    for k in top.keys() {
        let key = k.as_str().unwrap_or("");
        match key {
            "AWSTemplateFormatVersion"
            | "Transform"
            | "Description"
            | "Metadata"
            | "Parameters"
            | "Globals"
            | "Resources"
            | "Outputs"
            | "Mappings"
            | "Conditions" => {}
            other => bail!("unknown template section `{other}`"),
        }
    }

    let parameters = parse_parameters(top.get("Parameters"))?;
    let conditions = Conditions::parse(top.get("Conditions"), &parameters)
        .context("template section Conditions")?;
    let globals = parse_globals(top.get("Globals"), &conditions)?;

    let resources_yaml = top
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| anyhow!("template has no Resources mapping"))?;

    let mut resources = Vec::new();
    let mut function_yaml = Vec::new();
    for (k, v) in resources_yaml {
        let id = k
            .as_str()
            .ok_or_else(|| anyhow!("resource key {k:?} is not a string"))?
            .to_string();
        let resource =
            parse_resource(&id, v, &conditions).with_context(|| format!("resource {id}"))?;
        if resource.kind == Kind::Function {
            function_yaml.push((id.clone(), v));
        }
        resources.push(resource);
    }

    let ids: HashSet<&str> = resources.iter().map(|r| r.id.as_str()).collect();
    for r in &resources {
        for dep in &r.depends_on {
            if !ids.contains(dep.as_str()) {
                bail!("resource {}: DependsOn names unknown resource {dep}", r.id);
            }
        }
    }

    let http_apis: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.kind == Kind::HttpApi)
        .collect();
    if http_apis.len() > 1 {
        bail!(
            "resources {}: the local runner serves exactly one AWS::Serverless::HttpApi on its port",
            http_apis
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let http_api = http_apis
        .first()
        .map(|r| parse_http_api(r).with_context(|| format!("resource {}", r.id)))
        .transpose()?;

    let mut functions = Vec::new();
    for (id, yaml) in function_yaml {
        let f = parse_function(&id, yaml, &globals, http_api.as_ref(), &conditions)
            .with_context(|| format!("resource {id} (AWS::Serverless::Function)"))?;
        functions.push(f);
    }
    let mut binaries = HashSet::new();
    for f in &functions {
        if !binaries.insert(f.binary.as_str()) {
            bail!(
                "resource {}: binary `{}` is used by two functions; the runner names functions by binary",
                f.id,
                f.binary
            );
        }
    }

    let mut outputs = Vec::new();
    if let Some(map) = top.get("Outputs").and_then(Yaml::as_mapping) {
        for (k, v) in map {
            let name = k.as_str().unwrap_or_default().to_string();
            let value = v
                .get("Value")
                .ok_or_else(|| anyhow!("output {name} has no Value"))?;
            if let Some(c) = v.get("Condition") {
                let known = c.as_str().is_some_and(|c| conditions.contains(c));
                if !known {
                    bail!(
                        "output {name}: Condition {c:?} is not a condition of the template \
                         (defined: {})",
                        conditions.names_text()
                    );
                }
            }
            let expr =
                Expr::from_yaml(value, &conditions).map_err(|e| anyhow!("output {name}: {e}"))?;
            outputs.push((name, expr));
        }
    }

    Ok(Template {
        parameters,
        conditions,
        resources,
        functions,
        http_api,
        outputs,
    })
}

fn parse_parameters(section: Option<&Yaml>) -> Result<Vec<Parameter>> {
    let Some(map) = section.and_then(Yaml::as_mapping) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in map {
        let name = k
            .as_str()
            .ok_or_else(|| anyhow!("parameter key {k:?} is not a string"))?
            .to_string();
        let default = match v.get("Default") {
            None => None,
            Some(d) => Some(
                yaml_scalar(d)
                    .ok_or_else(|| anyhow!("parameter {name}: Default is not a scalar"))?,
            ),
        };
        let allowed_values = v
            .get("AllowedValues")
            .and_then(Yaml::as_sequence)
            .map(|vals| vals.iter().filter_map(yaml_scalar).collect());
        out.push(Parameter {
            name,
            default,
            allowed_values,
        });
    }
    Ok(out)
}

fn yaml_scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const SMALL: &str = r#"
Parameters:
  Level: { Type: String, Default: info, AllowedValues: [info, debug] }
Globals:
  Function:
    Runtime: provided.al2023
    Timeout: 7
    MemorySize: 256
    Environment: { Variables: { RUST_LOG: !Ref Level, SHARED: g } }
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Authz
        Authorizers:
          Authz:
            FunctionArn: !GetAtt AuthFn.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
  AuthFn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: authz } }
    Properties: { MemorySize: 128 }
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: fn-bin } }
    Properties:
      Timeout: 30
      Environment: { Variables: { SHARED: own, TABLE: !Ref Tbl } }
      Events:
        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Method: get, Path: "/things/{id}" } }
        Open: { Type: HttpApi, Properties: { ApiId: !Ref Api, Method: GET, Path: /open, Auth: { Authorizer: NONE } } }
        Work: { Type: SQS, Properties: { Queue: !GetAtt Q.Arn, BatchSize: 5, FunctionResponseTypes: [ReportBatchItemFailures] } }
        Tick: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(15 minutes) } }
  Tbl:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
  Q:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: 5 }
"#;

    #[test]
    fn parameters_take_local_defaults_then_overrides() {
        let t = parse(SMALL).expect("parse");
        let none = BTreeMap::new();
        assert_eq!(
            t.parameter_values(&none, &none).expect("values")["Level"],
            "info"
        );
        let mut o = BTreeMap::new();
        o.insert("Level".to_string(), "debug".to_string());
        assert_eq!(
            t.parameter_values(&none, &o).expect("values")["Level"],
            "debug"
        );
        o.insert("Level".to_string(), "loud".to_string());
        assert!(t.parameter_values(&none, &o).is_err());
        let mut unknown = BTreeMap::new();
        unknown.insert("Nope".to_string(), "x".to_string());
        let err = t.parameter_values(&none, &unknown).expect_err("unknown");
        assert!(err.to_string().contains("DROPSHIP_PARAM_Nope"), "{err}");
    }

    fn parse_err(text: &str) -> String {
        format!("{:#}", parse(text).expect_err("must fail"))
    }

    #[test]
    fn unknown_resource_types_events_and_properties_are_named() {
        let err = parse_err("Resources:\n  Vm:\n    Type: AWS::EC2::Instance\n");
        assert!(
            err.contains("Vm") && err.contains("AWS::EC2::Instance"),
            "{err}"
        );

        let err = parse_err(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      Runtime: provided.al2023\n      Events:\n        S3:\n          Type: S3\n          Properties: {Bucket: x}\n",
        );
        assert!(err.contains("F") && err.contains("event type S3"), "{err}");

        let err = parse_err(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {Colour: blue}\n",
        );
        assert!(err.contains("Q") && err.contains("Colour"), "{err}");

        let err = parse_err(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Select [0, [a]]}\n",
        );
        assert!(err.contains("Q") && err.contains("Select"), "{err}");

        let err = parse_err(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: provided.al2023}\n",
        );
        assert!(err.contains("F") && err.contains("Binary"), "{err}");
    }

    #[test]
    fn the_project_template_parses() {
        let text = include_str!("../../../../template.yaml");
        let t = parse(text).expect("template.yaml parses");
        assert!(t.functions.len() >= 2);
        assert!(t.http_api.is_some());
    }

    #[test]
    fn the_project_templates_peak_settings_are_off_unless_switched_on() {
        let t = parse(include_str!("../../../../template.yaml")).expect("template.yaml parses");
        for switch in ["PeakReservedConcurrency", "PeakWarmThroughput"] {
            let p = t
                .parameters
                .iter()
                .find(|p| p.name == switch)
                .expect(switch);
            assert_eq!(p.default.as_deref(), Some("false"), "{switch}");
        }
        // A property of a resource as the runner resolves it (absent: None).
        let property = |overrides: &[(&str, &str)], id: &str, key: &str| {
            let o = overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let ctx = Context::new(t.parameter_values(&BTreeMap::new(), &o).expect("values"));
            let r = t.resources.iter().find(|r| r.id == id).expect(id);
            let value = r.properties.get(key)?.clone();
            let resolved = ctx
                .resolve(&Expr::Map(vec![(key.to_string(), value)]))
                .expect("resolves");
            resolved.get(key).cloned()
        };
        let warm = |overrides: &[(&str, &str)]| -> Vec<String> {
            let mut out = Vec::new();
            for r in t.resources.iter().filter(|r| r.kind == Kind::Table) {
                if property(overrides, &r.id, "WarmThroughput").is_some() {
                    out.push(r.id.clone());
                }
                let indexes = property(overrides, &r.id, "GlobalSecondaryIndexes");
                for i in indexes
                    .as_ref()
                    .and_then(|i| i.as_array())
                    .into_iter()
                    .flatten()
                {
                    if i.get("WarmThroughput").is_some() {
                        out.push(format!(
                            "{}/{}",
                            r.id,
                            i["IndexName"].as_str().unwrap_or("?")
                        ));
                    }
                }
            }
            out
        };
        let reserved = |overrides: &[(&str, &str)]| {
            ["OrderIntakeFunction", "AuthorizerFunction"]
                .map(|id| property(overrides, id, "ReservedConcurrentExecutions"))
        };

        assert_eq!(reserved(&[]), [None, None]);
        assert!(warm(&[]).is_empty(), "{:?}", warm(&[]));
        assert_eq!(
            warm(&[("PeakReservedConcurrency", "true")]),
            Vec::<String>::new()
        );

        let on = [("PeakReservedConcurrency", "true")];
        assert_eq!(
            reserved(&on),
            [Some(serde_json::json!(200)), Some(serde_json::json!(100))]
        );
        let on = [("PeakWarmThroughput", "true")];
        assert_eq!(reserved(&on), [None, None]);
        assert_eq!(
            property(&on, "OrdersTable", "WarmThroughput"),
            Some(serde_json::json!({"ReadUnitsPerSecond": 122000, "WriteUnitsPerSecond": 184000}))
        );
        let warmed = warm(&on);
        for expected in [
            "OrdersTable",
            "OrdersTable/byCreated",
            "OrdersTable/byChannelUpdated",
            "DeliveryOrdersTable",
            "DeliveryOrdersTable/byStatus",
            "DeliveryOrdersTable/byFulfiller",
            "StockTable",
            "CatalogueTable",
            "IdempotencyTable",
            "ReturnsTable",
            "ReportAggregatesTable",
        ] {
            assert!(
                warmed.iter().any(|w| w == expected),
                "{expected}: {warmed:?}"
            );
        }
    }
}
