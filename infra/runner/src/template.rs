//! Reads the SAM template into what the runner emulates, and resolves CloudFormation
//! intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`) against the local resources.
//!
//! Everything the template says is either understood, explicitly accepted as having no local
//! behaviour, or rejected with an error that names the resource: a silently ignored setting
//! would make the local twin lie about production.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

pub const REGION: &str = "eu-central-1";
pub const ACCOUNT_ID: &str = "123456789012";
pub const PARTITION: &str = "aws";
pub const URL_SUFFIX: &str = "amazonaws.com";
pub const STACK_NAME: &str = "dropship-local";

// ------------------------------------------------------------------------------------------
// Expressions: template values with their intrinsic functions kept symbolic until resolution.

/// A template value. Intrinsics stay symbolic because most of them name resources that only
/// get their local identity once the emulator has created them.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    List(Vec<Expr>),
    /// Keys in template order.
    Map(Vec<(String, Expr)>),
    Ref(String),
    GetAtt(String, String),
    Sub(String, Vec<(String, Expr)>),
    Join(String, Vec<Expr>),
}

impl Expr {
    /// Converts YAML (short tags like `!Ref X` or long forms like `{"Fn::GetAtt": [..]}`).
    pub fn from_yaml(value: &Yaml) -> Result<Expr, String> {
        Ok(match value {
            Yaml::Null => Expr::Null,
            Yaml::Bool(b) => Expr::Bool(*b),
            Yaml::Number(n) => Expr::Number(yaml_number(n)?),
            Yaml::String(s) => Expr::Str(s.clone()),
            Yaml::Sequence(items) => Expr::List(
                items
                    .iter()
                    .map(Expr::from_yaml)
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(map) => {
                if map.len() == 1 {
                    if let Some((Yaml::String(key), inner)) = map.iter().next() {
                        if key == "Ref" || key.starts_with("Fn::") {
                            return intrinsic(key, inner);
                        }
                    }
                }
                let mut entries = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => return Err(format!("map key {other:?} is not a string")),
                    };
                    let expr = Expr::from_yaml(v).map_err(|e| format!("{key}: {e}"))?;
                    entries.push((key, expr));
                }
                Expr::Map(entries)
            }
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                intrinsic(tag.trim_start_matches('!'), &tagged.value)?
            }
        })
    }

    pub fn get(&self, key: &str) -> Option<&Expr> {
        match self {
            Expr::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            Expr::Map(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// A literal string (no intrinsic), as needed for values that shape the wiring itself.
    pub fn as_literal_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Logical ids (resources or parameters) this expression refers to.
    pub fn references(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references(&self, out: &mut Vec<String>) {
        match self {
            Expr::Ref(name) => out.push(name.clone()),
            Expr::GetAtt(res, _) => out.push(res.clone()),
            Expr::Sub(template, vars) => {
                for part in sub_parts(template).unwrap_or_default() {
                    if let SubPart::Var(var) = part {
                        let name = var.split('.').next().unwrap_or(&var).to_string();
                        if !vars.iter().any(|(k, _)| *k == name) {
                            out.push(name);
                        }
                    }
                }
                for (_, v) in vars {
                    v.collect_references(out);
                }
            }
            Expr::Join(_, items) | Expr::List(items) => {
                items.iter().for_each(|i| i.collect_references(out))
            }
            Expr::Map(entries) => entries.iter().for_each(|(_, v)| v.collect_references(out)),
            Expr::Null | Expr::Bool(_) | Expr::Number(_) | Expr::Str(_) => {}
        }
    }
}

fn yaml_number(n: &serde_yaml::Number) -> Result<serde_json::Number, String> {
    if let Some(i) = n.as_i64() {
        Ok(i.into())
    } else if let Some(u) = n.as_u64() {
        Ok(u.into())
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .ok_or_else(|| format!("number {n} is not representable"))
    }
}

fn intrinsic(name: &str, value: &Yaml) -> Result<Expr, String> {
    let short = name.trim_start_matches("Fn::");
    match short {
        "Ref" => match value {
            Yaml::String(s) => Ok(Expr::Ref(s.clone())),
            _ => Err("Ref takes a logical id string".into()),
        },
        "GetAtt" => match value {
            Yaml::String(s) => match s.split_once('.') {
                Some((res, attr)) => Ok(Expr::GetAtt(res.into(), attr.into())),
                None => Err(format!(
                    "GetAtt `{s}` is not of the form Resource.Attribute"
                )),
            },
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(res), Yaml::String(attr)] => {
                    Ok(Expr::GetAtt(res.clone(), attr.clone()))
                }
                _ => Err("GetAtt takes [Resource, Attribute]".into()),
            },
            _ => Err("GetAtt takes Resource.Attribute or [Resource, Attribute]".into()),
        },
        "Sub" => match value {
            Yaml::String(s) => Ok(Expr::Sub(s.clone(), Vec::new())),
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(s), vars] => match Expr::from_yaml(vars)? {
                    Expr::Map(vars) => Ok(Expr::Sub(s.clone(), vars)),
                    _ => Err("Sub variables must be a map".into()),
                },
                _ => Err("Sub takes a string or [string, {variables}]".into()),
            },
            _ => Err("Sub takes a string or [string, {variables}]".into()),
        },
        "Join" => match value {
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(delim), Yaml::Sequence(list)] => Ok(Expr::Join(
                    delim.clone(),
                    list.iter().map(Expr::from_yaml).collect::<Result<_, _>>()?,
                )),
                _ => Err("Join takes [delimiter, [values...]] with a literal list".into()),
            },
            _ => Err("Join takes [delimiter, [values...]]".into()),
        },
        _ => Err(format!(
            "intrinsic function `{name}` is not supported by the local runner \
             (supported: Ref, Fn::GetAtt, Fn::Sub, Fn::Join)"
        )),
    }
}

#[derive(Debug, PartialEq)]
enum SubPart {
    Lit(String),
    Var(String),
}

/// Splits a `Fn::Sub` template into literal text and `${...}` variables (`${!x}` is literal).
fn sub_parts(template: &str) -> Result<Vec<SubPart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    let mut lit = String::new();
    while let Some(start) = rest.find("${") {
        lit.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ in Sub template `{template}`"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            lit.push_str("${");
            lit.push_str(literal);
            lit.push('}');
        } else {
            if !lit.is_empty() {
                parts.push(SubPart::Lit(std::mem::take(&mut lit)));
            }
            parts.push(SubPart::Var(name.trim().to_string()));
        }
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(SubPart::Lit(lit));
    }
    Ok(parts)
}

// ------------------------------------------------------------------------------------------
// Resolution

/// What `Ref` and `Fn::GetAtt` mean locally: parameter values and the identities of the
/// resources created so far.
#[derive(Debug, Default, Clone)]
pub struct Context {
    pub params: BTreeMap<String, String>,
    refs: HashMap<String, String>,
    attrs: HashMap<(String, String), String>,
}

impl Context {
    pub fn new(params: BTreeMap<String, String>) -> Self {
        Context {
            params,
            ..Default::default()
        }
    }

    pub fn set_ref(&mut self, logical_id: &str, value: impl Into<String>) {
        self.refs.insert(logical_id.to_string(), value.into());
    }

    pub fn set_attr(&mut self, logical_id: &str, attr: &str, value: impl Into<String>) {
        self.attrs
            .insert((logical_id.to_string(), attr.to_string()), value.into());
    }

    pub fn get_attr(&self, logical_id: &str, attr: &str) -> Option<&str> {
        self.attrs
            .get(&(logical_id.to_string(), attr.to_string()))
            .map(String::as_str)
    }

    fn lookup_ref(&self, name: &str) -> Result<String, String> {
        let pseudo = match name {
            "AWS::Region" => Some(REGION),
            "AWS::AccountId" => Some(ACCOUNT_ID),
            "AWS::Partition" => Some(PARTITION),
            "AWS::URLSuffix" => Some(URL_SUFFIX),
            "AWS::StackName" => Some(STACK_NAME),
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(v.to_string());
        }
        if name == "AWS::StackId" {
            return Ok(format!(
                "arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local"
            ));
        }
        if name.starts_with("AWS::") {
            return Err(format!("pseudo parameter {name} is not supported locally"));
        }
        if let Some(v) = self.params.get(name) {
            return Ok(v.clone());
        }
        self.refs.get(name).cloned().ok_or_else(|| {
            format!("Ref to unknown (or not yet created) resource or parameter `{name}`")
        })
    }

    fn lookup_attr(&self, res: &str, attr: &str) -> Result<String, String> {
        self.get_attr(res, attr).map(str::to_string).ok_or_else(|| {
            format!("Fn::GetAtt {res}.{attr}: unknown resource or attribute (or not yet created)")
        })
    }

    pub fn resolve(&self, expr: &Expr) -> Result<Json, String> {
        Ok(match expr {
            Expr::Null => Json::Null,
            Expr::Bool(b) => Json::Bool(*b),
            Expr::Number(n) => Json::Number(n.clone()),
            Expr::Str(s) => Json::String(s.clone()),
            Expr::List(items) => Json::Array(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.clone(), self.resolve(v).map_err(|e| format!("{k}: {e}"))?);
                }
                Json::Object(map)
            }
            Expr::Ref(name) => Json::String(self.lookup_ref(name)?),
            Expr::GetAtt(res, attr) => Json::String(self.lookup_attr(res, attr)?),
            Expr::Sub(template, vars) => {
                let mut out = String::new();
                for part in sub_parts(template)? {
                    match part {
                        SubPart::Lit(s) => out.push_str(&s),
                        SubPart::Var(var) => {
                            if let Some((_, v)) = vars.iter().find(|(k, _)| *k == var) {
                                out.push_str(&scalar_string(&self.resolve(v)?)?);
                            } else if let Some((res, attr)) =
                                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
                            {
                                out.push_str(&self.lookup_attr(res, attr)?);
                            } else {
                                out.push_str(&self.lookup_ref(&var)?);
                            }
                        }
                    }
                }
                Json::String(out)
            }
            Expr::Join(delim, items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match self.resolve(item)? {
                        // A Ref to a list parameter inside Join contributes all its elements.
                        Json::Array(inner) => {
                            for v in inner {
                                parts.push(scalar_string(&v)?);
                            }
                        }
                        v => parts.push(scalar_string(&v)?),
                    }
                }
                Json::String(parts.join(delim))
            }
        })
    }

    /// Resolves to a string, as environment variables and names need.
    pub fn resolve_string(&self, expr: &Expr) -> Result<String, String> {
        scalar_string(&self.resolve(expr)?)
    }
}

/// Renders a scalar like CloudFormation does when it needs a string.
pub fn scalar_string(v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, found {other}")),
    }
}

// ------------------------------------------------------------------------------------------
// Template model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Function,
    HttpApi,
    Table,
    Queue,
    Bucket,
    Topic,
    Alarm,
    QueuePolicy,
    BucketPolicy,
}

impl Kind {
    fn from_type(t: &str) -> Option<Kind> {
        Some(match t {
            "AWS::Serverless::Function" => Kind::Function,
            "AWS::Serverless::HttpApi" => Kind::HttpApi,
            "AWS::DynamoDB::Table" => Kind::Table,
            "AWS::SQS::Queue" => Kind::Queue,
            "AWS::S3::Bucket" => Kind::Bucket,
            "AWS::SNS::Topic" => Kind::Topic,
            "AWS::CloudWatch::Alarm" => Kind::Alarm,
            "AWS::SQS::QueuePolicy" => Kind::QueuePolicy,
            "AWS::S3::BucketPolicy" => Kind::BucketPolicy,
            _ => return None,
        })
    }

    /// Properties the runner turns into local behaviour, and properties it accepts knowing they
    /// have none locally (IAM, encryption at rest, lifecycle, tags...). `None` = anything goes.
    fn known_properties(self) -> Option<(&'static [&'static str], &'static [&'static str])> {
        match self {
            Kind::Function => Some((FUNCTION_EMULATED, FUNCTION_NOT_EMULATED)),
            Kind::HttpApi => Some((
                &["Auth", "StageName"],
                &[
                    "Description",
                    "DefaultRouteSettings",
                    "RouteSettings",
                    "Tags",
                    "AccessLogSettings",
                    "Domain",
                    "FailOnWarnings",
                    "DisableExecuteApiEndpoint",
                    "Name",
                    "PropagateTags",
                    "CorsConfiguration",
                ],
            )),
            Kind::Table => Some((
                &[
                    "AttributeDefinitions",
                    "KeySchema",
                    "BillingMode",
                    "GlobalSecondaryIndexes",
                    "LocalSecondaryIndexes",
                    "ProvisionedThroughput",
                    "TableName",
                    "TimeToLiveSpecification",
                ],
                &[
                    "PointInTimeRecoverySpecification",
                    "SSESpecification",
                    "Tags",
                    "DeletionProtectionEnabled",
                    "TableClass",
                    "ContributorInsightsSpecification",
                    "ResourcePolicy",
                    "OnDemandThroughput",
                    "WarmThroughput",
                    "StreamSpecification",
                ],
            )),
            Kind::Queue => Some((
                &[
                    "QueueName",
                    "VisibilityTimeout",
                    "MessageRetentionPeriod",
                    "DelaySeconds",
                    "MaximumMessageSize",
                    "ReceiveMessageWaitTimeSeconds",
                    "RedrivePolicy",
                    "RedriveAllowPolicy",
                    "FifoQueue",
                    "ContentBasedDeduplication",
                    "DeduplicationScope",
                    "FifoThroughputLimit",
                    "SqsManagedSseEnabled",
                    "KmsMasterKeyId",
                    "KmsDataKeyReusePeriodSeconds",
                ],
                &["Tags"],
            )),
            Kind::Bucket => Some((
                &[
                    "BucketName",
                    "BucketEncryption",
                    "PublicAccessBlockConfiguration",
                    "VersioningConfiguration",
                    "NotificationConfiguration",
                ],
                &[
                    "LifecycleConfiguration",
                    "OwnershipControls",
                    "Tags",
                    "CorsConfiguration",
                    "LoggingConfiguration",
                    "MetricsConfigurations",
                    "IntelligentTieringConfigurations",
                    "AnalyticsConfigurations",
                    "InventoryConfigurations",
                    "AccelerateConfiguration",
                    "ObjectLockEnabled",
                    "ObjectLockConfiguration",
                    "ReplicationConfiguration",
                    "AccessControl",
                ],
            )),
            Kind::Topic => Some((
                &[
                    "TopicName",
                    "DisplayName",
                    "KmsMasterKeyId",
                    "Subscription",
                    "FifoTopic",
                    "ContentBasedDeduplication",
                ],
                &[
                    "Tags",
                    "TracingConfig",
                    "DataProtectionPolicy",
                    "ArchivePolicy",
                    "SignatureVersion",
                    "DeliveryStatusLogging",
                ],
            )),
            Kind::Alarm | Kind::QueuePolicy | Kind::BucketPolicy => None,
        }
    }
}

const FUNCTION_EMULATED: &[&str] = &[
    "Runtime",
    "Environment",
    "Events",
    "MemorySize",
    "Timeout",
    "FunctionName",
];
const FUNCTION_NOT_EMULATED: &[&str] = &[
    "Description",
    "CodeUri",
    "Handler",
    "Architectures",
    "Tracing",
    "Policies",
    "Role",
    "PermissionsBoundary",
    "Tags",
    "PropagateTags",
    "AutoPublishAlias",
    "AutoPublishCodeSha256",
    "VersionDescription",
    "DeploymentPreference",
    "ProvisionedConcurrencyConfig",
    "ReservedConcurrentExecutions",
    "LoggingConfig",
    "KmsKeyArn",
    "EphemeralStorage",
    "VpcConfig",
    "RuntimeManagementConfig",
    "CodeSigningConfigArn",
    "RecursiveLoop",
    "SnapStart",
    "AssumeRolePolicyDocument",
    "DeadLetterQueue",
    "EventInvokeConfig",
];

/// Resource types accepted without local behaviour, listed so that the choice is visible.
pub const NOT_EMULATED_TYPES: &[&str] = &[
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::CloudWatch::Alarm",
];

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub default: Option<String>,
    pub allowed_values: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub kind: Kind,
    pub properties: Expr,
    pub depends_on: Vec<String>,
}

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

#[derive(Debug, Clone)]
pub struct EventDef {
    pub id: String,
    pub source: EventSource,
}

#[derive(Debug, Clone)]
pub enum EventSource {
    Http(RouteDef),
    Sqs(SqsDef),
    Schedule(ScheduleDef),
}

#[derive(Debug, Clone)]
pub struct RouteDef {
    /// Upper case, or `ANY`.
    pub method: String,
    /// As in the template (`/orders/{orderId}`), or `$default`.
    pub path: String,
    pub auth: RouteAuth,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAuth {
    /// The API's DefaultAuthorizer (if it has one).
    Default,
    None,
    Named(String),
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

#[derive(Debug, Clone)]
pub struct HttpApiDef {
    pub id: String,
    pub default_authorizer: Option<String>,
    pub authorizers: BTreeMap<String, AuthorizerDef>,
}

#[derive(Debug, Clone)]
pub struct AuthorizerDef {
    pub function_arn: Expr,
    /// `$request.header.X` / `$request.querystring.Y` sources; missing ones mean 401 without
    /// calling the authorizer, as API Gateway does.
    pub identity_headers: Vec<String>,
    pub identity_query: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: Vec<Parameter>,
    pub resources: Vec<Resource>,
    pub functions: Vec<FunctionDef>,
    pub http_api: Option<HttpApiDef>,
    pub outputs: Vec<(String, Expr)>,
}

impl Template {
    /// Parameter values: template defaults, then local defaults, then explicit overrides.
    /// Unknown override names and missing values are errors.
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
        Ok(values)
    }
}

// ------------------------------------------------------------------------------------------
// Parsing

pub fn parse(text: &str) -> Result<Template> {
    let doc: Yaml = serde_yaml::from_str(text).context("template is not valid YAML")?;
    let top = doc
        .as_mapping()
        .ok_or_else(|| anyhow!("template is not a YAML mapping"))?;

    for (k, v) in top {
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
            | "Mappings" => {}
            "Conditions" => {
                if v.as_mapping().is_some_and(|m| !m.is_empty()) {
                    bail!("template section Conditions is not supported by the local runner");
                }
            }
            other => bail!("unknown template section `{other}`"),
        }
    }

    let parameters = parse_parameters(top.get("Parameters"))?;
    let globals = parse_globals(top.get("Globals"))?;

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
        let resource = parse_resource(&id, v).with_context(|| format!("resource {id}"))?;
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
        let f = parse_function(&id, yaml, &globals, http_api.as_ref())
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
            let expr = Expr::from_yaml(value).map_err(|e| anyhow!("output {name}: {e}"))?;
            outputs.push((name, expr));
        }
    }

    Ok(Template {
        parameters,
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

/// Globals.Function, as an expression map; other Globals sections are not emulated.
fn parse_globals(section: Option<&Yaml>) -> Result<Expr> {
    let Some(map) = section.and_then(Yaml::as_mapping) else {
        return Ok(Expr::Map(Vec::new()));
    };
    let mut function = Expr::Map(Vec::new());
    for (k, v) in map {
        match k.as_str() {
            Some("Function") => {
                function = Expr::from_yaml(v).map_err(|e| anyhow!("Globals.Function: {e}"))?;
                check_properties("Globals.Function", Kind::Function, &function)?;
            }
            Some(other) => bail!("Globals.{other} is not supported by the local runner"),
            None => bail!("Globals key {k:?} is not a string"),
        }
    }
    Ok(function)
}

fn parse_resource(id: &str, v: &Yaml) -> Result<Resource> {
    let map = v
        .as_mapping()
        .ok_or_else(|| anyhow!("resource is not a mapping"))?;
    let ty = v
        .get("Type")
        .and_then(Yaml::as_str)
        .ok_or_else(|| anyhow!("resource has no Type"))?;
    let kind = Kind::from_type(ty).ok_or_else(|| {
        anyhow!(
            "resource type {ty} is not supported by the local runner (supported: \
             AWS::Serverless::Function, AWS::Serverless::HttpApi, AWS::DynamoDB::Table, \
             AWS::SQS::Queue, AWS::S3::Bucket, AWS::SNS::Topic; accepted without local \
             behaviour: {})",
            NOT_EMULATED_TYPES.join(", ")
        )
    })?;
    let mut depends_on = Vec::new();
    for (k, val) in map {
        match k.as_str().unwrap_or("") {
            "Type"
            | "Properties"
            | "Metadata"
            | "DeletionPolicy"
            | "UpdateReplacePolicy"
            | "UpdatePolicy"
            | "CreationPolicy" => {}
            "DependsOn" => match val {
                Yaml::String(s) => depends_on.push(s.clone()),
                Yaml::Sequence(items) => {
                    for i in items {
                        depends_on.push(
                            i.as_str()
                                .ok_or_else(|| anyhow!("DependsOn entries must be strings"))?
                                .to_string(),
                        );
                    }
                }
                _ => bail!("DependsOn must be a string or a list"),
            },
            "Condition" => bail!("resource conditions are not supported by the local runner"),
            other => bail!("unknown resource attribute `{other}`"),
        }
    }
    let properties = match v.get("Properties") {
        Some(p) => Expr::from_yaml(p).map_err(|e| anyhow!("Properties: {e}"))?,
        None => Expr::Map(Vec::new()),
    };
    if !matches!(properties, Expr::Map(_)) {
        bail!("Properties is not a mapping");
    }
    check_properties(&format!("{ty} properties"), kind, &properties)?;
    Ok(Resource {
        id: id.to_string(),
        kind,
        properties,
        depends_on,
    })
}

fn check_properties(what: &str, kind: Kind, props: &Expr) -> Result<()> {
    let Some((emulated, accepted)) = kind.known_properties() else {
        return Ok(());
    };
    for key in props.keys() {
        if !emulated.contains(&key) && !accepted.contains(&key) {
            bail!(
                "{what}: `{key}` is not supported by the local runner (emulated: {}; accepted \
                 without local behaviour: {})",
                emulated.join(", "),
                accepted.join(", ")
            );
        }
    }
    Ok(())
}

fn literal_str<'a>(props: &'a Expr, key: &str, what: &str) -> Result<Option<&'a str>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Str(s)) => Ok(Some(s)),
        Some(other) => bail!("{what}.{key} must be a literal string locally, found {other:?}"),
    }
}

fn literal_u64(props: &Expr, key: &str, what: &str) -> Result<Option<u64>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| anyhow!("{what}.{key} must be a non-negative integer")),
        Some(Expr::Str(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("{what}.{key} must be a non-negative integer, found `{s}`")),
        Some(other) => bail!("{what}.{key} must be a literal number locally, found {other:?}"),
    }
}

fn literal_bool(props: &Expr, key: &str, what: &str) -> Result<Option<bool>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Bool(b)) => Ok(Some(*b)),
        Some(Expr::Str(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Expr::Str(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => bail!("{what}.{key} must be a literal boolean locally, found {other:?}"),
    }
}

fn check_keys(what: &str, props: &Expr, emulated: &[&str], accepted: &[&str]) -> Result<()> {
    for key in props.keys() {
        if !emulated.contains(&key) && !accepted.contains(&key) {
            bail!(
                "{what}: `{key}` is not supported by the local runner (emulated: {}; accepted \
                 without local behaviour: {})",
                emulated.join(", "),
                if accepted.is_empty() {
                    "none".to_string()
                } else {
                    accepted.join(", ")
                }
            );
        }
    }
    Ok(())
}

fn parse_http_api(r: &Resource) -> Result<HttpApiDef> {
    let props = &r.properties;
    if let Some(stage) = literal_str(props, "StageName", "HttpApi")? {
        if stage != "$default" {
            bail!("StageName `{stage}`: only the $default stage is served locally");
        }
    }
    let mut def = HttpApiDef {
        id: r.id.clone(),
        default_authorizer: None,
        authorizers: BTreeMap::new(),
    };
    let Some(auth) = props.get("Auth") else {
        return Ok(def);
    };
    check_keys(
        "Auth",
        auth,
        &["DefaultAuthorizer", "Authorizers"],
        &["EnableIamAuthorizer"],
    )?;
    if literal_bool(auth, "EnableIamAuthorizer", "Auth")? == Some(true) {
        bail!("Auth.EnableIamAuthorizer: IAM authorization is not emulated locally");
    }
    def.default_authorizer = literal_str(auth, "DefaultAuthorizer", "Auth")?.map(str::to_string);
    if let Some(Expr::Map(authorizers)) = auth.get("Authorizers") {
        for (name, a) in authorizers {
            let what = format!("Auth.Authorizers.{name}");
            check_keys(
                &what,
                a,
                &[
                    "FunctionArn",
                    "AuthorizerPayloadFormatVersion",
                    "EnableSimpleResponses",
                    "Identity",
                ],
                &["EnableFunctionDefaultPermissions", "FunctionInvokeRole"],
            )?;
            let function_arn = a.get("FunctionArn").cloned().ok_or_else(|| {
                anyhow!("{what}: only Lambda authorizers (FunctionArn) are emulated, not JWT")
            })?;
            let version = match a.get("AuthorizerPayloadFormatVersion") {
                Some(Expr::Str(s)) => s.clone(),
                Some(Expr::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            if version != "2.0" {
                bail!("{what}: only AuthorizerPayloadFormatVersion \"2.0\" is emulated");
            }
            if literal_bool(a, "EnableSimpleResponses", &what)? != Some(true) {
                bail!("{what}: only EnableSimpleResponses: true (simple responses) is emulated");
            }
            let mut identity_headers = Vec::new();
            let mut identity_query = Vec::new();
            if let Some(identity) = a.get("Identity") {
                let iw = format!("{what}.Identity");
                check_keys(
                    &iw,
                    identity,
                    &["Headers", "QueryStrings", "ReauthorizeEvery"],
                    &[],
                )?;
                identity_headers = literal_list(identity, "Headers", &iw)?;
                identity_query = literal_list(identity, "QueryStrings", &iw)?;
            }
            def.authorizers.insert(
                name.clone(),
                AuthorizerDef {
                    function_arn,
                    identity_headers,
                    identity_query,
                },
            );
        }
    }
    if let Some(default) = &def.default_authorizer {
        if !def.authorizers.contains_key(default) {
            bail!("Auth.DefaultAuthorizer `{default}` is not one of Auth.Authorizers");
        }
    }
    Ok(def)
}

fn literal_list(props: &Expr, key: &str, what: &str) -> Result<Vec<String>> {
    match props.get(key) {
        None => Ok(Vec::new()),
        Some(Expr::List(items)) => items
            .iter()
            .map(|i| {
                i.as_literal_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("{what}.{key} entries must be literal strings"))
            })
            .collect(),
        Some(_) => bail!("{what}.{key} must be a list"),
    }
}

fn parse_function(
    id: &str,
    yaml: &Yaml,
    globals: &Expr,
    http_api: Option<&HttpApiDef>,
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
        Some(p) => Expr::from_yaml(p).map_err(|e| anyhow!("Properties: {e}"))?,
        None => Expr::Map(Vec::new()),
    };
    // Function properties override Globals; Environment.Variables merge (function wins).
    let lookup = |key: &str| props.get(key).or_else(|| globals.get(key));

    let runtime = match lookup("Runtime") {
        Some(Expr::Str(s)) => s.clone(),
        None => bail!("Runtime is missing"),
        Some(other) => bail!("Runtime must be a literal string, found {other:?}"),
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
            Some(other) => bail!("{key} must be a literal number locally, found {other:?}"),
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

fn parse_event(event_id: &str, ev: &Expr, http_api: Option<&HttpApiDef>) -> Result<EventSource> {
    check_keys(event_id, ev, &["Type", "Properties"], &[])?;
    let ty = ev
        .get("Type")
        .and_then(Expr::as_literal_str)
        .ok_or_else(|| anyhow!("Type is missing"))?;
    let empty = Expr::Map(Vec::new());
    let props = ev.get("Properties").unwrap_or(&empty);
    let what = format!("{ty} event {event_id}");
    match ty {
        "HttpApi" => {
            check_keys(
                &what,
                props,
                &[
                    "ApiId",
                    "Method",
                    "Path",
                    "Auth",
                    "PayloadFormatVersion",
                    "TimeoutInMillis",
                ],
                &["RouteSettings"],
            )?;
            let api = http_api.ok_or_else(|| {
                anyhow!("{what}: the template declares no AWS::Serverless::HttpApi")
            })?;
            match props.get("ApiId") {
                Some(Expr::Ref(r)) if *r == api.id => {}
                Some(other) => bail!("{what}: ApiId must be !Ref {}, found {other:?}", api.id),
                None => bail!(
                    "{what}: ApiId is missing (the implicit ServerlessHttpApi is not emulated; \
                     use ApiId: !Ref {})",
                    api.id
                ),
            }
            let method = literal_str(props, "Method", &what)?
                .ok_or_else(|| anyhow!("{what}: Method is missing"))?
                .to_ascii_uppercase();
            let path = literal_str(props, "Path", &what)?
                .ok_or_else(|| anyhow!("{what}: Path is missing"))?
                .to_string();
            RoutePattern::parse(&path).map_err(|e| anyhow!("{what}: {e}"))?;
            if let Some(v) = props.get("PayloadFormatVersion") {
                let ok = matches!(v, Expr::Str(s) if s == "2.0");
                if !ok {
                    bail!("{what}: only PayloadFormatVersion \"2.0\" is emulated");
                }
            }
            let auth = match props.get("Auth") {
                None => RouteAuth::Default,
                Some(a) => {
                    check_keys(
                        &format!("{what}.Auth"),
                        a,
                        &["Authorizer"],
                        &["AuthorizationScopes"],
                    )?;
                    match literal_str(a, "Authorizer", &what)? {
                        None => RouteAuth::Default,
                        Some("NONE") => RouteAuth::None,
                        Some(name) => {
                            if !api.authorizers.contains_key(name) {
                                bail!("{what}: Auth.Authorizer `{name}` is not one of the API's Authorizers");
                            }
                            RouteAuth::Named(name.to_string())
                        }
                    }
                }
            };
            let timeout_ms = literal_u64(props, "TimeoutInMillis", &what)?.unwrap_or(30_000);
            Ok(EventSource::Http(RouteDef {
                method,
                path,
                auth,
                timeout: Duration::from_millis(timeout_ms),
            }))
        }
        "SQS" => {
            check_keys(
                &what,
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
            let types = literal_list(props, "FunctionResponseTypes", &what)?;
            for t in &types {
                if t != "ReportBatchItemFailures" {
                    bail!("{what}: FunctionResponseTypes `{t}` is unknown");
                }
            }
            Ok(EventSource::Sqs(SqsDef {
                queue,
                batch_size: props
                    .get("BatchSize")
                    .cloned()
                    .unwrap_or(Expr::Number(10.into())),
                report_batch_item_failures: !types.is_empty(),
                enabled: literal_bool(props, "Enabled", &what)?.unwrap_or(true),
            }))
        }
        "Schedule" | "ScheduleV2" => {
            let v2 = ty == "ScheduleV2";
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
                &what,
                props,
                &[expr_key, "Input", "Enabled", "State"],
                accepted,
            )?;
            let expression = literal_str(props, expr_key, &what)?
                .ok_or_else(|| anyhow!("{what}: {expr_key} is missing"))?
                .to_string();
            let every =
                parse_schedule_expression(&expression).map_err(|e| anyhow!("{what}: {e}"))?;
            let input = literal_str(props, "Input", &what)?.map(str::to_string);
            if let Some(input) = &input {
                serde_json::from_str::<Json>(input)
                    .map_err(|e| anyhow!("{what}: Input is not valid JSON: {e}"))?;
            }
            let mut enabled = literal_bool(props, "Enabled", &what)?.unwrap_or(true);
            if let Some(state) = literal_str(props, "State", &what)? {
                enabled = enabled && state.eq_ignore_ascii_case("ENABLED");
            }
            let retries = match props.get("RetryPolicy") {
                Some(rp) => literal_u64(rp, "MaximumRetryAttempts", &what)?.unwrap_or(0) as u32,
                None => 0,
            };
            Ok(EventSource::Schedule(ScheduleDef {
                v2,
                expression,
                every,
                input,
                retries,
                enabled,
            }))
        }
        other => bail!(
            "event type {other} is not supported by the local runner (supported: HttpApi, SQS, \
             Schedule, ScheduleV2; S3 notifications reach functions through SQS)"
        ),
    }
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

// ------------------------------------------------------------------------------------------
// Route patterns (API Gateway HTTP API path matching)

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RoutePattern {
    Default,
    Path(Vec<Segment>),
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePattern::Default => write!(f, "$default"),
            RoutePattern::Path(segs) => {
                for s in segs {
                    match s {
                        Segment::Literal(l) => write!(f, "/{l}")?,
                        Segment::Param(p) => write!(f, "/{{{p}}}")?,
                        Segment::Greedy(p) => write!(f, "/{{{p}+}}")?,
                    }
                }
                if segs.is_empty() {
                    write!(f, "/")?;
                }
                Ok(())
            }
        }
    }
}

impl RoutePattern {
    pub fn parse(path: &str) -> Result<RoutePattern, String> {
        if path == "$default" {
            return Ok(RoutePattern::Default);
        }
        let rest = path
            .strip_prefix('/')
            .ok_or_else(|| format!("path `{path}` must start with /"))?;
        let mut segs = Vec::new();
        if rest.is_empty() {
            return Ok(RoutePattern::Path(segs));
        }
        let raw: Vec<&str> = rest.split('/').collect();
        for (i, s) in raw.iter().enumerate() {
            if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if let Some(greedy) = name.strip_suffix('+') {
                    if i + 1 != raw.len() {
                        return Err(format!(
                            "path `{path}`: {{{name}}} must be the last segment"
                        ));
                    }
                    segs.push(Segment::Greedy(greedy.to_string()));
                } else if name.is_empty() {
                    return Err(format!("path `{path}` has an empty {{}}"));
                } else {
                    segs.push(Segment::Param(name.to_string()));
                }
            } else if s.contains('{') || s.contains('}') {
                return Err(format!(
                    "path `{path}`: partial-segment variables are not supported"
                ));
            } else if s.is_empty() {
                return Err(format!("path `{path}` has an empty segment"));
            } else {
                segs.push(Segment::Literal(s.to_string()));
            }
        }
        Ok(RoutePattern::Path(segs))
    }

    /// Path parameters if `path` (raw, percent-encoded) matches; values are decoded.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let RoutePattern::Path(segs) = self else {
            return Some(BTreeMap::new());
        };
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut params = BTreeMap::new();
        for (i, seg) in segs.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i).map(|p| percent_decode(p)) != Some(l.clone()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let p = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), percent_decode(p));
                }
                Segment::Greedy(name) => {
                    if parts.len() <= i {
                        return None;
                    }
                    params.insert(name.clone(), percent_decode(&parts[i..].join("/")));
                    return Some(params);
                }
            }
        }
        (parts.len() == segs.len()).then_some(params)
    }

    /// Orders matches like API Gateway: literal segments beat variables, variables beat greedy
    /// ones, and `$default` comes last. Larger is more specific.
    pub fn specificity(&self) -> Vec<u8> {
        match self {
            RoutePattern::Default => Vec::new(),
            RoutePattern::Path(segs) => {
                let mut key: Vec<u8> = segs
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(_) => 3,
                        Segment::Param(_) => 2,
                        Segment::Greedy(_) => 1,
                    })
                    .collect();
                // Any path beats $default (empty key).
                key.insert(0, 1);
                key
            }
        }
    }
}

/// Decodes %XX escapes (invalid ones are kept as they are); `+` is not special in paths.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(yaml: &str) -> Expr {
        let v: Yaml = serde_yaml::from_str(yaml).expect("test yaml");
        Expr::from_yaml(&v).expect("test expr")
    }

    fn ctx() -> Context {
        let mut params = BTreeMap::new();
        params.insert("LogLevel".into(), "debug".into());
        let mut c = Context::new(params);
        c.set_ref("Q", "http://127.0.0.1:5000/123456789012/Q");
        c.set_attr("Q", "Arn", "arn:aws:sqs:eu-central-1:123456789012:Q");
        c.set_ref("T", "T");
        c.set_attr(
            "T",
            "Arn",
            "arn:aws:dynamodb:eu-central-1:123456789012:table/T",
        );
        c
    }

    #[test]
    fn short_and_long_intrinsics_parse_alike() {
        assert_eq!(expr("!Ref X"), Expr::Ref("X".into()));
        assert_eq!(expr("{Ref: X}"), Expr::Ref("X".into()));
        assert_eq!(
            expr("!GetAtt X.Arn"),
            Expr::GetAtt("X".into(), "Arn".into())
        );
        assert_eq!(
            expr("{'Fn::GetAtt': [X, Arn]}"),
            Expr::GetAtt("X".into(), "Arn".into())
        );
        assert_eq!(expr("!Sub 'a${X}'"), Expr::Sub("a${X}".into(), vec![]));
        assert_eq!(
            expr("{'Fn::Join': [',', [a, !Ref X]]}"),
            Expr::Join(
                ",".into(),
                vec![Expr::Str("a".into()), Expr::Ref("X".into())]
            )
        );
    }

    #[test]
    fn unsupported_intrinsics_are_named() {
        let v: Yaml = serde_yaml::from_str("!If [C, a, b]").expect("yaml");
        let err = Expr::from_yaml(&v).expect_err("must fail");
        assert!(err.contains("`If`"), "{err}");
        let v: Yaml = serde_yaml::from_str("{'Fn::Select': [0, [a]]}").expect("yaml");
        let err = Expr::from_yaml(&v).expect_err("must fail");
        assert!(err.contains("Fn::Select"), "{err}");
    }

    #[test]
    fn resolves_refs_attrs_sub_and_join() {
        let c = ctx();
        assert_eq!(c.resolve_string(&expr("!Ref T")).expect("ref"), "T");
        assert_eq!(
            c.resolve_string(&expr("!Ref LogLevel")).expect("param"),
            "debug"
        );
        assert_eq!(
            c.resolve_string(&expr("!GetAtt Q.Arn")).expect("attr"),
            "arn:aws:sqs:eu-central-1:123456789012:Q"
        );
        assert_eq!(
            c.resolve_string(&expr(
                "!Sub '${T.Arn}/index/* in ${AWS::Region} ${AWS::AccountId} ${AWS::Partition} ${AWS::URLSuffix} ${!Literal}'"
            ))
            .expect("sub"),
            "arn:aws:dynamodb:eu-central-1:123456789012:table/T/index/* in eu-central-1 123456789012 aws amazonaws.com ${Literal}"
        );
        assert_eq!(
            c.resolve_string(&expr("!Sub ['${A}-${LogLevel}', {A: !Ref T}]"))
                .expect("sub vars"),
            "T-debug"
        );
        assert_eq!(
            c.resolve_string(&expr("!Join [',', [!Ref T, x, !GetAtt Q.Arn]]"))
                .expect("join"),
            "T,x,arn:aws:sqs:eu-central-1:123456789012:Q"
        );
        let err = c.resolve(&expr("!Ref Nope")).expect_err("unknown");
        assert!(err.contains("Nope"), "{err}");
        let err = c
            .resolve(&expr("!GetAtt Q.Nope"))
            .expect_err("unknown attr");
        assert!(err.contains("Q.Nope"), "{err}");
    }

    #[test]
    fn references_cover_sub_variables_but_not_locals() {
        let refs = expr("!Sub ['${T.Arn}/${X}/${AWS::Region}', {X: !Ref Q}]").references();
        assert_eq!(
            refs,
            vec!["T".to_string(), "AWS::Region".into(), "Q".into()]
        );
    }

    const SMALL: &str = r#"
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

    #[test]
    fn route_patterns_match_like_api_gateway() {
        let p = RoutePattern::parse("/orders/{orderId}").expect("pattern");
        let m = p.matches("/orders/o%2D1").expect("match");
        assert_eq!(m["orderId"], "o-1");
        assert!(p.matches("/orders").is_none());
        assert!(p.matches("/orders/").is_none());
        assert!(p.matches("/orders/1/lines").is_none());

        let g = RoutePattern::parse("/files/{proxy+}").expect("greedy");
        assert_eq!(g.matches("/files/a/b/c").expect("match")["proxy"], "a/b/c");
        assert!(g.matches("/files").is_none());

        let literal = RoutePattern::parse("/orders/export").expect("literal");
        assert!(literal.specificity() > p.specificity());
        assert!(p.specificity() > g.specificity());
        assert!(g.specificity() > RoutePattern::Default.specificity());
        assert_eq!(p.to_string(), "/orders/{orderId}");
        assert!(RoutePattern::parse("/a/{x+}/b").is_err());
        assert!(RoutePattern::parse("orders").is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%C3%A4"), "ä");
    }

    #[test]
    fn the_project_template_parses() {
        let text = include_str!("../../../template.yaml");
        let t = parse(text).expect("template.yaml parses");
        assert!(t.functions.len() >= 2);
        assert!(t.http_api.is_some());
    }
}
