//! The accounts the finance export books on (`GET|PUT /admin/finance/accounts`) and the DATEV
//! settings of the Buchungsstapel header. A field left out of a PUT takes its SKR03 default, so
//! that `{}` gives the defaults and `{"datev": {...}}` only sets the DATEV numbers.
//!
//! SKR03 defaults (account length 4; with a longer `datev.accountLength` every G/L account is
//! extended by trailing zeros, `8400` -> `84000`, as DATEV does, and the debtor becomes `1`
//! followed by that many zeros):
//!
//! | field                               | default | SKR03 name                                                 |
//! |-------------------------------------|---------|------------------------------------------------------------|
//! | `revenue` DE 0.19 (and 0.16, 2020)  | 8400    | Erlöse 19 % USt (automatic account; DATEV takes 16 % for July to December 2020 by the date) |
//! | `revenue` DE 0.07 (and 0.05, 2020)  | 8300    | Erlöse 7 % USt (automatic account)                         |
//! | `revenue` DE 0                      | 8200    | Erlöse (no VAT)                                             |
//! | `revenueOtherEu` (another EU country, rate above 0) | 8320 | Erlöse aus im anderen EU-Land steuerpflichtigen Lieferungen (OSS distance sales) |
//! | `revenueTaxFreeEu` (another EU country, rate 0) | 8125 | Steuerfreie innergemeinschaftliche Lieferungen § 4 Nr. 1b UStG |
//! | `revenueTaxFreeThirdCountry` (outside the EU, rate 0) | 8120 | Steuerfreie Umsätze § 4 Nr. 1a UStG (Ausfuhr Drittland) |
//! | `receivables`                       | 10000   | the first debtor (Debitor); DATEV books no receivable on the collective account 1400 |
//! | `refunds`                           | 10000   | the same debtor: a credit document and its payout settle on the customer's account |
//! | `chargebacks`                       | 1460    | Zweifelhafte Forderungen                                    |
//! | `clearing.card`, `clearing.paypal`  | 1360    | Geldtransit (the payment provider's payouts clear it)      |
//! | `clearing.invoice`                  | 1200    | Bank (the customer transfers to the retailer's bank)       |
//! | `clearing.giftCard`, `clearing.bonusPoints` | 1700 | Sonstige Verbindlichkeiten (the voucher or points the redemption settles) |
//! | `datev.fiscalYearStart`             | `01-01` | Wirtschaftsjahr-Beginn (month and day)                     |
//! | `datev.accountLength`               | 4       | Sachkontenlänge (4 to 8)                                   |
//! | `datev.consultantNumber`, `datev.clientNumber` | none | Beraternummer (1001 to 9999999), Mandantennummer (1 to 99999): needed for the DATEV file |
//!
//! A (country, rate) that neither `revenue` nor the three fallbacks cover (a rate above 0 outside
//! the EU) has no account: the export answers 422 naming it.

use crate::ids::CountryCode;
use crate::input::{self, Object};
use crate::order::PaymentMethod;
use crate::ApiError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The EU member states (ISO 3166-1), for the revenue fallbacks and DATEV's OSS columns.
pub const EU_MEMBERS: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The retailer's own country: DATEV is German bookkeeping, and the defaults are SKR03's.
pub const HOME_COUNTRY: &str = "DE";

pub fn is_eu(country: &CountryCode) -> bool {
    EU_MEMBERS.contains(&country.as_str())
}

/// The accounts document, as GET shows it and PUT replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinanceAccounts {
    /// Revenue per (country, rate); looked up before the fallbacks.
    pub revenue: Vec<RevenueAccount>,
    pub revenue_other_eu: String,
    pub revenue_tax_free_eu: String,
    pub revenue_tax_free_third_country: String,
    pub clearing: ClearingAccounts,
    pub receivables: String,
    pub refunds: String,
    pub chargebacks: String,
    pub datev: DatevSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueAccount {
    pub country: CountryCode,
    #[serde(
        serialize_with = "rate_as_text",
        deserialize_with = "rust_decimal::serde::str::deserialize"
    )]
    pub rate: Decimal,
    pub account: String,
}

/// A rate as the journal writes it (`0.20`, not `0.2`).
fn rate_as_text<S: serde::Serializer>(rate: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::rate_text(*rate))
}

/// Where the money of each payment method arrives and leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearingAccounts {
    pub card: String,
    pub paypal: String,
    pub invoice: String,
    pub gift_card: String,
    pub bonus_points: String,
}

/// The numbers of the DATEV header record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatevSettings {
    /// `null` until set: the DATEV file needs it, the journal does not.
    #[serde(default)]
    pub consultant_number: Option<u32>,
    #[serde(default)]
    pub client_number: Option<u32>,
    /// Month and day the fiscal year begins, `MM-DD`.
    pub fiscal_year_start: String,
    pub account_length: u8,
}

const DEFAULT_LENGTH: u8 = 4;

/// What `GET /admin/finance/accounts` shows before any PUT: SKR03 at account length 4.
impl Default for FinanceAccounts {
    fn default() -> Self {
        Self::skr03(DEFAULT_LENGTH)
    }
}

/// A 4-digit SKR03 account at `length` digits (trailing zeros).
fn at_length(account: &str, length: u8) -> String {
    let mut a = account.to_string();
    while a.len() < usize::from(length) {
        a.push('0');
    }
    a
}

/// The first debtor at `length`: `1` and `length` zeros.
fn first_debtor(length: u8) -> String {
    format!("1{}", "0".repeat(usize::from(length)))
}

impl FinanceAccounts {
    /// The SKR03 defaults at DATEV's account length `length`.
    pub fn skr03(length: u8) -> Self {
        let g = |a: &str| at_length(a, length);
        // "DE" is a country code: `ok()` only avoids an unwrap.
        let home = CountryCode::try_from(HOME_COUNTRY).ok();
        let revenue = [
            (Decimal::new(19, 2), "8400"),
            (Decimal::new(16, 2), "8400"),
            (Decimal::new(7, 2), "8300"),
            (Decimal::new(5, 2), "8300"),
            (Decimal::ZERO, "8200"),
        ]
        .into_iter()
        .filter_map(|(rate, account)| {
            Some(RevenueAccount {
                country: home.clone()?,
                rate,
                account: g(account),
            })
        })
        .collect();
        FinanceAccounts {
            revenue,
            revenue_other_eu: g("8320"),
            revenue_tax_free_eu: g("8125"),
            revenue_tax_free_third_country: g("8120"),
            clearing: ClearingAccounts {
                card: g("1360"),
                paypal: g("1360"),
                invoice: g("1200"),
                gift_card: g("1700"),
                bonus_points: g("1700"),
            },
            receivables: first_debtor(length),
            refunds: first_debtor(length),
            chargebacks: g("1460"),
            datev: DatevSettings {
                consultant_number: None,
                client_number: None,
                fiscal_year_start: "01-01".into(),
                account_length: length,
            },
        }
    }

    /// The revenue account of (country, rate): `revenue`, else the fallback for its kind.
    pub fn revenue_account(&self, country: &CountryCode, rate: Decimal) -> Result<&str, ApiError> {
        let rate = rate.normalize();
        if let Some(r) = self
            .revenue
            .iter()
            .find(|r| r.country == *country && r.rate.normalize() == rate)
        {
            return Ok(&r.account);
        }
        match (is_eu(country) && country.as_str() != HOME_COUNTRY, rate.is_zero()) {
            (true, false) => Ok(&self.revenue_other_eu),
            (true, true) => Ok(&self.revenue_tax_free_eu),
            (false, true) if country.as_str() != HOME_COUNTRY => {
                Ok(&self.revenue_tax_free_third_country)
            }
            _ => Err(ApiError::invalid(
                "revenue",
                format!(
                    "no revenue account for {country} at {}: add it to revenue (PUT /admin/finance/accounts)",
                    super::rate_text(rate)
                ),
            )),
        }
    }

    pub fn clearing(&self, method: PaymentMethod) -> &str {
        match method {
            PaymentMethod::Card => &self.clearing.card,
            PaymentMethod::Paypal => &self.clearing.paypal,
            PaymentMethod::Invoice => &self.clearing.invoice,
            PaymentMethod::GiftCard => &self.clearing.gift_card,
            PaymentMethod::BonusPoints => &self.clearing.bonus_points,
        }
    }

    /// Reads a PUT body: every field optional (its default), every given one checked, a 422
    /// naming the first field that is wrong.
    pub fn parse(body: &serde_json::Value) -> Result<Self, ApiError> {
        let Object(given) = input::read_as_serde::<Object<AccountsInput>>(body)?;
        let datev = given.datev.map(|Object(d)| d).unwrap_or_default();
        let length = match datev.account_length {
            None => DEFAULT_LENGTH,
            Some(n) if (4..=8).contains(&n) => n as u8,
            Some(_) => {
                return Err(ApiError::invalid(
                    "datev.accountLength",
                    "datev.accountLength must be an integer from 4 to 8",
                ))
            }
        };
        let mut out = Self::skr03(length);
        if let Some(start) = datev.fiscal_year_start {
            fiscal_year_start(&start).ok_or_else(|| {
                ApiError::invalid(
                    "datev.fiscalYearStart",
                    "datev.fiscalYearStart must be a month and day MM-DD, like \"01-01\"",
                )
            })?;
            out.datev.fiscal_year_start = start;
        }
        if let Some(n) = datev.consultant_number {
            if !(1001..=9_999_999).contains(&n) {
                return Err(ApiError::invalid(
                    "datev.consultantNumber",
                    "datev.consultantNumber must be an integer from 1001 to 9999999",
                ));
            }
            out.datev.consultant_number = Some(n as u32);
        }
        if let Some(n) = datev.client_number {
            if !(1..=99_999).contains(&n) {
                return Err(ApiError::invalid(
                    "datev.clientNumber",
                    "datev.clientNumber must be an integer from 1 to 99999",
                ));
            }
            out.datev.client_number = Some(n as u32);
        }
        let ledger = |field: &str, given: Option<String>, into: &mut String| {
            if let Some(a) = given {
                *into = account(field, a, length, false)?;
            }
            Ok::<_, ApiError>(())
        };
        ledger(
            "revenueOtherEu",
            given.revenue_other_eu,
            &mut out.revenue_other_eu,
        )?;
        ledger(
            "revenueTaxFreeEu",
            given.revenue_tax_free_eu,
            &mut out.revenue_tax_free_eu,
        )?;
        ledger(
            "revenueTaxFreeThirdCountry",
            given.revenue_tax_free_third_country,
            &mut out.revenue_tax_free_third_country,
        )?;
        ledger("chargebacks", given.chargebacks, &mut out.chargebacks)?;
        if let Some(a) = given.receivables {
            out.receivables = account("receivables", a, length, true)?;
        }
        if let Some(a) = given.refunds {
            out.refunds = account("refunds", a, length, true)?;
        }
        if let Some(Object(c)) = given.clearing {
            ledger("clearing.card", c.card, &mut out.clearing.card)?;
            ledger("clearing.paypal", c.paypal, &mut out.clearing.paypal)?;
            ledger("clearing.invoice", c.invoice, &mut out.clearing.invoice)?;
            ledger(
                "clearing.giftCard",
                c.gift_card,
                &mut out.clearing.gift_card,
            )?;
            ledger(
                "clearing.bonusPoints",
                c.bonus_points,
                &mut out.clearing.bonus_points,
            )?;
        }
        if let Some(list) = given.revenue {
            out.revenue = revenue(list, length)?;
        }
        Ok(out)
    }
}

/// The fiscal year's first day in `year` for `MM-DD` (None when it is not a day of every year).
pub fn fiscal_year_start(mm_dd: &str) -> Option<(u32, u32)> {
    let (m, d) = mm_dd.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // 2027 is no leap year: 02-29 is refused, as a year would lack its first day.
    NaiveDate::from_ymd_opt(2027, m, d).map(|_| (m, d))
}

/// An account number: digits, no leading zero, at most `length` (a G/L account) or, where a
/// debtor may stand (`personal`), `length + 1` digits.
fn account(field: &str, a: String, length: u8, personal: bool) -> Result<String, ApiError> {
    let max = usize::from(length) + usize::from(personal);
    let ok = !a.is_empty()
        && a.len() <= max
        && a.bytes().all(|b| b.is_ascii_digit())
        && !a.starts_with('0');
    if ok {
        Ok(a)
    } else {
        let what = if personal {
            format!("a G/L account of at most {length} digits or a debtor of {max}")
        } else {
            format!("an account number of at most {length} digits")
        };
        Err(ApiError::invalid(
            field,
            format!("{field} must be {what}, without a leading zero"),
        ))
    }
}

fn revenue(list: Vec<Object<RevenueInput>>, length: u8) -> Result<Vec<RevenueAccount>, ApiError> {
    let mut out: Vec<RevenueAccount> = Vec::with_capacity(list.len());
    for (i, Object(r)) in list.into_iter().enumerate() {
        let at = |f: &str| format!("revenue[{i}].{f}");
        let country = CountryCode::parse(&at("country"), &r.country)?;
        let rate = r
            .rate
            .parse::<Decimal>()
            .ok()
            .filter(|d| !d.is_sign_negative() && *d < Decimal::ONE && r.rate.trim() == r.rate)
            .ok_or_else(|| {
                ApiError::invalid(
                    at("rate"),
                    format!(
                        "{} must be a rate from 0 to below 1 as a string, like \"0.19\"",
                        at("rate")
                    ),
                )
            })?
            .normalize();
        let account = account(&at("account"), r.account, length, false)?;
        if out.iter().any(|o| o.country == country && o.rate == rate) {
            return Err(ApiError::invalid(
                at("rate"),
                format!("{country} at {} is listed twice", super::rate_text(rate)),
            ));
        }
        out.push(RevenueAccount {
            country,
            rate,
            account,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountsInput {
    revenue: Option<Vec<Object<RevenueInput>>>,
    revenue_other_eu: Option<String>,
    revenue_tax_free_eu: Option<String>,
    revenue_tax_free_third_country: Option<String>,
    clearing: Option<Object<ClearingInput>>,
    receivables: Option<String>,
    refunds: Option<String>,
    chargebacks: Option<String>,
    datev: Option<Object<DatevInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevenueInput {
    country: String,
    rate: String,
    account: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClearingInput {
    card: Option<String>,
    paypal: Option<String>,
    invoice: Option<String>,
    gift_card: Option<String>,
    bonus_points: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DatevInput {
    consultant_number: Option<u64>,
    client_number: Option<u64>,
    fiscal_year_start: Option<String>,
    account_length: Option<u64>,
}
