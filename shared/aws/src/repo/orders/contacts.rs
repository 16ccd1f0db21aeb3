//! Customer service's contacts with a customer, in the orders table beside the order they are
//! about: `CONTACT#<orderId>#<contactId>`, listed per order through byCreated (gsi1pk
//! `CONTACTS#<orderId>`, gsi1sk `<at>#<id>`: oldest first) and per customer through byCustomer
//! (customerKey `CONTACT#<at>#<id>`: newest first). Separate items: a contact list can grow
//! without bound, the order item must not. Neither index projects the note: the lists read the
//! items whole after the index. Written once, never changed.

use super::{customer_key, sort_time, Orders, CUSTOMER_EMAIL, CUSTOMER_KEY};
use crate::repo::{query_all_whole, s, to_item};
use anyhow::Context;
use dropship_core::order::Order;
use dropship_core::service::Contact;

/// The contact's item: the contact, its key and its places in both indexes (the customer's
/// address as the order has it, in lower case).
pub fn contact_item(order: &Order, contact: &Contact) -> anyhow::Result<crate::repo::Item> {
    let at = format!("{}#{}", sort_time(contact.at), contact.id);
    let pk = format!("CONTACT#{}#{}", order.id, contact.id);
    let list = format!("CONTACTS#{}", order.id);
    let mut keys = vec![("pk", pk.as_str()), ("gsi1pk", &list), ("gsi1sk", &at)];
    let customer = customer_key(&order.customer.email);
    let by_customer = format!("CONTACT#{at}");
    if !customer.is_empty() {
        keys.push((CUSTOMER_EMAIL, &customer));
        keys.push((CUSTOMER_KEY, &by_customer));
    }
    to_item(contact, &keys)
}

impl Orders {
    /// Stores a new contact about `order` (read before: it exists, and orders are never deleted).
    pub async fn add_contact(&self, order: &Order, contact: &Contact) -> anyhow::Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(contact_item(order, contact)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .with_context(|| format!("storing contact {} of order {}", contact.id, order.id))?;
        Ok(())
    }

    /// The contacts about an order, oldest first (an index: a contact just written may be
    /// missing for a moment).
    pub async fn contacts(&self, order_id: &str) -> anyhow::Result<Vec<Contact>> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :c")
            .expression_attribute_values(":c", s(format!("CONTACTS#{order_id}")));
        query_all_whole(
            &self.client,
            q,
            &["pk"],
            &format!("reading the contacts of order {order_id}"),
        )
        .await
    }

    /// The contacts with a customer (their address in any case) about any of their orders,
    /// newest first.
    pub async fn contacts_of_customer(&self, email: &str) -> anyhow::Result<Vec<Contact>> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCustomer")
            .key_condition_expression("customerEmail = :c AND begins_with(customerKey, :k)")
            .expression_attribute_values(":c", s(customer_key(email)))
            .expression_attribute_values(":k", s("CONTACT#"))
            .scan_index_forward(false);
        query_all_whole(&self.client, q, &["pk"], "reading a customer's contacts").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_core::service::{ContactChannel, ContactTopic};

    #[test]
    fn a_contact_is_keyed_by_its_order_and_its_customer() {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": "o-1", "channelId": "web", "externalId": "E1", "status": "routed", "currency": "EUR",
            "customer": {"email": "Ann@Example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "discounts": [],
            "shippingCost": "0.00", "payments": [], "history": [], "lines": [],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00",
                "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"}}))
        .unwrap();
        let contact = Contact {
            id: "CT-1".into(),
            order_id: order.id.clone(),
            at: "2026-11-28T09:00:00Z".parse().unwrap(),
            by: "admin:Ann".into(),
            channel: ContactChannel::Phone,
            topic: ContactTopic::Damaged,
            note: "box crushed".into(),
        };
        let item = contact_item(&order, &contact).unwrap();
        let text = |k: &str| item[k].as_s().unwrap().clone();
        assert_eq!(text("pk"), "CONTACT#o-1#CT-1");
        assert_eq!(text("gsi1pk"), "CONTACTS#o-1");
        assert_eq!(text("gsi1sk"), "2026-11-28T09:00:00.000000Z#CT-1");
        assert_eq!(text(CUSTOMER_EMAIL), "ann@example.com");
        assert_eq!(
            text(CUSTOMER_KEY),
            "CONTACT#2026-11-28T09:00:00.000000Z#CT-1"
        );
        // Never taken for an order by the change relay or the change feed.
        assert!(!text("pk").starts_with("ORDER#") && !item.contains_key("updatedKey"));
        let back: Contact = crate::repo::from_item(item).unwrap();
        assert_eq!(back, contact);
    }
}
