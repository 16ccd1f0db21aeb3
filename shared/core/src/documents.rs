//! What goes on paper: the contents of an invoice, a corrected invoice, a credit document, a
//! shipping label and a return label, computed from the order without any I/O. The renderer
//! (document-generator) only lays these out; every figure on a document is decided here.
//!
//! The customer sees the retailer only: a document names the retailer as seller and sender; a
//! return label shows a fulfiller's return address under the retailer's name.

use crate::catalogue::{Address, Locale};
use crate::money::Money;
use crate::order::{PaymentMethod, TaxLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which kind of invoice-like document: the original, a correction superseding an earlier
/// invoice (another rate period at shipment), or the credit document for a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InvoiceKind {
    Invoice,
    /// Rechnungskorrektur: replaces the invoice numbered `supersedes`.
    #[serde(rename_all = "camelCase")]
    Correction {
        supersedes: String,
    },
    /// Rechnungskorrektur/Stornorechnung for a refund; refers to the order's invoices.
    #[serde(rename_all = "camelCase")]
    Credit {
        refund_id: String,
        invoice_numbers: Vec<String>,
    },
}

/// One priced line of an invoice (or, with positive figures meaning "given back", of a credit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// The customer's unit price, gross, before discounts.
    pub unit_price: Money,
    /// Discounts on these units (already subtracted from `gross`).
    pub discount: Money,
    pub rate: Decimal,
    pub net: Money,
    pub tax: Money,
    /// What the customer pays for these units: `net + tax`.
    pub gross: Money,
}

/// A payment as it applies to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLine {
    pub method: PaymentMethod,
    pub amount: Money,
}

/// An invoice, a corrected invoice or a credit document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDocument {
    #[serde(flatten)]
    pub kind: InvoiceKind,
    /// Gap-free per retailer, e.g. `2026-000042`.
    pub number: String,
    pub issued_on: NaiveDate,
    /// Date of supply (Leistungsdatum): the shipment's date, before shipment the order date.
    pub supply_date: NaiveDate,
    pub locale: Locale,
    pub currency: String,
    pub order_external_id: String,
    pub order_id: String,
    pub delivery_order_id: Option<String>,
    pub bill_to: Address,
    pub ship_to: Address,
    pub lines: Vec<InvoiceLine>,
    /// Shipping as an ancillary service, on one invoice of the order only.
    pub shipping: Option<InvoiceLine>,
    /// Per rate: net and tax of lines and shipping.
    pub tax_totals: Vec<TaxLine>,
    pub total_net: Money,
    pub total_tax: Money,
    pub total_gross: Money,
    /// How the total is (or, for a credit, is given back) paid.
    pub payments: Vec<PaymentLine>,
    /// Still to be paid by invoice payment (0 when paid by other means).
    pub due: Money,
}

/// A 4x6 inch label for the parcel: the retailer as sender, the delivery order id as Code 128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLabel {
    pub sender_name: String,
    pub sender: Address,
    pub ship_to: Address,
    /// Printed as a Code 128 barcode and as text.
    pub barcode: String,
    pub order_external_id: String,
    pub units: u32,
    pub locale: Locale,
}

/// A return label the customer prints: the customer as sender, the retailer's name over the
/// fulfiller's return address as recipient, the return id as Code 128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLabel {
    pub sender: Address,
    /// The retailer's company name (the fulfiller's name never appears).
    pub recipient_name: String,
    pub recipient: Address,
    pub barcode: String,
    pub order_external_id: String,
    /// (article name, quantity) to put in the parcel.
    pub lines: Vec<(String, u32)>,
    pub locale: Locale,
}
