//! Schedule / ScheduleV2 events: moto never fires schedules, so the runner does, on the
//! template's rate and on demand (`POST /_local/schedules/{function}`). Invocations are
//! asynchronous, like EventBridge's, with the RetryPolicy's retries.
//!
//! The local clock: a scheduled check takes its "now" from its event's `time`, so the runner
//! can move time forward for the checks (`POST /_local/clock`) and a test of a 48-hour timer
//! does not wait 48 hours. Only the scheduled events' time moves; nothing else's.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::watch;

use crate::lambda::FunctionPool;
use crate::template::{ScheduleDef, ACCOUNT_ID, REGION};

/// Seconds the local clock is ahead of the machine's (never behind: time only moves forward).
static CLOCK_AHEAD: AtomicI64 = AtomicI64::new(0);

/// The longest the clock may move ahead in all: a year and a day, past every timer's bound.
pub const CLOCK_MAX_AHEAD_SECONDS: i64 = 366 * 24 * 3600;

/// The local clock's time: the machine's plus what it was moved ahead.
pub fn clock_now() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(CLOCK_AHEAD.load(Ordering::SeqCst))
}

/// Seconds the clock is ahead.
pub fn clock_ahead() -> i64 {
    CLOCK_AHEAD.load(Ordering::SeqCst)
}

/// Moves the local clock `seconds` forward; None (and no move) when that is negative or would
/// take it past `CLOCK_MAX_AHEAD_SECONDS`.
pub fn advance_clock(seconds: i64) -> Option<i64> {
    if seconds < 0 {
        return None;
    }
    CLOCK_AHEAD
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ahead| {
            ahead
                .checked_add(seconds)
                .filter(|n| *n <= CLOCK_MAX_AHEAD_SECONDS)
        })
        .ok()
        .map(|before| before + seconds)
}

/// How long an asynchronous invocation may wait for a free instance before it counts as lost.
const QUEUE_GRACE: Duration = Duration::from_secs(300);

pub struct Trigger {
    pub pool: Arc<FunctionPool>,
    pub function_id: String,
    pub event_id: String,
    pub def: ScheduleDef,
}

impl Trigger {
    fn schedule_arn(&self) -> String {
        if self.def.v2 {
            format!(
                "arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{}{}",
                self.function_id, self.event_id
            )
        } else {
            format!(
                "arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{}{}",
                self.function_id, self.event_id
            )
        }
    }

    /// The template's Input if it has one, else the scheduled-event envelope.
    pub fn payload(&self) -> Value {
        if let Some(input) = &self.def.input {
            if let Ok(v) = serde_json::from_str(input) {
                return v;
            }
        }
        json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": if self.def.v2 { "aws.scheduler" } else { "aws.events" },
            "account": ACCOUNT_ID,
            "time": clock_now().to_rfc3339_opts(SecondsFormat::Secs, true),
            "region": REGION,
            "resources": [self.schedule_arn()],
            "detail": {},
        })
    }

    /// Invokes in the background; failures are retried and logged, never reported back.
    pub fn fire(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let payload = Bytes::from(me.payload().to_string());
            let attempts = 1 + me.def.retries.min(5);
            for attempt in 1..=attempts {
                let max_wait = me.pool.spec.timeout + QUEUE_GRACE;
                match me.pool.invoke(payload.clone(), max_wait).await {
                    Ok(_) => {
                        tracing::info!(function = %me.pool.spec.binary, schedule = %me.event_id, "scheduled invocation done");
                        return;
                    }
                    Err(e) => tracing::warn!(
                        function = %me.pool.spec.binary,
                        schedule = %me.event_id,
                        "scheduled invocation {attempt}/{attempts} failed: {e}"
                    ),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// Fires each enabled rate schedule on its period until shutdown.
pub fn start_timers(triggers: &[Arc<Trigger>], shutdown: &watch::Receiver<bool>) {
    for t in triggers {
        let Some(every) = t.def.every.filter(|_| t.def.enabled) else {
            if t.def.every.is_none() {
                tracing::warn!(
                    function = %t.pool.spec.binary,
                    schedule = %t.event_id,
                    "`{}` runs only on demand locally (cron expressions are not evaluated)",
                    t.def.expression
                );
            }
            continue;
        };
        let t = t.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = interval.tick() => t.fire(),
                    _ = crate::process::raised(&mut shutdown) => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_only_forward_and_at_most_a_year_and_a_day() {
        // Refusals change nothing (the clock is process-wide, so this test moves it by 0 only).
        let before = clock_ahead();
        assert_eq!(advance_clock(-1), None);
        assert_eq!(advance_clock(CLOCK_MAX_AHEAD_SECONDS + 1), None);
        assert_eq!(advance_clock(0), Some(before));
        let machine = Utc::now();
        assert!(clock_now() >= machine + chrono::Duration::seconds(before));
    }
}
