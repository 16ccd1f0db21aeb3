//! The retailer's configuration and oversight API: channels, fulfillers, tokens, products, tax
//! rates, branding, refund policy, the process settings, the order list and the full view of an
//! order.
//!
//! This file checks that the caller is an admin and dispatches a route to its group in
//! `routes/`: `configuration` (the catalogue: PUT, GET and lists), `orders` (list and full
//! view, with the order's documents from `invoices`), `alerts`,
//! `fulfilment` (reroutes and free replacements), `process` (the process settings and diagram), `money` (goodwill, invoice money received,
//! chargebacks), `pricing` (prices and promotions), `service` (customer service acting for the
//! customer: cancellations, returns and their rejection, contacts, the customer's page) and
//! `tokens`.

mod config;
pub use config::Config;
mod routes;

pub use routes::alerts::percent_decode;

use dropship_app::{QueueUrls, Repositories};
use dropship_aws::http::{self, HandlerResult};
use dropship_aws::http_idempotency::IdempotencyStore;
use dropship_aws::mailer::Mailer;
use dropship_aws::repo::audit::AuditLog;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::returns::Returns;
use dropship_aws::repo::tokens::Tokens;
use dropship_core::principal::require_retailer;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use routes::money::MoneyAction;

pub struct AdminApi {
    pub alerts: dropship_aws::repo::alerts::Alerts,
    /// Every change made here, and every refusal of a staff token.
    pub audit: AuditLog,
    /// Orders, delivery orders, stock and returns, and the events and documents queues, as the
    /// use cases read, change and publish (customer service authorizes and rejects returns).
    pub repositories: Repositories,
    pub catalogue: Catalogue,
    pub tokens: Tokens,
    pub mailer: Mailer,
    pub idempotency: IdempotencyStore,
    pub returns: Returns,
    /// The only domain mail may come from (the SES identity the functions are granted).
    pub mail_sender_domain: String,
    /// The document bucket, for the branding's logo (written on PUT, presigned on GET).
    pub documents: dropship_aws::documents::DocumentStore,
    /// The invoice register (orders table): the order view lists an order's documents.
    pub invoices: dropship_aws::repo::invoices::Invoices,
    /// The API's public address, without a trailing slash (document links append paths).
    pub public_base_url: String,
}

impl dropship_aws::config::FromConfig for AdminApi {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            ..QueueUrls::default()
        };
        Ok(Self {
            alerts: dropship_aws::repo::alerts::Alerts::new(
                ddb.clone(),
                config.alerts_table.clone(),
            ),
            audit: AuditLog::new(ddb.clone(), config.audit_table.clone()),
            repositories: Repositories::new(cfg, &config.tables, queues)
                .with_returns(&config.returns_table),
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            tokens: Tokens::new(ddb.clone(), config.tokens_table.clone()),
            idempotency: IdempotencyStore::new(ddb.clone(), config.idempotency_table.clone()),
            returns: Returns::new(ddb.clone(), config.returns_table.clone()),
            mail_sender_domain: config.mail_sender_domain.clone().to_ascii_lowercase(),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(cfg)),
            invoices: dropship_aws::repo::invoices::Invoices::new(
                ddb,
                config.tables.orders_table.clone(),
            ),
            public_base_url: config.public_api_base_url.trim_end_matches('/').to_string(),
            documents: dropship_aws::documents::DocumentStore::new(
                aws_sdk_s3::Client::new(cfg),
                config.document_bucket.clone(),
            ),
        })
    }
}

impl AdminApi {
    /// The stock as a reroute or a replacement reads it (the free units of each stock item of
    /// a sharded sku, where the new reservation takes them).
    pub(crate) fn stock_sources(&self) -> dropship_app::aws::Sources<'_> {
        dropship_app::aws::Sources {
            catalogue: &self.catalogue,
            stock: &self.repositories.stock,
            dynamodb: &self.repositories.dynamodb,
        }
    }

    /// Answers a request, and writes the audit line of a change or of a staff member's 403.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let result = self.route(&req).await;
        http::audit(&self.audit, &req, &result).await;
        http::respond(std::future::ready(result)).await
    }

    async fn route(&self, req: &Request) -> HandlerResult {
        let route = http::route_key(req);
        let principal = http::principal(req);
        let admin = require_retailer(principal.as_ref(), &route)?;
        match route.as_str() {
            "PUT /admin/staff/{staffId}" => self.put_staff(req, &admin).await,
            "GET /admin/staff/{staffId}" => self.staff_member(req).await,
            "GET /admin/staff" => self.list_staff(req).await,
            "GET /admin/audit" => self.list_audit(req).await,
            "PUT /admin/channels/{channelId}" => self.put_channel(req, &admin).await,
            "GET /admin/channels/{channelId}" => self.channel(req).await,
            "GET /admin/channels" => self.list_channels(req).await,
            "PUT /admin/fulfillers/{fulfillerId}" => self.put_fulfiller(req, &admin).await,
            "GET /admin/fulfillers/{fulfillerId}" => self.fulfiller(req).await,
            "GET /admin/fulfillers" => self.list_fulfillers(req).await,
            "PUT /admin/products/{sku}" => self.put_product(req, &admin).await,
            "GET /admin/products/{sku}" => self.product(req).await,
            "GET /admin/products" => self.list_products(req).await,
            "PUT /admin/tax-rates/{country}/{taxClass}" => self.put_tax_rates(req, &admin).await,
            "GET /admin/tax-rates/{country}/{taxClass}" => self.tax_rates(req).await,
            "GET /admin/tax-rates" => self.list_tax_rates(req).await,
            "PUT /admin/branding" => self.put_branding(req, &admin).await,
            "GET /admin/branding" => self.branding().await,
            "PUT /admin/refund-policy" => self.put_refund_policy(req, &admin).await,
            "GET /admin/refund-policy" => self.refund_policy().await,
            "GET /admin/process" => self.process().await,
            "PUT /admin/process" => self.put_process(req, &admin).await,
            "GET /admin/process/versions" => self.process_versions(req).await,
            "GET /admin/process/diagram" => self.process_diagram(req).await,
            "GET /admin/finance/accounts" => self.finance_accounts().await,
            "PUT /admin/finance/accounts" => self.put_finance_accounts(req).await,
            "POST /admin/prices/{channelId}/{sku}" => self.add_price(req, &admin).await,
            "GET /admin/prices/{channelId}/{sku}" => self.prices(req).await,
            "PUT /admin/promotions/{promotionId}" => self.put_promotion(req, &admin).await,
            "GET /admin/promotions/{promotionId}" => self.promotion(req).await,
            "GET /admin/promotions" => self.list_promotions(req).await,
            "GET /admin/orders" => self.list_orders(req).await,
            "GET /admin/orders/{orderId}" => self.order(req).await,
            "GET /admin/alerts" => self.list_alerts(req).await,
            "POST /admin/alerts/{alertId}/resolve" => self.resolve_alert(req, &admin).await,
            "POST /admin/delivery-orders/{deliveryOrderId}/reroute" => {
                self.reroute_delivery_order(req, &admin).await
            }
            "POST /admin/orders/{orderId}/replacements" => self.free_replacement(req, &admin).await,
            "POST /admin/orders/{orderId}/goodwill" => {
                self.record_money(req, MoneyAction::Goodwill, &admin).await
            }
            "POST /admin/orders/{orderId}/payments-received" => {
                self.record_money(req, MoneyAction::PaymentReceived, &admin)
                    .await
            }
            "POST /admin/orders/{orderId}/chargebacks" => {
                self.record_money(req, MoneyAction::Chargeback, &admin)
                    .await
            }
            "POST /admin/tokens" => self.create_token(req, principal.as_ref(), &admin).await,
            "DELETE /admin/tokens/{tokenId}" => {
                self.revoke_token(req, principal.as_ref(), &admin).await
            }
            "POST /admin/orders/{orderId}/cancel" => self.cancel_for_customer(req, &admin).await,
            "POST /admin/orders/{orderId}/returns" => self.return_for_customer(req, &admin).await,
            "POST /admin/returns/{returnId}/reject" => self.reject_return(req, &admin).await,
            "POST /admin/orders/{orderId}/contacts" => self.add_contact(req, &admin).await,
            "GET /admin/customers/{email}" => self.customer(req).await,
            "GET /admin/tokens" => self.list_tokens(req).await,
            _ => Err(ApiError::not_found("route").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};
    use serde_json::json;

    fn api() -> AdminApi {
        AdminApi::from_config(&offline_config().unwrap(), &offline()).unwrap()
    }

    pub(crate) async fn call(
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> (u16, serde_json::Value) {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/admin-api.json")).unwrap();
        edit(&mut v);
        let resp = api()
            .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            serde_json::from_slice(resp.body().as_ref()).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn only_admins_and_only_valid_bodies() {
        let (status, _) = call(|v| {
            v["requestContext"]["authorizer"]["lambda"]["principal"] = json!("channel:web-de")
        })
        .await;
        assert_eq!(status, 403);
        let (status, body) =
            call(|v| v["body"] = json!("{\"name\": \"x\", \"kind\": \"spaceship\"}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("validation_failed"))
        );
        let (status, body) = call(|v| v["pathParameters"]["channelId"] = json!("bad id")).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("channelId"))
        );
    }
}
