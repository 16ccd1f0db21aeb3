//! The order's ledger: every money movement (payment, refund, goodwill, chargeback, invoice money
//! received) is one entry, and every balance (refunded, still refundable per payment, the open
//! invoice receivable) is derived from it, so the balances cannot drift from the movements.

use crate::money::Money;
use crate::order::{Order, PaymentMethod};
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
}

/// One payment's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentBalance {
    pub method: PaymentMethod,
    pub paid: Money,
    pub refunded: Money,
    pub charged_back: Money,
}

impl PaymentBalance {
    /// What can still go back to this payment.
    pub fn remaining(&self) -> Money {
        let r = self.paid - self.refunded - self.charged_back;
        if r.is_negative() {
            Money::ZERO
        } else {
            r
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balances {
    pub payments: Vec<PaymentBalance>,
    /// Refunds by the rules plus goodwill.
    pub refunded: Money,
    pub goodwill: Money,
    pub charged_back: Money,
    pub received: Money,
    /// The open invoice receivable.
    pub due: Money,
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
        })
        .collect()
}

/// All balances, folded over the ledger in its order (an invoice share of a refund reduces the
/// receivable open at that moment; what exceeds it is paid out).
pub fn balances(order: &Order) -> Balances {
    let mut payments: Vec<PaymentBalance> = order
        .payments
        .iter()
        .map(|p| PaymentBalance {
            method: p.method,
            paid: p.amount,
            refunded: Money::ZERO,
            charged_back: Money::ZERO,
        })
        .collect();
    let mut due: Money = order
        .payments
        .iter()
        .filter(|p| p.method == PaymentMethod::Invoice)
        .map(|p| p.amount)
        .sum();
    let (mut refunded, mut goodwill, mut charged_back, mut received) =
        (Money::ZERO, Money::ZERO, Money::ZERO, Money::ZERO);
    for e in &order.ledger {
        let payment = e.payment.and_then(|i| payments.get_mut(i));
        match e.kind {
            LedgerKind::Payment => {}
            LedgerKind::PaymentReceived => {
                received += e.amount;
                due -= e.amount.min(due);
            }
            LedgerKind::Refund | LedgerKind::Goodwill => {
                refunded += e.amount;
                if e.kind == LedgerKind::Goodwill {
                    goodwill += e.amount;
                }
                if let Some(p) = payment {
                    p.refunded += e.amount;
                    if p.method == PaymentMethod::Invoice {
                        due -= e.amount.min(due);
                    }
                }
            }
            LedgerKind::Chargeback => {
                charged_back += e.amount;
                if let Some(p) = payment {
                    p.charged_back += e.amount;
                }
            }
        }
    }
    Balances {
        payments,
        refunded,
        goodwill,
        charged_back,
        received,
        due,
    }
}

/// Brings the order's totals in line with its ledger.
pub fn apply(order: &mut Order) {
    let b = balances(order);
    order.totals.refunded = b.refunded;
    order.totals.due = b.due;
}

/// Records a refund's shares (kind `Refund` or `Goodwill`) and updates the totals.
pub fn record_refund(order: &mut Order, refund: &crate::refund::Refund, kind: LedgerKind) {
    for (n, share) in refund.allocation.iter().enumerate() {
        order.ledger.push(LedgerEntry {
            id: format!("{}-{n}", refund.id),
            at: refund.created_at,
            kind,
            amount: share.amount,
            payment: Some(share.payment),
            method: Some(share.method),
            reference: Some(refund.id.clone()),
            reason: Some(refund.reason.clone()),
        });
    }
    apply(order);
}

/// `{amount, receivedAt, reference}`: money received on the order's invoice payment (partial
/// payments allowed; more than the open receivable is refused).
pub fn receive_payment(
    order: &mut Order,
    v: &serde_json::Value,
    id: String,
    now: DateTime<Utc>,
) -> Result<LedgerEntry, crate::ApiError> {
    use crate::ApiError;
    let amount = money_field(v, "amount")?;
    let received_at = match v.get("receivedAt") {
        None | Some(serde_json::Value::Null) => now,
        Some(t) => t
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .filter(|t| *t <= now + chrono::Duration::minutes(1))
            .ok_or_else(|| {
                ApiError::invalid(
                    "receivedAt",
                    "receivedAt must be an RFC 3339 time, not in the future",
                )
            })?,
    };
    let reference = text_field(v, "reference", true)?;
    let Some(payment) = order
        .payments
        .iter()
        .position(|p| p.method == PaymentMethod::Invoice)
    else {
        return Err(ApiError::conflict(
            "no_invoice_payment",
            "the order is not paid by invoice",
        ));
    };
    let due = balances(order).due;
    if amount > due {
        return Err(ApiError::invalid(
            "amount",
            format!("the open receivable is {due}"),
        ));
    }
    let entry = LedgerEntry {
        id,
        at: received_at,
        kind: LedgerKind::PaymentReceived,
        amount,
        payment: Some(payment),
        method: Some(PaymentMethod::Invoice),
        reference,
        reason: None,
    };
    order.ledger.push(entry.clone());
    apply(order);
    Ok(entry)
}

/// `{paymentReference, amount, reason}`: the customer's bank took money back from a card or
/// PayPal payment. It reduces what can still be refunded to that payment.
pub fn charge_back(
    order: &mut Order,
    v: &serde_json::Value,
    id: String,
    now: DateTime<Utc>,
) -> Result<LedgerEntry, crate::ApiError> {
    use crate::ApiError;
    let reference = text_field(v, "paymentReference", false)?.unwrap_or_default();
    let amount = money_field(v, "amount")?;
    let reason = text_field(v, "reason", true)?;
    let Some(payment) = order
        .payments
        .iter()
        .position(|p| p.reference.as_deref() == Some(reference.as_str()))
    else {
        return Err(ApiError::invalid(
            "paymentReference",
            "the order has no payment with this reference",
        ));
    };
    let method = order.payments[payment].method;
    if !matches!(method, PaymentMethod::Card | PaymentMethod::Paypal) {
        return Err(ApiError::invalid(
            "paymentReference",
            "only card and PayPal payments can be charged back",
        ));
    }
    let left = balances(order).payments[payment].remaining();
    if amount > left {
        return Err(ApiError::invalid(
            "amount",
            format!("the payment holds {left} that was not refunded or charged back"),
        ));
    }
    let entry = LedgerEntry {
        id,
        at: now,
        kind: LedgerKind::Chargeback,
        amount,
        payment: Some(payment),
        method: Some(method),
        reference: Some(reference),
        reason,
    };
    order.ledger.push(entry.clone());
    apply(order);
    Ok(entry)
}

/// A positive amount with at most two decimals, as a JSON string.
pub fn money_field(v: &serde_json::Value, name: &str) -> Result<Money, crate::ApiError> {
    let amount = Money::parse_amount(name, v.get(name).unwrap_or(&serde_json::Value::Null))?;
    if amount == Money::ZERO {
        return Err(crate::ApiError::invalid(
            name,
            format!("{name} must be above 0"),
        ));
    }
    Ok(amount)
}

fn text_field(
    v: &serde_json::Value,
    name: &str,
    optional: bool,
) -> Result<Option<String>, crate::ApiError> {
    match v.get(name) {
        None | Some(serde_json::Value::Null) if optional => Ok(None),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            crate::ids::check_text(name, s, 1000)?;
            Ok(Some(s.clone()))
        }
        _ => Err(crate::ApiError::invalid(
            name,
            format!("{name} is required text"),
        )),
    }
}
