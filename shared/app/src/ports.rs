//! The narrow traits the use cases work through. The DynamoDB and SQS adapters (`crate::aws`)
//! implement them for the functions, the in-memory fake (`crate::fake`) for the tests.

use dropship_aws::repo::changes::{Change, Outcome, StockMove};
use dropship_aws::repo::invoices::InvoiceRecord;
use dropship_aws::repo::outbox::{OutboxMessage, QueueKind};
use dropship_core::catalogue::{Fulfiller, Product, RefundPolicy, SourcePair};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::{FulfillerId, Sku};
use dropship_core::messages::{BusinessEvent, GenerateDocuments, RouteOrder, SettleReturn};
use dropship_core::order::Order;
use dropship_core::process::ProcessVersion;
use dropship_core::returns::ReturnPart;
use dropship_core::split::StockRead;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// Reads an order and what hangs off it: its delivery orders and its returns.
pub trait OrderReader: Sync {
    fn order(&self, id: &str) -> impl Future<Output = anyhow::Result<Option<Order>>> + Send;
    fn delivery_order(
        &self,
        id: &str,
    ) -> impl Future<Output = anyhow::Result<Option<DeliveryOrder>>> + Send;
    fn delivery_orders(
        &self,
        ids: &[String],
    ) -> impl Future<Output = anyhow::Result<Vec<DeliveryOrder>>> + Send;
    /// One fulfiller's part of a return.
    fn return_part(
        &self,
        return_id: &str,
        fulfiller_id: &FulfillerId,
    ) -> impl Future<Output = anyhow::Result<Option<ReturnPart>>> + Send;
    /// Every fulfiller's part of a return.
    fn return_parts(
        &self,
        return_id: &str,
    ) -> impl Future<Output = anyhow::Result<Vec<ReturnPart>>> + Send;
}

/// Commits one change atomically: `Outcome::Committed`, or the conflict that stopped it.
pub trait ChangeCommitter: Sync {
    fn commit(&self, change: &ChangeSet) -> impl Future<Output = anyhow::Result<Outcome>> + Send;
}

/// Sends the follow-ups of a committed change.
pub trait EventPublisher: Sync {
    fn publish(&self, message: &Message) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Several messages, batched where the transport can.
    fn publish_all(&self, messages: &[Message]) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What a use case needs of the catalogue.
pub trait CatalogueReader: Sync {
    fn fulfiller(
        &self,
        id: &FulfillerId,
    ) -> impl Future<Output = anyhow::Result<Option<Fulfiller>>> + Send;
    fn refund_policy(&self) -> impl Future<Output = anyhow::Result<RefundPolicy>> + Send;
    /// The process settings in force now (the latest written takes effect at its `updatedAt`).
    fn process(&self) -> impl Future<Output = anyhow::Result<ProcessVersion>> + Send;
    /// The process settings in force at `at` (when the change that triggered a step committed).
    fn process_at(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = anyhow::Result<ProcessVersion>> + Send;
}

/// What routing reads besides the order: the products, who could ship them and their free stock.
pub trait RoutingReader: Sync {
    fn products(
        &self,
        skus: Vec<String>,
    ) -> impl Future<Output = anyhow::Result<BTreeMap<Sku, Product>>> + Send;
    /// Which fulfillers of these (fulfiller, sku) pairs exist, and the pairs' free stock: the
    /// first read of a routing round, in one request where the store can.
    fn fulfillers_and_free_stock(
        &self,
        pairs: &[SourcePair],
    ) -> impl Future<Output = anyhow::Result<(BTreeMap<FulfillerId, Fulfiller>, StockRead)>> + Send;
    /// The pairs' free stock again, for another attempt (who could ship has not changed).
    fn free_stock(
        &self,
        pairs: &[SourcePair],
    ) -> impl Future<Output = anyhow::Result<StockRead>> + Send;
}

/// The invoice register: the invoice-like document made for each purpose (a delivery order, a
/// shipment's correction, a refund) and its number, gap-free within a year.
pub trait InvoiceRegister: Sync {
    fn invoice(
        &self,
        purpose: &str,
    ) -> impl Future<Output = anyhow::Result<Option<InvoiceRecord>>> + Send;
    /// Registers the document for `purpose` under the next number of `year` (`make(number)`
    /// builds it), or returns the one registered for it before.
    fn register(
        &self,
        purpose: &str,
        year: i32,
        make: &(dyn Fn(String) -> InvoiceRecord + Sync),
    ) -> impl Future<Output = anyhow::Result<InvoiceRecord>> + Send;
    /// Marks `purpose`'s document as superseded by invoice `number` (the old one stays).
    fn supersede(
        &self,
        purpose: &str,
        number: &str,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A follow-up message; each kind has its own queue. Serialized as the message itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Message {
    Event(BusinessEvent),
    Documents(GenerateDocuments),
    Route(RouteOrder),
    Settle(SettleReturn),
}

/// One atomic change, owned (the use case's plan outlives the attempt that made it); see
/// `dropship_aws::repo::changes::Change` for what each part means.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub order: Option<Order>,
    pub new_deliveries: Vec<DeliveryOrder>,
    pub updated_deliveries: Vec<DeliveryOrder>,
    pub reserve: Vec<StockMove>,
    pub release: Vec<StockMove>,
    pub consume: Vec<StockMove>,
    pub backorders_set: Vec<String>,
    pub backorders_cleared: Vec<String>,
    pub restock: Vec<StockMove>,
    pub new_return_parts: Vec<ReturnPart>,
    pub updated_return_parts: Vec<ReturnPart>,
    /// The follow-ups: committed with the change (the order item's outbox), sent by the
    /// change relay once the change is in, and never without it.
    pub messages: Vec<Message>,
}

impl ChangeSet {
    /// The same change, borrowed, as the DynamoDB commit takes it (the messages serialized as
    /// the queues carry them).
    pub fn as_change(&self) -> anyhow::Result<Change<'_>> {
        let outbox = self
            .messages
            .iter()
            .map(Message::to_outbox)
            .collect::<anyhow::Result<_>>()?;
        Ok(Change {
            order: self.order.as_ref(),
            new_deliveries: &self.new_deliveries,
            updated_deliveries: &self.updated_deliveries,
            reserve: &self.reserve,
            release: &self.release,
            consume: &self.consume,
            backorders_set: &self.backorders_set,
            backorders_cleared: &self.backorders_cleared,
            restock: &self.restock,
            new_return_parts: &self.new_return_parts,
            updated_return_parts: &self.updated_return_parts,
            outbox,
        })
    }
}

impl Message {
    /// The queue this message goes to.
    pub fn queue(&self) -> QueueKind {
        match self {
            Message::Event(_) => QueueKind::Events,
            Message::Documents(_) => QueueKind::Documents,
            Message::Route(_) => QueueKind::Route,
            Message::Settle(_) => QueueKind::Returns,
        }
    }

    /// The message as an outbox entry: its queue and its body exactly as sent.
    pub fn to_outbox(&self) -> anyhow::Result<OutboxMessage> {
        Ok(OutboxMessage {
            queue: self.queue(),
            body: serde_json::to_string(self)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_change_carries_its_messages_as_the_queues_carry_them() {
        let route = Message::Route(RouteOrder::new("o1".try_into().unwrap()));
        let change = ChangeSet {
            updated_deliveries: vec![testing::delivery()],
            messages: vec![route.clone()],
            ..ChangeSet::default()
        };
        let outbox = change.as_change().unwrap().outbox;
        assert_eq!(
            outbox,
            [OutboxMessage {
                queue: QueueKind::Route,
                body: r#"{"orderId":"o1"}"#.into(),
            }]
        );
        assert_eq!(outbox[0].body, serde_json::to_string(&route).unwrap());
    }
}
