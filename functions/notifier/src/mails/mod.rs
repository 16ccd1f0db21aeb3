//! Every mail the system sends, as a pure function from domain values to a [`Mail`]: the
//! templates' data is prepared here (money formatted, names looked up, nothing a recipient
//! must not see), the wording lives in `templates/`.
//!
//! Customer mails are given the order, refund and return values only, never a fulfiller: what a
//! template does not get, it cannot show.
//!
//! One module per audience: `fulfillers` (documents, cancellations, stock feeds), `alerts`
//! (reminders and escalations), `customers` (confirmation, shipping, refund, cancellation,
//! delay) and `returns` (the return authorization with its labels, and its rejection). What they share lives
//! beside them: `brand` (the retailer's design around every mail), `values` (how money,
//! payment methods, addresses and units read) and `tracking` (carriers' tracking pages).
//!
//! [`Mail`]: dropship_aws::mailer::Mail

mod alerts;
mod brand;
mod customers;
mod fulfillers;
mod returns;
mod tracking;
mod values;

pub use alerts::{alert_escalation_mail, alert_reminder_mail, AlertNotice};
pub use customers::{
    delivery_late_mail, order_cancelled_mail, order_confirmation_mail, refund_mail, shipped_mail,
};
pub use fulfillers::{delivery_order_changed_mail, documents_ready_mail, stock_feed_mail};
pub use returns::{label_filename, return_authorized_mail, return_rejected_mail};
pub use tracking::tracking_url;

use dropship_core::catalogue::{Branding, Locale};

/// How long a mailed document link works (docs/api.md: 7 days).
pub const LINK_TTL_DAYS: i64 = dropship_core::links::VALIDITY_DAYS;

/// The recipient's language: their own if they chose one, else the retailer's.
pub fn locale_for(own: Option<Locale>, branding: &Branding) -> Locale {
    own.unwrap_or(branding.locale)
}

#[cfg(test)]
mod tests;
