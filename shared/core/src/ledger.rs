//! The order's ledger: every money movement (payment, refund, goodwill, chargeback, invoice money
//! received) is one entry, and every balance (refunded, still refundable per payment, the open
//! invoice receivable) is derived from it, so the balances cannot drift from the movements.

use crate::input::{self, Fields, Lax};
use crate::money::Money;
use crate::order::{Order, PaymentMethod, TaxLine};
// The entries are part of the order (`Order::ledger`); reached through `ledger::` as well.
pub use crate::order::{opening_entries, LedgerEntry, LedgerKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A refund recorded on an order: how much, to which payments, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    pub allocation: Vec<RefundShare>,
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// A goodwill credit stands outside the cumulative rule (see `settle`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub goodwill: bool,
    /// Net and tax per rate, at the rates of the original supply.
    #[serde(default)]
    pub tax: Vec<TaxLine>,
}

/// A refund's part for one payment (`payment` is its index in the order's payments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundShare {
    pub method: PaymentMethod,
    pub amount: Money,
    pub payment: usize,
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
pub fn record_refund(order: &mut Order, refund: &Refund) {
    let kind = if refund.goodwill {
        LedgerKind::Goodwill
    } else {
        LedgerKind::Refund
    };
    if refund.allocation.is_empty() {
        // A refund of 0.00 (a return whose kept units lose a benefit worth all it paid back)
        // is still a refund the customer hears about: one entry of 0.00 against no payment.
        order.ledger.push(LedgerEntry {
            id: format!("{}-0", refund.id),
            at: refund.created_at,
            kind,
            amount: Money::ZERO,
            payment: None,
            method: None,
            reference: Some(refund.id.clone()),
            reason: Some(refund.reason.clone()),
            tax: Vec::new(),
        });
    }
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
            tax: if n == 0 {
                refund.tax.clone()
            } else {
                Vec::new()
            },
        });
    }
    apply(order);
}

/// The order's refunds and goodwill credits, oldest first, read from the ledger (their one
/// record): the entries of a refund share its id as `reference`; in allocation order.
pub fn refunds(order: &Order) -> Vec<Refund> {
    let mut out: Vec<Refund> = Vec::new();
    for e in &order.ledger {
        let goodwill = match e.kind {
            LedgerKind::Refund => false,
            LedgerKind::Goodwill => true,
            _ => continue,
        };
        let id = e.reference.clone().unwrap_or_default();
        // `record_refund` writes both method and payment on every share; a refund of 0.00
        // has one entry with neither, and no share.
        let share = match (e.method, e.payment) {
            (Some(method), Some(payment)) => Some(RefundShare {
                method,
                amount: e.amount,
                payment,
            }),
            _ => None,
        };
        match out.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.amount += e.amount;
                r.allocation.extend(share);
                r.tax.extend(e.tax.iter().cloned());
            }
            None => out.push(Refund {
                id,
                amount: e.amount,
                allocation: share.into_iter().collect(),
                reason: e.reason.clone().unwrap_or_default(),
                created_at: e.at,
                goodwill,
                tax: e.tax.clone(),
            }),
        }
    }
    out
}

/// One refund of the order by its id, from the ledger.
pub fn refund(order: &Order, id: &str) -> Option<Refund> {
    refunds(order).into_iter().find(|r| r.id == id)
}

/// `{amount, receivedAt, reference}`: money received on the order's invoice payment (partial
/// payments allowed; more than the open receivable is refused).
pub fn receive_payment(
    order: &mut Order,
    v: &serde_json::Value,
    id: String,
    now: DateTime<Utc>,
) -> Result<LedgerEntry, crate::ApiError> {
    use crate::error::ErrorCode;
    use crate::ApiError;
    let Fields(received) = input::read::<Fields<PaymentReceivedInput>>(v)?;
    let amount = money_field("amount", received.amount)?;
    let not_a_time = "receivedAt must be an RFC 3339 time, not in the future";
    let received_at = input::time("receivedAt", received.received_at, not_a_time)?.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(1) {
        return Err(ApiError::invalid("receivedAt", not_a_time));
    }
    let reference = text_field("reference", received.reference, true)?;
    let Some(payment) = order
        .payments
        .iter()
        .position(|p| p.method == PaymentMethod::Invoice)
    else {
        return Err(ApiError::conflict(
            ErrorCode::NoInvoicePayment,
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
        tax: Vec::new(),
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
    let Fields(chargeback) = input::read::<Fields<ChargebackInput>>(v)?;
    let reference =
        text_field("paymentReference", chargeback.payment_reference, false)?.unwrap_or_default();
    let amount = money_field("amount", chargeback.amount)?;
    let reason = text_field("reason", chargeback.reason, true)?;
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
        tax: Vec::new(),
    };
    order.ledger.push(entry.clone());
    apply(order);
    Ok(entry)
}

/// `{amount, receivedAt?, reference?}` as serde reads it (`receive_payment` checks it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentReceivedInput {
    #[serde(default)]
    amount: Lax<String>,
    received_at: Option<Lax<String>>,
    reference: Option<Lax<String>>,
}

/// `{paymentReference, amount, reason?}` as serde reads it (`charge_back` checks it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargebackInput {
    payment_reference: Option<Lax<String>>,
    #[serde(default)]
    amount: Lax<String>,
    reason: Option<Lax<String>>,
}

/// A positive amount with at most two decimals, given as a JSON string.
pub fn money_field(name: &str, given: Lax<String>) -> Result<Money, crate::ApiError> {
    let amount = Money::parse_given(name, given.0.as_deref())?;
    if amount == Money::ZERO {
        return Err(crate::ApiError::invalid(
            name,
            format!("{name} must be above 0"),
        ));
    }
    Ok(amount)
}

/// Text of 1..1000 characters; `optional`: may be missing or null.
fn text_field(
    name: &str,
    given: Option<Lax<String>>,
    optional: bool,
) -> Result<Option<String>, crate::ApiError> {
    match given {
        None if optional => Ok(None),
        Some(Lax(Some(s))) if !s.trim().is_empty() => {
            crate::ids::check_text(name, &s, 1000)?;
            Ok(Some(s))
        }
        _ => Err(crate::ApiError::invalid(
            name,
            format!("{name} is required text"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::refused;
    use crate::intake::fixtures::{base, order};
    use serde_json::json;

    fn paid_by_card_and_invoice() -> Order {
        let lines = json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"}]);
        let mut body = base(lines, json!([]), "0", "49.98");
        body["payments"] = json!([{"method": "card", "amount": "30.00", "reference": "c1"},
            {"method": "invoice", "amount": "19.98"}]);
        order(body)
    }

    #[test]
    fn money_received_and_chargebacks_are_read_and_refused_as_before() {
        let now = Utc::now();
        let mut o = paid_by_card_and_invoice();
        let e = receive_payment(
            &mut o,
            &json!({"amount": "10.00", "reference": "bank-1"}),
            "p1".into(),
            now,
        )
        .unwrap();
        assert_eq!(
            (e.amount.to_string(), e.reference.as_deref(), e.at),
            ("10.00".into(), Some("bank-1"), now)
        );
        let e = charge_back(
            &mut o,
            &json!({"paymentReference": "c1", "amount": "5.00"}),
            "c1".into(),
            now,
        )
        .unwrap();
        assert_eq!((e.amount.to_string(), e.reason), ("5.00".into(), None));
        for (body, field, message) in [
            (
                json!({}),
                "amount",
                "amount must be a string amount like \"19.99\"",
            ),
            (
                json!({"amount": "0.00"}),
                "amount",
                "amount must be above 0",
            ),
            (
                json!({"amount": "1.00", "receivedAt": "soon"}),
                "receivedAt",
                "receivedAt must be an RFC 3339 time, not in the future",
            ),
            (
                json!({"amount": "1.00", "receivedAt": "2999-01-01T00:00:00Z"}),
                "receivedAt",
                "receivedAt must be an RFC 3339 time, not in the future",
            ),
            (
                json!({"amount": "1.00", "reference": " "}),
                "reference",
                "reference is required text",
            ),
        ] {
            let mut o = paid_by_card_and_invoice();
            assert_eq!(
                refused(receive_payment(&mut o, &body, "p".into(), now)),
                (field.into(), message.into()),
                "{body}"
            );
        }
        for (body, field, message) in [
            (
                json!({"amount": "1.00"}),
                "paymentReference",
                "paymentReference is required text",
            ),
            (
                json!({"paymentReference": 1, "amount": "1.00"}),
                "paymentReference",
                "paymentReference is required text",
            ),
            (
                json!({"paymentReference": "c1", "amount": 1}),
                "amount",
                "amount must be a string amount like \"19.99\"",
            ),
            (
                json!({"paymentReference": "c1", "amount": "1.00", "reason": 5}),
                "reason",
                "reason is required text",
            ),
        ] {
            let mut o = paid_by_card_and_invoice();
            assert_eq!(
                refused(charge_back(&mut o, &body, "c".into(), now)),
                (field.into(), message.into()),
                "{body}"
            );
        }
    }
}
