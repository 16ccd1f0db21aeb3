//! Webhooks (docs/api.md "Webhooks"), the pure part: the Standard Webhooks signature
//! (`signature`), the retry schedule and a delivery's states (`retry`), the outbound-address
//! guard (`guard`), the subscription body (`subscription`), and the event body with its
//! per-order ordering key (`event`). No I/O: the sender resolves names, connects and keeps
//! state, asking these functions what to do.
//!
//! # How a delivery travels (for the adapter)
//!
//! Events come from committed changes only (the change stream), one message per subscription
//! that wants the event, each with its `webhook-id`, its body written once (`Event::to_body`)
//! and its ordering key (`event::message_group`: subscription and order).
//!
//! **Order within a group.** A message is attempted only when no earlier message of its group is
//! still pending; a pending one holds back the rest of its group, however long its retries take,
//! so that one order's events arrive in the order they happened. Other groups pass it by, so a
//! slow or dead receiver holds back only its own orders.
//!
//! **Holding retries for hours.** SQS delays a message by at most 15 minutes, and the schedule
//! runs to about 28 hours. The recommended mechanism is a DynamoDB table of deliveries (the
//! delivery log `GET /webhooks/{id}/deliveries` reads anyway), each pending item carrying its
//! `nextAttemptAt`, with a sparse index on the due time of group heads, swept every minute by an
//! EventBridge Scheduler schedule that puts the due heads on the delivery queue (an SQS FIFO
//! queue whose message group is the ordering key). Why this one:
//! - One record is the truth about a delivery: the log, the schedule and the order of its group
//!   are the same item, so a manual retry is setting `nextAttemptAt` to now, and deleting a
//!   subscription deletes its schedule with it. Nothing else can drift from it.
//! - A per-message timer (an EventBridge Scheduler one-time schedule per retry, or a Step
//!   Functions wait) would be a second copy of the schedule to create, cancel and keep in step
//!   with the log, and would not by itself keep a group's later messages behind a retrying one;
//!   the table's group head does.
//! - A message's visibility timeout would keep a FIFO group blocked for free, but reaches only
//!   12 hours, and the schedule needs 28.
//! - The sweep's minute of granularity costs nothing that matters next to waits of 5 minutes to
//!   10 hours; the first retry (about 5 s) can go back on the queue with a delay instead.

pub mod event;
pub mod guard;
pub mod retry;
pub mod signature;
pub mod subscription;

pub use event::{message_group, Event, EventType, SubscriberKind};
pub use guard::{check_address, check_addresses, check_url, Host, Refusal, Target};
pub use retry::{next_attempt, Delivery, DeliveryStatus, Outcome, Recorded};
pub use signature::{sign, verify, Secret};
pub use subscription::{validate, Subscriber, Subscription, SubscriptionRequest};
