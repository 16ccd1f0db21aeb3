//! The moto emulator processes: one for DynamoDB/SQS/S3/SNS/CloudWatch, one for SES alone
//! (so reading its `/moto-api/data.json` for the outbox stays fast).

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use tokio::process::Command;

use crate::process::{self, ManagedChild, Registry};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Emulator {
    pub label: &'static str,
    pub endpoint: String,
    pub child: ManagedChild,
}

/// A port that was free a moment ago (the emulator binds it itself).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free local port")?;
    Ok(l.local_addr().context("cannot read the free port")?.port())
}

pub async fn start(
    venv: &Path,
    label: &'static str,
    port: u16,
    forward_log: bool,
    registry: &Arc<Registry>,
) -> Result<Emulator> {
    let exe = venv.join("bin").join("moto_server");
    if !exe.is_file() {
        bail!(
            "the emulator is not installed: {} does not exist (DROPSHIP_VENV={}); run `make venv` \
             (or `make up`) to create the project's Python venv with moto",
            exe.display(),
            venv.display()
        );
    }
    // The project's launcher starts the same pinned moto with its transaction repair (see
    // infra/moto_launcher.py); without it (another checkout layout) plain moto_server runs.
    let launcher = Path::new("infra/moto_launcher.py");
    let mut cmd = if launcher.is_file() {
        let mut c = Command::new(venv.join("bin").join("python"));
        c.arg(launcher);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        // The emulator needs no AWS settings of the runner's own environment.
        .env_remove("AWS_ENDPOINT_URL")
        .env("PYTHONUNBUFFERED", "1");
    let mut child = process::spawn(cmd, label, forward_log, registry)
        .with_context(|| format!("cannot start the emulator {}", exe.display()))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .context("cannot build an HTTP client")?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait() {
            bail!(
                "the emulator ({label}, moto_server on port {port}) exited during start-up with \
                 {status}; its output:\n{}",
                child.tail.render(20)
            );
        }
        // Any HTTP answer means the server is up.
        if client
            .get(format!("{endpoint}/moto-api/data.json"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        if started.elapsed() > READY_TIMEOUT {
            child.kill().await;
            bail!(
                "the emulator ({label}, moto_server on port {port}) did not answer within {}s; \
                 its output:\n{}",
                READY_TIMEOUT.as_secs(),
                child.tail.render(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::info!(emulator = label, %endpoint, "emulator ready");
    Ok(Emulator {
        label,
        endpoint,
        child,
    })
}
