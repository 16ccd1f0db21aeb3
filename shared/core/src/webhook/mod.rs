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
//! slow or dead receiver holds back only its own orders. Concretely: the deliveries of a group
//! are kept in the order of the changes that made them (the stream's sequence within the
//! order's item); the sender, taking a message off the queue, first looks for a pending earlier
//! delivery of its group and, if there is one, parks the message behind it instead of sending;
//! when a delivery settles, the next one of its group becomes due.
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
//! - Leaving the message in flight on the FIFO queue with a visibility timeout of the wait
//!   (`ChangeMessageVisibility`, at most 12 hours per receive, so each of the waits fits)
//!   would keep its group blocked for free, but a manual retry or a deleted subscription would
//!   then have to reach a message in flight by a receipt handle, and the schedule would again
//!   live in two places. It suits the short waits only: the 5-second retry stays in flight that
//!   way (a FIFO queue takes no per-message delay), and longer waits go to the table, where the
//!   sweep's minute of granularity is nothing next to waits of 5 minutes to 10 hours.

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
