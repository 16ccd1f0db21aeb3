//! Test-only builders for the pricing rules' tables, shared with the refund tests. The
//! `unwrap`s parse constant literals, so they fail only if a fixture itself is wrong.

use super::{LineToPrice, Promotion};
use crate::ids::Sku;
use crate::money::Money;
use crate::order::Discount;
use serde_json::json;

/// An amount written as in the API (`"19.99"`).
pub(crate) fn money(s: &str) -> Money {
    Money::from_decimal(s.parse().unwrap())
}

/// Lines from `(sku, group, quantity, unit price)`.
pub(crate) fn lines(spec: &[(&str, &str, u32, &str)]) -> Vec<LineToPrice> {
    spec.iter()
        .map(|(sku, group, quantity, price)| LineToPrice {
            sku: Sku::parse("sku", *sku).unwrap(),
            group: group.to_string(),
            quantity: *quantity,
            unit_price: money(price),
        })
        .collect()
}

/// Valid promotions from 2026-03-01 on, each given as `{id, kind, ...terms}`.
pub(crate) fn promotions(v: serde_json::Value) -> Vec<Promotion> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p["name"] = json!("n");
            p["validFrom"] = json!("2026-03-01");
            let p: Promotion = serde_json::from_value(p).unwrap();
            p.validate().unwrap();
            p
        })
        .collect()
}

pub(crate) fn discount(code: &str, amount: &str, min: Option<&str>) -> Discount {
    Discount {
        code: code.into(),
        amount: money(amount),
        min_order_value: min.map(money),
    }
}
