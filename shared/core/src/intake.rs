//! The channel's order request: parsed and validated at the edge, then priced into an order
//! against the catalogue, the channel's list prices and the promotions. Above `order` and
//! `pricing`: it uses both.

use crate::catalogue::{is_email, Address, AddressInput, Locale, Product, TaxClass, TaxRates};
use crate::ids::{check_id, check_text, ChannelId, CountryCode, Currency, OrderId, Sku};
use crate::input::{self, not_a_string, required, Lax, Object};
use crate::money::{tax_of, Money};
use crate::order::*;
use crate::pricing::{
    self, in_force, lines_to_price, OrderedLine, PriceCheck, PriceHistory, Promotion,
};
use crate::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What an order is priced against: the catalogue, and the channel's list prices and the
/// promotions (docs/api.md "Prices and promotions").
pub struct PricingContext<'a> {
    pub products: &'a BTreeMap<Sku, Product>,
    /// Keyed by `(country, taxClass)`.
    pub tax_rates: &'a BTreeMap<(CountryCode, TaxClass), TaxRates>,
    /// The order date in the retailer's time zone (the supply date before shipment).
    pub order_date: NaiveDate,
    /// The channel's price histories of the order's skus (those that have any).
    pub list_prices: &'a BTreeMap<Sku, PriceHistory>,
    /// Every promotion; those in force for the channel on the order date apply.
    pub promotions: &'a [Promotion],
    /// Whether the channel's given unit prices must be its list prices.
    pub price_check: PriceCheck,
}

static NO_LIST_PRICES: BTreeMap<Sku, PriceHistory> = BTreeMap::new();

impl<'a> PricingContext<'a> {
    /// A context without list prices or promotions: every line gives its price.
    pub fn new(
        products: &'a BTreeMap<Sku, Product>,
        tax_rates: &'a BTreeMap<(CountryCode, TaxClass), TaxRates>,
        order_date: NaiveDate,
    ) -> Self {
        Self {
            products,
            tax_rates,
            order_date,
            list_prices: &NO_LIST_PRICES,
            promotions: &[],
            price_check: PriceCheck::None,
        }
    }

    /// The channel's list price of `sku` on the order date.
    fn list_price(&self, sku: &Sku) -> Option<Money> {
        let history = self.list_prices.get(sku)?;
        history.price_on(self.order_date).map(|p| p.price.amount)
    }
}

/// A line as the channel ordered it, before the catalogue prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
    /// None: the channel's list price on the order date.
    pub unit_price: Option<Money>,
}

/// A request body checked for shape, before the catalogue is consulted.
pub struct OrderRequest {
    pub external_id: String,
    pub customer: Customer,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub currency: Currency,
    pub ordered_at: Option<DateTime<Utc>>,
    pub lines: Vec<RequestedLine>,
    pub discounts: Vec<Discount>,
    pub shipping_cost: Money,
    pub payments: Vec<Payment>,
}

/// The body of `POST /orders` as serde reads it. A field whose refusal the API words its own way
/// is an `Option` or `Lax` here, checked by `OrderRequest::parse` in the order it always was.
/// Unknown fields are ignored, as they always were: channels send more than the contract names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderInput {
    external_id: Option<String>,
    customer: Option<Object<CustomerInput>>,
    shipping_address: Option<Object<OrderAddressInput>>,
    billing_address: Option<Object<OrderAddressInput>>,
    currency: Option<Currency>,
    ordered_at: Option<String>,
    lines: Option<Vec<Object<LineInput>>>,
    discounts: Option<Vec<Object<DiscountInput>>>,
    shipping_cost: Option<Lax<String>>,
    payments: Option<Vec<Object<PaymentInput>>>,
}

#[derive(Deserialize)]
struct CustomerInput {
    email: Option<String>,
    name: Option<String>,
    locale: Option<Lax<Locale>>,
}

/// `AddressInput` without its refusal of unknown fields (the admin API refuses them, an order
/// never did). A field missing is required; one given but not a string is refused as such.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderAddressInput {
    name: String,
    street: String,
    postal_code: String,
    city: String,
    country: String,
}

impl OrderAddressInput {
    fn validate(self, field: &str) -> Result<Address, ApiError> {
        let OrderAddressInput {
            name,
            street,
            postal_code,
            city,
            country,
        } = self;
        AddressInput {
            name,
            street,
            postal_code,
            city,
            country,
        }
        .validate(field)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineInput {
    line_id: Option<String>,
    sku: Option<String>,
    #[serde(default)]
    quantity: Lax<u64>,
    /// Absent (or null): the list price.
    unit_price: Option<Lax<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscountInput {
    code: Option<String>,
    #[serde(default)]
    amount: Lax<String>,
    min_order_value: Option<Lax<String>>,
}

#[derive(Deserialize)]
struct PaymentInput {
    #[serde(default)]
    method: Lax<PaymentMethod>,
    #[serde(default)]
    amount: Lax<String>,
    reference: Option<String>,
}

impl OrderRequest {
    /// Checks everything that needs no catalogue: shapes, ids, amounts, counts, currency, country.
    pub fn parse(v: &Value) -> Result<Self, ApiError> {
        let Object(input) = input::read::<Object<OrderInput>>(v)?;
        let external_id = input.external_id.ok_or_else(|| required("externalId"))?;
        check_id("externalId", &external_id)?;

        let Object(c) = input.customer.ok_or_else(|| required("customer"))?;
        let email = c.email.ok_or_else(|| not_a_string("customer.email"))?;
        if !is_email(&email) {
            return Err(ApiError::invalid(
                "customer.email",
                "customer.email is not a valid mail address",
            ));
        }
        let name = c.name.ok_or_else(|| not_a_string("customer.name"))?;
        check_text("customer.name", &name, 200)?;
        let locale = c
            .locale
            .map(|Lax(l)| {
                l.ok_or_else(|| {
                    ApiError::invalid("customer.locale", "customer.locale must be de or en")
                })
            })
            .transpose()?;

        let Object(shipping) = input
            .shipping_address
            .ok_or_else(|| required("shippingAddress"))?;
        let shipping_address = shipping.validate("shippingAddress")?;
        let billing_address = input
            .billing_address
            .map(|Object(b)| b.validate("billingAddress"))
            .transpose()?;
        let currency = input.currency.ok_or_else(|| required("currency"))?;
        let ordered_at = input
            .ordered_at
            .map(|t| {
                t.parse::<DateTime<Utc>>().map_err(|_| {
                    ApiError::invalid("orderedAt", "orderedAt must be an RFC 3339 timestamp")
                })
            })
            .transpose()?;

        let raw_lines = input.lines.ok_or_else(|| required("lines"))?;
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
        let mut lines: Vec<RequestedLine> = Vec::with_capacity(raw_lines.len());
        for (i, Object(l)) in raw_lines.into_iter().enumerate() {
            let p = format!("lines[{i}]");
            let line_id = l
                .line_id
                .ok_or_else(|| not_a_string(&format!("{p}.lineId")))?;
            check_id(&format!("{p}.lineId"), &line_id)?;
            if lines.iter().any(|l| l.line_id == line_id) {
                return Err(ApiError::invalid(
                    format!("{p}.lineId"),
                    format!("duplicate lineId {line_id}"),
                ));
            }
            let sku = l.sku.ok_or_else(|| not_a_string(&format!("{p}.sku")))?;
            let sku = Sku::parse(&format!("{p}.sku"), sku)?;
            let quantity = input::units(i, l.quantity)?;
            let unit_price = l
                .unit_price
                .map(|Lax(u)| Money::parse_given(&format!("{p}.unitPrice"), u.as_deref()))
                .transpose()?;
            lines.push(RequestedLine {
                line_id,
                sku,
                quantity,
                unit_price,
            });
        }

        let mut discounts = Vec::new();
        for (i, Object(d)) in input.discounts.unwrap_or_default().into_iter().enumerate() {
            let p = format!("discounts[{i}]");
            let code = d.code.ok_or_else(|| not_a_string(&format!("{p}.code")))?;
            check_text(&format!("{p}.code"), &code, 64)?;
            let amount = Money::parse_given(&format!("{p}.amount"), d.amount.0.as_deref())?;
            let min_order_value = d
                .min_order_value
                .map(|Lax(m)| Money::parse_given(&format!("{p}.minOrderValue"), m.as_deref()))
                .transpose()?;
            discounts.push(Discount {
                code,
                amount,
                min_order_value,
            });
        }
        let shipping_cost = match input.shipping_cost {
            None => Money::ZERO,
            Some(Lax(s)) => Money::parse_given("shippingCost", s.as_deref())?,
        };
        let raw_payments = input.payments.ok_or_else(|| required("payments"))?;
        let mut payments = Vec::with_capacity(raw_payments.len());
        for (i, Object(pm)) in raw_payments.into_iter().enumerate() {
            let p = format!("payments[{i}]");
            let method = pm.method.0.ok_or_else(|| {
                ApiError::invalid(
                    format!("{p}.method"),
                    "method must be card, paypal, invoice, gift_card or bonus_points",
                )
            })?;
            let amount = Money::parse_given(&format!("{p}.amount"), pm.amount.0.as_deref())?;
            if let Some(r) = &pm.reference {
                check_text(&format!("{p}.reference"), r, 200)?;
            }
            payments.push(Payment {
                method,
                amount,
                reference: pm.reference,
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

    /// Prices the order against the catalogue: unknown skus, list prices, promotions,
    /// discounts, tax; the payments must add up to the total.
    pub fn price(
        self,
        ctx: &PricingContext<'_>,
        id: OrderId,
        channel_id: ChannelId,
        now: DateTime<Utc>,
        who: String,
    ) -> Result<Order, ApiError> {
        let order = self.priced(ctx, id, channel_id, now, who)?;
        let paid_total: Money = order.payments.iter().map(|p| p.amount).sum();
        if paid_total != order.totals.total {
            return Err(ApiError::invalid(
                "payments",
                format!(
                    "payments add up to {paid_total}, the order total is {}",
                    order.totals.total
                ),
            ));
        }
        Ok(order)
    }

    /// The order as `price` would make it, whatever its payments add up to (`POST
    /// /orders/quote`: a channel that leaves pricing to us learns the total to pay).
    pub fn quote(
        self,
        ctx: &PricingContext<'_>,
        id: OrderId,
        channel_id: ChannelId,
        now: DateTime<Utc>,
    ) -> Result<Order, ApiError> {
        let who = format!("channel:{channel_id}");
        self.priced(ctx, id, channel_id, now, who)
    }

    fn priced(
        self,
        ctx: &PricingContext<'_>,
        id: OrderId,
        channel_id: ChannelId,
        now: DateTime<Utc>,
        who: String,
    ) -> Result<Order, ApiError> {
        let country = self.shipping_address.country.clone();
        let mut lines: Vec<OrderLine> = Vec::with_capacity(self.lines.len());
        let mut ordered: Vec<OrderedLine> = Vec::with_capacity(self.lines.len());
        for (
            i,
            RequestedLine {
                line_id,
                sku,
                quantity,
                unit_price,
            },
        ) in self.lines.into_iter().enumerate()
        {
            let product = ctx.products.get(&sku).ok_or_else(|| {
                ApiError::invalid(format!("lines[{i}].sku"), format!("unknown sku {sku}"))
            })?;
            product.check_orderable(&format!("lines[{i}].sku"))?;
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
            ordered.push(OrderedLine {
                sku: sku.clone(),
                group: product.group.clone(),
                quantity,
                unit_price,
            });
            lines.push(OrderLine {
                line_id,
                name: product.name.clone(),
                sku,
                quantity,
                // Priced below, with every line at hand (promotions span lines).
                unit_price: Money::ZERO,
                gross: Money::ZERO,
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
        let to_price = lines_to_price(&ordered, |sku| ctx.list_price(sku), ctx.price_check)
            .map_err(ApiError::from)?;
        let promotions = in_force(ctx.promotions, &channel_id, ctx.order_date);
        let priced = pricing::apply(&to_price, &promotions, &self.discounts)?;
        for ((line, p), l) in lines.iter_mut().zip(&priced.lines).zip(&to_price) {
            line.unit_price = l.unit_price;
            line.gross = p.gross;
            line.discount_shares = p.discount_shares.clone();
            line.discount_share = p.discount_share;
            line.paid = p.paid;
            line.tax = tax_of(line.paid, line.tax_rate);
        }
        // The record refunds need, kept only when a promotion gave the order something.
        let promoted = lines
            .iter()
            .flat_map(|l| &l.discount_shares)
            .any(|s| promotions.iter().any(|p| p.id == s.code));
        let applied_promotions = promoted.then_some(priced.promotions);
        let merchandise: Money = lines.iter().map(|l| l.gross).sum();
        let discount_total: Money = lines.iter().map(|l| l.discount_share).sum();
        let total: Money = lines.iter().map(|l| l.paid).sum::<Money>() + self.shipping_cost;
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
            promotions: applied_promotions,
            updated_at: None,
        };
        order.ledger = opening_entries(&order);
        Ok(order)
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
pub(crate) mod pricing_tests;
#[cfg(test)]
mod supply_dates;
#[cfg(test)]
mod tests;
