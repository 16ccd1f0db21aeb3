//! How domain values read in a mail: amounts with their currency, tax rates, payment methods,
//! addresses, units and refunds. Separate because mails to customers and to fulfillers share them.

use dropship_core::catalogue::Address;
use dropship_core::money::Money;
use dropship_core::order::{Order, PaymentMethod};
use dropship_core::refund::Refund;
use rust_decimal::Decimal;
use serde::Serialize;

pub(super) fn address_lines(a: &Address) -> Vec<String> {
    vec![
        a.name.clone(),
        a.street.clone(),
        format!("{} {}", a.postal_code, a.city),
        a.country.to_string(),
    ]
}

/// `19.99 EUR`: amounts keep their two decimals (Money's Display) and the order's currency.
pub(super) fn money(amount: Money, currency: &str) -> String {
    format!("{amount} {currency}")
}

/// `19` for 0.19, `7` for 0.07, `5.5` for 0.055.
pub(super) fn percent(rate: Decimal) -> String {
    (rate * Decimal::ONE_HUNDRED).normalize().to_string()
}

pub(super) fn method_code(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Card => "card",
        PaymentMethod::Paypal => "paypal",
        PaymentMethod::Invoice => "invoice",
        PaymentMethod::GiftCard => "gift_card",
        PaymentMethod::BonusPoints => "bonus_points",
    }
}

/// A number of units of an article.
#[derive(Debug, Serialize)]
pub(super) struct Units {
    pub(super) quantity: u32,
    pub(super) name: String,
}

/// An amount paid or refunded by one payment method (`method` is translated by the templates).
#[derive(Debug, Serialize)]
pub(super) struct ByMethod {
    pub(super) method: &'static str,
    pub(super) amount: String,
}

#[derive(Debug, Serialize)]
pub(super) struct RefundView {
    amount: String,
    reason: String,
    allocation: Vec<ByMethod>,
}

pub(super) fn refund_view(refund: &Refund, currency: &str) -> RefundView {
    RefundView {
        amount: money(refund.amount, currency),
        reason: refund.reason.clone(),
        allocation: refund
            .allocation
            .iter()
            .map(|a| ByMethod {
                method: method_code(a.method),
                amount: money(a.amount, currency),
            })
            .collect(),
    }
}

pub(super) fn line_name(order: &Order, line_id: &str) -> String {
    order
        .lines
        .iter()
        .find(|l| l.line_id == line_id)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| line_id.to_string())
}
