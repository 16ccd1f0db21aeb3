//! The records an order holds besides its lines: its ledger entries (every money movement) and
//! its free replacements. The behaviour over them is in `ledger` and `replacement`.

use super::{Order, PaymentMethod, TaxLine};
use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// A payment the order was placed with (for `invoice`: the receivable it opened).
    Payment,
    /// Money received on an invoice payment.
    PaymentReceived,
    /// A refund by the refund rules (cancellation, return), one entry per payment share.
    Refund,
    /// A goodwill credit granted by the retailer, one entry per payment share.
    Goodwill,
    /// The customer's bank took money back from a card or PayPal payment.
    Chargeback,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: LedgerKind,
    /// Always positive; the kind says which way the money went.
    pub amount: Money,
    /// Index of the order's payment this entry concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PaymentMethod>,
    /// A refund's id, a payment reference, a bank reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A refund's net and tax per rate (the whole refund's), on its first share's entry only:
    /// the ledger is the one record of a refund (`ledger::refunds`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tax: Vec<TaxLine>,
}

/// The ledger entries of the payments an order was placed with.
pub fn opening_entries(order: &Order) -> Vec<LedgerEntry> {
    order
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| LedgerEntry {
            id: format!("pay-{i}"),
            at: order.created_at,
            kind: LedgerKind::Payment,
            amount: p.amount,
            payment: Some(i),
            method: Some(p.method),
            reference: p.reference.clone(),
            reason: None,
            tax: Vec::new(),
        })
        .collect()
}

/// A free replacement delivery order made for the order (see `replacement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement {
    pub delivery_order_id: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub by: String,
}
