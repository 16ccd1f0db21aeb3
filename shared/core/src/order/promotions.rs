//! What the promotions gave an order, recorded with it at intake (`crate::pricing` makes it):
//! every term the refund rule needs, so that a refund never reads the promotions as they are
//! later. Data only; the rules are in `crate::pricing`.

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// What the promotions did to an order, recorded with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotions {
    /// One per order line, in the order's line order.
    pub lines: Vec<LineTerms>,
    /// Every conditional promotion that gave the order something.
    pub benefits: Vec<Benefit>,
}

/// The promotion terms of one line's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineTerms {
    /// The unit price after percent_off (the unit price when none applied).
    pub unit_price_after_percent_off: Money,
    /// The multi_buy that took the line's units, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_buy: Option<String>,
    /// The order_threshold that took the line's units, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_threshold: Option<String>,
}

/// A conditional promotion the order earned: its id (the `code` of its discount shares), its
/// terms, and what the whole order earned (F: free units of a multi_buy, 1 for a threshold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Benefit {
    pub code: String,
    #[serde(flatten)]
    pub rule: BenefitRule,
    pub earned: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BenefitRule {
    MultiBuy {
        buy: u32,
        pay: u32,
    },
    #[serde(rename_all = "camelCase")]
    OrderThreshold {
        min_order_value: Money,
        amount: Money,
    },
}
