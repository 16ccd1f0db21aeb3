//! Decides who ships each line of an accepted order, reserves that stock and splits the order
//! into delivery orders (one per fulfiller), then asks for their documents.
//!
//! Idempotent: delivery-order ids are derived from (order, fulfiller) and are written in the same
//! DynamoDB transaction as the stock reservations, conditional on not existing. A redelivered
//! message finds the delivery orders, completes whatever the first attempt left undone (order
//! status, document requests) and reserves nothing twice.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{Duration, Utc};
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::{self, Change, Outcome, StockMove, Tables};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::stock::Stock;
use dropship_aws::sqs_batch;
use dropship_core::catalogue::FulfillerKind;
use dropship_core::delivery::{DeliveryLine, DeliveryOrder, DeliveryStatus};
use dropship_core::messages::{GenerateDocuments, RouteOrder};
use dropship_core::order::{Order, OrderStatus};
use dropship_core::routing::{route, Candidate, LineDemand, RoutingPlan};
use std::collections::BTreeMap;

pub struct SplitRouter {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub stock: Stock,
    pub documents_queue: Queue,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
}

/// Attempts when stock moves between reading it and reserving it.
const RESERVE_ATTEMPTS: usize = 3;

impl SplitRouter {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
            stock: Stock::new(ddb.clone(), env("STOCK_TABLE")?),
            dynamodb: ddb,
            tables: Tables {
                orders: env("ORDERS_TABLE")?,
                delivery_orders: env("DELIVERY_ORDERS_TABLE")?,
                stock: env("STOCK_TABLE")?,
            },
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                env("DOCUMENTS_QUEUE_URL")?,
            ),
        })
    }

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
        let mut existing = self.delivery_orders.list_by_order(&order_id).await?;
        if existing.is_empty() && order.status == OrderStatus::Accepted {
            existing = self.split(&order).await?;
        }
        let pending: Vec<GenerateDocuments> = existing
            .iter()
            .filter(|d| d.documents.is_empty())
            .map(|d| GenerateDocuments {
                delivery_order_id: d.id.clone(),
            })
            .collect();
        self.documents_queue.send_all(&pending).await?;
        Ok(())
    }

    /// Plans, reserves and writes; returns the delivery orders that now exist.
    async fn split(&self, order: &Order) -> anyhow::Result<Vec<DeliveryOrder>> {
        let skus: Vec<String> = order.lines.iter().map(|l| l.sku.clone()).collect();
        let products = self.catalogue.get_products(skus).await?;
        let fulfiller_ids = products
            .values()
            .flat_map(|p| p.sources.iter().map(|s| s.fulfiller_id.clone()));
        let fulfillers = self.catalogue.get_fulfillers(fulfiller_ids).await?;
        for attempt in 1..=RESERVE_ATTEMPTS {
            let pairs = products.values().flat_map(|p| {
                p.sources
                    .iter()
                    .filter(|s| fulfillers.contains_key(&s.fulfiller_id))
                    .map(|s| (s.fulfiller_id.clone(), p.sku.clone()))
            });
            let stock = self.stock.get_many(pairs.collect::<Vec<_>>()).await?;
            let demands: Vec<LineDemand> = order
                .lines
                .iter()
                .map(|l| {
                    let product = products.get(&l.sku);
                    let candidates = product
                        .map(|p| {
                            p.sources
                                .iter()
                                .filter_map(|s| {
                                    let f = fulfillers.get(&s.fulfiller_id)?;
                                    let free = stock
                                        .get(&(s.fulfiller_id.clone(), l.sku.clone()))
                                        .map(|x| x.free)
                                        .unwrap_or(0);
                                    Some(Candidate {
                                        fulfiller_id: f.id.clone(),
                                        priority: s.priority,
                                        own_warehouse: f.kind == FulfillerKind::Warehouse,
                                        available: free.clamp(0, u32::MAX as i64) as u32,
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    LineDemand {
                        line_id: l.line_id.clone(),
                        sku: l.sku.clone(),
                        // Only what is still open: units cancelled before routing are not routed.
                        quantity: l.quantities.open,
                        allow_backorder: product.is_some_and(|p| p.allow_backorder),
                        candidates,
                    }
                })
                .collect();
            let plan = route(&demands);
            let now = Utc::now();
            let deliveries = delivery_orders_for(order, &plan, &fulfillers, now);
            let reservations = reservations_for(order, &plan);
            let mut routed = order.clone();
            apply_plan(&mut routed, &plan);
            routed.record(
                now,
                "system:split-router",
                format!("routed into {} delivery order(s)", deliveries.len()),
            );
            let change = Change {
                order: Some(&routed),
                new_deliveries: &deliveries,
                reserve: &reservations,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    tracing::info!(order_id = %order.id, delivery_orders = deliveries.len(), backordered = plan.backordered.len(), unroutable = plan.unroutable.len(), "order split");
                    return Ok(deliveries);
                }
                Outcome::AlreadyExists => {
                    return self.delivery_orders.list_by_order(&order.id).await
                }
                Outcome::StockChanged => {
                    tracing::warn!(order_id = %order.id, attempt, "stock moved while reserving; planning again")
                }
                // The order changed meanwhile (a cancellation): the retried message sees the new state.
                Outcome::Stale => {
                    anyhow::bail!("order {} changed while it was being routed", order.id)
                }
            }
        }
        anyhow::bail!(
            "stock kept moving while routing order {}; the message will be retried",
            order.id
        )
    }
}

/// One delivery order per fulfiller of the plan, due after that fulfiller's SLA.
pub fn delivery_orders_for(
    order: &Order,
    plan: &RoutingPlan,
    fulfillers: &BTreeMap<String, dropship_core::catalogue::Fulfiller>,
    now: chrono::DateTime<Utc>,
) -> Vec<DeliveryOrder> {
    plan.shipments
        .iter()
        .map(|(fulfiller_id, lines)| {
            let id = DeliveryOrder::id_for(&order.id, fulfiller_id);
            let sla = fulfillers
                .get(fulfiller_id)
                .map(|f| f.sla_hours)
                .unwrap_or(48);
            DeliveryOrder {
                created_key: DeliveryOrder::created_key(now, &id),
                id,
                order_id: order.id.clone(),
                fulfiller_id: fulfiller_id.clone(),
                status: DeliveryStatus::Open,
                ship_to: order.shipping_address.clone(),
                lines: lines
                    .iter()
                    .filter_map(|(line_id, qty)| {
                        let l = order.lines.iter().find(|l| &l.line_id == line_id)?;
                        Some(DeliveryLine {
                            line_id: line_id.clone(),
                            sku: l.sku.clone(),
                            name: l.name.clone(),
                            quantity: *qty,
                            shipped: 0,
                            cancelled: 0,
                        })
                    })
                    .collect(),
                created_at: now,
                due_at: now + Duration::hours(i64::from(sla)),
                documents: Vec::new(),
                carrier: None,
                tracking_number: None,
                version: 0,
                shipments: Vec::new(),
            }
        })
        .collect()
}

/// The stock to reserve: units per (fulfiller, sku), summed over lines.
pub fn reservations_for(order: &Order, plan: &RoutingPlan) -> Vec<StockMove> {
    let mut sum: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (fulfiller_id, lines) in &plan.shipments {
        for (line_id, qty) in lines {
            if let Some(l) = order.lines.iter().find(|l| &l.line_id == line_id) {
                *sum.entry((fulfiller_id.clone(), l.sku.clone()))
                    .or_default() += qty;
            }
        }
    }
    sum.into_iter()
        .map(|((fulfiller_id, sku), quantity)| StockMove {
            fulfiller_id,
            sku,
            quantity,
        })
        .collect()
}

/// The order after routing: backordered and unroutable units counted, status derived.
pub fn apply_plan(order: &mut Order, plan: &RoutingPlan) {
    for (line_id, _, qty) in &plan.backordered {
        if let Some(l) = order.lines.iter_mut().find(|l| &l.line_id == line_id) {
            l.quantities.open -= qty;
            l.quantities.backordered += qty;
        }
    }
    for (line_id, qty) in &plan.unroutable {
        if let Some(l) = order.lines.iter_mut().find(|l| &l.line_id == line_id) {
            l.quantities.open -= qty;
            l.quantities.cancelled += qty;
        }
    }
    order.status = order.derive_status(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    /// The sample event with a second, unreadable message appended.
    fn batch_with_poison() -> SqsEvent {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/split-router.json")).unwrap();
        let mut poison = v["Records"][0].clone();
        poison["messageId"] = serde_json::json!("poison-1");
        poison["body"] = serde_json::json!("{not json");
        v["Records"].as_array_mut().unwrap().push(poison);
        serde_json::from_value(v).unwrap()
    }

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let cfg = offline();
        let handler = SplitRouter {
            catalogue: Catalogue::new(aws_sdk_dynamodb::Client::new(&cfg), "CatalogueTable".into()),
            orders: Orders::new(aws_sdk_dynamodb::Client::new(&cfg), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "DeliveryOrdersTable".into(),
            ),
            stock: Stock::new(aws_sdk_dynamodb::Client::new(&cfg), "StockTable".into()),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/q".into(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::new(&cfg),
            tables: Tables {
                orders: "OrdersTable".into(),
                delivery_orders: "DeliveryOrdersTable".into(),
                stock: "StockTable".into(),
            },
        };
        let mut event = batch_with_poison();
        // The good message needs the emulator (tests/tests/handlers.rs); here only the poison.
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
