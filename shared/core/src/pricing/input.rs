//! The bodies of the price and promotion routes: read by serde (unknown fields refused), then
//! checked into a `Price` or a `Promotion`, each refusal naming its field.

use super::{Price, Promotion, PromotionKind};
use crate::ids::{ChannelId, Sku};
use crate::money::Money;
use crate::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

/// `POST /admin/prices/{channelId}/{sku}`: `{amount, validFrom}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceInput {
    #[serde(default)]
    amount: Value,
    valid_from: NaiveDate,
}

impl PriceInput {
    /// The price as entered by `by` at `now`: gross, not negative, at most two decimals.
    pub fn validate(self, by: &str, now: DateTime<Utc>) -> Result<Price, ApiError> {
        Ok(Price {
            amount: Money::parse_amount("amount", &self.amount)?,
            valid_from: self.valid_from,
            created_at: now,
            created_by: by.to_string(),
        })
    }
}

/// What a promotion gives, named on the wire by `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    PercentOff,
    MultiBuy,
    OrderThreshold,
}

/// `PUT /admin/promotions/{promotionId}`: the promotion's terms beside its `kind`; a term of
/// another kind is refused rather than ignored, so that a typo never changes what is given.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionInput {
    name: String,
    kind: KindName,
    percent: Option<Decimal>,
    buy: Option<u32>,
    pay: Option<u32>,
    #[serde(default)]
    min_order_value: Value,
    #[serde(default)]
    amount: Value,
    #[serde(default)]
    channels: Vec<ChannelId>,
    #[serde(default)]
    skus: Vec<Sku>,
    #[serde(default)]
    groups: Vec<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

impl PromotionInput {
    /// The promotion `id` as given, checked (`Promotion::validate`).
    pub fn validate(self, id: &str) -> Result<Promotion, ApiError> {
        let given = |present: bool, field: &str| -> Result<(), ApiError> {
            if present {
                Err(ApiError::invalid(
                    field,
                    format!("{field} is not a term of a {:?} promotion", self.kind),
                ))
            } else {
                Ok(())
            }
        };
        let required = |field: &str| ApiError::required(field, format!("{field} is required"));
        let money_given = !self.min_order_value.is_null() || !self.amount.is_null();
        let kind = match self.kind {
            KindName::PercentOff => {
                given(self.buy.is_some() || self.pay.is_some(), "buy")?;
                given(money_given, "amount")?;
                PromotionKind::PercentOff {
                    percent: self.percent.ok_or_else(|| required("percent"))?,
                }
            }
            KindName::MultiBuy => {
                given(self.percent.is_some(), "percent")?;
                given(money_given, "amount")?;
                PromotionKind::MultiBuy {
                    buy: self.buy.ok_or_else(|| required("buy"))?,
                    pay: self.pay.ok_or_else(|| required("pay"))?,
                }
            }
            KindName::OrderThreshold => {
                given(self.percent.is_some(), "percent")?;
                given(self.buy.is_some() || self.pay.is_some(), "buy")?;
                PromotionKind::OrderThreshold {
                    min_order_value: Money::parse_amount("minOrderValue", &self.min_order_value)?,
                    amount: Money::parse_amount("amount", &self.amount)?,
                }
            }
        };
        let promotion = Promotion {
            id: id.to_string(),
            name: self.name,
            kind,
            channels: self.channels,
            skus: self.skus,
            groups: self.groups,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        };
        promotion.validate()?;
        Ok(promotion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::from_body;
    use serde_json::json;

    fn promotion(body: Value) -> Result<Promotion, ApiError> {
        from_body::<PromotionInput>(body)?.validate("SPRING-3FOR2")
    }

    #[test]
    fn a_promotion_takes_the_terms_of_its_kind_only() {
        let p = promotion(
            json!({"name": "3 for 2", "kind": "multi_buy", "buy": 3, "pay": 2,
            "skus": ["CHAIR-TEAK"], "validFrom": "2026-12-01"}),
        )
        .unwrap();
        assert_eq!(p.kind, PromotionKind::MultiBuy { buy: 3, pay: 2 });
        assert_eq!(p.id, "SPRING-3FOR2");

        let e = promotion(json!({"name": "x", "kind": "multi_buy", "buy": 3, "pay": 2,
            "percent": "10", "validFrom": "2026-12-01"}))
        .unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some("percent")));

        let e = promotion(json!({"name": "x", "kind": "order_threshold",
            "minOrderValue": "100.00", "validFrom": "2026-12-01"}))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));

        let e = promotion(json!({"name": "x", "kind": "percent_off", "percent": "10",
            "validFrom": "2026-12-01", "colour": "red"}))
        .unwrap_err();
        assert_eq!(e.status, 422, "{e}");
    }

    #[test]
    fn a_price_is_a_string_amount_not_below_zero() {
        let now = Utc::now();
        let price = |v: Value| from_body::<PriceInput>(v)?.validate("Erika", now);
        let p = price(json!({"amount": "129.00", "validFrom": "2026-12-01"})).unwrap();
        assert_eq!(
            (p.amount.to_string(), p.created_by.as_str()),
            ("129.00".into(), "Erika")
        );
        for bad in [json!("-1.00"), json!(12.5), json!("1.005"), Value::Null] {
            let e = price(json!({"amount": bad, "validFrom": "2026-12-01"})).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("amount"), "{bad}");
        }
        let e = price(json!({"amount": "1.00", "validFrom": "1st of May"})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("validFrom"));
    }
}
