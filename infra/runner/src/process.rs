//! Child processes that can never outlive the runner: each dies with it (PR_SET_PDEATHSIG),
//! sits in its own process group (so a terminal's Ctrl-C reaches only the runner, which then
//! stops everything in order), and is tracked until reaped so that shutdown can sweep up.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// Every live child's pid, for the last-resort sweep at exit.
#[derive(Default)]
pub struct Registry {
    pids: Mutex<HashSet<u32>>,
}

impl Registry {
    /// SIGKILLs every child not yet reaped. Pids leave the set only once reaped, so none of
    /// these can have been reused by an unrelated process.
    pub fn kill_all(&self) {
        let pids: Vec<u32> = self.lock().iter().copied().collect();
        for pid in pids {
            // SAFETY: kill(2) has no memory-safety preconditions.
            #[allow(
                unsafe_code,
                reason = "libc::kill has no safe std equivalent for a bare pid"
            )]
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }

    pub fn live(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        // A poisoned set of pids is still the right set of pids.
        self.pids.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The last lines a process printed (stdout and stderr interleaved), for error messages.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    const KEEP: usize = 40;

    fn push(&self, line: String) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() == Self::KEEP {
            q.pop_front();
        }
        q.push_back(line);
    }

    pub fn render(&self, lines: usize) -> String {
        let q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let skip = q.len().saturating_sub(lines);
        let text: Vec<&str> = q.iter().skip(skip).map(String::as_str).collect();
        if text.is_empty() {
            "(no output)".to_string()
        } else {
            text.join("\n")
        }
    }
}

pub struct ManagedChild {
    child: Child,
    pid: u32,
    registry: Arc<Registry>,
    reaped: bool,
    pub tail: Tail,
}

impl ManagedChild {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Cancel-safe: can sit in a `select!` and be awaited again.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.mark_reaped();
        Ok(status)
    }

    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.mark_reaped();
                Some(status)
            }
            _ => None,
        }
    }

    /// SIGKILL and reap.
    pub async fn kill(&mut self) {
        if self.reaped {
            return;
        }
        let _ = self.child.start_kill();
        let _ = self.wait().await;
    }

    fn mark_reaped(&mut self) {
        if !self.reaped {
            self.reaped = true;
            self.registry.lock().remove(&self.pid);
        }
    }
}

impl Drop for ManagedChild {
    fn drop(&mut self) {
        // tokio's kill_on_drop SIGKILLs the process and reaps it in the background, so the
        // sweep at exit has nothing left to do for it.
        self.registry.lock().remove(&self.pid);
    }
}

/// Spawns `cmd` with piped output. Each line goes to the runner's stderr as `[label] line`
/// when `forward` is set, and always into the child's `tail`.
pub fn spawn(
    mut cmd: Command,
    label: &str,
    forward: bool,
    registry: &Arc<Registry>,
) -> Result<ManagedChild> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    // SAFETY: the closure runs between fork and exec and only calls async-signal-safe
    // functions (prctl, getppid).
    let parent = std::process::id() as libc::pid_t;
    #[allow(
        unsafe_code,
        reason = "pre_exec is unsafe by contract; see SAFETY above"
    )]
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // The runner may have died between fork and prctl; then nobody would kill us.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("the runner exited during spawn"));
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {label}"))?;
    let pid = child.id().unwrap_or_default();
    registry.lock().insert(pid);
    let tail = Tail::default();
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, label.to_string(), forward, tail.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, label.to_string(), forward, tail.clone()));
    }
    Ok(ManagedChild {
        child,
        pid,
        registry: registry.clone(),
        reaped: false,
        tail,
    })
}

async fn pump(stream: impl AsyncRead + Unpin, label: String, forward: bool, tail: Tail) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                if forward {
                    // Ignore write errors: a closed stderr must not take the runner down.
                    let _ = writeln!(std::io::stderr().lock(), "[{label}] {line}");
                }
                // Embedded Metric Format lines become metric data, as CloudWatch Logs does.
                crate::metrics::observe(&line);
                tail.push(line);
            }
        }
    }
}

/// Writes a line to stdout (READY, the banner) without panicking on a closed pipe.
pub fn stdout_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Waits until a flag (shutdown, dead, ...) is raised; also returns if its sender is gone.
pub async fn raised(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|v| *v).await;
}
