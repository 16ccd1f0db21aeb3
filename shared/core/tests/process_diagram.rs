//! The independent check of the process diagram (issue 21): the BPMN generated for the default
//! settings, and for settings with a mail and a timer switched off, is read by bpmn-moddle (the
//! parser BPMN modellers use, from npm: tests/portal/bpmn-check.mjs) without error or warning,
//! with as many flow nodes as the model has, and fewer once steps are switched off.
//!
//! Needs node and `npm ci --prefix tests/portal` (as `make system-deps` runs it).
#![allow(
    clippy::unwrap_used,
    reason = "all test code: a failing unwrap is a failing test (clippy.toml allows it in #[test] only)"
)]

use std::path::PathBuf;
use std::process::Command;

use dropship_core::process::bpmn::to_bpmn;
use dropship_core::process::{order_process, ProcessModel, ProcessSettings};

fn portal() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/portal")
}

/// What bpmn-moddle read from the BPMN of `model`.
fn moddle_counts(model: &ProcessModel, name: &str) -> serde_json::Value {
    let file = std::env::temp_dir().join(format!("process-{name}-{}.bpmn", std::process::id()));
    std::fs::write(&file, to_bpmn(model)).unwrap();
    assert!(
        portal().join("node_modules/bpmn-moddle").is_dir(),
        "bpmn-moddle is not installed: run `npm ci --prefix tests/portal`"
    );
    let out = Command::new("node")
        .arg(portal().join("bpmn-check.mjs"))
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "bpmn-moddle refused the {name} diagram: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn settings(v: serde_json::Value) -> ProcessSettings {
    ProcessSettings::parse(&v, "settings").unwrap()
}

#[test]
fn bpmn_moddle_opens_the_diagram_and_counts_the_steps_the_model_has() {
    let defaults = order_process(&ProcessSettings::default());
    let all_on = order_process(&settings(serde_json::json!({
        "acceptance": {"rerouteIfSilentHours": 24},
        "backorders": {"maxDays": 7}
    })));
    // The shipment mail and the escalation timer switched off.
    let fewer = order_process(&settings(serde_json::json!({
        "customerMails": {"shipment": false},
        "escalation": {"escalateToOpsAfterMinutes": 0}
    })));
    let mut read = Vec::new();
    for (name, model) in [
        ("defaults", &defaults),
        ("all-on", &all_on),
        ("fewer", &fewer),
    ] {
        let counts = moddle_counts(model, name);
        assert_eq!(counts["flowNodes"], model.nodes.len(), "{name}: {counts}");
        assert_eq!(counts["flows"], model.flows.len(), "{name}: {counts}");
        assert_eq!(counts["shapes"], model.nodes.len(), "{name}: {counts}");
        assert_eq!(counts["edges"], model.flows.len(), "{name}: {counts}");
        read.push(counts["flowNodes"].as_u64().unwrap());
    }
    assert_eq!(read, [33, 39, 31]);
}
