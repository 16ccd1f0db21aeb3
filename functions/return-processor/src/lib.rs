//! Settles a received return: the arrived units count as returned on the order, the refund the
//! cumulative rule now calls for is recorded (allocated across the payments by the retailer's
//! policy, entered in the order's ledger), the part is marked refunded, and the credit document
//! and the customer's mail are requested.
//!
//! Idempotent: the order and the part change in one transaction conditional on both versions,
//! and a part already refunded is never settled again (a redelivered message only re-sends the
//! follow-ups, which are themselves keyed by the refund id).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::{self, Change, Outcome, Tables};
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::sqs_batch;
use dropship_core::messages::{BusinessEvent, GenerateDocuments, SettleReturn};
use dropship_core::order::Order;
use dropship_core::refund::{self, Refund};
use dropship_core::returns::{ReturnPart, ReturnStatus};

/// Attempts when someone else changes the order between our read and our write.
const ATTEMPTS: usize = 5;

pub struct ReturnProcessor {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub returns: Returns,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub documents_queue: Queue,
    pub events_queue: Queue,
}

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

impl ReturnProcessor {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        let sqs = aws_sdk_sqs::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            returns: Returns::new(ddb.clone(), env("RETURNS_TABLE")?),
            tables: Tables {
                orders: env("ORDERS_TABLE")?,
                delivery_orders: env("DELIVERY_ORDERS_TABLE")?,
                stock: env("STOCK_TABLE")?,
                returns: Some(env("RETURNS_TABLE")?),
            },
            dynamodb: ddb,
            documents_queue: Queue::new(sqs.clone(), env("DOCUMENTS_QUEUE_URL")?),
            events_queue: Queue::new(sqs, env("EVENTS_QUEUE_URL")?),
        })
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.settle(m)).await
    }

    async fn settle(&self, m: SqsMessage) -> anyhow::Result<()> {
        let SettleReturn {
            return_id,
            fulfiller_id,
        } = sqs_batch::body(&m)?;
        let policy = self.catalogue.get_refund_policy().await?;
        for attempt in 1..=ATTEMPTS {
            let part = self
                .returns
                .part(&return_id, &fulfiller_id)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("return {return_id} has no part of {fulfiller_id}")
                })?;
            let mut order = self
                .orders
                .get(&part.order_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("order {} does not exist", part.order_id))?;
            match part.status {
                ReturnStatus::Refunded => {
                    // Settled before (this is a redelivery): make sure the follow-ups went out.
                    let refund = part
                        .refund_id
                        .as_ref()
                        .and_then(|id| dropship_core::ledger::refund(&order, id));
                    return self.follow_up(&order, &part, refund.as_ref()).await;
                }
                ReturnStatus::Received => {}
                other => anyhow::bail!("return {return_id} is {other:?}, not received"),
            }
            let now = Utc::now();
            let units = apply_arrivals(&mut order, &part)?;
            let refund = refund::settle(
                &mut order,
                policy.allocation,
                refund_id(&return_id, &fulfiller_id),
                &format!("return {return_id}"),
                now,
            );
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
            let mut settled = part.clone();
            settled.status = ReturnStatus::Refunded;
            settled.refund_id = refund.as_ref().map(|r| r.id.clone());
            let change = Change {
                order: Some(&order),
                updated_return_parts: std::slice::from_ref(&settled),
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    if let Some(r) = &refund {
                        dropship_aws::metrics::refunds_issued(r.amount, &order.currency);
                    }
                    tracing::info!(order_id = %order.id, return_id, refund = ?refund.as_ref().map(|r| r.amount), "return settled");
                    return self.follow_up(&order, &settled, refund.as_ref()).await;
                }
                other => {
                    tracing::warn!(order_id = %order.id, return_id, attempt, outcome = ?other, "order or return changed while settling; trying again")
                }
            }
        }
        anyhow::bail!("return {return_id} kept changing while being settled")
    }

    /// The credit document and the customer's refund mail (both keyed by the refund id).
    async fn follow_up(
        &self,
        order: &Order,
        part: &ReturnPart,
        refund: Option<&Refund>,
    ) -> anyhow::Result<()> {
        let Some(refund) = refund else {
            tracing::info!(order_id = %order.id, return_id = %part.return_id, "no refund due for this return");
            return Ok(());
        };
        self.documents_queue
            .send(&GenerateDocuments::Refund {
                order_id: order.id.clone(),
                refund_id: refund.id.clone(),
            })
            .await?;
        self.events_queue
            .send(&BusinessEvent::RefundIssued {
                order_id: order.id.clone(),
                refund_id: refund.id.clone(),
            })
            .await
    }
}
