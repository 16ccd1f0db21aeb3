//! The messages on the queues between the functions. Every consumer is idempotent: SQS delivers
//! at least once, so each message names what to (re)do, not a delta to apply blindly.

use crate::delivery::DocumentRef;
use serde::{Deserialize, Serialize};

/// Route queue: an accepted order waits to be split into delivery orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteOrder {
    pub order_id: String,
}

/// Documents queue: render the documents of one delivery order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateDocuments {
    pub delivery_order_id: String,
}

/// Events queue: business events the notifier turns into mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusinessEvent {
    #[serde(rename_all = "camelCase")]
    DocumentsReady {
        delivery_order_id: String,
        fulfiller_id: String,
        order_id: String,
        documents: Vec<DocumentRef>,
    },
    /// Units of a delivery order were cancelled (all of them when `cancelled` is true).
    #[serde(rename_all = "camelCase")]
    DeliveryOrderChanged {
        delivery_order_id: String,
        fulfiller_id: String,
        order_id: String,
        cancelled: bool,
        /// The delivery order's version after the change: one notice per change.
        version: u64,
    },
    /// A fulfiller shipped (part of) a delivery order: the customer gets the tracking number.
    #[serde(rename_all = "camelCase")]
    DeliveryShipped {
        order_id: String,
        delivery_order_id: String,
        shipment_id: String,
    },
    /// A stock feed was processed: the fulfiller hears about refused rows (or a refused file).
    #[serde(rename_all = "camelCase")]
    StockFeedProcessed {
        fulfiller_id: String,
        feed: String,
        applied: usize,
        /// (line number, why)
        bad_rows: Vec<(usize, String)>,
        refused: Option<String>,
    },
    /// A refund was recorded on an order: the customer hears about it.
    #[serde(rename_all = "camelCase")]
    RefundIssued { order_id: String, refund_id: String },
    /// An order was routed for the first time: the customer gets the order confirmation.
    #[serde(rename_all = "camelCase")]
    OrderConfirmed { order_id: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::DocumentKind;

    #[test]
    fn events_carry_their_type_tag() {
        let e = BusinessEvent::DocumentsReady {
            delivery_order_id: "DO-1".into(),
            fulfiller_id: "acme".into(),
            order_id: "o1".into(),
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
