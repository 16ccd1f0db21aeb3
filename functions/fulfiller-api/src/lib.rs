//! The dropshipper's and warehouse's API: its own delivery orders with their document links,
//! and its stock. Anything of another fulfiller is a 404.

use chrono::{Duration, Utc};
use dropship_aws::http::{self, json, json_body, path_param, query_param, HandlerResult};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::stock::Stock;
use dropship_aws::repo::tokens::{DocumentLink, Tokens};
use dropship_core::delivery::DeliveryStatus;
use dropship_core::principal::require_fulfiller;
use dropship_core::stock::StockUpdate;
use dropship_core::views::fulfiller_delivery_order;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// How long a listed document link works (API.md: 7 days).
pub const LINK_TTL_DAYS: i64 = 7;

pub struct FulfillerApi {
    pub delivery_orders: DeliveryOrders,
    pub stock: Stock,
    pub tokens: Tokens,
    pub public_base_url: String,
}

impl FulfillerApi {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
            stock: Stock::new(ddb.clone(), env("STOCK_TABLE")?),
            tokens: Tokens::new(ddb, env("TOKENS_TABLE")?),
            public_base_url: env("PUBLIC_API_BASE_URL")?
                .trim_end_matches('/')
                .to_string(),
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let fulfiller = require_fulfiller(http::principal(&req).as_ref())?.to_string();
        match http::route_key(&req).as_str() {
            "GET /fulfiller/delivery-orders" => {
                let status = match query_param(&req, "status") {
                    None => None,
                    Some(s) => Some(DeliveryStatus::parse(&s).ok_or_else(|| {
                        ApiError::invalid("status", "status must be open, accepted, partially_shipped, shipped, rejected or cancelled")
                    })?),
                };
                let limit = http::limit(&req)?;
                let next = query_param(&req, "nextToken");
                let page = self
                    .delivery_orders
                    .list_by_fulfiller(&fulfiller, status, limit, next.as_deref())
                    .await?
                    .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not valid"))?;
                let items: Vec<_> = page
                    .items
                    .iter()
                    .map(|d| fulfiller_delivery_order(d, None))
                    .collect();
                let mut body = json!({ "items": items });
                if let Some(t) = page.next_token {
                    body["nextToken"] = json!(t);
                }
                json(200, &body)
            }
            "GET /fulfiller/delivery-orders/{id}" => {
                let id = path_param(&req, "id")?;
                let delivery = match self.delivery_orders.get(&id).await? {
                    Some(d) if d.fulfiller_id == fulfiller => d,
                    _ => return Err(ApiError::not_found("delivery order").into()),
                };
                let expires_at = Utc::now() + Duration::days(LINK_TTL_DAYS);
                let links: Vec<DocumentLink> = delivery
                    .documents
                    .iter()
                    .map(|d| DocumentLink {
                        key: d.key.clone(),
                        fulfiller_id: fulfiller.clone(),
                        kind: d.kind.as_str().to_string(),
                        expires_at,
                        expires_at_epoch: expires_at.timestamp(),
                    })
                    .collect();
                let ids = self.tokens.mint_links(&links).await?;
                let documents = delivery
                    .documents
                    .iter()
                    .zip(ids)
                    .map(|(d, id)| json!({"kind": d.kind, "url": format!("{}/documents/{id}", self.public_base_url), "expiresAt": expires_at}))
                    .collect();
                json(200, &fulfiller_delivery_order(&delivery, Some(documents)))
            }
            "PUT /fulfiller/stock" => {
                let now = Utc::now();
                let update = StockUpdate::parse(&json_body(&req)?, now)?;
                let mut ignored = Vec::new();
                for item in &update.items {
                    if !self
                        .stock
                        .apply_count(&fulfiller, &item.sku, item.available, update.as_of, now)
                        .await?
                    {
                        ignored.push(item.sku.clone());
                    }
                }
                json(
                    200,
                    &json!({"applied": update.items.len() - ignored.len(), "ignoredAsOlder": ignored, "asOf": update.as_of}),
                )
            }
            "GET /fulfiller/stock" => {
                let items: Vec<_> = self
                    .stock
                    .list(&fulfiller)
                    .await?
                    .into_iter()
                    .map(|s| json!({"sku": s.sku, "available": s.available, "reserved": s.reserved, "updatedAt": s.updated_at}))
                    .collect();
                json(200, &json!({ "items": items }))
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    async fn call(edit: impl FnOnce(&mut serde_json::Value)) -> (u16, serde_json::Value) {
        let cfg = offline();
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        let api = FulfillerApi {
            delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
            stock: Stock::new(ddb.clone(), "StockTable".into()),
            tokens: Tokens::new(ddb, "TokensTable".into()),
            public_base_url: "http://127.0.0.1:3000".into(),
        };
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/fulfiller-api.json")).unwrap();
        edit(&mut v);
        let resp = api
            .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            serde_json::from_slice(resp.body().as_ref()).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn only_fulfillers_and_only_known_filters() {
        let (status, _) =
            call(|v| v["requestContext"]["authorizer"]["lambda"]["principal"] = json!("admin"))
                .await;
        assert_eq!(status, 403);
        let (status, body) = call(|v| {
            v["queryStringParameters"] = json!({"status": "lost"});
            v["rawQueryString"] = json!("status=lost");
        })
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("status"))
        );
        let (status, body) = call(|v| {
            v["queryStringParameters"] = json!({"limit": "500"});
            v["rawQueryString"] = json!("limit=500");
        })
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("limit"))
        );
    }
}
