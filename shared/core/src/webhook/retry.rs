//! A delivery's life (docs/api.md "Webhooks"): a 2xx delivers it; anything else is retried after
//! about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then it is `failed` (and the sender raises
//! the alert). Eight attempts in all, spread over about 28 hours.

use super::event::EventType;
use crate::error::ErrorCode;
use crate::ApiError;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The waits after the first, second, ... seventh failed attempt.
const SCHEDULE_SECS: [u64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// How many attempts a delivery gets before it fails: the first and one per wait.
pub const MAX_ATTEMPTS: u32 = SCHEDULE_SECS.len() as u32 + 1;

/// The wait before the next attempt once attempt `attempt_number` (1 for the first) has failed;
/// None once the schedule is spent (the delivery fails) and for 0, which is no attempt.
pub fn next_attempt(attempt_number: u32) -> Option<Duration> {
    let i = usize::try_from(attempt_number.checked_sub(1)?).ok()?;
    SCHEDULE_SECS.get(i).copied().map(Duration::from_secs)
}

/// Where a delivery stands, as `GET /webhooks/{id}/deliveries` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; `next_attempt_at` says when it is tried.
    Pending,
    Delivered,
    /// The schedule is spent: nothing more is tried until someone retries it by hand.
    Failed,
}

/// What one attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered within the time limit with this status.
    Answered(u16),
    /// No answer in time: a timeout, a refused or reset connection, or an address the guard
    /// refused at this attempt (the host now resolves somewhere private).
    NoAnswer,
}

impl Outcome {
    fn delivers(self) -> bool {
        matches!(self, Self::Answered(200..=299))
    }
}

/// What recording an attempt did, for the sender: on `Failed` it raises the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    RetryAt(DateTime<Utc>),
    Failed,
    /// The delivery was already settled (a duplicate of an attempt, as at-least-once queues
    /// give): nothing changed.
    AlreadySettled,
}

/// One message to one subscription, its attempts and where it stands; serialized as the
/// deliveries list shows it (`{id, event, attempts, status, lastStatusCode?, nextAttemptAt?}`).
/// The `id` is the message's `webhook-id`: the same on every attempt and on a retry by hand,
/// so that a receiver can drop a message it already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub event: EventType,
    pub attempts: u32,
    pub status: DeliveryStatus,
    /// The status the last attempt was answered with; absent when it got no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    /// When a pending delivery is tried next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// A new message, due at once.
    pub fn new(id: String, event: EventType, now: DateTime<Utc>) -> Self {
        Self {
            id,
            event,
            attempts: 0,
            status: DeliveryStatus::Pending,
            last_status_code: None,
            next_attempt_at: Some(now),
        }
    }

    /// True when the sender should attempt it at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.status == DeliveryStatus::Pending && self.next_attempt_at.is_none_or(|at| at <= now)
    }

    /// Records an attempt that ended at `now` with `outcome`.
    pub fn record(&mut self, outcome: Outcome, now: DateTime<Utc>) -> Recorded {
        if self.status != DeliveryStatus::Pending {
            return Recorded::AlreadySettled;
        }
        self.attempts = self.attempts.saturating_add(1);
        self.last_status_code = match outcome {
            Outcome::Answered(code) => Some(code),
            Outcome::NoAnswer => None,
        };
        if outcome.delivers() {
            self.settle(DeliveryStatus::Delivered);
            return Recorded::Delivered;
        }
        let wait = next_attempt(self.attempts)
            .and_then(|d| TimeDelta::from_std(d).ok())
            .and_then(|d| now.checked_add_signed(d));
        match wait {
            Some(at) => {
                self.next_attempt_at = Some(at);
                Recorded::RetryAt(at)
            }
            None => {
                self.settle(DeliveryStatus::Failed);
                Recorded::Failed
            }
        }
    }

    /// `POST .../deliveries/{id}/retry`: a failed delivery gets one more attempt now (it keeps
    /// its attempts, so that attempt failing fails it again, with a new alert); a pending one
    /// is tried now instead of at its time. A delivered one is refused (409 invalid_state): the
    /// receiver has it.
    pub fn retry(&mut self, now: DateTime<Utc>) -> Result<(), ApiError> {
        if self.status == DeliveryStatus::Delivered {
            return Err(ApiError::conflict(
                ErrorCode::InvalidState,
                format!("delivery {} was delivered", self.id),
            ));
        }
        self.status = DeliveryStatus::Pending;
        self.next_attempt_at = Some(now);
        Ok(())
    }

    fn settle(&mut self, status: DeliveryStatus) {
        self.status = status;
        self.next_attempt_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn delivery() -> Delivery {
        Delivery::new("msg_1".into(), EventType::OrderShipped, at(0))
    }

    #[test]
    fn the_schedule_is_docs_api_md_then_nothing() {
        let waits: Vec<_> = (0..=9).map(next_attempt).collect();
        let s = Duration::from_secs;
        assert_eq!(
            waits,
            [
                None,
                Some(s(5)),
                Some(s(300)),
                Some(s(1800)),
                Some(s(7200)),
                Some(s(18000)),
                Some(s(36000)),
                Some(s(36000)),
                None,
                None
            ]
        );
        assert_eq!(MAX_ATTEMPTS, 8);
        assert_eq!(next_attempt(u32::MAX), None);
    }

    #[test]
    fn a_2xx_delivers_and_anything_else_waits_for_the_next_attempt() {
        for code in [200, 201, 204, 299] {
            let mut d = delivery();
            assert_eq!(
                d.record(Outcome::Answered(code), at(1)),
                Recorded::Delivered
            );
            assert_eq!(
                (d.status, d.attempts, d.last_status_code, d.next_attempt_at),
                (DeliveryStatus::Delivered, 1, Some(code), None)
            );
        }
        for (outcome, code) in [
            (Outcome::Answered(500), Some(500)),
            (Outcome::Answered(300), Some(300)),
            (Outcome::Answered(301), Some(301)),
            (Outcome::Answered(404), Some(404)),
            (Outcome::Answered(199), Some(199)),
            (Outcome::NoAnswer, None),
        ] {
            let mut d = delivery();
            assert_eq!(d.record(outcome, at(1)), Recorded::RetryAt(at(6)));
            assert_eq!(
                (d.status, d.attempts, d.last_status_code, d.next_attempt_at),
                (DeliveryStatus::Pending, 1, code, Some(at(6))),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn eight_failed_attempts_fail_it_and_the_api_view_says_so() {
        let mut d = delivery();
        let mut now = 0;
        let mut retries = vec![];
        for _ in 1..MAX_ATTEMPTS {
            assert!(d.is_due(at(now)));
            match d.record(Outcome::Answered(503), at(now)) {
                Recorded::RetryAt(t) => {
                    retries.push((t - at(now)).num_seconds());
                    assert!(!d.is_due(t - TimeDelta::seconds(1)));
                    now = t.timestamp() - at(0).timestamp();
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(retries, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(d.record(Outcome::NoAnswer, at(now)), Recorded::Failed);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"id": "msg_1", "event": "order.shipped", "attempts": 8,
                "status": "failed"})
        );
        // A duplicate of the last attempt changes nothing.
        assert_eq!(
            d.record(Outcome::Answered(200), at(now)),
            Recorded::AlreadySettled
        );
        assert_eq!(d.status, DeliveryStatus::Failed);
    }

    #[test]
    fn a_retry_by_hand_tries_once_more_now_and_keeps_the_id() {
        let mut d = delivery();
        while d.record(Outcome::Answered(500), at(0)) != Recorded::Failed {}
        d.retry(at(100)).unwrap();
        assert!(d.is_due(at(100)));
        assert_eq!(
            (d.id.as_str(), d.status, d.next_attempt_at),
            ("msg_1", DeliveryStatus::Pending, Some(at(100)))
        );
        assert_eq!(d.record(Outcome::Answered(500), at(101)), Recorded::Failed);
        d.retry(at(200)).unwrap();
        assert_eq!(
            d.record(Outcome::Answered(204), at(201)),
            Recorded::Delivered
        );
        let e = d.retry(at(300)).unwrap_err();
        assert_eq!((e.status, e.code), (409, ErrorCode::InvalidState));
        assert_eq!(d.attempts, MAX_ATTEMPTS + 2);

        // A pending delivery is brought forward and keeps its place in the schedule.
        let mut d = delivery();
        d.record(Outcome::NoAnswer, at(0));
        d.retry(at(1)).unwrap();
        assert_eq!(
            d.record(Outcome::NoAnswer, at(2)),
            Recorded::RetryAt(at(302))
        );
    }

    #[test]
    fn the_api_view_reads_back() {
        let mut d = delivery();
        d.record(Outcome::Answered(502), at(0));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["lastStatusCode"], 502);
        assert_eq!(v["status"], "pending");
        assert!(v["nextAttemptAt"].is_string());
        assert_eq!(serde_json::from_value::<Delivery>(v).unwrap(), d);
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            (100u16..600).prop_map(Outcome::Answered),
            Just(Outcome::NoAnswer)
        ]
    }

    proptest! {
        #[test]
        fn any_run_of_attempts_ends_after_at_most_eight_and_keeps_its_fields_consistent(
            outcomes in proptest::collection::vec(outcome(), 1..20),
        ) {
            let mut d = delivery();
            let mut now = at(0);
            for o in outcomes {
                let before = d.attempts;
                let r = d.record(o, now);
                match r {
                    Recorded::Delivered => prop_assert!(o.delivers()),
                    Recorded::RetryAt(t) => {
                        prop_assert!(t > now && d.attempts < MAX_ATTEMPTS);
                        now = t;
                    }
                    Recorded::Failed => prop_assert_eq!(d.attempts, MAX_ATTEMPTS),
                    Recorded::AlreadySettled => prop_assert_eq!(d.attempts, before),
                }
                prop_assert!(d.attempts <= MAX_ATTEMPTS);
                prop_assert_eq!(
                    d.next_attempt_at.is_some(),
                    d.status == DeliveryStatus::Pending
                );
            }
        }
    }
}
