//! What a fulfiller does (in its API or the portal): accept, reject or ship one of its delivery
//! orders, and record what arrived of its part of a return.

use crate::ports::{ChangeCommitter, ChangeSet, EventPublisher, Message, OrderReader};
use crate::retry::{always_retry, commit_with_retries, kept_changing, Attempt, Retry};
use chrono::Utc;
use dropship_aws::http::HandlerError;
use dropship_aws::repo::changes::StockMove;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::fulfilment;
use dropship_core::ids::{FulfillerId, Sku};
use dropship_core::messages::{BusinessEvent, GenerateDocuments, RouteOrder, SettleReturn};
use dropship_core::order::Order;
use dropship_core::returns::{self, ReturnPart, ReturnStatus};
use dropship_core::stock::SkuUnits;
use dropship_core::ApiError;

pub mod answers;

/// What a fulfiller does to one of its delivery orders.
#[derive(Debug, Clone)]
pub enum DeliveryOrderAction {
    Accept,
    /// The shipment as the API takes it: `{carrier, trackingNumber, lines: [{lineId, quantity}]}`.
    Ship(serde_json::Value),
    /// `{reason}`.
    Reject(serde_json::Value),
}

/// A fulfiller accepts, ships or rejects its delivery order.
#[derive(Debug, Clone)]
pub struct ActOnDeliveryOrder {
    pub fulfiller: FulfillerId,
    pub delivery_order: String,
    pub action: DeliveryOrderAction,
}

/// A fulfiller records what arrived of its part of a return: `{lines: [{lineId, quantity, condition}]}`.
#[derive(Debug, Clone)]
pub struct ReceiveReturn {
    pub fulfiller: FulfillerId,
    pub return_id: String,
    pub receipt: serde_json::Value,
}

/// The fulfiller's own delivery order; anyone else's looks like a missing one.
pub async fn own_delivery_order(
    store: &impl OrderReader,
    fulfiller: &FulfillerId,
    id: &str,
) -> Result<DeliveryOrder, HandlerError> {
    if !dropship_core::ids::is_valid_id(id) {
        return Err(ApiError::not_found("delivery order").into());
    }
    match store.delivery_order(id).await? {
        Some(d) if d.fulfiller_id == *fulfiller => Ok(d),
        _ => Err(ApiError::not_found("delivery order").into()),
    }
}

/// The order a delivery order belongs to (it always exists: they are written together).
pub async fn order_of(store: &impl OrderReader, d: &DeliveryOrder) -> anyhow::Result<Order> {
    store
        .order(d.order_id.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {} of {} is missing", d.order_id, d.id))
}

/// Accept, ship or reject, retried when the order or delivery order moved. The answer is the
/// delivery order as it is now.
pub async fn act_on_delivery_order(
    store: &(impl OrderReader + ChangeCommitter),
    command: &ActOnDeliveryOrder,
) -> Result<DeliveryOrder, HandlerError> {
    let ActOnDeliveryOrder {
        fulfiller,
        delivery_order: id,
        action,
    } = command;
    let who = &format!("fulfiller:{fulfiller}");
    let retry = Retry {
        message: "changed meanwhile; trying again",
        id,
    };
    // Each change carries its follow-ups (the outbox): a rejection's re-routing request, a
    // shipment's invoice check and notice.
    let plan = || async move {
        let d = own_delivery_order(store, fulfiller, id).await?;
        let now = Utc::now();
        let (change, next) = match action {
            DeliveryOrderAction::Accept => {
                let Some(next) = fulfilment::accept(&d)? else {
                    return Ok(Attempt::Done(d));
                };
                // Every status change is in the order's history.
                let mut order = order_of(store, &d).await?;
                order.record(now, who.clone(), format!("accepted {}", d.id));
                let change = ChangeSet {
                    order: Some(order),
                    updated_deliveries: vec![next.clone()],
                    ..ChangeSet::default()
                };
                (change, next)
            }
            DeliveryOrderAction::Reject(body) => {
                let order = order_of(store, &d).await?;
                let fulfilment::Shipped {
                    delivery: next,
                    order,
                    units: released,
                } = fulfilment::reject(&d, &order, body, who, now)?;
                // The rejected units are pending again: the router finds them another fulfiller.
                let route = Message::Route(RouteOrder::after(order.id.clone(), now));
                let change = ChangeSet {
                    order: Some(order),
                    updated_deliveries: vec![next.clone()],
                    release: StockMove::at(fulfiller, &released),
                    messages: vec![route],
                    ..ChangeSet::default()
                };
                (change, next)
            }
            DeliveryOrderAction::Ship(body) => {
                let shipment_id = format!("shp_{}", uuid::Uuid::now_v7().simple());
                let shipment = fulfilment::parse_shipment(body, &d, shipment_id, now)?;
                let order = order_of(store, &d).await?;
                let fulfilment::Shipped {
                    delivery: next,
                    order,
                    units: consumed,
                } = fulfilment::ship(&d, &order, &shipment, who, now)?;
                // A shipment in another tax-rate period needs a corrected invoice.
                let job = Message::Documents(GenerateDocuments::Shipment {
                    delivery_order_id: next.id.clone(),
                    shipment_id: shipment.id.clone(),
                });
                let shipped = Message::Event(BusinessEvent::DeliveryShipped {
                    order_id: order.id.clone(),
                    delivery_order_id: next.id.clone(),
                    shipment_id: shipment.id.clone(),
                });
                let change = ChangeSet {
                    order: Some(order),
                    updated_deliveries: vec![next.clone()],
                    consume: StockMove::at(fulfiller, &consumed),
                    messages: vec![job, shipped],
                    ..ChangeSet::default()
                };
                (change, next)
            }
        };
        let mut updated = next;
        updated.version += 1;
        Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), updated))
    };
    let exhausted = || kept_changing("delivery order").into();
    let updated = commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    Ok(updated)
}

/// Records what arrived of the fulfiller's part of a return: resellable units go back on its
/// shelf in the same change; the refund is settled by the return processor. The answer is the
/// part as planned.
pub async fn receive_return(
    store: &(impl OrderReader + ChangeCommitter),
    publisher: &impl EventPublisher,
    command: &ReceiveReturn,
) -> Result<ReturnPart, HandlerError> {
    let ReceiveReturn {
        fulfiller,
        return_id,
        receipt,
    } = command;
    if !dropship_core::ids::is_valid_id(return_id) {
        return Err(ApiError::not_found("return").into());
    }
    let settle = Message::Settle(SettleReturn {
        return_id: return_id.clone(),
        fulfiller_id: fulfiller.clone(),
    });
    let settle = &settle;
    let retry = Retry {
        message: "return changed while receiving; trying again",
        id: return_id,
    };
    let plan = || async move {
        let Some(part) = store.return_part(return_id, fulfiller).await? else {
            return Err(ApiError::not_found("return").into());
        };
        if part.status == ReturnStatus::Received {
            // Received but not yet settled: nudge the processor again (it settles once).
            publisher.publish(settle).await?;
        }
        let next = returns::receive(&part, receipt, Utc::now())?;
        let mut back: std::collections::BTreeMap<Sku, u32> = Default::default();
        for l in &next.lines {
            let n = l.arrived.map(|a| a.resellable).unwrap_or(0);
            if n > 0 {
                *back.entry(l.sku.clone()).or_default() += n;
            }
        }
        let restocked: Vec<SkuUnits> = back
            .into_iter()
            .map(|(sku, units)| SkuUnits { sku, units })
            .collect();
        // The processor settles the refund (on the order item's outbox: the part has none).
        let change = ChangeSet {
            updated_return_parts: vec![next.clone()],
            restock: StockMove::at(fulfiller, &restocked),
            messages: vec![settle.clone()],
            ..ChangeSet::default()
        };
        Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), (next, restocked)))
    };
    let exhausted = || kept_changing("return").into();
    let (next, restocked) =
        commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    tracing::info!(order_id = %next.order_id, return_id, restocked = ?restocked, "return received");
    Ok(next)
}

#[cfg(test)]
mod tests;
