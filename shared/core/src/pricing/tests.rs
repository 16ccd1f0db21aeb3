//! Hand-computed tables of the pricing rules.

mod apply;
mod history;
mod promotion;

/// An amount written as in the API (`"19.99"`).
fn money(s: &str) -> crate::money::Money {
    crate::money::Money::from_decimal(s.parse().unwrap())
}
