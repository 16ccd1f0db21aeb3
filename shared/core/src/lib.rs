//! The pure domain of the dropshipping order management system: money, tax, ids, principals,
//! the catalogue, orders, routing and the messages that glue the functions. No I/O, no AWS.

/// Writes a struct's `Debug` as the tuple it replaced (`("L1", 2)`), so that logs read as before.
macro_rules! debug_as_tuple {
    ($t:ty, $($field:ident),+) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple("")$(.field(&self.$field))+.finish()
            }
        }
    };
}

pub mod aggregates;
pub mod cancel;
pub mod catalogue;
pub mod change_feed;
pub mod delivery;
pub mod documents;
pub mod error;
pub mod finance_export;
pub mod fulfilment;
pub mod ids;
pub mod input;
pub mod intake;
pub mod ledger;
pub mod links;
pub mod messages;
pub mod money;
pub mod order;
pub mod pricing;
pub mod principal;
pub mod process;
pub mod refund;
pub mod replacement;
pub mod returns;
pub mod routing;
pub mod service;
pub mod split;
pub mod spreadsheet;
pub mod staff;
pub mod stock;
pub mod views;
pub mod webhook;

#[cfg(test)]
mod layering;

pub use error::{ApiError, ErrorCode};
pub use principal::Principal;
