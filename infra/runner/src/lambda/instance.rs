//! One instance of a function: the slot it lives in, its process and the state the Runtime
//! API shares with it, and the supervisor that starts it, waits for its first request for
//! work, and replaces it when it exits, times out or is killed by a fault. Separate from the
//! pool because this is the only part that deals with processes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use axum::body::Bytes;
use tokio::process::Command;
use tokio::sync::{oneshot, watch, Notify};

use super::meter::Meter;
use super::pool::FunctionPool;
use super::runtime_api::serve_runtime_api;
use super::{InFlight, InvokeError};
use crate::process;

/// A function that has not asked for its first event by then is broken, not slow.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// One warm-instance place of a pool. Its process comes and goes; its AWS proxy port stays,
/// so presigned URLs an instance handed out keep working after it was replaced.
pub struct Slot {
    pub index: usize,
    /// The proxy the slot's processes get as AWS_ENDPOINT_URL*; None = the emulators directly.
    pub aws_endpoint: Option<String>,
    proc: Mutex<Option<Arc<Proc>>>,
}

impl Slot {
    pub(super) fn new(index: usize, aws_endpoint: Option<String>) -> Slot {
        Slot {
            index,
            aws_endpoint,
            proc: Mutex::new(None),
        }
    }

    fn current_proc(&self) -> Option<Arc<Proc>> {
        self.proc.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The meter of the invocation in flight, if any (calls outside one belong to the init).
    pub fn current(&self) -> Option<Arc<Meter>> {
        let proc = self.current_proc()?;
        let cur = proc.current.lock().unwrap_or_else(|p| p.into_inner());
        cur.as_ref().map(|f| f.meter.clone())
    }

    /// Kills the slot's process now (a fault); false if there is none.
    pub fn kill(&self, reason: &str) -> bool {
        match self.current_proc() {
            Some(p) => {
                p.kill_for(reason);
                true
            }
            None => false,
        }
    }
}

/// One process of the function and its Runtime API state.
pub(super) struct Proc {
    pub(super) pool: Arc<FunctionPool>,
    pub(super) current: Mutex<Option<InFlight>>,
    pub(super) asked: watch::Sender<bool>,
    pub(super) dead: watch::Sender<bool>,
    pub(super) kill: Notify,
    /// Why `kill` was raised by a fault (None: the invocation timed out).
    kill_reason: Mutex<Option<String>>,
    /// A kill is on its way: the process takes no further invocation (one handed to it now
    /// would fail without having run, which Lambda never does to a queued event).
    pub(super) doomed: std::sync::atomic::AtomicBool,
    pub(super) init_error: Mutex<Option<String>>,
}

impl Proc {
    fn kill_for(&self, reason: &str) {
        *self.kill_reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
        self.kill_now();
    }

    /// Kills the process: it takes no further invocation from now on.
    pub(super) fn kill_now(&self) {
        self.doomed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// The meter of the in-flight invocation `request_id`.
    fn meter_of(&self, request_id: &str) -> Option<Arc<Meter>> {
        let cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        cur.as_ref()
            .filter(|f| f.request_id == request_id)
            .map(|f| f.meter.clone())
    }

    /// A kill fault due at the reply: fails the invocation and kills the process; true if so.
    pub(super) fn kill_at_reply(&self, request_id: &str) -> bool {
        let Some(meter) = self.meter_of(request_id) else {
            return false;
        };
        if !meter.due_at_reply() {
            return false;
        }
        self.finish(
            Some(request_id),
            Err(InvokeError::Died(
                "killed by fault injection before its reply".into(),
            )),
        );
        self.pool.instrument.faults.killed(&self.pool.spec.binary);
        self.kill_for("killed by fault injection before its reply");
        true
    }

    /// Takes the in-flight invocation (only if it is `request_id`, when given).
    fn take_current(&self, request_id: Option<&str>) -> Option<InFlight> {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        match (&*cur, request_id) {
            (Some(f), Some(id)) if f.request_id != id => None,
            _ => cur.take(),
        }
    }

    pub(super) fn finish(
        &self,
        request_id: Option<&str>,
        result: Result<Bytes, InvokeError>,
    ) -> bool {
        let Some(f) = self.take_current(request_id) else {
            return false;
        };
        let ok = result.is_ok();
        if let Err(e) = &result {
            tracing::warn!(function = %self.pool.spec.binary, request_id = %f.request_id, "invocation failed: {e}");
        }
        self.pool.record(f.started.elapsed(), ok, &f.meter);
        let _ = f.reply.send(result);
        true
    }
}

enum Outcome {
    Shutdown,
    StartFailed(anyhow::Error),
    Exited,
    /// Killed by a fault: replaced at once, without the back-off for failing binaries.
    Killed,
}

pub(super) async fn supervise(
    pool: Arc<FunctionPool>,
    slot: Arc<Slot>,
    ready: oneshot::Sender<Result<()>>,
) {
    let mut ready = Some(ready);
    let mut quick_failures = 0u32;
    loop {
        if *pool.shutdown.borrow() {
            return;
        }
        let started = Instant::now();
        match run_instance(&pool, &slot, &mut ready).await {
            Outcome::Shutdown => return,
            Outcome::Killed => {
                quick_failures = 0;
                continue;
            }
            Outcome::StartFailed(e) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(Err(e));
                    return;
                }
                tracing::error!("{e:#}");
            }
            Outcome::Exited => {}
        }
        // Back off when a process keeps dying young, so a broken binary cannot spin the CPU.
        if started.elapsed() > Duration::from_secs(10) {
            quick_failures = 0;
        } else {
            quick_failures = (quick_failures + 1).min(6);
        }
        let delay = Duration::from_millis(100 * (1 << quick_failures));
        let mut shutdown = pool.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = crate::process::raised(&mut shutdown) => return,
        }
    }
}

async fn run_instance(
    pool: &Arc<FunctionPool>,
    slot_ref: &Arc<Slot>,
    ready: &mut Option<oneshot::Sender<Result<()>>>,
) -> Outcome {
    let spec = &pool.spec;
    let slot = slot_ref.index;
    let proc = Arc::new(Proc {
        pool: pool.clone(),
        current: Mutex::new(None),
        asked: watch::channel(false).0,
        dead: watch::channel(false).0,
        kill: Notify::new(),
        kill_reason: Mutex::new(None),
        doomed: std::sync::atomic::AtomicBool::new(false),
        init_error: Mutex::new(None),
    });
    *slot_ref.proc.lock().unwrap_or_else(|p| p.into_inner()) = Some(proc.clone());
    let addr = match serve_runtime_api(proc.clone()).await {
        Ok(a) => a,
        Err(e) => return Outcome::StartFailed(e),
    };

    let mut cmd = Command::new(&spec.path);
    cmd.env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name())
        .current_dir(&spec.cwd);
    // Through the slot's proxy (it forwards SES calls to the SES emulator, the rest to the main one).
    if let Some(endpoint) = &slot_ref.aws_endpoint {
        for var in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_SES",
            "AWS_ENDPOINT_URL_SESV2",
        ] {
            cmd.env(var, endpoint);
        }
    }
    let spawned_at = Instant::now();
    let mut child = match process::spawn(cmd, &spec.binary, true, &pool.registry) {
        Ok(c) => c,
        Err(e) => {
            proc.dead.send_replace(true);
            return Outcome::StartFailed(e.context(format!(
                "function {} (binary {})",
                spec.id,
                spec.path.display()
            )));
        }
    };
    tracing::debug!(function = %spec.binary, slot, pid = child.pid(), runtime_api = %addr, "instance started");

    let mut asked = proc.asked.subscribe();
    let mut shutdown = pool.shutdown.clone();
    let failure = tokio::select! {
        _ = crate::process::raised(&mut asked) => None,
        status = child.wait() => Some(match status {
            Ok(s) => format!("exited with {s}"),
            Err(e) => format!("could not be waited for ({e})"),
        }),
        _ = tokio::time::sleep(START_TIMEOUT) => {
            Some(format!("did not ask for an invocation within {}s", START_TIMEOUT.as_secs()))
        }
        _ = crate::process::raised(&mut shutdown) => {
            child.kill().await;
            proc.dead.send_replace(true);
            return Outcome::Shutdown;
        }
    };
    if let Some(what) = failure {
        child.kill().await;
        proc.dead.send_replace(true);
        let init = proc
            .init_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|e| format!(" after reporting an init error ({e})"))
            .unwrap_or_default();
        return Outcome::StartFailed(anyhow!(
            "function {} (binary {}) {what}{init} before asking for its first invocation \
             through the Lambda Runtime API; its last output:\n{}",
            spec.id,
            spec.binary,
            child.tail.render(15)
        ));
    }
    pool.record_cold_start(spawned_at.elapsed());
    if let Some(r) = ready.take() {
        let _ = r.send(Ok(()));
    }

    let outcome = tokio::select! {
        status = child.wait() => {
            let why = match status {
                Ok(s) => s.to_string(),
                Err(e) => e.to_string(),
            };
            proc.finish(None, Err(InvokeError::Died(why.clone())));
            tracing::warn!(function = %spec.binary, slot, "instance {why}; starting a new one");
            Outcome::Exited
        }
        _ = proc.kill.notified() => {
            child.kill().await;
            let reason = proc.kill_reason.lock().unwrap_or_else(|p| p.into_inner()).take();
            match reason {
                Some(why) => {
                    tracing::info!(function = %spec.binary, slot, "instance {why}; starting a new one");
                    proc.finish(None, Err(InvokeError::Died(why)));
                    Outcome::Killed
                }
                None => {
                    tracing::warn!(function = %spec.binary, slot, "instance killed after a timeout; starting a new one");
                    Outcome::Exited
                }
            }
        }
        _ = crate::process::raised(&mut shutdown) => {
            child.kill().await;
            proc.finish(None, Err(InvokeError::ShuttingDown));
            Outcome::Shutdown
        }
    };
    // Stops this process's Runtime API (and any `next` still parked in the queue).
    proc.dead.send_replace(true);
    proc.finish(
        None,
        Err(InvokeError::Died("the instance was replaced".into())),
    );
    outcome
}

fn log_stream_name() -> String {
    format!(
        "{}/[$LATEST]{}",
        chrono::Utc::now().format("%Y/%m/%d"),
        uuid::Uuid::new_v4().simple()
    )
}
