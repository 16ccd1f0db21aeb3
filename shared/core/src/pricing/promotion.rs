//! Promotions: what they give (`percent_off`, `multi_buy`, `order_threshold`), to which units
//! (channels, skus, groups) and when (validity); their validation, and the rule that a begun
//! promotion keeps its terms.

use super::Refusal;
use crate::ids::{check_id, check_text, ChannelId, Sku};
use crate::money::Money;
use crate::order::MAX_QUANTITY;
use crate::ApiError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a promotion gives. On the wire `kind` names it, its terms beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromotionKind {
    /// Each eligible unit costs `round(price x percent / 100)` less.
    PercentOff { percent: Decimal },
    /// Of every `buy` eligible units (most expensive first) the last `buy - pay` are free.
    MultiBuy { buy: u32, pay: u32 },
    /// `amount` off when the eligible units reach `minOrderValue` after the earlier steps.
    #[serde(rename_all = "camelCase")]
    OrderThreshold {
        min_order_value: Money,
        amount: Money,
    },
}

impl PromotionKind {
    /// Promotions apply kind by kind in this sequence.
    pub(super) fn step(&self) -> u8 {
        match self {
            PromotionKind::PercentOff { .. } => 0,
            PromotionKind::MultiBuy { .. } => 1,
            PromotionKind::OrderThreshold { .. } => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: PromotionKind,
    /// None named: every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelId>,
    /// A unit is eligible when its sku or its group is named; neither named: every product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<Sku>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

impl Promotion {
    /// The checks that need nothing but the promotion itself (422 naming the field).
    pub fn validate(&self) -> Result<(), ApiError> {
        check_id("promotionId", &self.id)?;
        check_text("name", &self.name, 200)?;
        for (i, g) in self.groups.iter().enumerate() {
            check_text(&format!("groups[{i}]"), g, 200)?;
        }
        match self.kind {
            PromotionKind::PercentOff { percent } => {
                if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED || percent.scale() > 2
                {
                    return Err(ApiError::invalid(
                        "percent",
                        "percent must be more than 0 and at most 100, with at most 2 decimals",
                    ));
                }
            }
            PromotionKind::MultiBuy { buy, pay } => {
                if buy <= pay || u64::from(buy) > MAX_QUANTITY {
                    return Err(ApiError::invalid(
                        "buy",
                        format!("buy must be more than pay and at most {MAX_QUANTITY}"),
                    ));
                }
            }
            PromotionKind::OrderThreshold {
                min_order_value,
                amount,
            } => {
                if amount > min_order_value {
                    return Err(ApiError::invalid(
                        "amount",
                        "amount must not be more than minOrderValue",
                    ));
                }
            }
        }
        if self.valid_to.is_some_and(|to| to < self.valid_from) {
            return Err(ApiError::invalid(
                "validTo",
                "validTo must not be before validFrom",
            ));
        }
        Ok(())
    }

    /// True when the promotion is valid on `date` (both ends included).
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }

    /// True when it applies to orders of `channel`.
    pub fn for_channel(&self, channel: &ChannelId) -> bool {
        self.channels.is_empty() || self.channels.contains(channel)
    }

    /// True when a unit of `sku` in `group` is eligible.
    pub fn covers(&self, sku: &Sku, group: &str) -> bool {
        (self.skus.is_empty() && self.groups.is_empty())
            || self.skus.contains(sku)
            || self.groups.iter().any(|g| g == group)
    }
}

/// The promotions that apply to an order of `channel` dated `date`.
pub fn in_force<'a>(
    promotions: &'a [Promotion],
    channel: &ChannelId,
    date: NaiveDate,
) -> Vec<&'a Promotion> {
    promotions
        .iter()
        .filter(|p| p.valid_on(date) && p.for_channel(channel))
        .collect()
}

/// Whether `new` may replace `old` as of `today`. A promotion that has begun keeps its terms:
/// only `validTo` may change, and only so that every day before today stays as it was (orders
/// of those days were priced by it). One that has not begun may change in every way.
pub fn check_change(old: &Promotion, new: &Promotion, today: NaiveDate) -> Result<(), Refusal> {
    if old.valid_from > today {
        return Ok(());
    }
    let refuse = |field: &'static str| {
        Err(Refusal::PromotionBegun {
            id: old.id.clone(),
            field,
        })
    };
    let changed = [
        ("name", new.name != old.name),
        ("kind", new.kind != old.kind),
        ("channels", new.channels != old.channels),
        ("skus", new.skus != old.skus),
        ("groups", new.groups != old.groups),
        ("validFrom", new.valid_from != old.valid_from),
    ];
    if let Some((field, _)) = changed.iter().find(|(_, differs)| *differs) {
        return refuse(field);
    }
    // The last day before today the promotion was valid on; a new validTo must leave it so.
    let yesterday = today.pred_opt().unwrap_or(today);
    let last_past_day = |to: Option<NaiveDate>| to.map_or(yesterday, |to| to.min(yesterday));
    if last_past_day(new.valid_to) != last_past_day(old.valid_to) {
        return refuse("validTo");
    }
    Ok(())
}
