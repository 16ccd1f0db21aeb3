//! Report jobs: a report file over a long period is not made within the request (API Gateway
//! answers after 29 s whatever happens) but by the report-jobs function, from a message on the
//! report jobs queue. `GET /admin/reports/{kind}?format=csv|xlsx` over more than `JOB_AFTER_DAYS`
//! answers 202 with the job; `GET /admin/report-jobs/{id}` tells its progress (the days of the
//! period read) and, once ready, the download link.
//!
//! A job's state is one JSON object beside the reports (`reports/jobs/<id>.json`, kept 7 days
//! like them): S3 reads what was last written, and nothing else needs a table. The worker reads
//! the period's orders a month at a time and writes the state after each month; a redelivered
//! message of a finished job does nothing, and one of an interrupted job starts it again.

use crate::export::FileFormat;
use crate::tables::Period;
use crate::{parse_query, period, Kind, Query, Reports};
use anyhow::Context;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, Utc};
use dropship_aws::documents::PRESIGNED_TTL;
use dropship_aws::http::{json, path_param, HandlerResult};
use dropship_core::order::Order;
use dropship_core::ApiError;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// A file over a period longer than this many days is made by a job.
pub const JOB_AFTER_DAYS: i64 = 92;

/// How much of the period the worker reads at once (and reports progress after).
const SLICE_DAYS: i64 = 31;

/// Whether this request is answered by a job: a file (not inline JSON) of a report that reads
/// the period's orders, over more than `JOB_AFTER_DAYS`. Stock and settlement read by fulfiller,
/// not by the period's orders.
pub fn is_job(q: &Query, p: &Period) -> bool {
    q.file.is_some()
        && !matches!(q.kind, Kind::Stock | Kind::Settlement)
        && p.hi - p.lo > Duration::days(JOB_AFTER_DAYS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Ready,
    Failed,
}

/// How far a job got: days of the period read, of all its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: i64,
    pub total: i64,
}

/// A job as stored and (with its link once ready) shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub kind: String,
    /// The report's query as asked (`from`, `to`, `format`, filters).
    pub query: BTreeMap<String, String>,
    pub status: JobStatus,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file, once ready (never shown: the link is).
    #[serde(default, skip_serializing)]
    pub file_key: Option<String>,
}

/// The stored form: as shown, plus the file's key.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    #[serde(flatten)]
    job: Job,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

/// What the queue carries: the job's id (its state says the rest).
#[derive(Debug, Serialize, Deserialize)]
pub struct JobMessage {
    pub id: String,
}

/// A job id is the name this function made: 32 lowercase hex digits.
fn is_job_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn state_key(id: &str) -> String {
    format!("reports/jobs/{id}.json")
}

/// The period cut into slices of at most `SLICE_DAYS`, none overlapping (each ends a
/// microsecond before the next begins), the last ending at the period's end.
pub fn slices(lo: DateTime<Utc>, hi: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = lo;
    while start <= hi {
        let next = start + Duration::days(SLICE_DAYS);
        let end = if next > hi {
            hi
        } else {
            next - Duration::microseconds(1)
        };
        out.push((start, end));
        start = next;
    }
    out
}

/// The days of the retailer's calendar from `lo` to `hi`, both included.
fn days(tz: chrono_tz::Tz, lo: DateTime<Utc>, hi: DateTime<Utc>) -> i64 {
    let date = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    (date(hi) - date(lo)).num_days() + 1
}

impl Reports {
    async fn save_job(&self, job: &Job) -> anyhow::Result<()> {
        let stored = Stored {
            job: job.clone(),
            file: job.file_key.clone(),
        };
        self.store
            .put_json(&state_key(&job.id), serde_json::to_vec(&stored)?)
            .await
    }

    async fn load_job(&self, id: &str) -> anyhow::Result<Option<Job>> {
        let key = state_key(id);
        if !self.store.list(&key).await?.contains(&key) {
            return Ok(None);
        }
        let stored: Stored = serde_json::from_slice(&self.store.get(&key).await?)
            .with_context(|| format!("reading the job {id}"))?;
        Ok(Some(Job {
            file_key: stored.file,
            ..stored.job
        }))
    }

    /// Starts a job for this (checked) request: 202 with the job as queued.
    pub(crate) async fn start_job(
        &self,
        req: &Request,
        q: &Query,
        p: &Period,
        by: &str,
    ) -> HandlerResult {
        let now = Utc::now();
        let query: BTreeMap<String, String> = req
            .query_string_parameters_ref()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let job = Job {
            id: uuid::Uuid::new_v4().simple().to_string(),
            kind: q.kind.name().to_string(),
            query,
            status: JobStatus::Queued,
            progress: Progress {
                done: 0,
                total: days(p.tz, p.lo, p.hi),
            },
            created_at: now,
            created_by: by.to_string(),
            updated_at: now,
            rows: None,
            error: None,
            file_key: None,
        };
        self.save_job(&job).await?;
        if let Err(e) = self.jobs.send(&JobMessage { id: job.id.clone() }).await {
            // Never a job that says `queued` while no message will make it.
            self.fail(job, "the job could not be queued; ask again".into())
                .await?;
            return Err(e.into());
        }
        tracing::info!(job = %job.id, report = %job.kind, days = job.progress.total, by = %by, "report job queued");
        json(202, &job)
    }

    /// `GET /admin/report-jobs/{id}`: the job, with a fresh 15-minute link once ready.
    pub(crate) async fn job_status(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "id")?;
        if !is_job_id(&id) {
            return Err(ApiError::not_found("report job").into());
        }
        let Some(job) = self.load_job(&id).await? else {
            return Err(ApiError::not_found("report job").into());
        };
        let mut body = serde_json::to_value(&job).map_err(anyhow::Error::from)?;
        if let (JobStatus::Ready, Some(key)) = (job.status, &job.file_key) {
            let expires_at = Utc::now()
                + Duration::from_std(PRESIGNED_TTL).unwrap_or_else(|_| Duration::minutes(15));
            body["url"] = json!(self.store.presign_get(key).await?);
            body["expiresAt"] =
                json!(expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        json(200, &body)
    }

    /// The report-jobs function: each message's job, made once.
    pub async fn run_jobs(&self, event: SqsEvent) -> SqsBatchResponse {
        dropship_aws::sqs_batch::process(event, |m| async move {
            let message: JobMessage = dropship_aws::sqs_batch::body(&m)?;
            self.run_job(&message.id).await
        })
        .await
    }

    async fn run_job(&self, id: &str) -> anyhow::Result<()> {
        let Some(mut job) = self.load_job(id).await? else {
            // Its state expired with the reports (7 days): nothing left to make.
            tracing::warn!(job = %id, "report job without state; dropped");
            return Ok(());
        };
        if matches!(job.status, JobStatus::Ready | JobStatus::Failed) {
            return Ok(());
        }
        let query = job.query.clone();
        let q = match parse_query(&job.kind, |n| query.get(n).cloned()) {
            Ok(q) => q,
            Err(e) => return self.fail(job, e.message).await,
        };
        let tz = self.time_zone().await?;
        // The period as asked: relative dates ("to" left out) count from when it was asked.
        let p = match period(&q, tz, job.created_at) {
            Ok(p) => p,
            Err(e) => return self.fail(job, e.message).await,
        };
        job.status = JobStatus::Running;
        job.progress.done = 0;
        // The sales and orders reports answered by the running sums read no orders at all.
        let orders = if self.answered_by_aggregates(&q, &p).await? {
            None
        } else {
            let mut orders: Vec<Order> = Vec::new();
            for (lo, hi) in slices(p.lo, p.hi) {
                orders.extend(self.orders_between(lo, hi).await?);
                job.progress.done = days(p.tz, p.lo, hi).min(job.progress.total);
                job.updated_at = Utc::now();
                self.save_job(&job).await?;
            }
            Some(orders)
        };
        let Some(file): Option<FileFormat> = q.file else {
            return self.fail(job, "a job makes files only".into()).await;
        };
        let table = self.build(&q, &p, job.created_at, orders).await?;
        job.file_key = Some(self.store_file(&q, file, &table).await?);
        job.rows = Some(table.rows.len());
        job.status = JobStatus::Ready;
        job.progress.done = job.progress.total;
        job.updated_at = Utc::now();
        self.save_job(&job).await?;
        tracing::info!(job = %job.id, report = %job.kind, rows = table.rows.len(), "report job ready");
        Ok(())
    }

    /// A job that cannot succeed however often it is tried: failed, with the reason.
    async fn fail(&self, mut job: Job, reason: String) -> anyhow::Result<()> {
        tracing::warn!(job = %job.id, reason = %reason, "report job failed");
        job.status = JobStatus::Failed;
        job.error = Some(reason);
        job.updated_at = Utc::now();
        self.save_job(&job).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn slices_cover_the_period_once() {
        let lo = t("2026-01-01T00:00:00Z");
        let hi = t("2026-04-30T23:59:59.999999Z");
        let s = slices(lo, hi);
        assert_eq!(s.first().unwrap().0, lo);
        assert_eq!(s.last().unwrap().1, hi);
        for pair in s.windows(2) {
            assert_eq!(pair[0].1 + Duration::microseconds(1), pair[1].0, "{pair:?}");
        }
        assert_eq!(s.len(), 4);
        assert_eq!(days(chrono_tz::UTC, lo, hi), 120);
        // Across a change of summer time the calendar decides, not the hours.
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            days(berlin, t("2026-05-17T22:00:00Z"), t("2026-12-03T22:59:59Z")),
            200
        );
        assert_eq!(slices(lo, lo), vec![(lo, lo)]);
    }

    #[test]
    fn only_long_files_of_the_orders_become_jobs() {
        let tz = chrono_tz::Europe::Berlin;
        let now = t("2026-12-01T12:00:00Z");
        let q = |kind: &str, extra: &[(&str, &str)]| {
            let params: BTreeMap<String, String> = extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            parse_query(kind, |n| params.get(n).cloned()).unwrap()
        };
        let long = [
            ("from", "2026-01-01"),
            ("to", "2026-06-30"),
            ("format", "csv"),
        ];
        let short = [
            ("from", "2026-06-01"),
            ("to", "2026-06-30"),
            ("format", "csv"),
        ];
        let check = |kind: &str, extra: &[(&str, &str)]| {
            let q = q(kind, extra);
            let p = period(&q, tz, now).unwrap();
            is_job(&q, &p)
        };
        assert!(check("customers", &long));
        assert!(!check("customers", &short));
        assert!(
            !check("customers", &long[..2]),
            "inline JSON is never a job"
        );
        assert!(!check("stock", &long));
        assert!(!check("settlement", &long));
    }

    #[test]
    fn job_ids_are_ours_only() {
        assert!(is_job_id(&uuid::Uuid::new_v4().simple().to_string()));
        assert!(!is_job_id("../../etc"));
        assert!(!is_job_id(&"A".repeat(32)));
    }

    #[test]
    fn the_files_key_is_stored_but_never_shown() {
        let now = t("2026-12-01T12:00:00Z");
        let job = Job {
            id: "a".repeat(32),
            kind: "customers".into(),
            query: BTreeMap::new(),
            status: JobStatus::Ready,
            progress: Progress { done: 3, total: 3 },
            created_at: now,
            created_by: "admin:x".into(),
            updated_at: now,
            rows: Some(1),
            error: None,
            file_key: Some("reports/customers/k.csv".into()),
        };
        let shown = serde_json::to_value(&job).unwrap();
        assert!(shown.get("fileKey").is_none(), "{shown}");
        let stored = serde_json::to_vec(&Stored {
            job: job.clone(),
            file: job.file_key.clone(),
        })
        .unwrap();
        let back: Stored = serde_json::from_slice(&stored).unwrap();
        assert_eq!(back.file.as_deref(), Some("reports/customers/k.csv"));
    }
}
