//! The console's page groups, each an `impl Console` block: signing in and out, orders (search,
//! the order page and its actions), customers, alerts, reports, configuration.

pub(crate) mod alerts;
pub(crate) mod configuration;
pub(crate) mod customers;
pub(crate) mod orders;
pub(crate) mod reports;
pub(crate) mod sign_in;
