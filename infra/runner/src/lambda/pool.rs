//! A function's pool: its slots (warm-instance places, each with its AWS proxy), the queue
//! that idle instances take invocations from, and the figures kept of them. This is what the
//! rest of the runner talks to; processes and the Runtime API stay behind it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Result};
use axum::body::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use super::instance::{supervise, Slot};
use super::meter::Meter;
use super::stats::{Stats, StatsSnapshot};
use super::{FunctionSpec, Invocation, InvokeError};
use crate::aws_proxy::{self, SlotProxy};
use crate::instrument::Instrument;
use crate::process::Registry;

pub struct FunctionPool {
    pub spec: FunctionSpec,
    pub instrument: Arc<Instrument>,
    pub slots: Vec<Arc<Slot>>,
    tx: mpsc::UnboundedSender<Invocation>,
    /// Idle instances wait here in line (the mutex is fair), so work goes to whichever
    /// instance has been idle longest.
    pub(super) rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    stats: Mutex<Stats>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) registry: Arc<Registry>,
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
            let slot = Arc::new(Slot::new(index, endpoint));
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

    fn stats_lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats_lock().snapshot()
    }

    pub(super) fn record(&self, duration: Duration, ok: bool, meter: &Meter) {
        let ms = duration.as_secs_f64() * 1000.0;
        let calls = meter.calls();
        let aws_ms = meter.aws_time().as_secs_f64() * 1000.0;
        let recording = self.instrument.calls.recording();
        self.stats_lock().record(ms, aws_ms, calls, ok, recording);
    }

    pub(super) fn expected_calls(&self) -> f64 {
        self.stats_lock().calls_avg()
    }

    /// Forgets the recorded invocations (with `DELETE /_local/calls`).
    pub fn reset_samples(&self) {
        self.stats_lock().reset_samples();
    }

    /// The recorded invocations: total time, time in AWS calls, and ours (the difference),
    /// as p50/p99, plus our share of all the time (sum of ours / sum of totals).
    pub fn invocations_json(&self, with_samples: bool) -> serde_json::Value {
        self.stats_lock().invocations_json(with_samples)
    }

    pub(super) fn record_cold_start(&self, d: Duration) {
        self.stats_lock().record_cold_start(d.as_millis() as u64);
    }
}
