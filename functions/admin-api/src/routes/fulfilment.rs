//! Changes to who ships what, after routing: a delivery order moved to another fulfiller
//! before anything of it shipped, and a free replacement for delivered units. Both reserve
//! stock at the fulfiller that now ships, in the same transaction as the order's change;
//! separate because they are the only admin routes that make delivery orders.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{json, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_core::messages::GenerateDocuments;
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

impl AdminApi {
    /// `POST /admin/delivery-orders/{deliveryOrderId}/reroute`
    pub(crate) async fn reroute_delivery_order(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "deliveryOrderId")?;
        let body = json_body(req)?;
        self.reroute(&id, &body, admin).await
    }

    /// Moves a delivery order to another fulfiller before anything of it shipped: the stock
    /// reservation moves with it, the old fulfiller is told, the new one gets its documents.
    async fn reroute(&self, id: &str, body: &serde_json::Value, admin: &str) -> HandlerResult {
        use dropship_aws::repo::changes::{self, Change, Outcome, StockMove};
        let target_id = body
            .get("fulfillerId")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ApiError::required("fulfillerId", "fulfillerId is required"))?;
        dropship_core::ids::check_id("fulfillerId", target_id)?;
        let target = self
            .catalogue
            .get_fulfiller(target_id)
            .await?
            .ok_or_else(|| {
                ApiError::invalid("fulfillerId", format!("unknown fulfiller {target_id}"))
            })?;
        for attempt in 1..=5 {
            if !dropship_core::ids::is_valid_id(id) {
                return Err(ApiError::not_found("delivery order").into());
            }
            let d = self
                .delivery_orders
                .get(id)
                .await?
                .ok_or_else(|| ApiError::not_found("delivery order"))?;
            let order = self
                .orders
                .get(&d.order_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("order {} of {id} is missing", d.order_id))?;
            let plan = dropship_core::fulfilment::reroute(
                &d,
                &order,
                &target,
                &format!("admin:{admin}"),
                Utc::now(),
            )?;
            let release = StockMove::at(&d.fulfiller_id, &plan.units);
            let reserve = StockMove::at(&target.id, &plan.units);
            let change = Change {
                order: Some(&plan.order),
                new_deliveries: std::slice::from_ref(&plan.new),
                updated_deliveries: std::slice::from_ref(&plan.old),
                reserve: &reserve,
                release: &release,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    let documents = dropship_core::messages::GenerateDocuments::DeliveryOrder {
                        delivery_order_id: plan.new.id.clone(),
                    };
                    let notice = dropship_core::messages::BusinessEvent::DeliveryOrderChanged {
                        delivery_order_id: plan.old.id.clone(),
                        fulfiller_id: plan.old.fulfiller_id.clone(),
                        order_id: order.id.clone(),
                        cancelled: true,
                        version: plan.old.version + 1,
                    };
                    let (a, b) = tokio::join!(
                        self.documents_queue.send(&documents),
                        self.events_queue.send(&notice)
                    );
                    a?;
                    b?;
                    tracing::info!(from = %d.id, to = %plan.new.id, by = %admin, "delivery order rerouted");
                    return json(
                        200,
                        &json!({"id": plan.new.id, "deliveryOrderId": plan.new.id, "fulfillerId": target.id,
                        "previous": {"id": plan.old.id, "status": plan.old.status}, "lines": plan.new.lines}),
                    );
                }
                Outcome::StockChanged => {
                    return Err(ApiError::conflict(
                        dropship_core::ErrorCode::InsufficientStock,
                        format!("{} has not enough free stock for it", target.id),
                    )
                    .into())
                }
                other => {
                    tracing::warn!(attempt, outcome = ?other, "changed while rerouting; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the delivery order kept changing; please retry",
        )
        .into())
    }

    /// `POST /admin/orders/{orderId}/replacements`: at most once per idempotency key.
    pub(crate) async fn free_replacement(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let body = json_body(req)?;
        let work = || self.replace(&id, &body, admin);
        let scope = format!("POST /admin/orders/{id}/replacements#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    /// A free replacement delivery order for delivered units (wrong or faulty item), to the
    /// fulfiller that shipped them or another; its stock is reserved like any delivery order's.
    async fn replace(
        &self,
        id: &str,
        body: &serde_json::Value,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        use dropship_aws::repo::changes::{self, Change, Outcome, StockMove};
        use dropship_core::replacement;
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        let request = replacement::parse_request(body)?;
        for attempt in 1..=5 {
            let order = self
                .orders
                .get(id)
                .await?
                .ok_or_else(|| ApiError::not_found("order"))?;
            let fulfiller_id = match &request.fulfiller_id {
                Some(f) => f.clone(),
                None => {
                    let deliveries = self
                        .delivery_orders
                        .get_many(&order.delivery_order_ids)
                        .await?;
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
            let fulfiller = self
                .catalogue
                .get_fulfiller(&fulfiller_id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid("fulfillerId", format!("unknown fulfiller {fulfiller_id}"))
                })?;
            let (delivery, next) = replacement::plan(
                &order,
                &request,
                &fulfiller,
                &format!("admin:{admin}"),
                Utc::now(),
            )?;
            let units: Vec<(String, u32)> = delivery
                .lines
                .iter()
                .map(|l| (l.sku.clone(), l.quantity))
                .collect();
            let reserve = StockMove::at(&fulfiller.id, &units);
            let change = Change {
                order: Some(&next),
                new_deliveries: std::slice::from_ref(&delivery),
                reserve: &reserve,
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    self.documents_queue
                        .send(&GenerateDocuments::DeliveryOrder {
                            delivery_order_id: delivery.id.clone(),
                        })
                        .await?;
                    tracing::info!(order_id = %order.id, delivery_order_id = %delivery.id, by = %admin, "free replacement made");
                    return Ok(StoredResponse {
                        status: 201,
                        body: json!({"id": delivery.id, "deliveryOrderId": delivery.id,
                            "fulfillerId": fulfiller.id, "lines": delivery.lines, "status": delivery.status}),
                    });
                }
                Outcome::StockChanged => {
                    return Err(ApiError::conflict(
                        dropship_core::ErrorCode::InsufficientStock,
                        format!("{} has not enough free stock for it", fulfiller.id),
                    )
                    .into())
                }
                other => {
                    tracing::warn!(attempt, outcome = ?other, "order changed while replacing; trying again")
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
