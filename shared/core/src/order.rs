//! Orders: the channel's request validated into an order with its full money breakdown
//! (docs/api.md "Money rules": discount allocation, paid, tax per line, shipping tax, totals).

use crate::catalogue::{is_email, Address, Locale, Product, TaxClass, TaxRates};
use crate::ids::{check_id, check_text};
use crate::money::{is_two_decimal_currency, Money};
use crate::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: u64 = 999;

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
    pub sku: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub id: String,
    pub channel_id: String,
    pub external_id: String,
    pub status: OrderStatus,
    pub currency: String,
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
    #[serde(default)]
    pub refunds: Vec<crate::refund::Refund>,
    /// Every money movement; the totals' `refunded` and `due` are derived from it.
    #[serde(default)]
    pub ledger: Vec<crate::ledger::LedgerEntry>,
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
    pub replacements: Vec<crate::replacement::Replacement>,
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

/// What the intake needs from the catalogue to validate and price an order.
pub struct PricingContext<'a> {
    pub products: &'a BTreeMap<String, Product>,
    /// Keyed by `(country, taxClass)`.
    pub tax_rates: &'a BTreeMap<(String, TaxClass), TaxRates>,
    /// The order date in the retailer's time zone (the supply date before shipment).
    pub order_date: NaiveDate,
}

/// A request body checked for shape, before the catalogue is consulted.
pub struct OrderRequest {
    pub external_id: String,
    pub customer: Customer,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub currency: String,
    pub ordered_at: Option<DateTime<Utc>>,
    pub lines: Vec<(String, String, u32, Money)>,
    pub discounts: Vec<Discount>,
    pub shipping_cost: Money,
    pub payments: Vec<Payment>,
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ApiError> {
    v.get(name)
        .filter(|x| !x.is_null())
        .ok_or_else(|| ApiError::invalid(name, format!("{name} is required")))
}

fn string(v: &Value, path: &str) -> Result<String, ApiError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid(path, format!("{path} must be a string")))
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid(path, format!("{path} must be an object")))
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, ApiError> {
    v.as_array()
        .ok_or_else(|| ApiError::invalid(path, format!("{path} must be an array")))
}

fn address(v: &Value, path: &str) -> Result<Address, ApiError> {
    object(v, path)?;
    let get = |k: &str| -> Result<String, ApiError> {
        let p = format!("{path}.{k}");
        string(
            v.get(k)
                .ok_or_else(|| ApiError::invalid(p.clone(), format!("{p} is required")))?,
            &p,
        )
    };
    let a = Address {
        name: get("name")?,
        street: get("street")?,
        postal_code: get("postalCode")?,
        city: get("city")?,
        country: get("country")?,
    };
    a.validate(path)?;
    Ok(a)
}

impl OrderRequest {
    /// Checks everything that needs no catalogue: shapes, ids, amounts, counts, currency, country.
    pub fn parse(v: &Value) -> Result<Self, ApiError> {
        object(v, "body")?;
        let external_id = string(field(v, "externalId")?, "externalId")?;
        check_id("externalId", &external_id)?;

        let c = field(v, "customer")?;
        object(c, "customer")?;
        let email = string(c.get("email").unwrap_or(&Value::Null), "customer.email")?;
        if !is_email(&email) {
            return Err(ApiError::invalid(
                "customer.email",
                "customer.email is not a valid mail address",
            ));
        }
        let name = string(c.get("name").unwrap_or(&Value::Null), "customer.name")?;
        check_text("customer.name", &name, 200)?;
        let locale = match c.get("locale") {
            None | Some(Value::Null) => None,
            Some(l) => Some(serde_json::from_value::<Locale>(l.clone()).map_err(|_| {
                ApiError::invalid("customer.locale", "customer.locale must be de or en")
            })?),
        };

        let shipping_address = address(field(v, "shippingAddress")?, "shippingAddress")?;
        let billing_address = match v.get("billingAddress") {
            None | Some(Value::Null) => None,
            Some(b) => Some(address(b, "billingAddress")?),
        };
        let currency = string(field(v, "currency")?, "currency")?;
        if !is_two_decimal_currency(&currency) {
            return Err(ApiError::invalid(
                "currency",
                "currency must be an ISO 4217 code with two minor units",
            ));
        }
        let ordered_at =
            match v.get("orderedAt") {
                None | Some(Value::Null) => None,
                Some(t) => Some(string(t, "orderedAt")?.parse::<DateTime<Utc>>().map_err(
                    |_| ApiError::invalid("orderedAt", "orderedAt must be an RFC 3339 timestamp"),
                )?),
            };

        let raw_lines = array(field(v, "lines")?, "lines")?;
        if raw_lines.is_empty() {
            return Err(ApiError::invalid(
                "lines",
                "an order needs at least one line",
            ));
        }
        if raw_lines.len() > MAX_LINES {
            return Err(ApiError::invalid(
                "lines",
                format!("an order has at most {MAX_LINES} lines"),
            ));
        }
        let mut lines: Vec<(String, String, u32, Money)> = Vec::with_capacity(raw_lines.len());
        for (i, l) in raw_lines.iter().enumerate() {
            let p = format!("lines[{i}]");
            object(l, &p)?;
            let line_id = string(
                l.get("lineId").unwrap_or(&Value::Null),
                &format!("{p}.lineId"),
            )?;
            check_id(&format!("{p}.lineId"), &line_id)?;
            if lines.iter().any(|(id, ..)| *id == line_id) {
                return Err(ApiError::invalid(
                    format!("{p}.lineId"),
                    format!("duplicate lineId {line_id}"),
                ));
            }
            let sku = string(l.get("sku").unwrap_or(&Value::Null), &format!("{p}.sku"))?;
            check_id(&format!("{p}.sku"), &sku)?;
            let quantity = l
                .get("quantity")
                .and_then(Value::as_u64)
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("{p}.quantity"),
                        "quantity must be an integer 1..999",
                    )
                })?;
            let unit_price = Money::parse_amount(
                &format!("{p}.unitPrice"),
                l.get("unitPrice").unwrap_or(&Value::Null),
            )?;
            lines.push((line_id, sku, quantity as u32, unit_price));
        }

        let mut discounts = Vec::new();
        if let Some(d) = v.get("discounts").filter(|d| !d.is_null()) {
            for (i, d) in array(d, "discounts")?.iter().enumerate() {
                let p = format!("discounts[{i}]");
                object(d, &p)?;
                let code = string(d.get("code").unwrap_or(&Value::Null), &format!("{p}.code"))?;
                check_text(&format!("{p}.code"), &code, 64)?;
                let amount = Money::parse_amount(
                    &format!("{p}.amount"),
                    d.get("amount").unwrap_or(&Value::Null),
                )?;
                let min_order_value = match d.get("minOrderValue") {
                    None | Some(Value::Null) => None,
                    Some(m) => Some(Money::parse_amount(&format!("{p}.minOrderValue"), m)?),
                };
                discounts.push(Discount {
                    code,
                    amount,
                    min_order_value,
                });
            }
        }
        let shipping_cost = match v.get("shippingCost") {
            None | Some(Value::Null) => Money::ZERO,
            Some(s) => Money::parse_amount("shippingCost", s)?,
        };
        let raw_payments = array(field(v, "payments")?, "payments")?;
        let mut payments = Vec::with_capacity(raw_payments.len());
        for (i, pm) in raw_payments.iter().enumerate() {
            let p = format!("payments[{i}]");
            object(pm, &p)?;
            let method = serde_json::from_value::<PaymentMethod>(
                pm.get("method").cloned().unwrap_or(Value::Null),
            )
            .map_err(|_| {
                ApiError::invalid(
                    format!("{p}.method"),
                    "method must be card, paypal, invoice, gift_card or bonus_points",
                )
            })?;
            let amount = Money::parse_amount(
                &format!("{p}.amount"),
                pm.get("amount").unwrap_or(&Value::Null),
            )?;
            let reference = match pm.get("reference") {
                None | Some(Value::Null) => None,
                Some(r) => {
                    let r = string(r, &format!("{p}.reference"))?;
                    check_text(&format!("{p}.reference"), &r, 200)?;
                    Some(r)
                }
            };
            payments.push(Payment {
                method,
                amount,
                reference,
            });
        }
        Ok(OrderRequest {
            external_id,
            customer: Customer {
                email,
                name,
                locale,
            },
            shipping_address,
            billing_address,
            currency,
            ordered_at,
            lines,
            discounts,
            shipping_cost,
            payments,
        })
    }

    /// Prices the order against the catalogue: unknown skus, discounts, tax, payments.
    pub fn price(
        self,
        ctx: &PricingContext<'_>,
        id: String,
        channel_id: String,
        now: DateTime<Utc>,
        who: String,
    ) -> Result<Order, ApiError> {
        let country = self.shipping_address.country.clone();
        let mut lines: Vec<OrderLine> = Vec::with_capacity(self.lines.len());
        for (i, (line_id, sku, quantity, unit_price)) in self.lines.into_iter().enumerate() {
            let product = ctx.products.get(&sku).ok_or_else(|| {
                ApiError::invalid(format!("lines[{i}].sku"), format!("unknown sku {sku}"))
            })?;
            let tax_rate = ctx
                .tax_rates
                .get(&(country.clone(), product.tax_class))
                .and_then(|r| r.rate_on(ctx.order_date))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "shippingAddress.country",
                        format!(
                            "no {} tax rate for {country} on {}",
                            product.tax_class.as_str(),
                            ctx.order_date
                        ),
                    )
                })?;
            lines.push(OrderLine {
                line_id,
                name: product.name.clone(),
                sku,
                quantity,
                unit_price,
                gross: unit_price * quantity,
                discount_share: Money::ZERO,
                discount_shares: Vec::new(),
                paid: Money::ZERO,
                tax_class: product.tax_class,
                tax_rate,
                tax: Money::ZERO,
                quantities: Quantities {
                    open: quantity,
                    ..Quantities::default()
                },
                cancelled_by_customer: 0,
                order_date_rate: Some(tax_rate),
                supplies: Vec::new(),
            });
        }
        let merchandise: Money = lines.iter().map(|l| l.gross).sum();
        let discount_total: Money = self.discounts.iter().map(|d| d.amount).sum();
        if discount_total > merchandise {
            return Err(ApiError::invalid(
                "discounts",
                "the discounts exceed the merchandise gross",
            ));
        }
        for (i, d) in self.discounts.iter().enumerate() {
            if d.min_order_value.is_some_and(|min| merchandise < min) {
                return Err(ApiError::invalid(
                    format!("discounts[{i}].minOrderValue"),
                    format!(
                        "discount {} needs a merchandise gross of at least {}",
                        d.code,
                        d.min_order_value.unwrap_or_default()
                    ),
                ));
            }
            let grosses: Vec<Money> = lines.iter().map(|l| l.gross).collect();
            for (line, share) in lines.iter_mut().zip(allocate(d.amount, &grosses)) {
                line.discount_shares.push(DiscountShare {
                    code: d.code.clone(),
                    amount: share,
                });
                line.discount_share += share;
            }
        }
        for line in &mut lines {
            line.paid = line.gross - line.discount_share;
            line.tax = tax_of(line.paid, line.tax_rate);
        }
        let total: Money = lines.iter().map(|l| l.paid).sum::<Money>() + self.shipping_cost;
        let paid_total: Money = self.payments.iter().map(|p| p.amount).sum();
        if paid_total != total {
            return Err(ApiError::invalid(
                "payments",
                format!("payments add up to {paid_total}, the order total is {total}"),
            ));
        }
        let (tax, shipping_tax) = tax_summary(&lines, self.shipping_cost);
        let due = self
            .payments
            .iter()
            .filter(|p| p.method == PaymentMethod::Invoice)
            .map(|p| p.amount)
            .sum();
        let totals = Totals {
            merchandise,
            discount: discount_total,
            shipping: self.shipping_cost,
            shipping_tax,
            total,
            tax,
            refunded: Money::ZERO,
            due,
        };
        let mut order = Order {
            id,
            channel_id,
            external_id: self.external_id,
            status: OrderStatus::Accepted,
            currency: self.currency,
            customer: self.customer,
            shipping_address: self.shipping_address,
            billing_address: self.billing_address,
            ordered_at: self.ordered_at.unwrap_or(now),
            created_at: now,
            lines,
            discounts: self.discounts,
            shipping_cost: self.shipping_cost,
            payments: self.payments,
            totals,
            refunds: Vec::new(),
            history: vec![HistoryEntry {
                at: now,
                who,
                what: "order accepted".into(),
            }],
            version: 0,
            routing_round: 0,
            delivery_order_ids: Vec::new(),
            return_ids: Vec::new(),
            request_key: None,
            replacements: Vec::new(),
            ledger: Vec::new(),
        };
        order.ledger = crate::ledger::opening_entries(&order);
        Ok(order)
    }
}

/// `round(gross * rate / (1 + rate))`: the tax contained in a gross amount.
pub fn tax_of(gross: Money, rate: Decimal) -> Money {
    Money::from_decimal(gross.amount() * rate / (Decimal::ONE + rate))
}

/// Allocates `amount` pro rata to `weights`, rounded to cents; the remainder goes to the largest
/// weight (the first on a tie). The shares always add up to `amount`.
pub fn allocate(amount: Money, weights: &[Money]) -> Vec<Money> {
    let total: Decimal = weights.iter().map(|w| w.amount()).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    let mut shares: Vec<Money> = weights
        .iter()
        .map(|w| amount.pro_rata(w.amount(), total))
        .collect();
    if total.is_zero() {
        shares = vec![Money::ZERO; weights.len()];
    }
    let remainder = amount - shares.iter().copied().sum::<Money>();
    if !remainder.amount().is_zero() {
        let mut largest = 0;
        for (i, w) in weights.iter().enumerate() {
            if *w > weights[largest] {
                largest = i;
            }
        }
        shares[largest] += remainder;
    }
    shares
}

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

/// Priced orders for the unit tests of the modules that work on orders.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::catalogue::{from_body, ProductInput, TaxRatesInput};
    use serde_json::json;

    pub(crate) fn order(body: serde_json::Value) -> Order {
        let mut products = BTreeMap::new();
        for sku in ["A", "B", "C"] {
            let p = from_body::<ProductInput>(
                json!({"name": sku, "taxClass": "standard", "group": "g", "sources": []}),
            )
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
            products.insert(sku.to_string(), p);
        }
        let rates: TaxRates = from_body::<TaxRatesInput>(
            json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}),
        )
        .unwrap()
        .validate("DE", "standard")
        .unwrap();
        let tax = BTreeMap::from([(("DE".to_string(), TaxClass::Standard), rates)]);
        let ctx = PricingContext {
            products: &products,
            tax_rates: &tax,
            order_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        OrderRequest::parse(&body)
            .unwrap()
            .price(&ctx, "o".into(), "c".into(), Utc::now(), "t".into())
            .unwrap()
    }

    /// Germany's 2020 rates: 19 %, 16 % from July to December 2020, 19 % again.
    pub(crate) fn rates_2020() -> TaxRates {
        from_body::<TaxRatesInput>(json!({"rates": [
            {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
            {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
            {"rate": "0.19", "validFrom": "2021-01-01"}]}))
        .unwrap()
        .validate("DE", "standard")
        .unwrap()
    }

    pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An order of 2020-06-30 (19 %) in Germany.
    pub(crate) fn order_2020(body: serde_json::Value) -> Order {
        let mut products = BTreeMap::new();
        for sku in ["A", "B"] {
            let p = from_body::<ProductInput>(
                json!({"name": sku, "taxClass": "standard", "group": "g", "sources": []}),
            )
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
            products.insert(sku.to_string(), p);
        }
        let tax = BTreeMap::from([(("DE".to_string(), TaxClass::Standard), rates_2020())]);
        let ctx = PricingContext {
            products: &products,
            tax_rates: &tax,
            order_date: date(2020, 6, 30),
        };
        OrderRequest::parse(&body)
            .unwrap()
            .price(&ctx, "o".into(), "c".into(), Utc::now(), "t".into())
            .unwrap()
    }

    /// Ships `units` of `line_id` from delivery order DO-1 on `on` (as the fulfiller API records
    /// it) and books the rate of that supply date (as the document generator does).
    pub(crate) fn ship_on(order: &mut Order, line_id: &str, units: u32, on: NaiveDate) {
        let id = format!("shp-{}-{line_id}-{on}", order.lines.len());
        let l = order
            .lines
            .iter_mut()
            .find(|l| l.line_id == line_id)
            .unwrap();
        l.quantities.open -= units;
        l.quantities.shipped += units;
        l.supplies.push(Supply {
            shipment_id: id.clone(),
            delivery_order_id: "DO-1".into(),
            shipped_at: on.and_hms_opt(12, 0, 0).unwrap().and_utc(),
            units,
            rate: None,
        });
        let rates = rates_2020();
        crate::fulfilment::set_supply_rates(order, &id, |_| rates.rate_on(on));
    }

    pub(crate) fn base(
        lines: serde_json::Value,
        discounts: serde_json::Value,
        shipping: &str,
        total: &str,
    ) -> serde_json::Value {
        json!({"externalId": "e", "customer": {"email": "c@example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S 1", "postalCode": "1", "city": "B", "country": "DE"},
            "currency": "EUR", "lines": lines, "discounts": discounts, "shippingCost": shipping,
            "payments": [{"method": "card", "amount": total}]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{from_body, ProductInput, TaxRatesInput};
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn catalogue() -> (
        BTreeMap<String, Product>,
        BTreeMap<(String, TaxClass), TaxRates>,
    ) {
        let mut products = BTreeMap::new();
        for sku in ["L1-SKU", "L2-SKU"] {
            let p = from_body::<ProductInput>(
                json!({"name": sku, "taxClass": "standard", "group": "g",
                "sources": [{"fulfillerId": "wh", "priority": 1}]}),
            )
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
            products.insert(sku.to_string(), p);
        }
        let rates = from_body::<TaxRatesInput>(
            json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}),
        )
        .unwrap()
        .validate("DE", "standard")
        .unwrap();
        let mut tax = BTreeMap::new();
        tax.insert(("DE".to_string(), TaxClass::Standard), rates);
        (products, tax)
    }

    fn worked_example() -> Value {
        json!({"externalId": "ext-1", "customer": {"email": "c@example.com", "name": "Carla"},
            "shippingAddress": {"name": "Carla", "street": "Hauptstr. 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
            "currency": "EUR",
            "lines": [{"lineId": "L1", "sku": "L1-SKU", "quantity": 2, "unitPrice": "24.99"},
                      {"lineId": "L2", "sku": "L2-SKU", "quantity": 1, "unitPrice": "15.00"}],
            "discounts": [{"code": "SAVE5", "amount": "5.00"}], "shippingCost": "3.90",
            "payments": [{"method": "card", "amount": "63.88"}]})
    }

    fn price(v: Value) -> Result<Order, ApiError> {
        let (products, tax_rates) = catalogue();
        let ctx = PricingContext {
            products: &products,
            tax_rates: &tax_rates,
            order_date: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        };
        OrderRequest::parse(&v)?.price(
            &ctx,
            "o1".into(),
            "web".into(),
            Utc::now(),
            "channel:web".into(),
        )
    }

    #[test]
    fn the_worked_example_of_api_md() {
        let o = price(worked_example()).unwrap();
        let l1 = &o.lines[0];
        let l2 = &o.lines[1];
        assert_eq!(
            (l1.discount_share.to_string(), l2.discount_share.to_string()),
            ("3.85".into(), "1.15".into())
        );
        assert_eq!(
            (l1.paid.to_string(), l2.paid.to_string()),
            ("46.13".into(), "13.85".into())
        );
        assert_eq!(
            (l1.tax.to_string(), l2.tax.to_string()),
            ("7.37".into(), "2.21".into())
        );
        assert_eq!(o.totals.total.to_string(), "63.88");
        assert_eq!(o.totals.shipping_tax.to_string(), "0.62");
        assert_eq!(o.totals.tax.len(), 1);
        assert_eq!(o.totals.tax[0].tax.to_string(), "10.20");
        assert_eq!(o.totals.tax[0].net.to_string(), "53.68");
    }

    #[test]
    fn allocation_remainder_goes_to_the_largest_line() {
        let w = [
            Money::from_decimal(dec!(10)),
            Money::from_decimal(dec!(10)),
            Money::from_decimal(dec!(10)),
        ];
        let s = allocate(Money::from_decimal(dec!(1.00)), &w);
        assert_eq!(
            s.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["0.34", "0.33", "0.33"]
        );
        let w = [Money::from_decimal(dec!(1)), Money::from_decimal(dec!(2))];
        let s = allocate(Money::from_decimal(dec!(0.01)), &w);
        assert_eq!(s.iter().copied().sum::<Money>().to_string(), "0.01");
    }

    #[test]
    fn refusals_name_their_field() {
        type Mutation = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|v| v["lines"][1]["sku"] = json!("NOPE")),
                "lines[1].sku",
            ),
            (
                Box::new(|v| v["lines"][0]["quantity"] = json!(0)),
                "lines[0].quantity",
            ),
            (
                Box::new(|v| v["lines"][0]["quantity"] = json!(1000)),
                "lines[0].quantity",
            ),
            (
                Box::new(|v| v["lines"][0]["quantity"] = json!(1.5)),
                "lines[0].quantity",
            ),
            (
                Box::new(|v| v["lines"][0]["unitPrice"] = json!("1.999")),
                "lines[0].unitPrice",
            ),
            (
                Box::new(|v| v["lines"][1]["lineId"] = json!("L1")),
                "lines[1].lineId",
            ),
            (Box::new(|v| v["lines"] = json!([])), "lines"),
            (Box::new(|v| v["currency"] = json!("JPY")), "currency"),
            (
                Box::new(|v| v["shippingAddress"]["country"] = json!("XX")),
                "shippingAddress.country",
            ),
            (
                Box::new(|v| v["payments"][0]["amount"] = json!("63.87")),
                "payments",
            ),
            (
                Box::new(|v| v["discounts"][0]["amount"] = json!("100.00")),
                "discounts",
            ),
            (
                Box::new(|v| v["discounts"][0]["minOrderValue"] = json!("70.00")),
                "discounts[0].minOrderValue",
            ),
            (
                Box::new(|v| v["shippingCost"] = json!("-1.00")),
                "shippingCost",
            ),
        ];
        for (mutate, field) in cases {
            let mut v = worked_example();
            mutate(&mut v);
            let e = price(v).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (422, Some(field)),
                "{}",
                e.message
            );
        }
        let mut v = worked_example();
        v["lines"] = json!((0..101).map(|i| json!({"lineId": format!("L{i}"), "sku": "L1-SKU", "quantity": 1, "unitPrice": "1.00"})).collect::<Vec<_>>());
        assert_eq!(price(v).unwrap_err().field.as_deref(), Some("lines"));
    }

    #[test]
    fn two_discounts_on_the_same_lines_are_allocated_each_on_its_own() {
        let mut v = worked_example();
        v["discounts"] = json!([{"code": "A", "amount": "1.00"}, {"code": "B", "amount": "0.01"}]);
        v["payments"] = json!([{"method": "card", "amount": "67.87"}]);
        let o = price(v).unwrap();
        // A: 1.00 x 49.98/64.98 = 0.769 -> 0.77, 1.00 x 15/64.98 = 0.231 -> 0.23.
        // B: 0.01 x 49.98/64.98 = 0.0077 -> 0.01, 0.01 x 15/64.98 = 0.0023 -> 0.00.
        let shares: Vec<Vec<String>> = o
            .lines
            .iter()
            .map(|l| {
                l.discount_shares
                    .iter()
                    .map(|s| format!("{}={}", s.code, s.amount))
                    .collect()
            })
            .collect();
        assert_eq!(
            shares,
            vec![vec!["A=0.77", "B=0.01"], vec!["A=0.23", "B=0.00"]]
        );
        assert_eq!(
            (o.lines[0].paid.to_string(), o.lines[1].paid.to_string()),
            ("49.20".into(), "14.77".into())
        );
        assert_eq!(o.totals.total.to_string(), "67.87");
    }

    #[test]
    fn mixed_payments_must_add_up_exactly() {
        let mut v = worked_example();
        v["payments"] = json!([
            {"method": "gift_card", "amount": "20.00"}, {"method": "bonus_points", "amount": "3.88"},
            {"method": "paypal", "amount": "30.00"}, {"method": "invoice", "amount": "10.00"}]);
        let o = price(v.clone()).unwrap();
        assert_eq!(
            o.totals.due.to_string(),
            "10.00",
            "only the invoice part is still due"
        );
        v["payments"][3]["amount"] = json!("10.01");
        assert_eq!(
            price(v.clone()).unwrap_err().field.as_deref(),
            Some("payments")
        );
        v["payments"][3]["method"] = json!("cheque");
        assert_eq!(
            price(v).unwrap_err().field.as_deref(),
            Some("payments[3].method")
        );
    }

    #[test]
    fn line_status_is_the_state_of_most_units() {
        let q = Quantities {
            open: 1,
            shipped: 2,
            ..Default::default()
        };
        assert_eq!(q.status(), LineStatus::Shipped);
        let q = Quantities {
            open: 1,
            shipped: 1,
            ..Default::default()
        };
        assert_eq!(q.status(), LineStatus::Open);
    }
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn cents(c: i64) -> Money {
        Money::from_decimal(Decimal::new(c, 2))
    }

    proptest! {
        #[test]
        fn allocation_always_sums_exactly_to_the_discount(
            weights in proptest::collection::vec(1i64..1_000_000, 1..100),
            discount_fraction in 0u32..=1000,
        ) {
            let w: Vec<Money> = weights.iter().map(|c| cents(*c)).collect();
            let total: i64 = weights.iter().sum();
            let discount = cents(total * i64::from(discount_fraction) / 1000);
            let shares = allocate(discount, &w);
            prop_assert_eq!(shares.iter().copied().sum::<Money>(), discount);
            prop_assert!(shares.iter().all(|s| !s.is_negative()));
            prop_assert!(shares.iter().zip(&w).all(|(s, w)| s <= w));
        }

        #[test]
        fn net_plus_tax_is_paid(paid in 0i64..100_000_000, rate in prop::sample::select(vec!["0", "0.05", "0.07", "0.1", "0.16", "0.19", "0.2", "0.055"])) {
            let paid = cents(paid);
            let rate: Decimal = rate.parse().unwrap();
            let tax = tax_of(paid, rate);
            let net = paid - tax;
            prop_assert_eq!(net + tax, paid);
            prop_assert!(!tax.is_negative() && tax <= paid);
        }
    }

    #[test]
    fn germany_2020_an_order_of_june_30_shipped_july_1_is_taxed_at_16_percent() {
        use crate::catalogue::{from_body, TaxRatesInput};
        let rates = from_body::<TaxRatesInput>(serde_json::json!({"rates": [
            {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
            {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
            {"rate": "0.19", "validFrom": "2021-01-01"}]}))
        .unwrap()
        .validate("DE", "standard")
        .unwrap();
        let paid = cents(11_600);
        let ordered = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
        let shipped = NaiveDate::from_ymd_opt(2020, 7, 1).unwrap();
        let (rate_at_order, tax_at_order) = tax_on_supply(paid, &rates, ordered).unwrap();
        assert_eq!(
            (rate_at_order.to_string(), tax_at_order.to_string()),
            ("0.19".into(), "18.52".into())
        );
        let (rate, tax) = tax_on_supply(paid, &rates, shipped).unwrap();
        assert_eq!(
            (rate.to_string(), tax.to_string()),
            ("0.16".into(), "16.00".into())
        );
    }

    #[test]
    fn rounding_edges() {
        // One cent over three equal lines: 0.01 to the first (largest, first on a tie).
        let s = allocate(cents(1), &[cents(1000), cents(1000), cents(1000)]);
        assert_eq!(
            s.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["0.01", "0.00", "0.00"]
        );
        // 0.005 boundaries round away from zero.
        assert_eq!(tax_of(cents(105), Decimal::new(5, 2)).to_string(), "0.05"); // 1.05*0.05/1.05 = 0.05
        assert_eq!(Money::from_decimal(Decimal::new(5, 3)).to_string(), "0.01");
        assert_eq!(Money::from_decimal(Decimal::new(15, 3)).to_string(), "0.02");
        assert_eq!(Money::from_decimal(Decimal::new(25, 3)).to_string(), "0.03");
    }
}

/// VAT on the supply date (docs/api.md): the hand-computed German 2020 cases. Ordered 2020-06-30 at
/// 19 %; a unit shipped from 2020-07-01 on is taxed at 16 %.
#[cfg(test)]
mod supply_dates {
    use super::fixtures::{base, date, order_2020, ship_on};
    use super::*;
    use serde_json::json;

    fn show(taxes: &[PeriodTax]) -> Vec<String> {
        taxes
            .iter()
            .map(|t| format!("{} x{} net {} tax {}", t.rate, t.units, t.net, t.tax))
            .collect()
    }

    fn totals(o: &Order) -> Vec<String> {
        o.totals
            .tax
            .iter()
            .map(|t| format!("{} net {} tax {}", t.rate, t.net, t.tax))
            .collect()
    }

    #[test]
    fn the_cumulative_rule_splits_paid_exactly() {
        // 100.00 over 3 units, 2 at 19 % then 1 at 16 %:
        // 19 %: round(100.00 x 2/3) - 0 = 66.67, tax round(66.67 x 0.19/1.19 = 10.6448) = 10.64;
        // 16 %: round(100.00 x 3/3) - 66.67 = 33.33, tax round(33.33 x 0.16/1.16 = 4.5972) = 4.60.
        let groups = [
            RateGroup {
                rate: Decimal::new(19, 2),
                units: 2,
            },
            RateGroup {
                rate: Decimal::new(16, 2),
                units: 1,
            },
        ];
        let t = taxes_per_period(Money::from_decimal(Decimal::new(10000, 2)), 3, &groups);
        assert_eq!(
            show(&t),
            ["0.19 x2 net 56.03 tax 10.64", "0.16 x1 net 28.73 tax 4.60"]
        );
    }

    #[test]
    fn one_line_shipped_in_the_new_period() {
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
            json!([]),
            "0",
            "116.00",
        ));
        // Ordered at 19 %: round(116.00 x 0.19/1.19 = 18.5210) = 18.52.
        assert_eq!(o.lines[0].tax.to_string(), "18.52");
        // Shipped 2020-07-01 at 16 %: 116.00 x 0.16/1.16 = 16.00, net 100.00.
        ship_on(&mut o, "L1", 1, date(2020, 7, 1));
        let l = &o.lines[0];
        assert_eq!(show(&l.taxes()), ["0.16 x1 net 100.00 tax 16.00"]);
        assert_eq!(
            (l.tax_rate.to_string(), l.tax.to_string()),
            ("0.16".into(), "16.00".into())
        );
        assert_eq!(totals(&o), ["0.16 net 100.00 tax 16.00"]);
        // A unit shipped in the same period as the order date keeps the order's rate.
        let mut same = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
            json!([]),
            "0",
            "116.00",
        ));
        ship_on(&mut same, "L1", 1, date(2020, 6, 30));
        assert_eq!(same.lines[0].supplies[0].rate, None);
        assert_eq!(totals(&same), ["0.19 net 97.48 tax 18.52"]);
    }

    #[test]
    fn a_line_split_over_two_periods() {
        // 3 x 40.00 = 120.00; 1 unit shipped 2020-07-01 (16 %), 2 still open (order date, 19 %).
        // 19 % (2 units): round(120.00 x 2/3) = 80.00, tax round(80.00 x 0.19/1.19 = 12.7731)
        //   = 12.77, net 67.23;
        // 16 % (1 unit): 120.00 - 80.00 = 40.00, tax round(40.00 x 0.16/1.16 = 5.5172) = 5.52,
        //   net 34.48. Line tax 12.77 + 5.52 = 18.29; taxRate 0.19 (2 of 3 units).
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 3, "unitPrice": "40.00"}]),
            json!([]),
            "0",
            "120.00",
        ));
        ship_on(&mut o, "L1", 1, date(2020, 7, 1));
        let l = &o.lines[0];
        assert_eq!(
            show(&l.taxes()),
            ["0.19 x2 net 67.23 tax 12.77", "0.16 x1 net 34.48 tax 5.52"]
        );
        assert_eq!(
            (l.tax_rate.to_string(), l.tax.to_string()),
            ("0.19".into(), "18.29".into())
        );
        assert_eq!(
            totals(&o),
            ["0.16 net 34.48 tax 5.52", "0.19 net 67.23 tax 12.77"]
        );
        // The second shipment moves a second unit: 16 % now has 2 of 3 units, and the rule
        // splits in the sequence order date first: 19 % round(120.00 x 1/3) = 40.00, tax
        // round(40.00 x 0.19/1.19 = 6.3866) = 6.39; 16 % 80.00, tax round(11.0345) = 11.03.
        ship_on(&mut o, "L1", 1, date(2020, 7, 2));
        let l = &o.lines[0];
        assert_eq!(
            show(&l.taxes()),
            ["0.19 x1 net 33.61 tax 6.39", "0.16 x2 net 68.97 tax 11.03"]
        );
        assert_eq!(
            (l.tax_rate.to_string(), l.tax.to_string()),
            ("0.16".into(), "17.42".into())
        );
    }

    #[test]
    fn shipping_cost_is_split_over_the_rates_of_the_supplies() {
        // A 1 x 116.00 shipped at 16 %, B 1 x 119.00 still open at 19 %, shipping 5.00.
        // Paid per rate: 16 % 116.00, 19 % 119.00 (235.00). Shipping: round(5.00 x 116/235 =
        // 2.4681) = 2.47 and round(5.00 x 119/235 = 2.5319) = 2.53 (sum 5.00, no remainder).
        // Its tax: round(2.47 x 0.16/1.16 = 0.3407) = 0.34 and round(2.53 x 0.19/1.19 =
        // 0.4039) = 0.40: shippingTax 0.74. Totals: 16 % tax 16.00 + 0.34 = 16.34 on 118.47
        // (net 102.13); 19 % tax 19.00 + 0.40 = 19.40 on 121.53 (net 102.13).
        let mut o = order_2020(base(
            json!([{"lineId": "A", "sku": "A", "quantity": 1, "unitPrice": "116.00"},
                   {"lineId": "B", "sku": "B", "quantity": 1, "unitPrice": "119.00"}]),
            json!([]),
            "5.00",
            "240.00",
        ));
        // Before: everything at 19 %, shipping round(5.00 x 0.19/1.19 = 0.7983) = 0.80.
        assert_eq!(o.totals.shipping_tax.to_string(), "0.80");
        ship_on(&mut o, "A", 1, date(2020, 7, 1));
        assert_eq!(o.totals.shipping_tax.to_string(), "0.74");
        assert_eq!(
            totals(&o),
            ["0.16 net 102.13 tax 16.34", "0.19 net 102.13 tax 19.40"]
        );
    }

    #[test]
    fn a_discounted_line_shipped_in_two_periods() {
        // docs/api.md's worked example ordered 2020-06-30: L1 2 x 24.99 paid 46.13, L2 1 x 15.00
        // paid 13.85, shipping 3.90. One unit of L1 ships 2020-07-01 (16 %).
        // L1 19 % (1 unit): round(46.13 x 1/2 = 23.065) = 23.07, tax round(3.6834) = 3.68;
        // L1 16 % (1 unit): 46.13 - 23.07 = 23.06, tax round(23.06 x 0.16/1.16 = 3.1807) = 3.18.
        // L1 tax 6.86, taxRate 0.16 (1 unit each: the later period). L2 2.21 at 19 %.
        // Shipping over 16 % 23.06 / 19 % 36.92: round(3.90 x 23.06/59.98 = 1.4994) = 1.50 and
        // round(2.4006) = 2.40; tax round(0.2069) = 0.21 and round(0.3832) = 0.38 (0.59).
        // Totals: 16 % tax 3.18 + 0.21 = 3.39 on 24.56 (net 21.17); 19 % tax 3.68 + 2.21 +
        // 0.38 = 6.27 on 39.32 (net 33.05).
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
                   {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
            json!([{"code": "SAVE5", "amount": "5.00"}]),
            "3.90",
            "63.88",
        ));
        ship_on(&mut o, "L1", 1, date(2020, 7, 1));
        let l1 = &o.lines[0];
        assert_eq!(
            show(&l1.taxes()),
            ["0.19 x1 net 19.39 tax 3.68", "0.16 x1 net 19.88 tax 3.18"]
        );
        assert_eq!(
            (l1.tax_rate.to_string(), l1.tax.to_string()),
            ("0.16".into(), "6.86".into())
        );
        assert_eq!(o.lines[1].tax.to_string(), "2.21");
        assert_eq!(o.totals.shipping_tax.to_string(), "0.59");
        assert_eq!(
            totals(&o),
            ["0.16 net 21.17 tax 3.39", "0.19 net 33.05 tax 6.27"]
        );
    }

    #[test]
    fn orders_stored_before_supplies_were_recorded_still_read() {
        let o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
            json!([]),
            "0",
            "116.00",
        ));
        let mut v = serde_json::to_value(&o).unwrap();
        let line = v["lines"][0].as_object_mut().unwrap();
        line.remove("orderDateRate");
        line.remove("supplies");
        let old: Order = serde_json::from_value(v).unwrap();
        assert_eq!(old.lines[0].rate_at_order_date().to_string(), "0.19");
        assert_eq!(show(&old.lines[0].taxes()), ["0.19 x1 net 97.48 tax 18.52"]);
    }
}
