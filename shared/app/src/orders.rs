//! What is done to an order for its customer: authorize a return of shipped units, and cancel
//! the order, whole or some lines, before shipment; by its channel (another channel's order is a
//! missing one) or by customer service acting for the customer (any order; a return may ignore
//! the return window), and customer service's rejection of an authorized return.

use crate::ports::{CatalogueReader, ChangeCommitter, ChangeSet, Message, OrderReader};
use crate::retry::{always_retry, commit_with_retries, kept_changing, Attempt, Retry};
use chrono::Utc;
use dropship_aws::http::HandlerError;
use dropship_aws::repo::changes::StockMove;
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus};
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::order::Order;
use dropship_core::returns::{ReturnPart, ReturnWindow};
use dropship_core::{cancel, refund, returns, ApiError, ErrorCode};

/// Who acts for the customer: the order's channel, or a staff member of customer service (by
/// the display name the admin API knows them by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acting {
    Channel(String),
    Staff(String),
}

impl Acting {
    /// How the order's history names them.
    pub fn who(&self) -> String {
        match self {
            Acting::Channel(channel) => format!("channel:{channel}"),
            Acting::Staff(who) => who.clone(),
        }
    }
}

/// A return is authorized; `request` is the body (`{lines: [{lineId, quantity, reason}]}`, and
/// for staff `ignoreReturnWindow`), parsed once the order is known to be one the caller may act
/// on (someone else's is missing, whatever the body says).
#[derive(Debug, Clone)]
pub struct AuthorizeReturn {
    pub by: Acting,
    pub order: String,
    pub request: serde_json::Value,
}

/// An order is cancelled: no body cancels everything not shipped, `{lines}` some lines.
#[derive(Debug, Clone)]
pub struct CancelOrder {
    pub by: Acting,
    pub order: String,
    pub request: Option<serde_json::Value>,
}

/// Customer service rejects an authorized return; `request` is the body (`{reason}`).
#[derive(Debug, Clone)]
pub struct RejectReturn {
    pub admin: String,
    pub return_id: String,
    pub request: serde_json::Value,
}

/// The channel's own order; someone else's looks exactly like a missing one.
pub async fn own_order(
    store: &impl OrderReader,
    channel: &str,
    id: &str,
) -> Result<Order, HandlerError> {
    if !dropship_core::ids::is_valid_id(id) {
        return Err(ApiError::not_found("order").into());
    }
    match store.order(id).await? {
        Some(o) if o.channel_id == channel => Ok(o),
        _ => Err(ApiError::not_found("order").into()),
    }
}

/// The order as the one acting may see it: a channel its own, staff every order.
async fn order_for(store: &impl OrderReader, by: &Acting, id: &str) -> Result<Order, HandlerError> {
    match by {
        Acting::Channel(channel) => own_order(store, channel, id).await,
        Acting::Staff(_) => {
            if !dropship_core::ids::is_valid_id(id) {
                return Err(ApiError::not_found("order").into());
            }
            store
                .order(id)
                .await?
                .ok_or_else(|| ApiError::not_found("order").into())
        }
    }
}

/// Authorizes a return of shipped units; the order's version guards against two returns
/// claiming the same units at once. The answer is the new return's id.
pub async fn authorize_return(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    command: &AuthorizeReturn,
) -> Result<String, HandlerError> {
    let AuthorizeReturn {
        by,
        order: id,
        request,
    } = command;
    // The first attempt uses this read.
    let mut first = Some(order_for(store, by, id).await?);
    let policy = catalogue.refund_policy().await?;
    let window_days = policy.return_window_days;
    // Only customer service may ignore the window; a channel's body is read as it always was.
    let (request, window) = match by {
        Acting::Staff(_) => returns::parse_staff_request(request, window_days)?,
        Acting::Channel(_) => (
            returns::parse_request(request)?,
            ReturnWindow::Days(window_days),
        ),
    };
    let request = &request;
    let return_id = &format!("RT-{}", uuid::Uuid::now_v7().simple()).to_uppercase();
    let who = &by.who();
    let plan = || {
        let first = first.take();
        async move {
            let mut order = match first {
                Some(o) => o,
                None => order_for(store, by, id).await?,
            };
            let deliveries = store.delivery_orders(&order.delivery_order_ids).await?;
            let mut earlier = Vec::new();
            for r in &order.return_ids {
                earlier.extend(store.return_parts(r).await?);
            }
            let now = Utc::now();
            let parts = returns::authorize(
                &order,
                &deliveries,
                &earlier,
                request,
                return_id,
                now,
                window,
            )?;
            order.return_ids.push(return_id.clone());
            let units: u32 = request.iter().map(|l| l.quantity).sum();
            let ignored = if window == ReturnWindow::Ignored {
                ", return window ignored"
            } else {
                ""
            };
            order.record(
                now,
                who.clone(),
                format!("return {return_id} authorized ({units} unit(s){ignored})"),
            );
            let parts_count = parts.len();
            // The labels are made next; the customer's mail follows once they exist.
            let job = Message::Documents(GenerateDocuments::Return {
                return_id: return_id.clone(),
            });
            let change = ChangeSet {
                order: Some(order),
                new_return_parts: parts,
                messages: vec![job],
                ..ChangeSet::default()
            };
            Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), parts_count))
        }
    };
    let retry = Retry {
        message: "order changed while authorizing a return; trying again",
        id,
    };
    let exhausted = || kept_changing("order").into();
    let parts = commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    tracing::info!(order_id = %id, return_id, parts, "return authorized");
    Ok(return_id.clone())
}

/// Cancels what is asked for (or everything not shipped) and refunds what is due, under the
/// customer's rules (`cancel::plan_for_customer`) whoever acts for them;
/// the fulfillers and the customer hear of it. The answer is the order and its delivery
/// orders as they are now.
pub async fn cancel_order(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    command: &CancelOrder,
) -> Result<(Order, Vec<DeliveryOrder>), HandlerError> {
    let CancelOrder {
        by,
        order: id,
        request,
    } = command;
    let mut first = Some(order_for(store, by, id).await?);
    let request = &cancel::parse_request(request.as_ref())?;
    let who = &by.who();
    let (policy, process) = tokio::try_join!(catalogue.refund_policy(), catalogue.process())?;
    let process = &process;
    let plan = || {
        let first = first.take();
        async move {
            let order = match first {
                Some(o) => o,
                None => order_for(store, by, id).await?,
            };
            let deliveries = store.delivery_orders(&order.delivery_order_ids).await?;
            let now = Utc::now();
            let mut plan = match cancel::plan_for_customer(
                &order,
                &deliveries,
                request.clone(),
                who,
                now,
                process,
            ) {
                Ok(plan) => plan,
                // The process refused: that decision is the order's history too, once (a
                // retried request, or the same one asked again, adds nothing).
                Err(refused) if refused.code == ErrorCode::CancellationClosed => {
                    let what = format!("cancellation refused: {}", refused.message);
                    if order.history.iter().any(|h| h.what == what) {
                        return Ok(Attempt::Done(Err(refused)));
                    }
                    let mut order = order.clone();
                    order.record(now, who.clone(), what);
                    let change = ChangeSet {
                        order: Some(order),
                        ..ChangeSet::default()
                    };
                    return Ok(Attempt::Commit(Box::new(change), Err(refused)));
                }
                Err(e) => return Err(e.into()),
            };
            let refund_id = refund::new_refund_id(uuid::Uuid::now_v7().simple());
            let refund = refund::settle(
                &mut plan.order,
                policy.allocation,
                refund_id,
                "cancellation",
                now,
            );
            if let Some(r) = &refund {
                plan.order.record(
                    now,
                    who.clone(),
                    format!("refund {} {} ({})", r.amount, plan.order.currency, r.id),
                );
            }
            let release = plan
                .releases
                .iter()
                .map(|r| StockMove {
                    fulfiller_id: r.fulfiller_id.clone(),
                    sku: r.sku.clone(),
                    shard: 0,
                    quantity: r.quantity,
                })
                .collect();
            let mut events: Vec<Message> = plan
                .deliveries
                .iter()
                .map(|d| {
                    Message::Event(BusinessEvent::DeliveryOrderChanged {
                        delivery_order_id: d.id.clone(),
                        fulfiller_id: d.fulfiller_id.clone(),
                        order_id: order.id.clone(),
                        cancelled: d.status == DeliveryStatus::Cancelled,
                        version: d.version + 1,
                    })
                })
                .collect();
            events.push(Message::Event(BusinessEvent::OrderCancelled {
                order_id: order.id.clone(),
                refund_id: refund.as_ref().map(|r| r.id.clone()),
                version: order.version + 1,
            }));
            let change = ChangeSet {
                order: Some(plan.order.clone()),
                updated_deliveries: plan.deliveries.clone(),
                release,
                messages: events,
                ..ChangeSet::default()
            };
            let answer = (order, deliveries, plan, refund);
            Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), Ok(answer)))
        }
    };
    let retry = Retry {
        message: "order changed while cancelling; trying again",
        id,
    };
    let exhausted = || kept_changing("order").into();
    let (order, deliveries, plan, refund) =
        commit_with_retries(store, retry, plan, always_retry, exhausted).await??;
    if let Some(r) = &refund {
        dropship_aws::metrics::refunds_issued(r.amount, plan.order.currency.as_str());
    }
    tracing::info!(order_id = %order.id, cancelled = ?plan.cancelled, refund = ?refund.as_ref().map(|r| r.amount), "order cancelled");
    let deliveries = deliveries
        .into_iter()
        .map(|d| {
            plan.deliveries
                .iter()
                .find(|c| c.id == d.id)
                .cloned()
                .unwrap_or(d)
        })
        .collect();
    Ok((plan.order, deliveries))
}

/// Customer service rejects an authorized return (`returns::reject`): every part becomes
/// `rejected` with the reason, the order's history names the staff member, and the customer's
/// mail and the channel's `return.rejected` go with the commit (its outbox). 404 for an unknown
/// return, 409 `return_not_authorized` once anything of it arrived or it was rejected. The answer
/// is the return's parts as they are now.
pub async fn reject_return(
    store: &(impl OrderReader + ChangeCommitter),
    command: &RejectReturn,
) -> Result<Vec<ReturnPart>, HandlerError> {
    let RejectReturn {
        admin,
        return_id: id,
        request,
    } = command;
    let missing = || HandlerError::from(ApiError::not_found("return"));
    if !dropship_core::ids::is_valid_id(id) {
        return Err(missing());
    }
    let mut first = Some(store.return_parts(id).await?);
    if first.as_ref().is_some_and(Vec::is_empty) {
        return Err(missing());
    }
    let reason = &returns::parse_rejection(request)?;
    let who = admin;
    let plan = || {
        let first = first.take();
        async move {
            let parts = match first {
                Some(p) => p,
                None => store.return_parts(id).await?,
            };
            let order_id = parts
                .first()
                .map(|p| p.order_id.clone())
                .ok_or_else(missing)?;
            let mut order = store.order(order_id.as_str()).await?.ok_or_else(|| {
                anyhow::anyhow!("return {id} belongs to order {order_id}, which does not exist")
            })?;
            let now = Utc::now();
            let rejected = returns::reject(&parts, reason, who, now)?;
            order.record(
                now,
                who.clone(),
                format!(
                    "return {id} rejected ({} unit(s) kept by the customer): {reason}",
                    returns::units(&parts)
                ),
            );
            let told = Message::Event(BusinessEvent::ReturnRejected {
                order_id: order.id.clone(),
                return_id: id.clone(),
            });
            let change = ChangeSet {
                order: Some(order),
                updated_return_parts: rejected.clone(),
                messages: vec![told],
                ..ChangeSet::default()
            };
            Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), rejected))
        }
    };
    let retry = Retry {
        message: "order or return changed while rejecting a return; trying again",
        id,
    };
    let exhausted = || kept_changing("return").into();
    let rejected = commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    tracing::info!(return_id = %id, by = %who, "return rejected by customer service");
    Ok(rejected)
}

#[cfg(test)]
mod tests;
