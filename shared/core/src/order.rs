//! Orders: the channel's request validated into an order with its full money breakdown
//! (docs/api.md "Money rules": discount allocation, paid, tax per line, shipping tax, totals).

use crate::catalogue::{Address, Locale, TaxClass, TaxRates};
use crate::ids::{ChannelId, Currency, OrderId, Sku};
use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: u64 = crate::input::MAX_UNITS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Accepted,
    Routed,
    Backordered,
    PartiallyShipped,
    Shipped,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    Paypal,
    Invoice,
    GiftCard,
    BonusPoints,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub email: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    pub code: String,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_value: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub method: PaymentMethod,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountShare {
    pub code: String,
    pub amount: Money,
}

/// Units of one order line named in a request (`{lineId, quantity}`: cancel, replace) or a
/// plan's result.
#[derive(Clone, PartialEq, Eq)]
pub struct LineQuantity {
    pub line_id: String,
    pub quantity: u32,
}

impl LineQuantity {
    pub fn new(line_id: impl Into<String>, quantity: u32) -> Self {
        Self {
            line_id: line_id.into(),
            quantity,
        }
    }
}

debug_as_tuple!(LineQuantity, line_id, quantity);

/// Exact unit counts of a line by state; they always add up to the line's quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Quantities {
    pub open: u32,
    pub backordered: u32,
    pub shipped: u32,
    pub cancelled: u32,
    pub returned: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Open,
    Backordered,
    Shipped,
    Cancelled,
    Returned,
}

impl Quantities {
    /// The state of most units (ties go to the earlier state in docs/api.md's list).
    pub fn status(&self) -> LineStatus {
        let all = [
            (self.open, LineStatus::Open),
            (self.backordered, LineStatus::Backordered),
            (self.shipped, LineStatus::Shipped),
            (self.cancelled, LineStatus::Cancelled),
            (self.returned, LineStatus::Returned),
        ];
        let max = all.iter().map(|(n, _)| *n).max().unwrap_or(0);
        all.iter()
            .find(|(n, _)| *n == max)
            .map(|(_, s)| *s)
            .unwrap_or(LineStatus::Open)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub line_id: String,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub gross: Money,
    pub discount_share: Money,
    pub discount_shares: Vec<DiscountShare>,
    pub paid: Money,
    pub tax_class: TaxClass,
    /// The summary rate: the rate of most of the line's units (on a tie the latest supply's);
    /// `taxes()` has the rate of every unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// The sum of the line's taxes per rate period (`taxes()`).
    pub tax: Money,
    pub quantities: Quantities,
    /// Of `quantities.cancelled`, the units the customer cancelled (the rest the system could
    /// not route); the refund rules count the system's cancellations as kept (docs/api.md "W").
    #[serde(default)]
    pub cancelled_by_customer: u32,
    /// The rate on the order date: the rate of every unit not (yet) supplied at another one.
    /// Orders stored before supplies were recorded lack it; their `tax_rate` is that rate.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub order_date_rate: Option<Decimal>,
    /// Every shipment of the line's units, in the order they shipped: the supply dates that
    /// decide the units' VAT (docs/api.md). Empty on orders stored before they were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplies: Vec<Supply>,
}

/// Units of a line shipped in one shipment. `rate` is set once the document generator (which
/// knows the retailer's time zone and the configured rates) found the supply date in another
/// rate period than the order date; `None` means the order date's rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Supply {
    pub shipment_id: String,
    pub delivery_order_id: String,
    pub shipped_at: DateTime<Utc>,
    pub units: u32,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub rate: Option<Decimal>,
}

/// Units of a line taxed at one rate, in the sequence the cumulative rule splits `paid` over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateGroup {
    pub rate: Decimal,
    pub units: u32,
}

/// A line's units of one rate period with their share of `paid` (`net + tax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodTax {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub units: u32,
    pub net: Money,
    pub tax: Money,
}

impl PeriodTax {
    /// What these units paid: `net + tax`.
    pub fn gross(&self) -> Money {
        self.net + self.tax
    }
}

/// The one rule for a line's VAT over its supply periods (docs/api.md "Money rules"): `paid` is split
/// over the groups cumulatively, so the shares always add up to `paid` whatever the grouping
/// (group share = round(paid x cumUnits / q) - round(paid x prevCumUnits / q)), and each group's
/// tax is `round(share x rate / (1 + rate))`. Groups without units are left out.
pub fn taxes_per_period(paid: Money, quantity: u32, groups: &[RateGroup]) -> Vec<PeriodTax> {
    let q = Decimal::from(quantity.max(1));
    let mut before = 0u32;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups.iter().filter(|g| g.units > 0) {
        let upto = before + g.units;
        let share = paid.pro_rata(Decimal::from(upto), q) - paid.pro_rata(Decimal::from(before), q);
        let tax = tax_of(share, g.rate);
        out.push(PeriodTax {
            rate: g.rate.normalize(),
            units: g.units,
            net: share - tax,
            tax,
        });
        before = upto;
    }
    out
}

impl OrderLine {
    /// What one discount or promotion (`code`) took off this line.
    pub fn share_of(&self, code: &str) -> Money {
        self.discount_shares
            .iter()
            .filter(|s| s.code == code)
            .map(|s| s.amount)
            .sum()
    }

    /// The rate on the order date (see `order_date_rate`).
    pub fn rate_at_order_date(&self) -> Decimal {
        self.order_date_rate.unwrap_or(self.tax_rate).normalize()
    }

    /// The rate a supply's units carry.
    pub fn rate_of(&self, supply: &Supply) -> Decimal {
        supply
            .rate
            .map(|r| r.normalize())
            .unwrap_or_else(|| self.rate_at_order_date())
    }

    /// The line's units by rate: first every unit at the order date's rate (not yet shipped,
    /// cancelled (never supplied), or shipped in the same period), then each other rate in the
    /// order of its first shipment.
    pub fn rate_groups(&self) -> Vec<RateGroup> {
        let at_order = self.rate_at_order_date();
        let mut groups = vec![RateGroup {
            rate: at_order,
            units: self.quantity,
        }];
        for s in &self.supplies {
            let rate = self.rate_of(s);
            if rate == at_order {
                continue;
            }
            let units = s.units.min(groups[0].units);
            groups[0].units -= units;
            match groups.iter_mut().skip(1).find(|g| g.rate == rate) {
                Some(g) => g.units += units,
                None => groups.push(RateGroup { rate, units }),
            }
        }
        groups
    }

    /// The line's tax per rate period (one element when all units share one rate).
    pub fn taxes(&self) -> Vec<PeriodTax> {
        taxes_per_period(self.paid, self.quantity, &self.rate_groups())
    }

    /// The summary of the periods: the rate of most units (on a tie the later period's) and
    /// the sum of the periods' taxes (what `tax_rate` and `tax` hold).
    pub fn summary(&self) -> (Decimal, Money) {
        let taxes = self.taxes();
        // max_by_key keeps the last of equal maxima: the later period wins a tie.
        let rate = taxes
            .iter()
            .max_by_key(|t| t.units)
            .map(|t| t.rate)
            .unwrap_or(self.tax_rate);
        (rate, taxes.iter().map(|t| t.tax).sum())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxLine {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub net: Money,
    pub tax: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub merchandise: Money,
    pub discount: Money,
    pub shipping: Money,
    pub shipping_tax: Money,
    pub total: Money,
    pub tax: Vec<TaxLine>,
    pub refunded: Money,
    pub due: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub channel_id: ChannelId,
    pub external_id: String,
    pub status: OrderStatus,
    pub currency: Currency,
    pub customer: Customer,
    pub shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    pub ordered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
    pub discounts: Vec<Discount>,
    pub shipping_cost: Money,
    pub payments: Vec<Payment>,
    pub totals: Totals,
    // No `refunds` field: the ledger is a refund's one record (`ledger::refunds`). Orders
    // stored by older builds still carry one; serde skips it on read, as any unknown field.
    /// Every money movement; the totals' `refunded` and `due` are derived from it.
    #[serde(default)]
    pub ledger: Vec<LedgerEntry>,
    pub history: Vec<HistoryEntry>,
    /// Optimistic-concurrency version: every write is conditional on the version it read.
    #[serde(default)]
    pub version: u64,
    /// Routing rounds done so far (the first routes the order; later ones re-route).
    #[serde(default)]
    pub routing_round: u32,
    /// Its delivery orders, written in the same transaction as they are: read by id with
    /// consistent reads, never from an eventually consistent index.
    #[serde(default)]
    pub delivery_order_ids: Vec<String>,
    /// Its returns, written in the same transaction as they are (read with consistent reads).
    #[serde(default)]
    pub return_ids: Vec<String>,
    /// A hash of the Idempotency-Key and body the order came with: a repeat of that very request
    /// after a crash (its idempotency record already expired) finds this order again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_key: Option<String>,
    /// Free replacement delivery orders (not among `delivery_order_ids`).
    #[serde(default)]
    pub replacements: Vec<Replacement>,
    /// What the promotions gave the order (per line and per conditional benefit), recorded at
    /// intake so that refunds never read the promotions as they are later; absent when none
    /// applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotions: Option<AppliedPromotions>,
    /// When the order was last written (`change_feed::next_update_time`): later than every
    /// earlier write's, so the change feed lists its changes in the order they were committed.
    /// Stamped by the store on every write; absent on orders last written before the feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Order {
    /// Derives the order status from the line quantities (docs/api.md: the first that applies).
    pub fn derive_status(&self, routed: bool) -> OrderStatus {
        let sum =
            |f: fn(&Quantities) -> u32| self.lines.iter().map(|l| f(&l.quantities)).sum::<u32>();
        let (open, backordered, shipped, cancelled, returned) = (
            sum(|q| q.open),
            sum(|q| q.backordered),
            sum(|q| q.shipped),
            sum(|q| q.cancelled),
            sum(|q| q.returned),
        );
        let total: u32 = self.lines.iter().map(|l| l.quantity).sum();
        if cancelled == total {
            OrderStatus::Cancelled
        } else if !routed {
            OrderStatus::Accepted
        } else if backordered > 0 {
            OrderStatus::Backordered
        } else if shipped + returned > 0 && open > 0 {
            OrderStatus::PartiallyShipped
        } else if shipped + returned > 0 {
            OrderStatus::Shipped
        } else {
            OrderStatus::Routed
        }
    }

    pub fn record(&mut self, at: DateTime<Utc>, who: impl Into<String>, what: impl Into<String>) {
        self.history.push(HistoryEntry {
            at,
            who: who.into(),
            what: what.into(),
        });
    }
}

mod records;
pub use records::*;

// Kept here too: the order's money rules were long reached through `order::`.
pub use crate::money::{allocate, tax_of};

/// Tax per rate over the lines' rate periods plus the shipping cost's tax. Shipping is an
/// ancillary service with no supply date of its own: it follows the goods, its tax split over
/// the rates pro rata to what the units paid at each rate (remainder to the largest share,
/// docs/api.md), so a shipment into another rate period moves that part of it too.
pub fn tax_summary(lines: &[OrderLine], shipping: Money) -> (Vec<TaxLine>, Money) {
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for t in lines.iter().flat_map(OrderLine::taxes) {
        let e = by_rate.entry(t.rate.normalize()).or_default();
        e.0 += t.gross();
        e.1 += t.tax;
    }
    let rates: Vec<Decimal> = by_rate.keys().copied().collect();
    let paid: Vec<Money> = by_rate.values().map(|(p, _)| *p).collect();
    let shipping_shares = allocate(shipping, &paid);
    let mut shipping_tax = Money::ZERO;
    let mut out = Vec::with_capacity(rates.len());
    for ((rate, share), (paid, tax)) in rates.iter().zip(shipping_shares).zip(by_rate.values()) {
        let s_tax = tax_of(share, *rate);
        shipping_tax += s_tax;
        let gross = *paid + share;
        let tax = *tax + s_tax;
        out.push(TaxLine {
            rate: *rate,
            net: gross - tax,
            tax,
        });
    }
    (out, shipping_tax)
}

impl Order {
    /// Re-derives every tax figure from the lines' supplies: each line's `tax_rate` and `tax`,
    /// and the totals' `tax` and `shippingTax`. Called whenever a supply's rate is decided.
    pub fn retax(&mut self) {
        for l in &mut self.lines {
            (l.tax_rate, l.tax) = l.summary();
        }
        let (tax, shipping_tax) = tax_summary(&self.lines, self.shipping_cost);
        self.totals.tax = tax;
        self.totals.shipping_tax = shipping_tax;
    }
}

/// Decides the VAT rate of one shipment's units on the order: `rate_on_supply(line)` is the
/// line's rate on the shipment's supply date (None when no rate is configured for it: the order
/// date's rate stays). A rate equal to the order date's is stored as none, so that an order
/// whose shipments all stay in one period is written exactly as before. Then every tax figure
/// of the order is re-derived from the supplies. True when something changed (the order must
/// be written); applying it again changes nothing.
pub fn set_supply_rates(
    order: &mut Order,
    shipment_id: &str,
    rate_on_supply: impl Fn(&OrderLine) -> Option<Decimal>,
) -> bool {
    let mut changed = false;
    for line in &mut order.lines {
        let at_order = line.rate_at_order_date();
        let rate = rate_on_supply(line)
            .map(|r| r.normalize())
            .filter(|r| *r != at_order);
        for s in line
            .supplies
            .iter_mut()
            .filter(|s| s.shipment_id == shipment_id)
        {
            if s.rate != rate {
                s.rate = rate;
                changed = true;
            }
        }
    }
    if changed {
        order.retax();
    }
    changed
}

/// The order as it stood before `shipment_id`'s rates were decided (its units at the order
/// date's rate): what the invoice in force showed for them unless an earlier run corrected it.
pub fn without_supply_rates(order: &Order, shipment_id: &str) -> Order {
    let mut before = order.clone();
    set_supply_rates(&mut before, shipment_id, |_| None);
    before
}

/// The tax of `paid` at the rate valid for (country, class) on the supply date: the shipment's
/// date, or the order date before shipment (docs/api.md). None when no rate covers that date.
pub fn tax_on_supply(
    paid: Money,
    rates: &TaxRates,
    supply_date: NaiveDate,
) -> Option<(Decimal, Money)> {
    rates
        .rate_on(supply_date)
        .map(|rate| (rate, tax_of(paid, rate)))
}

mod promotions;
pub use promotions::*;

#[cfg(test)]
mod properties;
