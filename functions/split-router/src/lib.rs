//! Decides who ships each line of an order, reserves that stock and splits the order into
//! delivery orders (one per fulfiller and routing round), then asks for their documents. It routes
//! whatever of an order is pending: the whole order once it is accepted, later the units of a
//! rejected delivery order (without that fulfiller) or backordered units once stock arrived.
//!
//! Idempotent: delivery-order ids are derived from (order, fulfiller, round) and are written in
//! one DynamoDB transaction with the stock reservations and the order (conditional on the version
//! read). A redelivered message finds nothing pending, completes whatever the first attempt left
//! undone (document requests) and reserves nothing twice.

mod config;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
pub use config::Config;
use dropship_app::aws::Store;
use dropship_app::retry::{commit_with_retries, Attempt, Retry};
use dropship_app::ChangeSet;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::{Outcome, Tables};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::stock::Stock;
use dropship_aws::sqs_batch;
use dropship_core::catalogue::SourcePair;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::messages::{BusinessEvent, GenerateDocuments, RouteOrder};
use dropship_core::order::{Order, OrderStatus};
use dropship_core::split::{backordered_skus, plan_round, FreeStock};

pub struct SplitRouter {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub stock: Stock,
    pub documents_queue: Queue,
    pub events_queue: Queue,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
}

impl dropship_aws::config::FromConfig for SplitRouter {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            delivery_orders: DeliveryOrders::new(ddb.clone(), config.delivery_orders_table.clone()),
            stock: Stock::new(ddb.clone(), config.stock_table.clone()),
            dynamodb: ddb,
            tables: Tables {
                orders: config.orders_table.clone(),
                delivery_orders: config.delivery_orders_table.clone(),
                stock: config.stock_table.clone(),
                returns: None,
            },
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.documents_queue_url.clone(),
            ),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.events_queue_url.clone(),
            ),
        })
    }
}

impl SplitRouter {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.route_message(m)).await
    }

    async fn route_message(&self, m: SqsMessage) -> anyhow::Result<()> {
        let RouteOrder { order_id } = sqs_batch::body(&m)?;
        let order = self
            .orders
            .get(&order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))?;
        let mut existing = self
            .delivery_orders
            .get_many(&order.delivery_order_ids)
            .await?;
        if order.status != OrderStatus::Cancelled {
            existing.extend(self.split(&order, &existing).await?);
        }
        let pending: Vec<GenerateDocuments> = existing
            .iter()
            .filter(|d| d.documents.is_empty() && d.is_active())
            .map(|d| GenerateDocuments::DeliveryOrder {
                delivery_order_id: d.id.clone(),
            })
            .collect();
        self.documents_queue.send_all(&pending).await?;
        Ok(())
    }

    /// Plans, reserves and writes one routing round; returns the delivery orders it made.
    async fn split(
        &self,
        order: &Order,
        existing: &[DeliveryOrder],
    ) -> anyhow::Result<Vec<DeliveryOrder>> {
        let skus: Vec<String> = order.lines.iter().map(|l| l.sku.to_string()).collect();
        let products = self.catalogue.get_products(skus).await?;
        // Who could ship and what they have free, in one BatchGetItem over both tables (both
        // follow from the products); later attempts re-read only the stock.
        let pairs = dropship_core::catalogue::source_pairs(products.values());
        let (fulfillers_table, fulfiller_keys) = self
            .catalogue
            .fulfiller_keys(pairs.iter().map(|p| p.fulfiller_id.clone()));
        let (stock_table, stock_keys) = self.stock.keys(pairs.clone());
        let mut found = dropship_aws::repo::batch_get_tables(
            &self.dynamodb,
            vec![
                (fulfillers_table.clone(), fulfiller_keys),
                (stock_table.clone(), stock_keys),
            ],
        )
        .await?;
        let fulfillers =
            Catalogue::fulfillers_from(found.remove(&fulfillers_table).unwrap_or_default())?;
        let mut levels = Some(Stock::levels_from(
            found.remove(&stock_table).unwrap_or_default(),
        )?);
        let pairs: Vec<SourcePair> = pairs
            .into_iter()
            .filter(|p| fulfillers.contains_key(&p.fulfiller_id))
            .collect();
        let was_waiting_for = &backordered_skus(order);
        let (products, fulfillers, pairs) = (&products, &fulfillers, &pairs);
        // Read, plan and reserve through the one retry loop: stock that moved meanwhile is
        // planned again; the answer is the round committed and its refund, if any.
        let plan = || {
            let first = levels.take();
            async move {
                let levels = match first {
                    Some(first) => first,
                    None => self.stock.get_many(pairs.clone()).await?,
                };
                let free: FreeStock = levels
                    .into_iter()
                    .filter(|((f, _), _)| fulfillers.contains_key(f))
                    .map(|(k, v)| (k, v.free))
                    .collect();
                let now = Utc::now();
                let Some(mut round) = plan_round(order, existing, products, fulfillers, &free, now)
                else {
                    return Ok(Attempt::Done(None));
                };
                // Units nobody can ship are cancelled by the system: refunded now, the customer told.
                let refund = if round.plan.unroutable.is_empty() {
                    None
                } else {
                    let policy = self.catalogue.get_refund_policy().await?;
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
                let reserve = round.reservations.clone();
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
                    ..ChangeSet::default()
                };
                Ok::<_, anyhow::Error>(Attempt::Commit(Box::new(change), Some((round, refund))))
            }
        };
        let on_conflict = |outcome: &Outcome, _: &_| match outcome {
            // An earlier delivery of this message made them; the caller lists them anyway.
            Outcome::AlreadyExists => Some(Ok(None)),
            // The order changed meanwhile (a cancellation): the retried message sees the new state.
            Outcome::Stale => Some(Err(anyhow::anyhow!(
                "order {} changed while it was being routed",
                order.id
            ))),
            _ => None,
        };
        let retry = Retry {
            message: "stock moved while reserving; planning again",
            id: &order.id,
        };
        let exhausted = || {
            anyhow::anyhow!(
                "stock kept moving while routing order {}; the message will be retried",
                order.id
            )
        };
        let store = Store::new(
            &self.orders,
            &self.delivery_orders,
            &self.dynamodb,
            &self.tables,
        );
        let Some((round, refund)) =
            commit_with_retries(&store, retry, plan, on_conflict, exhausted).await?
        else {
            return Ok(Vec::new());
        };
        // The customer hears once the order is placed (first round), and of any refund.
        let mut events = Vec::new();
        if order.routing_round == 0 {
            events.push(BusinessEvent::OrderConfirmed {
                order_id: order.id.clone(),
            });
        }
        if let Some(r) = &refund {
            dropship_aws::metrics::refunds_issued(r.amount, order.currency.as_str());
        }
        // Units no one can ship are cancelled: the customer hears what and the refund.
        if !round.plan.unroutable.is_empty() || refund.is_some() {
            events.push(BusinessEvent::OrderCancelled {
                order_id: order.id.clone(),
                refund_id: refund.map(|r| r.id),
                version: order.version + 1,
            });
        }
        self.events_queue.send_all(&events).await?;
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
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let handler = SplitRouter::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut event =
            dropship_aws::sqs_batch::with_poison(include_str!("../../../events/split-router.json"));
        // The good message needs the emulator (tests/tests/e2e/handlers.rs); here only the poison.
        event.records.remove(0);
        let resp = handler.handle(event).await;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["poison-1"]);
    }
}
