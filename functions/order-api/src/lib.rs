//! Shows a channel its own orders: lines with exact quantities, deliveries (never who ships
//! them), totals, payments, refunds and returns. Another channel's order is a 404.

use dropship_aws::http::{self, json, path_param, HandlerResult};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_core::principal::require_channel;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};

pub struct OrderApi {
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
}

impl OrderApi {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            delivery_orders: DeliveryOrders::new(ddb, env("DELIVERY_ORDERS_TABLE")?),
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let channel = require_channel(http::principal(&req).as_ref())?.to_string();
        match http::route_key(&req).as_str() {
            "GET /orders/{orderId}" => {
                let id = path_param(&req, "orderId")?;
                let order = match self.orders.get(&id).await? {
                    Some(o) if o.channel_id == channel => o,
                    // Someone else's order looks exactly like a missing one.
                    _ => return Err(ApiError::not_found("order").into()),
                };
                let deliveries = self.delivery_orders.list_by_order(&id).await?;
                json(
                    200,
                    &dropship_core::views::channel_order(&order, &deliveries),
                )
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    #[tokio::test]
    async fn fulfillers_and_strangers_are_refused() {
        let ddb = aws_sdk_dynamodb::Client::new(&offline());
        let api = OrderApi {
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(ddb, "DeliveryOrdersTable".into()),
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
