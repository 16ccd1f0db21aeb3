//! Routing an order: decides who ships each line, reserves that stock and splits the order into
//! delivery orders (one per fulfiller and routing round), then asks for their documents. It
//! routes whatever of an order is pending: the whole order once it is accepted, later the units
//! of a rejected delivery order (without that fulfiller) or backordered units once stock arrived.
//!
//! Idempotent: delivery-order ids are derived from (order, fulfiller, round) and are committed in
//! one change with the stock reservations, the order (conditional on the version read) and the
//! round's follow-ups (the order item's outbox: the customer's notices, the document requests).
//! A redelivered message finds nothing pending, asks again for the documents still missing and
//! reserves nothing twice.

use crate::ports::{
    CatalogueReader, ChangeCommitter, ChangeSet, EventPublisher, Message, OrderReader,
    RoutingReader,
};
use crate::retry::{always_retry, commit_with_retries, Attempt, Retry};
use chrono::Utc;
use dropship_aws::repo::changes::Outcome;
use dropship_aws::repo::changes::StockMove;
use dropship_core::catalogue::SourcePair;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::fulfilment;
use dropship_core::messages::{due_at, local_clock, BusinessEvent, DueTimer, GenerateDocuments};
use dropship_core::order::{Order, OrderStatus};
use dropship_core::split::{backordered_skus, plan_round};

/// Route what of an order is pending (the router's queue message).
pub use dropship_core::messages::RouteOrder;

/// Routes what of the order is pending (this round's documents are requested by its commit),
/// and asks again for the documents of every earlier active delivery order that has none yet.
pub async fn route_order(
    store: &(impl OrderReader + ChangeCommitter),
    sources: &impl RoutingReader,
    catalogue: &impl CatalogueReader,
    publisher: &impl EventPublisher,
    command: &RouteOrder,
) -> anyhow::Result<()> {
    let RouteOrder {
        order_id,
        due,
        triggered_at,
    } = command;
    let mut triggered_at = *triggered_at;
    match due {
        Some(DueTimer::SilentDelivery {
            delivery_order_id,
            at,
        }) => {
            let at = due_at(*at, Utc::now(), local_clock());
            withdraw_silent(store, catalogue, delivery_order_id, at).await?;
            // The round that follows is the withdrawal's.
            triggered_at = Some(at);
        }
        Some(DueTimer::OverdueBackorders { at }) => {
            let at = due_at(*at, Utc::now(), local_clock());
            cancel_overdue_backorders(store, catalogue, order_id.as_str(), at).await?
        }
        None => {}
    }
    let round = Round {
        store,
        sources,
        catalogue,
    };
    // An order written meanwhile (a cancellation, a mail's history entry) is read again and
    // routed as it is now; only a message that keeps losing goes back to its queue.
    let mut attempt = 0;
    let existing = loop {
        attempt += 1;
        let order = store
            .order(order_id.as_str())
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))?;
        let existing = store.delivery_orders(&order.delivery_order_ids).await?;
        if order.status == OrderStatus::Cancelled {
            break existing;
        }
        match round.split(&order, &existing, triggered_at).await {
            Ok(_) => break existing,
            Err(e) if e.is::<OrderMoved>() && attempt < crate::retry::ATTEMPTS => {
                tracing::warn!(order_id = %order_id, attempt, "order changed while it was being routed; reading it again");
            }
            Err(e) => return Err(e),
        }
    };
    let pending: Vec<Message> = existing
        .iter()
        .filter(|d| d.documents.is_empty() && d.is_active())
        .map(documents_of)
        .collect();
    publisher.publish_all(&pending).await?;
    Ok(())
}

/// Withdraws a delivery order its fulfiller left unanswered past the process settings'
/// `rerouteIfSilentHours` (the version in force when it was made decides), as of the alerting
/// run's time: it ends rejected by the system, its stock goes back to free, the fulfiller is told,
/// and the routing that follows sends its units elsewhere. Nothing when it was answered
/// meanwhile (or a redelivery finds it withdrawn already).
async fn withdraw_silent(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    id: &str,
    at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let plan = || async move {
        let Some(d) = store.delivery_order(id).await? else {
            return Ok(Attempt::Done(()));
        };
        let process = catalogue.process_at(d.created_at).await?;
        let order = crate::fulfilment::order_of(store, &d).await?;
        // A free replacement goes where the admin sent it: never rerouted.
        if dropship_core::replacement::is_replacement(&order, &d.id) {
            return Ok(Attempt::Done(()));
        }
        let Some(withdrawn) = fulfilment::withdraw_silent(&d, &order, &process, at) else {
            return Ok(Attempt::Done(()));
        };
        let told = Message::Event(BusinessEvent::DeliveryOrderChanged {
            delivery_order_id: d.id.clone(),
            fulfiller_id: d.fulfiller_id.clone(),
            order_id: order.id.clone(),
            cancelled: true,
            version: d.version + 1,
        });
        let change = ChangeSet {
            order: Some(withdrawn.order),
            updated_deliveries: vec![withdrawn.delivery],
            release: StockMove::at(&d.fulfiller_id, &withdrawn.units),
            messages: vec![told],
            ..ChangeSet::default()
        };
        tracing::info!(delivery_order_id = id, fulfiller_id = %d.fulfiller_id, process_version = process.version, "withdrawing a silent delivery order");
        Ok::<_, anyhow::Error>(Attempt::Commit(Box::new(change), ()))
    };
    let retry = Retry {
        message: "delivery order changed while withdrawing it; trying again",
        id,
    };
    let exhausted = || anyhow::anyhow!("delivery order {id} kept changing while it was withdrawn");
    commit_with_retries(store, retry, plan, always_retry, exhausted).await
}

/// Cancels the order's units still backordered past the process settings' `backorders.maxDays`
/// (the version in force when the order was placed decides), as of the alerting run's time:
/// refunded at once, the customer told, the order no longer waiting for their skus. Nothing when
/// stock came meanwhile (or a redelivery finds them cancelled already).
async fn cancel_overdue_backorders(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    order_id: &str,
    at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let who = "system:split-router";
    let plan = || async move {
        let Some(order) = store.order(order_id).await? else {
            return Ok(Attempt::Done(None));
        };
        let process = catalogue.process_at(order.created_at).await?;
        let Some(lines) = dropship_core::cancel::overdue_backorders(&order, &process, at) else {
            return Ok(Attempt::Done(None));
        };
        let now = Utc::now();
        let mut next = dropship_core::cancel::cancel_overdue(&order, &lines, &process, now);
        let policy = catalogue.refund_policy().await?;
        let refund_id = dropship_core::refund::new_refund_id(uuid::Uuid::now_v7().simple());
        let refund = dropship_core::refund::settle(
            &mut next,
            policy.allocation,
            refund_id,
            "backorder_overdue",
            now,
        );
        if let Some(r) = &refund {
            next.record(
                now,
                who,
                format!("refund {} {} ({})", r.amount, next.currency, r.id),
            );
        }
        let was = backordered_skus(&order);
        let still = backordered_skus(&next);
        let currency = next.currency.clone();
        let change = ChangeSet {
            order: Some(next),
            backorders_cleared: was.difference(&still).map(ToString::to_string).collect(),
            messages: vec![Message::Event(BusinessEvent::OrderCancelled {
                order_id: order.id.clone(),
                refund_id: refund.as_ref().map(|r| r.id.clone()),
                version: order.version + 1,
            })],
            ..ChangeSet::default()
        };
        let refunded = refund.map(|r| (r.amount, currency));
        Ok::<_, anyhow::Error>(Attempt::Commit(Box::new(change), refunded))
    };
    let retry = Retry {
        message: "order changed while cancelling its overdue backorders; trying again",
        id: order_id,
    };
    let exhausted = || {
        anyhow::anyhow!(
            "order {order_id} kept changing while its overdue backorders were cancelled"
        )
    };
    if let Some((amount, currency)) =
        commit_with_retries(store, retry, plan, always_retry, exhausted).await?
    {
        dropship_aws::metrics::refunds_issued(amount, currency.as_str());
    }
    tracing::info!(order_id, "overdue backorders handled");
    Ok(())
}

/// The order was written between the routing round's read and its commit.
#[derive(Debug)]
struct OrderMoved(String);

impl std::fmt::Display for OrderMoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order {} changed while it was being routed", self.0)
    }
}

impl std::error::Error for OrderMoved {}

/// The request for a delivery order's documents.
fn documents_of(d: &DeliveryOrder) -> Message {
    Message::Documents(GenerateDocuments::DeliveryOrder {
        delivery_order_id: d.id.clone(),
    })
}

/// The ports one routing round works through.
struct Round<'a, S, R, C> {
    store: &'a S,
    sources: &'a R,
    catalogue: &'a C,
}

impl<S, R, C> Round<'_, S, R, C>
where
    S: OrderReader + ChangeCommitter,
    R: RoutingReader,
    C: CatalogueReader,
{
    /// Plans, reserves and commits one routing round; returns the delivery orders it made.
    async fn split(
        &self,
        order: &Order,
        existing: &[DeliveryOrder],
        triggered_at: Option<chrono::DateTime<Utc>>,
    ) -> anyhow::Result<Vec<DeliveryOrder>> {
        let skus: Vec<String> = order.lines.iter().map(|l| l.sku.to_string()).collect();
        let products = self.sources.products(skus).await?;
        // Who could ship and what they have free, in one read (both follow from the products);
        // later attempts re-read only the stock.
        let pairs = dropship_core::catalogue::source_pairs(products.values());
        let (fulfillers, free) = self.sources.fulfillers_and_free_stock(&pairs).await?;
        let mut free = Some(free);
        let pairs: Vec<SourcePair> = pairs
            .into_iter()
            .filter(|p| fulfillers.contains_key(&p.fulfiller_id))
            .collect();
        let was_waiting_for = &backordered_skus(order);
        // The first round follows the settings in force when the order was placed; a later one
        // those when the change that left units pending (a rejection, a withdrawal, stock that
        // came in) was committed, as its message says (a message from before that time was
        // recorded: the order's last write).
        let triggered_at = match (order.routing_round, triggered_at) {
            (0, _) => order.created_at,
            (_, Some(at)) => at,
            (_, None) => order.updated_at.unwrap_or(order.created_at),
        };
        let process = &self.catalogue.process_at(triggered_at).await?;
        let (products, fulfillers, pairs) = (&products, &fulfillers, &pairs);
        // Read, plan and reserve through the one retry loop: stock that moved meanwhile is
        // planned again; the answer is the round committed and its refund, if any.
        let plan = || {
            let first = free.take();
            async move {
                let levels = match first {
                    Some(first) => first,
                    None => self.sources.free_stock(pairs).await?,
                };
                let free: dropship_core::split::FreeStock = levels
                    .free
                    .into_iter()
                    .filter(|((f, _), _)| fulfillers.contains_key(f))
                    .collect();
                let now = Utc::now();
                let Some(mut round) =
                    plan_round(order, existing, products, fulfillers, &free, now, process)
                else {
                    return Ok(Attempt::Done(None));
                };
                // Units nobody can ship are cancelled by the system: refunded now, the customer told.
                let refund = if round.plan.unroutable.is_empty() {
                    None
                } else {
                    let policy = self.catalogue.refund_policy().await?;
                    let id = dropship_core::refund::new_refund_id(uuid::Uuid::now_v7().simple());
                    let refund = dropship_core::refund::settle(
                        &mut round.order,
                        policy.allocation,
                        id,
                        "unroutable",
                        now,
                    );
                    if let Some(r) = &refund {
                        round.order.record(
                            now,
                            "system:split-router",
                            format!("refund {} {} ({})", r.amount, round.order.currency, r.id),
                        );
                    }
                    refund
                };
                // The customer hears once the order is placed (first round), and of units no
                // one can ship (cancelled) with their refund; then this round's documents.
                let mut messages = Vec::new();
                if order.routing_round == 0 {
                    messages.push(Message::Event(BusinessEvent::OrderConfirmed {
                        order_id: order.id.clone(),
                    }));
                }
                if !round.plan.unroutable.is_empty() || refund.is_some() {
                    messages.push(Message::Event(BusinessEvent::OrderCancelled {
                        order_id: order.id.clone(),
                        refund_id: refund.as_ref().map(|r| r.id.clone()),
                        version: order.version + 1,
                    }));
                }
                messages.extend(
                    round
                        .deliveries
                        .iter()
                        .filter(|d| d.documents.is_empty() && d.is_active())
                        .map(documents_of),
                );
                // A sharded sku's units are taken from its items as read (`stock::shards`).
                let reserve = dropship_core::stock::shards::spread_reservations(
                    round.reservations.clone(),
                    &levels.shards,
                    order.id.as_str(),
                );
                let waits_for = backordered_skus(&round.order);
                let change = ChangeSet {
                    order: Some(round.order.clone()),
                    new_deliveries: round.deliveries.clone(),
                    reserve,
                    backorders_set: waits_for
                        .difference(was_waiting_for)
                        .map(ToString::to_string)
                        .collect(),
                    backorders_cleared: was_waiting_for
                        .difference(&waits_for)
                        .map(ToString::to_string)
                        .collect(),
                    messages,
                    ..ChangeSet::default()
                };
                Ok::<_, anyhow::Error>(Attempt::Commit(Box::new(change), Some((round, refund))))
            }
        };
        let on_conflict = |outcome: &Outcome, _: &_| match outcome {
            // An earlier delivery of this message made them; the caller lists them anyway.
            Outcome::AlreadyExists => Some(Ok(None)),
            // The order changed meanwhile (a cancellation, a mail's history entry): `route_order`
            // reads it again.
            Outcome::Stale => Some(Err(anyhow::Error::new(OrderMoved(order.id.to_string())))),
            _ => None,
        };
        let retry = Retry {
            message: "stock moved while reserving; planning again",
            id: order.id.as_str(),
        };
        let exhausted = || {
            anyhow::anyhow!(
                "stock kept moving while routing order {}; the message will be retried",
                order.id
            )
        };
        let Some((round, refund)) =
            commit_with_retries(self.store, retry, plan, on_conflict, exhausted).await?
        else {
            return Ok(Vec::new());
        };
        if let Some(r) = &refund {
            dropship_aws::metrics::refunds_issued(r.amount, order.currency.as_str());
        }
        if !round.plan.unroutable.is_empty() {
            let units = round.plan.unroutable.iter().map(|u| u64::from(u.quantity));
            dropship_aws::metrics::lines_unroutable(units.sum());
        }
        tracing::info!(order_id = %order.id, round = order.routing_round, delivery_orders = round.deliveries.len(),
            backordered = round.plan.backordered.len(), unroutable = round.plan.unroutable.len(), "order split");
        Ok(round.deliveries)
    }
}

#[cfg(test)]
mod tests;
