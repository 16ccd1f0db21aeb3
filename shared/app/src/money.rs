//! Money an admin records on an order: goodwill (a refund the customer did not ask for),
//! invoice money received and chargebacks. Each is one entry in the order's ledger.

use crate::ports::{CatalogueReader, ChangeCommitter, ChangeSet, Message, OrderReader};
use crate::retry::{always_retry, commit_with_retries, kept_changing, Attempt, Retry};
use chrono::Utc;
use dropship_aws::http::HandlerError;
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::order::Order;
use dropship_core::refund::Refund;
use dropship_core::ApiError;
use serde_json::json;

/// A money movement an admin records on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyMovement {
    Goodwill,
    PaymentReceived,
    Chargeback,
}

/// An admin records money on an order; `entry` is the request's body, which the ledger parses.
#[derive(Debug, Clone)]
pub struct RecordMoney {
    pub admin: String,
    pub order: String,
    pub movement: MoneyMovement,
    pub entry: serde_json::Value,
}

/// The committed entry (a refund or a ledger entry, as JSON) and the order with it.
#[derive(Debug, Clone)]
pub struct MoneyRecorded {
    pub entry: serde_json::Value,
    pub order: Order,
}

/// One ledger entry on the order, conditional on the order's version (retried when someone
/// else changed it), its follow-ups committed with it (the outbox): a refund's notice and
/// credit document, a chargeback's alert for customer service.
pub async fn record_money(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    command: &RecordMoney,
) -> Result<MoneyRecorded, HandlerError> {
    let RecordMoney {
        admin,
        order: id,
        movement,
        entry: body,
    } = command;
    if !dropship_core::ids::is_valid_id(id) {
        return Err(ApiError::not_found("order").into());
    }
    let policy = catalogue.refund_policy().await?;
    let who = admin;
    let entry_id = &format!("led_{}", uuid::Uuid::now_v7().simple());
    let plan = || async move {
        let mut order = store
            .order(id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let now = Utc::now();
        let mut messages = Vec::new();
        let (record, what, refund) = match movement {
            MoneyMovement::Goodwill => {
                let r = dropship_core::refund::goodwill(
                    &mut order,
                    body,
                    policy.allocation,
                    entry_id.replace("led_", "ref_"),
                    now,
                )?;
                let what = format!("goodwill {} {}: {}", r.amount, order.currency, r.reason);
                (json!(r), what, Some(r))
            }
            MoneyMovement::PaymentReceived => {
                let e = dropship_core::ledger::receive_payment(
                    &mut order,
                    body,
                    entry_id.clone(),
                    now,
                )?;
                let what = format!("received {} {} on the invoice", e.amount, order.currency);
                (json!(e), what, None)
            }
            MoneyMovement::Chargeback => {
                let e =
                    dropship_core::ledger::charge_back(&mut order, body, entry_id.clone(), now)?;
                let what = format!("chargeback {} {}", e.amount, order.currency);
                // Customer service looks into every chargeback.
                messages.push(Message::Event(BusinessEvent::ChargebackRecorded {
                    order_id: order.id.clone(),
                    entry_id: entry_id.clone(),
                }));
                (json!(e), what, None)
            }
        };
        order.record(now, who.clone(), what);
        if let Some(r) = &refund {
            messages.extend(refund_follow_ups(&order, r));
        }
        let change = ChangeSet {
            messages,
            order: Some(order.clone()),
            ..ChangeSet::default()
        };
        Ok::<_, HandlerError>(Attempt::Commit(Box::new(change), (record, order, refund)))
    };
    let retry = Retry {
        message: "order changed while recording money; trying again",
        id,
    };
    let exhausted = || kept_changing("order").into();
    let (entry, order, refund) =
        commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    if let Some(refund) = refund {
        dropship_aws::metrics::refunds_issued(refund.amount, order.currency.as_str());
    }
    tracing::info!(order_id = %order.id, by = %admin, "money movement recorded");
    Ok(MoneyRecorded { entry, order })
}

/// A refund's follow-ups: the notice, the credit document.
fn refund_follow_ups(order: &Order, refund: &Refund) -> Vec<Message> {
    let notice = BusinessEvent::RefundIssued {
        order_id: order.id.clone(),
        refund_id: refund.id.clone(),
    };
    let credit = GenerateDocuments::Refund {
        order_id: order.id.clone(),
        refund_id: refund.id.clone(),
    };
    vec![Message::Event(notice), Message::Documents(credit)]
}

#[cfg(test)]
mod tests;
