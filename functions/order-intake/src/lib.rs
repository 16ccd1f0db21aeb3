//! Takes a channel's order in: validates it against docs/api.md, prices it (discounts, tax, totals),
//! stores it with one conditional PutItem whose item carries its routing message (the outbox):
//! the change relay queues it from the orders table's stream once the order is in, so a crash
//! right after the write loses nothing and nothing is sent for an order not stored.
//!
//! The order's id is derived from (channel, externalId), so a second order with the same
//! externalId meets the first one's item: no uniqueness item, no transaction.

mod config;
use chrono::{DateTime, Utc};
pub use config::Config;
use dropship_aws::http::{self, json, json_body, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::repo::catalogue::{Catalogue, OrderCatalogue};
use dropship_aws::repo::orders::{CreateOutcome, Orders};
use dropship_core::catalogue::local_date;
use dropship_core::ids::{ChannelId, OrderId};
use dropship_core::intake::{OrderRequest, PricingContext};
use dropship_core::pricing::Promotion;
use dropship_core::principal::require_channel;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub struct OrderIntake {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub idempotency: IdempotencyStore,
}

/// The answer to an accepted order, the first time and to every repeat of the same request.
fn accepted(order_id: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        body: json!({"id": order_id, "orderId": order_id, "status": "accepted"}),
    }
}

impl dropship_aws::config::FromConfig for OrderIntake {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            idempotency: IdempotencyStore::new(ddb, config.idempotency_table.clone()),
        })
    }
}

/// What an order of a channel is priced against.
struct PricingData {
    catalogue: OrderCatalogue,
    promotions: Vec<Promotion>,
}

impl PricingData {
    /// The context of an order placed at `ordered_at` (else `now`): its date is the retailer's.
    fn context(&self, ordered_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> PricingContext<'_> {
        let time_zone = self
            .catalogue
            .branding
            .as_ref()
            .map(|b| b.time_zone.as_str())
            .unwrap_or("Europe/Berlin");
        let mut ctx = PricingContext::new(
            &self.catalogue.products,
            &self.catalogue.tax_rates,
            local_date(ordered_at.unwrap_or(now), time_zone),
        );
        ctx.list_prices = &self.catalogue.list_prices;
        ctx.promotions = &self.promotions;
        ctx.price_check = self
            .catalogue
            .channel
            .as_ref()
            .map(|c| c.price_check)
            .unwrap_or_default();
        ctx
    }
}

impl OrderIntake {
    /// One BatchGetItem (products, the country's tax rates, the branding, the channel and its
    /// list prices of the order's skus) beside the promotions' query; 403 `channel_inactive`
    /// for an inactive channel, 422 when the order's currency is not the channel's.
    async fn pricing_data(
        &self,
        channel: &ChannelId,
        request: &OrderRequest,
    ) -> Result<PricingData, HandlerError> {
        let skus: Vec<String> = request.lines.iter().map(|l| l.sku.to_string()).collect();
        let country = request.shipping_address.country.as_str();
        let (catalogue, promotions) = tokio::try_join!(
            self.catalogue.get_for_order(skus, country, Some(channel)),
            self.catalogue.promotions()
        )?;
        if let Some(c) = &catalogue.channel {
            // Read with the order, never cached: a deactivation holds from the next request.
            c.check_active()?;
            c.check_currency(&request.currency)?;
        }
        Ok(PricingData {
            catalogue,
            promotions: promotions.into_iter().map(|p| p.promotion).collect(),
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        if http::route_key(&req) == "POST /orders/quote" {
            return http::respond(self.quote(req)).await;
        }
        http::respond(self.post_order(req)).await
    }

    /// `POST /orders/quote`: the order as it would be priced (list prices, promotions,
    /// discounts, tax, totals), whatever its payments add up to; nothing is written.
    async fn quote(&self, req: Request) -> HandlerResult {
        let channel = require_channel(http::principal(&req).as_ref())?.clone();
        let mut body = json_body(&req)?;
        // Payments are optional here: the quote is how a channel learns what to take.
        if let Some(o) = body.as_object_mut() {
            o.entry("payments").or_insert_with(|| json!([]));
        }
        let request = OrderRequest::parse(&body)?;
        let order_id = OrderId::for_channel_order(channel.as_str(), &request.external_id);
        let data = self.pricing_data(&channel, &request).await?;
        let now = Utc::now();
        let ctx = data.context(request.ordered_at, now);
        let priced = request.quote(&ctx, order_id, channel, now)?;
        json(
            200,
            &json!({
                "currency": priced.currency,
                "lines": priced.lines.iter().map(|l| json!({
                    "lineId": l.line_id, "sku": l.sku, "quantity": l.quantity,
                    "unitPrice": l.unit_price, "gross": l.gross,
                    "discountShares": l.discount_shares, "discountShare": l.discount_share,
                    "paid": l.paid, "taxRate": l.tax_rate, "tax": l.tax,
                })).collect::<Vec<_>>(),
                "totals": priced.totals,
            }),
        )
    }

    async fn post_order(&self, req: Request) -> HandlerResult {
        let channel = require_channel(http::principal(&req).as_ref())?.clone();
        let body = json_body(&req)?;
        let scope = format!("POST /orders#channel:{channel}");
        let request_key = http::header(&req, "idempotency-key").map(|key| {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            h.update(scope.as_bytes());
            h.update([0]);
            h.update(key.as_bytes());
            h.update([0]);
            h.update(req.body().as_ref());
            hex::encode(h.finalize())
        });
        let resp = self
            .idempotency
            .run_for_request(&req, &scope, true, || {
                self.accept(&channel, &body, request_key.clone())
            })
            .await?;
        json(resp.status, &resp.body)
    }

    async fn accept(
        &self,
        channel: &ChannelId,
        body: &serde_json::Value,
        request_key: Option<String>,
    ) -> Result<StoredResponse, HandlerError> {
        let request = OrderRequest::parse(body)?;
        let data = self.pricing_data(channel, &request).await?;
        let now = Utc::now();
        let ctx = data.context(request.ordered_at, now);
        let order_id = OrderId::for_channel_order(channel.as_str(), &request.external_id);
        let mut order = request.price(
            &ctx,
            order_id,
            channel.clone(),
            now,
            format!("channel:{channel}"),
        )?;
        order.request_key = request_key;
        match self.orders.create(&order).await? {
            CreateOutcome::Created => {}
            CreateOutcome::AlreadyExists => {
                // The very same request, repeated after a crash outlived its idempotency record
                // (or an attempt whose answer was lost): the order it made is the answer, exactly
                // as the first time (its routing message went with it, in its outbox).
                let existing = self.orders.get(order.id.as_str()).await?;
                let same = existing
                    .as_ref()
                    .is_some_and(|o| o.request_key.is_some() && o.request_key == order.request_key);
                if same {
                    tracing::info!(order_id = %order.id, "a repeated request found its order");
                    return Ok(accepted(order.id.as_str()));
                }
                return Err(ApiError::conflict(
                    dropship_core::ErrorCode::DuplicateOrder,
                    format!(
                        "this channel already sent externalId {} (order {})",
                        order.external_id, order.id
                    ),
                )
                .into());
            }
        }
        tracing::info!(order_id = %order.id, channel = %channel, lines = order.lines.len(), total = %order.totals.total, "order accepted");
        dropship_aws::metrics::orders_accepted(channel.as_str(), 1);
        Ok(accepted(order.id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    fn intake() -> OrderIntake {
        let cfg = offline();
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        OrderIntake {
            catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            idempotency: IdempotencyStore::new(ddb, "IdempotencyTable".into()),
        }
    }

    fn event(edit: impl FnOnce(&mut serde_json::Value)) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/order-intake.json")).unwrap();
        edit(&mut v);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn status_and_code(req: Request) -> (u16, String) {
        let resp = intake().handle(req).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        (
            resp.status().as_u16(),
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[tokio::test]
    async fn refuses_before_touching_anything() {
        let no_principal = event(|v| v["requestContext"]["authorizer"]["lambda"] = json!({}));
        assert_eq!(
            status_and_code(no_principal).await,
            (401, "unauthenticated".into())
        );
        let fulfiller = event(|v| {
            v["requestContext"]["authorizer"]["lambda"]["principal"] = json!("fulfiller:acme")
        });
        assert_eq!(status_and_code(fulfiller).await, (403, "forbidden".into()));
        let malformed = event(|v| v["body"] = json!("{\"externalId\": "));
        assert_eq!(
            status_and_code(malformed).await,
            (400, "malformed_json".into())
        );
        let no_key = event(|v| {
            v["headers"]
                .as_object_mut()
                .unwrap()
                .remove("idempotency-key");
        });
        assert_eq!(
            status_and_code(no_key).await,
            (400, "idempotency_key_required".into())
        );
        let huge =
            event(|v| v["body"] = json!(format!("{{\"pad\": \"{}\"}}", "x".repeat(256 * 1024))));
        assert_eq!(
            status_and_code(huge).await,
            (413, "payload_too_large".into())
        );
    }
}
