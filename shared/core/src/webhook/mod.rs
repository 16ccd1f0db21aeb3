//! Webhooks (docs/api.md "Webhooks"), the pure part: the Standard Webhooks signature
//! (`signature`), the retry schedule and a delivery's states (`retry`), the outbound-address
//! guard (`guard`), the subscription body (`subscription`), and the event body with its
//! per-order ordering key (`event`). No I/O: the sender resolves names, connects and keeps
//! state, asking these functions what to do.
//!
//! `changes` says what one committed change of an order tells which subscriber. The adapters
//! (`dropship_aws::repo::webhooks`, the webhook-api and webhook-sender functions) keep the
//! subscriptions and the delivery log, and send; docs/architecture.md "Webhooks" tells how a
//! delivery travels, keeps one order's messages in sequence and waits hours between retries.

pub mod changes;
pub mod event;
pub mod guard;
pub mod retry;
pub mod signature;
pub mod subscription;

pub use changes::{happenings, FollowUp, Happening, Subject};
pub use event::{message_group, Event, EventType, SubscriberKind};
pub use guard::{check_address, check_addresses, check_url, Host, Refusal, Target};
pub use retry::{next_attempt, Delivery, DeliveryStatus, Outcome, Recorded};
pub use signature::{sign, verify, Secret};
pub use subscription::{validate, Subscriber, Subscription, SubscriptionRequest};
