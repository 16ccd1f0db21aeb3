//! The channel's view and control of its own orders: read one (lines with exact quantities,
//! deliveries without who ships them, totals, payments, refunds), poll those changed since a
//! time (`feed`), and cancel one, whole or some lines, before shipment. Another channel's order
//! is a 404.

mod config;
mod feed;
pub use config::Config;
use dropship_app::orders::{self, Acting, AuthorizeReturn, CancelOrder};
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::http::{self, json, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_core::order::Order;
use dropship_core::principal::require_channel;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};

pub struct OrderApi {
    pub catalogue: Catalogue,
    /// Orders, delivery orders, stock and returns, and the events and documents queues, as the
    /// use cases read, change and publish.
    pub repositories: Repositories,
    pub idempotency: IdempotencyStore,
}

impl dropship_aws::config::FromConfig for OrderApi {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            ..QueueUrls::default()
        };
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            repositories: Repositories::new(cfg, &config.tables, queues)
                .with_returns(&config.returns_table),
            idempotency: IdempotencyStore::new(ddb, config.idempotency_table.clone()),
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
                let order = orders::own_order(&self.repositories.store(), &channel, &id).await?;
                json(200, &self.channel_view(&order).await?)
            }
            "GET /orders" => self.changed_orders(&req, &channel).await,
            "POST /orders/{orderId}/returns" => {
                let id = path_param(&req, "orderId")?;
                let command = AuthorizeReturn {
                    by: Acting::Channel(channel.clone()),
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
                    by: Acting::Channel(channel.clone()),
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

    /// The order as the channel sees it: its deliveries (never who ships them) and returns.
    async fn channel_view(&self, order: &Order) -> anyhow::Result<serde_json::Value> {
        self.repositories.channel_order_view(order).await
    }

    /// Authorizes a return (`dropship_app::orders`).
    async fn create_return(
        &self,
        command: &AuthorizeReturn,
    ) -> Result<StoredResponse, HandlerError> {
        let store = self.repositories.store();
        let return_id = orders::authorize_return(&store, &self.catalogue, command).await?;
        Ok(StoredResponse {
            status: 201,
            body: serde_json::json!({
                "id": return_id, "returnId": return_id, "status": "authorized"
            }),
        })
    }

    /// Cancels the order or some lines (`dropship_app::orders`).
    async fn cancel(&self, command: &CancelOrder) -> Result<StoredResponse, HandlerError> {
        let store = self.repositories.store();
        let (order, deliveries) = orders::cancel_order(&store, &self.catalogue, command).await?;
        Ok(StoredResponse {
            status: 200,
            body: dropship_core::views::channel_order(&order, &deliveries),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    /// The sample event turned into a `GET /orders` with this query (no AWS call is needed
    /// for what these tests check).
    async fn poll(query: serde_json::Value) -> (u16, serde_json::Value) {
        let api = OrderApi::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/order-api.json")).unwrap();
        v["routeKey"] = serde_json::json!("GET /orders");
        v["requestContext"]["routeKey"] = serde_json::json!("GET /orders");
        v["rawPath"] = serde_json::json!("/orders");
        v["requestContext"]["http"]["path"] = serde_json::json!("/orders");
        v["pathParameters"] = serde_json::json!({});
        let raw: Vec<String> = query
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        v["rawQueryString"] = serde_json::json!(raw.join("&"));
        v["queryStringParameters"] = query;
        let resp = api
            .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: &[u8] = resp.body().as_ref();
        (status, serde_json::from_slice(body).unwrap())
    }

    #[tokio::test]
    async fn the_feed_checks_its_query_before_reading() {
        let z = chrono::SecondsFormat::Micros;
        let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(z, true);
        for (query, field) in [
            (serde_json::json!({}), "updatedSince"),
            (
                serde_json::json!({"updatedSince": "last-week"}),
                "updatedSince",
            ),
            (
                serde_json::json!({"updatedSince": "2026-03-01T10:00:00Z", "limit": "201"}),
                "limit",
            ),
            (
                serde_json::json!({"updatedSince": future, "nextToken": "abc"}),
                "nextToken",
            ),
        ] {
            let (status, body) = poll(query.clone()).await;
            assert_eq!(status, 422, "{query}: {body}");
            assert_eq!(body["error"]["field"], field, "{query}: {body}");
        }
    }

    #[tokio::test]
    async fn a_poll_from_the_last_five_seconds_is_empty_until_they_pass() {
        let just_now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (status, body) = poll(serde_json::json!({ "updatedSince": just_now })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, serde_json::json!({"items": []}));
    }

    #[tokio::test]
    async fn fulfillers_and_strangers_are_refused() {
        let api = OrderApi::from_config(&offline_config().unwrap(), &offline()).unwrap();
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
