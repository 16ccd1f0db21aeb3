//! DynamoDB stream event sources: Lambda's stream poller, locally. Per function event and per
//! shard (children after their parent closed), strictly in order: read records, drop those
//! the filter criteria reject, invoke with a batch, move the checkpoint past it after success.
//! A failed batch is retried (MaximumRetryAttempts), split in two first when
//! BisectBatchOnFunctionError is on; a partial failure (ReportBatchItemFailures) moves the
//! checkpoint to the first failed record and retries from there; a batch whose retries are
//! exhausted (or whose records are older than MaximumRecordAgeInSeconds) goes to the
//! on-failure queue as Lambda's invocation record, and the shard moves on.
//!
//! [`api`] speaks the emulator's Streams API and builds the records and invocation records.

mod api;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde_json::{json, Value};
use tokio::sync::watch;

pub use api::StreamsApi;
use api::{lambda_record, on_failure_record, sequence_number, Discarded, Shard};

use crate::event_filter::passes;
use crate::lambda::FunctionPool;
use crate::pollers::{deliver_times, settle, Settle};
use crate::template::{StartingPosition, StreamDef};

/// How often an idle shard is read (Lambda reads each shard about four times a second).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often the stream is described again for new shards.
const SHARD_DISCOVERY: Duration = Duration::from_secs(5);
/// How long a batch may wait for a free instance on top of the function's timeout.
const INVOKE_GRACE: Duration = Duration::from_secs(60);
/// MaximumRetryAttempts -1 means "until the record expires" (24 hours in DynamoDB Streams);
/// locally a batch is given up after this many retries instead, about three minutes of
/// backing off, so that a poison record cannot hold a shard for a day.
const RETRIES_UNTIL_EXPIRY: u32 = 100;
/// The longest pause between two retries of a batch (they back off from 100 ms).
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What a stream event source did so far (shown per function in `/_local/stats`).
#[derive(Debug, Clone, Default)]
pub struct StreamCounts {
    /// Invocations with a batch (retries and duplicate deliveries included).
    pub batches: u64,
    /// Records handed to the function (again with every retry).
    pub records: u64,
    pub retries: u64,
    pub bisections: u64,
    pub partial_failures: u64,
    /// Records the filter criteria dropped.
    pub filtered: u64,
    /// Records sent to the on-failure destination (or dropped without one).
    pub discarded: u64,
    /// The last sequence number checkpointed, by shard.
    pub checkpoints: BTreeMap<String, String>,
}

impl StreamCounts {
    pub fn to_json(&self) -> Value {
        json!({
            "batches": self.batches,
            "records": self.records,
            "retries": self.retries,
            "bisections": self.bisections,
            "partialFailures": self.partial_failures,
            "filtered": self.filtered,
            "discarded": self.discarded,
            "checkpoints": self.checkpoints,
        })
    }
}

pub struct StreamPoller {
    pub pool: Arc<FunctionPool>,
    pub event_id: String,
    pub stream_arn: String,
    pub def: StreamDef,
    /// The on-failure destination's queue url.
    pub on_failure: Option<String>,
    pub api: StreamsApi,
    pub sqs: aws_sdk_sqs::Client,
    pub counts: Mutex<StreamCounts>,
}

/// How one invocation with a batch ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    Success,
    /// Success up to this record (the first one reported failed).
    FailedFrom(usize),
    Error,
}

impl StreamPoller {
    pub fn counts(&self) -> StreamCounts {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StreamCounts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn start(self: &Arc<Self>, shutdown: &watch::Receiver<bool>) {
        let me = self.clone();
        let mut stop = shutdown.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = me.discover(shutdown) => {}
                _ = crate::process::raised(&mut stop) => {}
            }
        });
    }

    /// Starts a reader per shard once its parent is read to its end (or gone), and looks
    /// for new shards now and then.
    async fn discover(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let finished: Arc<Mutex<HashSet<String>>> = Arc::default();
        let mut started: HashSet<String> = HashSet::new();
        let mut first = true;
        loop {
            match self.api.shards(&self.stream_arn).await {
                Ok(shards) => {
                    let done = finished.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    for shard in ready_shards(&shards, &started, &done) {
                        started.insert(shard.id.clone());
                        // The configured position applies to the shards there at the start;
                        // shards that open later are read from their beginning.
                        let position = match (first, self.def.starting_position) {
                            (true, StartingPosition::Latest) => "LATEST",
                            _ => "TRIM_HORIZON",
                        };
                        let me = self.clone();
                        let id = shard.id.clone();
                        let finished = finished.clone();
                        let mut stop = shutdown.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = me.read_shard(&id, position) => {
                                    finished.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
                                }
                                _ = crate::process::raised(&mut stop) => {}
                            }
                        });
                    }
                    first = false;
                }
                Err(e) => tracing::warn!(stream = %self.stream_arn, "{e:#}"),
            }
            tokio::time::sleep(SHARD_DISCOVERY).await;
        }
    }

    /// Reads one shard to its end (never, while it is open).
    async fn read_shard(&self, shard: &str, position: &str) {
        let mut iterator = loop {
            match self.api.iterator(&self.stream_arn, shard, position).await {
                Ok(it) => break it,
                Err(e) => {
                    tracing::warn!(stream = %self.stream_arn, shard, "{e:#}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let mut open = true;
        let mut pending: VecDeque<Value> = VecDeque::new();
        loop {
            let (next, closed) = self.fill(&mut pending, iterator, open).await;
            iterator = next;
            open = !closed;
            if pending.is_empty() {
                if !open {
                    return;
                }
                continue;
            }
            let take = pending.len().min(self.def.batch_size);
            let batch: Vec<Value> = pending.drain(..take).collect();
            self.process(shard, batch).await;
        }
    }

    /// Reads records into `pending` until a batch is full, the batching window is over with
    /// records at hand, or the shard is closed. Returns the next iterator and whether the
    /// shard is read to its end.
    async fn fill(
        &self,
        pending: &mut VecDeque<Value>,
        mut iterator: String,
        open: bool,
    ) -> (String, bool) {
        if !open {
            return (iterator, true);
        }
        // The batching window opens with the first record at hand.
        let mut deadline = (!pending.is_empty()).then(|| Instant::now() + self.def.batching_window);
        loop {
            // Read no further ahead than the next batch needs.
            let wanted = self.def.batch_size.saturating_sub(pending.len());
            if wanted == 0 {
                return (iterator, false);
            }
            let page = match self.api.records(&iterator, wanted).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(stream = %self.stream_arn, "{e:#}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let got = page.records.len();
            for record in page.records {
                let record = lambda_record(record, &self.stream_arn);
                if passes(&self.def.filters, &record) {
                    pending.push_back(record);
                } else {
                    self.lock().filtered += 1;
                }
            }
            let Some(next) = page.next else {
                return (iterator, true);
            };
            iterator = next;
            let now = Instant::now();
            let window_end = match deadline {
                Some(d) => d,
                None if pending.is_empty() => now + IDLE_POLL,
                None => *deadline.insert(now + self.def.batching_window),
            };
            if !pending.is_empty() && now >= window_end {
                return (iterator, false);
            }
            if got == 0 {
                tokio::time::sleep(IDLE_POLL.min(window_end.saturating_duration_since(now))).await;
            }
        }
    }

    /// Delivers one batch until every record in it succeeded or was discarded; then the
    /// checkpoint is past it.
    async fn process(&self, shard: &str, batch: Vec<Value>) {
        let max_retries = self
            .def
            .maximum_retry_attempts
            .unwrap_or(RETRIES_UNTIL_EXPIRY);
        // Batches still to deliver, in shard order, with the retries their records had.
        let mut todo: VecDeque<(Vec<Value>, u32)> = VecDeque::from([(batch, 0)]);
        while let Some((records, retries)) = todo.pop_front() {
            let records = self.drop_expired(shard, records, retries).await;
            if records.is_empty() {
                continue;
            }
            let outcome = self.invoke(&records).await;
            let (succeeded, failed) = match outcome {
                Outcome::Success => (records.len(), Vec::new()),
                Outcome::FailedFrom(i) => {
                    self.lock().partial_failures += 1;
                    (i, records[i..].to_vec())
                }
                Outcome::Error => (0, records.clone()),
            };
            if succeeded > 0 {
                self.checkpoint(shard, &records[succeeded - 1]);
            }
            if failed.is_empty() {
                continue;
            }
            if retries >= max_retries {
                self.discard(
                    shard,
                    &failed,
                    retries + 1,
                    Discarded::RetryAttemptsExhausted,
                )
                .await;
                continue;
            }
            self.lock().retries += 1;
            let pause = Duration::from_millis(100u64 << retries.min(5)).min(MAX_BACKOFF);
            tokio::time::sleep(pause).await;
            // A partial failure names where to resume; an error of a batch of several is
            // split in two when asked, each half keeping the retries spent on its records.
            if outcome == Outcome::Error && self.def.bisect_on_error && failed.len() > 1 {
                self.lock().bisections += 1;
                let mut first = failed;
                let second = first.split_off(first.len() / 2);
                todo.push_front((second, retries + 1));
                todo.push_front((first, retries + 1));
            } else {
                todo.push_front((failed, retries + 1));
            }
        }
    }

    /// Records older than MaximumRecordAgeInSeconds are not delivered again: they go to the
    /// on-failure destination. Only the oldest ones of a batch can be (records are in order).
    async fn drop_expired(&self, shard: &str, mut records: Vec<Value>, retries: u32) -> Vec<Value> {
        let Some(max_age) = self.def.maximum_record_age else {
            return records;
        };
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let expired = expired_prefix(&records, max_age, now);
        if expired > 0 {
            let rest = records.split_off(expired);
            self.discard(shard, &records, retries, Discarded::RecordAgeExceeded)
                .await;
            return rest;
        }
        records
    }

    fn checkpoint(&self, shard: &str, record: &Value) {
        self.lock()
            .checkpoints
            .insert(shard.to_string(), sequence_number(record).to_string());
    }

    /// Gives up on records: the on-failure destination gets the invocation record, the
    /// checkpoint moves past them.
    async fn discard(&self, shard: &str, records: &[Value], invocations: u32, why: Discarded) {
        let Some(last) = records.last() else {
            return;
        };
        self.lock().discarded += records.len() as u64;
        self.checkpoint(shard, last);
        let body = on_failure_record(
            &self.pool.spec.arn,
            &self.stream_arn,
            shard,
            records,
            invocations,
            why,
        );
        tracing::warn!(
            function = %self.pool.spec.binary,
            event = %self.event_id,
            "{why:?}: records {}..{} of {shard} discarded",
            sequence_number(&records[0]),
            sequence_number(last)
        );
        let Some(queue) = &self.on_failure else {
            return;
        };
        if let Err(e) = self
            .sqs
            .send_message()
            .queue_url(queue)
            .message_body(body.to_string())
            .send()
            .await
        {
            tracing::warn!(
                queue = %queue,
                "on-failure record lost: {}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            );
        }
    }

    /// One batch to the function, as often as the faults say (held first if they say so);
    /// the best of the deliveries counts, as a checkpoint moves once any of them succeeded.
    async fn invoke(&self, records: &[Value]) -> Outcome {
        let faults = &self.pool.instrument.faults;
        let binary = &self.pool.spec.binary;
        if let Some(delay) = faults.delay(binary) {
            tokio::time::sleep(delay).await;
        }
        let (deliveries, concurrent) = faults.deliveries(binary, records.len());
        {
            let mut c = self.lock();
            c.batches += deliveries;
            c.records += deliveries * records.len() as u64;
        }
        let event = Bytes::from(json!({ "Records": records }).to_string());
        let ids: Vec<String> = records
            .iter()
            .map(|r| sequence_number(r).to_string())
            .collect();
        best(deliver_times(deliveries, concurrent, || self.deliver(event.clone(), &ids)).await)
    }

    async fn deliver(&self, event: Bytes, ids: &[String]) -> Outcome {
        let max_wait = self.pool.spec.timeout + INVOKE_GRACE;
        match self.pool.invoke(event, max_wait).await {
            Ok(response) => outcome(
                settle(self.def.report_batch_item_failures, &response, ids),
                ids,
            ),
            Err(e) => {
                tracing::debug!(function = %self.pool.spec.binary, "stream batch of {} failed: {e}", ids.len());
                Outcome::Error
            }
        }
    }
}

/// The shards to start reading now: not started yet, and their parent (if the stream still
/// lists it) read to its end, so that an item's changes stay in order across a split.
fn ready_shards<'a>(
    shards: &'a [Shard],
    started: &HashSet<String>,
    finished: &HashSet<String>,
) -> Vec<&'a Shard> {
    let listed: HashSet<&str> = shards.iter().map(|s| s.id.as_str()).collect();
    shards
        .iter()
        .filter(|s| !started.contains(&s.id))
        .filter(|s| {
            s.parent
                .as_ref()
                .is_none_or(|p| !listed.contains(p.as_str()) || finished.contains(p))
        })
        .collect()
}

/// How many of the first records are older than `max_age` at `now` (epoch seconds).
fn expired_prefix(records: &[Value], max_age: Duration, now: f64) -> usize {
    records
        .iter()
        .take_while(|r| api::created_at(r).is_some_and(|t| now - t > max_age.as_secs_f64()))
        .count()
}

/// A partial batch response as Lambda reads it for streams: the checkpoint moves to just
/// before the lowest failed sequence number.
fn outcome(settled: Settle, ids: &[String]) -> Outcome {
    match settled {
        Settle::All => Outcome::Success,
        Settle::None => Outcome::Error,
        Settle::AllBut(failed) => match ids.iter().position(|id| failed.contains(id)) {
            Some(i) => Outcome::FailedFrom(i),
            None => Outcome::Error,
        },
    }
}

fn best(outcomes: Vec<Outcome>) -> Outcome {
    outcomes
        .into_iter()
        .max_by_key(|o| match o {
            Outcome::Success => usize::MAX,
            Outcome::FailedFrom(i) => *i + 1,
            Outcome::Error => 0,
        })
        .unwrap_or(Outcome::Error)
}

#[cfg(test)]
mod tests;
