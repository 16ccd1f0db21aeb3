//! One source of truth each: the routes template.yaml wires are exactly the operations
//! openapi.yaml documents (method and path), no more, no fewer.

use serde_norway::Value;
use std::collections::BTreeSet;

use crate::support::workspace_root;

fn load(name: &str) -> Value {
    let path = workspace_root().join(name);
    serde_norway::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn template_routes() -> BTreeSet<String> {
    let t = load("template.yaml");
    let mut routes = BTreeSet::new();
    for (_, resource) in t["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, e) in events {
            if e["Type"].as_str() == Some("HttpApi") {
                let p = &e["Properties"];
                routes.insert(format!(
                    "{} {}",
                    p["Method"].as_str().unwrap_or("?").to_uppercase(),
                    p["Path"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    routes
}

/// Every operation of openapi.yaml as ("METHOD /path", its operationId if it has one).
fn openapi_operation_ids() -> Vec<(String, Option<String>)> {
    let o = load("openapi.yaml");
    let mut ops = Vec::new();
    for (path, item) in o["paths"].as_mapping().expect("paths") {
        for (method, operation) in item.as_mapping().expect("path item") {
            let m = method.as_str().unwrap_or_default();
            if ["get", "put", "post", "delete", "patch"].contains(&m) {
                let route = format!("{} {}", m.to_uppercase(), path.as_str().unwrap_or_default());
                let id = operation["operationId"].as_str().map(str::to_string);
                ops.push((route, id));
            }
        }
    }
    ops
}

fn openapi_operations() -> BTreeSet<String> {
    openapi_operation_ids()
        .into_iter()
        .map(|(route, _)| route)
        .collect()
}

#[test]
fn template_routes_and_openapi_operations_agree() {
    let routes = template_routes();
    let ops = openapi_operations();
    assert!(!routes.is_empty());
    let undocumented: Vec<_> = routes.difference(&ops).collect();
    let unwired: Vec<_> = ops.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes in template.yaml missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        unwired.is_empty(),
        "operations in openapi.yaml no function serves: {unwired:?}"
    );
}

/// Generated clients name their methods after operationIds: each operation has one, in
/// camelCase, and no two operations share one.
#[test]
fn every_operation_has_a_unique_camel_case_operation_id() {
    let ops = openapi_operation_ids();
    assert!(!ops.is_empty());
    let mut seen = std::collections::BTreeMap::new();
    for (route, id) in &ops {
        let Some(id) = id else {
            panic!("{route} has no operationId");
        };
        let camel_case = id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric());
        assert!(camel_case, "{route}: operationId {id:?} is not camelCase");
        if let Some(other) = seen.insert(id.clone(), route.clone()) {
            panic!("{route} and {other} share the operationId {id:?}");
        }
    }
}
