//! Invoice numbers and the invoice register, in the orders table.
//! `COUNTER#invoice#<year>` holds the last number given in that year; `INVOICE#<purpose>` holds
//! the invoice (or correction, or credit document) made for one purpose: a delivery order
//! (`<deliveryOrderId>`), a shipment (`<deliveryOrderId>#<shipmentId>`) or a refund
//! (`refund#<refundId>`). A number is taken in the same transaction that registers its document,
//! conditional on the counter being where it was read: no number is skipped or given twice,
//! and a redelivered job finds its registration and reuses the number (gap-free, as German VAT
//! law wants). The register is read by purpose: a delivery order's, a shipment's, a refund's;
//! an order's documents are read by the purposes its delivery orders, shipments and refunds
//! give (one BatchGetItem per 100; no index by order).

use super::{from_item, is_transaction_condition_failure, n, s, to_item};
use anyhow::Context;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// A registered invoice-like document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRecord {
    pub purpose: String,
    pub number: String,
    /// invoice, correction or credit
    pub kind: String,
    pub order_id: String,
    pub key: String,
    pub issued_on: chrono::NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Invoices {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn purpose_key(purpose: &str) -> String {
    format!("INVOICE#{purpose}")
}

impl Invoices {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn get(&self, purpose: &str) -> anyhow::Result<Option<InvoiceRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", s(purpose_key(purpose)))
            .send()
            .await
            .with_context(|| format!("reading invoice {purpose}"))?;
        out.item.map(from_item).transpose()
    }

    /// The documents registered for any of `purposes` (those never registered are left out).
    pub async fn get_many(
        &self,
        purposes: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<Vec<InvoiceRecord>> {
        let keys: std::collections::BTreeSet<String> =
            purposes.into_iter().map(|p| purpose_key(&p)).collect();
        let keys = keys
            .into_iter()
            .map(|k| super::Item::from([("pk".to_string(), s(k))]))
            .collect();
        super::batch_get(&self.client, &self.table, keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Registers the document for `purpose` under the next number of `year`, or returns the one
    /// registered before. `make(number)` builds the record for a number.
    pub async fn register(
        &self,
        purpose: &str,
        year: i32,
        make: impl Fn(String) -> InvoiceRecord,
    ) -> anyhow::Result<InvoiceRecord> {
        let counter = format!("COUNTER#invoice#{year}");
        for _ in 0..20 {
            if let Some(existing) = self.get(purpose).await? {
                return Ok(existing);
            }
            let last: u64 = self
                .client
                .get_item()
                .table_name(&self.table)
                .consistent_read(true)
                .key("pk", s(&counter))
                .send()
                .await
                .context("reading the invoice counter")?
                .item
                .and_then(|i| {
                    i.get("last")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse().ok())
                })
                .unwrap_or(0);
            let record = make(format!("{year}-{:06}", last + 1));
            let bump = Update::builder()
                .table_name(&self.table)
                .key("pk", s(&counter))
                .update_expression("SET #last = :next")
                .condition_expression(if last == 0 {
                    "attribute_not_exists(#last)"
                } else {
                    "#last = :last"
                })
                .expression_attribute_names("#last", "last")
                .expression_attribute_values(":next", n(last + 1));
            let bump = if last == 0 {
                bump
            } else {
                bump.expression_attribute_values(":last", n(last))
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&record, &[("pk", &purpose_key(purpose))])?))
                .condition_expression("attribute_not_exists(pk)")
                .build()?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(bump.build()?).build())
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(record),
                // Someone took the number, or registered this purpose: read again.
                Err(e) if is_transaction_condition_failure(&e).is_some() => continue,
                Err(e) => return Err(e).context("registering an invoice"),
            }
        }
        anyhow::bail!("the invoice counter kept moving; try again")
    }

    /// Marks `purpose`'s document as superseded by invoice `number` (the old one stays stored).
    pub async fn supersede(&self, purpose: &str, number: &str) -> anyhow::Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(purpose_key(purpose)))
            .update_expression("SET supersededBy = :n")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":n", s(number))
            .send()
            .await
            .with_context(|| format!("superseding invoice {purpose}"))?;
        Ok(())
    }
}
