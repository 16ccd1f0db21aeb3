//! Prices and promotions (docs/api.md "Prices and promotions"): the retailer's price memory per
//! (channel, sku), the promotions with their validity and eligibility, applying both to an
//! order's lines, and what the conditional benefits withdraw from a refund. Pure rules, no I/O:
//! storage and the HTTP routes build on these functions.

mod apply;
mod benefits;
mod history;
mod promotion;

pub use apply::{apply, LineToPrice, PricedLine, PricedOrder};
pub use benefits::{withdrawn, AppliedPromotions, Benefit, BenefitRule, LineTerms};
pub use history::{Price, PriceHistory, PricePeriod};
pub use promotion::{check_change, in_force, Promotion, PromotionKind};

use chrono::NaiveDate;

/// A change the rules refuse because it would rewrite what has already begun (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A price that has begun (or would begin in the past) never changes.
    #[error("prices that have begun never change: validFrom must be after {today}")]
    PriceHistoryImmutable { today: NaiveDate },
    /// A promotion that has begun keeps its terms; only `validTo` may change, and not for days
    /// that have passed.
    #[error("promotion {id} has begun: only validTo may change, and not for days that have passed ({field})")]
    PromotionBegun { id: String, field: &'static str },
}

impl Refusal {
    /// The error code the API answers with (status 409).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::PriceHistoryImmutable { .. } => "price_history_immutable",
            Refusal::PromotionBegun { .. } => "promotion_begun",
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
