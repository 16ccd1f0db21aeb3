//! The channel's view and control of its own orders: read one (lines with exact quantities,
//! deliveries without who ships them, totals, payments, refunds) and cancel it, whole or some
//! lines, before shipment. Another channel's order is a 404.

mod config;
pub use config::Config;
use dropship_app::aws::{Queues, Store};
use dropship_app::orders::{self, AuthorizeReturn, CancelOrder};
use dropship_aws::http::{self, json, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_core::order::Order;
use dropship_core::principal::require_channel;
use dropship_core::returns;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};

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

impl dropship_aws::config::FromConfig for OrderApi {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            delivery_orders: DeliveryOrders::new(ddb.clone(), config.delivery_orders_table.clone()),
            idempotency: IdempotencyStore::new(ddb.clone(), config.idempotency_table.clone()),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.events_queue_url.clone(),
            ),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.documents_queue_url.clone(),
            ),
            returns: Returns::new(ddb.clone(), config.returns_table.clone()),
            tables: Tables {
                orders: config.orders_table.clone(),
                delivery_orders: config.delivery_orders_table.clone(),
                stock: config.stock_table.clone(),
                returns: Some(config.returns_table.clone()),
            },
            dynamodb: ddb,
        })
    }
}

impl OrderApi {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let channel = require_channel(http::principal(&req).as_ref())?.to_string();
        match http::route_key(&req).as_str() {
            "GET /orders/{orderId}" => {
                let id = path_param(&req, "orderId")?;
                let order = orders::own_order(&self.store(), &channel, &id).await?;
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
                let command = AuthorizeReturn {
                    channel: channel.clone(),
                    order: id.clone(),
                    request: http::json_body(&req)?,
                };
                let work = || self.create_return(&command);
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
                let command = CancelOrder {
                    channel: channel.clone(),
                    order: id.clone(),
                    request: body,
                };
                let work = || self.cancel(&command);
                let scope = format!("POST /orders/{id}/cancel#channel:{channel}");
                self.idempotency.respond(&req, &scope, work).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }

    /// Orders, delivery orders and returns as the use cases read and change them.
    fn store(&self) -> Store<'_> {
        Store::new(
            &self.orders,
            &self.delivery_orders,
            &self.dynamodb,
            &self.tables,
        )
        .with_returns(&self.returns)
    }

    /// Where the use cases' follow-ups go.
    fn queues(&self) -> Queues<'_> {
        Queues::events_and_documents(&self.events_queue, &self.documents_queue)
    }

    /// The order's returns as the channel sees them (no fulfiller anywhere).
    async fn return_views(&self, order: &Order) -> anyhow::Result<serde_json::Value> {
        let mut out = Vec::new();
        for id in &order.return_ids {
            out.push(returns::channel_view(&self.returns.parts(id).await?));
        }
        Ok(serde_json::Value::Array(out))
    }

    /// Authorizes a return (`dropship_app::orders`).
    async fn create_return(
        &self,
        command: &AuthorizeReturn,
    ) -> Result<StoredResponse, HandlerError> {
        let store = self.store();
        let return_id =
            orders::authorize_return(&store, &self.catalogue, &self.queues(), command).await?;
        Ok(StoredResponse {
            status: 201,
            body: serde_json::json!({
                "id": return_id, "returnId": return_id, "status": "authorized"
            }),
        })
    }

    /// Cancels the order or some lines (`dropship_app::orders`).
    async fn cancel(&self, command: &CancelOrder) -> Result<StoredResponse, HandlerError> {
        let store = self.store();
        let (order, deliveries) =
            orders::cancel_order(&store, &self.catalogue, &self.queues(), command).await?;
        Ok(StoredResponse {
            status: 200,
            body: dropship_core::views::channel_order(&order, &deliveries),
        })
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
