//! The price memory of one (channel, sku): every price that ever applied, each valid from its
//! `validFrom` up to the day before the next one. Prices that have begun never change, so an
//! order can always be priced, and refunded, by the price of its own date.

use super::Refusal;
use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One price as it was entered: gross, in the channel's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub amount: Money,
    pub valid_from: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A price with the end of its period: the day before the next price begins (none for the
/// latest price).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricePeriod<'a> {
    pub price: &'a Price,
    pub valid_to: Option<NaiveDate>,
}

/// The prices of one (channel, sku), oldest first, no two with the same `validFrom`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceHistory {
    prices: Vec<Price>,
}

impl PriceHistory {
    /// The history from stored prices, in any order. Should two share a `validFrom` (which
    /// `append` never lets happen) the later one in `prices` stands.
    pub fn new(prices: Vec<Price>) -> Self {
        let mut history = PriceHistory::default();
        for p in prices {
            history.put(p);
        }
        history
    }

    /// The prices, oldest first.
    pub fn prices(&self) -> &[Price] {
        &self.prices
    }

    /// Adds `price` as of `today` (the retailer's date). Its `validFrom` must be after today,
    /// except for the first price, which may start today; a price not yet begun with the same
    /// `validFrom` is replaced. Anything else would change a period that has begun.
    pub fn append(&mut self, price: Price, today: NaiveDate) -> Result<(), Refusal> {
        let allowed = if self.prices.is_empty() {
            price.valid_from >= today
        } else {
            price.valid_from > today
        };
        if !allowed {
            return Err(Refusal::PriceHistoryImmutable { today });
        }
        self.put(price);
        Ok(())
    }

    /// The price in force on `date` with its period, if any price had begun by then.
    pub fn price_on(&self, date: NaiveDate) -> Option<PricePeriod<'_>> {
        let i = self.prices.partition_point(|p| p.valid_from <= date);
        i.checked_sub(1).map(|i| self.period(i))
    }

    /// Every price with its period, oldest first.
    pub fn periods(&self) -> Vec<PricePeriod<'_>> {
        (0..self.prices.len()).map(|i| self.period(i)).collect()
    }

    fn period(&self, i: usize) -> PricePeriod<'_> {
        PricePeriod {
            price: &self.prices[i],
            valid_to: self
                .prices
                .get(i + 1)
                .and_then(|next| next.valid_from.pred_opt()),
        }
    }

    /// Inserts in `validFrom` order, replacing a price with the same `validFrom`.
    fn put(&mut self, price: Price) {
        match self
            .prices
            .binary_search_by_key(&price.valid_from, |p| p.valid_from)
        {
            Ok(i) => self.prices[i] = price,
            Err(i) => self.prices.insert(i, price),
        }
    }
}
