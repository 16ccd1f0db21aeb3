//! Running a browser test script (`tests/portal/*.mjs`: Debian's Chromium driven by
//! playwright-core, installed by `make system-deps`) against the stack, as the portal's and the
//! console's tests do.

use crate::support::{workspace_root, Stack};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Whether the browser and its driver are installed; panics with how to get them otherwise.
pub fn assert_installed() {
    assert!(
        workspace_root()
            .join("tests/portal/node_modules/playwright-core")
            .is_dir(),
        "playwright-core is missing: run `make system-deps` (make test does)"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is missing: run `make system-deps` (make test does)"
    );
}

/// Runs `tests/portal/<script>` with `config` (JSON) in the environment variable `env`, at most
/// 300 s; its `RESULT {...}` line. A failed run panics with the script's output and the
/// runner's last lines.
pub async fn run(stack: &Stack, script: &str, env: &str, config: &Value) -> Value {
    let root = workspace_root();
    let started = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg(root.join("tests/portal").join(script))
        .current_dir(&root)
        .env(env, config.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .unwrap_or_else(|_| panic!("the browser run took over 300 s"))
        .unwrap_or_else(|e| panic!("running node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser run failed:\n{stdout}\n{stderr}\nrunner:\n{}",
        stack.output.tail(80)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}\n{stderr}"));
    eprintln!(
        "browser run: {:.1} s, {} steps: {}",
        started.elapsed().as_secs_f64(),
        result["steps"].as_array().map(Vec::len).unwrap_or(0),
        result["steps"]
    );
    result
}
