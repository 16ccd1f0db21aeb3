//! What a subscriber is told: the event types per kind of subscriber, the body `{type,
//! timestamp, data}`, and the key that keeps one order's events in sequence.

use crate::ids::{OrderId, SubscriptionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Who may subscribe to an event: a channel hears about its orders, a fulfiller about its
/// delivery orders and the returns announced to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriberKind {
    Channel,
    Fulfiller,
}

/// An event type of docs/api.md, written on the wire as `as_str` names it (`order.shipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "order.routed")]
    OrderRouted,
    #[serde(rename = "order.backordered")]
    OrderBackordered,
    #[serde(rename = "order.partially_shipped")]
    OrderPartiallyShipped,
    #[serde(rename = "order.shipped")]
    OrderShipped,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "return.authorized")]
    ReturnAuthorized,
    #[serde(rename = "return.received")]
    ReturnReceived,
    #[serde(rename = "return.rejected")]
    ReturnRejected,
    #[serde(rename = "refund.issued")]
    RefundIssued,
    #[serde(rename = "delivery_order.created")]
    DeliveryOrderCreated,
    #[serde(rename = "delivery_order.changed")]
    DeliveryOrderChanged,
    #[serde(rename = "delivery_order.cancelled")]
    DeliveryOrderCancelled,
    #[serde(rename = "return.announced")]
    ReturnAnnounced,
}

/// A channel's events, in docs/api.md's order.
pub const CHANNEL_EVENTS: [EventType; 9] = [
    EventType::OrderRouted,
    EventType::OrderBackordered,
    EventType::OrderPartiallyShipped,
    EventType::OrderShipped,
    EventType::OrderCancelled,
    EventType::ReturnAuthorized,
    EventType::ReturnReceived,
    EventType::ReturnRejected,
    EventType::RefundIssued,
];

/// A fulfiller's events, in docs/api.md's order.
pub const FULFILLER_EVENTS: [EventType; 4] = [
    EventType::DeliveryOrderCreated,
    EventType::DeliveryOrderChanged,
    EventType::DeliveryOrderCancelled,
    EventType::ReturnAnnounced,
];

impl EventType {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        use EventType::*;
        match self {
            OrderRouted => "order.routed",
            OrderBackordered => "order.backordered",
            OrderPartiallyShipped => "order.partially_shipped",
            OrderShipped => "order.shipped",
            OrderCancelled => "order.cancelled",
            ReturnAuthorized => "return.authorized",
            ReturnReceived => "return.received",
            ReturnRejected => "return.rejected",
            RefundIssued => "refund.issued",
            DeliveryOrderCreated => "delivery_order.created",
            DeliveryOrderChanged => "delivery_order.changed",
            DeliveryOrderCancelled => "delivery_order.cancelled",
            ReturnAnnounced => "return.announced",
        }
    }

    /// The event a `kind` of subscriber names `name`; None for an unknown name and for another
    /// kind's event (a channel cannot subscribe to `delivery_order.created`).
    pub fn parse(kind: SubscriberKind, name: &str) -> Option<Self> {
        Self::all_of(kind)
            .iter()
            .copied()
            .find(|e| e.as_str() == name)
    }

    /// Every event a `kind` of subscriber may subscribe to.
    pub fn all_of(kind: SubscriberKind) -> &'static [EventType] {
        match kind {
            SubscriberKind::Channel => &CHANNEL_EVENTS,
            SubscriberKind::Fulfiller => &FULFILLER_EVENTS,
        }
    }

    /// Who hears this event.
    pub fn kind(self) -> SubscriberKind {
        if FULFILLER_EVENTS.contains(&self) {
            SubscriberKind::Fulfiller
        } else {
            SubscriberKind::Channel
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of a webhook message: `{type, timestamp, data}`, `data` being the object as the
/// subscriber reads it from the API (built by the caller, which knows the subscriber's view).
/// `timestamp` is when the change happened, not when the attempt is made: the attempt's time
/// is in the `webhook-timestamp` header, so the body (and what a receiver stores) is the same
/// on every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: DateTime<Utc>,
    pub data: Value,
}

impl Event {
    pub fn new(event_type: EventType, timestamp: DateTime<Utc>, data: Value) -> Self {
        Self {
            event_type,
            timestamp,
            data,
        }
    }

    /// The bytes to send and to sign: written once per message and kept, because the
    /// signature covers these exact bytes and a receiver verifies the raw body it got.
    pub fn to_body(&self) -> Vec<u8> {
        // A struct of an enum, a time and a JSON value always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// SQS FIFO's limit for a message group id.
const MAX_GROUP_CHARS: usize = 128;

/// The ordering key of a message: one subscription's messages about one order are delivered
/// one after the other, in the order they happened; other orders and other subscriptions pass
/// them by. (A fulfiller's events belong to the order of their delivery order or return.)
///
/// Written `<subscriptionId>/<orderId>`, which fits SQS FIFO's `MessageGroupId` (at most 128
/// characters of letters, digits and punctuation) while both ids stay short; two 64-character
/// ids would not, so a key that would be longer is `h.` and the SHA-256 of both in hex. The two
/// forms cannot meet: ids never contain `/`, and a hashed key has none.
pub fn message_group(subscription: &SubscriptionId, order: &OrderId) -> String {
    let readable = format!("{subscription}/{order}");
    if readable.len() <= MAX_GROUP_CHARS {
        return readable;
    }
    let mut h = Sha256::new();
    h.update(subscription.as_str().as_bytes());
    h.update([0]);
    h.update(order.as_str().as_bytes());
    format!("h.{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_event_has_one_name_and_one_kind_as_docs_api_md_lists_them() {
        let names = |k| {
            EventType::all_of(k)
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(SubscriberKind::Channel),
            [
                "order.routed",
                "order.backordered",
                "order.partially_shipped",
                "order.shipped",
                "order.cancelled",
                "return.authorized",
                "return.received",
                "return.rejected",
                "refund.issued"
            ]
        );
        assert_eq!(
            names(SubscriberKind::Fulfiller),
            [
                "delivery_order.created",
                "delivery_order.changed",
                "delivery_order.cancelled",
                "return.announced"
            ]
        );
        for kind in [SubscriberKind::Channel, SubscriberKind::Fulfiller] {
            for e in EventType::all_of(kind) {
                assert_eq!(e.kind(), kind);
                assert_eq!(EventType::parse(kind, e.as_str()), Some(*e));
                // serde writes the same name.
                assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
                assert_eq!(e.to_string(), e.as_str());
            }
        }
        assert_eq!(
            EventType::parse(SubscriberKind::Channel, "delivery_order.created"),
            None
        );
        assert_eq!(
            EventType::parse(SubscriberKind::Fulfiller, "order.shipped"),
            None
        );
        assert_eq!(
            EventType::parse(SubscriberKind::Channel, "Order.Shipped"),
            None
        );
    }

    #[test]
    fn the_body_is_type_timestamp_data_and_the_same_bytes_every_time() {
        let at = "2026-12-03T04:05:06Z".parse::<DateTime<Utc>>().unwrap();
        let e = Event::new(
            EventType::OrderShipped,
            at,
            json!({"id": "ord_1", "status": "shipped",
                "shipment": {"carrier": "DHL", "trackingNumber": "T1", "lines": []}}),
        );
        let body = e.to_body();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "order.shipped");
        assert_eq!(v["timestamp"], "2026-12-03T04:05:06Z");
        assert_eq!(v["data"]["shipment"]["trackingNumber"], "T1");
        assert_eq!(v.as_object().unwrap().len(), 3);
        assert_eq!(e.to_body(), body);
        assert_eq!(serde_json::from_slice::<Event>(&body).unwrap(), e);
    }

    #[test]
    fn the_message_group_is_per_subscription_and_order_and_fits_sqs() {
        let sub = |s: &str| SubscriptionId::try_from(s).unwrap();
        let ord = |s: &str| OrderId::try_from(s).unwrap();
        assert_eq!(message_group(&sub("erp"), &ord("ord_1")), "erp/ord_1");
        let groups = [
            message_group(&sub("erp"), &ord("ord_1")),
            message_group(&sub("erp"), &ord("ord_2")),
            message_group(&sub("crm"), &ord("ord_1")),
            // The separator keeps `a`+`b.c` apart from `a.b`+`c`... and `/` from ids.
            message_group(&sub("a"), &ord("b.c")),
            message_group(&sub("a.b"), &ord("c")),
        ];
        for (i, a) in groups.iter().enumerate() {
            for b in &groups[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let (long_sub, long_ord) = (sub(&"s".repeat(64)), ord(&"o".repeat(64)));
        let long = message_group(&long_sub, &long_ord);
        assert!(long.starts_with("h.") && long.len() == 66, "{long}");
        assert_eq!(message_group(&long_sub, &long_ord), long);
        assert_ne!(message_group(&long_sub, &ord(&"o".repeat(63))), long);
        assert_eq!(
            message_group(&sub(&"s".repeat(64)), &ord(&"o".repeat(63))).len(),
            128
        );
    }
}
