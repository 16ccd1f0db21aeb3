//! Delivery orders: the part of an order one fulfiller ships. The customer never learns who.

use crate::catalogue::Address;
use crate::ids::{FulfillerId, OrderId, Sku};
use crate::stock::SkuUnits;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Open,
    Accepted,
    PartiallyShipped,
    Shipped,
    Rejected,
    Cancelled,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    DeliveryNote,
    ShippingLabel,
    Invoice,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::DeliveryNote => "delivery_note",
            DocumentKind::ShippingLabel => "shipping_label",
            DocumentKind::Invoice => "invoice",
        }
    }
}

/// A stored document of a delivery order: its kind and S3 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    pub kind: DocumentKind,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLine {
    pub line_id: String,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub shipped: u32,
    /// Units the customer cancelled after this delivery order was made.
    #[serde(default)]
    pub cancelled: u32,
}

impl DeliveryLine {
    /// Units still to ship.
    pub fn open(&self) -> u32 {
        self.quantity - self.shipped - self.cancelled
    }

    /// The line's quantity as units of its sku (what a new delivery order reserves).
    pub fn units(&self) -> SkuUnits {
        SkuUnits {
            sku: self.sku.clone(),
            units: self.quantity,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOrder {
    pub id: String,
    pub order_id: OrderId,
    pub fulfiller_id: FulfillerId,
    pub status: DeliveryStatus,
    pub ship_to: Address,
    pub lines: Vec<DeliveryLine>,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Sort key for "oldest first" lists: creation time then id, so equal times stay ordered.
    pub created_key: String,
    #[serde(default)]
    pub documents: Vec<DocumentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Optimistic-concurrency version: every full write is conditional on the version it read.
    #[serde(default)]
    pub version: u64,
    /// Shipments so far, each with its supply date.
    #[serde(default)]
    pub shipments: Vec<Shipment>,
    /// The fulfiller reported less stock than is promised to its open delivery orders.
    #[serde(default)]
    pub stock_shortfall: bool,
    /// Why the fulfiller rejected it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The random secret (256 bits, hex) that signs this delivery order's document links
    /// (`links`), set with its first documents. Never shown in a view or a log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_key: Option<LinkKey>,
}

impl DeliveryOrder {
    /// True while the fulfiller can still ship something of it.
    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            DeliveryStatus::Open | DeliveryStatus::Accepted | DeliveryStatus::PartiallyShipped
        )
    }

    /// The status its lines imply once units were shipped or cancelled.
    pub fn settle_status(&mut self) {
        let open: u32 = self.lines.iter().map(DeliveryLine::open).sum();
        let shipped: u32 = self.lines.iter().map(|l| l.shipped).sum();
        if open == 0 {
            self.status = if shipped > 0 {
                DeliveryStatus::Shipped
            } else {
                DeliveryStatus::Cancelled
            };
        } else if shipped > 0 {
            self.status = DeliveryStatus::PartiallyShipped;
        }
    }

    /// The id of the delivery order made for `fulfiller_id` out of `order_id` in routing round
    /// `round`: deterministic, so a redelivered routing message writes the same delivery order
    /// again instead of a second one.
    pub fn id_for(order_id: &OrderId, fulfiller_id: &FulfillerId, round: u32) -> String {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(format!("{order_id}\n{fulfiller_id}\n{round}").as_bytes());
        format!("DO-{}", &hex::encode(h)[..20].to_uppercase())
    }

    pub fn created_key(created_at: DateTime<Utc>, id: &str) -> String {
        format!("{}#{id}", created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

/// One shipment of a delivery order: its supply date decides the VAT rate (docs/api.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    /// (line id, units)
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentLine {
    pub line_id: String,
    pub quantity: u32,
}

/// A delivery order's link key: a secret, so its Debug form does not show it (a delivery order
/// printed with `{:?}` must not leak what signs its links).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LinkKey(String);

impl LinkKey {
    pub fn new(key: String) -> Self {
        Self(key)
    }
}

impl std::ops::Deref for LinkKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_order_ids_are_stable_and_distinct() {
        let o1 = OrderId::try_from("o1").unwrap();
        let (acme, wh) = (
            FulfillerId::try_from("acme").unwrap(),
            FulfillerId::try_from("wh").unwrap(),
        );
        let a = DeliveryOrder::id_for(&o1, &acme, 0);
        assert_eq!(a, DeliveryOrder::id_for(&o1, &acme, 0));
        assert_ne!(a, DeliveryOrder::id_for(&o1, &wh, 0));
        assert_ne!(a, DeliveryOrder::id_for(&o1, &acme, 1));
        assert!(crate::ids::is_valid_id(&a));
        assert_eq!(
            DeliveryStatus::parse("partially_shipped"),
            Some(DeliveryStatus::PartiallyShipped)
        );
        assert_eq!(DeliveryStatus::parse("nope"), None);
    }
}
