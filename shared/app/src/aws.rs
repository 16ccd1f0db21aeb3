//! The traits of `crate::ports` over the DynamoDB repositories and SQS queues of dropship-aws.
//! The adapters borrow what a function already holds, so building one per request costs nothing.

use crate::ports::{
    CatalogueReader, ChangeCommitter, ChangeSet, EventPublisher, InvoiceRegister, Message,
    OrderReader, RoutingReader,
};
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::{self, Outcome, Tables};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::invoices::{InvoiceRecord, Invoices};
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::outbox::QueueKind;
use dropship_aws::repo::returns::Returns;
use dropship_aws::repo::stock::{Stock, StockLevel};
use dropship_core::catalogue::{Fulfiller, Product, RefundPolicy, SourcePair};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::{FulfillerId, Sku};
use dropship_core::order::Order;
use dropship_core::process::ProcessVersion;
use dropship_core::returns::ReturnPart;
use dropship_core::split::StockRead;
use std::collections::BTreeMap;

/// Orders, delivery orders and returns in DynamoDB, and the transaction that changes them.
#[derive(Clone, Copy)]
pub struct Store<'a> {
    pub orders: &'a Orders,
    pub delivery_orders: &'a DeliveryOrders,
    /// Only the functions that work on returns have the returns table.
    pub returns: Option<&'a Returns>,
    /// The client and tables of the transaction; without them only the order changes, alone.
    pub transaction: Option<(&'a aws_sdk_dynamodb::Client, &'a Tables)>,
}

impl<'a> Store<'a> {
    /// Orders and delivery orders; no returns until `with_returns`.
    pub fn new(
        orders: &'a Orders,
        delivery_orders: &'a DeliveryOrders,
        dynamodb: &'a aws_sdk_dynamodb::Client,
        tables: &'a Tables,
    ) -> Self {
        Store {
            orders,
            delivery_orders,
            returns: None,
            transaction: Some((dynamodb, tables)),
        }
    }

    /// For a function that changes nothing but orders (and has no right to the stock): it reads
    /// orders and delivery orders, and commits a change of the order alone (`Orders`' commit).
    pub fn orders_alone(orders: &'a Orders, delivery_orders: &'a DeliveryOrders) -> Self {
        Store {
            orders,
            delivery_orders,
            returns: None,
            transaction: None,
        }
    }

    pub fn with_returns(self, returns: &'a Returns) -> Self {
        Store {
            returns: Some(returns),
            ..self
        }
    }

    fn returns(&self) -> anyhow::Result<&Returns> {
        self.returns
            .ok_or_else(|| anyhow::anyhow!("this function has no returns table"))
    }
}

impl OrderReader for Store<'_> {
    async fn order(&self, id: &str) -> anyhow::Result<Option<Order>> {
        self.orders.get(id).await
    }
    async fn delivery_order(&self, id: &str) -> anyhow::Result<Option<DeliveryOrder>> {
        self.delivery_orders.get(id).await
    }
    async fn delivery_orders(&self, ids: &[String]) -> anyhow::Result<Vec<DeliveryOrder>> {
        self.delivery_orders.get_many(ids).await
    }
    async fn return_part(
        &self,
        return_id: &str,
        fulfiller_id: &FulfillerId,
    ) -> anyhow::Result<Option<ReturnPart>> {
        self.returns()?.part(return_id, fulfiller_id.as_str()).await
    }
    async fn return_parts(&self, return_id: &str) -> anyhow::Result<Vec<ReturnPart>> {
        self.returns()?.parts(return_id).await
    }
}

impl ChangeCommitter for Store<'_> {
    async fn commit(&self, change: &ChangeSet) -> anyhow::Result<Outcome> {
        match self.transaction {
            Some((dynamodb, tables)) => {
                changes::commit(dynamodb, tables, change.as_change()?).await
            }
            None => self.orders.commit(change).await,
        }
    }
}

/// The orders table alone, for a function that changes nothing but orders (and has no right to
/// the others): a change of the order only, as one conditional write.
impl ChangeCommitter for Orders {
    async fn commit(&self, change: &ChangeSet) -> anyhow::Result<Outcome> {
        let (order, messages) = match change {
            ChangeSet {
                order: Some(order),
                new_deliveries,
                updated_deliveries,
                reserve,
                release,
                consume,
                backorders_set,
                backorders_cleared,
                restock,
                new_return_parts,
                updated_return_parts,
                messages,
            } if new_deliveries.is_empty()
                && updated_deliveries.is_empty()
                && reserve.is_empty()
                && release.is_empty()
                && consume.is_empty()
                && backorders_set.is_empty()
                && backorders_cleared.is_empty()
                && restock.is_empty()
                && new_return_parts.is_empty()
                && updated_return_parts.is_empty() =>
            {
                (order, messages)
            }
            _ => anyhow::bail!("the orders table alone commits only a change of the order"),
        };
        let outbox = messages
            .iter()
            .map(Message::to_outbox)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(if self.replace(order, &outbox).await? {
            Outcome::Committed
        } else {
            Outcome::Stale
        })
    }
}

/// The queues follow-ups go to; a function has only those it sends to.
#[derive(Clone, Copy, Default)]
pub struct Queues<'a> {
    pub events: Option<&'a Queue>,
    pub documents: Option<&'a Queue>,
    pub route: Option<&'a Queue>,
    pub returns: Option<&'a Queue>,
}

impl<'a> Queues<'a> {
    /// Business events and document jobs, what most use cases send.
    pub fn events_and_documents(events: &'a Queue, documents: &'a Queue) -> Self {
        Queues {
            events: Some(events),
            documents: Some(documents),
            ..Queues::default()
        }
    }

    fn queue_of(&self, message: &Message) -> anyhow::Result<&'a Queue> {
        self.queue(message.queue())
    }

    /// The queue of one kind, if this function has it (the change relay sends to all four).
    pub fn queue(&self, kind: QueueKind) -> anyhow::Result<&'a Queue> {
        let queue = match kind {
            QueueKind::Events => self.events,
            QueueKind::Documents => self.documents,
            QueueKind::Route => self.route,
            QueueKind::Returns => self.returns,
        };
        queue.ok_or_else(|| anyhow::anyhow!("this function has no {} queue", kind.as_str()))
    }
}

impl EventPublisher for Queues<'_> {
    async fn publish(&self, message: &Message) -> anyhow::Result<()> {
        self.queue_of(message)?.send(message).await
    }

    /// Consecutive messages for the same queue go in batches.
    async fn publish_all(&self, messages: &[Message]) -> anyhow::Result<()> {
        let mut rest = messages;
        while let Some(first) = rest.first() {
            let queue = self.queue_of(first)?;
            let same = rest
                .iter()
                .take_while(|m| std::mem::discriminant(*m) == std::mem::discriminant(first))
                .count();
            queue.send_all(&rest[..same]).await?;
            rest = &rest[same..];
        }
        Ok(())
    }
}

impl CatalogueReader for Catalogue {
    async fn fulfiller(&self, id: &FulfillerId) -> anyhow::Result<Option<Fulfiller>> {
        self.get_fulfiller(id.as_str()).await
    }
    async fn refund_policy(&self) -> anyhow::Result<RefundPolicy> {
        self.get_refund_policy().await
    }
    async fn process(&self) -> anyhow::Result<ProcessVersion> {
        Catalogue::process_at(self, chrono::Utc::now()).await
    }
    async fn process_at(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<ProcessVersion> {
        Catalogue::process_at(self, at).await
    }
}

impl InvoiceRegister for Invoices {
    async fn invoice(&self, purpose: &str) -> anyhow::Result<Option<InvoiceRecord>> {
        self.get(purpose).await
    }
    async fn register(
        &self,
        purpose: &str,
        year: i32,
        make: &(dyn Fn(String) -> InvoiceRecord + Sync),
    ) -> anyhow::Result<InvoiceRecord> {
        Invoices::register(self, purpose, year, make).await
    }
    async fn supersede(&self, purpose: &str, number: &str) -> anyhow::Result<()> {
        Invoices::supersede(self, purpose, number).await
    }
}

/// The catalogue's products and fulfillers and the stock table, as routing reads them.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub catalogue: &'a Catalogue,
    pub stock: &'a Stock,
    pub dynamodb: &'a aws_sdk_dynamodb::Client,
}

/// The free stock of each level read, and of each item of the sharded ones.
fn free_of(levels: BTreeMap<(FulfillerId, Sku), StockLevel>) -> StockRead {
    let mut read = StockRead::default();
    for (k, v) in levels {
        if !v.shard_free.is_empty() {
            read.shards.insert(k.clone(), v.shard_free);
        }
        read.free.insert(k, v.free);
    }
    read
}

impl RoutingReader for Sources<'_> {
    async fn products(&self, skus: Vec<String>) -> anyhow::Result<BTreeMap<Sku, Product>> {
        self.catalogue.get_products(skus).await
    }

    /// One BatchGetItem over both tables (both follow from the products).
    async fn fulfillers_and_free_stock(
        &self,
        pairs: &[SourcePair],
    ) -> anyhow::Result<(BTreeMap<FulfillerId, Fulfiller>, StockRead)> {
        let (fulfillers_table, fulfiller_keys) = self
            .catalogue
            .fulfiller_keys(pairs.iter().map(|p| p.fulfiller_id.to_string()));
        let (stock_table, stock_keys) = self.stock.keys(pairs.to_vec());
        let mut found = dropship_aws::repo::batch_get_tables(
            self.dynamodb,
            vec![
                (fulfillers_table.clone(), fulfiller_keys),
                (stock_table.clone(), stock_keys),
            ],
        )
        .await?;
        let fulfillers =
            Catalogue::fulfillers_from(found.remove(&fulfillers_table).unwrap_or_default())?;
        let levels = Stock::levels_from(found.remove(&stock_table).unwrap_or_default())?;
        Ok((fulfillers, free_of(self.stock.with_shards(levels).await?)))
    }

    async fn free_stock(&self, pairs: &[SourcePair]) -> anyhow::Result<StockRead> {
        Ok(free_of(self.stock.get_many(pairs.to_vec()).await?))
    }
}
