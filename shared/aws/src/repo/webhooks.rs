//! Webhooks table: subscriptions and their delivery log (docs/architecture.md "Webhooks").
//!
//! Keys (pk, sk):
//! - `SUB#<subscriptionId>`, `SUB`: the subscription (`subscriber` = `channel:<id>` or
//!   `fulfiller:<id>`, the key of the `bySubscriber` index the dispatcher reads).
//! - `SUB#<subscriptionId>`, `DLV#<deliveryId>`: one message to it, with its body and its
//!   state. A delivery's id is its order's sequence key (`<orderId>~<commit stamp>~<nnn>`), so a
//!   subscription's deliveries of one order are one key range in the order they happened.
//!   While pending it carries `dueShard` and `dueAt`, the keys of the sparse `dueDeliveries`
//!   index the minute sweep reads; settled, it loses them and expires after 30 days.
//!
//! Access: subscriptions by id, by subscriber (index) and all (scan, admin); deliveries by id,
//! by subscription (a page), the pending ones before or after one in its order's range, the due
//! ones of each shard; an attempt is recorded only over the state it was made from.

use super::{from_item, s, to_item, Item, Page};
use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Utc};
use dropship_core::webhook::{Delivery, DeliveryStatus, Subscription};
use serde::{Deserialize, Serialize};

/// Shards of the due index: the sweep reads each; writes spread over them.
pub const DUE_SHARDS: u32 = 8;
/// How long a settled delivery stays in the log.
const SETTLED_DAYS: i64 = 30;
/// A delivery just put on the queue is left to the queue this long before the sweep looks at
/// it again (a safety net, not a schedule: the queue brings it at once).
const QUEUED_GRACE_MINUTES: i64 = 5;

/// A delivery as kept: its state, the order it is about and the body every attempt sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDelivery {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub subscription_id: String,
    /// The generation of the subscription it was made for (`Subscription::generation`): a
    /// later subscription that took the same id never sends, lists or retries it.
    #[serde(default)]
    pub generation: String,
    pub order_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn sub_pk(id: &str) -> String {
    format!("SUB#{id}")
}

fn delivery_sk(id: &str) -> String {
    format!("DLV#{id}")
}

fn shard_of(id: &str) -> String {
    let h = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    (h % DUE_SHARDS).to_string()
}

/// A time as the due index sorts it: fixed width, so that text order is time order.
fn due_text(at: DateTime<Utc>) -> String {
    super::orders::sort_time(at)
}

fn is_pending(d: &Delivery) -> bool {
    d.status == DeliveryStatus::Pending
}

#[derive(Clone, Debug)]
pub struct Webhooks {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Webhooks {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Stores a subscription: a new one only if the id is free (false when taken), a changed
    /// one only over an existing one.
    pub async fn put_subscription(&self, sub: &Subscription, new: bool) -> anyhow::Result<bool> {
        let pk = sub_pk(sub.id.as_str());
        let subscriber = sub.principal.notation();
        let item = to_item(
            sub,
            &[("pk", &pk), ("sk", "SUB"), ("subscriber", &subscriber)],
        )?;
        let condition = if new {
            "attribute_not_exists(pk)"
        } else {
            "attribute_exists(pk)"
        };
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await;
        super::written(res, "storing a webhook subscription")
    }

    pub async fn subscription(&self, id: &str) -> anyhow::Result<Option<Subscription>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(sub_pk(id)))
            .key("sk", s("SUB"))
            .consistent_read(true)
            .send()
            .await
            .context("reading a webhook subscription")?;
        out.item.map(from_item).transpose()
    }

    pub async fn delete_subscription(&self, id: &str) -> anyhow::Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(sub_pk(id)))
            .key("sk", s("SUB"))
            .send()
            .await
            .context("deleting a webhook subscription")?;
        Ok(())
    }

    /// The subscriptions of `subscriber` (`channel:<id>`), from the index (a subscription made a
    /// moment ago may be missing for a moment, as for any eventually consistent read).
    pub async fn subscriptions_of(&self, subscriber: &str) -> anyhow::Result<Vec<Subscription>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("bySubscriber")
            .key_condition_expression("subscriber = :s")
            .expression_attribute_values(":s", s(subscriber));
        super::query_all(query, "subscriptions of a subscriber").await
    }

    /// Every subscription (admin's list), by id: a scan of the index, which holds only them.
    pub async fn all_subscriptions(&self) -> anyhow::Result<Vec<Subscription>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .index_name("bySubscriber")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .context("listing webhook subscriptions")?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item::<Subscription>(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(out)
    }

    /// The item of a delivery. A pending one is in the due index at its next attempt, or, when
    /// it was just `queued`, some minutes later: the sweep only brings back what the queue
    /// does not.
    fn delivery_item(
        &self,
        d: &StoredDelivery,
        now: DateTime<Utc>,
        queued: bool,
    ) -> anyhow::Result<Item> {
        let pk = sub_pk(&d.subscription_id);
        let sk = delivery_sk(&d.delivery.id);
        let mut item = to_item(d, &[("pk", &pk), ("sk", &sk)])?;
        match d
            .delivery
            .next_attempt_at
            .filter(|_| is_pending(&d.delivery))
        {
            Some(at) => {
                let due = if queued {
                    at.max(now) + TimeDelta::minutes(QUEUED_GRACE_MINUTES)
                } else {
                    at
                };
                item.insert("dueShard".into(), s(shard_of(&d.delivery.id)));
                item.insert("dueAt".into(), s(due_text(due)));
            }
            None => {
                let expires = now + TimeDelta::days(SETTLED_DAYS);
                item.insert(
                    "expiresAtEpoch".into(),
                    AttributeValue::N(expires.timestamp().to_string()),
                );
            }
        }
        Ok(item)
    }

    /// Writes a new delivery, about to be queued, unless it exists (a change read twice from
    /// the stream): false then.
    pub async fn create_delivery(
        &self,
        d: &StoredDelivery,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.delivery_item(d, now, true)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        super::written(res, "writing a webhook delivery")
    }

    pub async fn delivery(
        &self,
        subscription_id: &str,
        delivery_id: &str,
    ) -> anyhow::Result<Option<StoredDelivery>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(sub_pk(subscription_id)))
            .key("sk", s(delivery_sk(delivery_id)))
            .consistent_read(true)
            .send()
            .await
            .context("reading a webhook delivery")?;
        out.item.map(from_item).transpose()
    }

    /// Writes `changed` over the state `before` was read in (same attempts, status and next
    /// attempt time): false when another attempt or a retry by hand wrote first. `queued`: the
    /// caller puts it on the queue right after.
    pub async fn update_delivery(
        &self,
        before: &Delivery,
        changed: &StoredDelivery,
        now: DateTime<Utc>,
        queued: bool,
    ) -> anyhow::Result<bool> {
        let status = serde_json::to_value(before.status)?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.delivery_item(changed, now, queued)?))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":a", AttributeValue::N(before.attempts.to_string()))
            .expression_attribute_values(":s", s(status));
        // The time too: a retry by hand changes only that, and must not be written over.
        put = match before.next_attempt_at {
            Some(at) => put
                .condition_expression("attempts = :a AND #status = :s AND nextAttemptAt = :n")
                .expression_attribute_values(
                    ":n",
                    s(serde_json::to_value(at)?.as_str().unwrap_or_default()),
                ),
            None => put.condition_expression(
                "attempts = :a AND #status = :s AND attribute_not_exists(nextAttemptAt)",
            ),
        };
        let res = put.send().await;
        super::written(res, "recording a webhook delivery")
    }

    /// A page of a subscription's deliveries (of its `generation`), by order and then as they
    /// happened; None for a next token that is not this subscription's.
    pub async fn deliveries(
        &self,
        subscription_id: &str,
        generation: &str,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page<Delivery>>> {
        let pk = sub_pk(subscription_id);
        let start = match next_token {
            None => None,
            Some(t) => match super::decode_next_token(t) {
                Some(k) if k.get("pk").and_then(|v| v.as_s().ok()) == Some(&pk) => Some(k),
                _ => return Ok(None),
            },
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :dlv)")
            .filter_expression("generation = :g")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":dlv", s("DLV#"))
            .expression_attribute_values(":g", s(generation))
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("listing webhook deliveries")?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<StoredDelivery>(i).map(|d| d.delivery))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let next_token = out
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| super::encode_next_token(&k));
        Ok(Some(Page { items, next_token }))
    }

    /// The pending deliveries of the same subscription and order as `delivery_id`, before it
    /// (`earlier`) or after it, in the order they happened; itself left out.
    pub async fn pending_beside(
        &self,
        subscription_id: &str,
        order_id: &str,
        delivery_id: &str,
        earlier: bool,
    ) -> anyhow::Result<Vec<StoredDelivery>> {
        // Ids are `<order>~<digits>~<digits>`: `~` sorts after every id character and digit.
        let (from, to) = if earlier {
            (
                delivery_sk(&format!("{order_id}~")),
                delivery_sk(delivery_id),
            )
        } else {
            (
                delivery_sk(delivery_id),
                delivery_sk(&format!("{order_id}~~")),
            )
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .filter_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pk", s(sub_pk(subscription_id)))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":pending", s("pending"))
            .consistent_read(true);
        let found: Vec<StoredDelivery> = super::query_all(query, "pending deliveries").await?;
        Ok(found
            .into_iter()
            .filter(|d| d.delivery.id != delivery_id)
            .collect())
    }

    /// The sweep queued this delivery: the next sweep leaves it to the queue for a while. False
    /// when it was settled meanwhile.
    pub async fn mark_queued(
        &self,
        subscription_id: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(sub_pk(subscription_id)))
            .key("sk", s(delivery_sk(delivery_id)))
            .update_expression("SET dueAt = :later")
            .condition_expression("attribute_exists(dueAt)")
            .expression_attribute_values(
                ":later",
                s(due_text(now + TimeDelta::minutes(QUEUED_GRACE_MINUTES))),
            )
            .send()
            .await;
        super::written(res, "marking a webhook delivery queued")
    }

    /// (subscription id, delivery id) of the pending deliveries due at `now`, from every shard.
    pub async fn due(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for shard in 0..DUE_SHARDS {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("dueDeliveries")
                .key_condition_expression("dueShard = :shard AND dueAt <= :now")
                .expression_attribute_values(":shard", s(shard.to_string()))
                .expression_attribute_values(":now", s(due_text(now)));
            let keys: Vec<Item> = super::query_all_items(query, "due deliveries").await?;
            for key in keys {
                let text = |k: &str| key.get(k).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(pk), Some(sk)) = (text("pk"), text("sk")) {
                    if let (Some(sub), Some(id)) =
                        (pk.strip_prefix("SUB#"), sk.strip_prefix("DLV#"))
                    {
                        out.push((sub.to_string(), id.to_string()));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Puts a delivery on the delivery queue in its group (subscription and order).
pub async fn enqueue(
    queue: &crate::queue::Queue,
    subscription_id: &str,
    delivery_id: &str,
) -> anyhow::Result<()> {
    use dropship_core::ids::{OrderId, SubscriptionId};
    let order = dropship_core::webhook::changes::order_of_key(delivery_id)
        .with_context(|| format!("{delivery_id} is not a delivery id"))?;
    let order = OrderId::try_from(order).map_err(|e| anyhow::anyhow!("{e}"))?;
    let subscription = SubscriptionId::parse("subscriptionId", subscription_id)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let group = dropship_core::webhook::message_group(&subscription, &order);
    let message = dropship_core::messages::AttemptDelivery {
        subscription_id: subscription_id.to_string(),
        delivery_id: delivery_id.to_string(),
    };
    queue.send_in_group(&message, &group).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_core::webhook::{EventType, Outcome};

    fn stored(now: DateTime<Utc>) -> StoredDelivery {
        StoredDelivery {
            delivery: Delivery::new(
                "o-1~20261203070512123456~000".into(),
                EventType::OrderShipped,
                now,
            ),
            subscription_id: "shop".into(),
            generation: "g1".into(),
            order_id: "o-1".into(),
            body: r#"{"type":"order.shipped"}"#.into(),
            created_at: now,
        }
    }

    #[test]
    fn a_pending_delivery_is_in_the_due_index_and_a_settled_one_expires() {
        let now = DateTime::from_timestamp(1_800_000_000, 5_000).unwrap();
        let table = Webhooks::new(
            aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::Config::builder()
                    .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                    .build(),
            ),
            "WebhooksTable".into(),
        );
        let mut d = stored(now);
        let item = table.delivery_item(&d, now, false).unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "SUB#shop");
        assert_eq!(
            item["sk"].as_s().unwrap(),
            "DLV#o-1~20261203070512123456~000"
        );
        assert_eq!(item["dueAt"].as_s().unwrap(), "2027-01-15T08:00:00.000005Z");
        assert!(item.contains_key("dueShard") && !item.contains_key("expiresAtEpoch"));
        let back: StoredDelivery = from_item(item).unwrap();
        assert_eq!(back, d, "the item reads back as written");
        // Just queued: the sweep leaves it to the queue for five minutes.
        let queued = table.delivery_item(&d, now, true).unwrap();
        assert_eq!(
            queued["dueAt"].as_s().unwrap(),
            "2027-01-15T08:05:00.000005Z"
        );

        d.delivery.record(Outcome::Answered(204), now);
        let item = table.delivery_item(&d, now, true).unwrap();
        assert!(!item.contains_key("dueShard") && !item.contains_key("dueAt"));
        assert!(item.contains_key("expiresAtEpoch"));
        assert_eq!(from_item::<StoredDelivery>(item).unwrap(), d);
    }

    #[test]
    fn due_times_sort_as_text_in_time_order() {
        let t = |us: i64| {
            due_text(DateTime::from_timestamp_micros(1_800_000_000_000_000 + us).unwrap())
        };
        assert!(t(0) < t(1) && t(1) < t(1_000_000) && t(999_999) < t(1_000_000));
    }
}
