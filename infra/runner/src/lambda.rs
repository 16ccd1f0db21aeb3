//! Lambda's execution model for one function: warm instances (processes of the function's
//! binary), each served its own Lambda Runtime API endpoint; invocations go to whichever
//! instance asks for work first. Timeouts and crashes fail the invocation and replace the
//! instance, as Lambda does.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::aws_proxy::{self, SlotProxy};
use crate::instrument::{round3, Instrument};
use crate::process::{self, Registry};

/// A function that has not asked for its first event by then is broken, not slow.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Lambda's limit for a synchronous response payload.
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
const KEEP_DURATIONS: usize = 10_000;

/// Everything needed to start an instance of a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub id: String,
    pub binary: String,
    pub path: PathBuf,
    pub cwd: PathBuf,
    pub arn: String,
    pub timeout: Duration,
    /// The complete environment except the per-instance AWS_LAMBDA_RUNTIME_API and
    /// AWS_LAMBDA_LOG_STREAM_NAME.
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("{error_type}: {message}")]
    Function { error_type: String, message: String },
    #[error("Task timed out after {:.2} seconds", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("the instance exited during the invocation ({0})")]
    Died(String),
    #[error("no result within {0:?}")]
    NoResult(Duration),
    #[error("the runner is shutting down")]
    ShuttingDown,
}

type Reply = oneshot::Sender<Result<Bytes, InvokeError>>;

struct Invocation {
    request_id: String,
    payload: Bytes,
    reply: Reply,
}

struct InFlight {
    request_id: String,
    reply: Reply,
    started: Instant,
    meter: Arc<Meter>,
}

/// The AWS side of one invocation, filled in by the slot's proxy: how long at least one AWS
/// call was in flight, calls made, and where a kill fault (if one was drawn) strikes.
pub struct Meter {
    aws: Mutex<AwsClock>,
    calls: AtomicU32,
    /// Points passed so far: before call 1, after call 1, before call 2, ...
    points: AtomicU32,
    kill_at: Option<u32>,
    killed: AtomicBool,
}

impl Meter {
    fn new(kill_at: Option<u32>) -> Meter {
        Meter {
            aws: Mutex::new(AwsClock::default()),
            calls: AtomicU32::new(0),
            points: AtomicU32::new(0),
            kill_at,
            killed: AtomicBool::new(false),
        }
    }

    /// Passes one point of the invocation; true if the kill fault strikes here.
    pub fn step(&self) -> bool {
        let i = self.points.fetch_add(1, Ordering::SeqCst);
        self.kill_at == Some(i) && !self.killed.swap(true, Ordering::SeqCst)
    }

    /// At the reply: a kill drawn for a point the invocation never reached strikes now.
    fn due_at_reply(&self) -> bool {
        self.kill_at.is_some() && !self.killed.swap(true, Ordering::SeqCst)
    }

    /// A call went out to the emulator.
    pub fn call_started(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut c = self.aws.lock().unwrap_or_else(|p| p.into_inner());
        if c.in_flight == 0 {
            c.since = Some(Instant::now());
        }
        c.in_flight += 1;
    }

    /// Its answer is back.
    pub fn call_finished(&self) {
        let mut c = self.aws.lock().unwrap_or_else(|p| p.into_inner());
        c.in_flight = c.in_flight.saturating_sub(1);
        if c.in_flight == 0 {
            if let Some(since) = c.since.take() {
                c.busy += since.elapsed();
            }
        }
    }

    /// A call answered without the emulator (an injected error): counted, no time.
    pub fn add_call_without_time(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn aws_time(&self) -> Duration {
        let c = self.aws.lock().unwrap_or_else(|p| p.into_inner());
        c.busy + c.since.map(|s| s.elapsed()).unwrap_or_default()
    }
}

/// Wall time with at least one AWS call in flight: concurrent calls count once, so that an
/// invocation's own time is its duration minus this.
#[derive(Default)]
struct AwsClock {
    in_flight: u32,
    since: Option<Instant>,
    busy: Duration,
}

/// One warm-instance place of a pool. Its process comes and goes; its AWS proxy port stays,
/// so presigned URLs an instance handed out keep working after it was replaced.
pub struct Slot {
    pub index: usize,
    /// The proxy the slot's processes get as AWS_ENDPOINT_URL*; None = the emulators directly.
    pub aws_endpoint: Option<String>,
    proc: Mutex<Option<Arc<Proc>>>,
}

impl Slot {
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

/// One invocation's figures, kept while the call log records.
#[derive(Clone, Copy)]
struct Sample {
    ms: f64,
    aws_ms: f64,
    calls: u32,
}

#[derive(Default)]
struct Stats {
    cold_starts_ms: Vec<u64>,
    invocations: u64,
    errors: u64,
    durations_ms: VecDeque<f64>,
    samples: VecDeque<Sample>,
    /// Moving average of AWS calls per invocation: where a kill fault's points lie.
    calls_avg: f64,
}

pub struct StatsSnapshot {
    pub cold_start_ms: Option<u64>,
    pub cold_starts: usize,
    pub invocations: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl StatsSnapshot {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "coldStartMs": self.cold_start_ms,
            "coldStarts": self.cold_starts,
            "invocations": self.invocations,
            "p50Ms": self.p50_ms,
            "p99Ms": self.p99_ms,
            "errors": self.errors,
        })
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub struct FunctionPool {
    pub spec: FunctionSpec,
    pub instrument: Arc<Instrument>,
    pub slots: Vec<Arc<Slot>>,
    tx: mpsc::UnboundedSender<Invocation>,
    /// Idle instances wait here in line (the mutex is fair), so work goes to whichever
    /// instance has been idle longest.
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    stats: Mutex<Stats>,
    shutdown: watch::Receiver<bool>,
    registry: Arc<Registry>,
}

impl FunctionPool {
    /// Starts `instances` processes and returns once each has asked for its first event.
    pub async fn start(
        spec: FunctionSpec,
        instances: usize,
        instrument: Arc<Instrument>,
        shutdown: watch::Receiver<bool>,
        registry: Arc<Registry>,
    ) -> Result<Arc<FunctionPool>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut slots = Vec::new();
        let mut listeners = Vec::new();
        for index in 0..instances {
            let (listener, endpoint) = if instrument.proxy {
                let (l, e) = aws_proxy::bind().await?;
                (Some(l), Some(e))
            } else {
                (None, None)
            };
            let slot = Arc::new(Slot {
                index,
                aws_endpoint: endpoint,
                proc: Mutex::new(None),
            });
            if let Some(l) = listener {
                listeners.push((l, slot.clone()));
            }
            slots.push(slot);
        }
        for (listener, slot) in listeners {
            aws_proxy::spawn(
                listener,
                SlotProxy {
                    function: spec.binary.clone(),
                    slot,
                    instrument: instrument.clone(),
                },
            );
        }
        let pool = Arc::new(FunctionPool {
            spec,
            instrument,
            slots,
            tx,
            rx: tokio::sync::Mutex::new(rx),
            stats: Mutex::new(Stats::default()),
            shutdown,
            registry,
        });
        let mut readies = Vec::new();
        for slot in pool.slots.clone() {
            let (ready_tx, ready_rx) = oneshot::channel();
            tokio::spawn(supervise(pool.clone(), slot, ready_tx));
            readies.push(ready_rx);
        }
        for ready in readies {
            match ready.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(anyhow!("the runner is shutting down")),
            }
        }
        Ok(pool)
    }

    /// Invokes synchronously. `max_wait` bounds queueing plus execution (the function's own
    /// Timeout is enforced separately and kills the instance).
    pub async fn invoke(&self, payload: Bytes, max_wait: Duration) -> Result<Bytes, InvokeError> {
        let (reply, result) = oneshot::channel();
        self.tx
            .send(Invocation {
                request_id: uuid::Uuid::new_v4().to_string(),
                payload,
                reply,
            })
            .map_err(|_| InvokeError::ShuttingDown)?;
        match tokio::time::timeout(max_wait, result).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(InvokeError::ShuttingDown),
            Err(_) => Err(InvokeError::NoResult(max_wait)),
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        let s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let mut d: Vec<f64> = s.durations_ms.iter().copied().collect();
        d.sort_by(f64::total_cmp);
        StatsSnapshot {
            cold_start_ms: s.cold_starts_ms.iter().copied().max(),
            cold_starts: s.cold_starts_ms.len(),
            invocations: s.invocations,
            errors: s.errors,
            p50_ms: percentile(&d, 50.0),
            p99_ms: percentile(&d, 99.0),
        }
    }

    fn record(&self, duration: Duration, ok: bool, meter: &Meter) {
        let ms = duration.as_secs_f64() * 1000.0;
        let calls = meter.calls.load(Ordering::Relaxed);
        let aws_ms = meter.aws_time().as_secs_f64() * 1000.0;
        let recording = self.instrument.calls.recording();
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        s.invocations += 1;
        if !ok {
            s.errors += 1;
        }
        if s.durations_ms.len() == KEEP_DURATIONS {
            s.durations_ms.pop_front();
        }
        s.durations_ms.push_back(ms);
        s.calls_avg = if s.invocations == 1 {
            f64::from(calls)
        } else {
            0.8 * s.calls_avg + 0.2 * f64::from(calls)
        };
        if recording {
            if s.samples.len() == KEEP_DURATIONS {
                s.samples.pop_front();
            }
            s.samples.push_back(Sample { ms, aws_ms, calls });
        }
    }

    fn expected_calls(&self) -> f64 {
        self.stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .calls_avg
    }

    /// Forgets the recorded invocations (with `DELETE /_local/calls`).
    pub fn reset_samples(&self) {
        self.stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .samples
            .clear();
    }

    /// The recorded invocations: total time, time in AWS calls, and ours (the difference),
    /// as p50/p99, plus our share of all the time (sum of ours / sum of totals).
    pub fn invocations_json(&self, with_samples: bool) -> serde_json::Value {
        let s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let pct = |mut v: Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            percentile(&v, p).map(round3)
        };
        let total: Vec<f64> = s.samples.iter().map(|x| x.ms).collect();
        let aws: Vec<f64> = s.samples.iter().map(|x| x.aws_ms).collect();
        let ours: Vec<f64> = s
            .samples
            .iter()
            .map(|x| (x.ms - x.aws_ms).max(0.0))
            .collect();
        let sum_total: f64 = total.iter().sum();
        let sum_ours: f64 = ours.iter().sum();
        let calls: u64 = s.samples.iter().map(|x| u64::from(x.calls)).sum();
        let mut v = json!({
            "count": s.samples.len(),
            "awsCalls": calls,
            "p50Ms": pct(total.clone(), 50.0),
            "p99Ms": pct(total, 99.0),
            "awsP50Ms": pct(aws.clone(), 50.0),
            "awsP99Ms": pct(aws, 99.0),
            "oursP50Ms": pct(ours.clone(), 50.0),
            "oursP99Ms": pct(ours, 99.0),
            "ourShare": (sum_total > 0.0).then(|| round3(sum_ours / sum_total)),
        });
        if with_samples {
            v["samples"] = json!(s
                .samples
                .iter()
                .map(|x| json!([round3(x.ms), round3(x.aws_ms), x.calls]))
                .collect::<Vec<_>>());
        }
        v
    }

    fn record_cold_start(&self, d: Duration) {
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        s.cold_starts_ms.push(d.as_millis() as u64);
    }
}

/// One process of the function and its Runtime API state.
struct Proc {
    pool: Arc<FunctionPool>,
    current: Mutex<Option<InFlight>>,
    asked: watch::Sender<bool>,
    dead: watch::Sender<bool>,
    kill: Notify,
    /// Why `kill` was raised by a fault (None: the invocation timed out).
    kill_reason: Mutex<Option<String>>,
    init_error: Mutex<Option<String>>,
}

impl Proc {
    fn kill_for(&self, reason: &str) {
        *self.kill_reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
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
    fn kill_at_reply(&self, request_id: &str) -> bool {
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

    fn finish(&self, request_id: Option<&str>, result: Result<Bytes, InvokeError>) -> bool {
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

async fn supervise(pool: Arc<FunctionPool>, slot: Arc<Slot>, ready: oneshot::Sender<Result<()>>) {
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

fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &r[..24],
        &r[16..32]
    )
}

// ------------------------------------------------------------------- the Runtime API server

async fn serve_runtime_api(proc: Arc<Proc>) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| anyhow!("cannot bind a Runtime API port: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| anyhow!("cannot read the Runtime API port: {e}"))?;
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // Oversized responses are failed explicitly below, like Lambda does.
        .layer(DefaultBodyLimit::disable())
        .with_state(proc.clone());
    let mut dead = proc.dead.subscribe();
    tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = crate::process::raised(&mut dead).await;
        });
        if let Err(e) = server.await {
            tracing::warn!("Runtime API server ended: {e}");
        }
    });
    Ok(addr)
}

async fn next(State(proc): State<Arc<Proc>>) -> Response {
    proc.asked.send_replace(true);
    // The runtime asks for the next event only after answering the last one.
    proc.finish(
        None,
        Err(InvokeError::Function {
            error_type: "Runtime.NoResponse".into(),
            message: "the runtime asked for the next event without answering this one".into(),
        }),
    );
    let mut dead = proc.dead.subscribe();
    loop {
        let invocation = tokio::select! {
            inv = async { proc.pool.rx.lock().await.recv().await } => inv,
            _ = crate::process::raised(&mut dead) => return StatusCode::GONE.into_response(),
        };
        let Some(inv) = invocation else {
            return StatusCode::GONE.into_response();
        };
        if inv.reply.is_closed() {
            continue; // the caller gave up while it waited in the queue
        }
        let timeout = proc.pool.spec.timeout;
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(timeout)
            .as_millis();
        let pool = &proc.pool;
        let kill_at = pool
            .instrument
            .faults
            .kill_point(&pool.spec.binary, pool.expected_calls());
        *proc.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(InFlight {
            request_id: inv.request_id.clone(),
            reply: inv.reply,
            started: Instant::now(),
            meter: Arc::new(Meter::new(kill_at)),
        });
        // The supervisor may have just buried this process; it fails what it finds in
        // `current` after raising `dead`, so one of the two sides catches this invocation.
        if *proc.dead.borrow() {
            proc.finish(None, Err(InvokeError::Died("the instance exited".into())));
            return StatusCode::GONE.into_response();
        }
        let watchdog = proc.clone();
        let request_id = inv.request_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if watchdog.finish(Some(&request_id), Err(InvokeError::Timeout(timeout))) {
                watchdog.kill.notify_one();
            }
        });
        let mut headers = HeaderMap::new();
        let pairs = [
            ("lambda-runtime-aws-request-id", inv.request_id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                proc.pool.spec.arn.clone(),
            ),
            ("lambda-runtime-trace-id", trace_id()),
            ("content-type", "application/json".to_string()),
        ];
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(k, v);
            }
        }
        return (StatusCode::OK, headers, inv.payload).into_response();
    }
}

fn unknown_request(request_id: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "errorMessage": format!("Invalid request ID: {request_id}"),
            "errorType": "InvalidRequestID",
        })),
    )
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

async fn response(
    State(proc): State<Arc<Proc>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    if proc.kill_at_reply(&request_id) {
        return accepted();
    }
    let result = if body.len() > MAX_RESPONSE_BYTES {
        Err(InvokeError::Function {
            error_type: "Function.ResponseSizeTooLarge".into(),
            message: format!(
                "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                body.len()
            ),
        })
    } else {
        Ok(body)
    };
    if proc.finish(Some(&request_id), result) {
        accepted()
    } else {
        unknown_request(&request_id)
    }
}

fn error_of(headers: &HeaderMap, body: &Bytes) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error_type = parsed
        .get("errorType")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Unhandled".into());
    let message = parsed
        .get("errorMessage")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, message)
}

async fn error(
    State(proc): State<Arc<Proc>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if proc.kill_at_reply(&request_id) {
        return accepted();
    }
    let (error_type, message) = error_of(&headers, &body);
    if proc.finish(
        Some(&request_id),
        Err(InvokeError::Function {
            error_type,
            message,
        }),
    ) {
        accepted()
    } else {
        unknown_request(&request_id)
    }
}

async fn init_error(State(proc): State<Arc<Proc>>, headers: HeaderMap, body: Bytes) -> Response {
    let (error_type, message) = error_of(&headers, &body);
    tracing::error!(function = %proc.pool.spec.binary, "init error {error_type}: {message}");
    *proc.init_error.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(format!("{error_type}: {message}"));
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn trace_ids_look_like_x_ray() {
        let t = trace_id();
        assert!(t.starts_with("Root=1-"), "{t}");
        let root = t.split(';').next().unwrap_or_default();
        assert_eq!(root.len(), "Root=1-".len() + 8 + 1 + 24);
    }
}
