//! The AWS side of one invocation: calls made, the time with at least one of them in flight,
//! and where a kill fault strikes. Filled in by the slot's AWS proxy while the function runs,
//! read by the pool when the invocation ends; separate because both sides share it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::faults::KillPoint;

/// The AWS side of one invocation, filled in by the slot's proxy: how long at least one AWS
/// call was in flight, calls made, and where a kill fault (if one was drawn) strikes.
pub struct Meter {
    aws: Mutex<AwsClock>,
    calls: AtomicU32,
    /// Points passed so far: before call 1, after call 1, before call 2, ...
    points: AtomicU32,
    kill_at: Option<KillPoint>,
    killed: AtomicBool,
    /// A DynamoDB write of this invocation succeeded: what follows is follow-up work.
    committed: AtomicBool,
}

impl Meter {
    pub(super) fn new(kill_at: Option<KillPoint>) -> Meter {
        Meter {
            aws: Mutex::new(AwsClock::default()),
            calls: AtomicU32::new(0),
            points: AtomicU32::new(0),
            kill_at,
            killed: AtomicBool::new(false),
            committed: AtomicBool::new(false),
        }
    }

    /// Passes one point of the invocation; true if the kill fault strikes here.
    pub fn step(&self) -> bool {
        let i = self.points.fetch_add(1, Ordering::SeqCst);
        self.kill_at == Some(KillPoint::Point(i)) && !self.killed.swap(true, Ordering::SeqCst)
    }

    /// Before an AWS call: true if a kill between commit and follow-up strikes here.
    pub fn before_call(&self, service: &str, operation: &str) -> bool {
        self.kill_at == Some(KillPoint::BeforeFollowUp)
            && self.committed.load(Ordering::SeqCst)
            && is_follow_up(service, operation)
            && !self.killed.swap(true, Ordering::SeqCst)
    }

    /// After an AWS call's answer: a successful DynamoDB write is a commit.
    pub fn after_call(&self, service: &str, operation: &str, succeeded: bool) {
        if succeeded && service == "dynamodb" && is_write(operation) {
            self.committed.store(true, Ordering::SeqCst);
        }
    }

    /// At the reply: a kill drawn for a point the invocation never reached strikes now.
    pub(super) fn due_at_reply(&self) -> bool {
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

    /// AWS calls made so far.
    pub(super) fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(super) fn aws_time(&self) -> Duration {
        let c = self.aws.lock().unwrap_or_else(|p| p.into_inner());
        c.busy + c.since.map(|s| s.elapsed()).unwrap_or_default()
    }
}

fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem"
    )
}

/// Work handed on: a message to a queue or topic, or a mail.
fn is_follow_up(service: &str, operation: &str) -> bool {
    matches!(
        (service, operation),
        ("sqs", "SendMessage" | "SendMessageBatch")
            | ("sns", "Publish" | "PublishBatch")
            | ("ses", "SendEmail" | "SendRawEmail")
    )
}

/// Wall time with at least one AWS call in flight: concurrent calls count once, so that an
/// invocation's own time is its duration minus this.
#[derive(Default)]
struct AwsClock {
    in_flight: u32,
    since: Option<Instant>,
    busy: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kill_fault_strikes_once_at_its_point_or_at_the_reply() {
        let m = Meter::new(Some(KillPoint::Point(1)));
        assert!(!m.step());
        assert!(m.step());
        assert!(!m.step());
        assert!(!m.due_at_reply(), "it already struck");

        let never_reached = Meter::new(Some(KillPoint::Point(5)));
        assert!(!never_reached.step());
        assert!(never_reached.due_at_reply());
        assert!(!never_reached.due_at_reply());

        assert!(!Meter::new(None).due_at_reply());
    }

    #[test]
    fn a_kill_before_follow_up_strikes_at_the_first_send_after_a_write() {
        let m = Meter::new(Some(KillPoint::BeforeFollowUp));
        assert!(
            !m.before_call("sqs", "SendMessage"),
            "nothing committed yet"
        );
        m.after_call("dynamodb", "TransactWriteItems", false);
        assert!(
            !m.before_call("sqs", "SendMessage"),
            "a failed write commits nothing"
        );
        m.after_call("dynamodb", "GetItem", true);
        assert!(!m.before_call("ses", "SendEmail"), "a read commits nothing");
        m.after_call("dynamodb", "PutItem", true);
        assert!(!m.before_call("dynamodb", "GetItem"), "not a follow-up");
        assert!(m.before_call("ses", "SendEmail"));
        assert!(!m.before_call("sqs", "SendMessage"), "it struck once");
        assert!(!m.due_at_reply());

        let no_send = Meter::new(Some(KillPoint::BeforeFollowUp));
        no_send.after_call("dynamodb", "UpdateItem", true);
        assert!(
            no_send.due_at_reply(),
            "no follow-up sent: it strikes at the reply"
        );
    }

    #[test]
    fn concurrent_calls_count_once_in_the_aws_time() {
        let m = Meter::new(None);
        m.call_started();
        m.call_started();
        m.call_finished();
        m.call_finished();
        m.add_call_without_time();
        assert_eq!(m.calls(), 3);
        let busy = m.aws_time();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            m.aws_time(),
            busy,
            "no call in flight, the clock stands still"
        );
    }
}
