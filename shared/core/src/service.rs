//! Customer service: the contacts staff record with a customer about an order (a call, a mail, a
//! chat, a letter, and what it was about), and the customer's page, found by their mail address.
//! Pure: bodies in, values out.

use crate::ids::{check_text, OrderId};
use crate::input::{self, Fields, Lax};
use crate::ledger;
use crate::order::Order;
use crate::returns::{self, ReturnPart};
use crate::ApiError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How the customer reached customer service (or was reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Phone,
    Email,
    Chat,
    Letter,
}

/// What a contact was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactTopic {
    WhereIsMyOrder,
    Damaged,
    WrongItem,
    MissingItem,
    Payment,
    Return,
    Other,
}

/// One contact with the customer about an order, as staff recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub order_id: OrderId,
    pub at: DateTime<Utc>,
    /// The staff member, as the order's history names them (`admin:<name>`).
    pub by: String,
    pub channel: ContactChannel,
    pub topic: ContactTopic,
    pub note: String,
}

impl Contact {
    /// `{id, at, by, channel, topic, note}` as the admin order view lists it.
    pub fn view(&self) -> Value {
        json!({"id": self.id, "at": self.at, "by": self.by, "channel": self.channel,
            "topic": self.topic, "note": self.note})
    }
}

/// What a contact's body says: `{channel, topic, note}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub channel: ContactChannel,
    pub topic: ContactTopic,
    pub note: String,
}

#[derive(Deserialize)]
struct ContactInput {
    #[serde(default)]
    channel: Lax<ContactChannel>,
    #[serde(default)]
    topic: Lax<ContactTopic>,
    #[serde(default)]
    note: Lax<String>,
}

/// `{channel: phone|email|chat|letter, topic: where_is_my_order|damaged|wrong_item|
/// missing_item|payment|return|other, note (1..1000 characters)}`; a 422 names the field.
pub fn parse_contact(v: &Value) -> Result<ContactRequest, ApiError> {
    let Fields(body) = input::read::<Fields<ContactInput>>(v)?;
    let channel = body.channel.0.ok_or_else(|| {
        ApiError::invalid("channel", "channel must be phone, email, chat or letter")
    })?;
    let topic = body.topic.0.ok_or_else(|| {
        ApiError::invalid(
            "topic",
            "topic must be where_is_my_order, damaged, wrong_item, missing_item, payment, return or other",
        )
    })?;
    let note = body.note.0.ok_or_else(|| input::required("note"))?;
    check_text("note", &note, 1000)?;
    Ok(ContactRequest {
        channel,
        topic,
        note,
    })
}

/// A new contact's id from a unique, time-ordered hex (a UUIDv7's), like a return's.
pub fn new_contact_id(unique: impl std::fmt::Display) -> String {
    format!("CT-{unique}").to_uppercase()
}

/// The key a customer is found by: their mail address, trimmed and in lower case (addresses
/// are matched case-insensitively). The path's value arrives URL-encoded (`%40` for `@`).
pub fn customer_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a path's value can be a customer's address at all (anything else: 404, not 422,
/// since the route names a customer like an id).
pub fn is_customer_key(key: &str) -> bool {
    (3..=254).contains(&key.len()) && key.contains('@') && !key.chars().any(char::is_whitespace)
}

/// Most entries of each list of the customer's page; `nextToken` of a list reads the next ones.
pub const CUSTOMER_PAGE: usize = 200;

/// The lists of the customer's page.
pub const CUSTOMER_LISTS: [&str; 5] = ["orders", "returns", "refunds", "goodwill", "contacts"];

/// Where each list of the customer's page starts (`<list>NextToken`, opaque to the client: the
/// position in the list, newest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerPages {
    pub starts: [usize; 5],
}

impl CustomerPages {
    /// The starts from the query (`ordersNextToken`, ...); a token not ours is a 422 naming it.
    pub fn parse(query: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let mut pages = CustomerPages::default();
        for (i, list) in CUSTOMER_LISTS.iter().enumerate() {
            let name = format!("{list}NextToken");
            if let Some(token) = query(&name) {
                pages.starts[i] = decode_position(&token)
                    .ok_or_else(|| ApiError::invalid(&name, format!("{name} is not valid")))?;
            }
        }
        Ok(pages)
    }
}

fn encode_position(at: usize) -> String {
    format!("p{at}")
}

fn decode_position(token: &str) -> Option<usize> {
    token
        .strip_prefix('p')?
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
}

/// What the customer's page is made of: their orders, each order's returns (its parts) and
/// their contacts, in any order.
pub struct CustomerRecords<'a> {
    pub orders: &'a [Order],
    pub returns: &'a [Vec<ReturnPart>],
    pub contacts: &'a [Contact],
}

/// `GET /admin/customers/{email}`: `{email, counts, orders, returns, refunds, goodwill,
/// contacts, nextTokens?}`, each list newest first, at most `CUSTOMER_PAGE` from its start.
pub fn customer_view(email: &str, records: &CustomerRecords<'_>, pages: &CustomerPages) -> Value {
    let mut orders: Vec<(DateTime<Utc>, Value)> = records
        .orders
        .iter()
        .map(|o| {
            (
                o.created_at,
                json!({"id": o.id, "orderId": o.id, "externalId": o.external_id,
                    "channelId": o.channel_id, "createdAt": o.created_at, "status": o.status,
                    "currency": o.currency, "total": o.totals.total}),
            )
        })
        .collect();
    let mut returns: Vec<(DateTime<Utc>, Value)> = records
        .returns
        .iter()
        .filter_map(|parts| {
            let first = parts.first()?;
            let mut v = returns::channel_view(parts);
            v["orderId"] = json!(first.order_id);
            Some((first.created_at, v))
        })
        .collect();
    let (mut refunds, mut goodwill) = (Vec::new(), Vec::new());
    for o in records.orders {
        for r in ledger::refunds(o) {
            let v = json!({"id": r.id, "refundId": r.id, "orderId": o.id, "amount": r.amount,
                "currency": o.currency, "reason": r.reason, "createdAt": r.created_at});
            if r.goodwill {
                goodwill.push((r.created_at, v));
            } else {
                refunds.push((r.created_at, v));
            }
        }
    }
    let mut contacts: Vec<(DateTime<Utc>, Value)> = records
        .contacts
        .iter()
        .map(|c| {
            let mut v = c.view();
            // Across the customer's orders: which one it was about.
            v["orderId"] = json!(c.order_id);
            (c.at, v)
        })
        .collect();
    let mut lists = [
        &mut orders,
        &mut returns,
        &mut refunds,
        &mut goodwill,
        &mut contacts,
    ];
    let mut body = json!({"email": email, "counts": {}});
    let mut next_tokens = serde_json::Map::new();
    for (i, list) in lists.iter_mut().enumerate() {
        let name = CUSTOMER_LISTS[i];
        // Newest first; the sort is stable, so equal times keep the order they came in.
        list.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        body["counts"][name] = json!(list.len());
        let start = pages.starts[i].min(list.len());
        let end = (start + CUSTOMER_PAGE).min(list.len());
        let page: Vec<&Value> = list[start..end].iter().map(|(_, v)| v).collect();
        body[name] = json!(page);
        if end < list.len() {
            next_tokens.insert(name.to_string(), json!(encode_position(end)));
        }
    }
    if !next_tokens.is_empty() {
        body["nextTokens"] = Value::Object(next_tokens);
    }
    body
}

#[cfg(test)]
mod tests;
