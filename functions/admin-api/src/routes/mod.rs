//! The admin routes, one module per route group: each holds its handlers (one per route, named
//! in its doc comment) and the work behind them. `lib.rs` checks the caller is an admin and
//! dispatches to them.

pub mod alerts;
pub mod configuration;
pub mod fulfilment;
pub mod invoices;
pub mod money;
pub mod orders;
pub mod pricing;
pub mod process;
pub mod service;
pub mod staff;
pub mod tokens;
