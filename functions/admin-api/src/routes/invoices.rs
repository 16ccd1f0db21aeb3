//! The invoice-like documents of an order, for its admin view: every invoice, correction and
//! credit document registered for it, oldest first, each with its supply date and a link.
//! The register has no index by order: the purposes are the order's own (each delivery order's
//! invoice, its corrections after any shipment of the order, each refund's credit document),
//! read in one batch. Separate because the dates and links are worked out here, not stored.

use chrono::{DateTime, NaiveDate, Utc};
use dropship_aws::repo::invoices::InvoiceRecord;
use dropship_core::catalogue::local_date;
use dropship_core::delivery::{DeliveryOrder, DocumentKind};
use dropship_core::order::Order;
use serde_json::{json, Value};

const CORRECTION: &str = "#correction#";
const REFUND: &str = "refund#";

/// Every purpose a document of the order may be registered under.
pub(crate) fn purposes(order: &Order, deliveries: &[DeliveryOrder]) -> Vec<String> {
    let shipments: Vec<&str> = deliveries
        .iter()
        .flat_map(|d| d.shipments.iter().map(|s| s.id.as_str()))
        .collect();
    let mut out = Vec::new();
    // Replacements get no invoice; a correction of one delivery order's invoice may follow a
    // shipment of another (the one carrying the shipping cost).
    for d in &order.delivery_order_ids {
        out.push(d.clone());
        out.extend(shipments.iter().map(|s| format!("{d}{CORRECTION}{s}")));
    }
    out.extend(
        dropship_core::ledger::refunds(order)
            .iter()
            .map(|r| format!("{REFUND}{}", r.id)),
    );
    out
}

/// Where one document can be fetched: the delivery order's own document link when it is the
/// document that link gives (the invoice in force), else its object in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// An absolute `GET /documents/{linkId}` URL (valid 7 days), as the fulfiller gets.
    Document(String),
    /// The object's key, to presign (15 minutes).
    Stored(String),
}

/// One document as the admin view lists it, before its stored link is presigned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listed {
    pub view: Value,
    pub link: Link,
}

/// The order's documents, oldest first (issue date, then number), with the supply date each
/// was issued for (`time_zone`: the retailer's; dates are meant there).
pub(crate) fn listed(
    mut records: Vec<InvoiceRecord>,
    order: &Order,
    deliveries: &[DeliveryOrder],
    time_zone: &str,
    public_base_url: &str,
    now: DateTime<Utc>,
) -> Vec<Listed> {
    records.sort_by(|a, b| (a.issued_on, &a.number).cmp(&(b.issued_on, &b.number)));
    records
        .into_iter()
        .map(|r| {
            let delivery_order_id = delivery_order_of(&r);
            let delivery = delivery_order_id
                .as_deref()
                .and_then(|id| deliveries.iter().find(|d| d.id == id));
            let kind = match r.kind.as_str() {
                "credit" => "credit_note",
                "correction" => "correction",
                _ => "invoice",
            };
            let mut view = json!({"id": r.number, "number": r.number, "kind": kind,
                "issuedAt": r.issued_on,
                "supplyDate": supply_date(&r, order, deliveries, time_zone)});
            if let Some(d) = &delivery_order_id {
                view["deliveryOrderId"] = json!(d);
            }
            let link = delivery
                .and_then(|d| document_link(d, &r.key, public_base_url, now))
                .map_or_else(|| Link::Stored(r.key.clone()), Link::Document);
            Listed { view, link }
        })
        .collect()
}

/// The delivery order an invoice or correction is of; None for a credit document.
fn delivery_order_of(r: &InvoiceRecord) -> Option<String> {
    if r.purpose.starts_with(REFUND) {
        return None;
    }
    let id = r.purpose.split(CORRECTION).next().unwrap_or(&r.purpose);
    Some(id.to_string())
}

/// The delivery order's invoice link when it gives the document stored under `key`.
fn document_link(
    d: &DeliveryOrder,
    key: &str,
    public_base_url: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let current = d
        .documents
        .iter()
        .find(|doc| doc.kind == DocumentKind::Invoice && doc.key == key)?;
    let expires_at = dropship_core::links::expiry(now);
    dropship_core::links::document_urls(
        public_base_url,
        d,
        std::slice::from_ref(current),
        expires_at,
    )?
    .into_iter()
    .next()
    .map(|(_, url)| url)
}

/// The supply date a document was issued for, as the document generator chose it: an invoice
/// the order date; a correction the date of the shipment that caused it (for the delivery
/// order carrying the shipping cost, corrected after another's shipment, its own latest
/// shipment by then, or the order date); a credit document its refund's date.
fn supply_date(
    r: &InvoiceRecord,
    order: &Order,
    deliveries: &[DeliveryOrder],
    time_zone: &str,
) -> NaiveDate {
    let day = |at: DateTime<Utc>| local_date(at, time_zone);
    if let Some(refund_id) = r.purpose.strip_prefix(REFUND) {
        return dropship_core::ledger::refund(order, refund_id)
            .map_or(r.issued_on, |refund| day(refund.created_at));
    }
    let Some((delivery_id, shipment_id)) = r.purpose.split_once(CORRECTION) else {
        return day(order.ordered_at);
    };
    let shipped_at = |id: &str| {
        deliveries
            .iter()
            .flat_map(|d| d.shipments.iter())
            .find(|s| s.id == id)
            .map(|s| s.shipped_at)
    };
    let Some(trigger) = shipped_at(shipment_id) else {
        return r.issued_on;
    };
    let own = deliveries
        .iter()
        .find(|d| d.id == delivery_id)
        .map(|d| d.shipments.as_slice())
        .unwrap_or_default();
    if own.iter().any(|s| s.id == shipment_id) {
        return day(trigger);
    }
    let latest = own
        .iter()
        .map(|s| s.shipped_at)
        .filter(|at| *at <= trigger)
        .max();
    day(latest.unwrap_or(order.ordered_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        serde_json::from_value(json!({
            "id": "o1", "channelId": "web", "externalId": "E1", "status": "shipped", "currency": "EUR",
            "customer": {"email": "c@example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "orderedAt": "2026-11-27T23:30:00Z", "createdAt": "2026-11-27T23:30:00Z", "discounts": [],
            "shippingCost": "0.00", "payments": [{"method": "card", "amount": "30.00", "reference": "p1"}],
            "history": [], "deliveryOrderIds": ["D1", "D2"],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00",
                "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"},
            "lines": []}))
        .unwrap()
    }

    fn delivery(id: &str, shipments: Value, documents: Value) -> DeliveryOrder {
        serde_json::from_value(json!({
            "id": id, "orderId": "o1", "fulfillerId": "acme", "status": "shipped",
            "shipTo": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "lines": [], "createdAt": "2026-11-27T10:00:00Z", "dueAt": "2026-11-29T10:00:00Z",
            "createdKey": "k", "linkKey": "secret", "shipments": shipments, "documents": documents}))
        .unwrap()
    }

    fn record(purpose: &str, number: &str, kind: &str, issued: &str) -> InvoiceRecord {
        InvoiceRecord {
            purpose: purpose.into(),
            number: number.into(),
            kind: kind.into(),
            order_id: "o1".into(),
            key: format!("documents/o1/{kind}-{number}.pdf"),
            issued_on: issued.parse().unwrap(),
            supersedes: None,
            superseded_by: None,
        }
    }

    fn deliveries() -> Vec<DeliveryOrder> {
        let shipment = |id: &str, at: &str| json!({"id": id, "carrier": "DHL", "trackingNumber": "1", "shippedAt": at, "lines": []});
        vec![
            // D1 carries the shipping cost: corrected after D2's shipment S2; its own S1 shipped
            // before that. Its invoice in force is the correction 2026-000004.
            delivery(
                "D1",
                json!([shipment("S1", "2026-12-01T10:00:00Z")]),
                json!([{"kind": "invoice", "key": "documents/o1/correction-2026-000004.pdf"}]),
            ),
            delivery(
                "D2",
                json!([shipment("S2", "2026-12-02T10:00:00Z")]),
                json!([{"kind": "invoice", "key": "documents/o1/invoice-2026-000002.pdf"}]),
            ),
        ]
    }

    #[test]
    fn the_purposes_are_every_delivery_orders_invoice_and_corrections() {
        let p = purposes(&order(), &deliveries());
        assert_eq!(
            p,
            [
                "D1",
                "D1#correction#S1",
                "D1#correction#S2",
                "D2",
                "D2#correction#S1",
                "D2#correction#S2"
            ]
        );
    }

    #[test]
    fn documents_are_listed_oldest_first_with_their_supply_dates_and_links() {
        let records = vec![
            record(
                "D1#correction#S2",
                "2026-000004",
                "correction",
                "2026-12-02",
            ),
            record("D2", "2026-000002", "invoice", "2026-11-28"),
            record("D1", "2026-000001", "invoice", "2026-11-28"),
        ];
        let now = "2026-12-03T10:00:00Z".parse().unwrap();
        let listed = listed(
            records,
            &order(),
            &deliveries(),
            "Europe/Berlin",
            "https://api.example",
            now,
        );
        let views: Vec<(&str, &str, &str, &str)> = listed
            .iter()
            .map(|l| {
                (
                    l.view["number"].as_str().unwrap(),
                    l.view["kind"].as_str().unwrap(),
                    l.view["supplyDate"].as_str().unwrap(),
                    l.view["deliveryOrderId"].as_str().unwrap(),
                )
            })
            .collect();
        // The order was placed at 00:30 on 28 November in Berlin; D1's correction after S2 is
        // supplied on its own latest shipment before S2, 1 December.
        assert_eq!(
            views,
            [
                ("2026-000001", "invoice", "2026-11-28", "D1"),
                ("2026-000002", "invoice", "2026-11-28", "D2"),
                ("2026-000004", "correction", "2026-12-01", "D1"),
            ]
        );
        assert_eq!(
            listed[0].link,
            Link::Stored("documents/o1/invoice-2026-000001.pdf".into()),
            "superseded: no document link gives it"
        );
        for l in &listed[1..] {
            match &l.link {
                Link::Document(url) => {
                    assert!(url.starts_with("https://api.example/documents/D"), "{url}")
                }
                other => panic!("the invoice in force has its document link: {other:?}"),
            }
        }
    }

    #[test]
    fn a_credit_document_has_no_delivery_order() {
        let r = record("refund#R1", "2026-000009", "credit", "2026-12-03");
        assert_eq!(delivery_order_of(&r), None);
        let listed = listed(
            vec![r],
            &order(),
            &[],
            "Europe/Berlin",
            "https://x",
            Utc::now(),
        );
        assert_eq!(listed[0].view["kind"], "credit_note");
        assert!(listed[0].view.get("deliveryOrderId").is_none());
        // A refund the order does not know: its issue date.
        assert_eq!(listed[0].view["supplyDate"], "2026-12-03");
        assert!(matches!(listed[0].link, Link::Stored(_)));
    }
}
