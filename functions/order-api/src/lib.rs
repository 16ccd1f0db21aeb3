//! The channel's view and control of its own orders: read one (lines with exact quantities,
//! deliveries without who ships them, totals, payments, refunds) and cancel it, whole or some
//! lines, before shipment. Another channel's order is a 404.

use chrono::Utc;
use dropship_aws::http::{self, json, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::{self, Change, Outcome, StockMove, Tables};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_core::cancel;
use dropship_core::delivery::DeliveryStatus;
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::order::Order;
use dropship_core::principal::require_channel;
use dropship_core::returns;
use dropship_core::{refund, ApiError};
use lambda_http::{Body, Request, Response};

/// Attempts when someone else changes the order between our read and our write.
const ATTEMPTS: usize = 5;

pub struct OrderApi {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub idempotency: IdempotencyStore,
    pub events_queue: Queue,
    pub documents_queue: Queue,
    pub returns: Returns,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
}

pub fn new_refund_id() -> String {
    dropship_core::refund::new_refund_id(uuid::Uuid::now_v7().simple())
}

impl OrderApi {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
            idempotency: IdempotencyStore::new(ddb.clone(), env("IDEMPOTENCY_TABLE")?),
            events_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("EVENTS_QUEUE_URL")?),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                env("DOCUMENTS_QUEUE_URL")?,
            ),
            returns: Returns::new(ddb.clone(), env("RETURNS_TABLE")?),
            tables: Tables {
                orders: env("ORDERS_TABLE")?,
                delivery_orders: env("DELIVERY_ORDERS_TABLE")?,
                stock: env("STOCK_TABLE")?,
                returns: Some(env("RETURNS_TABLE")?),
            },
            dynamodb: ddb,
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let channel = require_channel(http::principal(&req).as_ref())?.to_string();
        match http::route_key(&req).as_str() {
            "GET /orders/{orderId}" => {
                let order = self
                    .own_order(&channel, &path_param(&req, "orderId")?)
                    .await?;
                let deliveries = self
                    .delivery_orders
                    .get_many(&order.delivery_order_ids)
                    .await?;
                let mut view = dropship_core::views::channel_order(&order, &deliveries);
                view["returns"] = self.return_views(&order).await?;
                json(200, &view)
            }
            "POST /orders/{orderId}/returns" => {
                let id = path_param(&req, "orderId")?;
                let body = http::json_body(&req)?;
                let work = || self.create_return(&channel, &id, &body);
                let scope = format!("POST /orders/{id}/returns#channel:{channel}");
                self.idempotency.respond(&req, &scope, work).await
            }
            "POST /orders/{orderId}/cancel" => {
                let id = path_param(&req, "orderId")?;
                // The body is optional: none (or `{}`) cancels everything not shipped.
                let raw: &[u8] = req.body().as_ref();
                let body = if raw.iter().all(u8::is_ascii_whitespace) {
                    None
                } else {
                    Some(http::json_body(&req)?)
                };
                let work = || self.cancel(&channel, &id, body.as_ref());
                let scope = format!("POST /orders/{id}/cancel#channel:{channel}");
                self.idempotency.respond(&req, &scope, work).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }

    /// The channel's own order; someone else's looks exactly like a missing one.
    async fn own_order(&self, channel: &str, id: &str) -> Result<Order, HandlerError> {
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        match self.orders.get(id).await? {
            Some(o) if o.channel_id == channel => Ok(o),
            _ => Err(ApiError::not_found("order").into()),
        }
    }

    /// The order's returns as the channel sees them (no fulfiller anywhere).
    async fn return_views(&self, order: &Order) -> anyhow::Result<serde_json::Value> {
        let mut out = Vec::new();
        for id in &order.return_ids {
            out.push(returns::channel_view(&self.returns.parts(id).await?));
        }
        Ok(serde_json::Value::Array(out))
    }

    /// Authorizes a return of shipped units; the order's version guards against two returns
    /// claiming the same units at once.
    async fn create_return(
        &self,
        channel: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<StoredResponse, HandlerError> {
        // Someone else's order is missing, whatever the body says; the first attempt uses this read.
        let mut first = Some(self.own_order(channel, id).await?);
        let request = returns::parse_request(body)?;
        let policy = self.catalogue.get_refund_policy().await?;
        let return_id = format!("RT-{}", uuid::Uuid::now_v7().simple()).to_uppercase();
        let who = format!("channel:{channel}");
        for attempt in 1..=ATTEMPTS {
            let mut order = match first.take() {
                Some(o) => o,
                None => self.own_order(channel, id).await?,
            };
            let deliveries = self
                .delivery_orders
                .get_many(&order.delivery_order_ids)
                .await?;
            let mut earlier = Vec::new();
            for r in &order.return_ids {
                earlier.extend(self.returns.parts(r).await?);
            }
            let now = Utc::now();
            let parts = returns::authorize(
                &order,
                &deliveries,
                &earlier,
                &request,
                &return_id,
                now,
                policy.return_window_days,
            )?;
            order.return_ids.push(return_id.clone());
            let units: u32 = request.iter().map(|(_, q, _)| q).sum();
            order.record(
                now,
                who.clone(),
                format!("return {return_id} authorized ({units} unit(s))"),
            );
            let change = Change {
                order: Some(&order),
                new_return_parts: &parts,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    // The labels are made next; the customer's mail follows once they exist.
                    let job = GenerateDocuments::Return {
                        return_id: return_id.clone(),
                    };
                    if let Err(e) = self.documents_queue.send(&job).await {
                        tracing::error!(order_id = %order.id, return_id, error = %format!("{e:#}"), "return labels not requested");
                    }
                    tracing::info!(order_id = %order.id, return_id, parts = parts.len(), "return authorized");
                    return Ok(StoredResponse {
                        status: 201,
                        body: serde_json::json!({
                            "id": return_id, "returnId": return_id, "status": "authorized"
                        }),
                    });
                }
                other => {
                    tracing::warn!(order_id = %order.id, attempt, outcome = ?other, "order changed while authorizing a return; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the order kept changing; please retry",
        )
        .into())
    }

    async fn cancel(
        &self,
        channel: &str,
        id: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<StoredResponse, HandlerError> {
        let mut first = Some(self.own_order(channel, id).await?);
        let request = cancel::parse_request(body)?;
        let who = format!("channel:{channel}");
        let policy = self.catalogue.get_refund_policy().await?;
        for attempt in 1..=ATTEMPTS {
            let order = match first.take() {
                Some(o) => o,
                None => self.own_order(channel, id).await?,
            };
            let deliveries = self
                .delivery_orders
                .get_many(&order.delivery_order_ids)
                .await?;
            let now = Utc::now();
            let mut plan = cancel::plan(&order, &deliveries, request.clone(), &who, now)?;
            let refund = refund::settle(
                &mut plan.order,
                policy.allocation,
                new_refund_id(),
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
            let releases: Vec<StockMove> = plan
                .releases
                .iter()
                .map(|r| StockMove {
                    fulfiller_id: r.fulfiller_id.clone(),
                    sku: r.sku.clone(),
                    quantity: r.quantity,
                })
                .collect();
            let change = Change {
                order: Some(&plan.order),
                updated_deliveries: &plan.deliveries,
                release: &releases,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    let mut events: Vec<BusinessEvent> = plan
                        .deliveries
                        .iter()
                        .map(|d| BusinessEvent::DeliveryOrderChanged {
                            delivery_order_id: d.id.clone(),
                            fulfiller_id: d.fulfiller_id.clone(),
                            order_id: order.id.clone(),
                            cancelled: d.status == DeliveryStatus::Cancelled,
                            version: d.version + 1,
                        })
                        .collect();
                    events.push(BusinessEvent::OrderCancelled {
                        order_id: order.id.clone(),
                        refund_id: refund.as_ref().map(|r| r.id.clone()),
                        version: order.version + 1,
                    });
                    // The cancellation stands; a lost notice is logged loudly for operations.
                    if let Err(e) = self.events_queue.send_all(&events).await {
                        tracing::error!(order_id = %order.id, error = %format!("{e:#}"), "cancellation notices not sent");
                    }
                    if let Some(r) = &refund {
                        dropship_aws::metrics::refunds_issued(r.amount, &plan.order.currency);
                    }
                    tracing::info!(order_id = %order.id, cancelled = ?plan.cancelled, refund = ?refund.as_ref().map(|r| r.amount), "order cancelled");
                    let deliveries: Vec<_> = deliveries
                        .into_iter()
                        .map(|d| {
                            plan.deliveries
                                .iter()
                                .find(|c| c.id == d.id)
                                .cloned()
                                .unwrap_or(d)
                        })
                        .collect();
                    return Ok(StoredResponse {
                        status: 200,
                        body: dropship_core::views::channel_order(&plan.order, &deliveries),
                    });
                }
                other => {
                    tracing::warn!(order_id = %order.id, attempt, outcome = ?other, "order changed while cancelling; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the order kept changing; please retry",
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    #[tokio::test]
    async fn fulfillers_and_strangers_are_refused() {
        let cfg = offline();
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        let api = OrderApi {
            catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
            idempotency: IdempotencyStore::new(ddb.clone(), "IdempotencyTable".into()),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/q".into(),
            ),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/d".into(),
            ),
            returns: Returns::new(ddb.clone(), "ReturnsTable".into()),
            tables: Tables {
                orders: "o".into(),
                delivery_orders: "d".into(),
                stock: "s".into(),
                returns: None,
            },
            dynamodb: ddb,
        };
        for (principal, status) in [
            (serde_json::json!({}), 401),
            (serde_json::json!({"principal": "fulfiller:acme"}), 403),
        ] {
            let mut v: serde_json::Value =
                serde_json::from_str(include_str!("../../../events/order-api.json")).unwrap();
            v["requestContext"]["authorizer"]["lambda"] = principal;
            let resp = api
                .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), status);
        }
    }
}
