//! The process settings' versions, in the catalogue table.
//! Keys: pk `PROCESS`; sk `current` is the version in force now (what `GET /admin/process`
//! answers and what a write's `expectedVersion` is compared with), sk `AT#<updatedAt>` one
//! immutable item per version, keyed by the instant it took effect. A step that runs after the
//! change that triggered it reads the version in force at that change's commit time: the last
//! `AT#` at or before it, one Query of one item.
//!
//! The refund policy's return window is the settings' `returns.windowDays`: a refund-policy
//! write is a new version too, in the same transaction as the policy item.
//!
//! A version takes effect `EFFECT_DELAY` after it is written (its `updatedAt`). So every
//! version in force up to a few seconds past any moment is already committed at that moment,
//! and a container that read the newest versions at F answers for every instant up to
//! F + `EFFECT_DELAY` - `COMMIT_MARGIN` from memory: the `PROCESS` key is read a few times a
//! minute per container instead of once per step (thousands a second at peak, far above what
//! one partition serves).

use super::{key, Catalogue, Stamp};
use crate::repo::{from_item, is_retryable_transaction_failure, n, s, to_item, Item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};
use dropship_core::catalogue::RefundPolicy;
use dropship_core::process::{ProcessSettings, ProcessVersion};
use dropship_core::ApiError;

/// How long after it is written a version takes effect.
pub const EFFECT_DELAY: chrono::Duration = chrono::Duration::seconds(10);
/// The longest a write may take from its stamp to its commit (it takes milliseconds).
const COMMIT_MARGIN: chrono::Duration = chrono::Duration::seconds(5);
/// How many of the newest versions a container keeps.
const CACHED_VERSIONS: i32 = 20;

const PK: &str = "PROCESS";
const CURRENT: &str = "current";
const AT: &str = "AT#";

/// A version's sort key: its instant, fixed-width, so that text order is time order.
fn at_key(at: DateTime<Utc>) -> String {
    format!("{AT}{}", at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// What a write of a new version found: written, or someone else wrote first.
pub enum ProcessWrite {
    Written(ProcessVersion),
    /// `expectedVersion` was not the current version (409 `version_conflict`).
    Conflict(ApiError),
}

/// One page of earlier versions, newest first.
pub struct VersionPage {
    pub items: Vec<ProcessVersion>,
    pub next: Option<Item>,
}

/// The newest versions (oldest first) as read at `read_at`, and version 0 as it was then.
#[derive(Debug, Clone)]
pub(super) struct ProcessCache {
    read_at: DateTime<Utc>,
    versions: Vec<ProcessVersion>,
    /// Every version is among them (fewer than `CACHED_VERSIONS` came back).
    all: bool,
    initial: ProcessVersion,
}

impl ProcessCache {
    /// Every version in force at `at` was committed when this read was made.
    fn vouches_for(&self, at: DateTime<Utc>) -> bool {
        at <= self.read_at + EFFECT_DELAY - COMMIT_MARGIN
    }

    /// The version in force at `at`, if this read can tell: `at` is no later than what was
    /// committed when it was read, and no earlier than its oldest version (unless it has all).
    fn answer(&self, at: DateTime<Utc>) -> Option<ProcessVersion> {
        if !self.vouches_for(at) {
            return None;
        }
        match self.versions.iter().rev().find(|v| v.updated_at <= at) {
            Some(v) => Some(v.clone()),
            None if self.all => Some(self.initial.clone()),
            None => None,
        }
    }
}

impl Catalogue {
    /// The latest version written (strongly consistent), which `PUT /admin/process` compares
    /// `expectedVersion` with; it takes effect at its `updatedAt`. Before any write: the
    /// defaults, with the return window a refund policy stored before the settings existed had.
    pub async fn process(&self) -> anyhow::Result<ProcessVersion> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(PK, CURRENT)))
            .consistent_read(true)
            .send()
            .await
            .context("reading the process settings")?;
        match out.item {
            Some(item) => from_item(item),
            None => self.initial_process().await,
        }
    }

    /// Version 0: the defaults in force until the first write, dated at the epoch so that it is
    /// in force at every instant before the first write.
    async fn initial_process(&self) -> anyhow::Result<ProcessVersion> {
        let mut v = ProcessVersion::initial(DateTime::<Utc>::UNIX_EPOCH);
        if let Some(p) = self.get::<StoredPolicy>("POLICY", "refund").await? {
            if let Some(days) = p.return_window_days {
                v.settings.returns.window_days = days;
            }
        }
        Ok(v)
    }

    /// The version in force at `at`: the last that took effect at or before it. A step decides
    /// with the version in force when the change that triggered it committed, even when it runs
    /// later. Answered from the container's cache when it can tell (`ProcessCache::answer`),
    /// else from the newest versions read again, else (an instant older than those) by a query.
    pub async fn process_at(&self, at: DateTime<Utc>) -> anyhow::Result<ProcessVersion> {
        match self.cached_answer(at) {
            Some(Some(v)) => return Ok(v),
            // A fresh read that holds only newer versions: reading them again tells no more.
            Some(None) => return self.process_at_uncached(at).await,
            None => {}
        }
        let read_at = Utc::now();
        let out = self
            .versions_query()
            .scan_index_forward(false)
            .limit(CACHED_VERSIONS)
            .consistent_read(true)
            .send()
            .await
            .context("reading the newest process versions")?;
        let mut versions: Vec<ProcessVersion> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<anyhow::Result<_>>()?;
        versions.reverse();
        let all = versions.len() < CACHED_VERSIONS as usize;
        let initial = if all && versions.is_empty() {
            self.initial_process().await?
        } else {
            ProcessVersion::initial(DateTime::<Utc>::UNIX_EPOCH)
        };
        let cache = ProcessCache {
            read_at,
            versions,
            all,
            initial,
        };
        let answer = cache.answer(at);
        if let Ok(mut slot) = self.process_cache.lock() {
            *slot = Some(cache);
        }
        match answer {
            Some(v) => Ok(v),
            None => self.process_at_uncached(at).await,
        }
    }

    /// What the cached read says of `at`: None when there is no read or it is too old for `at`;
    /// Some(None) when it is fresh but `at` is older than the versions it holds.
    fn cached_answer(&self, at: DateTime<Utc>) -> Option<Option<ProcessVersion>> {
        let slot = self.process_cache.lock().ok()?;
        let cache = slot.as_ref()?;
        cache.vouches_for(at).then(|| cache.answer(at))
    }

    /// The version in force at `at`, read by one query (an instant older than the cached ones,
    /// or one ahead of every read).
    async fn process_at_uncached(&self, at: DateTime<Utc>) -> anyhow::Result<ProcessVersion> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(PK))
            .expression_attribute_values(":lo", s(AT))
            .expression_attribute_values(":hi", s(at_key(at)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .context("reading the process settings in force")?;
        match out.items.unwrap_or_default().into_iter().next() {
            Some(item) => from_item(item),
            None => self.initial_process().await,
        }
    }

    /// Earlier versions, newest first, `limit` a page, after `start` (a page's `next`).
    pub async fn process_versions(
        &self,
        limit: i32,
        start: Option<Item>,
    ) -> anyhow::Result<VersionPage> {
        let out = self
            .versions_query()
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("listing the process versions")?;
        Ok(VersionPage {
            items: out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(from_item)
                .collect::<anyhow::Result<_>>()?,
            next: out.last_evaluated_key,
        })
    }

    /// Every version written, oldest first.
    pub async fn all_process_versions(&self) -> anyhow::Result<Vec<ProcessVersion>> {
        let query = self.versions_query().consistent_read(true);
        crate::repo::query_all(query, "reading the process versions").await
    }

    /// A query of every dated version, oldest first unless told otherwise.
    fn versions_query(&self) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :at)")
            .expression_attribute_values(":pk", s(PK))
            .expression_attribute_values(":at", s(AT))
    }

    /// Writes `settings` as the next version if `expected` is still the current one.
    pub async fn put_process(
        &self,
        expected: u32,
        settings: ProcessSettings,
        by: &str,
    ) -> anyhow::Result<ProcessWrite> {
        let current = self.process().await?;
        let next = match current.next(
            dropship_core::process::ProcessUpdate {
                expected_version: expected,
                settings,
            },
            by,
            next_instant(&current),
        ) {
            Ok(next) => next,
            Err(conflict) => return Ok(ProcessWrite::Conflict(conflict)),
        };
        match self.write_version(&current, &next, None).await? {
            true => Ok(ProcessWrite::Written(next)),
            false => Ok(ProcessWrite::Conflict(conflict_after(expected))),
        }
    }

    /// Stores the refund policy; its return window becomes the process settings'
    /// `returns.windowDays` in a new version written with it (read again if another write
    /// came between). Answers the version written.
    pub async fn put_refund_policy(
        &self,
        p: &RefundPolicy,
        by: &str,
    ) -> anyhow::Result<ProcessVersion> {
        for _ in 0..5 {
            let current = self.process().await?;
            let mut settings = current.settings;
            settings.returns.window_days = p.return_window_days;
            let next = current
                .next(
                    dropship_core::process::ProcessUpdate {
                        expected_version: current.version,
                        settings,
                    },
                    by,
                    next_instant(&current),
                )
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let policy = to_item(
                &StoredPolicy {
                    allocation: p.allocation,
                    return_window_days: Some(p.return_window_days),
                    updated_at: Some(Utc::now()),
                    updated_by: Some(by.to_string()),
                },
                &[("pk", "POLICY"), ("sk", "refund")],
            )?;
            if self.write_version(&current, &next, Some(policy)).await? {
                return Ok(next);
            }
        }
        anyhow::bail!("the process settings kept changing while the refund policy was written")
    }

    /// The refund policy as last written, for the admin's GET: its allocation as stored, its
    /// return window the latest process version's (written, possibly not yet in force: a PUT
    /// reads back what it wrote), with who wrote the policy item last and when (none for a
    /// policy stored before that was kept, or never PUT).
    pub async fn get_refund_policy_stamped(&self) -> anyhow::Result<(RefundPolicy, Stamp)> {
        let (stored, process) =
            tokio::try_join!(self.get_item("POLICY", "refund"), self.process())?;
        let stored: Option<StoredPolicy> = stored.map(from_item).transpose()?;
        let stamp = stored
            .as_ref()
            .map(|p| Stamp {
                updated_at: p.updated_at,
                updated_by: p.updated_by.clone(),
            })
            .unwrap_or_default();
        let policy = RefundPolicy {
            allocation: stored.map(|p| p.allocation).unwrap_or_default(),
            return_window_days: process.settings.returns.window_days,
        };
        Ok((policy, stamp))
    }

    /// The refund policy: its allocation as stored, its return window the settings' in force now.
    pub async fn get_refund_policy(&self) -> anyhow::Result<RefundPolicy> {
        let (stored, process) = tokio::try_join!(
            self.get::<StoredPolicy>("POLICY", "refund"),
            self.process_at(Utc::now())
        )?;
        Ok(RefundPolicy {
            allocation: stored.map(|p| p.allocation).unwrap_or_default(),
            return_window_days: process.settings.returns.window_days,
        })
    }

    /// `next` as the current version and as its own dated item, if `current` is still the one
    /// stored (with `also`, one more item, in the same transaction). False: someone wrote first.
    async fn write_version(
        &self,
        current: &ProcessVersion,
        next: &ProcessVersion,
        also: Option<Item>,
    ) -> anyhow::Result<bool> {
        let mut current_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(next, &[("pk", PK), ("sk", CURRENT)])?));
        current_put = if current.version == 0 {
            current_put.condition_expression("attribute_not_exists(pk)")
        } else {
            current_put
                .condition_expression("version = :read")
                .expression_attribute_values(":read", n(current.version))
        };
        let dated = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(
                next,
                &[("pk", PK), ("sk", &at_key(next.updated_at))],
            )?))
            .condition_expression("attribute_not_exists(pk)");
        let mut items = vec![
            TransactWriteItem::builder()
                .put(current_put.build()?)
                .build(),
            TransactWriteItem::builder().put(dated.build()?).build(),
        ];
        if let Some(item) = also {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .build()?,
                    )
                    .build(),
            );
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_retryable_transaction_failure(&e) => Ok(false),
            Err(e) => Err(e).context("writing the process settings"),
        }
    }
}

/// The refund policy item. `returnWindowDays` is written for builds that read it there, and
/// read only while no process version exists (then it is version 0's window).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPolicy {
    #[serde(default)]
    allocation: dropship_core::money::Allocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    return_window_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_by: Option<String>,
}

/// A new version's instant: `EFFECT_DELAY` from now, but always after the current one's, so that
/// the versions' dated keys sort in version order even if clocks disagree.
fn next_instant(current: &ProcessVersion) -> DateTime<Utc> {
    (Utc::now() + EFFECT_DELAY).max(current.updated_at + chrono::Duration::microseconds(1))
}

/// The conflict when another write came between the read and the write.
fn conflict_after(expected: u32) -> ApiError {
    ApiError::conflict(
        dropship_core::error::ErrorCode::VersionConflict,
        format!("expectedVersion {expected} is no longer the current version"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_keys_sort_in_time_order() {
        let a = DateTime::parse_from_rfc3339("2026-12-03T09:59:59.999999Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        let c = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(at_key(a) < at_key(b) && at_key(b) < at_key(c));
        assert_eq!(at_key(b), "AT#2026-12-03T10:00:00.000000Z");
    }

    fn version(n: u32, at: DateTime<Utc>) -> ProcessVersion {
        let mut v = ProcessVersion::initial(at);
        v.version = n;
        v
    }

    #[test]
    fn a_cached_read_answers_only_up_to_what_was_committed_when_it_was_read() {
        let read_at: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().unwrap();
        let at = |s: i64| read_at + chrono::Duration::seconds(s);
        let cache = ProcessCache {
            read_at,
            versions: vec![version(1, at(-100)), version(2, at(3))],
            all: true,
            initial: version(0, DateTime::<Utc>::UNIX_EPOCH),
        };
        let answer = |s| cache.answer(at(s)).map(|v| v.version);
        assert_eq!(answer(-200), Some(0), "before the first: the defaults");
        assert_eq!(answer(-100), Some(1));
        assert_eq!(answer(2), Some(1));
        assert_eq!(
            answer(3),
            Some(2),
            "written before the read, in force 3 s after it"
        );
        assert_eq!(answer(5), Some(2));
        // Past what the read can vouch for: a version written after it may take effect then.
        assert_eq!(answer(6), None);
        let newest_only = ProcessCache {
            all: false,
            ..cache.clone()
        };
        assert_eq!(
            newest_only.answer(at(-200)).map(|v| v.version),
            None,
            "older than it holds"
        );
    }

    #[test]
    fn a_version_takes_effect_some_seconds_after_it_is_written() {
        let written = Utc::now();
        let next = next_instant(&ProcessVersion::default());
        assert!(next >= written + EFFECT_DELAY);
        assert!(EFFECT_DELAY > COMMIT_MARGIN);
    }

    #[test]
    fn a_new_version_is_dated_after_the_current_one() {
        let mut current = ProcessVersion::initial(Utc::now() + chrono::Duration::hours(1));
        current.version = 3;
        assert!(next_instant(&current) > current.updated_at);
    }
}
