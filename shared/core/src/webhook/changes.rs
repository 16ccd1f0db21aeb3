//! What subscribers are told about one committed change of an order: the change stream gives
//! the order item before and after, and the follow-up messages the change wrote with itself
//! (its outbox). Status changes give `order.routed`, `order.backordered` and `order.cancelled`;
//! each shipment gives `order.partially_shipped` or `order.shipped`; the follow-ups name the
//! delivery orders, returns (authorized, received, rejected) and refunds the change made. Nothing here reads a request: only
//! what committed is told.

use crate::ids::{FulfillerId, OrderId};
use crate::messages::{BusinessEvent, GenerateDocuments, SettleReturn};
use crate::order::{Order, OrderStatus};
use chrono::{DateTime, Utc};

use super::EventType;

/// One follow-up message of the change, read back from its outbox.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    Event(BusinessEvent),
    Documents(GenerateDocuments),
    Settle(SettleReturn),
    /// A message webhooks have nothing to say about (routing work).
    Other,
}

/// What an event is about; the sender reads it and writes the subscriber's view of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The order as its channel reads it.
    Order,
    /// The order, with this shipment of one of its delivery orders.
    Shipment {
        delivery_order_id: String,
        shipment_id: String,
    },
    /// The order, with this refund.
    Refund { refund_id: String },
    /// The order, with this return.
    Return { return_id: String },
    /// A delivery order as its fulfiller reads it; the fulfiller is the delivery order's.
    DeliveryOrder { delivery_order_id: String },
    /// A delivery order's change as its fulfiller was told it (its fulfiller known).
    ChangedDeliveryOrder {
        delivery_order_id: String,
        fulfiller_id: FulfillerId,
    },
    /// A return's part for each fulfiller involved, as that fulfiller reads it.
    ReturnParts { return_id: String },
}

/// One event of the change, in the order the change made them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Happening {
    pub event: EventType,
    pub subject: Subject,
}

/// The most messages one change can make (the width of a key's place in its commit).
pub const MAX_MESSAGES_PER_CHANGE: usize = 1000;

/// Where one change's events stand among its order's: the commit's stamp (later than every
/// earlier commit of the order) and the event's place in the commit (below
/// `MAX_MESSAGES_PER_CHANGE`). Written so that the keys of one order sort in the order the
/// events happened.
pub fn sequence_key(order: &OrderId, committed_at: DateTime<Utc>, index: usize) -> Option<String> {
    (index < MAX_MESSAGES_PER_CHANGE).then(|| {
        format!(
            "{order}~{}~{index:03}",
            committed_at.format("%Y%m%d%H%M%S%6f")
        )
    })
}

/// The order a sequence key (a delivery's id) belongs to.
pub fn order_of_key(key: &str) -> Option<&str> {
    let (order, rest) = key.split_once('~')?;
    let (stamp, index) = rest.split_once('~')?;
    (stamp.len() == 20
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && index.len() == 3
        && index.bytes().all(|b| b.is_ascii_digit()))
    .then_some(order)
}

/// The events of the change that took the order from `before` (None: it was created) to
/// `after`, with `follow_ups` written by that change.
pub fn happenings(
    before: Option<&Order>,
    after: &Order,
    follow_ups: &[FollowUp],
) -> Vec<Happening> {
    let mut out = Vec::new();
    let happened = |event, subject| Happening { event, subject };
    let status_before = before.map(|o| o.status).unwrap_or(OrderStatus::Accepted);
    if after.status != status_before {
        match after.status {
            OrderStatus::Routed => out.push(happened(EventType::OrderRouted, Subject::Order)),
            OrderStatus::Backordered => {
                out.push(happened(EventType::OrderBackordered, Subject::Order))
            }
            _ => {}
        }
    }
    let shipped_event = if after.status == OrderStatus::Shipped {
        EventType::OrderShipped
    } else {
        EventType::OrderPartiallyShipped
    };
    let mut shipments = 0;
    for follow_up in follow_ups {
        match follow_up {
            FollowUp::Documents(GenerateDocuments::DeliveryOrder { delivery_order_id }) => out
                .push(happened(
                    EventType::DeliveryOrderCreated,
                    Subject::DeliveryOrder {
                        delivery_order_id: delivery_order_id.clone(),
                    },
                )),
            FollowUp::Documents(GenerateDocuments::Return { return_id }) => {
                out.push(happened(
                    EventType::ReturnAuthorized,
                    Subject::Return {
                        return_id: return_id.clone(),
                    },
                ));
                out.push(happened(
                    EventType::ReturnAnnounced,
                    Subject::ReturnParts {
                        return_id: return_id.clone(),
                    },
                ));
            }
            FollowUp::Event(BusinessEvent::DeliveryOrderChanged {
                delivery_order_id,
                fulfiller_id,
                cancelled,
                ..
            }) => out.push(happened(
                if *cancelled {
                    EventType::DeliveryOrderCancelled
                } else {
                    EventType::DeliveryOrderChanged
                },
                Subject::ChangedDeliveryOrder {
                    delivery_order_id: delivery_order_id.clone(),
                    fulfiller_id: fulfiller_id.clone(),
                },
            )),
            FollowUp::Event(BusinessEvent::DeliveryShipped {
                delivery_order_id,
                shipment_id,
                ..
            }) => {
                shipments += 1;
                out.push(happened(
                    shipped_event,
                    Subject::Shipment {
                        delivery_order_id: delivery_order_id.clone(),
                        shipment_id: shipment_id.clone(),
                    },
                ))
            }
            FollowUp::Event(BusinessEvent::RefundIssued { refund_id, .. }) => out.push(happened(
                EventType::RefundIssued,
                Subject::Refund {
                    refund_id: refund_id.clone(),
                },
            )),
            FollowUp::Event(BusinessEvent::ReturnRejected { return_id, .. }) => out.push(happened(
                EventType::ReturnRejected,
                Subject::Return {
                    return_id: return_id.clone(),
                },
            )),
            FollowUp::Settle(SettleReturn { return_id, .. }) => out.push(happened(
                EventType::ReturnReceived,
                Subject::Return {
                    return_id: return_id.clone(),
                },
            )),
            _ => {}
        }
    }
    // Shipped without a shipment of this change: the last open units were cancelled.
    let shipped_now = matches!(
        after.status,
        OrderStatus::Shipped | OrderStatus::PartiallyShipped
    );
    if shipments == 0 && shipped_now && after.status != status_before {
        out.push(happened(shipped_event, Subject::Order));
    }
    if after.status == OrderStatus::Cancelled && status_before != OrderStatus::Cancelled {
        out.push(happened(EventType::OrderCancelled, Subject::Order));
    }
    out
}

#[cfg(test)]
mod tests;
