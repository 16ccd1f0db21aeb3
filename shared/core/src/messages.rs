//! The messages on the queues between the functions. Every consumer is idempotent: SQS delivers
//! at least once, so each message names what to (re)do, not a delta to apply blindly.

use crate::delivery::DocumentRef;
use crate::ids::{FulfillerId, OrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Route queue: an accepted order waits to be split into delivery orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteOrder {
    pub order_id: OrderId,
    /// Set by the alerting run: a timer of the process settings it found due, which the router
    /// checks again and acts on before it routes what is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DueTimer>,
    /// When the change that left units pending was committed (a rejection, stock that came in):
    /// a later routing round decides with the process settings in force then. The first round
    /// goes by the order's creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<DateTime<Utc>>,
}

impl RouteOrder {
    /// Route what of the order is pending.
    pub fn new(order_id: OrderId) -> Self {
        Self {
            order_id,
            due: None,
            triggered_at: None,
        }
    }

    /// Route what of the order is pending since the change committed at `at`.
    pub fn after(order_id: OrderId, at: DateTime<Utc>) -> Self {
        Self {
            triggered_at: Some(at),
            ..Self::new(order_id)
        }
    }
}

/// Set by the local runner in every function it starts, never in the template: only then is a
/// scheduled event's time ahead of the machine's clock honoured (the local clock moved forward).
/// Deployed, a time ahead is an edited event and the machine's time is used.
pub const LOCAL_CLOCK_VARIABLE: &str = "DROPSHIP_LOCAL_CLOCK";

/// Whether this process runs under the local runner's clock.
pub fn local_clock() -> bool {
    std::env::var_os(LOCAL_CLOCK_VARIABLE).is_some()
}

/// The time a due timer may be acted on at: `at`, but not ahead of `machine` (plus a minute of
/// clock skew) unless the local clock is on.
pub fn due_at(at: DateTime<Utc>, machine: DateTime<Utc>, local_clock: bool) -> DateTime<Utc> {
    if local_clock {
        at
    } else {
        at.min(machine + chrono::Duration::minutes(1))
    }
}

/// A process timer the alerting run found due at `at` (its time, which the local stack's clock
/// may have moved ahead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DueTimer {
    /// `acceptance.rerouteIfSilentHours`: withdraw the delivery order from its fulfiller if it
    /// is still unanswered, then route its units again without that fulfiller.
    #[serde(rename_all = "camelCase")]
    SilentDelivery {
        delivery_order_id: String,
        at: DateTime<Utc>,
    },
    /// `backorders.maxDays`: cancel the order's units still backordered, refund them and tell
    /// the customer.
    OverdueBackorders { at: DateTime<Utc> },
}

/// Documents queue: what to render. Every job is keyed so that a redelivery finds the document
/// already made (and an invoice number already taken) instead of making a second one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GenerateDocuments {
    /// A new delivery order: delivery note, shipping label and invoice.
    #[serde(rename_all = "camelCase")]
    DeliveryOrder { delivery_order_id: String },
    /// A shipment: a corrected invoice when it falls into another tax-rate period.
    #[serde(rename_all = "camelCase")]
    Shipment {
        delivery_order_id: String,
        shipment_id: String,
    },
    /// A refund: its credit document.
    #[serde(rename_all = "camelCase")]
    Refund {
        order_id: OrderId,
        refund_id: String,
    },
    /// A return authorization: one return label per fulfiller involved, then `return_authorized`.
    #[serde(rename_all = "camelCase")]
    Return { return_id: String },
}

/// Returns queue: a fulfiller received its part of a return; settle the refund it calls for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReturn {
    pub return_id: String,
    pub fulfiller_id: FulfillerId,
}

/// Webhook delivery queue (FIFO, grouped by subscription and order): attempt this delivery if
/// it is due and first in its group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDelivery {
    pub subscription_id: String,
    pub delivery_id: String,
}

/// Who an alert's mail goes to: first the fulfiller (a reminder), later the retailer's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAudience {
    Fulfiller,
    Operations,
}

/// Events queue: business events the notifier turns into mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusinessEvent {
    #[serde(rename_all = "camelCase")]
    DocumentsReady {
        delivery_order_id: String,
        fulfiller_id: FulfillerId,
        order_id: OrderId,
        documents: Vec<DocumentRef>,
    },
    /// Units of a delivery order were cancelled (all of them when `cancelled` is true).
    #[serde(rename_all = "camelCase")]
    DeliveryOrderChanged {
        delivery_order_id: String,
        fulfiller_id: FulfillerId,
        order_id: OrderId,
        cancelled: bool,
        /// The delivery order's version after the change: one notice per change.
        version: u64,
    },
    /// A fulfiller shipped (part of) a delivery order: the customer gets the tracking number.
    #[serde(rename_all = "camelCase")]
    DeliveryShipped {
        order_id: OrderId,
        delivery_order_id: String,
        shipment_id: String,
    },
    /// A stock feed was processed: the fulfiller hears about refused rows (or a refused file).
    #[serde(rename_all = "camelCase")]
    StockFeedProcessed {
        fulfiller_id: FulfillerId,
        feed: String,
        applied: usize,
        /// (line number, why)
        bad_rows: Vec<(usize, String)>,
        refused: Option<String>,
    },
    /// A refund was recorded on an order: the customer hears about it.
    #[serde(rename_all = "camelCase")]
    RefundIssued {
        order_id: OrderId,
        refund_id: String,
    },
    /// An order was routed for the first time: the customer gets the order confirmation.
    #[serde(rename_all = "camelCase")]
    OrderConfirmed { order_id: OrderId },
    /// Units of an order were cancelled (by the customer or because no one could ship them): the
    /// customer hears what was cancelled and what is refunded (`refund_id`, when money moved).
    /// `version` is the order's version after the cancellation: one mail per cancellation.
    #[serde(rename_all = "camelCase")]
    OrderCancelled {
        order_id: OrderId,
        refund_id: Option<String>,
        version: u64,
    },
    /// A return was authorized and its labels exist: the customer gets them attached.
    #[serde(rename_all = "camelCase")]
    ReturnAuthorized {
        order_id: OrderId,
        return_id: String,
    },
    /// Customer service rejected an authorized return: the customer hears why and keeps the
    /// units (one mail per return).
    #[serde(rename_all = "camelCase")]
    ReturnRejected {
        order_id: OrderId,
        return_id: String,
    },
    /// A delivery order is past its fulfiller's SLA: the customer gets one delay notice.
    #[serde(rename_all = "camelCase")]
    DeliveryLate {
        order_id: OrderId,
        delivery_order_id: String,
    },
    /// A chargeback was recorded on an order: customer service gets an alert to look into it
    /// (one per chargeback: `entry_id` is its ledger entry).
    #[serde(rename_all = "camelCase")]
    ChargebackRecorded { order_id: OrderId, entry_id: String },
    /// An alert needs someone's attention: a reminder to the fulfiller it concerns, or (after a
    /// further period) an escalation to the retailer's operations.
    #[serde(rename_all = "camelCase")]
    AlertRaised {
        alert_id: String,
        audience: AlertAudience,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::DocumentKind;

    #[test]
    fn events_carry_their_type_tag() {
        let e = BusinessEvent::DocumentsReady {
            delivery_order_id: "DO-1".into(),
            fulfiller_id: "acme".try_into().unwrap(),
            order_id: "o1".try_into().unwrap(),
            documents: vec![DocumentRef {
                kind: DocumentKind::DeliveryNote,
                key: "documents/x.pdf".into(),
            }],
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "documents_ready");
        assert_eq!(v["deliveryOrderId"], "DO-1");
        assert_eq!(v["documents"][0]["kind"], "delivery_note");
        assert_eq!(serde_json::from_value::<BusinessEvent>(v).unwrap(), e);
    }
}
