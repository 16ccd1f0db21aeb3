//! The launcher's DynamoDB Streams repairs (infra/moto_launcher.py), checked by their Python
//! test against a launched moto server: every committed change recorded once, in commit order,
//! none for a cancelled or rolled-back transaction. Needs the venv (`make venv`).
#![allow(
    clippy::expect_used,
    reason = "test code: a failed expect is a failed test"
)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn moto_streams_record_every_committed_change_once() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("DROPSHIP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"));
    let out = Command::new(venv.join("bin/python"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("infra/tests/test_moto_streams.py"))
        .current_dir(&root)
        .output()
        .expect("run the venv's python (make venv)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("5 passed"), "{text}");
}
