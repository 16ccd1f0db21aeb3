//! Orders table. Keys (pk): `ORDER#<id>` -> the order with its full money breakdown. An order's
//! id is derived from its channel and externalId (`OrderId::for_channel_order`), so the uniqueness of
//! externalId per channel is the order item's own `attribute_not_exists` condition: one PutItem,
//! no transaction, no extra item.
//! GSI byCreated: gsi1pk = `ORDERS`, gsi1sk = `<createdAt>#<id>` (admin lists, newest first;
//! projects status, channelId and orderId only: lists read the orders whole after it).
//! `outbox` (see `outbox`): the follow-up messages of the write that made this version, sent
//! by the change relay from the table's stream; a new order's is its routing message.
//! `BACKORDER#<sku>#<id>` (gsi1pk = `BACKORDER#<sku>`): the order waits for stock of that sku;
//! arriving stock routes such orders again, oldest first.
//! GSI byCustomer (keys only): customerEmail = the customer's address in lower case,
//! customerKey = `ORDER#<createdAt>#<id>` on orders, `CONTACT#<at>#<id>` on customer service's
//! contacts (`contacts`): a customer's orders and contacts, newest first.
//! `CONTACT#<orderId>#<contactId>` (gsi1pk = `CONTACTS#<orderId>`): one contact of customer
//! service with the order's customer (separate items, so the order item stays bounded).
//! Access: create (conditional put); get by id (consistent); list newest first with filters;
//! backordered orders of a sku, oldest first; a customer's orders.
//! Every later change goes through `changes::commit`, conditional on the order's version.
//! Every write stamps the order (`updatedAt`, `order_item`) and keys it in GSI
//! byChannelUpdated (channelId, `updatedKey`): the change feed (`feed`).

pub mod contacts;
pub mod feed;

use super::{from_item, s, to_item};
use anyhow::Context;
use dropship_core::change_feed::next_update_time;
use dropship_core::ids::OrderId;
use dropship_core::messages::RouteOrder;
use dropship_core::order::Order;
use dropship_core::service::customer_key;

/// The marker of an order waiting for stock of `sku` (gsi1pk `BACKORDER#<sku>`, oldest first).
pub fn backorder_key(sku: &str, order_id: &str) -> String {
    format!("BACKORDER#{sku}#{order_id}")
}

/// A fixed-width UTC timestamp, so that sort keys compare as times.
pub fn sort_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Filters of the admin order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub channel_id: Option<String>,
    /// Inclusive UTC bounds of the creation time.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug)]
pub struct Orders {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// Why a create did not happen.
#[derive(Debug)]
pub enum CreateOutcome {
    Created,
    /// The channel already has an order with this externalId (so with this id).
    AlreadyExists,
}

/// The change feed's sort key of an order's write: its stamp, fixed width, then the order id
/// (`byChannelUpdated`, oldest change first; the id keeps two orders' keys apart).
pub fn update_key(at: chrono::DateTime<chrono::Utc>, order_id: &str) -> String {
    format!("{}#{order_id}", sort_time(at))
}

/// The stored form of an order's next write, with its index keys, stamped with the time of
/// this write. Every writer of the order item uses it: `order` is the new state, still with the
/// `updated_at` of the version it replaces (none for a new order), and the stamp is the next
/// after that one (`change_feed::next_update_time`), so one order's stamps only go forward.
pub fn order_item(order: &Order) -> anyhow::Result<super::Item> {
    let at = next_update_time(order.updated_at, chrono::Utc::now());
    let created = format!("{}#{}", sort_time(order.created_at), order.id);
    let pk = format!("ORDER#{}", order.id);
    let updated = update_key(at, order.id.as_str());
    let mut item = to_item(
        order,
        &[
            ("pk", &pk),
            ("gsi1pk", "ORDERS"),
            ("gsi1sk", &created),
            (UPDATED_KEY, &updated),
        ],
    )?;
    item.insert(UPDATED_AT.to_string(), s(sort_time(at)));
    // An index key may not be empty: an order without an address is in no customer's list.
    let customer = customer_key(&order.customer.email);
    if !customer.is_empty() {
        item.insert(CUSTOMER_EMAIL.to_string(), s(customer));
        item.insert(
            CUSTOMER_KEY.to_string(),
            s(format!("{ORDER_PREFIX}{created}")),
        );
    }
    Ok(item)
}

/// The attributes of GSI byCustomer: the customer's address in lower case, and the entry's
/// kind and time (`ORDER#<createdAt>#<id>`, `CONTACT#<at>#<id>`), newest first when read back.
pub const CUSTOMER_EMAIL: &str = "customerEmail";
pub const CUSTOMER_KEY: &str = "customerKey";
const ORDER_PREFIX: &str = "ORDER#";

/// The stamp attributes (the order's `updatedAt`, and its key in `byChannelUpdated`).
pub const UPDATED_AT: &str = "updatedAt";
pub const UPDATED_KEY: &str = "updatedKey";

/// The condition under which an order's next version may be written: the stored order is still
/// the version, and the stamp, it was read at. (A change that carries only its outbox on the
/// order item, `outbox::on_order`, moves the stamp but not the version; checking the stamp too
/// keeps a write planned before it from stamping the order back in time.)
pub fn unchanged_since_read(
    order: &Order,
) -> (
    String,
    Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
) {
    let mut values = vec![(":v", super::n(order.version))];
    let stamp = match order.updated_at {
        Some(at) => {
            values.push((":readKey", s(update_key(at, order.id.as_str()))));
            "updatedKey = :readKey"
        }
        None => "attribute_not_exists(updatedKey)",
    };
    (
        format!("attribute_exists(pk) AND version = :v AND {stamp}"),
        values,
    )
}

impl Orders {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Stores a new order with its routing message in its outbox: the change relay queues it
    /// once the order is in, so an accepted order is never left unrouted.
    pub async fn create(&self, order: &Order) -> anyhow::Result<CreateOutcome> {
        let mut item = order_item(order)?;
        let route = super::outbox::OutboxMessage {
            queue: super::outbox::QueueKind::Route,
            body: serde_json::to_string(&RouteOrder::new(order.id.clone()))?,
        };
        item.insert(
            super::outbox::ATTRIBUTE.to_string(),
            super::outbox::attribute(&super::outbox::new_commit_id(), &[route]),
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            let e = match res {
                Ok(_) => return Ok(CreateOutcome::Created),
                Err(e) => e,
            };
            if super::is_condition_failure(&e) {
                // Another request stored it, or an earlier attempt of ours whose answer was
                // lost: the caller tells them apart by the stored request key.
                return Ok(CreateOutcome::AlreadyExists);
            }
            // A server error even after the SDK's own retries: the answer to a write that may
            // have happened is lost. The condition makes another try safe.
            if super::is_server_error(&e) && attempt < 4 {
                tracing::warn!(attempt, order_id = %order.id, "storing the order hit a server error; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                continue;
            }
            return Err(e).context("storing the order");
        }
    }

    pub async fn get(&self, id: &str) -> anyhow::Result<Option<Order>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("ORDER#{id}")))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading order {id}"))?;
        out.item.map(from_item).transpose()
    }

    /// Records `what` in the order's history once: a redelivered message that decided the same
    /// finds it there and writes nothing. Read and written again while other writers move the
    /// order on. False when there is no such order.
    pub async fn record_once(&self, id: &str, who: &str, what: &str) -> anyhow::Result<bool> {
        for _ in 0..8 {
            let Some(mut order) = self.get(id).await? else {
                return Ok(false);
            };
            if order.history.iter().any(|h| h.what == what) {
                return Ok(true);
            }
            order.record(chrono::Utc::now(), who, what);
            if self.replace(&order, &[]).await? {
                return Ok(true);
            }
        }
        anyhow::bail!("order {id} kept changing while a decision was recorded in its history")
    }

    /// Writes the whole order conditional on the version it was read at, for a change of the
    /// order alone (the same item and condition as `changes::commit`). False when the order
    /// moved on since it was read: nothing was written, read it again.
    /// Writes the order's next version if it is still at `order.version`; `outbox` (the
    /// follow-ups, see `outbox`) goes on the item with it.
    pub async fn replace(
        &self,
        order: &Order,
        outbox: &[super::outbox::OutboxMessage],
    ) -> anyhow::Result<bool> {
        let mut next = order.clone();
        next.version = order.version + 1;
        let mut item = order_item(&next)?;
        if !outbox.is_empty() {
            item.insert(
                super::outbox::ATTRIBUTE.to_string(),
                super::outbox::attribute(&super::outbox::new_commit_id(), outbox),
            );
        }
        let (condition, values) = unchanged_since_read(order);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        let res = put.send().await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("writing order {}", order.id)),
        }
    }
}

impl Orders {
    /// Orders newest first, filtered; `None` when `next_token` is not one of ours.
    pub async fn list(
        &self,
        filter: &OrderFilter,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<(Vec<Order>, Option<String>)>> {
        // Bounds on the sort key `<time>#<id>`: "~" sorts after every id character.
        // Key values may not be empty: "0" sorts before every timestamp.
        let lower = filter.from.map(sort_time).unwrap_or_else(|| "0".into());
        let upper = filter
            .to
            .map(|t| format!("{}~", sort_time(t)))
            .unwrap_or_else(|| "~".into());
        // A start key of the byCreated index within the bounds only: anything else DynamoDB would
        // refuse (a 500).
        let start = match next_token {
            Some(t) => match super::decode_next_token(t) {
                Some(k)
                    if k.len() == 3
                        && k.get("gsi1pk")
                            .and_then(|v| v.as_s().ok())
                            .map(String::as_str)
                            == Some("ORDERS")
                        && k.get("pk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|v| !v.is_empty())
                        && k.get("gsi1sk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|v| lower <= *v && *v <= upper) =>
                {
                    Some(k)
                }
                _ => return Ok(None),
            },
            None => None,
        };
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":o", s("ORDERS"))
            .expression_attribute_values(":lo", s(lower))
            .expression_attribute_values(":hi", s(upper))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start);
        let mut conditions = Vec::new();
        if let Some(st) = &filter.status {
            conditions.push("#st = :st");
            q = q
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":st", s(st));
        }
        if let Some(c) = &filter.channel_id {
            conditions.push("channelId = :ch");
            q = q.expression_attribute_values(":ch", s(c));
        }
        if !conditions.is_empty() {
            q = q.filter_expression(conditions.join(" AND "));
        }
        let page = q.send().await.context("listing orders")?;
        let keys = page.items.unwrap_or_default();
        let items = super::whole_items(&self.client, &self.table, &["pk"], keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<anyhow::Result<Vec<Order>>>()?;
        Ok(Some((
            items,
            page.last_evaluated_key
                .as_ref()
                .map(super::encode_next_token),
        )))
    }
}

impl Orders {
    /// Orders waiting for stock of `sku`, oldest first.
    pub async fn backordered(&self, sku: &str, limit: i32) -> anyhow::Result<Vec<OrderId>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :b")
            .expression_attribute_values(":b", s(format!("BACKORDER#{sku}")))
            .limit(limit)
            .send()
            .await
            .with_context(|| format!("listing orders backordered on {sku}"))?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| {
                let id = i.get("orderId")?.as_s().ok()?;
                OrderId::try_from(id.as_str()).ok()
            })
            .collect())
    }
}

impl Orders {
    /// A customer's newest `max` orders (their address in any case), newest first, and whether
    /// they have more; written since the byCustomer index exists (an older order joins it at
    /// its next write).
    pub async fn of_customer(&self, email: &str, max: usize) -> anyhow::Result<(Vec<Order>, bool)> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byCustomer")
            .key_condition_expression("customerEmail = :c AND begins_with(customerKey, :k)")
            .expression_attribute_values(":c", s(customer_key(email)))
            .expression_attribute_values(":k", s(ORDER_PREFIX))
            .scan_index_forward(false)
            .limit(i32::try_from(max + 1).unwrap_or(i32::MAX));
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let page = q
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .context("reading a customer's orders")?;
            keys.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() || keys.len() > max {
                break;
            }
        }
        let more = keys.len() > max || start.is_some();
        keys.truncate(max);
        let orders = super::whole_items(&self.client, &self.table, &["pk"], keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<anyhow::Result<Vec<Order>>>()?;
        Ok((orders, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(updated_at: Option<&str>) -> Order {
        let mut o = serde_json::json!({
            "id": "o-1", "channelId": "web", "externalId": "E1", "status": "routed", "currency": "EUR",
            "customer": {"email": "C@Example.com", "name": "C"},
            "shippingAddress": {"name": "C", "street": "S", "postalCode": "1", "city": "B", "country": "DE"},
            "orderedAt": "2026-11-27T10:00:00Z", "createdAt": "2026-11-27T10:00:00Z", "discounts": [],
            "shippingCost": "0.00", "payments": [], "history": [], "lines": [], "version": 4,
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00",
                "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"}});
        if let Some(at) = updated_at {
            o["updatedAt"] = serde_json::json!(at);
        }
        serde_json::from_value(o).unwrap()
    }

    fn text(item: &super::super::Item, name: &str) -> String {
        item[name].as_s().unwrap().clone()
    }

    #[test]
    fn every_write_is_stamped_and_keyed_for_the_change_feed() {
        let before = chrono::Utc::now();
        let item = order_item(&order(None)).unwrap();
        let at = text(&item, UPDATED_AT);
        assert_eq!(at.len(), 27, "fixed width: {at}");
        assert!(at >= sort_time(dropship_core::change_feed::whole_micros(before)));
        assert_eq!(text(&item, UPDATED_KEY), format!("{at}#o-1"));
        // The customer's index: their address in lower case, the order by its creation.
        assert_eq!(text(&item, CUSTOMER_EMAIL), "c@example.com");
        assert_eq!(
            text(&item, CUSTOMER_KEY),
            "ORDER#2026-11-27T10:00:00.000000Z#o-1"
        );
        // It reads back as the order's own stamp.
        let back: Order = from_item(item).unwrap();
        assert_eq!(back.updated_at.map(sort_time), Some(at));
    }

    #[test]
    fn a_write_after_one_stamped_ahead_of_this_clock_still_goes_forward() {
        let ahead = "2999-01-01T00:00:00.000009Z";
        let item = order_item(&order(Some(ahead))).unwrap();
        assert_eq!(text(&item, UPDATED_AT), "2999-01-01T00:00:00.000010Z");
        assert_eq!(text(&item, UPDATED_KEY), "2999-01-01T00:00:00.000010Z#o-1");
    }

    #[test]
    fn the_next_version_is_written_only_over_the_version_and_stamp_it_was_read_at() {
        let (condition, values) = unchanged_since_read(&order(None));
        assert_eq!(
            condition,
            "attribute_exists(pk) AND version = :v AND attribute_not_exists(updatedKey)"
        );
        assert_eq!(values, vec![(":v", super::super::n(4))]);
        let (condition, values) = unchanged_since_read(&order(Some("2026-11-27T10:00:00.000001Z")));
        assert_eq!(
            condition,
            "attribute_exists(pk) AND version = :v AND updatedKey = :readKey"
        );
        assert_eq!(
            values[1],
            (":readKey", s("2026-11-27T10:00:00.000001Z#o-1"))
        );
    }
}
