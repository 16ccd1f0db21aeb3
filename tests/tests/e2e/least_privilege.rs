//! Least privilege, read from template.yaml itself: no function policy grants a wildcard
//! action or a wildcard resource (only the objects under a named bucket prefix), and no function may touch a table, queue, bucket or
//! topic it does not use. What a function uses is what its code can reach: the resources named
//! in its environment (the only way the code learns a resource's name) and its event sources.

use serde_norway::Value;
use std::collections::BTreeSet;

fn template() -> Value {
    let path = crate::support::workspace_root().join("template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The logical ids of the template's data resources (tables, queues, buckets, topics).
fn data_resources(t: &Value) -> BTreeSet<String> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| {
            matches!(
                r["Type"].as_str(),
                Some(
                    "AWS::DynamoDB::Table"
                        | "AWS::SQS::Queue"
                        | "AWS::S3::Bucket"
                        | "AWS::SNS::Topic"
                )
            )
        })
        .map(|(k, _)| k.as_str().unwrap().to_string())
        .collect()
}

/// Logical ids named anywhere in a piece of the template (!Ref X, !GetAtt X.Arn, ${X.Arn}).
fn named(v: &Value, among: &BTreeSet<String>) -> BTreeSet<String> {
    let text = serde_norway::to_string(v).unwrap();
    among
        .iter()
        .filter(|id| {
            text.match_indices(id.as_str()).any(|(i, _)| {
                let after = text[i + id.len()..].chars().next();
                let before = text[..i].chars().last();
                !after.is_some_and(|c| c.is_ascii_alphanumeric())
                    && !before.is_some_and(|c| c.is_ascii_alphanumeric())
            })
        })
        .cloned()
        .collect()
}

fn statements(function: &Value) -> Vec<Value> {
    function["Properties"]["Policies"]
        .as_sequence()
        .map(|ps| {
            ps.iter()
                .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Sequence(s) => s.clone(),
        other => vec![other.clone()],
    }
}

#[test]
fn no_function_policy_grants_a_wildcard() {
    let t = template();
    let mut offences = Vec::new();
    let mut checked = 0;
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        // Only explicit statements: a SAM policy template or managed policy hides its grants.
        for p in r["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            if p.get("Statement").is_none() {
                offences.push(format!(
                    "{name}: a policy that is not an explicit statement: {p:?}"
                ));
            }
        }
        for s in statements(r) {
            checked += 1;
            for a in as_list(&s["Action"]) {
                let a = a.as_str().unwrap_or_default();
                if a.contains('*') {
                    offences.push(format!("{name}: wildcard action {a}"));
                }
            }
            for res in as_list(&s["Resource"]) {
                // The text of the ARN, inside a !Sub if it is one.
                let text = match &res {
                    Value::Tagged(t) => t.value.as_str().unwrap_or_default().to_string(),
                    other => other.as_str().unwrap_or_default().to_string(),
                };
                // The one wildcard allowed: the objects under a named prefix of a bucket (S3
                // cannot name objects that do not exist yet).
                let object_prefix = text.starts_with("${")
                    && text.contains("Bucket.Arn}/")
                    && text.ends_with("/*")
                    && !text.ends_with("}/*");
                if text.contains('*') && !object_prefix {
                    offences.push(format!(
                        "{name}: wildcard resource {text} for {:?}",
                        s["Action"]
                    ));
                }
            }
            if s["Effect"].as_str() != Some("Allow") {
                offences.push(format!("{name}: a statement that is not a plain Allow"));
            }
        }
    }
    assert!(checked > 30, "only {checked} statements found");
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn no_function_may_touch_what_it_does_not_use() {
    let t = template();
    let data = data_resources(&t);
    assert!(data.len() >= 15, "{data:?}");
    let mut offences = Vec::new();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        let mut uses = named(&r["Properties"]["Environment"], &data);
        uses.extend(named(&r["Properties"]["Events"], &data));
        let granted = named(&Value::Sequence(statements(r)), &data);
        for g in granted.difference(&uses) {
            offences.push(format!("{name} may touch {g}, which it does not use"));
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
