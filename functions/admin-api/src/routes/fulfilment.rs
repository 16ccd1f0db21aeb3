//! Changes to who ships what, after routing: a delivery order moved to another fulfiller
//! before anything of it shipped, and a free replacement for delivered units (the use cases
//! are `dropship_app::rerouting`); separate because they are the only admin routes that make
//! delivery orders.

use crate::AdminApi;
use dropship_app::rerouting::{self, Replace, Reroute};
use dropship_aws::http::{json, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_core::input::{self, Fields, Lax};
use dropship_core::ApiError;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

/// `{fulfillerId}` of a reroute as serde reads it (any other value: `fulfillerId is required`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RerouteInput {
    #[serde(default)]
    fulfiller_id: Lax<String>,
}

impl AdminApi {
    /// `POST /admin/delivery-orders/{deliveryOrderId}/reroute`
    pub(crate) async fn reroute_delivery_order(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "deliveryOrderId")?;
        let Fields(body) = input::read::<Fields<RerouteInput>>(&json_body(req)?)?;
        let target_id = body
            .fulfiller_id
            .0
            .ok_or_else(|| input::required("fulfillerId"))?;
        let target_id = dropship_core::ids::FulfillerId::parse("fulfillerId", target_id)?;
        let command = Reroute {
            admin: admin.to_string(),
            delivery_order: id,
            fulfiller: target_id,
        };
        let (plan, target) = rerouting::reroute(
            &self.repositories.store(),
            &self.catalogue,
            &self.stock_sources(),
            &command,
        )
        .await?;
        json(
            200,
            &json!({"id": plan.new.id, "deliveryOrderId": plan.new.id, "fulfillerId": target.id,
            "previous": {"id": plan.old.id, "status": plan.old.status}, "lines": plan.new.lines}),
        )
    }

    /// `POST /admin/orders/{orderId}/replacements`: at most once per idempotency key.
    pub(crate) async fn free_replacement(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let body = json_body(req)?;
        let work = || self.replace(&id, &body, admin);
        let scope = format!("POST /admin/orders/{id}/replacements#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    async fn replace(
        &self,
        id: &str,
        body: &serde_json::Value,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        let command = Replace {
            admin: admin.to_string(),
            order: id.to_string(),
            request: dropship_core::replacement::parse_request(body)?,
        };
        let (delivery, fulfiller) = rerouting::replace(
            &self.repositories.store(),
            &self.catalogue,
            &self.stock_sources(),
            &command,
        )
        .await?;
        Ok(StoredResponse {
            status: 201,
            body: json!({"id": delivery.id, "deliveryOrderId": delivery.id,
                "fulfillerId": fulfiller.id, "lines": delivery.lines, "status": delivery.status}),
        })
    }
}
