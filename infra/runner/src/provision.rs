//! Creates the template's tables, queues, buckets and topics in the emulator, in
//! dependency order, and records what `Ref`/`Fn::GetAtt` mean for each of them.

use std::collections::{HashMap, HashSet};

use anyhow::{anyhow, bail, Context as _, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::Value as Json;

use crate::template::{scalar_string, Context, Kind, Resource, Template, ACCOUNT_ID, REGION};

pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing",
            "testing",
            Some("testing".to_string()),
            None,
            "local-runner",
        ))
        .load()
        .await
}

#[derive(Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
}

impl Clients {
    pub fn new(cfg: &SdkConfig) -> Clients {
        // Path-style addressing: bucket names cannot be subdomains of 127.0.0.1.
        let s3 = aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build();
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(cfg),
            sqs: aws_sdk_sqs::Client::new(cfg),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sns: aws_sdk_sns::Client::new(cfg),
        }
    }
}

/// The emulated resources (everything but functions and the API) in an order where each one
/// comes after what it refers to; template order otherwise.
pub fn creation_order(t: &Template) -> Result<Vec<&Resource>> {
    let group: Vec<&Resource> = t
        .resources
        .iter()
        .filter(|r| !matches!(r.kind, Kind::Function | Kind::HttpApi))
        .collect();
    let ids: HashSet<&str> = group.iter().map(|r| r.id.as_str()).collect();
    let deps: HashMap<&str, Vec<String>> = group
        .iter()
        .map(|r| {
            let mut d: Vec<String> = r
                .properties
                .references()
                .into_iter()
                .chain(r.depends_on.iter().cloned())
                .filter(|x| ids.contains(x.as_str()) && *x != r.id)
                .collect();
            d.dedup();
            (r.id.as_str(), d)
        })
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut order = Vec::with_capacity(group.len());
    while order.len() < group.len() {
        let next = group.iter().find(|r| {
            !done.contains(r.id.as_str())
                && deps[r.id.as_str()]
                    .iter()
                    .all(|d| done.contains(d.as_str()))
        });
        match next {
            Some(r) => {
                done.insert(r.id.as_str());
                order.push(*r);
            }
            None => {
                let stuck: Vec<&str> = group
                    .iter()
                    .map(|r| r.id.as_str())
                    .filter(|id| !done.contains(id))
                    .collect();
                bail!("circular references between resources {}", stuck.join(", "));
            }
        }
    }
    Ok(order)
}

/// Creates every emulated resource and records its identity in `ctx`; returns queue ARN → URL.
pub async fn provision(
    t: &Template,
    ctx: &mut Context,
    clients: &Clients,
) -> Result<HashMap<String, String>> {
    let mut queue_urls = HashMap::new();
    for r in creation_order(t)? {
        let props = ctx
            .resolve(&r.properties)
            .map_err(|e| anyhow!("resource {}: {e}", r.id))?;
        let what = format!("resource {} ({})", r.id, kind_name(r.kind));
        match r.kind {
            Kind::Table => create_table(&r.id, &props, ctx, clients).await,
            Kind::Queue => {
                let (arn, url) = create_queue(&r.id, &props, ctx, clients).await?;
                queue_urls.insert(arn, url);
                Ok(())
            }
            Kind::Bucket => create_bucket(&r.id, &props, ctx, clients).await,
            Kind::Topic => create_topic(&r.id, &props, ctx, clients).await,
            // Accepted without local behaviour: policies do not apply to the emulator, and
            // alarms cannot be stored (aws-sdk-cloudwatch speaks RPC v2 CBOR, which moto 5.2.5
            // does not) nor would be evaluated.
            Kind::QueuePolicy | Kind::BucketPolicy => {
                ctx.set_ref(&r.id, r.id.clone());
                Ok(())
            }
            Kind::Alarm => {
                ctx.set_ref(&r.id, r.id.clone());
                ctx.set_attr(
                    &r.id,
                    "Arn",
                    format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{}", r.id),
                );
                Ok(())
            }
            // Function output goes to the runner's own output; the group only has a name.
            Kind::LogGroup => {
                let name = opt_str(&props, "LogGroupName")?.unwrap_or_else(|| r.id.clone());
                ctx.set_attr(
                    &r.id,
                    "Arn",
                    format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"),
                );
                ctx.set_ref(&r.id, name);
                Ok(())
            }
            Kind::Function | Kind::HttpApi => Ok(()),
        }
        .with_context(|| format!("cannot create {what} in the emulator"))?;
        tracing::debug!(resource = %r.id, "provisioned");
    }
    Ok(queue_urls)
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Function => "AWS::Serverless::Function",
        Kind::HttpApi => "AWS::Serverless::HttpApi",
        Kind::Table => "AWS::DynamoDB::Table",
        Kind::Queue => "AWS::SQS::Queue",
        Kind::Bucket => "AWS::S3::Bucket",
        Kind::Topic => "AWS::SNS::Topic",
        Kind::Alarm => "AWS::CloudWatch::Alarm",
        Kind::QueuePolicy => "AWS::SQS::QueuePolicy",
        Kind::BucketPolicy => "AWS::S3::BucketPolicy",
        Kind::LogGroup => "AWS::Logs::LogGroup",
    }
}

// ----------------------------------------------------------------------- small JSON helpers

fn opt_str(v: &Json, key: &str) -> Result<Option<String>> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(x) => scalar_string(x)
            .map(Some)
            .map_err(|e| anyhow!("{key}: {e}")),
    }
}

fn req_str(v: &Json, key: &str) -> Result<String> {
    opt_str(v, key)?.ok_or_else(|| anyhow!("{key} is missing"))
}

fn opt_i64(v: &Json, key: &str) -> Result<Option<i64>> {
    match opt_str(v, key)? {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("{key} = `{s}` is not an integer")),
    }
}

fn opt_bool(v: &Json, key: &str) -> Result<Option<bool>> {
    match opt_str(v, key)? {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(s) => bail!("{key} = `{s}` is not a boolean"),
    }
}

fn list<'a>(v: &'a Json, key: &str) -> &'a [Json] {
    v.get(key)
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

// ---------------------------------------------------------------------------------- tables

async fn create_table(id: &str, p: &Json, ctx: &mut Context, c: &Clients) -> Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        LocalSecondaryIndex, Projection, ProjectionType, ProvisionedThroughput,
        ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    };
    let name = opt_str(p, "TableName")?.unwrap_or_else(|| id.to_string());

    let key_schema = |v: &Json| -> Result<Vec<KeySchemaElement>> {
        list(v, "KeySchema")
            .iter()
            .map(|k| {
                Ok(KeySchemaElement::builder()
                    .attribute_name(req_str(k, "AttributeName")?)
                    .key_type(KeyType::from(req_str(k, "KeyType")?.as_str()))
                    .build()?)
            })
            .collect()
    };
    let projection = |v: &Json| -> Result<Projection> {
        let proj = v.get("Projection").cloned().unwrap_or(Json::Null);
        Ok(Projection::builder()
            .set_projection_type(
                opt_str(&proj, "ProjectionType")?.map(|t| ProjectionType::from(t.as_str())),
            )
            .set_non_key_attributes(proj.get("NonKeyAttributes").and_then(Json::as_array).map(
                |a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                },
            ))
            .build())
    };
    let throughput = |v: &Json| -> Result<Option<ProvisionedThroughput>> {
        match v.get("ProvisionedThroughput") {
            None => Ok(None),
            Some(t) => Ok(Some(
                ProvisionedThroughput::builder()
                    .read_capacity_units(opt_i64(t, "ReadCapacityUnits")?.unwrap_or(1))
                    .write_capacity_units(opt_i64(t, "WriteCapacityUnits")?.unwrap_or(1))
                    .build()?,
            )),
        }
    };

    let attrs = list(p, "AttributeDefinitions")
        .iter()
        .map(|a| {
            Ok(AttributeDefinition::builder()
                .attribute_name(req_str(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(
                    req_str(a, "AttributeType")?.as_str(),
                ))
                .build()?)
        })
        .collect::<Result<Vec<_>>>()
        .context("AttributeDefinitions")?;
    let billing = opt_str(p, "BillingMode")?.unwrap_or_else(|| "PROVISIONED".into());
    let mut req = c
        .dynamodb
        .create_table()
        .table_name(&name)
        .set_attribute_definitions(Some(attrs))
        .set_key_schema(Some(key_schema(p).context("KeySchema")?))
        .billing_mode(BillingMode::from(billing.as_str()));
    if billing == "PROVISIONED" {
        let t = throughput(p)?
            .ok_or_else(|| anyhow!("BillingMode PROVISIONED needs ProvisionedThroughput"))?;
        req = req.provisioned_throughput(t);
    }
    for g in list(p, "GlobalSecondaryIndexes") {
        let index = req_str(g, "IndexName")?;
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index)
                .set_key_schema(Some(key_schema(g)?))
                .projection(projection(g)?)
                .set_provisioned_throughput(throughput(g)?)
                .build()
                .with_context(|| format!("GlobalSecondaryIndexes {index}"))?,
        );
    }
    for l in list(p, "LocalSecondaryIndexes") {
        let index = req_str(l, "IndexName")?;
        req = req.local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(&index)
                .set_key_schema(Some(key_schema(l)?))
                .projection(projection(l)?)
                .build()
                .with_context(|| format!("LocalSecondaryIndexes {index}"))?,
        );
    }
    if let Some(stream) = p.get("StreamSpecification") {
        let view = req_str(stream, "StreamViewType").context("StreamSpecification")?;
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view.as_str()))
                .build()?,
        );
    }
    let out = req.send().await.context("CreateTable")?;
    let arn = out
        .table_description()
        .and_then(|d| d.table_arn())
        .map(str::to_string)
        .unwrap_or_else(|| format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"));
    if let Some(stream_arn) = out.table_description().and_then(|d| d.latest_stream_arn()) {
        ctx.set_attr(id, "StreamArn", stream_arn);
    }

    if let Some(ttl) = p.get("TimeToLiveSpecification") {
        // Stored, but moto never expires items: code checks expiry itself (see docs/architecture.md, "The local stack").
        if opt_bool(ttl, "Enabled")?.unwrap_or(false) {
            c.dynamodb
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(req_str(ttl, "AttributeName")?)
                        .enabled(true)
                        .build()?,
                )
                .send()
                .await
                .context("UpdateTimeToLive")?;
        }
    }
    ctx.set_ref(id, name.clone());
    ctx.set_attr(id, "Arn", arn);
    Ok(())
}

// ---------------------------------------------------------------------------------- queues

async fn create_queue(
    id: &str,
    p: &Json,
    ctx: &mut Context,
    c: &Clients,
) -> Result<(String, String)> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let fifo = opt_bool(p, "FifoQueue")?.unwrap_or(false);
    let name = match opt_str(p, "QueueName")? {
        Some(n) => n,
        None if fifo => format!("{id}.fifo"),
        None => id.to_string(),
    };
    let mut req = c.sqs.create_queue().queue_name(&name);
    let plain = [
        ("VisibilityTimeout", A::VisibilityTimeout),
        ("MessageRetentionPeriod", A::MessageRetentionPeriod),
        ("DelaySeconds", A::DelaySeconds),
        ("MaximumMessageSize", A::MaximumMessageSize),
        (
            "ReceiveMessageWaitTimeSeconds",
            A::ReceiveMessageWaitTimeSeconds,
        ),
        ("FifoQueue", A::FifoQueue),
        ("ContentBasedDeduplication", A::ContentBasedDeduplication),
        ("DeduplicationScope", A::DeduplicationScope),
        ("FifoThroughputLimit", A::FifoThroughputLimit),
        ("SqsManagedSseEnabled", A::SqsManagedSseEnabled),
        ("KmsMasterKeyId", A::KmsMasterKeyId),
        (
            "KmsDataKeyReusePeriodSeconds",
            A::KmsDataKeyReusePeriodSeconds,
        ),
    ];
    for (key, attr) in plain {
        if let Some(v) = opt_str(p, key)? {
            req = req.attributes(attr, v);
        }
    }
    if let Some(rp) = p.get("RedrivePolicy") {
        let dlq = req_str(rp, "deadLetterTargetArn").context("RedrivePolicy")?;
        let max = opt_i64(rp, "maxReceiveCount")
            .context("RedrivePolicy")?
            .ok_or_else(|| anyhow!("RedrivePolicy.maxReceiveCount is missing"))?;
        let policy = serde_json::json!({"deadLetterTargetArn": dlq, "maxReceiveCount": max});
        req = req.attributes(A::RedrivePolicy, policy.to_string());
    }
    if let Some(rap) = p.get("RedriveAllowPolicy") {
        req = req.attributes(A::RedriveAllowPolicy, rap.to_string());
    }
    let out = req.send().await.context("CreateQueue")?;
    let url = out
        .queue_url()
        .ok_or_else(|| anyhow!("CreateQueue returned no QueueUrl"))?
        .to_string();
    let attrs = c
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .context("GetQueueAttributes")?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&A::QueueArn))
        .cloned()
        .unwrap_or_else(|| format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"));
    ctx.set_ref(id, url.clone());
    ctx.set_attr(id, "Arn", arn.clone());
    ctx.set_attr(id, "QueueName", name);
    ctx.set_attr(id, "QueueUrl", url.clone());
    Ok((arn, url))
}

// --------------------------------------------------------------------------------- buckets

async fn create_bucket(id: &str, p: &Json, ctx: &mut Context, c: &Clients) -> Result<()> {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
    };
    let name =
        opt_str(p, "BucketName")?.unwrap_or_else(|| format!("dropship-{}", id.to_lowercase()));
    c.s3.create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .context("CreateBucket")?;

    if let Some(enc) = p.get("BucketEncryption") {
        let mut cfg = ServerSideEncryptionConfiguration::builder();
        for rule in list(enc, "ServerSideEncryptionConfiguration") {
            let mut r = ServerSideEncryptionRule::builder()
                .set_bucket_key_enabled(opt_bool(rule, "BucketKeyEnabled")?);
            if let Some(d) = rule.get("ServerSideEncryptionByDefault") {
                r = r.apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::from(
                            req_str(d, "SSEAlgorithm")?.as_str(),
                        ))
                        .set_kms_master_key_id(opt_str(d, "KMSMasterKeyID")?)
                        .build()?,
                );
            }
            cfg = cfg.rules(r.build());
        }
        c.s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(cfg.build()?)
            .send()
            .await
            .context("PutBucketEncryption")?;
    }
    if let Some(pab) = p.get("PublicAccessBlockConfiguration") {
        c.s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .set_block_public_acls(opt_bool(pab, "BlockPublicAcls")?)
                    .set_block_public_policy(opt_bool(pab, "BlockPublicPolicy")?)
                    .set_ignore_public_acls(opt_bool(pab, "IgnorePublicAcls")?)
                    .set_restrict_public_buckets(opt_bool(pab, "RestrictPublicBuckets")?)
                    .build(),
            )
            .send()
            .await
            .context("PutPublicAccessBlock")?;
    }
    if let Some(v) = p.get("VersioningConfiguration") {
        let status = req_str(v, "Status").context("VersioningConfiguration")?;
        c.s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::from(status.as_str()))
                    .build(),
            )
            .send()
            .await
            .context("PutBucketVersioning")?;
    }
    if let Some(n) = p.get("NotificationConfiguration") {
        let cfg = notification_configuration(n).context("NotificationConfiguration")?;
        c.s3.put_bucket_notification_configuration()
            .bucket(&name)
            .notification_configuration(cfg)
            .send()
            .await
            .context("PutBucketNotificationConfiguration")?;
    }

    ctx.set_ref(id, name.clone());
    ctx.set_attr(id, "Arn", format!("arn:aws:s3:::{name}"));
    ctx.set_attr(id, "DomainName", format!("{name}.s3.amazonaws.com"));
    ctx.set_attr(
        id,
        "RegionalDomainName",
        format!("{name}.s3.{REGION}.amazonaws.com"),
    );
    Ok(())
}

/// CloudFormation's `NotificationConfiguration` in the S3 API's shape. Only queue targets are
/// emulated: S3 notifications reach functions through SQS (see docs/architecture.md, "The local stack").
fn notification_configuration(n: &Json) -> Result<aws_sdk_s3::types::NotificationConfiguration> {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration,
        NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    };
    if let Some(obj) = n.as_object() {
        for key in obj.keys() {
            if key != "QueueConfigurations" {
                bail!(
                    "`{key}` is not emulated (only QueueConfigurations: S3 notifications reach \
                     functions through SQS)"
                );
            }
        }
    }
    let mut cfg = NotificationConfiguration::builder();
    for q in list(n, "QueueConfigurations") {
        let mut qc = QueueConfiguration::builder()
            .queue_arn(req_str(q, "Queue")?)
            .events(Event::from(req_str(q, "Event")?.as_str()));
        if let Some(filter) = q.get("Filter") {
            let mut key = S3KeyFilter::builder();
            for rule in filter.get("S3Key").map(|k| list(k, "Rules")).unwrap_or(&[]) {
                let rule_name = req_str(rule, "Name")?;
                key = key.filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::from(
                            rule_name.to_ascii_lowercase().as_str(),
                        ))
                        .value(req_str(rule, "Value")?)
                        .build(),
                );
            }
            qc = qc.filter(
                NotificationConfigurationFilter::builder()
                    .key(key.build())
                    .build(),
            );
        }
        cfg = cfg.queue_configurations(qc.build()?);
    }
    Ok(cfg.build())
}

// ---------------------------------------------------------------------------------- topics

async fn create_topic(id: &str, p: &Json, ctx: &mut Context, c: &Clients) -> Result<()> {
    let fifo = opt_bool(p, "FifoTopic")?.unwrap_or(false);
    let name = match opt_str(p, "TopicName")? {
        Some(n) => n,
        None if fifo => format!("{id}.fifo"),
        None => id.to_string(),
    };
    let mut req = c.sns.create_topic().name(&name);
    for key in [
        "DisplayName",
        "KmsMasterKeyId",
        "FifoTopic",
        "ContentBasedDeduplication",
    ] {
        if let Some(v) = opt_str(p, key)? {
            req = req.attributes(key, v);
        }
    }
    let out = req.send().await.context("CreateTopic")?;
    let arn = out
        .topic_arn()
        .ok_or_else(|| anyhow!("CreateTopic returned no TopicArn"))?
        .to_string();
    for sub in list(p, "Subscription") {
        c.sns
            .subscribe()
            .topic_arn(&arn)
            .protocol(req_str(sub, "Protocol")?)
            .endpoint(req_str(sub, "Endpoint")?)
            .send()
            .await
            .context("Subscribe")?;
    }
    ctx.set_ref(id, arn.clone());
    ctx.set_attr(id, "TopicArn", arn);
    ctx.set_attr(id, "TopicName", name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse;

    #[test]
    fn dead_letter_queues_and_depends_on_come_first() {
        let t = parse(
            r#"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Policy
    Properties:
      NotificationConfiguration:
        QueueConfigurations: [{ Event: "s3:ObjectCreated:*", Queue: !GetAtt Work.Arn }]
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties: { Queues: [!Ref Work], PolicyDocument: {} }
  Work:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3 }
  Dlq:
    Type: AWS::SQS::Queue
"#,
        )
        .expect("template");
        let order: Vec<&str> = creation_order(&t)
            .expect("order")
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(order, vec!["Dlq", "Work", "Policy", "Bucket"]);
    }

    #[test]
    fn cycles_are_reported() {
        let t = parse(
            r#"
Resources:
  A: { Type: AWS::SQS::Queue, Properties: { RedrivePolicy: { deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 1 } } }
  B: { Type: AWS::SQS::Queue, Properties: { RedrivePolicy: { deadLetterTargetArn: !GetAtt A.Arn, maxReceiveCount: 1 } } }
"#,
        )
        .expect("template");
        let err = creation_order(&t).expect_err("cycle");
        assert!(err.to_string().contains("A, B"), "{err}");
    }

    #[test]
    fn notification_rules_take_the_s3_api_shape() {
        let n = serde_json::json!({"QueueConfigurations": [{
            "Event": "s3:ObjectCreated:*",
            "Queue": "arn:aws:sqs:eu-central-1:123456789012:Q",
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "feeds/"}]}}
        }]});
        let cfg = notification_configuration(&n).expect("config");
        let q = &cfg.queue_configurations()[0];
        assert_eq!(q.queue_arn(), "arn:aws:sqs:eu-central-1:123456789012:Q");
        let rule = &q
            .filter()
            .and_then(|f| f.key())
            .map(|k| k.filter_rules())
            .expect("rules")[0];
        assert_eq!(rule.name().map(|n| n.as_str()), Some("prefix"));
        assert_eq!(rule.value(), Some("feeds/"));

        let lambda = serde_json::json!({"LambdaConfigurations": []});
        assert!(notification_configuration(&lambda).is_err());
    }
}
