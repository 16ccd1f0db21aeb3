use super::*;

fn items(free: &[i64]) -> Vec<ShardFree> {
    free.iter()
        .enumerate()
        .map(|(k, f)| ShardFree {
            shard: k as u16,
            free: *f,
        })
        .collect()
}

#[test]
fn shard_keys_give_each_shard_its_own_partition_and_read_back() {
    assert_eq!(shard_fulfiller_key("acme", 0), "acme");
    assert_eq!(shard_fulfiller_key("acme", 3), "acme~3");
    assert_eq!(shard_of_fulfiller_key("acme"), Some(("acme", 0)));
    assert_eq!(shard_of_fulfiller_key("acme~3"), Some(("acme", 3)));
    assert_eq!(shard_of_fulfiller_key("acme~0"), None);
    assert_eq!(shard_of_fulfiller_key("acme~x"), None);
    // No id may hold the separator, so no fulfiller's key can be mistaken for a shard's.
    assert!(!crate::ids::is_valid_id("acme~3"));
}

#[test]
fn a_reservation_starts_where_its_seed_points_and_takes_from_the_next_items_when_short() {
    let shards = items(&[5, 5, 5, 5]);
    assert_eq!(place(3, &shards, 2), Some(vec![(2, 3)]));
    assert_eq!(place(7, &shards, 3), Some(vec![(3, 5), (0, 2)]));
    assert_eq!(
        place(20, &shards, 1),
        Some(vec![(1, 5), (2, 5), (3, 5), (0, 5)])
    );
    assert_eq!(place(21, &shards, 1), None, "more than the items hold");
    // Items without free stock (or short after a count) are passed over.
    assert_eq!(place(4, &items(&[-3, 0, 4]), 0), Some(vec![(2, 4)]));
    assert_eq!(place(1, &[], 0), None);
}

#[test]
fn orders_start_on_different_items_and_a_retry_on_the_same() {
    let shards = items(&[100; 8]);
    let starts: std::collections::BTreeSet<u16> = (0..64)
        .map(|i| {
            place(1, &shards, seed(&format!("ord_{i}"), "HOT"))
                .and_then(|p| p.first().map(|(s, _)| *s))
                .unwrap_or(u16::MAX)
        })
        .collect();
    assert_eq!(starts.len(), 8, "64 orders used every item: {starts:?}");
    assert_eq!(seed("ord_1", "HOT"), seed("ord_1", "HOT"));
    assert_ne!(seed("ord_1", "HOT"), seed("ord_1", "HOT2"));
}

#[test]
fn reservations_of_sharded_pairs_are_spread_and_the_others_stay_on_their_item() {
    let f = FulfillerId::try_from("acme").unwrap();
    let (hot, plain) = (
        Sku::try_from("HOT").unwrap(),
        Sku::try_from("PLAIN").unwrap(),
    );
    let mv = |sku: &Sku, quantity| StockMove {
        fulfiller_id: f.clone(),
        sku: sku.clone(),
        shard: 0,
        quantity,
    };
    let shards = ShardsFree::from([((f.clone(), hot.clone()), items(&[1, 1, 1]))]);
    let out = spread_reservations(vec![mv(&hot, 3), mv(&plain, 2)], &shards, "ord_1");
    let hot_parts: Vec<_> = out.iter().filter(|m| m.sku == hot).collect();
    assert_eq!(hot_parts.len(), 3);
    assert_eq!(hot_parts.iter().map(|m| m.quantity).sum::<u32>(), 3);
    assert_eq!(
        out.iter().filter(|m| m.sku == plain).collect::<Vec<_>>(),
        [&mv(&plain, 2)]
    );
    // More than the items hold as read: the root is asked for all, and its condition refuses.
    let out = spread_reservations(vec![mv(&hot, 4)], &shards, "ord_1");
    assert_eq!(out, [mv(&hot, 4)]);
}

fn level(available: i64, reserved: i64) -> ItemLevel {
    ItemLevel {
        available,
        reserved,
        free: available - reserved,
    }
}

/// Applies a count's moves to items as they are now (not as read), as the table would.
fn apply(now: &mut Vec<ItemLevel>, moves: &[CountMove]) -> bool {
    let ok = moves.iter().all(|m| {
        let free = now.get(usize::from(m.shard)).map_or(0, |i| i.free);
        m.needs_free.is_none_or(|need| free >= need)
    });
    if ok {
        for m in moves {
            let k = usize::from(m.shard);
            if now.len() <= k {
                now.resize(k + 1, ItemLevel::default());
            }
            now[k].available += m.delta;
            now[k].free += m.delta;
        }
    }
    ok
}

#[test]
fn a_count_sets_the_sum_on_hand_and_spreads_the_free_stock_evenly() {
    // Root and two shards with reservations spread unevenly (a shard's reserved may be below
    // zero: releases went to the root).
    let read = vec![level(10, 6), level(4, 4), level(2, -1)];
    let moves = spread_count(30, &read, 4);
    assert_eq!(moves.len(), 4, "the fourth item is created");
    let mut now = read.clone();
    assert!(apply(&mut now, &moves));
    assert_eq!(now.iter().map(|i| i.available).sum::<i64>(), 30);
    assert_eq!(now.iter().map(|i| i.reserved).sum::<i64>(), 9);
    // 21 free over 4 items: 6, 5, 5, 5.
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [6, 5, 5, 5]);
    // Only the items whose free stock goes down carry a condition.
    assert_eq!(
        moves.iter().map(|m| m.needs_free).collect::<Vec<_>>(),
        [None, None, None, None]
    );
    let down = spread_count(9, &now, 4);
    assert!(down.iter().all(|m| m.needs_free == Some(-m.delta)));
    assert!(apply(&mut now, &down));
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [0, 0, 0, 0]);
}

#[test]
fn switched_off_shards_keep_their_reservations_but_no_free_stock() {
    let read = vec![level(5, 0), level(5, 2), level(5, 1)];
    let moves = spread_count(15, &read, 1);
    let mut now = read.clone();
    assert!(apply(&mut now, &moves));
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [12, 0, 0]);
    assert_eq!(
        now.iter().map(|i| i.reserved).collect::<Vec<_>>(),
        [0, 2, 1]
    );
}

#[test]
fn a_shortfall_lies_on_the_root_and_no_shard_keeps_free_stock() {
    let read = vec![level(5, 4), level(5, 3), level(5, 3)];
    let moves = spread_count(6, &read, 3);
    let mut now = read.clone();
    assert!(apply(&mut now, &moves));
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [-4, 0, 0]);
    assert_eq!(now.iter().map(|i| i.available).sum::<i64>(), 6);
    assert_eq!(moves[0].needs_free, None, "the root may go below zero");
}

#[test]
fn a_count_is_refused_when_reservations_took_what_it_would_take_away() {
    let read = vec![level(10, 0), level(10, 0)];
    let moves = spread_count(4, &read, 2);
    let mut now = read.clone();
    // A reservation of 9 on the shard after the read: the count's 8 down would leave it at -7.
    now[1].reserved += 9;
    now[1].free -= 9;
    assert!(!apply(&mut now, &moves));
    // Read again, it goes through: the promised units stay promised, the sum is a shortfall.
    let moves = spread_count(4, &now, 2);
    assert!(apply(&mut now, &moves));
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [-5, 0]);
}

#[test]
fn units_given_back_after_a_shortfall_count_go_to_the_root_and_no_shard_can_take_them() {
    // A large order's chunk took 2 units from shard 1; then a count reported 6 on hand against
    // 10 promised: the root carries the shortfall, the shards have nothing free.
    let read = vec![level(4, 4), level(4, 4), level(2, 2)];
    let mut now = read.clone();
    assert!(apply(&mut now, &spread_count(6, &read, 3)));
    assert_eq!(now.iter().map(|i| i.free).collect::<Vec<_>>(), [-4, 0, 0]);
    // The order's commit fails: its chunk is given back on the root (`repo/holds.rs`).
    now[0].reserved -= 2;
    now[0].free += 2;
    let free = free_of(&now);
    assert_eq!(now.iter().map(|i| i.free).sum::<i64>(), -2);
    assert_eq!(
        place(1, &free, 0),
        None,
        "nothing free anywhere: no reservation"
    );
    assert_eq!(place(1, &free, 1), None);
}

/// Each item's free stock as routing would read it.
fn free_of(items: &[ItemLevel]) -> Vec<ShardFree> {
    items
        .iter()
        .enumerate()
        .map(|(k, i)| ShardFree {
            shard: k as u16,
            free: i.free,
        })
        .collect()
}

/// A reservation's parts taken from the items, as its conditional writes would.
fn take(items: &mut [ItemLevel], parts: &[(u16, u32)]) {
    for (s, n) in parts {
        items[usize::from(*s)].reserved += i64::from(*n);
        items[usize::from(*s)].free -= i64::from(*n);
    }
}

/// A small deterministic generator for the interleaving test.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn interleaved_reservations_releases_shipments_and_stale_counts_never_oversell() {
    for run in 0..200u64 {
        let mut rng = Lcg(run + 1);
        let active = 1 + rng.next(8) as u16;
        let mut items = vec![level(0, 0)];
        // Units promised and not yet given back or shipped, as delivery orders would hold them.
        let mut promised: Vec<u32> = Vec::new();
        for step in 0..400 {
            match rng.next(10) {
                // A count read some steps before it is written: other moves happen meanwhile.
                0 => {
                    let read = items.clone();
                    let moves = spread_count(rng.next(60) as i64, &read, active);
                    for _ in 0..rng.next(3) {
                        let q = 1 + rng.next(3) as u32;
                        if let Some(parts) = place(q, &free_of(&items), rng.next(1000)) {
                            take(&mut items, &parts);
                            promised.push(q);
                        }
                    }
                    apply(&mut items, &moves);
                }
                // A reservation, placed from a read that is current (a stale one only fails).
                1..=6 => {
                    let q = 1 + rng.next(4) as u32;
                    let total_free: i64 = items.iter().map(|i| i.free).sum();
                    if let Some(parts) = place(q, &free_of(&items), rng.next(1000)) {
                        assert!(
                            total_free >= i64::from(q),
                            "run {run} step {step}: reserved {q} with {total_free} free in the sum"
                        );
                        take(&mut items, &parts);
                        promised.push(q);
                    }
                }
                // A returned unit back on the shelf, on the root.
                7 => {
                    items[0].available += 1;
                    items[0].free += 1;
                }
                // A release or a shipment of a delivery order (or a failed attempt's units
                // given back), on the root.
                _ => {
                    if !promised.is_empty() {
                        let q = i64::from(
                            promised.swap_remove(rng.next(promised.len() as u64) as usize),
                        );
                        items[0].reserved -= q;
                        if rng.next(2) == 0 {
                            items[0].free += q;
                        } else {
                            items[0].available -= q;
                        }
                    }
                }
            }
            let reserved: i64 = items.iter().map(|i| i.reserved).sum();
            assert_eq!(
                reserved,
                promised.iter().map(|q| i64::from(*q)).sum::<i64>()
            );
            for (k, i) in items.iter().enumerate() {
                assert_eq!(i.free, i.available - i.reserved);
                assert!(
                    k == 0 || i.free >= 0,
                    "run {run} step {step}: shard {k} free {}",
                    i.free
                );
            }
        }
    }
}
