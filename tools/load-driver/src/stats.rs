//! What the run measured: per operation counts, errors by status and latency percentiles, a
//! per-second timeline, and where the ceiling was reached.
//!
//! Latencies are kept whole (microseconds, 4 bytes a request: 14 MB for an hour at 1,000 rps) and
//! sorted at the end, so percentiles are exact nearest-rank values with no histogram to tune.

use crate::mix::{Mix, Op};
use crate::schedule::Profile;
use serde::Serialize;
use std::collections::BTreeMap;

/// How one request ended: an HTTP status, or a transport failure by name.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Status(u16),
    Failed(&'static str),
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(s))
    }
    fn label(&self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Failed(what) => (*what).to_string(),
        }
    }
}

#[derive(Default)]
struct OpStats {
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

#[derive(Default, Clone)]
struct Second {
    sent: u64,
    dropped: u64,
    errors: u64,
    latencies_us: [Vec<u32>; 7],
}

#[derive(Default)]
pub struct Recorder {
    ops: [OpStats; 7],
    seconds: Vec<Second>,
    dropped: u64,
}

/// Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(us: u32) -> f64 {
    (f64::from(us) / 10.0).round() / 100.0
}

impl Recorder {
    fn second(&mut self, at: f64) -> &mut Second {
        let s = at.max(0.0) as usize;
        if self.seconds.len() <= s {
            self.seconds.resize(s + 1, Second::default());
        }
        &mut self.seconds[s]
    }

    pub fn sent(&mut self, at: f64) {
        self.second(at).sent += 1;
    }

    /// A request the driver did not start because too many were still in flight: the stack
    /// is past its ceiling, and waiting instead would hide it (coordinated omission).
    pub fn dropped(&mut self, at: f64) {
        self.dropped += 1;
        self.second(at).dropped += 1;
    }

    /// One answer; `at` is the request's scheduled start (seconds), latency counts from there.
    pub fn record(&mut self, op: Op, at: f64, latency_us: u32, outcome: &Outcome) {
        let i = op.index();
        self.ops[i].latencies_us.push(latency_us);
        let ok = outcome.is_ok();
        if !ok {
            *self.ops[i].errors.entry(outcome.label()).or_default() += 1;
        }
        let sec = self.second(at);
        sec.latencies_us[i].push(latency_us);
        if !ok {
            sec.errors += 1;
        }
    }

    pub fn report(mut self, mut run: RunInfo) -> Report {
        let elapsed = run.elapsed_seconds.max(1e-9);
        run.elapsed_seconds = round2(elapsed);
        let mut operations = BTreeMap::new();
        let mut completed = 0;
        let mut errors = 0;
        for op in Op::ALL {
            let s = &mut self.ops[op.index()];
            s.latencies_us.sort_unstable();
            let count = s.latencies_us.len() as u64;
            let errs: u64 = s.errors.values().sum();
            completed += count;
            errors += errs;
            operations.insert(
                op.key(),
                OpReport {
                    route: op.route(),
                    count,
                    ok: count - errs,
                    errors: std::mem::take(&mut s.errors),
                    rps: round2(count as f64 / elapsed),
                    p50_ms: ms(percentile(&s.latencies_us, 50.0)),
                    p90_ms: ms(percentile(&s.latencies_us, 90.0)),
                    p99_ms: ms(percentile(&s.latencies_us, 99.0)),
                    max_ms: ms(s.latencies_us.last().copied().unwrap_or_default()),
                },
            );
        }
        let mut by_second = Vec::with_capacity(self.seconds.len());
        let timeline: Vec<SecondReport> = self
            .seconds
            .iter_mut()
            .enumerate()
            .map(|(i, s)| {
                let mut all: Vec<u32> = s.latencies_us.iter().flatten().copied().collect();
                all.sort_unstable();
                by_second.push(all.clone());
                let mut p99_by_operation = BTreeMap::new();
                for op in Op::ALL {
                    let v = &mut s.latencies_us[op.index()];
                    if !v.is_empty() {
                        v.sort_unstable();
                        p99_by_operation.insert(op.key(), ms(percentile(v, 99.0)));
                    }
                }
                SecondReport {
                    second: i as u64,
                    target_rps: round2(run.profile.rate_at(i as f64 + 0.5)),
                    sent: s.sent,
                    completed: all.len() as u64,
                    ok: all.len() as u64 - s.errors,
                    errors: s.errors,
                    dropped: s.dropped,
                    p50_ms: ms(percentile(&all, 50.0)),
                    p99_ms: ms(percentile(&all, 99.0)),
                    p99_by_operation,
                }
            })
            .collect();
        let ceiling = ceiling(&timeline, &by_second);
        Report {
            run,
            sent: timeline.iter().map(|s| s.sent).sum(),
            completed,
            errors,
            dropped: self.dropped,
            ok: completed - errors,
            achieved_rps: round2((completed - errors) as f64 / elapsed),
            ceiling,
            operations,
            timeline,
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A 5-second window counts as past the ceiling when its p99 is over this...
pub const CEILING_P99_MS: f64 = 1000.0;
/// ...or more than this share of its requests failed or were dropped.
pub const CEILING_ERROR_SHARE: f64 = 0.01;
const WINDOW: usize = 5;
/// Fewer requests than this in a window say nothing either way.
const WINDOW_MIN_REQUESTS: u64 = 10;

/// Whether a window is past the ceiling: Some((pooled p99 ms, error share, reason)) if so.
fn past(
    window: &[SecondReport],
    latencies: &[Vec<u32>],
) -> Option<Option<(f64, f64, &'static str)>> {
    let sent: u64 = window.iter().map(|s| s.sent + s.dropped).sum();
    if sent < WINDOW_MIN_REQUESTS {
        return None;
    }
    let bad: u64 = window.iter().map(|s| s.errors + s.dropped).sum();
    let mut pooled: Vec<u32> = latencies.iter().flatten().copied().collect();
    pooled.sort_unstable();
    let p99 = ms(percentile(&pooled, 99.0));
    let share = bad as f64 / sent as f64;
    Some(if share > CEILING_ERROR_SHARE {
        Some((p99, share, "errors"))
    } else if p99 > CEILING_P99_MS {
        Some((p99, share, "p99"))
    } else {
        None
    })
}

/// Where the stack passed its ceiling for good: the earliest 5-second window from which every
/// later window is past it (a spike the stack recovers from, such as another process taking the
/// CPU for a second, is not a ceiling). None when the run ended below it.
fn ceiling(timeline: &[SecondReport], latencies: &[Vec<u32>]) -> Option<Ceiling> {
    if timeline.len() < WINDOW {
        return None;
    }
    let verdicts: Vec<_> = (0..=timeline.len() - WINDOW)
        .map(|i| past(&timeline[i..i + WINDOW], &latencies[i..i + WINDOW]))
        .collect();
    // Walk back from the end while windows are past (or say nothing).
    let mut start = None;
    for (i, v) in verdicts.iter().enumerate().rev() {
        match v {
            Some(None) => break,
            Some(Some(_)) => start = Some(i),
            None => {}
        }
    }
    let i = start?;
    let (p99, share, reason) = verdicts[i].flatten()?;
    let w = &timeline[i..i + WINDOW];
    // Named by the window's first second that is itself past the ceiling.
    let first = w
        .iter()
        .find(|s| {
            let bad = (s.errors + s.dropped) as f64;
            s.p99_ms > CEILING_P99_MS
                || bad > CEILING_ERROR_SHARE * (s.sent + s.dropped).max(1) as f64
        })
        .unwrap_or(&w[0]);
    Some(Ceiling {
        at_second: first.second,
        target_rps: first.target_rps,
        achieved_rps: round2(w.iter().map(|s| s.ok).sum::<u64>() as f64 / WINDOW as f64),
        p99_ms: p99,
        error_share: round2(share * 100.0) / 100.0,
        reason,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    pub base_url: String,
    pub started_at: String,
    pub profile: Profile,
    pub mix: Mix,
    pub max_requests: u64,
    pub max_seconds: u64,
    /// `profile` (it ran to its end), `max-requests` or `max-seconds`.
    pub stopped_by: &'static str,
    pub elapsed_seconds: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(flatten)]
    pub run: RunInfo,
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Successful answers per second over the schedule's duration.
    pub achieved_rps: f64,
    pub ceiling: Option<Ceiling>,
    pub operations: BTreeMap<&'static str, OpReport>,
    pub timeline: Vec<SecondReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpReport {
    pub route: &'static str,
    pub count: u64,
    pub ok: u64,
    /// By HTTP status, or `timeout` / `connect` / `transport` when no answer came.
    pub errors: BTreeMap<String, u64>,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondReport {
    pub second: u64,
    pub target_rps: f64,
    pub sent: u64,
    /// Every request of the second that ended, with an answer or not (`ok` + `errors`).
    pub completed: u64,
    pub ok: u64,
    pub errors: u64,
    pub dropped: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p99_by_operation: BTreeMap<&'static str, f64>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Ceiling {
    pub at_second: u64,
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub p99_ms: f64,
    pub error_share: f64,
    pub reason: &'static str,
}

/// A run's description for tests: a flat profile, run to its end.
#[cfg(test)]
pub fn test_run(profile: Profile, elapsed_seconds: f64) -> RunInfo {
    RunInfo {
        base_url: "http://127.0.0.1:3000".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        profile,
        mix: Mix::default(),
        max_requests: 1000,
        max_seconds: 60,
        stopped_by: "profile",
        elapsed_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 90.0), 90);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        let v = [10, 20, 30, 1000];
        assert_eq!(percentile(&v, 50.0), 20);
        assert_eq!(percentile(&v, 99.0), 1000);
    }

    fn run() -> RunInfo {
        test_run(Profile::parse("10,10,0,20").unwrap(), 20.0)
    }

    /// `seconds` seconds at 10 rps; `answer(second, i)` gives each request's op, latency and outcome.
    fn at_10_rps(seconds: u32, answer: impl Fn(u32, u32) -> (Op, u32, Outcome)) -> Recorder {
        let mut r = Recorder::default();
        for s in 0..seconds {
            for i in 0..10 {
                let at = f64::from(s) + f64::from(i) / 10.0;
                r.sent(at);
                let (op, latency, outcome) = answer(s, i);
                r.record(op, at, latency, &outcome);
            }
        }
        r
    }

    #[test]
    fn the_report_counts_errors_by_status_and_finds_the_ceiling() {
        // 10 seconds answering in 20 ms, then 10 seconds at 2 s with a 503 a second.
        let mut r = at_10_rps(20, |s, i| match (s >= 10, i) {
            (true, 0) => (Op::CreateOrder, 2_000_000, Outcome::Status(503)),
            (true, _) => (Op::CreateOrder, 2_000_000, Outcome::Status(201)),
            _ => (Op::CreateOrder, 20_000, Outcome::Status(201)),
        });
        r.record(Op::GetOrder, 15.0, 5_000, &Outcome::Failed("timeout"));
        let rep = r.report(run());
        let create = &rep.operations["create"];
        assert_eq!(create.count, 200);
        assert_eq!(create.ok, 190);
        assert_eq!(create.errors["503"], 10);
        assert_eq!(create.p50_ms, 20.0);
        assert_eq!(create.p99_ms, 2000.0);
        assert_eq!(rep.operations["get"].errors["timeout"], 1);
        assert_eq!(rep.completed, 201);
        assert_eq!(rep.errors, 11);
        assert_eq!(rep.ok, 190);
        assert_eq!(rep.achieved_rps, 9.5);
        assert_eq!(rep.timeline.len(), 20);
        assert_eq!(rep.timeline[12].p99_by_operation["create"], 2000.0);
        assert_eq!((rep.timeline[12].ok, rep.timeline[12].errors), (9, 1));
        let c = rep.ceiling.unwrap();
        // The first slow second, where 1 in 10 is a 503.
        assert_eq!(c.at_second, 10);
        assert_eq!(c.reason, "errors");
        assert_eq!(c.target_rps, 10.0);
    }

    #[test]
    fn a_spike_the_stack_recovers_from_is_no_ceiling() {
        let r = at_10_rps(30, |s, _| {
            let latency = if s == 8 { 3_000_000 } else { 50_000 };
            (Op::GetOrder, latency, Outcome::Status(200))
        });
        let rep = r.report(run());
        assert_eq!(rep.timeline[8].p99_ms, 3000.0);
        assert!(rep.ceiling.is_none());
    }

    #[test]
    fn a_calm_run_has_no_ceiling() {
        let r = at_10_rps(20, |_, i| {
            (Op::GetOrder, 9_000 + i * 1000, Outcome::Status(200))
        });
        let rep = r.report(run());
        assert!(rep.ceiling.is_none());
        assert_eq!(rep.operations["get"].max_ms, 18.0);
        assert_eq!(rep.achieved_rps, 10.0);
    }
}
