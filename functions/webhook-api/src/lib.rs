//! Webhook subscriptions and their delivery log (docs/api.md "Webhooks"): a channel or fulfiller
//! manages its own, admin everyone's. Someone else's subscription answers 404, as a missing one.
//! Deliveries are made by the webhook-sender function; this API only reads their log and puts
//! a delivery retried by hand back on the delivery queue.

mod config;
pub use config::Config;

use chrono::Utc;
use dropship_aws::http::{self, json, path_param, HandlerResult};
use dropship_aws::http_idempotency::{IdempotencyStore, StoredResponse};
use dropship_aws::outbound::{Resolver, SystemResolver};
use dropship_aws::queue::Queue;
use dropship_aws::repo::webhooks::{enqueue, Webhooks};
use dropship_core::principal::{require_retailer, Principal};
use dropship_core::webhook::{check_addresses, validate, Host, Secret, Subscription};
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub struct WebhookApi {
    pub webhooks: Webhooks,
    pub idempotency: IdempotencyStore,
    pub queue: Queue,
    pub allow_local_http: bool,
    /// Every change made here by the retailer's side, and every refusal of a staff token.
    pub audit: dropship_aws::repo::audit::AuditLog,
}

impl dropship_aws::config::FromConfig for WebhookApi {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            webhooks: Webhooks::new(ddb.clone(), config.webhooks_table.clone()),
            idempotency: IdempotencyStore::new(ddb.clone(), config.idempotency_table.clone()),
            audit: dropship_aws::repo::audit::AuditLog::new(ddb, config.audit_table.clone()),
            queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.delivery_queue_url.clone(),
            ),
            allow_local_http: config.allow_local_http,
        })
    }
}

/// A new signing secret: 32 bytes, SHA-256 over three random UUIDs (366 random bits).
fn new_secret() -> anyhow::Result<Secret> {
    let bytes = hex::decode(dropship_aws::repo::tokens::new_key())?;
    Ok(Secret::from_bytes(&bytes)?)
}

impl WebhookApi {
    /// Answers a request, and writes the audit line of the retailer's side's change or of a
    /// staff member's 403.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let result = self.route(&req).await;
        http::audit(&self.audit, &req, &result).await;
        http::respond(std::future::ready(result)).await
    }

    async fn route(&self, req: &Request) -> HandlerResult {
        let caller = http::principal(req).ok_or_else(ApiError::unauthenticated)?;
        // Staff work for the retailer: what their role allows, with the retailer's view of
        // every subscription (the principal admin's).
        let caller = match caller {
            Principal::Staff { .. } => Principal::Admin {
                name: require_retailer(Some(&caller), &http::route_key(req))?,
            },
            other => other,
        };
        match http::route_key(req).as_str() {
            "GET /webhooks" => self.list(&caller).await,
            "PUT /webhooks/{subscriptionId}" => {
                let id = path_param(req, "subscriptionId")?;
                let scope = format!("PUT /webhooks/{id}#{}", caller.notation());
                let work = || self.put(req, &caller, &id);
                self.idempotency.respond(req, &scope, work).await
            }
            "DELETE /webhooks/{subscriptionId}" => {
                let sub = self.own(req, &caller).await?;
                self.webhooks.delete_subscription(sub.id.as_str()).await?;
                tracing::info!(subscription_id = %sub.id, "webhook subscription deleted");
                Ok(Response::builder()
                    .status(204)
                    .body(Body::Empty)
                    .map_err(anyhow::Error::from)?)
            }
            "GET /webhooks/{subscriptionId}/deliveries" => {
                let sub = self.own(req, &caller).await?;
                let limit = http::limit(req)?;
                let next = http::query_param(req, "nextToken");
                let page = self
                    .webhooks
                    .deliveries(sub.id.as_str(), &sub.generation, limit, next.as_deref())
                    .await?
                    .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not valid"))?;
                let mut body = json!({ "items": page.items });
                if let Some(t) = page.next_token {
                    body["nextToken"] = json!(t);
                }
                json(200, &body)
            }
            "POST /webhooks/{subscriptionId}/deliveries/{deliveryId}/retry" => {
                let sub = self.own(req, &caller).await?;
                let delivery_id = path_param(req, "deliveryId")?;
                self.retry(&sub, &delivery_id).await
            }
            _ => Err(ApiError::not_found("route").into()),
        }
    }

    /// The caller's subscription named in the path; someone else's is not found.
    async fn own(
        &self,
        req: &Request,
        caller: &Principal,
    ) -> Result<Subscription, http::HandlerError> {
        let id = path_param(req, "subscriptionId")?;
        if !dropship_core::ids::is_valid_id(&id) {
            return Err(ApiError::not_found("subscription").into());
        }
        match self.webhooks.subscription(&id).await? {
            Some(s) if s.principal.is_managed_by(caller) => Ok(s),
            _ => Err(ApiError::not_found("subscription").into()),
        }
    }

    async fn list(&self, caller: &Principal) -> HandlerResult {
        let subs = match dropship_core::webhook::Subscriber::of(caller) {
            None => self.webhooks.all_subscriptions().await?,
            Some(me) => self.webhooks.subscriptions_of(&me.notation()).await?,
        };
        let items: Vec<_> = subs.iter().map(|s| s.view(false)).collect();
        json(200, &json!({ "items": items }))
    }

    /// Creates (201, with the secret) or changes (200, without it) a subscription.
    async fn put(
        &self,
        req: &Request,
        caller: &Principal,
        id: &str,
    ) -> Result<StoredResponse, http::HandlerError> {
        let existing = if dropship_core::ids::is_valid_id(id) {
            self.webhooks.subscription(id).await?
        } else {
            None
        };
        if existing
            .as_ref()
            .is_some_and(|s| !s.principal.is_managed_by(caller))
        {
            return Err(ApiError::not_found("subscription").into());
        }
        let body = http::json_body(req)?;
        let request = validate(id, caller, &body, self.allow_local_http)?;
        if let Host::Domain(name) = &request.target.host {
            // Checked once here for a clear 422; every attempt checks again before it connects.
            let addresses = SystemResolver
                .resolve(name, request.target.port)
                .await
                .map_err(|_| {
                    ApiError::invalid("url", format!("url's host {name} does not resolve"))
                })?;
            check_addresses(&addresses, false).map_err(|r| r.to_api_error())?;
        }
        let (status, sub) = match existing {
            Some(existing) => {
                let changed = existing.updated(request)?;
                if !self.webhooks.put_subscription(&changed, false).await? {
                    return Err(ApiError::not_found("subscription").into());
                }
                (200, changed)
            }
            None => {
                let generation = uuid::Uuid::new_v4().simple().to_string();
                let sub = Subscription::new(request, new_secret()?, generation);
                if !self.webhooks.put_subscription(&sub, true).await? {
                    return Err(ApiError::conflict(
                        dropship_core::ErrorCode::InvalidState,
                        format!("subscription {id} was created meanwhile: read it and try again"),
                    )
                    .into());
                }
                (201, sub)
            }
        };
        tracing::info!(subscription_id = %sub.id, principal = %sub.principal.notation(), status, "webhook subscription stored");
        Ok(StoredResponse {
            status,
            body: sub.view(status == 201),
        })
    }

    /// A retry by hand: the delivery is due now and back on the queue, with its `webhook-id`.
    async fn retry(&self, sub: &Subscription, delivery_id: &str) -> HandlerResult {
        let subscription_id = sub.id.as_str();
        let stored = self
            .webhooks
            .delivery(subscription_id, delivery_id)
            .await?
            .filter(|d| d.generation == sub.generation);
        let Some(stored) = stored else {
            return Err(ApiError::not_found("delivery").into());
        };
        let now = Utc::now();
        let mut changed = stored.clone();
        changed.delivery.retry(now)?;
        if !self
            .webhooks
            .update_delivery(&stored.delivery, &changed, now, true)
            .await?
        {
            return Err(ApiError::conflict(
                dropship_core::ErrorCode::InvalidState,
                format!("delivery {delivery_id} is being attempted: read it and try again"),
            )
            .into());
        }
        enqueue(&self.queue, subscription_id, delivery_id).await?;
        json(202, &changed.delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    async fn call(edit: impl FnOnce(&mut serde_json::Value)) -> (u16, serde_json::Value) {
        let api = WebhookApi::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/webhook-api.json")).unwrap();
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
    async fn bad_subscriptions_are_refused_before_anything_is_read_or_written() {
        let field = |v: &serde_json::Value| v["error"]["field"].as_str().map(String::from);
        let (status, e) = call(|v| v["pathParameters"]["subscriptionId"] = json!("bad id")).await;
        assert_eq!(
            (status, field(&e)),
            (422, Some("subscriptionId".into())),
            "{e}"
        );
        let (status, _) = call(|v| {
            v["requestContext"]["authorizer"]["lambda"]
                .as_object_mut()
                .unwrap()
                .remove("principal");
        })
        .await;
        assert_eq!(status, 401, "no principal: no known token");
    }

    #[test]
    fn secrets_are_fresh_and_of_the_documented_form() {
        let a = new_secret().unwrap().reveal();
        let b = new_secret().unwrap().reveal();
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert!(Secret::parse(&a).is_ok());
    }
}
