//! Money: `rust_decimal::Decimal`, two decimals, rounded half away from zero (docs/api.md).
//! On the wire a JSON string such as `"19.99"`.

use crate::ApiError;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// An amount in the order's currency, always held at cent precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Rounds to cents, half away from zero: the only rounding the system uses.
pub fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// From any decimal, rounded to cents.
    pub fn from_decimal(d: Decimal) -> Self {
        Money(round_cents(d))
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// Parses an API amount: a string with at most two decimals, not negative.
    pub fn parse_amount(field: &str, v: &serde_json::Value) -> Result<Money, ApiError> {
        Self::parse_given(field, v.as_str())
    }

    /// `parse_amount` of what an input struct read (`None`: missing or not a string).
    pub fn parse_given(field: &str, s: Option<&str>) -> Result<Money, ApiError> {
        let s = s.ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("{field} must be a string amount like \"19.99\""),
            )
        })?;
        let d = Decimal::from_str(s.trim())
            .ok()
            .filter(|_| !s.contains(['e', 'E']) && s.trim() == s)
            .ok_or_else(|| ApiError::invalid(field, format!("{field} is not a decimal amount")))?;
        if d.scale() > 2 {
            return Err(ApiError::invalid(
                field,
                format!("{field} has more than 2 decimals"),
            ));
        }
        if d.is_sign_negative() && !d.is_zero() {
            return Err(ApiError::invalid(
                field,
                format!("{field} must not be negative"),
            ));
        }
        Ok(Money(d))
    }

    /// Multiplies by a rational `num/den` and rounds to cents (pro-rata shares).
    pub fn pro_rata(self, num: Decimal, den: Decimal) -> Money {
        if den.is_zero() {
            return Money::ZERO;
        }
        Money::from_decimal(self.0 * num / den)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0;
        d.rescale(2);
        write!(f, "{d}")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Decimal::from_str(&s)
            .map(Money::from_decimal)
            .map_err(serde::de::Error::custom)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}
impl std::ops::Mul<u32> for Money {
    type Output = Money;
    fn mul(self, q: u32) -> Money {
        Money(self.0 * Decimal::from(q))
    }
}

/// How a refund is split over the order's payments (`refund::allocate_refund`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    #[default]
    ProRata,
    CashFirst,
    PointsFirst,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_cents(dec!(0.005)), dec!(0.01));
        assert_eq!(round_cents(dec!(-0.005)), dec!(-0.01));
        assert_eq!(round_cents(dec!(23.065)), dec!(23.07));
        assert_eq!(round_cents(dec!(23.0649)), dec!(23.06));
    }

    #[test]
    fn parses_amounts_strictly() {
        assert_eq!(
            Money::parse_amount("a", &json!("19.99"))
                .unwrap()
                .to_string(),
            "19.99"
        );
        assert_eq!(
            Money::parse_amount("a", &json!("5")).unwrap().to_string(),
            "5.00"
        );
        for bad in [
            json!(19.99),
            json!("1.999"),
            json!("-1.00"),
            json!("abc"),
            json!("1e3"),
            json!(" 1"),
        ] {
            let e = Money::parse_amount("lines[0].unitPrice", &bad).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (422, Some("lines[0].unitPrice")),
                "{bad}"
            );
        }
    }

    #[test]
    fn serializes_as_two_decimal_string() {
        assert_eq!(
            serde_json::to_string(&Money::from_decimal(dec!(3.9))).unwrap(),
            "\"3.90\""
        );
        let m: Money = serde_json::from_str("\"46.13\"").unwrap();
        assert_eq!(m.amount(), dec!(46.13));
    }

    #[test]
    fn pro_rata_of_the_worked_example() {
        let five = Money::from_decimal(dec!(5.00));
        assert_eq!(five.pro_rata(dec!(49.98), dec!(64.98)).to_string(), "3.85");
        assert_eq!(five.pro_rata(dec!(15.00), dec!(64.98)).to_string(), "1.15");
    }
}
