//! Webhook deliveries (docs/architecture.md "Webhooks"). One function, three event sources:
//!
//! - **The orders table's stream** (order items only): each committed change's events
//!   (`dropship_core::webhook::changes`) become one delivery per subscription that wants them,
//!   written to the delivery log and put on the delivery queue. Only committed changes are
//!   told: no request handler sends anything.
//! - **The delivery queue** (SQS FIFO, one group per subscription and order): a delivery is
//!   attempted when it is due and no earlier delivery of its group is pending; the attempt is
//!   signed anew, sent through the address guard, and recorded over the state it was made from.
//!   A 5-second retry waits here (the group waits with it); longer ones wait in the log.
//! - **A schedule each minute**: the log's due deliveries go on the queue again.
//!
//! A slow or dead receiver holds back only its own groups: order processing only writes to the
//! stream, and the groups of one batch are sent side by side.

mod config;
pub use config::Config;

use chrono::{DateTime, TimeDelta, Utc};
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::outbound::{Attempt, Sender, SystemResolver};
use dropship_aws::queue::Queue;
use dropship_aws::repo::alerts::{Alerts, NewAlert};
use dropship_aws::repo::outbox::{self, QueueKind};
use dropship_aws::repo::webhooks::{enqueue, StoredDelivery, Webhooks};
use dropship_aws::repo::{from_item, Item};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::messages::AttemptDelivery;
use dropship_core::order::Order;
use dropship_core::webhook::changes::{happenings, sequence_key, FollowUp, Subject};
use dropship_core::webhook::{
    check_url, sign, Delivery, DeliveryStatus, Event, EventType, Recorded, Subscriber, Subscription,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A retry this close is waited for in the same invocation (the schedule's first, 5 s).
const WAIT_HERE: TimeDelta = TimeDelta::seconds(10);
/// The time an attempt may take (15 s for the call) with room for recording it.
const ATTEMPT_BUDGET: Duration = Duration::from_secs(20);

pub struct WebhookSender {
    pub webhooks: Webhooks,
    pub repositories: Repositories,
    pub queue: Queue,
    pub alerts: Alerts,
    pub outbound: Sender<SystemResolver>,
    pub allow_local_http: bool,
}

impl dropship_aws::config::FromConfig for WebhookSender {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            webhooks: Webhooks::new(ddb.clone(), config.webhooks_table.clone()),
            repositories: Repositories::new(cfg, &config.tables, QueueUrls::default())
                .with_returns(&config.returns_table),
            queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.delivery_queue_url.clone(),
            ),
            alerts: Alerts::new(ddb, config.alerts_table.clone()),
            outbound: Sender::new(SystemResolver, config.allows_local_http()),
            allow_local_http: config.allows_local_http(),
        })
    }
}

/// A message of one change for one subscriber: its event, the object as the subscriber reads
/// it, and its place among the order's messages.
struct Message {
    event: EventType,
    subscriber: Subscriber,
    data: Value,
}

/// Lambda's partial batch answer (streams: the first record not done; SQS: the messages).
fn failures(ids: impl IntoIterator<Item = String>) -> Value {
    let items: Vec<Value> = ids
        .into_iter()
        .map(|id| json!({"itemIdentifier": id}))
        .collect();
    json!({"batchItemFailures": items})
}

impl WebhookSender {
    /// One invocation: stream records, queue messages or the schedule's tick, to be done by
    /// `deadline` (the invocation's).
    pub async fn handle(&self, event: Value, deadline: Instant) -> Value {
        let records = event["Records"].as_array().cloned().unwrap_or_default();
        let source = records
            .first()
            .and_then(|r| r["eventSource"].as_str().or(r["EventSource"].as_str()))
            .unwrap_or("");
        match source {
            "aws:dynamodb" => Box::pin(self.dispatch(&records)).await,
            "aws:sqs" => Box::pin(self.send_batch(&records, deadline)).await,
            _ => {
                if let Err(err) = self.sweep(Utc::now()).await {
                    tracing::error!(error = %format!("{err:#}"), "webhook sweep failed");
                }
                json!({})
            }
        }
    }

    // ---- the stream: changes become deliveries ------------------------------------------

    async fn dispatch(&self, records: &[Value]) -> Value {
        let mut subscriptions = HashMap::new();
        for record in records {
            let images = &record["dynamodb"];
            if let Err(err) = self.dispatch_one(images, &mut subscriptions).await {
                let sequence_number = images["SequenceNumber"].as_str().unwrap_or("").to_string();
                tracing::error!(
                    %sequence_number,
                    error = %format!("{err:#}"),
                    "webhook deliveries of a change not written; the record comes again"
                );
                return failures([sequence_number]);
            }
        }
        json!({"batchItemFailures": []})
    }

    async fn dispatch_one(
        &self,
        images: &Value,
        subscriptions: &mut HashMap<String, Vec<Subscription>>,
    ) -> anyhow::Result<()> {
        let image = |name: &str| -> anyhow::Result<Option<Item>> {
            match images.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => Ok(Some(
                    serde_json::from_value::<serde_dynamo::Item>(v.clone())?.into(),
                )),
            }
        };
        let (Some(new), old) = (image("NewImage")?, image("OldImage")?) else {
            return Ok(());
        };
        let after: Order = from_item(new.clone())?;
        let before: Option<Order> = old.clone().map(from_item).transpose()?;
        let follow_ups: Vec<FollowUp> = outbox::to_send(Some(&new), old.as_ref())
            .unwrap_or_default()
            .into_iter()
            .map(|m| follow_up(m.queue, &m.body))
            .collect();
        let happened = happenings(before.as_ref(), &after, &follow_ups);
        if happened.is_empty() {
            return Ok(());
        }
        let committed_at = after.updated_at.unwrap_or(after.created_at);
        let messages = self.messages(&after, happened, subscriptions).await?;
        for (index, message) in messages.into_iter().enumerate() {
            let notation = message.subscriber.notation();
            self.load_subscriptions(subscriptions, &notation).await?;
            let wanting = subscriptions
                .get(&notation)
                .into_iter()
                .flatten()
                .filter(|s| s.wants(message.event));
            let Some(id) = sequence_key(&after.id, committed_at, index) else {
                tracing::error!(order_id = %after.id, index, "a change made more webhook messages than a key can number; the rest are not sent");
                break;
            };
            let body = Event::new(message.event, committed_at, message.data).to_body();
            let body = String::from_utf8(body)?;
            for subscription in wanting {
                let now = Utc::now();
                let stored = StoredDelivery {
                    delivery: Delivery::new(id.clone(), message.event, now),
                    subscription_id: subscription.id.to_string(),
                    generation: subscription.generation.clone(),
                    order_id: after.id.to_string(),
                    body: body.clone(),
                    created_at: now,
                };
                // A record read twice finds its deliveries written: they are queued again,
                // which the sender treats as a repeat.
                self.webhooks.create_delivery(&stored, now).await?;
                enqueue(&self.queue, &stored.subscription_id, &id).await?;
            }
        }
        Ok(())
    }

    /// Reads the subscriptions of `notation` into the invocation's cache, once.
    async fn load_subscriptions(
        &self,
        cache: &mut HashMap<String, Vec<Subscription>>,
        notation: &str,
    ) -> anyhow::Result<()> {
        if !cache.contains_key(notation) {
            let found = self.webhooks.subscriptions_of(notation).await?;
            cache.insert(notation.to_string(), found);
        }
        Ok(())
    }

    /// The messages of a change's events, each for the one subscriber that may hear it, with
    /// the object as that subscriber reads it from the API. Every event keeps its place (the
    /// ids stay the same when the change is read again), but the channel's order is read only
    /// for an event some subscription of the channel wants: most changes interest no one.
    async fn messages(
        &self,
        order: &Order,
        happened: Vec<dropship_core::webhook::Happening>,
        subscriptions: &mut HashMap<String, Vec<Subscription>>,
    ) -> anyhow::Result<Vec<Message>> {
        let channel = Subscriber::Channel(order.channel_id.clone());
        self.load_subscriptions(subscriptions, &channel.notation())
            .await?;
        let channel_wants = |event| {
            subscriptions
                .get(&channel.notation())
                .is_some_and(|subs| subs.iter().any(|s| s.wants(event)))
        };
        let mut channel_view: Option<Value> = None;
        let mut out = Vec::new();
        for h in happened {
            let event = h.event;
            match h.subject {
                Subject::DeliveryOrder { delivery_order_id }
                | Subject::ChangedDeliveryOrder {
                    delivery_order_id, ..
                } => {
                    if let Some(d) = self.delivery_order(&delivery_order_id).await? {
                        out.push(Message {
                            event,
                            subscriber: Subscriber::Fulfiller(d.fulfiller_id.clone()),
                            data: dropship_core::views::fulfiller_delivery_order(&d, None),
                        });
                    }
                }
                Subject::ReturnParts { return_id } => {
                    for part in self.repositories.returns()?.parts(&return_id).await? {
                        out.push(Message {
                            event,
                            subscriber: Subscriber::Fulfiller(part.fulfiller_id.clone()),
                            data: dropship_core::returns::fulfiller_view(&part),
                        });
                    }
                }
                _ if !channel_wants(event) => {
                    out.push(Message {
                        event,
                        subscriber: channel.clone(),
                        data: Value::Null,
                    });
                }
                subject => {
                    let view = match &channel_view {
                        Some(v) => v.clone(),
                        None => {
                            let v = self.repositories.channel_order_view(order).await?;
                            channel_view = Some(v.clone());
                            v
                        }
                    };
                    let data = self.with_subject(view, subject).await?;
                    out.push(Message {
                        event,
                        subscriber: channel.clone(),
                        data,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The channel's order with what the event is about beside it.
    async fn with_subject(&self, mut view: Value, subject: Subject) -> anyhow::Result<Value> {
        match subject {
            Subject::Shipment {
                delivery_order_id,
                shipment_id,
            } => {
                let shipment = self
                    .delivery_order(&delivery_order_id)
                    .await?
                    .and_then(|d| d.shipments.into_iter().find(|s| s.id == shipment_id));
                if let Some(s) = shipment {
                    view["shipment"] = json!({
                        "carrier": s.carrier, "trackingNumber": s.tracking_number, "lines": s.lines,
                    });
                }
            }
            Subject::Refund { refund_id } => {
                let refund = view["refunds"]
                    .as_array()
                    .and_then(|r| r.iter().find(|r| r["id"] == json!(refund_id)))
                    .cloned();
                view["refund"] = refund.unwrap_or_else(|| json!({"id": refund_id}));
            }
            Subject::Return { return_id } => {
                let parts = self.repositories.returns()?.parts(&return_id).await?;
                view["return"] = dropship_core::returns::channel_view(&parts);
            }
            _ => {}
        }
        Ok(view)
    }

    async fn delivery_order(&self, id: &str) -> anyhow::Result<Option<DeliveryOrder>> {
        self.repositories.delivery_orders.get(id).await
    }

    // ---- the queue: attempts -----------------------------------------------------------------

    /// A batch of the FIFO queue: its groups side by side, each in order; a group stops at its
    /// first failure and reports the rest of it (FIFO: nothing of a group may overtake).
    async fn send_batch(&self, records: &[Value], deadline: Instant) -> Value {
        let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for r in records {
            let group = r["attributes"]["MessageGroupId"]
                .as_str()
                .unwrap_or("")
                .to_string();
            groups.entry(group).or_default().push(r);
        }
        let runs = groups.into_values().map(|group| async move {
            let mut failed = Vec::new();
            for (i, r) in group.iter().enumerate() {
                let id = r["messageId"].as_str().unwrap_or("").to_string();
                let result = match r["body"]
                    .as_str()
                    .map(serde_json::from_str::<AttemptDelivery>)
                {
                    // Boxed: the attempt's future is deep, and a batch runs several side by side.
                    Some(Ok(m)) => {
                        Box::pin(self.attempt(&m.subscription_id, &m.delivery_id, deadline)).await
                    }
                    // Not a message of ours: nothing to attempt, and retrying will not help.
                    _ => {
                        tracing::error!(message_id = %id, "an unreadable delivery message was dropped");
                        Ok(())
                    }
                };
                if let Err(err) = result {
                    tracing::error!(message_id = %id, error = %format!("{err:#}"), "delivery attempt not recorded; the message comes again");
                    failed.extend(
                        group[i..]
                            .iter()
                            .map(|r| r["messageId"].as_str().unwrap_or("").to_string()),
                    );
                    break;
                }
            }
            failed
        });
        let failed: Vec<String> = futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect();
        failures(failed)
    }

    /// Attempts one delivery if it is due and first of its group; records what happened. An
    /// attempt starts only with time for it left before `deadline`: otherwise the delivery stays
    /// due in the log and the minute's sweep brings it back (never a failed message, which
    /// would count towards the dead-letter queue).
    pub async fn attempt(
        &self,
        subscription_id: &str,
        delivery_id: &str,
        deadline: Instant,
    ) -> anyhow::Result<()> {
        loop {
            let Some(mut stored) = self.webhooks.delivery(subscription_id, delivery_id).await?
            else {
                return Ok(());
            };
            let now = Utc::now();
            if stored.delivery.status != DeliveryStatus::Pending {
                // Settled, perhaps by an earlier receipt of this message that stopped right
                // after: its successor may still wait for it (releasing it again is harmless).
                return self.release_next(&stored).await;
            }
            if !stored.delivery.is_due(now) {
                return Ok(());
            }
            let before = stored.delivery.clone();
            let subscription = self
                .webhooks
                .subscription(subscription_id)
                .await?
                .filter(|s| s.generation == stored.generation);
            let Some(subscription) = subscription else {
                // Deleted (or deleted and made again, perhaps by someone else): nothing more
                // goes out of this one; no alert, its owner ended it.
                stored.delivery.status = DeliveryStatus::Failed;
                stored.delivery.next_attempt_at = None;
                if self
                    .webhooks
                    .update_delivery(&before, &stored, now, false)
                    .await?
                {
                    self.release_next(&stored).await?;
                }
                return Ok(());
            };
            let earlier = self
                .webhooks
                .pending_beside(subscription_id, &stored.order_id, delivery_id, true)
                .await?;
            if let Some(head) = earlier.first() {
                // Waits behind its group's head; the head's settling brings it back. Until then
                // the sweep need not look at it again before the head's own next attempt.
                stored.delivery.next_attempt_at = head
                    .delivery
                    .next_attempt_at
                    .filter(|at| *at > now)
                    .or(Some(now + TimeDelta::minutes(1)));
                self.webhooks
                    .update_delivery(&before, &stored, now, false)
                    .await?;
                return Ok(());
            }
            if deadline.saturating_duration_since(Instant::now()) < ATTEMPT_BUDGET {
                return Ok(());
            }
            let attempt = self.send(&subscription, &stored).await;
            let ended = Utc::now();
            let recorded = stored.delivery.record(attempt.outcome(), ended);
            tracing::info!(
                subscription_id,
                delivery_id,
                event = %stored.delivery.event,
                attempt = stored.delivery.attempts,
                status = ?stored.delivery.last_status_code,
                outcome = %describe(&attempt),
                "webhook attempt"
            );
            if recorded == Recorded::Failed {
                // Opened before the failure is written: a crash in between leaves the delivery
                // pending (it is tried once more), never failed without its alert.
                self.alert(&subscription, &stored, ended).await?;
            }
            if !self
                .webhooks
                .update_delivery(&before, &stored, ended, false)
                .await?
            {
                // Another attempt (a repeat of the message) or a retry by hand wrote first.
                return Ok(());
            }
            match recorded {
                Recorded::Delivered | Recorded::Failed => return self.release_next(&stored).await,
                Recorded::RetryAt(at)
                    if at - ended <= WAIT_HERE
                        && deadline.saturating_duration_since(Instant::now())
                            > ATTEMPT_BUDGET + WAIT_HERE.to_std().unwrap_or_default() =>
                {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                }
                Recorded::RetryAt(_) | Recorded::AlreadySettled => return Ok(()),
            }
        }
    }

    /// One signed POST of the delivery's body to the subscription's url.
    async fn send(&self, subscription: &Subscription, stored: &StoredDelivery) -> Attempt {
        let target = match check_url(&subscription.url, self.allow_local_http) {
            Ok(t) => t,
            Err(refusal) => return Attempt::Refused(refusal),
        };
        let timestamp = Utc::now().timestamp();
        let body = stored.body.as_bytes();
        let headers = [
            ("content-type", "application/json".to_string()),
            ("webhook-id", stored.delivery.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                sign(&subscription.secret, &stored.delivery.id, timestamp, body),
            ),
        ];
        self.outbound.post(&target, &headers, body).await
    }

    /// A settled delivery lets the next pending one of its group go.
    async fn release_next(&self, settled: &StoredDelivery) -> anyhow::Result<()> {
        let later = self
            .webhooks
            .pending_beside(
                &settled.subscription_id,
                &settled.order_id,
                &settled.delivery.id,
                false,
            )
            .await?;
        let Some(next) = later.into_iter().next() else {
            return Ok(());
        };
        if next.generation != settled.generation {
            // Another subscription's under a reused id: the attempt of it sorts that out.
            return enqueue(&self.queue, &next.subscription_id, &next.delivery.id).await;
        }
        let now = Utc::now();
        let mut due = next.clone();
        if due.delivery.next_attempt_at.is_some_and(|at| at > now) && due.delivery.attempts == 0 {
            // It only waited behind the one settled now.
            due.delivery.next_attempt_at = Some(now);
            self.webhooks
                .update_delivery(&next.delivery, &due, now, true)
                .await?;
        }
        enqueue(&self.queue, &due.subscription_id, &due.delivery.id).await
    }

    async fn alert(
        &self,
        subscription: &Subscription,
        stored: &StoredDelivery,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let subject = format!("{}/{}", subscription.id, stored.delivery.id);
        let details = format!(
            "webhook {} to subscription {} ({}) failed after {} attempts (last status {}); retry it with POST /webhooks/{}/deliveries/{}/retry",
            stored.delivery.event,
            subscription.id,
            subscription.principal.notation(),
            stored.delivery.attempts,
            stored
                .delivery
                .last_status_code
                .map_or("none".to_string(), |c| c.to_string()),
            subscription.id,
            stored.delivery.id,
        );
        let fulfiller = match &subscription.principal {
            Subscriber::Fulfiller(f) => Some(f.as_str()),
            Subscriber::Channel(_) => None,
        };
        self.alerts
            .open_alert(
                &NewAlert {
                    kind: "webhook_failed",
                    subject: &subject,
                    details: &details,
                    fulfiller_id: fulfiller,
                    order_id: Some(&stored.order_id),
                    delivery_order_id: None,
                },
                now,
            )
            .await?;
        Ok(())
    }

    // ---- the schedule: due deliveries go on the queue again ------------------------------

    pub async fn sweep(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let due = self.webhooks.due(now).await?;
        for (subscription_id, delivery_id) in &due {
            // One that cannot be queued (it names no order) must not hold back the others.
            let queued = async {
                if self
                    .webhooks
                    .mark_queued(subscription_id, delivery_id, now)
                    .await?
                {
                    enqueue(&self.queue, subscription_id, delivery_id).await?;
                }
                anyhow::Ok(())
            };
            if let Err(err) = queued.await {
                tracing::error!(subscription_id = %subscription_id, delivery_id = %delivery_id, error = %format!("{err:#}"), "a due delivery could not be queued");
            }
        }
        if !due.is_empty() {
            tracing::info!(count = due.len(), "due webhook deliveries queued");
        }
        Ok(due.len())
    }
}

/// A follow-up message read back from the outbox, as webhooks understand it.
fn follow_up(queue: QueueKind, body: &str) -> FollowUp {
    let parsed = match queue {
        QueueKind::Events => serde_json::from_str(body).map(FollowUp::Event),
        QueueKind::Documents => serde_json::from_str(body).map(FollowUp::Documents),
        QueueKind::Returns => serde_json::from_str(body).map(FollowUp::Settle),
        QueueKind::Route => return FollowUp::Other,
    };
    parsed.unwrap_or(FollowUp::Other)
}

/// What an attempt got, for the log (never the body or a header: they are the subscriber's).
fn describe(attempt: &Attempt) -> String {
    match attempt {
        Attempt::Answered { status, .. } => format!("answered {status}"),
        Attempt::Refused(r) => format!("refused: {r}"),
        Attempt::NoAnswer(why) => format!("no answer: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    #[test]
    fn follow_ups_are_read_by_their_queue() {
        let shipped = r#"{"type":"delivery_shipped","orderId":"o","deliveryOrderId":"o-1","shipmentId":"s1"}"#;
        assert!(matches!(
            follow_up(QueueKind::Events, shipped),
            FollowUp::Event(_)
        ));
        assert_eq!(follow_up(QueueKind::Documents, shipped), FollowUp::Other);
        assert_eq!(follow_up(QueueKind::Route, "{}"), FollowUp::Other);
        let settle = r#"{"returnId":"R1","fulfillerId":"acme"}"#;
        assert!(matches!(
            follow_up(QueueKind::Returns, settle),
            FollowUp::Settle(_)
        ));
    }

    #[tokio::test]
    async fn a_message_that_is_not_a_delivery_is_dropped_not_retried() {
        let sender = WebhookSender::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut event: Value =
            serde_json::from_str(include_str!("../../../events/webhook-sender.json")).unwrap();
        assert!(serde_json::from_str::<AttemptDelivery>(
            event["Records"][0]["body"].as_str().unwrap()
        )
        .is_ok());
        event["Records"][0]["body"] = json!("{\"not\": \"ours\"}");
        let deadline = Instant::now() + Duration::from_secs(60);
        assert_eq!(
            sender.handle(event, deadline).await,
            json!({"batchItemFailures": []})
        );
    }

    #[tokio::test]
    async fn plain_http_stays_off_unless_the_setting_says_true() {
        let sender = WebhookSender::from_config(&offline_config().unwrap(), &offline()).unwrap();
        assert!(!sender.allow_local_http);
        let mut config: Config = offline_config().unwrap();
        config.allow_local_http = " TRUE ".into();
        assert!(config.allows_local_http());
        config.allow_local_http = "yes".into();
        assert!(!config.allows_local_http());
        let answer = failures(["a".to_string()]);
        assert_eq!(answer["batchItemFailures"][0]["itemIdentifier"], "a");
    }
}
