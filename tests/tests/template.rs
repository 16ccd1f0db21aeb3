//! template.yaml passes cfn-lint with no error or warning AND transforms cleanly with
//! aws-sam-translator offline, whose output passes cfn-lint too (cfn-lint alone misses SAM errors).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validate(template: Option<&PathBuf>) -> (bool, String) {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the project virtualenv is missing: run `make venv` (make test does)"
    );
    let mut cmd = Command::new(python);
    cmd.arg(root().join("infra/validate_template.py"))
        .current_dir(root());
    if let Some(t) = template {
        cmd.arg(t);
    }
    let out = cmd.output().expect("running infra/validate_template.py");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn template_is_valid_sam_and_cloudformation() {
    let (ok, text) = validate(None);
    assert!(ok, "template validation failed:\n{text}");
    assert!(text.contains("template valid"), "{text}");
    assert!(
        text.contains("cfn-lint transformed template"),
        "the transformed template was not linted:\n{text}"
    );
}

#[test]
fn a_broken_template_is_caught() {
    let broken = std::env::temp_dir().join(format!("broken-template-{}.yaml", std::process::id()));
    let text =
        std::fs::read_to_string(root().join("template.yaml")).expect("reading template.yaml");
    // A mistake only the transformed template shows: an SQS event on a queue that does not exist.
    let text = text.replacen(
        "Queue: !GetAtt RouteQueue.Arn",
        "Queue: !GetAtt NoSuchQueue.Arn",
        1,
    );
    std::fs::write(&broken, text).expect("writing the broken template");
    let (ok, text) = validate(Some(&broken));
    let _ = std::fs::remove_file(&broken);
    assert!(
        !ok,
        "a template referencing a missing queue passed validation:\n{text}"
    );
}
