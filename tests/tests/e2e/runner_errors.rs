//! The local runner fails fast, says why, and leaves no process behind.

use crate::support;

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    free_port, runner_binary, template_binaries, workspace_root, Output, Stack, TempDir,
};

struct Finished {
    status: ExitStatus,
    output: String,
    took: Duration,
}

/// Runs the runner to its end (it must end within `limit`) with `env` on top of a clean set
/// of DROPSHIP_* variables.
fn run_runner(env: &[(&str, String)], limit: Duration) -> Finished {
    let mut cmd = Command::new(runner_binary());
    cmd.current_dir(workspace_root());
    for (k, _) in std::env::vars() {
        if k.starts_with("DROPSHIP_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("DROPSHIP_API_PORT", free_port().to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn local-runner");
    let output = Output::default();
    if let Some(s) = child.stdout.take() {
        output.collect(s);
    }
    if let Some(s) = child.stderr.take() {
        output.collect(s);
    }
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(200));
            return Finished {
                status,
                output: output.text(),
                took: started.elapsed(),
            };
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "local-runner did not exit within {limit:?}; its output:\n{}",
                output.tail(60)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A bin dir whose every binary is a shell script that prints a line and exits 3.
fn crashing_bin_dir() -> TempDir {
    let dir = TempDir::new("dropship-crash-bin");
    for b in template_binaries(&workspace_root().join("template.yaml")) {
        let path = dir.path().join(&b);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{b}: cannot start\" >&2\nexit 3\n"),
        )
        .expect("write script");
        Command::new("chmod")
            .args(["+x", &path.display().to_string()])
            .status()
            .expect("chmod");
    }
    dir
}

/// Pids of processes whose command line contains every one of `needles`.
fn processes_with(needles: &[&str]) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if needles.iter().all(|n| args.iter().any(|a| a == n)) && !is_zombie(pid) {
            out.push(pid);
        }
    }
    out
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

/// Direct children of `pid` (from /proc/*/stat).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[test]
fn unknown_resource_type_is_named() {
    let dir = TempDir::new("dropship-template");
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Resources:\n  Vm:\n    Type: AWS::EC2::Instance\n    Properties: {}\n",
    )
    .expect("write template");
    let run = run_runner(
        &[("DROPSHIP_TEMPLATE", template.display().to_string())],
        Duration::from_secs(10),
    );
    assert!(!run.status.success(), "{}", run.output);
    assert!(
        run.output.contains("Vm") && run.output.contains("AWS::EC2::Instance"),
        "the error names the resource and its type:\n{}",
        run.output
    );
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
}

#[test]
fn crashing_function_is_named_with_its_status_and_output() {
    let bins = crashing_bin_dir();
    let aws_port = free_port().to_string();
    let run = run_runner(
        &[
            ("DROPSHIP_BIN_DIR", bins.path().display().to_string()),
            ("DROPSHIP_AWS_PORT", aws_port.clone()),
        ],
        Duration::from_secs(60),
    );
    assert!(!run.status.success(), "{}", run.output);
    assert!(
        run.output.contains("exit status: 3") && run.output.contains("cannot start"),
        "the error gives the exit status and the function's output:\n{}",
        run.output
    );
    assert!(
        run.output.contains("(binary "),
        "the error names the function:\n{}",
        run.output
    );
    // The emulators it had started are gone too.
    assert!(
        processes_with(&["-p", &aws_port]).is_empty(),
        "an emulator on port {aws_port} survived the runner"
    );
}

#[test]
fn api_port_in_use_is_named() {
    let bins = crashing_bin_dir();
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let run = run_runner(
        &[
            ("DROPSHIP_BIN_DIR", bins.path().display().to_string()),
            ("DROPSHIP_API_PORT", port.to_string()),
        ],
        Duration::from_secs(10),
    );
    assert!(!run.status.success(), "{}", run.output);
    assert!(
        run.output.contains(&port.to_string())
            && run.output.contains("DROPSHIP_API_PORT")
            && run.output.contains("in use"),
        "the error names the port and the setting:\n{}",
        run.output
    );
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
}

#[test]
fn missing_binaries_say_how_to_build_them() {
    let empty = TempDir::new("dropship-empty-bin");
    let run = run_runner(
        &[("DROPSHIP_BIN_DIR", empty.path().display().to_string())],
        Duration::from_secs(10),
    );
    assert!(!run.status.success());
    assert!(
        run.output.contains("cargo build --workspace --bins"),
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_leaves_no_process_behind() {
    let template = workspace_root().join("template.yaml");
    let bins = support::echo_bin_dir(&template);
    let mut stack = Stack::builder()
        .bin_dir(bins.path())
        .env("DROPSHIP_INSTANCES", "1")
        .start()
        .await;
    let runner = stack.pid();
    let children: HashSet<u32> = children_of(runner).into_iter().collect();
    let functions = template_binaries(&template).len();
    assert!(
        children.len() > functions,
        "expected {functions} functions and 2 emulators under the runner, found {children:?}"
    );
    let status = stack.stop().expect("the runner was running");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<u32> = children.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes left behind after SIGTERM: {left:?}\n{}",
            stack.output.tail(30)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn failing_seed_request_aborts_start_up_naming_it() {
    let template = workspace_root().join("template.yaml");
    let bins = support::echo_bin_dir(&template);
    let dir = TempDir::new("dropship-seed");
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"requests": [{"method": "PUT", "path": "/no/such/route", "body": {"x": 1}}]}"#,
    )
    .expect("write seed");
    let run = run_runner(
        &[
            ("DROPSHIP_BIN_DIR", bins.path().display().to_string()),
            ("DROPSHIP_SEED", seed.display().to_string()),
            ("DROPSHIP_INSTANCES", "1".to_string()),
        ],
        Duration::from_secs(60),
    );
    assert!(!run.status.success(), "{}", run.output);
    assert!(
        run.output.contains("PUT /no/such/route") && run.output.contains("404"),
        "the error names the request and the response:\n{}",
        run.output
    );
    assert!(!run.output.contains("READY"), "{}", run.output);
}
