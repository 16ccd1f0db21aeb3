//! Hand-computed tables of the pricing rules.

mod apply;
mod history;
mod intake;
mod promotion;
