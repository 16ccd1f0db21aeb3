//! Changes an admin makes to who ships what, after routing: a delivery order moved to another
//! fulfiller before anything of it shipped, and a free replacement for delivered units. Both
//! reserve stock at the fulfiller that now ships, in the same change as the order's.

use crate::ports::{
    CatalogueReader, ChangeCommitter, ChangeSet, Message, OrderReader, RoutingReader,
};
use crate::retry::{commit_with_retries, kept_changing, Attempt, Retry};
use chrono::Utc;
use dropship_aws::http::HandlerError;
use dropship_aws::repo::changes::{Outcome, StockMove};
use dropship_core::catalogue::{Fulfiller, SourcePair};
use dropship_core::delivery::{DeliveryLine, DeliveryOrder};
use dropship_core::fulfilment;
use dropship_core::ids::FulfillerId;
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::replacement::{self, ReplacementRequest};
use dropship_core::stock::SkuUnits;
use dropship_core::ApiError;

/// An admin moves a delivery order to another fulfiller.
#[derive(Debug, Clone)]
pub struct Reroute {
    pub admin: String,
    pub delivery_order: String,
    /// The fulfiller that ships it from now on.
    pub fulfiller: FulfillerId,
}

/// An admin sends delivered units again, free (wrong or faulty item).
pub struct Replace {
    pub admin: String,
    pub order: String,
    pub request: ReplacementRequest,
}

/// The reservations of `units` at `fulfiller`, spread over the stock items of its sharded skus
/// as read now (`stock::shards`): a sharded sku's root holds only a share of its free units.
async fn reservations_at(
    stock: &impl RoutingReader,
    fulfiller: &FulfillerId,
    units: &[SkuUnits],
    order_id: &str,
) -> anyhow::Result<Vec<StockMove>> {
    let pairs: Vec<SourcePair> = units
        .iter()
        .map(|u| SourcePair {
            fulfiller_id: fulfiller.clone(),
            sku: u.sku.clone(),
        })
        .collect();
    let read = stock.free_stock(&pairs).await?;
    Ok(dropship_core::stock::shards::spread_reservations(
        StockMove::at(fulfiller, units),
        &read.shards,
        order_id,
    ))
}

/// A stock shortage at the fulfiller that would ship is final: planning again finds the same.
fn short_of_stock<T>(outcome: &Outcome, fulfiller: &Fulfiller) -> Option<Result<T, HandlerError>> {
    (*outcome == Outcome::StockChanged).then(|| {
        Err(ApiError::conflict(
            dropship_core::ErrorCode::InsufficientStock,
            format!("{} has not enough free stock for it", fulfiller.id),
        )
        .into())
    })
}

/// Moves a delivery order to another fulfiller before anything of it shipped: the stock
/// reservation moves with it, the old fulfiller is told, the new one gets its documents.
/// The answer is the plan as committed and the fulfiller that ships now.
pub async fn reroute(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    stock: &impl RoutingReader,
    command: &Reroute,
) -> Result<(fulfilment::Reroute, Fulfiller), HandlerError> {
    let Reroute {
        admin,
        delivery_order: id,
        fulfiller: target_id,
    } = command;
    let target = &catalogue.fulfiller(target_id).await?.ok_or_else(|| {
        ApiError::invalid("fulfillerId", format!("unknown fulfiller {target_id}"))
    })?;
    target.check_takes_new_work()?;
    let who = admin;
    // The reroute is decided now: the settings in force now give the new due time.
    let process = &catalogue.process().await?;
    let plan = || async move {
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("delivery order").into());
        }
        let d = store
            .delivery_order(id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery order"))?;
        let order = store
            .order(d.order_id.as_str())
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {} of {id} is missing", d.order_id))?;
        let plan = fulfilment::reroute(&d, &order, target, who, Utc::now(), process)?;
        // The new fulfiller's documents, the old one's notice: committed with the move.
        let documents = Message::Documents(GenerateDocuments::DeliveryOrder {
            delivery_order_id: plan.new.id.clone(),
        });
        let notice = Message::Event(BusinessEvent::DeliveryOrderChanged {
            delivery_order_id: plan.old.id.clone(),
            fulfiller_id: plan.old.fulfiller_id.clone(),
            order_id: plan.order.id.clone(),
            cancelled: true,
            version: plan.old.version + 1,
        });
        let change = ChangeSet {
            order: Some(plan.order.clone()),
            new_deliveries: vec![plan.new.clone()],
            updated_deliveries: vec![plan.old.clone()],
            reserve: reservations_at(stock, &target.id, &plan.units, plan.order.id.as_str())
                .await?,
            release: StockMove::at(&d.fulfiller_id, &plan.units),
            messages: vec![documents, notice],
            ..ChangeSet::default()
        };
        Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), plan))
    };
    let retry = Retry {
        message: "changed while rerouting; trying again",
        id,
    };
    let exhausted = || kept_changing("delivery order").into();
    let on_conflict = |outcome: &Outcome, _: &_| short_of_stock(outcome, target);
    let plan = commit_with_retries(store, retry, plan, on_conflict, exhausted).await?;
    tracing::info!(from = %id, to = %plan.new.id, by = %admin, "delivery order rerouted");
    Ok((plan, target.clone()))
}

/// A free replacement delivery order for delivered units, to the fulfiller that shipped them
/// or another; its stock is reserved like any delivery order's. The answer is the new delivery
/// order and its fulfiller.
pub async fn replace(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    stock: &impl RoutingReader,
    command: &Replace,
) -> Result<(DeliveryOrder, Fulfiller), HandlerError> {
    let Replace {
        admin,
        order: id,
        request,
    } = command;
    let who = admin;
    let process = &catalogue.process().await?;
    let plan = || async move {
        let order = store
            .order(id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let fulfiller_id = match &request.fulfiller_id {
            Some(f) => f.clone(),
            None => {
                let deliveries = store.delivery_orders(&order.delivery_order_ids).await?;
                request
                    .lines
                    .first()
                    .and_then(|l| replacement::shipped_by(&deliveries, &l.line_id))
                    .ok_or_else(|| {
                        ApiError::conflict(
                            dropship_core::ErrorCode::NotShipped,
                            "nothing of these lines was shipped",
                        )
                    })?
            }
        };
        let fulfiller = catalogue.fulfiller(&fulfiller_id).await?.ok_or_else(|| {
            ApiError::invalid("fulfillerId", format!("unknown fulfiller {fulfiller_id}"))
        })?;
        fulfiller.check_takes_new_work()?;
        let (delivery, next) =
            replacement::plan(&order, request, &fulfiller, who, Utc::now(), process)?;
        let units: Vec<SkuUnits> = delivery.lines.iter().map(DeliveryLine::units).collect();
        let job = Message::Documents(GenerateDocuments::DeliveryOrder {
            delivery_order_id: delivery.id.clone(),
        });
        let change = ChangeSet {
            order: Some(next),
            new_deliveries: vec![delivery.clone()],
            reserve: reservations_at(stock, &fulfiller.id, &units, id).await?,
            messages: vec![job],
            ..ChangeSet::default()
        };
        Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), (delivery, fulfiller)))
    };
    let retry = Retry {
        message: "order changed while replacing; trying again",
        id,
    };
    let exhausted = || kept_changing("order").into();
    let on_conflict = |outcome: &Outcome, (_, fulfiller): &(DeliveryOrder, Fulfiller)| {
        short_of_stock(outcome, fulfiller)
    };
    let (delivery, fulfiller) =
        commit_with_retries(store, retry, plan, on_conflict, exhausted).await?;
    tracing::info!(order_id = %delivery.order_id, delivery_order_id = %delivery.id, by = %admin, "free replacement made");
    Ok((delivery, fulfiller))
}

#[cfg(test)]
mod tests;
