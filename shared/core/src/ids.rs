//! Identifiers: what docs/api.md allows (`[A-Za-z0-9._-]{1,64}`), checked at the edge; and the
//! validated newtypes (`Sku`, `OrderId`, `ChannelId`, `FulfillerId`, `SubscriptionId`,
//! `CountryCode`, `Currency`) a value is parsed into once, so that code past the edge never checks
//! it again.
//!
//! Each newtype deserializes through the same check as its `parse`, so a value read back from
//! the table or a queue is the same validated type. That cannot refuse stored data: every stored
//! value entered through these very checks (the same rules as the input checks that came before
//! the newtypes), and generated ids (`ord_<hex>`, ...) satisfy the id rule.

use crate::error::Invalid;
use crate::ApiError;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Borrow;
use std::fmt;

/// True when `s` is a valid id of docs/api.md.
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks an id taken from a path or body, naming the field on failure.
pub fn check_id(field: &str, s: &str) -> Result<(), ApiError> {
    if is_valid_id(s) {
        Ok(())
    } else {
        Err(
            ApiError::invalid(field, format!("{field} must match [A-Za-z0-9._-]{{1,64}}"))
                .because(Invalid::NotAnId),
        )
    }
}

/// Checks a free-text field: not blank, at most `max` characters.
pub fn check_text(field: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.trim().is_empty() {
        return Err(
            ApiError::invalid(field, format!("{field} must not be empty")).because(Invalid::Empty),
        );
    }
    if s.chars().count() > max {
        return Err(
            ApiError::invalid(field, format!("{field} is longer than {max} characters"))
                .because(Invalid::TooLong),
        );
    }
    Ok(())
}

const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ISO 3166-1 alpha-2, upper case.
fn is_country(code: &str) -> bool {
    code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code)
}

/// ISO 4217 currencies with two minor units (docs/api.md: others are refused).
fn is_two_decimal_currency(code: &str) -> bool {
    const TWO_DECIMALS: &[&str] = &[
        "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "CAD",
        "AUD", "NZD", "SGD", "HKD", "CNY", "INR", "MXN", "BRL", "ZAR", "TRY", "ILS", "AED", "SAR",
        "THB", "MYR", "PHP", "RSD",
    ];
    TWO_DECIMALS.contains(&code)
}

/// A validated string: `$name::parse(field, s)` checks it with `$check` (which names `field` in
/// its error); `TryFrom<String>` and `Deserialize` check it under the default field `$field`.
macro_rules! validated {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        /// Written as the bare string (`"SKU-1"`), so that logs read as before the newtype.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl $name {
            /// Checks `s`, naming `field` (a path such as `lines[2].sku`) in the error.
            pub fn parse(field: &str, s: impl Into<String>) -> Result<Self, ApiError> {
                let s = s.into();
                let check: fn(&str, &str) -> Result<(), ApiError> = $check;
                check(field, &s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ApiError;
            fn try_from(s: String) -> Result<Self, ApiError> {
                Self::parse($field, s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ApiError;
            fn try_from(s: &str) -> Result<Self, ApiError> {
                Self::parse($field, s)
            }
        }

        /// Validates like `try_from`, the error worded as the check words it (not the status line
        /// `ApiError`'s `Display` adds).
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::try_from(s).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets a `BTreeMap<$name, _>` be looked up by `&str` (same order and hash as `str`).
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, o: &str) -> bool {
                self.0 == o
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, o: &&str) -> bool {
                self.0 == *o
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, o: &String) -> bool {
                self.0 == *o
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, o: &$name) -> bool {
                self == o.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, o: &$name) -> bool {
                *self == o.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, o: &$name) -> bool {
                *self == o.0
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

validated!(
    /// A product's stock-keeping unit: an id of docs/api.md.
    Sku, "sku", check_id
);
validated!(
    /// An order's id (`ord_<hex>`, derived from the channel and its externalId).
    OrderId, "orderId", check_id
);
impl OrderId {
    /// The id of the order a channel sends under `external_id`: derived, so that a second order
    /// with the same externalId meets the first one's item. (Not a secret: access is checked by
    /// channel.) `ord_` and 32 hex digits always satisfy the id rule, so it is not checked.
    pub fn for_channel_order(channel_id: &str, external_id: &str) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"order\0");
        h.update(channel_id.as_bytes());
        h.update([0]);
        h.update(external_id.as_bytes());
        Self(format!("ord_{}", &hex::encode(h.finalize())[..32]))
    }
}

validated!(
    /// A sales channel's id.
    ChannelId, "channelId", check_id
);
validated!(
    /// A fulfiller's id (a warehouse or a dropshipper).
    FulfillerId, "fulfillerId", check_id
);
validated!(
    /// A staff member's id (`PUT /admin/staff/{staffId}`).
    StaffId, "staffId", check_id
);
validated!(
    /// A webhook subscription's id, chosen by the subscriber (`PUT /webhooks/{subscriptionId}`).
    SubscriptionId, "subscriptionId", check_id
);
validated!(
    /// An ISO 3166-1 alpha-2 country code, upper case (`DE`).
    CountryCode, "country", |field, s| {
        if is_country(s) {
            Ok(())
        } else {
            Err(ApiError::invalid(field, "country must be an ISO 3166-1 alpha-2 code"))
        }
    }
);
validated!(
    /// An ISO 4217 currency with two minor units (`EUR`); others are refused (docs/api.md).
    Currency, "currency", |field, s| {
        if is_two_decimal_currency(s) {
            Ok(())
        } else {
            Err(ApiError::invalid(
                field,
                "currency must be an ISO 4217 code with two minor units",
            ))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn ids_take_what_the_id_rule_allows_and_name_the_field_otherwise() {
        assert_eq!(
            Sku::parse("lines[0].sku", "SKU_1.2").unwrap().as_str(),
            "SKU_1.2"
        );
        assert!(OrderId::try_from("ord_0123abc".to_string()).is_ok());
        let derived = OrderId::for_channel_order("web-de", "WEB 1001/ä");
        assert!(OrderId::try_from(derived.as_str()).is_ok(), "{derived}");
        assert_eq!(derived.as_str().len(), 36);
        assert!(ChannelId::try_from("web-de").is_ok());
        assert!(FulfillerId::try_from("x".repeat(64)).is_ok());
        for bad in ["", "a b", "ä", "a/b", &"x".repeat(65)] {
            let e = Sku::parse("lines[2].sku", bad).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref(), e.message.as_str(), e.invalid),
                (
                    422,
                    Some("lines[2].sku"),
                    "lines[2].sku must match [A-Za-z0-9._-]{1,64}",
                    Some(Invalid::NotAnId)
                ),
                "{bad}"
            );
            let e = FulfillerId::try_from(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("fulfillerId"), "{bad}");
            assert!(ChannelId::try_from(bad).is_err() && OrderId::try_from(bad).is_err());
        }
    }

    #[test]
    fn countries_are_iso_3166_alpha_2_upper_case() {
        for ok in ["DE", "AT", "FR"] {
            assert_eq!(CountryCode::try_from(ok).unwrap(), ok);
        }
        for bad in ["de", "XX", "DEU", ""] {
            let e = CountryCode::parse("shippingAddress.country", bad).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), e.message.as_str()),
                (
                    Some("shippingAddress.country"),
                    "country must be an ISO 3166-1 alpha-2 code"
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn currencies_are_iso_4217_with_two_minor_units() {
        for ok in ["EUR", "USD", "CHF", "RSD"] {
            assert_eq!(Currency::try_from(ok).unwrap().to_string(), ok);
        }
        for bad in ["JPY", "eur", "EURO", "KWD", ""] {
            let e = Currency::try_from(bad).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), e.message.as_str()),
                (
                    Some("currency"),
                    "currency must be an ISO 4217 code with two minor units"
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn serde_is_the_bare_string_both_ways_and_reading_validates() {
        let sku = Sku::try_from("SKU-1").unwrap();
        assert_eq!(serde_json::to_string(&sku).unwrap(), r#""SKU-1""#);
        assert_eq!(serde_json::from_str::<Sku>(r#""SKU-1""#).unwrap(), sku);
        let eur: Currency = serde_json::from_str(r#""EUR""#).unwrap();
        assert_eq!(
            serde_json::to_value(&eur).unwrap(),
            serde_json::json!("EUR")
        );
        // A bad stored (or queued) value is refused with the check's own words.
        let e = serde_json::from_str::<Sku>(r#""a b""#).unwrap_err();
        assert_eq!(e.to_string(), "sku must match [A-Za-z0-9._-]{1,64}");
        let e = serde_json::from_str::<CountryCode>(r#""Germany""#).unwrap_err();
        assert_eq!(e.to_string(), "country must be an ISO 3166-1 alpha-2 code");
        assert!(serde_json::from_str::<Currency>(r#""JPY""#).is_err());
        assert!(serde_json::from_str::<OrderId>("42").is_err());
    }

    #[test]
    fn a_map_keyed_by_a_newtype_is_looked_up_by_str_and_compares_with_str() {
        let mut stock = BTreeMap::new();
        stock.insert(Sku::try_from("SKU-1").unwrap(), 3u32);
        assert_eq!(stock.get("SKU-1"), Some(&3));
        let channel = ChannelId::try_from("web").unwrap();
        assert_eq!(channel, "web");
        assert!("web" == channel);
        assert!(channel == *"web");
        assert!(channel != "shop");
        assert_eq!(channel.as_ref(), "web");
        assert_eq!(String::from(channel), "web");
        // Logged values read as the bare strings they were.
        assert_eq!(
            format!("{:?}", [ChannelId::try_from("web").unwrap()]),
            r#"["web"]"#
        );
    }

    #[test]
    fn ids() {
        for ok in ["a", "web-de", "SKU_1.2", &"x".repeat(64)] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "a b", "ä", "a/b", &"x".repeat(65)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text("name", &"ü".repeat(200), 200).is_ok());
        assert!(check_text("name", &"ü".repeat(201), 200).is_err());
        assert!(check_text("name", "  ", 200).is_err());
    }

    #[test]
    fn each_check_says_what_is_wrong_for_callers_that_word_it_themselves() {
        let kind = |r: Result<(), ApiError>| r.unwrap_err().invalid;
        assert_eq!(kind(check_text("reason", " ", 10)), Some(Invalid::Empty));
        assert_eq!(kind(check_text("reason", "abc", 2)), Some(Invalid::TooLong));
        assert_eq!(kind(check_id("lineId", "a b")), Some(Invalid::NotAnId));
        let e = check_text("carrier", "", 10).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("carrier"), "carrier must not be empty")
        );
    }
}
