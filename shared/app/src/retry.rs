//! The one retry loop: read, plan, commit; on a conflict read and plan again. Follow-ups are
//! the caller's, after the loop returns: they go out only for a committed change, once.

use crate::ports::{ChangeCommitter, ChangeSet};
use dropship_aws::repo::changes::Outcome;
use dropship_core::ApiError;

/// Reads, plans and commits before a use case gives up. A conflict means someone wrote the same
/// order, delivery order, return or stock between our read and our write: another request or
/// message about the same order, each over in tens of milliseconds. Five fresh reads outlast a
/// burst of such writers (the races e2e test runs several at once) while a request that still
/// loses answers well within a second; a message that loses is redelivered by its queue anyway.
pub const ATTEMPTS: usize = 5;

/// What one attempt planned.
pub enum Attempt<T> {
    /// Nothing to write: this is the answer as read.
    Done(T),
    /// Commit the change; once it is committed the answer is `T`.
    Commit(Box<ChangeSet>, T),
}

/// What the loop logs (a warning) before it tries again, and the id it logs it with.
pub struct Retry<'a> {
    pub message: &'static str,
    pub id: &'a str,
}

/// Runs `attempt` (read and plan) and commits its change, up to `ATTEMPTS` times. A conflict
/// goes to `on_conflict`: `None` tries again, `Some(answer)` ends the loop with it. When every
/// attempt conflicted, the answer is `exhausted()`.
///
/// (`attempt` is a closure returning a future rather than an async closure: the futures of async
/// closures are not yet provably `Send` for every lifetime, which Lambda's runtime requires.)
pub async fn commit_with_retries<T, E, Fut>(
    committer: &impl ChangeCommitter,
    retry: Retry<'_>,
    mut attempt: impl FnMut() -> Fut,
    mut on_conflict: impl FnMut(&Outcome, &T) -> Option<Result<T, E>>,
    exhausted: impl FnOnce() -> E,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<Attempt<T>, E>>,
    E: From<anyhow::Error>,
{
    for n in 1..=ATTEMPTS {
        let (change, answer) = match attempt().await? {
            Attempt::Done(answer) => return Ok(answer),
            Attempt::Commit(change, answer) => (change, answer),
        };
        match committer.commit(&change).await? {
            Outcome::Committed => return Ok(answer),
            outcome => {
                if let Some(end) = on_conflict(&outcome, &answer) {
                    return end;
                }
                tracing::warn!(id = %retry.id, attempt = n, outcome = ?outcome, "{}", retry.message);
            }
        }
    }
    Err(exhausted())
}

/// Every conflict is worth another attempt.
pub fn always_retry<T, E>(_: &Outcome, _: &T) -> Option<Result<T, E>> {
    None
}

/// The 409 a request gets when what it changes kept changing under it.
pub fn kept_changing(what: &str) -> ApiError {
    ApiError::conflict(
        dropship_core::ErrorCode::ConcurrentModification,
        format!("the {what} kept changing; please retry"),
    )
}
