//! The portal's pages, one module per page group: each holds its handlers (one per route, named
//! in its doc comment), its form handling and its rendering call. `lib.rs` dispatches to them.

pub mod dashboard;
pub mod delivery_orders;
pub mod returns;
pub mod sign_in;
pub mod stock;
