//! What the document generator decides before it renders: which number an invoice-like document
//! gets and where it is kept, which invoice a correction supersedes, and the VAT rates a
//! shipment's supply date books onto the order. Rendering and storing the PDFs stay with the
//! function.

use crate::ports::{ChangeCommitter, ChangeSet, InvoiceRegister, OrderReader};
use crate::retry::{always_retry, commit_with_retries, Attempt, Retry};
use chrono::NaiveDate;
use dropship_aws::repo::invoices::InvoiceRecord;
use dropship_core::catalogue::{TaxClass, TaxRates};
use dropship_core::fulfilment;
use dropship_core::ids::CountryCode;
use dropship_core::order::Order;
use std::collections::BTreeMap;

/// Where an invoice, correction or credit document lives: by order and number (each number is
/// one object, so a superseded invoice stays stored beside its correction).
pub fn invoice_key(order_id: &str, kind: &str, number: &str) -> String {
    format!("documents/{order_id}/{kind}-{number}.pdf")
}

/// Where the figures of an invoice-like document live (JSON, beside its PDF and kept as long):
/// the finance export books from them, and a correction needs the figures of the invoice it
/// supersedes, which the order (already carrying the new rates) can no longer give. Named by
/// number alone, so that a search for an order's invoice or credit PDFs finds only PDFs.
pub fn figures_key(order_id: &str, number: &str) -> String {
    format!("documents/{order_id}/figures-{number}.json")
}

/// An invoice-like document to register for one purpose: a delivery order's invoice
/// (`<deliveryOrderId>`), a shipment's correction, a refund's credit document (`refund#<id>`).
#[derive(Debug, Clone, PartialEq)]
pub struct BookInvoice {
    pub purpose: String,
    /// invoice, correction or credit
    pub kind: String,
    pub order_id: String,
    pub issued_on: NaiveDate,
    /// The number in force that a correction replaces.
    pub supersedes: Option<String>,
}

/// Gives the document the next number of its year and its key, or finds the one registered for
/// the same purpose before (a redelivered job reuses its number: no gap, no number twice).
pub async fn book_invoice(
    register: &impl InvoiceRegister,
    command: &BookInvoice,
) -> anyhow::Result<InvoiceRecord> {
    let BookInvoice {
        purpose,
        kind,
        order_id,
        issued_on,
        supersedes,
    } = command;
    let make = |number: String| InvoiceRecord {
        purpose: purpose.to_string(),
        key: invoice_key(order_id, kind, &number),
        number,
        kind: kind.to_string(),
        order_id: order_id.clone(),
        issued_on: *issued_on,
        supersedes: supersedes.clone(),
        superseded_by: None,
    };
    register
        .register(purpose, chrono::Datelike::year(issued_on), &make)
        .await
}

/// The number of the invoice in force for `purpose`: its latest correction's, or its own.
pub fn in_force(record: &InvoiceRecord) -> String {
    record
        .superseded_by
        .clone()
        .unwrap_or_else(|| record.number.clone())
}

/// A delivery order's invoice corrected after one shipment.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectInvoice {
    pub order_id: String,
    pub delivery_order_id: String,
    pub shipment_id: String,
    pub issued_on: NaiveDate,
}

/// Registers the correction (Rechnungskorrektur) of the delivery order's invoice in force, one
/// per shipment and delivery order (a redelivery finds it registered). Once its PDF is stored,
/// `InvoiceRegister::supersede` makes it the one in force.
pub async fn book_correction(
    register: &impl InvoiceRegister,
    command: &CorrectInvoice,
) -> anyhow::Result<InvoiceRecord> {
    let CorrectInvoice {
        order_id,
        delivery_order_id,
        shipment_id,
        issued_on,
    } = command;
    let Some(original) = register.invoice(delivery_order_id).await? else {
        anyhow::bail!("{delivery_order_id} has no invoice yet; retrying later");
    };
    let booking = BookInvoice {
        purpose: format!("{delivery_order_id}#correction#{shipment_id}"),
        kind: "correction".into(),
        order_id: order_id.clone(),
        issued_on: *issued_on,
        supersedes: Some(in_force(&original)),
    };
    book_invoice(register, &booking).await
}

/// The numbers in force of the invoices of the order's delivery orders (a credit document
/// names them).
pub async fn invoices_in_force(
    register: &impl InvoiceRegister,
    order: &Order,
) -> anyhow::Result<Vec<String>> {
    let mut numbers = Vec::new();
    for d in &order.delivery_order_ids {
        if let Some(r) = register.invoice(d).await? {
            numbers.push(in_force(&r));
        }
    }
    Ok(numbers)
}

/// The rates of one shipment's supply date, to book onto its order.
pub struct BookSupplyRates<'a> {
    /// The order as read; read again when someone else wrote it meanwhile.
    pub order: Order,
    pub shipment_id: &'a str,
    pub supply_date: NaiveDate,
    /// The configured rates by (country, tax class).
    pub tax_rates: &'a BTreeMap<(CountryCode, TaxClass), TaxRates>,
}

/// Books the shipment's rates onto the order (see `fulfilment::set_supply_rates`), again on a
/// fresh read when someone else wrote the order meanwhile. Returns the order as stored.
pub async fn book_supply_rates(
    store: &(impl OrderReader + ChangeCommitter),
    command: BookSupplyRates<'_>,
) -> anyhow::Result<Order> {
    let BookSupplyRates {
        order,
        shipment_id,
        supply_date,
        tax_rates,
    } = command;
    let id = &order.id.clone();
    let mut first = Some(order);
    // The configured rate of a line on the supply date (None when no period covers it).
    let rate_on = |order: &Order, line: &dropship_core::order::OrderLine| {
        tax_rates
            .get(&(order.shipping_address.country.clone(), line.tax_class))
            .and_then(|r| r.rate_on(supply_date))
    };
    // The answer is the order as stored, and whether this call booked the rates.
    let plan = || {
        let first = first.take();
        async move {
            let mut order = match first {
                Some(o) => o,
                None => store
                    .order(id.as_str())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("order {id} does not exist"))?,
            };
            let before = order.clone();
            if !fulfilment::set_supply_rates(&mut order, shipment_id, |l| rate_on(&before, l)) {
                return Ok(Attempt::Done((order, false)));
            }
            let mut booked = order.clone();
            booked.version += 1;
            let change = ChangeSet {
                order: Some(order),
                ..ChangeSet::default()
            };
            Ok::<_, anyhow::Error>(Attempt::Commit(Box::new(change), (booked, true)))
        }
    };
    let retry = Retry {
        message: "order changed meanwhile; booking the rates again",
        id: id.as_str(),
    };
    let exhausted =
        || anyhow::anyhow!("order {id} kept changing; the shipment's rates are booked on a retry");
    let (order, booked) = commit_with_retries(store, retry, plan, always_retry, exhausted).await?;
    if booked {
        tracing::info!(order_id = %order.id, shipment_id, "supply rates booked");
    }
    Ok(order)
}

#[cfg(test)]
mod tests;
