//! Test harness: a whole local stack (`target/debug/local-runner` with its own emulators and
//! function processes) per test, on free ports, torn down on drop.
//!
//! ```ignore
//! let stack = Stack::builder().param("QueueVisibilityTimeoutSeconds", "2").start().await;
//! let (status, body) = stack.get("/health", None).await;
//! ```
//! Needs `cargo build --workspace --bins` first (the runner does not build anything).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root (where template.yaml lives), found from this crate's manifest dir.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("template.yaml").is_file() && d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("no template.yaml above {}", here.display()))
}

/// The workspace's `target` (or CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"))
}

/// `target/debug` of the workspace (or of CARGO_TARGET_DIR).
pub fn bin_dir() -> PathBuf {
    target_dir().join("debug")
}

pub fn runner_binary() -> PathBuf {
    // Set when this file is compiled into the runner's own integration tests.
    let path = option_env!("CARGO_BIN_EXE_local-runner")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin_dir().join("local-runner"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// A port nobody listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// The text of a PDF, by poppler's pdftotext (installed by `make test`).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = TempDir::new("pdf");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write the PDF to a temp file");
    let out = Command::new("pdftotext")
        .args(["-layout", &path.to_string_lossy(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) must be installed: make system-deps");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A queue's URL by its name in the stack's emulator (to send to or inspect it directly).
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .expect(name)
        .queue_url
        .expect(name)
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The function binary names the template names (Metadata.BuildProperties.Binary).
pub fn template_binaries(template: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(template).expect("read template");
    let doc: serde_norway::Value = serde_norway::from_str(&text).expect("template is YAML");
    doc.get("Resources")
        .and_then(|r| r.as_mapping())
        .map(|m| {
            m.values()
                .filter_map(|r| {
                    r.get("Metadata")?
                        .get("BuildProperties")?
                        .get("Binary")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A bin dir where every binary of `template` is the runner's echo example function
/// (`infra/runner/examples/echo_function.rs`): for testing the runner without the real ones.
pub fn echo_bin_dir(template: &Path) -> TempDir {
    let echo = bin_dir().join("examples").join("echo_function");
    assert!(
        echo.is_file(),
        "{} is missing: run `cargo build -p local-runner --examples`",
        echo.display()
    );
    let dir = TempDir::new("dropship-echo-bin");
    for b in template_binaries(template) {
        std::os::unix::fs::symlink(&echo, dir.path().join(b)).expect("symlink echo function");
    }
    dir
}

/// Everything the runner printed so far (stdout and stderr interleaved).
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<String>>);

impl Output {
    pub fn text(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The last `n` lines, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn push(&self, line: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.push_str(line);
            s.push('\n');
        }
    }

    /// Collects a stream line by line on a thread of its own.
    pub fn collect(&self, stream: impl Read + Send + 'static) {
        let out = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                match line {
                    Ok(l) => out.push(&l),
                    Err(_) => break,
                }
            }
        });
    }
}

pub struct StackBuilder {
    params: Vec<(String, String)>,
    env: Vec<(String, String)>,
    template: Option<PathBuf>,
    bin_dir: Option<PathBuf>,
    seed: Option<PathBuf>,
    runner: Option<PathBuf>,
}

impl StackBuilder {
    /// Another runner binary than the debug one (the benchmarks run the release runner).
    pub fn runner(mut self, path: impl Into<PathBuf>) -> Self {
        self.runner = Some(path.into());
        self
    }

    /// A template parameter (DROPSHIP_PARAM_<name>).
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Any other environment variable for the runner (e.g. DROPSHIP_INSTANCES).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Another template than the project's. Only the runner's own tests
    /// (infra/runner/tests/echo_stack.rs, which compiles this file too) run other templates.
    #[allow(dead_code)]
    pub fn template(mut self, path: impl Into<PathBuf>) -> Self {
        self.template = Some(path.into());
        self
    }

    pub fn bin_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.bin_dir = Some(path.into());
        self
    }

    /// Seed data for the runner to load (DROPSHIP_SEED). Only the runner's own tests use it: the
    /// end-to-end tests configure their world through the API (`setup`).
    #[allow(dead_code)]
    pub fn seed(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed = Some(path.into());
        self
    }

    pub async fn start(self) -> Stack {
        let api_port = free_port();
        let aws_port = free_port();
        let ses_port = free_port();
        let admin_token = format!("test-admin-{}", uuid::Uuid::new_v4().simple());
        let mut cmd = Command::new(self.runner.unwrap_or_else(runner_binary));
        cmd.current_dir(workspace_root());
        // Start from a clean slate of runner settings: only what this builder says.
        for (k, _) in std::env::vars() {
            if k.starts_with("DROPSHIP_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("DROPSHIP_API_PORT", api_port.to_string())
            .env("DROPSHIP_AWS_PORT", aws_port.to_string())
            .env("DROPSHIP_SES_PORT", ses_port.to_string())
            .env("DROPSHIP_ADMIN_TOKEN", &admin_token)
            .env("DROPSHIP_BIN_DIR", self.bin_dir.unwrap_or_else(bin_dir));
        if let Some(t) = &self.template {
            cmd.env("DROPSHIP_TEMPLATE", t);
        }
        if let Some(s) = &self.seed {
            cmd.env("DROPSHIP_SEED", s);
        }
        for (k, v) in &self.params {
            cmd.env(format!("DROPSHIP_PARAM_{k}"), v);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn local-runner");
        let output = Output::default();
        if let Some(s) = child.stdout.take() {
            output.collect(s);
        }
        if let Some(s) = child.stderr.take() {
            output.collect(s);
        }
        let api = format!("http://127.0.0.1:{api_port}");
        let started = Instant::now();
        loop {
            if output.text().lines().any(|l| l.starts_with("READY ")) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Let the reader threads drain what is left.
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "local-runner exited with {status} before READY (if a binary is missing, run \
                     `cargo build --workspace --bins`); its output:\n{}",
                    output.tail(80)
                );
            }
            if started.elapsed() > READY_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "local-runner was not READY within {}s; its output:\n{}",
                    READY_TIMEOUT.as_secs(),
                    output.tail(80)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Stack {
            api,
            aws_endpoint: format!("http://127.0.0.1:{aws_port}"),
            ses_endpoint: format!("http://127.0.0.1:{ses_port}"),
            admin_token,
            output,
            child: Some(child),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client"),
        }
    }
}

pub struct Stack {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub api: String,
    /// The main emulator (DynamoDB, SQS, S3, SNS).
    pub aws_endpoint: String,
    /// The SES emulator (what functions reach through AWS_ENDPOINT_URL_SESV2).
    pub ses_endpoint: String,
    pub admin_token: String,
    pub output: Output,
    child: Option<Child>,
    http: reqwest::Client,
}

impl Stack {
    pub fn builder() -> StackBuilder {
        StackBuilder {
            params: Vec::new(),
            env: Vec::new(),
            template: None,
            bin_dir: None,
            seed: None,
            runner: None,
        }
    }

    /// The default stack: the project's template and the real function binaries.
    pub async fn start() -> Stack {
        Stack::builder().start().await
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Any request; the body is JSON (or a JSON string of a non-JSON answer, or null if empty).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}\nrunner output:\n{}", self.output.tail(40)));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.request("GET", path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, json: &Value) -> (u16, Value) {
        self.request("POST", path, token, Some(json), &[]).await
    }

    /// POST with an Idempotency-Key (required on POST /orders).
    pub async fn post_idempotent(
        &self,
        path: &str,
        token: Option<&str>,
        key: &str,
        json: &Value,
    ) -> (u16, Value) {
        self.request("POST", path, token, Some(json), &[("Idempotency-Key", key)])
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, json: &Value) -> (u16, Value) {
        self.request("PUT", path, token, Some(json), &[]).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.request("DELETE", path, token, None, &[]).await
    }

    /// Every mail sent so far, oldest first (GET /_local/outbox).
    pub async fn outbox(&self) -> Vec<Value> {
        let (status, body) = self.get("/_local/outbox", None).await;
        assert_eq!(status, 200, "outbox: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Per-function statistics by binary name (GET /_local/stats).
    pub async fn stats(&self) -> Value {
        let (status, body) = self.get("/_local/stats", None).await;
        assert_eq!(status, 200, "stats: {body}");
        body["functions"].clone()
    }

    /// Runs a scheduled function now (POST /_local/schedules/{function}); returns the status.
    pub async fn run_schedule(&self, function: &str) -> u16 {
        self.request(
            "POST",
            &format!("/_local/schedules/{function}"),
            None,
            None,
            &[],
        )
        .await
        .0
    }

    /// Polls `check` until it returns Some, or panics after `timeout` naming `what`.
    pub async fn eventually<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if started.elapsed() > timeout {
                panic!(
                    "{what}: not within {timeout:?}; runner output:\n{}",
                    self.output.tail(
                        std::env::var("E2E_TAIL")
                            .ok()
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(60)
                    )
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SDK configuration for the stack's emulator (to inspect queues, tables, buckets).
    pub async fn aws_sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-central-1"))
            .endpoint_url(&self.aws_endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }

    /// SIGTERM, then wait (up to 20 s, then SIGKILL). Returns the runner's exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // The runner kills its children on SIGTERM; they also die with it if it is killed.
        self.stop();
    }
}
