//! Prices and promotions (docs/api.md "Prices and promotions"): the price memory per channel
//! and sku, append-only once a price has begun, and the promotions, whose terms freeze once they
//! have begun. The rules are `dropship_core::pricing`'s; this file reads, checks and writes
//! with the version it read, trying again when another admin wrote in between.

use crate::AdminApi;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, Utc};
use dropship_app::retry::ATTEMPTS;
use dropship_aws::http::{json, json_body, limit, path_param, query_param, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_aws::repo::catalogue::StoredPromotion;
use dropship_aws::repo::{decode_next_token, encode_next_token, Item};
use dropship_core::catalogue::{from_body, local_date};
use dropship_core::error::ErrorCode;
use dropship_core::ids::{ChannelId, Sku};
use dropship_core::pricing::{check_change, PriceInput, PricePeriod, PromotionInput};
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::{json, Value};

/// A price with its period as the API shows it.
fn period_view(p: &PricePeriod<'_>) -> Value {
    let mut v = json!({
        "amount": p.price.amount,
        "validFrom": p.price.valid_from,
        "createdAt": p.price.created_at,
        "createdBy": p.price.created_by,
    });
    if let Some(to) = p.valid_to {
        v["validTo"] = json!(to);
    }
    v
}

/// A stored promotion as the API shows it: what was PUT, with `updatedAt` and `updatedBy`.
fn promotion_view(p: &StoredPromotion) -> Value {
    let mut v = json!(p.promotion);
    v["updatedAt"] = json!(p.updated_at);
    v["updatedBy"] = json!(p.updated_by);
    v
}

fn too_busy(what: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::ConcurrentModification,
        format!("{what} kept changing while this request wrote it; try again"),
    )
}

impl AdminApi {
    /// Today in the retailer's time zone: prices and promotions begin and end on its dates.
    async fn today(&self) -> anyhow::Result<NaiveDate> {
        let zone = self
            .catalogue
            .get_branding()
            .await?
            .map_or_else(|| "Europe/Berlin".to_string(), |b| b.time_zone);
        Ok(local_date(Utc::now(), &zone))
    }

    /// The channel and sku of a price route; 404 for a channel or product that does not
    /// exist (an id that could not be one does not exist either).
    async fn priced(&self, req: &Request) -> Result<(ChannelId, Sku), ApiError> {
        let channel = ChannelId::parse("channelId", path_param(req, "channelId")?)
            .map_err(|_| ApiError::not_found("channel"))?;
        let sku = Sku::parse("sku", path_param(req, "sku")?)
            .map_err(|_| ApiError::not_found("product"))?;
        let (known_channel, products) = tokio::try_join!(
            self.catalogue.get_channel(channel.as_str()),
            self.catalogue.get_products([sku.to_string()])
        )
        .map_err(|e| {
            tracing::error!("{e:#}");
            ApiError::internal()
        })?;
        if known_channel.is_none() {
            return Err(ApiError::not_found("channel"));
        }
        if products.is_empty() {
            return Err(ApiError::not_found("product"));
        }
        Ok((channel, sku))
    }

    /// `POST /admin/prices/{channelId}/{sku}`: adds a price; a repeat with the same
    /// idempotency key gets the first answer.
    pub(crate) async fn add_price(&self, req: &Request, admin: &str) -> HandlerResult {
        let (channel, sku) = self.priced(req).await?;
        let body = json_body(req)?;
        let scope = format!("POST /admin/prices/{channel}/{sku}#admin");
        let work = || async {
            let price = from_body::<PriceInput>(body)?.validate(admin, Utc::now())?;
            let today = self.today().await?;
            for _ in 0..ATTEMPTS {
                let mut stored = self.catalogue.prices(&channel, &sku).await?;
                stored
                    .history
                    .append(price.clone(), today)
                    .map_err(ApiError::from)?;
                if self
                    .catalogue
                    .put_prices(&channel, &sku, &stored.history, stored.version)
                    .await?
                {
                    let added = stored
                        .history
                        .periods()
                        .into_iter()
                        .find(|p| p.price.valid_from == price.valid_from)
                        .map(|p| period_view(&p))
                        .unwrap_or_default();
                    let mut body = json!({"channelId": channel, "sku": sku});
                    if let (Some(b), Some(a)) = (body.as_object_mut(), added.as_object()) {
                        b.extend(a.clone());
                    }
                    return Ok(StoredResponse { status: 201, body });
                }
            }
            Err(too_busy("the price history").into())
        };
        self.idempotency.respond(req, &scope, work).await
    }

    /// `GET /admin/prices/{channelId}/{sku}`: the history oldest first, or with `?at=` the
    /// price of that day (404 when none had begun by then).
    pub(crate) async fn prices(&self, req: &Request) -> HandlerResult {
        let (channel, sku) = self.priced(req).await?;
        let at = query_param(req, "at")
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| ApiError::invalid("at", "at must be a date YYYY-MM-DD"))
            })
            .transpose()?;
        let stored = self.catalogue.prices(&channel, &sku).await?;
        match at {
            Some(day) => match stored.history.price_on(day) {
                Some(p) => json(200, &period_view(&p)),
                None => Err(ApiError::not_found("price on that date").into()),
            },
            None => {
                let items: Vec<Value> = stored.history.periods().iter().map(period_view).collect();
                json(200, &json!({"items": items}))
            }
        }
    }

    /// `PUT /admin/promotions/{promotionId}`: creates or changes a promotion; once it has
    /// begun only `validTo` may change (409 `promotion_begun`).
    pub(crate) async fn put_promotion(&self, req: &Request, admin: &str) -> HandlerResult {
        let promotion = from_body::<PromotionInput>(json_body(req)?)?
            .validate(&path_param(req, "promotionId")?)?;
        let today = self.today().await?;
        for _ in 0..ATTEMPTS {
            let old = self.catalogue.promotion(&promotion.id).await?;
            if let Some(old) = &old {
                check_change(&old.promotion, &promotion, today).map_err(ApiError::from)?;
            }
            let stored = StoredPromotion {
                promotion: promotion.clone(),
                updated_at: Utc::now(),
                updated_by: admin.to_string(),
                version: old.map_or(1, |o| o.version + 1),
            };
            if self.catalogue.put_promotion(&stored).await? {
                return json(200, &promotion_view(&stored));
            }
        }
        Err(too_busy("the promotion").into())
    }

    /// `GET /admin/promotions/{promotionId}`
    pub(crate) async fn promotion(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "promotionId")?;
        match self.catalogue.promotion(&id).await? {
            Some(p) => json(200, &promotion_view(&p)),
            None => Err(ApiError::not_found("promotion").into()),
        }
    }

    /// `GET /admin/promotions?active=&limit=&nextToken=`: by id. Active: not ended before
    /// today (running or still to come).
    pub(crate) async fn list_promotions(&self, req: &Request) -> HandlerResult {
        let active = match query_param(req, "active").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(ApiError::invalid("active", "active must be true or false").into())
            }
        };
        let limit = usize::try_from(limit(req)?).unwrap_or(50);
        let after = query_param(req, "nextToken")
            .map(|t| {
                decode_next_token(&t)
                    .and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned())
                    .ok_or_else(|| {
                        ApiError::invalid("nextToken", "nextToken is not one this list gave")
                    })
            })
            .transpose()?;
        let today = self.today().await?;
        let mut all = self.catalogue.promotions().await?;
        all.sort_by(|a, b| a.promotion.id.cmp(&b.promotion.id));
        let chosen: Vec<&StoredPromotion> = all
            .iter()
            .filter(|p| after.as_ref().is_none_or(|a| p.promotion.id > *a))
            .filter(|p| {
                active.is_none_or(|want| p.promotion.valid_to.is_none_or(|to| to >= today) == want)
            })
            .collect();
        let page: Vec<Value> = chosen
            .iter()
            .take(limit)
            .map(|p| promotion_view(p))
            .collect();
        let mut body = json!({"items": page});
        if chosen.len() > limit {
            let last = &chosen[limit - 1].promotion.id;
            let key = Item::from([("sk".to_string(), AttributeValue::S(last.clone()))]);
            body["nextToken"] = json!(encode_next_token(&key));
        }
        json(200, &body)
    }
}
