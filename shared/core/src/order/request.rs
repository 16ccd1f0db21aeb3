//! The channel's order request: parsed and validated at the edge, then priced into an order.

use super::*;
use crate::catalogue::{is_email, Address, AddressInput, Locale, Product, TaxClass, TaxRates};
use crate::ids::{check_id, check_text, ChannelId, CountryCode, Sku};

pub struct PricingContext<'a> {
    pub products: &'a BTreeMap<Sku, Product>,
    /// Keyed by `(country, taxClass)`.
    pub tax_rates: &'a BTreeMap<(CountryCode, TaxClass), TaxRates>,
    /// The order date in the retailer's time zone (the supply date before shipment).
    pub order_date: NaiveDate,
}

/// A line as the channel ordered it, before the catalogue prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Money,
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

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ApiError> {
    v.get(name)
        .filter(|x| !x.is_null())
        .ok_or_else(|| ApiError::required(name, format!("{name} is required")))
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
                .ok_or_else(|| ApiError::required(p.clone(), format!("{p} is required")))?,
            &p,
        )
    };
    AddressInput {
        name: get("name")?,
        street: get("street")?,
        postal_code: get("postalCode")?,
        city: get("city")?,
        country: get("country")?,
    }
    .validate(path)
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
        let currency = Currency::parse("currency", string(field(v, "currency")?, "currency")?)?;
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
        let mut lines: Vec<RequestedLine> = Vec::with_capacity(raw_lines.len());
        for (i, l) in raw_lines.iter().enumerate() {
            let p = format!("lines[{i}]");
            object(l, &p)?;
            let line_id = string(
                l.get("lineId").unwrap_or(&Value::Null),
                &format!("{p}.lineId"),
            )?;
            check_id(&format!("{p}.lineId"), &line_id)?;
            if lines.iter().any(|l| l.line_id == line_id) {
                return Err(ApiError::invalid(
                    format!("{p}.lineId"),
                    format!("duplicate lineId {line_id}"),
                ));
            }
            let sku = Sku::parse(
                &format!("{p}.sku"),
                string(l.get("sku").unwrap_or(&Value::Null), &format!("{p}.sku"))?,
            )?;
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
            lines.push(RequestedLine {
                line_id,
                sku,
                quantity: quantity as u32,
                unit_price,
            });
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
        channel_id: ChannelId,
        now: DateTime<Utc>,
        who: String,
    ) -> Result<Order, ApiError> {
        let country = self.shipping_address.country.clone();
        let mut lines: Vec<OrderLine> = Vec::with_capacity(self.lines.len());
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
        order.ledger = opening_entries(&order);
        Ok(order)
    }
}
