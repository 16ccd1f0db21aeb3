//! Resources by type: which types and properties the runner emulates, which it accepts without
//! local behaviour (IAM, encryption at rest, lifecycle, tags, alarms, policies), and reading a
//! resource's attributes (`Type`, `Properties`, `DependsOn`).

use anyhow::{anyhow, bail, Result};
use serde_norway::Value as Yaml;

use super::conditions::Conditions;
use super::expr::Expr;

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
    LogGroup,
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
            "AWS::Logs::LogGroup" => Kind::LogGroup,
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
                    "StreamSpecification",
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
            // Function output goes to the runner's own output, not to a log group.
            Kind::LogGroup => Some((
                &[],
                &[
                    "LogGroupName",
                    "RetentionInDays",
                    "KmsKeyId",
                    "LogGroupClass",
                    "DataProtectionPolicy",
                    "FieldIndexPolicies",
                    "DeletionProtectionEnabled",
                    "Tags",
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
    "LoggingConfig",
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
    "AWS::Logs::LogGroup",
];

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub kind: Kind,
    pub properties: Expr,
    pub depends_on: Vec<String>,
}

pub(super) fn parse_resource(id: &str, v: &Yaml, conditions: &Conditions) -> Result<Resource> {
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
            // Whether a resource exists at all would have to be decided before provisioning;
            // the runner decides conditions per value only (Fn::If, AWS::NoValue).
            "Condition" => bail!(
                "a resource's Condition attribute is not supported by the local runner (choose \
                 its property values with Fn::If instead)"
            ),
            other => bail!("unknown resource attribute `{other}`"),
        }
    }
    let properties = match v.get("Properties") {
        Some(p) => Expr::from_yaml(p, conditions).map_err(|e| anyhow!("Properties: {e}"))?,
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

pub(super) fn check_properties(what: &str, kind: Kind, props: &Expr) -> Result<()> {
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
