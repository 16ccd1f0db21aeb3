//! Settling a received return (the return processor): the arrived units count as returned on
//! the order, the refund the cumulative rule now calls for is recorded, the part is marked
//! refunded, and the credit document and the customer's mail are requested.
//!
//! Idempotent: the order and the part change in one commit conditional on both versions, with
//! the follow-ups in the order item's outbox (keyed by the refund id), and a part already
//! refunded is never settled again: a redelivered message finds it so and does nothing.

use crate::ports::{CatalogueReader, ChangeCommitter, ChangeSet, Message, OrderReader};
use crate::retry::{always_retry, commit_with_retries, Attempt, Retry};
use chrono::Utc;
use dropship_core::messages::{BusinessEvent, GenerateDocuments, SettleReturn};
use dropship_core::money::Money;
use dropship_core::order::Order;
use dropship_core::refund::{self, Refund};
use dropship_core::returns::{ReturnPart, ReturnStatus};

/// The refund id of a return part: deterministic, so a second settlement cannot mint another.
pub fn refund_id(return_id: &str, fulfiller_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{return_id}\n{fulfiller_id}").as_bytes());
    format!("ref_{}", &hex::encode(h)[..24])
}

/// The order after the part's arrived units came back: they leave `shipped` for `returned`.
pub fn apply_arrivals(order: &mut Order, part: &ReturnPart) -> anyhow::Result<u32> {
    let mut units = 0;
    for l in &part.lines {
        let arrived = l.arrived.map(|a| a.total()).unwrap_or(0);
        let line = order
            .lines
            .iter_mut()
            .find(|o| o.line_id == l.line_id)
            .ok_or_else(|| anyhow::anyhow!("order {} has no line {}", order.id, l.line_id))?;
        anyhow::ensure!(
            line.quantities.shipped >= arrived,
            "line {} has {} shipped units, {arrived} came back",
            l.line_id,
            line.quantities.shipped
        );
        line.quantities.shipped -= arrived;
        line.quantities.returned += arrived;
        units += arrived;
    }
    Ok(units)
}

/// What one attempt found or made: the order, the part, its refund, and whether this attempt
/// settled it (or found it settled before).
type Settled = (Order, ReturnPart, Option<Refund>, bool);

/// Settles one fulfiller's part of a received return, its follow-ups committed with it.
pub async fn settle_return(
    store: &(impl OrderReader + ChangeCommitter),
    catalogue: &impl CatalogueReader,
    command: &SettleReturn,
) -> anyhow::Result<()> {
    let SettleReturn {
        return_id,
        fulfiller_id,
    } = command;
    let policy = catalogue.refund_policy().await?;
    let plan = || async move {
        let part = store
            .return_part(return_id, fulfiller_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("return {return_id} has no part of {fulfiller_id}"))?;
        let mut order = store
            .order(part.order_id.as_str())
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {} does not exist", part.order_id))?;
        match part.status {
            ReturnStatus::Refunded => {
                // Settled before (this is a redelivery): the follow-ups went with that commit.
                return Ok(Attempt::Done((order, part, None, false)));
            }
            ReturnStatus::Received => {}
            other => anyhow::bail!("return {return_id} is {other:?}, not received"),
        }
        let now = Utc::now();
        let units = apply_arrivals(&mut order, &part)?;
        // Always a refund, 0.00 included: it completes the return.
        let refund = Some(refund::settle_return(
            &mut order,
            policy.allocation,
            refund_id(return_id, fulfiller_id.as_str()),
            &format!("return {return_id}"),
            now,
        ));
        order.record(
            now,
            format!("fulfiller:{fulfiller_id}"),
            match &refund {
                Some(r) => format!(
                    "return {return_id}: {units} unit(s) received, refund {} {} ({})",
                    r.amount, order.currency, r.id
                ),
                None => {
                    format!("return {return_id}: {units} unit(s) received, nothing to refund")
                }
            },
        );
        let mut settled = part;
        settled.status = ReturnStatus::Refunded;
        settled.refund_id = refund.as_ref().map(|r| r.id.clone());
        let change = ChangeSet {
            order: Some(order.clone()),
            updated_return_parts: vec![settled.clone()],
            messages: follow_ups(&order, refund.as_ref()),
            ..ChangeSet::default()
        };
        let settled: Settled = (order, settled, refund, true);
        Ok(Attempt::Commit(Box::new(change), settled))
    };
    let retry = Retry {
        message: "order or return changed while settling; trying again",
        id: return_id,
    };
    let exhausted = || anyhow::anyhow!("return {return_id} kept changing while being settled");
    let (order, part, refund, fresh) =
        commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    if fresh {
        if let Some(r) = &refund {
            dropship_aws::metrics::refunds_issued(r.amount, order.currency.as_str());
        }
        tracing::info!(order_id = %order.id, return_id, refund = ?refund.as_ref().map(|r| r.amount), "return settled");
        if refund.is_none() {
            tracing::info!(order_id = %order.id, return_id = %part.return_id, "no refund due for this return");
        }
    }
    Ok(())
}

/// The credit document and the customer's refund mail (both keyed by the refund id); none
/// without a refund.
fn follow_ups(order: &Order, refund: Option<&Refund>) -> Vec<Message> {
    let Some(refund) = refund else {
        return Vec::new();
    };
    let notice = Message::Event(BusinessEvent::RefundIssued {
        order_id: order.id.clone(),
        refund_id: refund.id.clone(),
    });
    // A refund of 0.00 moves no money: no credit document, but the customer hears of it.
    if refund.amount == Money::ZERO {
        return vec![notice];
    }
    let credit = GenerateDocuments::Refund {
        order_id: order.id.clone(),
        refund_id: refund.id.clone(),
    };
    vec![Message::Documents(credit), notice]
}

#[cfg(test)]
mod tests;
