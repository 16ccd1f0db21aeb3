//! The change feed for channels that poll (`GET /orders?updatedSince=`): the time every write of
//! an order is stamped with, and the window of changes one request may list.
//!
//! A poll lists only changes stamped at least [`SETTLE`] before the request. A write is stamped
//! just before it commits, and the index it is listed from follows the table within a second or
//! so: five seconds cover the stamp-to-commit delay, the index's lag and the clocks of the
//! functions that stamp, so that once a time is past the window's end, no change stamped at or
//! before it can still appear. Asking again from the last `updatedAt` seen therefore misses
//! nothing; an order may be seen twice (at least once).

use crate::ApiError;
use chrono::{DateTime, Duration, DurationRound, Utc};

/// How long a change must be committed before a poll lists it.
pub const SETTLE: Duration = Duration::seconds(5);

/// The stamp of an order's next write: `now` to the microsecond, but always at least a
/// microsecond after the previous write's (a clock behind another function's, or two writes in
/// one microsecond, never put an order's changes out of order).
pub fn next_update_time(previous: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let now = whole_micros(now);
    match previous {
        Some(p) => now.max(whole_micros(p) + Duration::microseconds(1)),
        None => now,
    }
}

/// `t` cut to whole microseconds (the precision stamps are stored and compared with).
pub fn whole_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

/// The changes one poll may list: stamped from `since` (inclusive) to `until` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Window {
    /// The window of a poll at `now` asking from `updatedSince`; `None` when it is still empty
    /// (`updatedSince` within the last five seconds, or in the future): nothing to list yet.
    pub fn of(since: DateTime<Utc>, now: DateTime<Utc>) -> Option<Window> {
        let until = whole_micros(now - SETTLE);
        let since = whole_micros(since);
        (since <= until).then_some(Window { since, until })
    }
}

/// `updatedSince` as the request gives it: required, RFC 3339 with an offset (any offset; the
/// instant is what counts).
pub fn parse_updated_since(value: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    let value = value.ok_or_else(|| {
        ApiError::required(
            "updatedSince",
            "updatedSince is required: an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
        )
    })?;
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                "updatedSince",
                "updatedSince must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_stamp_is_now_unless_the_previous_write_is_not_earlier() {
        let cases = [
            // (previous, now, stamp)
            (
                None,
                "2026-03-01T10:00:00.123456789Z",
                "2026-03-01T10:00:00.123456Z",
            ),
            (
                Some("2026-03-01T09:59:59Z"),
                "2026-03-01T10:00:00Z",
                "2026-03-01T10:00:00Z",
            ),
            // Two writes in one microsecond.
            (
                Some("2026-03-01T10:00:00.000001Z"),
                "2026-03-01T10:00:00.000001900Z",
                "2026-03-01T10:00:00.000002Z",
            ),
            // This function's clock is behind the one that wrote before.
            (
                Some("2026-03-01T10:00:02Z"),
                "2026-03-01T10:00:00Z",
                "2026-03-01T10:00:02.000001Z",
            ),
        ];
        for (previous, now, want) in cases {
            assert_eq!(
                next_update_time(previous.map(t), t(now)),
                t(want),
                "{previous:?} {now}"
            );
        }
    }

    #[test]
    fn updated_since_is_required_and_rfc_3339() {
        for (value, field_error) in [
            (None, Some("required")),
            (Some("yesterday"), Some("invalid")),
            (Some("2026-03-01"), Some("invalid")),
            (Some("2026-03-01T10:00:00"), Some("invalid")),
            (Some("2026-03-01T10:00:00 01:00"), Some("invalid")),
            (Some("2026-03-01T10:00:00Z"), None),
            (Some("2026-03-01T11:00:00.5+01:00"), None),
        ] {
            match (parse_updated_since(value), field_error) {
                (Ok(_), None) => {}
                (Err(e), Some(_)) => {
                    assert_eq!(e.status, 422, "{value:?}");
                    assert_eq!(e.field.as_deref(), Some("updatedSince"), "{value:?}");
                }
                (other, _) => panic!("{value:?}: {other:?}"),
            }
        }
        assert_eq!(
            parse_updated_since(Some("2026-03-01T11:00:00.5+01:00")).unwrap(),
            t("2026-03-01T10:00:00.5Z")
        );
    }

    #[test]
    fn a_poll_lists_up_to_five_seconds_before_it() {
        let now = t("2026-03-01T10:00:10.1234567Z");
        assert_eq!(
            Window::of(t("2026-03-01T09:00:00Z"), now),
            Some(Window {
                since: t("2026-03-01T09:00:00Z"),
                until: t("2026-03-01T10:00:05.123456Z"),
            })
        );
        // Both ends included: a window of one microsecond.
        assert!(Window::of(t("2026-03-01T10:00:05.123456Z"), now).is_some());
        assert_eq!(Window::of(t("2026-03-01T10:00:05.123457Z"), now), None);
        assert_eq!(Window::of(t("2026-03-01T11:00:00Z"), now), None);
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2001..2100, to the nanosecond.
        (978_307_200i64..4_102_444_800, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
    }

    proptest! {
        /// One order's stamps never go backwards, whatever the clocks of its writers say, and
        /// never lag the writer's clock.
        #[test]
        fn stamps_strictly_increase_and_follow_the_clock(
            first in instant(),
            nows in proptest::collection::vec(instant(), 1..20),
        ) {
            let mut previous = next_update_time(None, first);
            for now in nows {
                let next = next_update_time(Some(previous), now);
                prop_assert!(next > previous);
                prop_assert!(next >= whole_micros(now));
                prop_assert_eq!(next, whole_micros(next));
                // Never further ahead than needed.
                prop_assert!(next == whole_micros(now) || next == previous + Duration::microseconds(1));
                previous = next;
            }
        }
    }
}
