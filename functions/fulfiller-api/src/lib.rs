//! The dropshipper's and warehouse's API: its own delivery orders with their document links,
//! and its stock. Anything of another fulfiller is a 404.

mod config;
use chrono::Utc;
pub use config::Config;
use dropship_app::fulfilment::{answers, ActOnDeliveryOrder, DeliveryOrderAction, ReceiveReturn};
use dropship_app::stock_counts::StockCounts;
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::documents::DocumentStore;
use dropship_aws::http::{self, json, json_body, path_param, query_param, HandlerResult};
use dropship_aws::http_idempotency::IdempotencyStore;
use dropship_core::delivery::DeliveryStatus;
use dropship_core::principal::require_fulfiller;
use dropship_core::returns::{self, ReturnStatus};
use dropship_core::stock::StockUpdate;
use dropship_core::views::fulfiller_delivery_order;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub struct FulfillerApi {
    pub store: DocumentStore,
    pub counts: StockCounts,
    /// Orders, delivery orders, stock and returns, and every queue a fulfiller's change sends
    /// to, as the use cases read, change and publish.
    pub repositories: Repositories,
    pub idempotency: IdempotencyStore,
    pub public_base_url: String,
}

impl dropship_aws::config::FromConfig for FulfillerApi {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            route: Some(&config.stock_counts.route_queue_url),
            returns: Some(&config.returns_queue_url),
        };
        Ok(Self {
            store: DocumentStore::new(aws_sdk_s3::Client::new(cfg), config.document_bucket.clone()),
            counts: StockCounts::from_config(
                &config.stock_counts,
                &ddb,
                &aws_sdk_sqs::Client::new(cfg),
            ),
            repositories: Repositories::new(cfg, &config.stock_counts.tables, queues)
                .with_returns(&config.returns_table),
            idempotency: IdempotencyStore::new(ddb, config.idempotency_table.clone()),
            public_base_url: answers::public_base_url(&config.public_api_base_url),
        })
    }
}

impl FulfillerApi {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let fulfiller = require_fulfiller(http::principal(&req).as_ref())?.clone();
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
                    .repositories
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
                let delivery = match self.repositories.delivery_orders.get(&id).await? {
                    Some(d) if d.fulfiller_id == fulfiller => d,
                    _ => return Err(ApiError::not_found("delivery order").into()),
                };
                let documents =
                    answers::document_links(&self.public_base_url, &delivery, Utc::now());
                json(200, &fulfiller_delivery_order(&delivery, Some(documents)))
            }
            "POST /fulfiller/delivery-orders/{id}/accept"
            | "POST /fulfiller/delivery-orders/{id}/shipments"
            | "POST /fulfiller/delivery-orders/{id}/reject" => {
                let id = path_param(&req, "id")?;
                let route = http::route_key(&req);
                let action = if route.ends_with("/shipments") {
                    DeliveryOrderAction::Ship(json_body(&req)?)
                } else if route.ends_with("/reject") {
                    DeliveryOrderAction::Reject(json_body(&req)?)
                } else {
                    DeliveryOrderAction::Accept
                };
                let command = ActOnDeliveryOrder {
                    fulfiller: fulfiller.clone(),
                    delivery_order: id.clone(),
                    action,
                };
                let store = self.repositories.store();
                let work = || answers::act(&store, &command);
                let scope = format!("{}#fulfiller:{fulfiller}", route.replace("{id}", &id));
                self.idempotency.respond(&req, &scope, work).await
            }
            "PUT /fulfiller/stock" => {
                let now = Utc::now();
                let update = StockUpdate::parse(&json_body(&req)?, now)?;
                let applied = self
                    .counts
                    .apply(&fulfiller, &update.items, update.as_of, now)
                    .await?;
                json(
                    200,
                    &json!({"applied": applied.applied, "ignoredAsOlder": applied.ignored_as_older,
                        "shortfalls": applied.shortfalls, "asOf": update.as_of}),
                )
            }
            "POST /fulfiller/stock-feed" => {
                // The upload's key names the fulfiller: the feed processor applies it to no one else.
                let id = format!("feed_{}", uuid::Uuid::now_v7().simple());
                let key = format!("stock-feeds/{fulfiller}/{id}.csv");
                let url = self.store.presign_put(&key, "text/csv").await?;
                let expires_at = Utc::now()
                    + chrono::Duration::from_std(dropship_aws::documents::PRESIGNED_TTL)
                        .unwrap_or_default();
                json(
                    201,
                    &json!({"id": id, "uploadUrl": url, "expiresAt": expires_at, "contentType": "text/csv"}),
                )
            }
            "GET /fulfiller/stock" => {
                let items: Vec<_> = self
                    .repositories
                    .stock
                    .list(&fulfiller)
                    .await?
                    .into_iter()
                    .map(|s| json!({"sku": s.sku, "available": s.available, "reserved": s.reserved, "updatedAt": s.updated_at}))
                    .collect();
                json(200, &json!({ "items": items }))
            }
            "GET /fulfiller/returns" => {
                let status = match query_param(&req, "status") {
                    None => None,
                    Some(s) => Some(ReturnStatus::parse(&s).ok_or_else(|| {
                        ApiError::invalid(
                            "status",
                            "status must be authorized, received, refunded or rejected",
                        )
                    })?),
                };
                let limit = http::limit(&req)?;
                let next = query_param(&req, "nextToken");
                let page = self
                    .repositories
                    .returns()?
                    .of_fulfiller(&fulfiller, status, limit, next.as_deref())
                    .await?
                    .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not valid"))?;
                let items: Vec<_> = page.items.iter().map(returns::fulfiller_view).collect();
                let mut body = json!({ "items": items });
                if let Some(t) = page.next_token {
                    body["nextToken"] = json!(t);
                }
                json(200, &body)
            }
            "POST /fulfiller/returns/{returnId}/receive" => {
                let id = path_param(&req, "returnId")?;
                let command = ReceiveReturn {
                    fulfiller: fulfiller.clone(),
                    return_id: id.clone(),
                    receipt: json_body(&req)?,
                };
                let (store, queues) = (self.repositories.store(), self.repositories.queues());
                let work = || answers::receive(&store, &queues, &command);
                let scope = format!("POST /fulfiller/returns/{id}/receive#fulfiller:{fulfiller}");
                self.idempotency.respond(&req, &scope, work).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    async fn call(edit: impl FnOnce(&mut serde_json::Value)) -> (u16, serde_json::Value) {
        let api = FulfillerApi::from_config(&offline_config().unwrap(), &offline()).unwrap();
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
