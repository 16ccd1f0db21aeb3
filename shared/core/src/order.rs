//! Orders: the channel's request validated into an order with its full money breakdown
//! (API.md "Money rules": discount allocation, paid, tax per line, shipping tax, totals).

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
    /// The state of most units (ties go to the earlier state in API.md's list).
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
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    pub tax: Money,
    pub quantities: Quantities,
    /// Of `quantities.cancelled`, the units the customer cancelled (the rest the system could
    /// not route); the refund rules count the system's cancellations as kept (API.md "W").
    #[serde(default)]
    pub cancelled_by_customer: u32,
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
    /// Derives the order status from the line quantities (API.md: the first that applies).
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

/// Tax per rate over the lines plus the shipping cost's tax, split over the rates pro rata to
/// `paid` per rate (API.md: shipping is an ancillary service).
pub fn tax_summary(lines: &[OrderLine], shipping: Money) -> (Vec<TaxLine>, Money) {
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for l in lines {
        let e = by_rate.entry(l.tax_rate.normalize()).or_default();
        e.0 += l.paid;
        e.1 += l.tax;
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
/// date, or the order date before shipment (API.md). None when no rate covers that date.
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
