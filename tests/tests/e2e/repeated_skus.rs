//! Orders as marketplaces send them: one sku on several lines (two prices, a gift line, a split
//! quantity), and one sku in several delivery orders of one fulfiller. Random orders of that
//! shape go through every path that writes stock per line: a stock feed naming a sku twice,
//! reservation, reroute, one shipment of everything, a replacement, cancellation, return receipt
//! with restock, and rejection. After each step every stock item holds exactly what the delivery
//! orders say, and no step answers anything but success.
//!
//! The cases are drawn by proptest from a fixed seed (reproducible; `REPEATED_SKU_CASES` sets how
//! many, default 4): each case runs the whole life of two orders on the local stack, so a failing
//! case is printed whole rather than shrunk.

use crate::setup;

use crate::support::Stack;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(45);
const NORDIC: &str = "nordic-home";
const ACME: &str = "acme-garden";

/// One random order: free stock per sku at nordic-home (preferred) and acme-garden, small
/// enough that orders split, move, or are partly unroutable; lines as (sku index, quantity,
/// unit price in cents). Lines 0 and 1 always share a sku; line 1 may be a gift (0.00).
#[derive(Debug, Clone)]
struct Case {
    nordic_stock: [i64; 3],
    acme_stock: [i64; 3],
    lines: Vec<(usize, u32, u32)>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        prop::array::uniform3(0i64..=6),
        prop::array::uniform3(1i64..=8),
        0usize..3,
        (1u32..=4, 100u32..=9_900),
        (1u32..=4, prop_oneof![Just(0u32), 100u32..=9_900]),
        prop::collection::vec((0usize..3, 1u32..=4, 100u32..=9_900), 1..=3),
    )
        .prop_map(
            |(nordic_stock, acme_stock, repeated, (q0, p0), (q1, p1), rest)| {
                let mut lines = vec![(repeated, q0, p0), (repeated, q1, p1)];
                lines.extend(rest);
                Case {
                    nordic_stock,
                    acme_stock,
                    lines,
                }
            },
        )
}

fn cents(c: u32) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// (fulfiller, sku) -> units
type Units = BTreeMap<(String, String), i64>;

/// What the stock of the case's skus must be: free stock as set, less what shipped, plus what came
/// back resellable; reserved = what live delivery orders still have to ship.
struct Ledger {
    skus: Vec<String>,
    initial: Units,
    restocked: Units,
    /// Delivery orders to count, by id (the orders' own and the replacements).
    deliveries: BTreeMap<String, Value>,
}

impl Ledger {
    fn expected(&self) -> (Units, Units) {
        let mut available = self.initial.clone();
        let mut reserved: Units = BTreeMap::new();
        for d in self.deliveries.values() {
            let f = d["fulfillerId"].as_str().unwrap_or_default().to_string();
            let live = !matches!(d["status"].as_str(), Some("rejected" | "cancelled"));
            for l in d["lines"].as_array().into_iter().flatten() {
                let sku = l["sku"].as_str().unwrap_or_default().to_string();
                let n = |k: &str| l[k].as_i64().unwrap_or(0);
                *available.entry((f.clone(), sku.clone())).or_default() -= n("shipped");
                if live {
                    *reserved.entry((f.clone(), sku)).or_default() +=
                        n("quantity") - n("shipped") - n("cancelled");
                }
            }
        }
        for (k, v) in &self.restocked {
            *available.entry(k.clone()).or_default() += v;
        }
        for sku in &self.skus {
            for f in [NORDIC, ACME] {
                reserved.entry((f.into(), sku.clone())).or_default();
            }
        }
        (available, reserved)
    }
}

struct Ctx<'a> {
    stack: &'a Stack,
    world: &'a setup::World,
}

impl Ctx<'_> {
    fn token(&self, fulfiller: &str) -> &str {
        if fulfiller == NORDIC {
            &self.world.nordic
        } else {
            &self.world.acme
        }
    }

    async fn admin_order(&self, id: &str) -> Value {
        let (status, o) = self
            .stack
            .get(
                &format!("/admin/orders/{id}"),
                Some(&self.stack.admin_token),
            )
            .await;
        assert_eq!(status, 200, "{o}");
        o
    }

    /// Reads the orders' delivery orders into the ledger, and the replacements (kept beside an
    /// order's own delivery orders) through their fulfiller.
    async fn refresh(&self, ledger: &mut Ledger, order_ids: &[String]) {
        let mut listed = std::collections::BTreeSet::new();
        for id in order_ids {
            let o = self.admin_order(id).await;
            for d in o["deliveries"].as_array().into_iter().flatten() {
                let did = d["id"].as_str().unwrap_or_default().to_string();
                listed.insert(did.clone());
                ledger.deliveries.insert(did, d.clone());
            }
        }
        let others: Vec<(String, String)> = ledger
            .deliveries
            .iter()
            .filter(|(id, _)| !listed.contains(*id))
            .map(|(id, d)| {
                (
                    id.clone(),
                    d["fulfillerId"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        for (id, f) in others {
            let (status, mut d) = self
                .stack
                .get(
                    &format!("/fulfiller/delivery-orders/{id}"),
                    Some(self.token(&f)),
                )
                .await;
            assert_eq!(status, 200, "replacement {id}: {d}");
            d["fulfillerId"] = json!(f);
            ledger.deliveries.insert(id, d);
        }
    }

    async fn stock(&self, ledger: &Ledger) -> (Units, Units) {
        let (mut available, mut reserved) = (Units::new(), Units::new());
        for f in [NORDIC, ACME] {
            let levels = setup::stock_levels(self.stack, self.token(f)).await;
            for sku in &ledger.skus {
                let (a, r) = levels.get(sku).copied().unwrap_or((0, 0));
                available.insert((f.into(), sku.clone()), a);
                reserved.insert((f.into(), sku.clone()), r);
            }
        }
        (available, reserved)
    }

    /// The stock of the case's skus equals what the delivery orders say.
    async fn check(&self, ledger: &mut Ledger, order_ids: &[String], step: &str, case: &Case) {
        self.refresh(ledger, order_ids).await;
        let expected = ledger.expected();
        let actual = self.stock(ledger).await;
        assert_eq!(
            actual, expected,
            "after {step}: stock (available, reserved) differs from the delivery orders\n\
             case {case:?}\ndelivery orders {:#?}",
            ledger.deliveries
        );
    }

    /// Waits until every unit of the order is in a live delivery order or cancelled, and
    /// returns its live delivery orders.
    async fn settled(&self, id: &str, ordered: i64) -> Vec<Value> {
        self.stack
            .eventually("the order routed", WAIT, || async {
                let o = self.admin_order(id).await;
                let cancelled: i64 = o["lines"]
                    .as_array()?
                    .iter()
                    .map(|l| l["quantities"]["cancelled"].as_i64().unwrap_or(0))
                    .sum();
                let live: Vec<Value> = o["deliveries"]
                    .as_array()?
                    .iter()
                    .filter(|d| !matches!(d["status"].as_str(), Some("rejected" | "cancelled")))
                    .cloned()
                    .collect();
                let placed: i64 = live
                    .iter()
                    .flat_map(|d| d["lines"].as_array().cloned().unwrap_or_default())
                    .map(|l| l["quantity"].as_i64().unwrap_or(0))
                    .sum();
                (o["status"] != "accepted" && placed + cancelled == ordered).then_some(live)
            })
            .await
    }

    async fn place(&self, case: &Case, skus: &[String], external_id: &str) -> (String, i64) {
        let lines: Vec<Value> = case
            .lines
            .iter()
            .enumerate()
            .map(|(i, (s, q, p))| {
                json!({"lineId": format!("L{i}"), "sku": skus[*s], "quantity": q, "unitPrice": cents(*p)})
            })
            .collect();
        let total: u32 = case.lines.iter().map(|(_, q, p)| q * p).sum();
        let (status, created) = self
            .stack
            .post_idempotent(
                "/orders",
                Some(&self.world.web),
                external_id,
                &setup::order(external_id, json!(lines), &cents(total)),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let ordered = case.lines.iter().map(|(_, q, _)| i64::from(*q)).sum();
        (created["orderId"].as_str().unwrap().to_string(), ordered)
    }

    async fn ok(&self, path: &str, token: &str, body: Value, what: &str, case: &Case) -> Value {
        self.ok_unless_short(path, token, body, what, case)
            .await
            .unwrap_or_else(|| panic!("{what}: not enough stock\ncase {case:?}"))
    }

    /// Success, or `None` for a 409 insufficient_stock (the target has too little free stock):
    /// any other answer fails the test.
    async fn ok_unless_short(
        &self,
        path: &str,
        token: &str,
        body: Value,
        what: &str,
        case: &Case,
    ) -> Option<Value> {
        let (status, resp) = self.stack.post(path, Some(token), &body).await;
        if status == 409 && resp["error"]["code"] == "insufficient_stock" {
            return None;
        }
        assert!(
            (200..300).contains(&status),
            "{what} ({path} {body}) answered {status} {resp}\ncase {case:?}"
        );
        Some(resp)
    }
}

/// What the run went through, so the test knows every path was taken at least once.
#[derive(Debug, Default)]
struct Seen {
    sku_twice_in_one_delivery_order: usize,
    sku_in_two_delivery_orders_of_one_fulfiller: usize,
    reroutes: usize,
    shipments_of_a_repeated_sku: usize,
    replacements: usize,
    cancellations: usize,
    restocks: usize,
    rejections: usize,
}

impl Seen {
    fn count(&mut self, live: &[Value]) {
        let (within, across) = repeated_skus(live);
        self.sku_twice_in_one_delivery_order += within;
        self.sku_in_two_delivery_orders_of_one_fulfiller += across;
    }
}

fn repeated_skus(deliveries: &[Value]) -> (usize, usize) {
    let mut within = 0;
    let mut per_fulfiller: BTreeMap<(String, String), BTreeMap<String, ()>> = BTreeMap::new();
    for d in deliveries {
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for l in d["lines"].as_array().into_iter().flatten() {
            let sku = l["sku"].as_str().unwrap_or_default();
            *seen.entry(sku).or_default() += 1;
            per_fulfiller
                .entry((d["fulfillerId"].to_string(), sku.to_string()))
                .or_default()
                .insert(d["id"].to_string(), ());
        }
        within += seen.values().filter(|n| **n > 1).count();
    }
    let across = per_fulfiller.values().filter(|ds| ds.len() > 1).count();
    (within, across)
}

async fn run_case(ctx: &Ctx<'_>, n: usize, case: &Case, seen: &mut Seen) {
    let stack = ctx.stack;
    let admin = stack.admin_token.clone();
    let skus: Vec<String> = (0..3).map(|i| format!("DUO{n}-{i}")).collect();
    for sku in &skus {
        let (status, body) = stack
            .put(
                &format!("/admin/products/{sku}"),
                Some(&admin),
                &json!({"name": sku, "taxClass": "standard", "group": "duo",
                    "sources": [{"fulfillerId": NORDIC, "priority": 1}, {"fulfillerId": ACME, "priority": 2}]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let items: Vec<Value> = skus
        .iter()
        .zip(case.nordic_stock)
        .map(|(s, a)| json!({"sku": s, "available": a}))
        .collect();
    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(&ctx.world.nordic),
            &json!({ "items": items }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Stock feed: acme names each sku twice; the later row wins.
    let mut csv = String::from("sku,available\n");
    for s in &skus {
        csv.push_str(&format!("{s},99\n"));
    }
    for (s, a) in skus.iter().zip(case.acme_stock) {
        csv.push_str(&format!("{s},{a}\n"));
    }
    setup::upload_stock_feed(stack, &ctx.world.acme, csv).await;
    stack
        .eventually("the acme feed applied", WAIT, || async {
            let levels = setup::stock_levels(stack, &ctx.world.acme).await;
            skus.iter()
                .zip(case.acme_stock)
                .all(|(s, want)| levels.get(s).is_some_and(|(a, _)| *a == want))
                .then_some(())
        })
        .await;

    let mut ledger = Ledger {
        skus: skus.clone(),
        initial: Units::new(),
        restocked: Units::new(),
        deliveries: BTreeMap::new(),
    };
    for (i, sku) in skus.iter().enumerate() {
        ledger
            .initial
            .insert((NORDIC.into(), sku.clone()), case.nordic_stock[i]);
        ledger
            .initial
            .insert((ACME.into(), sku.clone()), case.acme_stock[i]);
    }

    // Reservation (units nobody has are cancelled as unroutable).
    let (first, ordered) = ctx.place(case, &skus, &format!("DUO-{n}-A")).await;
    let orders = vec![first.clone()];
    let live = ctx.settled(&first, ordered).await;
    seen.count(&live);
    ctx.check(&mut ledger, &orders, "routing", case).await;

    // Reroute: acme gets more stock (nothing has shipped, so this sets what it started with),
    // then nordic's delivery orders move to acme, which may now hold one sku in two.
    let items: Vec<Value> = skus
        .iter()
        .zip(case.acme_stock)
        .map(|(s, a)| json!({"sku": s, "available": a + 12}))
        .collect();
    let (status, body) = stack
        .put(
            "/fulfiller/stock",
            Some(&ctx.world.acme),
            &json!({ "items": items }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (i, sku) in skus.iter().enumerate() {
        ledger
            .initial
            .insert((ACME.into(), sku.clone()), case.acme_stock[i] + 12);
    }
    for d in live.iter().filter(|d| d["fulfillerId"] == NORDIC) {
        let id = d["id"].as_str().unwrap();
        let moved = ctx
            .ok_unless_short(
                &format!("/admin/delivery-orders/{id}/reroute"),
                &admin,
                json!({"fulfillerId": ACME}),
                "reroute",
                case,
            )
            .await;
        seen.reroutes += usize::from(moved.is_some());
    }
    ctx.check(&mut ledger, &orders, "reroute", case).await;
    let live = ctx.settled(&first, ordered).await;
    seen.count(&live);

    // One shipment of every open unit of the repeated sku's lines in one delivery order.
    let repeated = &skus[case.lines[0].0];
    let lines_of = |d: &Value| -> Vec<Value> {
        d["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["sku"] == repeated.as_str())
            .cloned()
            .collect()
    };
    let Some(ship) = live.iter().max_by_key(|d| lines_of(d).len()).cloned() else {
        return;
    };
    let shipped: Vec<Value> = lines_of(&ship);
    if shipped.is_empty() {
        return;
    }
    let ship_id = ship["id"].as_str().unwrap().to_string();
    let fulfiller = ship["fulfillerId"].as_str().unwrap().to_string();
    let shipment: Vec<Value> = shipped
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": l["quantity"]}))
        .collect();
    ctx.ok(
        &format!("/fulfiller/delivery-orders/{ship_id}/shipments"),
        ctx.token(&fulfiller),
        json!({"carrier": "DHL", "trackingNumber": format!("DUO{n}"), "lines": shipment}),
        "one shipment of both lines",
        case,
    )
    .await;
    seen.shipments_of_a_repeated_sku += usize::from(shipped.len() > 1);
    ctx.check(&mut ledger, &orders, "the shipment", case).await;

    // A free replacement of one unit of each shipped line, at the fulfiller that shipped them.
    let rep_lines: Vec<Value> = shipped
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": 1}))
        .collect();
    if let Some(rep) = ctx
        .ok_unless_short(
            &format!("/admin/orders/{first}/replacements"),
            &admin,
            json!({"lines": rep_lines, "reason": "arrived broken"}),
            "replacement",
            case,
        )
        .await
    {
        seen.replacements += 1;
        let rep_id = rep["id"].as_str().unwrap().to_string();
        ledger
            .deliveries
            .insert(rep_id, json!({"fulfillerId": rep["fulfillerId"]}));
        ctx.check(&mut ledger, &orders, "the replacement", case)
            .await;
    }

    // Cancellation of all that did not ship (over one or more delivery orders).
    let o = ctx.admin_order(&first).await;
    let open: i64 = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantities"]["open"].as_i64().unwrap_or(0))
        .sum();
    if open > 0 {
        ctx.ok(
            &format!("/orders/{first}/cancel"),
            &ctx.world.web,
            json!({}),
            "cancel the rest",
            case,
        )
        .await;
        seen.cancellations += 1;
        ctx.check(&mut ledger, &orders, "the cancellation", case)
            .await;
    }

    // Return of every shipped unit, received resellable in one receipt.
    let ask: Vec<Value> = shipped
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": l["quantity"], "reason": "changed my mind"}))
        .collect();
    let r = ctx
        .ok(
            &format!("/orders/{first}/returns"),
            &ctx.world.web,
            json!({"lines": ask}),
            "the return",
            case,
        )
        .await;
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let receipt: Vec<Value> = shipped
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": l["quantity"], "condition": "resellable"}))
        .collect();
    ctx.ok(
        &format!("/fulfiller/returns/{return_id}/receive"),
        ctx.token(&fulfiller),
        json!({"lines": receipt}),
        "the return receipt",
        case,
    )
    .await;
    let units: i64 = shipped
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap_or(0))
        .sum();
    *ledger
        .restocked
        .entry((fulfiller.clone(), repeated.clone()))
        .or_default() += units;
    seen.restocks += usize::from(shipped.len() > 1);
    ctx.check(&mut ledger, &orders, "the return receipt", case)
        .await;

    // Rejection: a second order of the same shape; nordic rejects what it got, and the rest
    // goes to acme or, where acme has too little, is cancelled as unroutable.
    let (second, ordered) = ctx.place(case, &skus, &format!("DUO-{n}-B")).await;
    let orders = vec![first.clone(), second.clone()];
    let live = ctx.settled(&second, ordered).await;
    seen.count(&live);
    ctx.check(&mut ledger, &orders, "routing the second order", case)
        .await;
    for d in live.iter().filter(|d| d["fulfillerId"] == NORDIC) {
        let id = d["id"].as_str().unwrap();
        ctx.ok(
            &format!("/fulfiller/delivery-orders/{id}/reject"),
            &ctx.world.nordic,
            json!({"reason": "out of stock after all"}),
            "rejection",
            case,
        )
        .await;
        seen.rejections += 1;
        // Wait for the rejected delivery order's lines to be routed again or cancelled.
        stack
            .eventually("the rejected lines routed again", WAIT, || async {
                let o = ctx.admin_order(&second).await;
                let rerouted = o["history"].to_string().contains("out of stock after all");
                let routed = o["status"] != "accepted";
                (rerouted && routed).then_some(())
            })
            .await;
    }
    let live = ctx.settled(&second, ordered).await;
    seen.count(&live);
    assert!(
        live.iter().all(|d| d["fulfillerId"] == ACME),
        "rejected lines routed again without nordic-home: {live:#?}"
    );
    ctx.check(&mut ledger, &orders, "the rejection", case).await;
}

#[tokio::test]
async fn repeated_skus_keep_every_stock_item_exact_on_every_path() {
    let count: usize = std::env::var("REPEATED_SKU_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let config = Config::default();
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(config.rng_algorithm),
    );
    let strategy = cases();
    let drawn: Vec<Case> = (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();

    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let ctx = Ctx {
        stack: &stack,
        world: &world,
    };
    let mut seen = Seen::default();
    for (n, case) in drawn.iter().enumerate() {
        run_case(&ctx, n, case, &mut seen).await;
    }
    eprintln!("{count} cases: {seen:?}");
    // Every path was taken with a repeated sku at least once.
    for (path, times) in [
        (
            "a sku twice in one delivery order",
            seen.sku_twice_in_one_delivery_order,
        ),
        (
            "a sku in two delivery orders of one fulfiller",
            seen.sku_in_two_delivery_orders_of_one_fulfiller,
        ),
        ("reroute", seen.reroutes),
        (
            "one shipment of two lines of one sku",
            seen.shipments_of_a_repeated_sku,
        ),
        ("replacement", seen.replacements),
        ("cancellation", seen.cancellations),
        ("restock of two lines of one sku", seen.restocks),
        ("rejection", seen.rejections),
    ] {
        assert!(times > 0, "no case took the path: {path} ({seen:?})");
    }
}
