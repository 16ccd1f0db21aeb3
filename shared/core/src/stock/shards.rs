//! Stock shards: one sku's stock at one fulfiller spread over several items, so that a promoted
//! sku's reservations do not all write one item (DynamoDB takes about 1,000 write units a second
//! on an item, and transactions that meet on an item conflict).
//!
//! Item 0 is the sku's stock item as it always was (the root); items 1.. are its shards. Each
//! holds `available`, `reserved` and `free = available - reserved` like the root, and the sku's
//! level is their sum. Only the sums mean anything:
//! - a reservation takes free units from one or more items, each conditional on its own free
//!   stock (`place`), so no item's free stock is ever taken below zero by a reservation;
//! - releases, shipments and restocks go to the root (they follow people and parcels, not the
//!   order rate), and so do the reservations a failed routing attempt gives back: a shard's
//!   `reserved` may stay above zero while the root's falls below: only the sum is the units
//!   promised to delivery orders;
//! - a stock count sets the sum of `available` and spreads the free stock evenly over the
//!   active items again (`spread_count`), each move relative to what the item holds at the
//!   moment of the write, so that reservations running meanwhile are neither lost nor counted
//!   twice.
//!
//! Why this cannot oversell: a reservation needs free stock on the item it takes from, and no
//! other item's free stock is ever below zero, except the root's when a count reports less on
//! hand than is promised (a shortfall); such a count sets every shard's free stock to zero, and
//! nothing but a later count gives a shard free stock again. So a reservation that succeeds
//! always finds at least its units free in the sum.

use crate::ids::{FulfillerId, Sku};
use crate::stock::StockMove;
use std::collections::BTreeMap;

/// The most items one sku's stock may be spread over (the root and 15 shards): 2,000
/// reservations a second need 5 (docs/capacity.md), and a count writes every item in one
/// transaction.
pub const MAX_STOCK_SHARDS: u16 = 16;

/// The partition key of shard `shard` of a fulfiller's stock: its own partition key, so that
/// DynamoDB places the shards on different partitions at once (`~` is no id character).
pub fn shard_fulfiller_key(fulfiller_id: &str, shard: u16) -> String {
    if shard == 0 {
        fulfiller_id.to_string()
    } else {
        format!("{fulfiller_id}~{shard}")
    }
}

/// The fulfiller and shard a stock item's partition key names.
pub fn shard_of_fulfiller_key(key: &str) -> Option<(&str, u16)> {
    match key.split_once('~') {
        None => Some((key, 0)),
        Some((fulfiller, shard)) => shard
            .parse::<u16>()
            .ok()
            .filter(|s| *s > 0)
            .map(|s| (fulfiller, s)),
    }
}

/// The free stock of one item of a sharded sku, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardFree {
    pub shard: u16,
    pub free: i64,
}

/// The free stock of each item of the sharded (fulfiller, sku) pairs, as routing read them.
pub type ShardsFree = BTreeMap<(FulfillerId, Sku), Vec<ShardFree>>;

/// Where a reservation of `quantity` takes its units: from the item `seed` picks (so that
/// concurrent orders start on different items), then onwards through the items, as much as each
/// has free. None when the items together have less free than asked (the read was stale or the
/// root is short).
pub fn place(quantity: u32, shards: &[ShardFree], seed: u64) -> Option<Vec<(u16, u32)>> {
    if shards.is_empty() {
        return None;
    }
    let start = (seed % shards.len() as u64) as usize;
    let mut left = i64::from(quantity);
    let mut taken = Vec::new();
    for i in 0..shards.len() {
        if left == 0 {
            break;
        }
        let s = shards[(start + i) % shards.len()];
        let take = s.free.min(left);
        if take > 0 {
            // `take` is at most `quantity`, a u32.
            taken.push((s.shard, u32::try_from(take).ok()?));
            left -= take;
        }
    }
    (left == 0).then_some(taken)
}

/// A stable seed from an order id and a sku (FNV-1a): a retried order starts on the same item.
pub fn seed(order_id: &str, sku: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order_id.bytes().chain([0]).chain(sku.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Reservations of a round, spread over the items of the sharded pairs (`shards`); the other
/// pairs' reservations stay on their one item. A sharded reservation the items cannot cover as
/// read stays on the root, whose condition then refuses it and routing plans again.
pub fn spread_reservations(
    reservations: Vec<StockMove>,
    shards: &ShardsFree,
    order_id: &str,
) -> Vec<StockMove> {
    let mut out = Vec::with_capacity(reservations.len());
    for m in reservations {
        let key = (m.fulfiller_id.clone(), m.sku.clone());
        let placed = shards
            .get(&key)
            .and_then(|items| place(m.quantity, items, seed(order_id, m.sku.as_str())));
        match placed {
            Some(parts) => out.extend(parts.into_iter().map(|(shard, quantity)| StockMove {
                shard,
                quantity,
                ..m.clone()
            })),
            None => out.push(m),
        }
    }
    out
}

/// One stock item of a sku as read before a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemLevel {
    pub available: i64,
    pub reserved: i64,
    pub free: i64,
}

/// What a count does to one item: `available` and `free` both move by `delta` (the count does not
/// touch what is reserved); when the item's free stock goes down, the write is conditional on the
/// item still having at least `needs_free` free, so that it never ends below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountMove {
    pub shard: u16,
    pub delta: i64,
    pub needs_free: Option<i64>,
}

/// How a count of `available` units on hand is written over the sku's items (`items[k]` is item
/// k as read, a missing one as zeros; `active` is how many items the product wants, the root
/// included). A move of 0 needs no write (an item that does not exist reads as zeros); items
/// beyond `active` are kept (they may still hold reservations) but left without free stock, so
/// no reservation is taken from them again.
pub fn spread_count(available: i64, items: &[ItemLevel], active: u16) -> Vec<CountMove> {
    let active = usize::from(active.clamp(1, MAX_STOCK_SHARDS));
    let n = items.len().max(active);
    let reserved: i64 = items.iter().map(|i| i.reserved).sum();
    let total_free = available - reserved;
    let targets: Vec<i64> = if total_free >= 0 {
        let (share, rest) = (
            total_free / active as i64,
            (total_free % active as i64) as usize,
        );
        (0..n)
            .map(|k| match k {
                k if k < rest => share + 1,
                k if k < active => share,
                _ => 0,
            })
            .collect()
    } else {
        // Less on hand than promised: the root carries the shortfall, the shards none.
        (0..n)
            .map(|k| if k == 0 { total_free } else { 0 })
            .collect()
    };
    targets
        .into_iter()
        .enumerate()
        .map(|(k, target)| {
            let free = items.get(k).map_or(0, |i| i.free);
            let delta = target - free;
            CountMove {
                // n <= MAX_STOCK_SHARDS: items read are at most the root's shard count.
                shard: u16::try_from(k).unwrap_or(u16::MAX),
                delta,
                needs_free: (delta < 0 && target >= 0).then_some(-delta),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
