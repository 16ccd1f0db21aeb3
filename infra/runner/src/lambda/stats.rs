//! What a function's pool remembers of its invocations: cold starts, counts, recent durations
//! for `/_local/stats`, and, while the call log records, each invocation's total and AWS time
//! for `/_local/calls`. Separate because it is arithmetic on figures, with no process in it.

use std::collections::VecDeque;

use serde_json::json;

use crate::instrument::round3;

/// Durations (and recorded samples) kept per function; older ones are dropped first.
const KEEP_DURATIONS: usize = 10_000;

/// One invocation's figures, kept while the call log records.
#[derive(Clone, Copy)]
struct Sample {
    ms: f64,
    aws_ms: f64,
    calls: u32,
}

#[derive(Default)]
pub(super) struct Stats {
    cold_starts_ms: Vec<u64>,
    invocations: u64,
    errors: u64,
    durations_ms: VecDeque<f64>,
    samples: VecDeque<Sample>,
    /// Moving average of AWS calls per invocation: where a kill fault's points lie.
    calls_avg: f64,
}

impl Stats {
    /// One finished invocation; its sample is kept only while the call log is `recording`.
    pub(super) fn record(&mut self, ms: f64, aws_ms: f64, calls: u32, ok: bool, recording: bool) {
        self.invocations += 1;
        if !ok {
            self.errors += 1;
        }
        if self.durations_ms.len() == KEEP_DURATIONS {
            self.durations_ms.pop_front();
        }
        self.durations_ms.push_back(ms);
        self.calls_avg = if self.invocations == 1 {
            f64::from(calls)
        } else {
            0.8 * self.calls_avg + 0.2 * f64::from(calls)
        };
        if recording {
            if self.samples.len() == KEEP_DURATIONS {
                self.samples.pop_front();
            }
            self.samples.push_back(Sample { ms, aws_ms, calls });
        }
    }

    /// AWS calls an invocation makes, on average lately.
    pub(super) fn calls_avg(&self) -> f64 {
        self.calls_avg
    }

    pub(super) fn record_cold_start(&mut self, ms: u64) {
        self.cold_starts_ms.push(ms);
    }

    pub(super) fn reset_samples(&mut self) {
        self.samples.clear();
    }

    pub(super) fn snapshot(&self) -> StatsSnapshot {
        let mut d: Vec<f64> = self.durations_ms.iter().copied().collect();
        d.sort_by(f64::total_cmp);
        StatsSnapshot {
            cold_start_ms: self.cold_starts_ms.iter().copied().max(),
            cold_starts: self.cold_starts_ms.len(),
            invocations: self.invocations,
            errors: self.errors,
            p50_ms: percentile(&d, 50.0),
            p99_ms: percentile(&d, 99.0),
        }
    }

    /// The recorded invocations: total time, time in AWS calls, and ours (the difference),
    /// as p50/p99, plus our share of all the time (sum of ours / sum of totals).
    pub(super) fn invocations_json(&self, with_samples: bool) -> serde_json::Value {
        let pct = |mut v: Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            percentile(&v, p).map(round3)
        };
        let total: Vec<f64> = self.samples.iter().map(|x| x.ms).collect();
        let aws: Vec<f64> = self.samples.iter().map(|x| x.aws_ms).collect();
        let ours: Vec<f64> = self
            .samples
            .iter()
            .map(|x| (x.ms - x.aws_ms).max(0.0))
            .collect();
        let sum_total: f64 = total.iter().sum();
        let sum_ours: f64 = ours.iter().sum();
        let calls: u64 = self.samples.iter().map(|x| u64::from(x.calls)).sum();
        let mut v = json!({
            "count": self.samples.len(),
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
            v["samples"] = json!(self
                .samples
                .iter()
                .map(|x| json!([round3(x.ms), round3(x.aws_ms), x.calls]))
                .collect::<Vec<_>>());
        }
        v
    }
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
}
