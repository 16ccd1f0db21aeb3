//! The running API against openapi.yaml: schemathesis (pinned in infra/requirements.txt)
//! generates requests for every operation from the contract and checks that no answer is a
//! server error, that every status code is documented, and that every body and content type
//! matches the documented schema. Each principal tests the operations of its role, with a fixed
//! seed and example budget so the run is reproducible and takes about a minute.

use crate::setup;

use crate::support::{workspace_root, Stack, TempDir};
use std::process::Command;

#[tokio::test]
async fn the_running_api_keeps_its_openapi_contract() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let schemathesis = workspace_root().join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "schemathesis is missing: run `make venv` (make test does)"
    );
    let scratch = TempDir::new("schemathesis");
    for (tag, token) in [
        ("channel", world.web.as_str()),
        ("fulfiller", world.acme.as_str()),
        ("admin", stack.admin_token.as_str()),
        ("documents", "none"),
    ] {
        let out = Command::new(&schemathesis)
            .current_dir(scratch.path())
            .env("NO_COLOR", "1")
            .args(["run", &workspace_root().join("openapi.yaml").to_string_lossy(), "--url", &stack.api])
            .args(["--header", &format!("Authorization: Bearer {token}"), "--include-tag", tag])
            .args(["--max-examples", "15", "--seed", "20261127", "--request-timeout", "20"])
            .args(["--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"])
            .output()
            .expect("running schemathesis");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{tag} operations break the contract:\n{report}\n{}\nrunner:\n{}",
            String::from_utf8_lossy(&out.stderr),
            stack.output.tail(40)
        );
        assert!(
            report.contains("passed"),
            "{tag}: no test case ran:\n{report}"
        );
    }
}
