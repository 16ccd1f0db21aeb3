//! Prices and promotions (docs/api.md "Prices and promotions"): the retailer's price memory per
//! (channel, sku), the promotions with their validity and eligibility, applying both to an
//! order's lines, and what the conditional benefits withdraw from a refund. Pure rules, no I/O:
//! storage and the HTTP routes build on these functions.

mod apply;
mod benefits;
mod history;
mod input;
mod intake;
mod promotion;

pub use crate::catalogue::PriceCheck;
pub use crate::order::{AppliedPromotions, Benefit, BenefitRule, LineTerms};
pub use apply::{apply, LineToPrice, PricedLine, PricedOrder};
pub use benefits::{withdrawn, withdrawn_by_benefit};
pub use history::{Price, PriceHistory, PricePeriod};
pub use input::{PriceInput, PromotionInput};
pub use intake::{lines_to_price, unit_price, OrderedLine};
pub use promotion::{check_change, in_force, Promotion, PromotionKind};

use crate::error::ErrorCode;
use crate::money::Money;
use crate::ApiError;
use chrono::NaiveDate;

/// What the pricing rules refuse with an error code of their own (not `validation_failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A price that has begun (or would begin in the past) never changes.
    #[error("prices that have begun never change: validFrom must be after {today}")]
    PriceHistoryImmutable { today: NaiveDate },
    /// A promotion that has begun keeps its terms; only `validTo` may change, and not for days
    /// that have passed.
    #[error("promotion {id} has begun: only validTo may change, and not for days that have passed ({field})")]
    PromotionBegun { id: String, field: &'static str },
    /// A line without a price (or, under `priceCheck: reject`, any line) whose sku has no list
    /// price on the order date.
    #[error("{sku} has no list price on the order date")]
    NoPrice { field: String, sku: String },
    /// Under `priceCheck: reject`, a given unit price that is not the list price.
    #[error("unitPrice {given} differs from the list price {list}")]
    PriceMismatch {
        field: String,
        given: Money,
        list: Money,
    },
}

impl Refusal {
    /// The error code the API answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::PriceHistoryImmutable { .. } => ErrorCode::PriceHistoryImmutable,
            Refusal::PromotionBegun { .. } => ErrorCode::PromotionBegun,
            Refusal::NoPrice { .. } => ErrorCode::NoPrice,
            Refusal::PriceMismatch { .. } => ErrorCode::PriceMismatch,
        }
    }

    /// The HTTP status: 409 for what has begun, 422 for an order's prices.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::PriceHistoryImmutable { .. } | Refusal::PromotionBegun { .. } => 409,
            Refusal::NoPrice { .. } | Refusal::PriceMismatch { .. } => 422,
        }
    }

    /// The field the error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Refusal::PriceHistoryImmutable { .. } => Some("validFrom"),
            Refusal::PromotionBegun { field, .. } => Some(field),
            Refusal::NoPrice { field, .. } | Refusal::PriceMismatch { field, .. } => Some(field),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let e = ApiError::new(r.status(), r.code(), r.to_string());
        match r.field() {
            Some(f) => e.at(f),
            None => e,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
