//! The transactional outbox, inline on the order item: a change that has follow-up messages
//! writes them with itself, as the order item's `outbox` attribute `{commitId, messages}`, in the
//! same transaction. The change-relay function reads the orders table's stream and sends the
//! messages of every record whose new outbox has another `commitId` than the old one, so a
//! message goes out if and only if its change committed, even when the writer dies right after.
//!
//! A change without an order item of its own (a delivery order or a return part alone) writes
//! the outbox on its order's item with an update that touches nothing else but the change feed's
//! stamp (the channel sees the delivery order or return through its order): the item's version
//! stays, so no writer of the order has to plan again, and the stream still carries the messages.

use super::{s, Item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::HashMap;

/// The attribute of the order item that carries the outbox.
pub const ATTRIBUTE: &str = "outbox";

/// One follow-up message: the queue it goes to (by kind) and its body, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub queue: QueueKind,
    pub body: String,
}

/// The queues follow-ups go to, by what they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Events,
    Documents,
    Route,
    Returns,
}

impl QueueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Events => "events",
            QueueKind::Documents => "documents",
            QueueKind::Route => "route",
            QueueKind::Returns => "returns",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            QueueKind::Events,
            QueueKind::Documents,
            QueueKind::Route,
            QueueKind::Returns,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// An outbox as read back from a stream image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbox {
    pub commit_id: String,
    pub messages: Vec<OutboxMessage>,
}

/// A fresh commit id: every commit's outbox differs from the one it replaces.
pub fn new_commit_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The `outbox` attribute value for these messages.
pub fn attribute(commit_id: &str, messages: &[OutboxMessage]) -> AttributeValue {
    let messages = messages
        .iter()
        .map(|m| {
            AttributeValue::M(HashMap::from([
                ("queue".to_string(), s(m.queue.as_str())),
                ("body".to_string(), s(&m.body)),
            ]))
        })
        .collect();
    AttributeValue::M(HashMap::from([
        ("commitId".to_string(), s(commit_id)),
        ("messages".to_string(), AttributeValue::L(messages)),
    ]))
}

/// The update that writes an outbox on an order item, and the change feed's stamp, and
/// nothing else (for a change without the order item; conditional on the order existing, so no
/// stray item is made). The stamp is `now` and must be later than the order's last one: a
/// writer whose clock is behind fails the condition and plans again, never stamps back in time.
pub fn on_order(
    table: &str,
    order_id: &str,
    commit_id: &str,
    messages: &[OutboxMessage],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<TransactWriteItem> {
    use super::orders::{sort_time, update_key, UPDATED_AT, UPDATED_KEY};
    let at = dropship_core::change_feed::whole_micros(now);
    Ok(TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .key("pk", s(format!("ORDER#{order_id}")))
                .update_expression("SET #o = :o, #at = :at, #key = :key")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(#key) OR #key < :key)",
                )
                .expression_attribute_names("#o", ATTRIBUTE)
                .expression_attribute_names("#at", UPDATED_AT)
                .expression_attribute_names("#key", UPDATED_KEY)
                .expression_attribute_values(":o", attribute(commit_id, messages))
                .expression_attribute_values(":at", s(sort_time(at)))
                .expression_attribute_values(":key", s(update_key(at, order_id)))
                .build()?,
        )
        .build())
}

/// The outbox of an item (a stream image, or an item read), if it has one.
pub fn read(item: &Item) -> anyhow::Result<Option<Outbox>> {
    let Some(value) = item.get(ATTRIBUTE) else {
        return Ok(None);
    };
    let map = value.as_m().ok().context("the outbox is not a map")?;
    let commit_id = map
        .get("commitId")
        .and_then(|v| v.as_s().ok())
        .context("the outbox has no commitId")?
        .clone();
    let messages = map
        .get("messages")
        .and_then(|v| v.as_l().ok())
        .context("the outbox has no message list")?
        .iter()
        .map(|m| {
            let m = m.as_m().ok().context("an outbox message is not a map")?;
            let text = |name: &str| {
                m.get(name)
                    .and_then(|v| v.as_s().ok())
                    .with_context(|| format!("an outbox message has no {name}"))
            };
            let queue = text("queue")?;
            Ok(OutboxMessage {
                queue: QueueKind::parse(queue)
                    .with_context(|| format!("an outbox message names no known queue: {queue}"))?,
                body: text("body")?.clone(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Some(Outbox {
        commit_id,
        messages,
    }))
}

/// The messages a stream record asks to send: the new image's outbox when its commit id is not
/// the old image's (a write that kept the outbox, or removed it, sends nothing again).
pub fn to_send(new: Option<&Item>, old: Option<&Item>) -> anyhow::Result<Vec<OutboxMessage>> {
    let Some(new) = new.map(read).transpose()?.flatten() else {
        return Ok(Vec::new());
    };
    let old = old.map(read).transpose()?.flatten();
    if old.is_some_and(|old| old.commit_id == new.commit_id) {
        return Ok(Vec::new());
    }
    Ok(new.messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages() -> Vec<OutboxMessage> {
        vec![
            OutboxMessage {
                queue: QueueKind::Events,
                body: r#"{"type":"OrderShipped"}"#.into(),
            },
            OutboxMessage {
                queue: QueueKind::Documents,
                body: r#"{"kind":"invoice"}"#.into(),
            },
        ]
    }

    fn item_with(commit_id: &str, messages: &[OutboxMessage]) -> Item {
        HashMap::from([
            ("pk".to_string(), s("ORDER#o-1")),
            (ATTRIBUTE.to_string(), attribute(commit_id, messages)),
        ])
    }

    #[test]
    fn an_outbox_reads_back_as_written() {
        let read = read(&item_with("c1", &messages())).unwrap().unwrap();
        assert_eq!(read.commit_id, "c1");
        assert_eq!(read.messages, messages());
    }

    #[test]
    fn a_new_commit_sends_its_messages_once() {
        let new = item_with("c2", &messages());
        let old = item_with("c1", &messages()[..1]);
        assert_eq!(to_send(Some(&new), Some(&old)).unwrap(), messages());
        // The first outbox on an item (no old image, or one without an outbox).
        let bare = HashMap::from([("pk".to_string(), s("ORDER#o-1"))]);
        assert_eq!(to_send(Some(&new), Some(&bare)).unwrap(), messages());
        assert_eq!(to_send(Some(&new), None).unwrap(), messages());
    }

    #[test]
    fn a_write_that_keeps_or_drops_the_outbox_sends_nothing() {
        let kept = item_with("c1", &messages());
        assert!(to_send(Some(&kept), Some(&kept)).unwrap().is_empty());
        let bare = HashMap::from([("pk".to_string(), s("ORDER#o-1"))]);
        assert!(to_send(Some(&bare), Some(&kept)).unwrap().is_empty());
        assert!(to_send(None, Some(&kept)).unwrap().is_empty());
    }

    #[test]
    fn an_unknown_queue_is_an_error_not_a_silent_drop() {
        let mut item = item_with("c1", &messages());
        let AttributeValue::M(outbox) = item.get_mut(ATTRIBUTE).unwrap() else {
            panic!("the outbox is a map")
        };
        outbox.insert(
            "messages".into(),
            AttributeValue::L(vec![AttributeValue::M(HashMap::from([
                ("queue".to_string(), s("mail")),
                ("body".to_string(), s("{}")),
            ]))]),
        );
        assert!(read(&item).is_err());
    }

    #[test]
    fn the_outbox_of_a_change_without_the_order_is_an_update_of_the_order_item() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00.1234567Z")
            .unwrap()
            .to_utc();
        let item = on_order("orders", "o-1", "c1", &messages(), now).unwrap();
        let update = item.update().unwrap();
        assert_eq!(update.key()["pk"], s("ORDER#o-1"));
        assert_eq!(
            update.update_expression(),
            "SET #o = :o, #at = :at, #key = :key"
        );
        let values = update.expression_attribute_values().unwrap();
        assert_eq!(values[":o"], attribute("c1", &messages()));
        // The change feed's stamp, to the microsecond, and only forward.
        assert_eq!(values[":at"], s("2026-03-01T10:00:00.123456Z"));
        assert_eq!(values[":key"], s("2026-03-01T10:00:00.123456Z#o-1"));
        assert!(update
            .condition_expression()
            .unwrap()
            .contains("#key < :key"));
    }
}
