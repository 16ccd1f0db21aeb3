//! The refund policy: how refunds are split over payments, and how long returns are accepted
//! (its window is the process settings' `returns.windowDays`).

use crate::money::Allocation;
use crate::ApiError;
use serde::{Deserialize, Serialize};

/// How refunds are split over payments and how long returns are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPolicy {
    pub allocation: Allocation,
    pub return_window_days: u32,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        Self {
            allocation: Allocation::ProRata,
            return_window_days: 14,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundPolicyInput {
    pub allocation: Option<Allocation>,
    pub return_window_days: Option<u32>,
}

impl RefundPolicyInput {
    pub fn validate(self) -> Result<RefundPolicy, ApiError> {
        let return_window_days = self.return_window_days.unwrap_or(14);
        // 0 closes returns through the channel (customer service may still ignore the window).
        if return_window_days > 365 {
            return Err(ApiError::invalid(
                "returnWindowDays",
                "returnWindowDays must be 0..365",
            ));
        }
        Ok(RefundPolicy {
            allocation: self.allocation.unwrap_or_default(),
            return_window_days,
        })
    }
}
