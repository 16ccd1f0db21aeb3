//! The retailer's configuration: channels, fulfillers, products with their sources, tax rates,
//! branding. Each `*Input::validate` turns an admin request body into a trusted value.

use crate::ids::{check_text, ChannelId, CountryCode, Currency, FulfillerId, Sku};
use crate::input::Lax;
use crate::money::Money;
use crate::ApiError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Parses a JSON body into `T`, turning serde's complaint into a 422 that names the problem (in
/// serde's words, as these inputs always answered) and the field (`rates[1].rate`).
pub fn from_body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    crate::input::read_as_serde(&v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Webshop,
    App,
    Marketplace,
    Store,
    Catalogue,
    Callcentre,
    Direct,
}

/// Whether a channel's given unit prices must be the list prices (PUT channel, default none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceCheck {
    #[default]
    None,
    Reject,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
    pub kind: ChannelKind,
    /// The currency of its orders and prices. None only for a channel stored before channels
    /// had one: it keeps accepting every currency it accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub price_check: PriceCheck,
    /// False: the channel may place no new orders (403 `channel_inactive`); what it placed
    /// stays readable. Channels stored before the flag existed are active.
    #[serde(default = "active")]
    pub active: bool,
}

/// What an item stored before `active` existed is: active.
fn active() -> bool {
    true
}

impl Channel {
    /// 403 `channel_inactive` when the channel may place no new orders.
    pub fn check_active(&self) -> Result<(), ApiError> {
        if self.active {
            return Ok(());
        }
        Err(ApiError::new(
            403,
            crate::error::ErrorCode::ChannelInactive,
            format!("channel {} is inactive and takes no new orders", self.id),
        ))
    }

    /// 422 when an order of this channel is in another currency than the channel's.
    pub fn check_currency(&self, currency: &Currency) -> Result<(), ApiError> {
        match &self.currency {
            Some(own) if own != currency => Err(ApiError::invalid(
                "currency",
                format!("channel {} takes orders in {own}", self.id),
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelInput {
    pub name: String,
    pub kind: ChannelKind,
    pub currency: Option<Currency>,
    #[serde(default)]
    pub price_check: PriceCheck,
    pub active: Option<bool>,
}

impl ChannelInput {
    /// The checks that need nothing stored: the id and the name.
    pub fn check(&self, id: &str) -> Result<ChannelId, ApiError> {
        let id = ChannelId::parse("channelId", id)?;
        check_text("name", &self.name, 200)?;
        Ok(id)
    }

    /// The channel as PUT; `existing` is what was stored before. A new channel without a
    /// currency takes EUR; one stored before channels had a currency keeps accepting every
    /// currency until a PUT names one.
    pub fn validate(self, id: &str, existing: Option<&Channel>) -> Result<Channel, ApiError> {
        let id = self.check(id)?;
        let currency = match (self.currency, existing) {
            (Some(c), _) => Some(c),
            (None, Some(old)) => old.currency.clone(),
            (None, None) => Some(Currency::parse("currency", "EUR")?),
        };
        Ok(Channel {
            id,
            name: self.name,
            kind: self.kind,
            currency,
            price_check: self.price_check,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: CountryCode,
}

/// An address as a request body gives it: checked (naming the field) into an `Address`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressInput {
    pub name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl AddressInput {
    pub fn validate(self, field: &str) -> Result<Address, ApiError> {
        check_text(&format!("{field}.name"), &self.name, 200)?;
        check_text(&format!("{field}.street"), &self.street, 200)?;
        check_text(&format!("{field}.postalCode"), &self.postal_code, 20)?;
        check_text(&format!("{field}.city"), &self.city, 200)?;
        let country = CountryCode::parse(&format!("{field}.country"), self.country)?;
        Ok(Address {
            name: self.name,
            street: self.street,
            postal_code: self.postal_code,
            city: self.city,
            country,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulfillerKind {
    Warehouse,
    Dropshipper,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfiller {
    pub id: FulfillerId,
    pub name: String,
    pub kind: FulfillerKind,
    pub email: String,
    /// Hours after routing its delivery orders are due (then late: reminded, the customer
    /// told). None: the process settings' `escalation.remindFulfillerAfterHours` in force when
    /// the delivery order is made (fulfillers stored before the settings carry 48).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<u32>,
    pub stock_max_age_hours: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    pub address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_address: Option<Address>,
    /// False: routing skips it as a source and nothing new is sent to it; its open delivery
    /// orders stay its work.
    #[serde(default = "active")]
    pub active: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FulfillerInput {
    pub name: String,
    pub kind: FulfillerKind,
    pub email: String,
    pub sla_hours: Option<u32>,
    pub stock_max_age_hours: Option<u32>,
    pub locale: Option<Locale>,
    pub address: AddressInput,
    pub return_address: Option<AddressInput>,
    pub active: Option<bool>,
}

/// A plausible mail address: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && s.len() <= 254
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

impl Fulfiller {
    /// 422 naming `fulfillerId` when the fulfiller is inactive: it gets no new delivery orders
    /// (a reroute or a replacement to it is refused; routing skips it).
    pub fn check_takes_new_work(&self) -> Result<(), ApiError> {
        if self.active {
            return Ok(());
        }
        Err(ApiError::invalid(
            "fulfillerId",
            format!(
                "fulfiller {} is inactive and takes no new delivery orders",
                self.id
            ),
        ))
    }

    /// Hours after routing a delivery order to it is due: its own `slaHours`, else the process
    /// settings' `remindFulfillerAfterHours`.
    pub fn due_hours(&self, process: &crate::process::ProcessSettings) -> u32 {
        self.sla_hours
            .unwrap_or(process.escalation.remind_fulfiller_after_hours)
    }
}

impl FulfillerInput {
    pub fn validate(self, id: &str) -> Result<Fulfiller, ApiError> {
        let id = FulfillerId::parse("fulfillerId", id)?;
        check_text("name", &self.name, 200)?;
        if !is_email(&self.email) {
            return Err(ApiError::invalid(
                "email",
                "email is not a valid mail address",
            ));
        }
        let sla_hours = self.sla_hours;
        // 0 is allowed: "ship the moment it arrives" (every delivery order is late at once).
        if sla_hours.is_some_and(|h| h > 24 * 90) {
            return Err(ApiError::invalid("slaHours", "slaHours must be 0..2160"));
        }
        let stock_max_age_hours = self.stock_max_age_hours.unwrap_or(24);
        if !(1..=24 * 90).contains(&stock_max_age_hours) {
            return Err(ApiError::invalid(
                "stockMaxAgeHours",
                "stockMaxAgeHours must be 1..2160",
            ));
        }
        let address = self.address.validate("address")?;
        let return_address = self
            .return_address
            .map(|a| a.validate("returnAddress"))
            .transpose()?;
        Ok(Fulfiller {
            id,
            name: self.name,
            kind: self.kind,
            email: self.email,
            sla_hours,
            stock_max_age_hours,
            locale: self.locale,
            address,
            return_address,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaxClass {
    Standard,
    Reduced,
    Zero,
}

impl TaxClass {
    pub fn as_str(self) -> &'static str {
        match self {
            TaxClass::Standard => "standard",
            TaxClass::Reduced => "reduced",
            TaxClass::Zero => "zero",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(TaxClass::Standard),
            "reduced" => Some(TaxClass::Reduced),
            "zero" => Some(TaxClass::Zero),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    pub fulfiller_id: FulfillerId,
    pub priority: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_price: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub tax_class: TaxClass,
    pub group: String,
    pub allow_backorder: bool,
    pub sources: Vec<Source>,
    /// How many stock items each fulfiller's stock of the product is spread over (1: one item;
    /// more for a promoted sku that takes more reservations a second than one item can,
    /// `stock::shards`).
    #[serde(default = "one_stock_item")]
    pub stock_shards: u16,
    /// False: new orders of it are refused (422 `product_inactive`); orders placed before keep it.
    #[serde(default = "active")]
    pub active: bool,
}

impl Product {
    /// 422 `product_inactive` naming the order line (`field`) when it may not be ordered.
    pub fn check_orderable(&self, field: &str) -> Result<(), ApiError> {
        if self.active {
            return Ok(());
        }
        Err(ApiError::new(
            422,
            crate::error::ErrorCode::ProductInactive,
            format!("product {} is inactive and cannot be ordered", self.sku),
        )
        .at(field))
    }
}

fn one_stock_item() -> u16 {
    1
}

/// A fulfiller a product can come from: the stock level there decides who ships.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourcePair {
    pub fulfiller_id: FulfillerId,
    pub sku: Sku,
}

/// Every (fulfiller, sku) the products can come from.
pub fn source_pairs<'a>(products: impl IntoIterator<Item = &'a Product>) -> Vec<SourcePair> {
    products
        .into_iter()
        .flat_map(|p| {
            p.sources.iter().map(|s| SourcePair {
                fulfiller_id: s.fulfiller_id.clone(),
                sku: p.sku.clone(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    pub name: String,
    pub tax_class: TaxClass,
    pub group: String,
    #[serde(default)]
    pub allow_backorder: bool,
    pub sources: Vec<SourceInput>,
    pub stock_shards: Option<u64>,
    pub active: Option<bool>,
}

/// A product's source as the body gives it; `ProductInput::validate` checks it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceInput {
    pub fulfiller_id: String,
    pub priority: u32,
    /// Read as given, for `Money::parse_given` to word a refusal (`must be a string amount`).
    pub purchase_price: Option<Lax<String>>,
}

impl ProductInput {
    /// Validates the product; `fulfiller_exists` tells whether a source's fulfiller is configured.
    pub fn validate(
        self,
        sku: &str,
        fulfiller_exists: impl Fn(&FulfillerId) -> bool,
    ) -> Result<Product, ApiError> {
        let sku = Sku::parse("sku", sku)?;
        check_text("name", &self.name, 200)?;
        check_text("group", &self.group, 200)?;
        if self.sources.len() > 50 {
            return Err(ApiError::invalid("sources", "at most 50 sources"));
        }
        let mut sources = Vec::with_capacity(self.sources.len());
        for (i, raw) in self.sources.into_iter().enumerate() {
            let field = format!("sources[{i}]");
            let purchase_price = raw
                .purchase_price
                .map(|Lax(p)| Money::parse_given(&format!("{field}.purchasePrice"), p.as_deref()))
                .transpose()?;
            let s = Source {
                fulfiller_id: FulfillerId::parse(
                    &format!("{field}.fulfillerId"),
                    raw.fulfiller_id,
                )?,
                priority: raw.priority,
                purchase_price,
            };
            if !fulfiller_exists(&s.fulfiller_id) {
                return Err(ApiError::invalid(
                    format!("{field}.fulfillerId"),
                    format!("unknown fulfiller {}", s.fulfiller_id),
                ));
            }
            if sources
                .iter()
                .any(|o: &Source| o.fulfiller_id == s.fulfiller_id)
            {
                return Err(ApiError::invalid(
                    format!("{field}.fulfillerId"),
                    "duplicate source fulfiller",
                ));
            }
            sources.push(s);
        }
        let max = crate::stock::shards::MAX_STOCK_SHARDS;
        let stock_shards = match self.stock_shards {
            None => 1,
            Some(n) => u16::try_from(n)
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid("stockShards", format!("stockShards must be 1..{max}"))
                })?,
        };
        Ok(Product {
            sku,
            name: self.name,
            tax_class: self.tax_class,
            group: self.group,
            allow_backorder: self.allow_backorder,
            sources,
            stock_shards,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRatePeriod {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRates {
    pub country: CountryCode,
    pub tax_class: TaxClass,
    pub rates: Vec<TaxRatePeriod>,
}

impl TaxRates {
    /// The rate valid on `date` (both ends of a period included).
    pub fn rate_on(&self, date: NaiveDate) -> Option<Decimal> {
        self.rates
            .iter()
            .find(|p| p.valid_from <= date && p.valid_to.is_none_or(|to| date <= to))
            .map(|p| p.rate)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxRatesInput {
    pub rates: Vec<TaxRatePeriod>,
}

impl TaxRatesInput {
    pub fn validate(self, country: &str, tax_class: &str) -> Result<TaxRates, ApiError> {
        let country = CountryCode::parse("country", country)?;
        let tax_class = TaxClass::parse(tax_class).ok_or_else(|| {
            ApiError::invalid("taxClass", "taxClass must be standard, reduced or zero")
        })?;
        if self.rates.is_empty() {
            return Err(ApiError::invalid(
                "rates",
                "at least one rate period is required",
            ));
        }
        let mut rates = self.rates;
        for (i, p) in rates.iter().enumerate() {
            if p.rate.is_sign_negative() || p.rate >= Decimal::ONE {
                return Err(ApiError::invalid(
                    format!("rates[{i}].rate"),
                    "rate must be in [0, 1)",
                ));
            }
            if p.valid_to.is_some_and(|to| to < p.valid_from) {
                return Err(ApiError::invalid(
                    format!("rates[{i}].validTo"),
                    "validTo is before validFrom",
                ));
            }
        }
        rates.sort_by_key(|p| p.valid_from);
        for w in rates.windows(2) {
            let open_or_overlapping = w[0].valid_to.is_none_or(|to| to >= w[1].valid_from);
            if open_or_overlapping {
                return Err(ApiError::invalid("rates", "rate periods must not overlap"));
            }
        }
        Ok(TaxRates {
            country,
            tax_class,
            rates,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    De,
    En,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub company_name: String,
    pub address: Address,
    pub vat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_png_base64: Option<String>,
    pub primary_color: String,
    pub footer: String,
    pub email_from: String,
    pub locale: Locale,
    pub time_zone: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandingInput {
    pub company_name: String,
    pub address: AddressInput,
    pub vat_id: String,
    pub logo_png_base64: Option<String>,
    pub primary_color: String,
    pub footer: String,
    pub email_from: String,
    pub locale: Locale,
    pub time_zone: Option<String>,
}

impl BrandingInput {
    pub fn validate(self) -> Result<Branding, ApiError> {
        check_text("companyName", &self.company_name, 200)?;
        let address = self.address.validate("address")?;
        check_text("vatId", &self.vat_id, 30)?;
        let c = self.primary_color.as_bytes();
        if c.len() != 7 || c[0] != b'#' || !c[1..].iter().all(u8::is_ascii_hexdigit) {
            return Err(ApiError::invalid(
                "primaryColor",
                "primaryColor must be #RRGGBB",
            ));
        }
        if self.footer.chars().count() > 1000 {
            return Err(ApiError::invalid(
                "footer",
                "footer is longer than 1000 characters",
            ));
        }
        if !is_email(&self.email_from) {
            return Err(ApiError::invalid(
                "emailFrom",
                "emailFrom is not a valid mail address",
            ));
        }
        if let Some(logo) = &self.logo_png_base64 {
            // A PNG starts with \x89PNG, which is "iVBORw0KGgo" in base64.
            if !logo.starts_with("iVBORw0KGgo") || logo.len() > 200_000 {
                return Err(ApiError::invalid(
                    "logoPngBase64",
                    "logoPngBase64 must be a base64 PNG under 150 KB",
                ));
            }
        }
        let time_zone = self.time_zone.unwrap_or_else(|| "Europe/Berlin".into());
        if !is_time_zone(&time_zone) {
            return Err(ApiError::invalid(
                "timeZone",
                "timeZone must be an IANA time zone such as Europe/Berlin",
            ));
        }
        Ok(Branding {
            company_name: self.company_name,
            address,
            vat_id: self.vat_id,
            logo_png_base64: self.logo_png_base64,
            primary_color: self.primary_color,
            footer: self.footer,
            email_from: self.email_from,
            locale: self.locale,
            time_zone,
        })
    }
}

pub mod listing;

#[cfg(test)]
mod tests;

/// The calendar date of `at` in the retailer's time zone (docs/api.md: dates are meant there).
/// An unknown zone name falls back to Europe/Berlin, the documented default.
pub fn local_date(at: chrono::DateTime<chrono::Utc>, time_zone: &str) -> NaiveDate {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
    at.with_timezone(&tz).date_naive()
}

/// True when `name` is an IANA time zone we can compute dates in.
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

mod refund_policy;
pub use refund_policy::{RefundPolicy, RefundPolicyInput};

/// The UTC instants a date range (`from`, `to`, both ends included) covers in `time_zone`.
pub fn day_bounds(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    time_zone: &str,
) -> (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
    let start = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let lo = from.and_then(start);
    // The end of `to` is the start of the next day, less a microsecond.
    let hi = to
        .and_then(|d| d.succ_opt())
        .and_then(start)
        .map(|t| t - chrono::Duration::microseconds(1));
    (lo, hi)
}
