//! Fault injection, off until a test posts a rule to `POST /_local/faults` (and off again after
//! `DELETE /_local/faults`): kill a function's process at a random point of an invocation,
//! deliver SQS messages two or three times, delay them, and make chosen AWS calls fail with
//! the service's own throttling or 500 error. These are the faults AWS promises will happen;
//! the system must lose and double nothing under them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

/// A number in [0, 1), from the OS's randomness (via uuid's v4 source; no extra dependency).
pub fn random_unit() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() >> 64) as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// A whole number in `lo..=hi`.
pub fn random_in(lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = (hi - lo + 1) as f64;
    lo + ((random_unit() * span) as u64).min(hi - lo)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// The service's throttling error (the SDK retries it, then gives up).
    Throttle,
    /// HTTP 500 in the service's error shape.
    ServerError,
}

impl FailKind {
    fn name(self) -> &'static str {
        match self {
            FailKind::Throttle => "throttle",
            FailKind::ServerError => "500",
        }
    }
}

/// How often a fault may still fire: `None` = unlimited.
#[derive(Debug, Clone, Copy)]
struct Budget(Option<u64>);

impl Budget {
    fn open(&self) -> bool {
        self.0 != Some(0)
    }

    fn spend(&mut self) {
        if let Some(n) = &mut self.0 {
            *n = n.saturating_sub(1);
        }
    }
}

#[derive(Debug, Clone)]
struct Kill {
    probability: f64,
    budget: Budget,
    /// A fixed point (`afterCall`, `beforeFollowUp`) instead of a random one.
    point: Option<KillPoint>,
}

/// Where in an invocation a kill strikes (the meter of the invocation decides when).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillPoint {
    /// Points counted from 0: before call 1, after call 1, before call 2, ...
    Point(u32),
    /// Between a commit and the work it causes: right before the first message or mail sent
    /// (SQS, SNS, SES) after a DynamoDB write succeeded; at the reply if none is sent.
    BeforeFollowUp,
}

#[derive(Debug, Clone)]
struct Duplicate {
    times: (u64, u64),
    concurrent: bool,
}

#[derive(Debug, Clone)]
struct FailAws {
    service: Option<String>,
    operation: Option<String>,
    kind: FailKind,
    probability: f64,
    budget: Budget,
}

#[derive(Debug, Clone, Default)]
struct Fired {
    kills: u64,
    duplicates: u64,
    delays: u64,
    aws_failures: u64,
}

#[derive(Debug, Clone)]
struct Rule {
    id: u64,
    /// Binary name; `None` = every function.
    function: Option<String>,
    kill: Option<Kill>,
    duplicate: Option<Duplicate>,
    delay_ms: Option<(u64, u64)>,
    fail_aws: Option<FailAws>,
    fired: Fired,
    source: Value,
}

impl Rule {
    fn applies_to(&self, function: &str) -> bool {
        self.function.as_deref().is_none_or(|f| f == function)
    }
}

/// What the faults did to one function so far (shown in `/_local/stats`).
#[derive(Debug, Clone, Default)]
pub struct FaultCounts {
    pub killed: u64,
    /// Extra deliveries of SQS batches (a batch delivered three times counts 2).
    pub duplicate_batches: u64,
    /// Extra deliveries of single messages.
    pub duplicate_messages: u64,
    pub delayed_batches: u64,
    pub failed_aws_calls: u64,
}

impl FaultCounts {
    pub fn to_json(&self) -> Value {
        json!({
            "killed": self.killed,
            "duplicateBatches": self.duplicate_batches,
            "duplicateMessages": self.duplicate_messages,
            "delayedBatches": self.delayed_batches,
            "failedAwsCalls": self.failed_aws_calls,
        })
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    next_id: u64,
    counts: BTreeMap<String, FaultCounts>,
}

#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
}

// ------------------------------------------------------------------ the JSON a test posts

#[derive(Deserialize)]
#[serde(untagged)]
enum Range {
    One(u64),
    Two([u64; 2]),
}

impl Range {
    fn bounds(&self) -> (u64, u64) {
        match *self {
            Range::One(n) => (n, n),
            Range::Two([a, b]) => (a.min(b), a.max(b)),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KillIn {
    /// `"kill": true`: every invocation, at a random point.
    Always(bool),
    Spec(KillSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KillSpec {
    probability: Option<f64>,
    count: Option<u64>,
    /// Kill right after the invocation's n-th AWS call (1-based) got its answer: to hit one
    /// window of a function's work on purpose rather than by chance.
    after_call: Option<u32>,
    /// Kill between the commit and its follow-ups (see [`KillPoint::BeforeFollowUp`]).
    #[serde(default)]
    before_follow_up: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateIn {
    times: Range,
    #[serde(default)]
    concurrent: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailAwsIn {
    function: Option<String>,
    service: Option<String>,
    operation: Option<String>,
    kind: String,
    count: Option<u64>,
    probability: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleIn {
    function: Option<String>,
    kill: Option<KillIn>,
    duplicate: Option<DuplicateIn>,
    delay_ms: Option<Range>,
    fail_aws: Option<FailAwsIn>,
}

fn probability(p: Option<f64>, what: &str) -> Result<f64, String> {
    match p {
        None => Ok(1.0),
        Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Some(p) => Err(format!("{what}.probability {p} is not between 0 and 1")),
    }
}

impl Faults {
    /// Adds a rule from its JSON; `known` says whether a binary name is a function of the
    /// stack. Returns the rule as stored (with its id), or what is wrong with it.
    pub fn add(&self, body: &Value, known: impl Fn(&str) -> bool) -> Result<Value, String> {
        let input: RuleIn = serde_json::from_value(body.clone()).map_err(|e| {
            format!(
                "{e}; expected {{function?, kill?: true | {{probability?, count?}}, duplicate?: \
                 {{times: 2 | [2, 3], concurrent?}}, delayMs?: 500 | [100, 900], failAws?: \
                 {{function?, service?, operation?, kind: \"throttle\" | \"500\", count?, probability?}}}}"
            )
        })?;
        let fail_function = input.fail_aws.as_ref().and_then(|f| f.function.clone());
        let function = match (input.function, fail_function) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "function `{a}` and failAws.function `{b}` disagree; post two rules"
                ))
            }
            (a, b) => a.or(b),
        };
        if let Some(f) = &function {
            if !known(f) {
                return Err(format!(
                    "no function `{f}` (use the binary name, e.g. `split-router`)"
                ));
            }
        }
        let kill = match input.kill {
            None | Some(KillIn::Always(false)) => None,
            Some(KillIn::Always(true)) => Some(Kill {
                probability: 1.0,
                budget: Budget(None),
                point: None,
            }),
            Some(KillIn::Spec(k)) => Some(Kill {
                probability: probability(k.probability, "kill")?,
                budget: Budget(k.count),
                point: match (k.after_call, k.before_follow_up) {
                    (Some(_), true) => {
                        return Err("kill: afterCall or beforeFollowUp, not both".into())
                    }
                    (None, true) => Some(KillPoint::BeforeFollowUp),
                    (None, false) => None,
                    (Some(0), _) => return Err("kill.afterCall counts calls from 1".into()),
                    // Points: before call 1, after call 1, before call 2, ...
                    (Some(n), false) => Some(KillPoint::Point(2 * n - 1)),
                },
            }),
        };
        let duplicate = match input.duplicate {
            None => None,
            Some(d) => {
                let (lo, hi) = d.times.bounds();
                if !(2..=10).contains(&lo) || hi > 10 {
                    return Err("duplicate.times must be from 2 to 10 (deliveries in all)".into());
                }
                Some(Duplicate {
                    times: (lo, hi),
                    concurrent: d.concurrent,
                })
            }
        };
        let delay_ms = input.delay_ms.map(|r| r.bounds());
        if delay_ms.is_some_and(|(_, hi)| hi > 15 * 60 * 1000) {
            return Err("delayMs is at most 900000 (15 minutes)".into());
        }
        let fail_aws = match input.fail_aws {
            None => None,
            Some(f) => Some(FailAws {
                kind: match f.kind.as_str() {
                    "throttle" => FailKind::Throttle,
                    "500" | "error" => FailKind::ServerError,
                    other => {
                        return Err(format!(
                            "failAws.kind `{other}` is neither \"throttle\" nor \"500\""
                        ))
                    }
                },
                service: f.service.map(|s| s.to_ascii_lowercase()),
                operation: f.operation,
                probability: probability(f.probability, "failAws")?,
                budget: Budget(f.count),
            }),
        };
        if kill.is_none() && duplicate.is_none() && delay_ms.is_none() && fail_aws.is_none() {
            return Err("the rule has no fault: give kill, duplicate, delayMs or failAws".into());
        }
        let mut st = self.lock();
        st.next_id += 1;
        let rule = Rule {
            id: st.next_id,
            function,
            kill,
            duplicate,
            delay_ms,
            fail_aws,
            fired: Fired::default(),
            source: body.clone(),
        };
        let shown = rule_json(&rule);
        st.rules.push(rule);
        Ok(shown)
    }

    /// Removes every rule (what the faults did stays counted).
    pub fn clear(&self) -> usize {
        let mut st = self.lock();
        let n = st.rules.len();
        st.rules.clear();
        n
    }

    pub fn to_json(&self) -> Value {
        let st = self.lock();
        json!({
            "rules": st.rules.iter().map(rule_json).collect::<Vec<_>>(),
            "functions": st.counts.iter().map(|(k, c)| (k.clone(), c.to_json())).collect::<serde_json::Map<_, _>>(),
        })
    }

    pub fn counts(&self, function: &str) -> FaultCounts {
        self.lock()
            .counts
            .get(function)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether this invocation of `function` is to be killed, and if so at which of its
    /// `2 * expected_calls + 1` points (before call 1, after call 1, before call 2, ...,
    /// before the reply); an invocation with fewer calls dies before its reply.
    pub fn kill_point(&self, function: &str, expected_calls: f64) -> Option<KillPoint> {
        let mut st = self.lock();
        let hit = st.rules.iter_mut().find_map(|r| {
            if !r.applies_to(function) {
                return None;
            }
            let k = r.kill.as_mut()?;
            if !k.budget.open() || random_unit() >= k.probability {
                return None;
            }
            k.budget.spend();
            r.fired.kills += 1;
            Some(k.point)
        });
        if let Some(point) = hit? {
            return Some(point);
        }
        let points = (2.0 * expected_calls.max(0.0)).round() as u64;
        Some(KillPoint::Point(
            random_in(0, points).min(u32::MAX as u64) as u32
        ))
    }

    /// Counts a kill once it happened.
    pub fn killed(&self, function: &str) {
        self.count(function, |c| c.killed += 1);
    }

    /// How many times to deliver the next batch of `function` (1 = normally), and whether the
    /// copies run at the same time as the first delivery.
    pub fn deliveries(&self, function: &str, messages: usize) -> (u64, bool) {
        let mut st = self.lock();
        let found = st.rules.iter_mut().find_map(|r| {
            if !r.applies_to(function) {
                return None;
            }
            let d = r.duplicate.as_ref()?;
            let times = random_in(d.times.0, d.times.1);
            r.fired.duplicates += times - 1;
            Some((times, d.concurrent))
        });
        let Some((times, concurrent)) = found else {
            return (1, false);
        };
        let c = st.counts.entry(function.to_string()).or_default();
        c.duplicate_batches += times - 1;
        c.duplicate_messages += (times - 1) * messages as u64;
        (times, concurrent)
    }

    /// How long to hold the next batch of `function` before delivering it.
    pub fn delay(&self, function: &str) -> Option<Duration> {
        let mut st = self.lock();
        let ms = st.rules.iter_mut().find_map(|r| {
            if !r.applies_to(function) {
                return None;
            }
            let (lo, hi) = r.delay_ms?;
            r.fired.delays += 1;
            Some(random_in(lo, hi))
        })?;
        st.counts
            .entry(function.to_string())
            .or_default()
            .delayed_batches += 1;
        Some(Duration::from_millis(ms))
    }

    /// Whether this AWS call of `function` is to fail, and how.
    pub fn fail_aws(&self, function: &str, service: &str, operation: &str) -> Option<FailKind> {
        let mut st = self.lock();
        let kind = st.rules.iter_mut().find_map(|r| {
            if !r.applies_to(function) {
                return None;
            }
            let f = r.fail_aws.as_mut()?;
            let matches = f.service.as_deref().is_none_or(|s| s == service)
                && f.operation.as_deref().is_none_or(|o| o == operation);
            if !matches || !f.budget.open() || random_unit() >= f.probability {
                return None;
            }
            f.budget.spend();
            r.fired.aws_failures += 1;
            Some(f.kind)
        })?;
        st.counts
            .entry(function.to_string())
            .or_default()
            .failed_aws_calls += 1;
        Some(kind)
    }

    fn count(&self, function: &str, f: impl FnOnce(&mut FaultCounts)) {
        let mut st = self.lock();
        f(st.counts.entry(function.to_string()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Rules and counters stay consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "function": r.function,
        "rule": r.source,
        "failKind": r.fail_aws.as_ref().map(|f| f.kind.name()),
        "fired": {
            "kills": r.fired.kills,
            "duplicateDeliveries": r.fired.duplicates,
            "delays": r.fired.delays,
            "awsFailures": r.fired.aws_failures,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(f: &str) -> bool {
        ["split-router", "notifier"].contains(&f)
    }

    #[test]
    fn random_numbers_stay_in_range() {
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
            let n = random_in(2, 3);
            assert!((2..=3).contains(&n));
        }
        assert_eq!(random_in(5, 5), 5);
    }

    #[test]
    fn rules_are_validated() {
        let f = Faults::default();
        for bad in [
            json!({}),
            json!({"function": "nope", "kill": true}),
            json!({"kill": {"probability": 2}}),
            json!({"duplicate": {"times": 1}}),
            json!({"failAws": {"kind": "boom"}}),
            json!({"function": "notifier", "failAws": {"function": "split-router", "kind": "500"}}),
            json!({"kil": true}),
        ] {
            assert!(f.add(&bad, known).is_err(), "{bad}");
        }
        assert!(f.to_json()["rules"]
            .as_array()
            .is_some_and(|r| r.is_empty()));
    }

    #[test]
    fn budgets_and_functions_are_respected() {
        let f = Faults::default();
        f.add(
            &json!({"failAws": {"function": "notifier", "service": "ses", "kind": "throttle", "count": 2}}),
            known,
        )
        .expect("rule");
        assert_eq!(f.fail_aws("split-router", "ses", "SendEmail"), None);
        assert_eq!(f.fail_aws("notifier", "s3", "GetObject"), None);
        assert_eq!(
            f.fail_aws("notifier", "ses", "SendEmail"),
            Some(FailKind::Throttle)
        );
        assert_eq!(
            f.fail_aws("notifier", "ses", "SendEmail"),
            Some(FailKind::Throttle)
        );
        assert_eq!(f.fail_aws("notifier", "ses", "SendEmail"), None);
        assert_eq!(f.counts("notifier").failed_aws_calls, 2);

        f.add(
            &json!({"function": "split-router", "kill": {"count": 1}}),
            known,
        )
        .expect("rule");
        let point = f.kill_point("split-router", 3.0).expect("killed once");
        assert!(matches!(point, KillPoint::Point(p) if p <= 6), "{point:?}");
        assert_eq!(f.kill_point("split-router", 3.0), None);
        assert_eq!(f.kill_point("notifier", 3.0), None);
        // A fixed point: right after the 4th call's answer, however many calls are usual.
        f.add(
            &json!({"function": "split-router", "kill": {"count": 1, "afterCall": 4}}),
            known,
        )
        .expect("rule");
        assert_eq!(f.kill_point("split-router", 1.0), Some(KillPoint::Point(7)));
        assert!(f.add(&json!({"kill": {"afterCall": 0}}), known).is_err());
        f.add(
            &json!({"function": "split-router", "kill": {"count": 1, "beforeFollowUp": true}}),
            known,
        )
        .expect("rule");
        assert_eq!(
            f.kill_point("split-router", 1.0),
            Some(KillPoint::BeforeFollowUp)
        );
        assert!(f
            .add(
                &json!({"kill": {"afterCall": 2, "beforeFollowUp": true}}),
                known
            )
            .is_err());

        f.add(
            &json!({"duplicate": {"times": [2, 3]}, "delayMs": 5}),
            known,
        )
        .expect("rule");
        let (times, concurrent) = f.deliveries("notifier", 4);
        assert!((2..=3).contains(&times) && !concurrent);
        assert_eq!(f.counts("notifier").duplicate_messages, (times - 1) * 4);
        assert_eq!(f.delay("notifier"), Some(Duration::from_millis(5)));
        assert_eq!(f.clear(), 5);
        assert_eq!(f.deliveries("notifier", 1), (1, false));
        assert_eq!(f.delay("notifier"), None);
    }
}
