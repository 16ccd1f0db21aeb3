//! The retailer's configuration and oversight API: channels, fulfillers, tokens, products, tax
//! rates, branding, refund policy, the order list and the full view of an order.

use chrono::Utc;
use dropship_aws::http::{self, json, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::mailer::Mailer;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::{OrderFilter, Orders};
use dropship_aws::repo::returns::Returns;
use dropship_aws::repo::tokens::{new_secret, TokenRecord, Tokens};
use dropship_core::catalogue::{
    day_bounds, from_body, BrandingInput, ChannelInput, FulfillerInput, ProductInput,
    RefundPolicyInput, TaxRatesInput,
};
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::order::OrderStatus;
use dropship_core::principal::require_admin;
use dropship_core::{ApiError, Principal};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

pub struct AdminApi {
    pub alerts: dropship_aws::repo::alerts::Alerts,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub documents_queue: Queue,
    pub events_queue: Queue,
    pub catalogue: Catalogue,
    pub tokens: Tokens,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub mailer: Mailer,
    pub idempotency: IdempotencyStore,
    pub returns: Returns,
    /// The only domain mail may come from (the SES identity the functions are granted).
    pub mail_sender_domain: String,
}

/// A money movement an admin records on an order.
enum MoneyAction {
    Goodwill,
    PaymentReceived,
    Chargeback,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    principal: String,
    name: Option<String>,
}

/// `%XX` sequences to bytes (a path parameter as the client encoded it); anything malformed
/// stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl AdminApi {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        let sqs = aws_sdk_sqs::Client::new(&cfg);
        Ok(Self {
            alerts: dropship_aws::repo::alerts::Alerts::new(ddb.clone(), env("ALERTS_TABLE")?),
            dynamodb: ddb.clone(),
            tables: Tables {
                orders: env("ORDERS_TABLE")?,
                delivery_orders: env("DELIVERY_ORDERS_TABLE")?,
                stock: env("STOCK_TABLE")?,
                returns: None,
            },
            documents_queue: Queue::new(sqs.clone(), env("DOCUMENTS_QUEUE_URL")?),
            events_queue: Queue::new(sqs, env("EVENTS_QUEUE_URL")?),
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            tokens: Tokens::new(ddb.clone(), env("TOKENS_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            idempotency: IdempotencyStore::new(ddb.clone(), env("IDEMPOTENCY_TABLE")?),
            returns: Returns::new(ddb.clone(), env("RETURNS_TABLE")?),
            mail_sender_domain: env("MAIL_SENDER_DOMAIN")?.to_ascii_lowercase(),
            delivery_orders: DeliveryOrders::new(ddb, env("DELIVERY_ORDERS_TABLE")?),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.route(req)).await
    }

    async fn route(&self, req: Request) -> HandlerResult {
        let principal = http::principal(&req);
        let admin = require_admin(principal.as_ref())?.to_string();
        match http::route_key(&req).as_str() {
            "PUT /admin/channels/{channelId}" => {
                let c = from_body::<ChannelInput>(json_body(&req)?)?
                    .validate(&path_param(&req, "channelId")?)?;
                self.catalogue.put_channel(&c).await?;
                json(200, &c)
            }
            "PUT /admin/fulfillers/{fulfillerId}" => {
                let f = from_body::<FulfillerInput>(json_body(&req)?)?
                    .validate(&path_param(&req, "fulfillerId")?)?;
                self.catalogue.put_fulfiller(&f).await?;
                json(200, &f)
            }
            "PUT /admin/products/{sku}" => {
                let input = from_body::<ProductInput>(json_body(&req)?)?;
                let ids: Vec<String> = input
                    .sources
                    .iter()
                    .filter_map(|s| s.get("fulfillerId")?.as_str().map(str::to_owned))
                    .collect();
                let known = self.catalogue.get_fulfillers(ids).await?;
                let p = input.validate(&path_param(&req, "sku")?, |f| known.contains_key(f))?;
                self.catalogue.put_product(&p).await?;
                json(200, &p)
            }
            "PUT /admin/tax-rates/{country}/{taxClass}" => {
                let t = from_body::<TaxRatesInput>(json_body(&req)?)?.validate(
                    &path_param(&req, "country")?,
                    &path_param(&req, "taxClass")?,
                )?;
                self.catalogue.put_tax_rates(&t).await?;
                json(200, &t)
            }
            "PUT /admin/branding" => {
                let b = from_body::<BrandingInput>(json_body(&req)?)?.validate()?;
                // The functions may send only from the deployment's mail domain (IAM grants
                // exactly that SES identity): another domain would fail at the first mail.
                let domain = b.email_from.rsplit('@').next().unwrap_or_default();
                if !domain.eq_ignore_ascii_case(&self.mail_sender_domain) {
                    return Err(ApiError::invalid(
                        "emailFrom",
                        format!(
                            "emailFrom must be an address of {}",
                            self.mail_sender_domain
                        ),
                    )
                    .into());
                }
                // SES sends only from verified identities: register the domain with every change.
                self.mailer.verify_sender(&self.mail_sender_domain).await?;
                self.catalogue.put_branding(&b).await?;
                json(200, &b)
            }
            "PUT /admin/refund-policy" => {
                let p = from_body::<RefundPolicyInput>(json_body(&req)?)?.validate()?;
                self.catalogue.put_refund_policy(&p).await?;
                json(200, &p)
            }
            "GET /admin/orders" => self.list_orders(&req).await,
            "GET /admin/alerts" => {
                let state = http::query_param(&req, "state").unwrap_or_else(|| "open".into());
                if state != "open" && state != "resolved" {
                    return Err(ApiError::invalid("state", "state must be open or resolved").into());
                }
                let items = self.alerts.list(&state).await?;
                json(200, &json!({ "items": items }))
            }
            "POST /admin/alerts/{alertId}/resolve" => {
                // Alert ids hold '#' and '/': clients send them percent-encoded.
                let id = percent_decode(&path_param(&req, "alertId")?);
                match self.alerts.get(&id).await? {
                    None => Err(ApiError::not_found("alert").into()),
                    Some(_) => {
                        self.alerts.resolve_id(&id, Utc::now()).await?;
                        tracing::info!(alert = %id, by = %admin, "alert resolved by hand");
                        let alert = self.alerts.get(&id).await?;
                        json(200, &json!(alert))
                    }
                }
            }
            "POST /admin/delivery-orders/{deliveryOrderId}/reroute" => {
                let id = path_param(&req, "deliveryOrderId")?;
                let body = json_body(&req)?;
                self.reroute(&id, &body, &admin).await
            }
            "POST /admin/tokens" => self.create_token(&req, &admin).await,
            "DELETE /admin/tokens/{tokenId}" => {
                let id = path_param(&req, "tokenId")?;
                if !dropship_core::ids::is_valid_id(&id) || !self.tokens.revoke(&id).await? {
                    return Err(ApiError::not_found("token").into());
                }
                tracing::info!(token_id = %id, by = %admin, "token revoked");
                Ok(Response::builder()
                    .status(204)
                    .body(Body::Empty)
                    .map_err(anyhow::Error::from)?)
            }
            "GET /admin/orders/{orderId}" => {
                let id = path_param(&req, "orderId")?;
                let order = self
                    .orders
                    .get(&id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("order"))?;
                let deliveries = self
                    .delivery_orders
                    .get_many(&order.delivery_order_ids)
                    .await?;
                let mut all = order.delivery_order_ids.clone();
                all.extend(
                    order
                        .replacements
                        .iter()
                        .map(|r| r.delivery_order_id.clone()),
                );
                let deliveries = if all.len() == deliveries.len() {
                    deliveries
                } else {
                    self.delivery_orders.get_many(&all).await?
                };
                let mut view = dropship_core::views::admin_order(&order, &deliveries);
                let mut returns = Vec::new();
                for r in &order.return_ids {
                    let parts = self.returns.parts(r).await?;
                    let mut v = dropship_core::returns::channel_view(&parts);
                    // Staff see who takes back what.
                    v["parts"] = json!(parts);
                    returns.push(v);
                }
                view["returns"] = json!(returns);
                json(200, &view)
            }
            "POST /admin/orders/{orderId}/goodwill"
            | "POST /admin/orders/{orderId}/payments-received"
            | "POST /admin/orders/{orderId}/chargebacks" => {
                let id = path_param(&req, "orderId")?;
                let body = json_body(&req)?;
                let route = http::route_key(&req);
                let action = if route.ends_with("/goodwill") {
                    MoneyAction::Goodwill
                } else if route.ends_with("/payments-received") {
                    MoneyAction::PaymentReceived
                } else {
                    MoneyAction::Chargeback
                };
                let work = || self.move_money(&id, &body, &action, &admin);
                let scope = format!("{}#admin", route.replace("{orderId}", &id));
                self.idempotency.respond(&req, &scope, work).await
            }
            "POST /admin/orders/{orderId}/replacements" => {
                let id = path_param(&req, "orderId")?;
                let body = json_body(&req)?;
                let work = || self.replace(&id, &body, &admin);
                let scope = format!("POST /admin/orders/{id}/replacements#admin");
                self.idempotency.respond(&req, &scope, work).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }

    async fn list_orders(&self, req: &Request) -> HandlerResult {
        use dropship_aws::http::query_param;
        let status = match query_param(req, "status") {
            None => None,
            Some(st) => {
                serde_json::from_value::<OrderStatus>(json!(st)).map_err(|_| {
                    ApiError::invalid(
                        "status",
                        "status must be accepted, routed, backordered, partially_shipped, shipped or cancelled",
                    )
                })?;
                Some(st)
            }
        };
        let channel_id = query_param(req, "channel");
        if let Some(c) = &channel_id {
            dropship_core::ids::check_id("channel", c)?;
        }
        let date = |name: &str| -> Result<Option<chrono::NaiveDate>, ApiError> {
            query_param(req, name)
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD"))
                    })
                })
                .transpose()
        };
        let (from, to) = (date("from")?, date("to")?);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(ApiError::invalid("to", "to is before from").into());
            }
        }
        let time_zone = self
            .catalogue
            .get_branding()
            .await?
            .map(|b| b.time_zone)
            .unwrap_or_else(|| "Europe/Berlin".into());
        let (from, to) = day_bounds(from, to, &time_zone);
        let filter = OrderFilter {
            status,
            channel_id,
            from,
            to,
        };
        let next = query_param(req, "nextToken");
        let (orders, next_token) = self
            .orders
            .list(&filter, http::limit(req)?, next.as_deref())
            .await?
            .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not valid"))?;
        let items: Vec<_> = orders
            .iter()
            .map(|o| {
                json!({"id": o.id, "orderId": o.id, "externalId": o.external_id, "channelId": o.channel_id,
                    "status": o.status, "currency": o.currency, "total": o.totals.total,
                    "customer": {"name": o.customer.name, "email": o.customer.email},
                    "orderedAt": o.ordered_at, "createdAt": o.created_at})
            })
            .collect();
        let mut body = json!({ "items": items });
        if let Some(t) = next_token {
            body["nextToken"] = json!(t);
        }
        json(200, &body)
    }

    /// Moves a delivery order to another fulfiller before anything of it shipped: the stock
    /// reservation moves with it, the old fulfiller is told, the new one gets its documents.
    async fn reroute(&self, id: &str, body: &serde_json::Value, admin: &str) -> HandlerResult {
        use dropship_aws::repo::changes::{self, Change, Outcome, StockMove};
        let target_id = body
            .get("fulfillerId")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ApiError::invalid("fulfillerId", "fulfillerId is required"))?;
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
                        "insufficient_stock",
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
            "concurrent_modification",
            "the delivery order kept changing; please retry",
        )
        .into())
    }

    /// Goodwill, invoice money received or a chargeback: one ledger entry on the order,
    /// conditional on the order's version (retried when someone else changed it).
    async fn move_money(
        &self,
        id: &str,
        body: &serde_json::Value,
        action: &MoneyAction,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        use dropship_aws::repo::changes::{self, Change, Outcome};
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        let policy = self.catalogue.get_refund_policy().await?;
        let who = format!("admin:{admin}");
        let entry_id = format!("led_{}", uuid::Uuid::now_v7().simple());
        for attempt in 1..=5 {
            let mut order = self
                .orders
                .get(id)
                .await?
                .ok_or_else(|| ApiError::not_found("order"))?;
            let now = Utc::now();
            let (status, record, what, event) = match action {
                MoneyAction::Goodwill => {
                    let r = dropship_core::refund::goodwill(
                        &mut order,
                        body,
                        policy.allocation,
                        entry_id.replace("led_", "ref_"),
                        now,
                    )?;
                    let what = format!("goodwill {} {}: {}", r.amount, order.currency, r.reason);
                    let event = BusinessEvent::RefundIssued {
                        order_id: order.id.clone(),
                        refund_id: r.id.clone(),
                    };
                    (201, json!(r), what, Some((event, r)))
                }
                MoneyAction::PaymentReceived => {
                    let e = dropship_core::ledger::receive_payment(
                        &mut order,
                        body,
                        entry_id.clone(),
                        now,
                    )?;
                    let what = format!("received {} {} on the invoice", e.amount, order.currency);
                    (201, json!(e), what, None)
                }
                MoneyAction::Chargeback => {
                    let e = dropship_core::ledger::charge_back(
                        &mut order,
                        body,
                        entry_id.clone(),
                        now,
                    )?;
                    let what = format!("chargeback {} {}", e.amount, order.currency);
                    (201, json!(e), what, None)
                }
            };
            order.record(now, who.clone(), what);
            let change = Change {
                order: Some(&order),
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    if let MoneyAction::Chargeback = action {
                        // Customer service looks into every chargeback.
                        self.alerts
                            .open(
                                "chargeback",
                                &format!("{}#{entry_id}", order.id),
                                &format!("chargeback on order {}", order.id),
                                now,
                            )
                            .await?;
                    }
                    if let Some((event, refund)) = event {
                        dropship_aws::metrics::refunds_issued(refund.amount, &order.currency);
                        self.events_queue.send(&event).await?;
                        self.documents_queue
                            .send(&GenerateDocuments::Refund {
                                order_id: order.id.clone(),
                                refund_id: refund.id.clone(),
                            })
                            .await?;
                    }
                    tracing::info!(order_id = %order.id, by = %admin, "money movement recorded");
                    return Ok(StoredResponse {
                        status,
                        body: json!({"id": record["id"], "entry": record, "totals": order.totals}),
                    });
                }
                other => {
                    tracing::warn!(attempt, outcome = ?other, "order changed while recording money; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            "concurrent_modification",
            "the order kept changing; please retry",
        )
        .into())
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
                        .and_then(|(l, _)| replacement::shipped_by(&deliveries, l))
                        .ok_or_else(|| {
                            ApiError::conflict("not_shipped", "nothing of these lines was shipped")
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
                        "insufficient_stock",
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
            "concurrent_modification",
            "the order kept changing; please retry",
        )
        .into())
    }

    async fn create_token(&self, req: &Request, admin: &str) -> HandlerResult {
        let input = from_body::<TokenRequest>(json_body(req)?)?;
        let principal =
            Principal::parse(&input.principal, input.name.as_deref()).ok_or_else(|| {
                ApiError::invalid(
                    "principal",
                    "principal must be admin, channel:<channelId> or fulfiller:<fulfillerId>",
                )
            })?;
        if let Some(name) = &input.name {
            dropship_core::ids::check_text("name", name, 200)?;
        }
        let exists = match &principal {
            Principal::Admin { .. } => true,
            Principal::Channel { id } => self.catalogue.get_channel(id).await?.is_some(),
            Principal::Fulfiller { id } => self.catalogue.get_fulfiller(id).await?.is_some(),
        };
        if !exists {
            return Err(ApiError::invalid(
                "principal",
                format!("{} is not configured", input.principal),
            )
            .into());
        }
        let token = new_secret();
        let token_id = format!("tok_{}", uuid::Uuid::new_v4().simple());
        let record = TokenRecord {
            token_id: token_id.clone(),
            principal: principal.notation(),
            name: input.name,
            created_at: Utc::now(),
        };
        self.tokens.create_token(&token, &record).await?;
        tracing::info!(token_id = %token_id, principal = %record.principal, by = %admin, "token created");
        json(
            201,
            &json!({"id": token_id, "tokenId": token_id, "principal": record.principal, "token": token}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    fn api() -> AdminApi {
        let cfg = offline();
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        AdminApi {
            alerts: dropship_aws::repo::alerts::Alerts::new(ddb.clone(), "AlertsTable".into()),
            dynamodb: ddb.clone(),
            tables: Tables {
                orders: "o".into(),
                delivery_orders: "d".into(),
                stock: "s".into(),
                returns: None,
            },
            documents_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/d".into(),
            ),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/e".into(),
            ),
            catalogue: Catalogue::new(ddb.clone(), "CatalogueTable".into()),
            tokens: Tokens::new(ddb.clone(), "TokensTable".into()),
            orders: Orders::new(ddb.clone(), "OrdersTable".into()),
            idempotency: IdempotencyStore::new(ddb.clone(), "IdempotencyTable".into()),
            returns: Returns::new(ddb.clone(), "ReturnsTable".into()),
            mail_sender_domain: "lindenhof.example".into(),
            delivery_orders: DeliveryOrders::new(ddb, "DeliveryOrdersTable".into()),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
        }
    }

    async fn call(edit: impl FnOnce(&mut serde_json::Value)) -> (u16, serde_json::Value) {
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

    #[tokio::test]
    async fn mail_comes_only_from_the_deployments_domain() {
        let branding = json!({"companyName": "L", "address": {"name": "L", "street": "S 1",
            "postalCode": "1", "city": "B", "country": "DE"}, "vatId": "DE1", "primaryColor": "#000000",
            "footer": "f", "emailFrom": "service@elsewhere.example", "locale": "de"});
        let (status, body) = call(|v| {
            v["routeKey"] = json!("PUT /admin/branding");
            v["requestContext"]["routeKey"] = json!("PUT /admin/branding");
            v["rawPath"] = json!("/admin/branding");
            v["body"] = json!(branding.to_string());
        })
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("emailFrom")),
            "{body}"
        );
    }
}
