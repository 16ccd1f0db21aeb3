//! The dropshipper's and warehouse's API: its own delivery orders with their document links,
//! and its stock. Anything of another fulfiller is a 404.

use chrono::Utc;
use dropship_aws::documents::DocumentStore;
use dropship_aws::http::HandlerError;
use dropship_aws::http::{self, json, json_body, path_param, query_param, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::queue::Queue;
use dropship_aws::repo::alerts::Alerts;
use dropship_aws::repo::changes::{self, Change, Outcome, StockMove, Tables};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::repo::stock::Stock;
use dropship_aws::stock_counts::StockCounts;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::delivery::DeliveryStatus;
use dropship_core::fulfilment;
use dropship_core::links;
use dropship_core::messages::{BusinessEvent, GenerateDocuments, RouteOrder, SettleReturn};
use dropship_core::principal::require_fulfiller;
use dropship_core::returns::{self, ReturnStatus};
use dropship_core::stock::StockUpdate;
use dropship_core::views::fulfiller_delivery_order;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// What a fulfiller does to a delivery order.
pub enum Action {
    Accept,
    Ship(serde_json::Value),
    Reject(serde_json::Value),
}

/// Attempts when someone else changes the order or delivery order between read and write.
const ATTEMPTS: usize = 5;

pub struct FulfillerApi {
    pub store: DocumentStore,
    pub counts: StockCounts,
    pub orders: Orders,
    pub route_queue: Queue,
    pub idempotency: IdempotencyStore,
    pub events_queue: Queue,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub delivery_orders: DeliveryOrders,
    pub stock: Stock,
    pub public_base_url: String,
    pub returns: Returns,
    pub returns_queue: Queue,
    pub documents_queue: Queue,
}

impl FulfillerApi {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), env("DOCUMENT_BUCKET")?),
            counts: StockCounts {
                stock: Stock::new(ddb.clone(), env("STOCK_TABLE")?),
                orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
                delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
                alerts: Alerts::new(ddb.clone(), env("ALERTS_TABLE")?),
                route_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("ROUTE_QUEUE_URL")?),
            },
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            route_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("ROUTE_QUEUE_URL")?),
            idempotency: IdempotencyStore::new(ddb.clone(), env("IDEMPOTENCY_TABLE")?),
            events_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("EVENTS_QUEUE_URL")?),
            dynamodb: ddb.clone(),
            tables: Tables {
                orders: env("ORDERS_TABLE")?,
                delivery_orders: env("DELIVERY_ORDERS_TABLE")?,
                stock: env("STOCK_TABLE")?,
                returns: Some(env("RETURNS_TABLE")?),
            },
            returns: Returns::new(ddb.clone(), env("RETURNS_TABLE")?),
            returns_queue: Queue::new(aws_sdk_sqs::Client::new(&cfg), env("RETURNS_QUEUE_URL")?),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                env("DOCUMENTS_QUEUE_URL")?,
            ),
            delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
            stock: Stock::new(ddb.clone(), env("STOCK_TABLE")?),
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
                let documents = self.document_links(&delivery);
                json(200, &fulfiller_delivery_order(&delivery, Some(documents)))
            }
            "POST /fulfiller/delivery-orders/{id}/accept"
            | "POST /fulfiller/delivery-orders/{id}/shipments"
            | "POST /fulfiller/delivery-orders/{id}/reject" => {
                let id = path_param(&req, "id")?;
                let route = http::route_key(&req);
                let action = if route.ends_with("/shipments") {
                    Action::Ship(json_body(&req)?)
                } else if route.ends_with("/reject") {
                    Action::Reject(json_body(&req)?)
                } else {
                    Action::Accept
                };
                let work = || self.act(&fulfiller, &id, &action);
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
                    .returns
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
                let body = json_body(&req)?;
                let work = || self.receive(&fulfiller, &id, &body);
                let scope = format!("POST /fulfiller/returns/{id}/receive#fulfiller:{fulfiller}");
                self.idempotency.respond(&req, &scope, work).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }

    /// Fresh `/documents/{linkId}` links (valid 7 days) to a delivery order's documents, as
    /// `{kind, url, expiresAt}`; the portal shows the same links. Signed with the delivery
    /// order's own `linkKey` (`dropship_core::links`): minting them writes nothing. A delivery
    /// order without a key (documents recorded before links were signed) lists no links.
    pub fn document_links(&self, delivery: &DeliveryOrder) -> Vec<serde_json::Value> {
        let expires_at = links::expiry(Utc::now());
        links::document_urls(
            &self.public_base_url,
            delivery,
            &delivery.documents,
            expires_at,
        )
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, url)| json!({"kind": kind, "url": url, "expiresAt": expires_at}))
        .collect()
    }

    /// Records what arrived of the fulfiller's part of a return: resellable units go back on
    /// its shelf in the same transaction; the refund is settled by the return processor.
    pub async fn receive(
        &self,
        fulfiller: &str,
        return_id: &str,
        body: &serde_json::Value,
    ) -> Result<StoredResponse, HandlerError> {
        if !dropship_core::ids::is_valid_id(return_id) {
            return Err(ApiError::not_found("return").into());
        }
        let settle = SettleReturn {
            return_id: return_id.to_string(),
            fulfiller_id: fulfiller.to_string(),
        };
        for attempt in 1..=ATTEMPTS {
            let Some(part) = self.returns.part(return_id, fulfiller).await? else {
                return Err(ApiError::not_found("return").into());
            };
            if part.status == ReturnStatus::Received {
                // Received but not yet settled: nudge the processor again (it settles once).
                self.returns_queue.send(&settle).await?;
            }
            let next = returns::receive(&part, body, Utc::now())?;
            let mut back: std::collections::BTreeMap<String, u32> = Default::default();
            for l in &next.lines {
                let n = l.arrived.map(|a| a.resellable).unwrap_or(0);
                if n > 0 {
                    *back.entry(l.sku.clone()).or_default() += n;
                }
            }
            let back: Vec<(String, u32)> = back.into_iter().collect();
            let restock = StockMove::at(fulfiller, &back);
            let change = Change {
                updated_return_parts: std::slice::from_ref(&next),
                restock: &restock,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    self.returns_queue.send(&settle).await?;
                    tracing::info!(order_id = %next.order_id, return_id, restocked = ?back, "return received");
                    return Ok(StoredResponse {
                        status: 200,
                        body: returns::fulfiller_view(&next),
                    });
                }
                other => {
                    tracing::warn!(return_id, attempt, outcome = ?other, "return changed while receiving; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the return kept changing; please retry",
        )
        .into())
    }

    /// The fulfiller's own delivery order; anyone else's looks like a missing one.
    pub async fn own(&self, fulfiller: &str, id: &str) -> Result<DeliveryOrder, HandlerError> {
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("delivery order").into());
        }
        match self.delivery_orders.get(id).await? {
            Some(d) if d.fulfiller_id == fulfiller => Ok(d),
            _ => Err(ApiError::not_found("delivery order").into()),
        }
    }

    /// The order a delivery order belongs to (it always exists: they are written together).
    async fn order_of(&self, d: &DeliveryOrder) -> anyhow::Result<dropship_core::order::Order> {
        self.orders
            .get(&d.order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {} of {} is missing", d.order_id, d.id))
    }

    /// Accept, ship or reject, retried when the order or delivery order moved.
    pub async fn act(
        &self,
        fulfiller: &str,
        id: &str,
        action: &Action,
    ) -> Result<StoredResponse, HandlerError> {
        let who = format!("fulfiller:{fulfiller}");
        for attempt in 1..=ATTEMPTS {
            let d = self.own(fulfiller, id).await?;
            let now = Utc::now();
            let (outcome, updated, event) = match action {
                Action::Accept => match fulfilment::accept(&d)? {
                    None => {
                        return Ok(StoredResponse {
                            status: 200,
                            body: fulfiller_delivery_order(&d, None),
                        })
                    }
                    Some(next) => {
                        // Every status change is in the order's history.
                        let mut order = self.order_of(&d).await?;
                        order.record(now, who.clone(), format!("accepted {}", d.id));
                        let change = Change {
                            order: Some(&order),
                            updated_deliveries: std::slice::from_ref(&next),
                            ..Change::default()
                        };
                        (
                            changes::commit(&self.dynamodb, &self.tables, change).await?,
                            next,
                            None,
                        )
                    }
                },
                Action::Reject(body) => {
                    let order = self.order_of(&d).await?;
                    let (next, order, released) = fulfilment::reject(&d, &order, body, &who, now)?;
                    let release = StockMove::at(fulfiller, &released);
                    let change = Change {
                        order: Some(&order),
                        updated_deliveries: std::slice::from_ref(&next),
                        release: &release,
                        ..Change::default()
                    };
                    let outcome = changes::commit(&self.dynamodb, &self.tables, change).await?;
                    if outcome == Outcome::Committed {
                        // The rejected units are pending again: the router finds them another fulfiller.
                        if let Err(err) = self
                            .route_queue
                            .send(&RouteOrder {
                                order_id: order.id.clone(),
                            })
                            .await
                        {
                            tracing::error!(delivery_order_id = %id, error = %format!("{err:#}"), "re-routing not requested; the outbox relay cannot see it");
                            return Err(err.into());
                        }
                    }
                    (outcome, next, None)
                }
                Action::Ship(body) => {
                    let shipment = fulfilment::parse_shipment(
                        body,
                        &d,
                        format!("shp_{}", uuid::Uuid::now_v7().simple()),
                        now,
                    )?;
                    let order = self.order_of(&d).await?;
                    let (next, order, consumed) =
                        fulfilment::ship(&d, &order, &shipment, &who, now)?;
                    let consume = StockMove::at(fulfiller, &consumed);
                    let change = Change {
                        order: Some(&order),
                        updated_deliveries: std::slice::from_ref(&next),
                        consume: &consume,
                        ..Change::default()
                    };
                    let event = BusinessEvent::DeliveryShipped {
                        order_id: order.id.clone(),
                        delivery_order_id: next.id.clone(),
                        shipment_id: shipment.id.clone(),
                    };
                    (
                        changes::commit(&self.dynamodb, &self.tables, change).await?,
                        next,
                        Some(event),
                    )
                }
            };
            match outcome {
                Outcome::Committed => {
                    if let Some(e) = event {
                        if let BusinessEvent::DeliveryShipped { shipment_id, .. } = &e {
                            // A shipment in another tax-rate period needs a corrected invoice.
                            let job = GenerateDocuments::Shipment {
                                delivery_order_id: id.to_string(),
                                shipment_id: shipment_id.clone(),
                            };
                            if let Err(err) = self.documents_queue.send(&job).await {
                                tracing::error!(delivery_order_id = %id, error = %format!("{err:#}"), "invoice check not requested");
                            }
                        }
                        if let Err(err) = self.events_queue.send(&e).await {
                            tracing::error!(delivery_order_id = %id, error = %format!("{err:#}"), "shipment notice not sent");
                        }
                    }
                    let mut updated = updated;
                    updated.version += 1;
                    return Ok(StoredResponse {
                        status: 200,
                        body: fulfiller_delivery_order(&updated, None),
                    });
                }
                other => {
                    tracing::warn!(delivery_order_id = %id, attempt, outcome = ?other, "changed meanwhile; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the delivery order kept changing; please retry",
        )
        .into())
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
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), "bucket".into()),
            counts: StockCounts {
                stock: Stock::new(ddb.clone(), "StockTable".into()),
                orders: Orders::new(ddb.clone(), "OrdersTable".into()),
                delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
                alerts: Alerts::new(ddb.clone(), "AlertsTable".into()),
                route_queue: Queue::new(
                    aws_sdk_sqs::Client::new(&cfg),
                    "http://127.0.0.1:9/r".into(),
                ),
            },
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            route_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/r".into(),
            ),
            idempotency: IdempotencyStore::new(ddb.clone(), "IdempotencyTable".into()),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/q".into(),
            ),
            dynamodb: ddb.clone(),
            tables: Tables {
                orders: "o".into(),
                delivery_orders: "d".into(),
                stock: "s".into(),
                returns: None,
            },
            delivery_orders: DeliveryOrders::new(ddb.clone(), "DeliveryOrdersTable".into()),
            stock: Stock::new(ddb.clone(), "StockTable".into()),
            returns: Returns::new(ddb.clone(), "ReturnsTable".into()),
            returns_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/rt".into(),
            ),
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/d".into(),
            ),
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
