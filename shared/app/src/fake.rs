//! An in-memory store, catalogue, alert list and message log that implements every trait of
//! `crate::ports`, for unit tests of use cases without I/O. Conflicts and publish failures can
//! be injected; commits are checked like the real transaction (versions, existing delivery
//! orders, free and reserved stock).

use crate::ports::{
    CatalogueReader, ChangeCommitter, ChangeSet, EventPublisher, InvoiceRegister, Message,
    OrderReader, RoutingReader,
};
use dropship_aws::repo::changes::{Outcome, StockMove};
use dropship_aws::repo::invoices::InvoiceRecord;
use dropship_core::catalogue::{Fulfiller, Product, RefundPolicy, SourcePair};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::{FulfillerId, OrderId, Sku};
use dropship_core::order::Order;
use dropship_core::process::ProcessVersion;
use dropship_core::returns::ReturnPart;
use dropship_core::split::{FreeStock, StockRead};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// Units of one (fulfiller, sku).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Level {
    pub available: i64,
    pub reserved: i64,
}

#[derive(Debug, Default)]
pub struct State {
    pub orders: BTreeMap<OrderId, Order>,
    pub deliveries: BTreeMap<String, DeliveryOrder>,
    /// Keyed by (return id, fulfiller id).
    pub return_parts: BTreeMap<(String, FulfillerId), ReturnPart>,
    /// Keyed by (fulfiller id, sku).
    pub stock: BTreeMap<(FulfillerId, String), Level>,
    pub fulfillers: BTreeMap<FulfillerId, Fulfiller>,
    pub products: BTreeMap<Sku, Product>,
    pub refund_policy: RefundPolicy,
    /// The process settings in force.
    pub process: ProcessVersion,
    /// The invoice register by purpose, and the last number given in each year.
    pub invoices: BTreeMap<String, InvoiceRecord>,
    pub invoice_counters: BTreeMap<i32, u64>,
    /// Outcomes the next commits return instead of committing (someone else got there first).
    pub conflicts: VecDeque<Outcome>,
    /// Publishes that fail from the next one on.
    pub publish_failures: usize,
    pub commits: Vec<ChangeSet>,
    pub published: Vec<Message>,
}

#[derive(Debug, Default)]
pub struct Fake {
    pub state: Mutex<State>,
}

impl Fake {
    /// The state, to arrange a test or check what happened.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn with_order(self, order: Order) -> Self {
        self.state().orders.insert(order.id.clone(), order);
        self
    }

    pub fn with_delivery(self, delivery: DeliveryOrder) -> Self {
        self.state()
            .deliveries
            .insert(delivery.id.clone(), delivery);
        self
    }

    pub fn with_return_part(self, part: ReturnPart) -> Self {
        let key = (part.return_id.clone(), part.fulfiller_id.clone());
        self.state().return_parts.insert(key, part);
        self
    }

    pub fn with_stock(
        self,
        fulfiller: FulfillerId,
        sku: &str,
        available: i64,
        reserved: i64,
    ) -> Self {
        let key = (fulfiller, sku.to_string());
        self.state().stock.insert(
            key,
            Level {
                available,
                reserved,
            },
        );
        self
    }

    pub fn with_fulfiller(self, fulfiller: Fulfiller) -> Self {
        self.state()
            .fulfillers
            .insert(fulfiller.id.clone(), fulfiller);
        self
    }

    pub fn with_product(self, product: Product) -> Self {
        self.state().products.insert(product.sku.clone(), product);
        self
    }

    /// The next `n` commits find a newer version (`Outcome::Stale`).
    pub fn conflicting(self, n: usize) -> Self {
        self.state()
            .conflicts
            .extend((0..n).map(|_| Outcome::Stale));
        self
    }

    /// Every publish fails.
    pub fn failing_publishes(self) -> Self {
        self.state().publish_failures = usize::MAX;
        self
    }
}

fn level<'a>(state: &'a mut State, m: &StockMove) -> &'a mut Level {
    state
        .stock
        .entry((m.fulfiller_id.clone(), m.sku.to_string()))
        .or_default()
}

/// Checks a change against the state, like the transaction's conditions.
fn check(state: &State, change: &ChangeSet) -> Option<Outcome> {
    if let Some(o) = &change.order {
        if state.orders.get(&o.id).map(|s| s.version) != Some(o.version) {
            return Some(Outcome::Stale);
        }
    }
    for d in &change.updated_deliveries {
        if state.deliveries.get(&d.id).map(|s| s.version) != Some(d.version) {
            return Some(Outcome::Stale);
        }
    }
    for p in &change.updated_return_parts {
        let key = (p.return_id.clone(), p.fulfiller_id.clone());
        if state.return_parts.get(&key).map(|s| s.version) != Some(p.version) {
            return Some(Outcome::Stale);
        }
    }
    if change
        .new_deliveries
        .iter()
        .any(|d| state.deliveries.contains_key(&d.id))
    {
        return Some(Outcome::AlreadyExists);
    }
    let mut stock = state.stock.clone();
    let at = |stock: &mut BTreeMap<_, Level>, m: &StockMove| {
        *stock
            .entry((m.fulfiller_id.clone(), m.sku.to_string()))
            .or_default()
    };
    for m in change.release.iter().chain(&change.consume) {
        if at(&mut stock, m).reserved < i64::from(m.quantity) {
            return Some(Outcome::StockChanged);
        }
    }
    for m in &change.reserve {
        let l = at(&mut stock, m);
        if l.available - l.reserved < i64::from(m.quantity) {
            return Some(Outcome::StockChanged);
        }
    }
    None
}

fn apply(state: &mut State, change: &ChangeSet) {
    if let Some(o) = &change.order {
        let mut next = o.clone();
        next.version += 1;
        state.orders.insert(next.id.clone(), next);
    }
    for d in &change.new_deliveries {
        state.deliveries.insert(d.id.clone(), d.clone());
    }
    for d in &change.updated_deliveries {
        let mut next = d.clone();
        next.version += 1;
        state.deliveries.insert(next.id.clone(), next);
    }
    for p in &change.new_return_parts {
        let key = (p.return_id.clone(), p.fulfiller_id.clone());
        state.return_parts.insert(key, p.clone());
    }
    for p in &change.updated_return_parts {
        let mut next = p.clone();
        next.version += 1;
        let key = (p.return_id.clone(), p.fulfiller_id.clone());
        state.return_parts.insert(key, next);
    }
    for m in &change.reserve {
        level(state, m).reserved += i64::from(m.quantity);
    }
    for m in &change.release {
        level(state, m).reserved -= i64::from(m.quantity);
    }
    for m in &change.consume {
        let l = level(state, m);
        l.reserved -= i64::from(m.quantity);
        l.available -= i64::from(m.quantity);
    }
    for m in &change.restock {
        level(state, m).available += i64::from(m.quantity);
    }
}

impl OrderReader for Fake {
    async fn order(&self, id: &str) -> anyhow::Result<Option<Order>> {
        Ok(self.state().orders.get(id).cloned())
    }
    async fn delivery_order(&self, id: &str) -> anyhow::Result<Option<DeliveryOrder>> {
        Ok(self.state().deliveries.get(id).cloned())
    }
    async fn delivery_orders(&self, ids: &[String]) -> anyhow::Result<Vec<DeliveryOrder>> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.deliveries.get(id).cloned())
            .collect())
    }
    async fn return_part(
        &self,
        return_id: &str,
        fulfiller_id: &FulfillerId,
    ) -> anyhow::Result<Option<ReturnPart>> {
        let key = (return_id.to_string(), fulfiller_id.clone());
        Ok(self.state().return_parts.get(&key).cloned())
    }
    async fn return_parts(&self, return_id: &str) -> anyhow::Result<Vec<ReturnPart>> {
        Ok(self
            .state()
            .return_parts
            .values()
            .filter(|p| p.return_id == return_id)
            .cloned()
            .collect())
    }
}

impl ChangeCommitter for Fake {
    async fn commit(&self, change: &ChangeSet) -> anyhow::Result<Outcome> {
        let mut state = self.state();
        if let Some(injected) = state.conflicts.pop_front() {
            return Ok(injected);
        }
        if let Some(conflict) = check(&state, change) {
            return Ok(conflict);
        }
        apply(&mut state, change);
        // The change relay's part: a committed outbox goes to its queues (here, at once).
        state.published.extend(change.messages.iter().cloned());
        state.commits.push(change.clone());
        Ok(Outcome::Committed)
    }
}

impl EventPublisher for Fake {
    async fn publish(&self, message: &Message) -> anyhow::Result<()> {
        let mut state = self.state();
        if state.publish_failures > 0 {
            state.publish_failures -= 1;
            anyhow::bail!("the queue is unreachable");
        }
        state.published.push(message.clone());
        Ok(())
    }
    async fn publish_all(&self, messages: &[Message]) -> anyhow::Result<()> {
        for m in messages {
            self.publish(m).await?;
        }
        Ok(())
    }
}

impl CatalogueReader for Fake {
    async fn fulfiller(&self, id: &FulfillerId) -> anyhow::Result<Option<Fulfiller>> {
        Ok(self.state().fulfillers.get(id).cloned())
    }
    async fn refund_policy(&self) -> anyhow::Result<RefundPolicy> {
        Ok(self.state().refund_policy)
    }
    async fn process(&self) -> anyhow::Result<ProcessVersion> {
        Ok(self.state().process.clone())
    }
    async fn process_at(&self, _: chrono::DateTime<chrono::Utc>) -> anyhow::Result<ProcessVersion> {
        Ok(self.state().process.clone())
    }
}

/// Free stock as the stock table keeps it: available less reserved (one item per sku).
fn free_of(state: &State, pairs: &[SourcePair]) -> StockRead {
    let free: FreeStock = pairs
        .iter()
        .filter_map(|p| {
            let l = state
                .stock
                .get(&(p.fulfiller_id.clone(), p.sku.to_string()))?;
            Some((
                (p.fulfiller_id.clone(), p.sku.clone()),
                l.available - l.reserved,
            ))
        })
        .collect();
    StockRead {
        free,
        ..StockRead::default()
    }
}

impl RoutingReader for Fake {
    async fn products(&self, skus: Vec<String>) -> anyhow::Result<BTreeMap<Sku, Product>> {
        let state = self.state();
        Ok(skus
            .iter()
            .filter_map(|sku| {
                let p = state.products.get(sku.as_str())?;
                Some((p.sku.clone(), p.clone()))
            })
            .collect())
    }
    async fn fulfillers_and_free_stock(
        &self,
        pairs: &[SourcePair],
    ) -> anyhow::Result<(BTreeMap<FulfillerId, Fulfiller>, StockRead)> {
        let state = self.state();
        let fulfillers = pairs
            .iter()
            .filter_map(|p| {
                let f = state.fulfillers.get(&p.fulfiller_id)?;
                Some((p.fulfiller_id.clone(), f.clone()))
            })
            .collect();
        Ok((fulfillers, free_of(&state, pairs)))
    }
    async fn free_stock(&self, pairs: &[SourcePair]) -> anyhow::Result<StockRead> {
        Ok(free_of(&self.state(), pairs))
    }
}

impl InvoiceRegister for Fake {
    async fn invoice(&self, purpose: &str) -> anyhow::Result<Option<InvoiceRecord>> {
        Ok(self.state().invoices.get(purpose).cloned())
    }
    async fn register(
        &self,
        purpose: &str,
        year: i32,
        make: &(dyn Fn(String) -> InvoiceRecord + Sync),
    ) -> anyhow::Result<InvoiceRecord> {
        let mut state = self.state();
        if let Some(existing) = state.invoices.get(purpose) {
            return Ok(existing.clone());
        }
        let last = state.invoice_counters.entry(year).or_default();
        *last += 1;
        let record = make(format!("{year}-{:06}", *last));
        state.invoices.insert(purpose.to_string(), record.clone());
        Ok(record)
    }
    async fn supersede(&self, purpose: &str, number: &str) -> anyhow::Result<()> {
        match self.state().invoices.get_mut(purpose) {
            Some(r) => r.superseded_by = Some(number.to_string()),
            None => anyhow::bail!("no invoice {purpose}"),
        }
        Ok(())
    }
}
