use super::*;
use crate::fake::{Fake, Level};
use crate::retry::ATTEMPTS;
use crate::testing::{fulfiller, order};
use dropship_core::catalogue::Product;
use serde_json::json;

/// Product A, shipped by acme only.
fn product() -> Product {
    serde_json::from_value(json!({"sku": "A", "name": "A", "taxClass": "standard",
        "group": "garden", "allowBackorder": false,
        "sources": [{"fulfillerId": "acme", "priority": 1}]}))
    .unwrap()
}

/// The fixture order, accepted and not yet routed; acme has `available` units of A, none reserved.
fn accepted(available: i64) -> Fake {
    let mut o = order();
    o.status = OrderStatus::Accepted;
    o.delivery_order_ids.clear();
    Fake::default()
        .with_order(o)
        .with_product(product())
        .with_fulfiller(fulfiller("acme"))
        .with_stock(crate::testing::fulfiller_id("acme"), "A", available, 0)
}

fn route() -> RouteOrder {
    RouteOrder::new("o1".try_into().unwrap())
}

async fn run(fake: &Fake) -> anyhow::Result<()> {
    route_order(fake, fake, fake, fake, &route()).await
}

fn stock_moved(fake: Fake, n: usize) -> Fake {
    fake.state()
        .conflicts
        .extend((0..n).map(|_| Outcome::StockChanged));
    fake
}

/// What was published, by kind, in order.
fn published(fake: &Fake) -> Vec<String> {
    fake.state()
        .published
        .iter()
        .map(|m| match m {
            Message::Event(BusinessEvent::OrderConfirmed { .. }) => "confirmed".to_string(),
            Message::Event(BusinessEvent::OrderCancelled { refund_id, .. }) => {
                format!("cancelled (refund: {})", refund_id.is_some())
            }
            Message::Documents(GenerateDocuments::DeliveryOrder { delivery_order_id }) => {
                format!("documents {delivery_order_id}")
            }
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn stock_that_moved_is_planned_again_and_reserved_once() {
    let fake = stock_moved(accepted(5), 1);
    run(&fake).await.unwrap();
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    let new: Vec<&DeliveryOrder> = state.deliveries.values().collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].fulfiller_id, "acme");
    assert_eq!(
        state.stock[&crate::testing::stock_key("acme", "A")],
        Level {
            available: 5,
            reserved: 3
        }
    );
    assert_eq!(state.orders["o1"].delivery_order_ids, [new[0].id.clone()]);
    let id = new[0].id.clone();
    drop(state);
    assert_eq!(
        published(&fake),
        ["confirmed".to_string(), format!("documents {id}")]
    );
}

#[tokio::test]
async fn stock_that_keeps_moving_gives_up_without_publishing() {
    let fake = stock_moved(accepted(5), ATTEMPTS);
    let err = run(&fake).await.unwrap_err();
    assert!(err.to_string().contains("stock kept moving"), "{err}");
    assert!(fake.state().commits.is_empty());
    assert!(published(&fake).is_empty());
}

#[tokio::test]
async fn an_order_changed_meanwhile_is_read_again_and_routed() {
    let fake = accepted(5).conflicting(1);
    run(&fake).await.unwrap();
    assert_eq!(fake.state().commits.len(), 1, "routed on the second read");
}

#[tokio::test]
async fn an_order_that_keeps_changing_is_refused_and_nothing_is_published() {
    let fake = accepted(5).conflicting(ATTEMPTS);
    let err = run(&fake).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("changed while it was being routed"),
        "{err}"
    );
    assert!(fake.state().commits.is_empty());
    assert!(published(&fake).is_empty());
}

#[tokio::test]
async fn a_redelivery_reserves_nothing_twice_and_asks_again_for_documents_not_made_yet() {
    // The first delivery committed its round with the document request in its outbox.
    let fake = accepted(5);
    run(&fake).await.unwrap();
    let first = published(&fake);
    run(&fake).await.unwrap();
    let state = fake.state();
    assert_eq!(state.commits.len(), 1, "nothing is routed twice");
    assert_eq!(
        state.stock[&crate::testing::stock_key("acme", "A")].reserved,
        3
    );
    let id = state.orders["o1"].delivery_order_ids[0].clone();
    drop(state);
    let documents = format!("documents {id}");
    assert!(first.contains(&documents), "{first:?}");
    let mut again = first.clone();
    again.push(documents);
    assert_eq!(published(&fake), again);
}

#[tokio::test]
async fn a_delivery_order_made_meanwhile_is_listed_not_made_again() {
    let fake = accepted(5);
    fake.state().conflicts.push_back(Outcome::AlreadyExists);
    run(&fake).await.unwrap();
    assert!(fake.state().commits.is_empty());
    assert!(
        published(&fake).is_empty(),
        "no confirmation without a round"
    );
}

#[tokio::test]
async fn units_nobody_can_ship_are_cancelled_and_refunded() {
    // Acme has none of A and A cannot be backordered.
    let fake = accepted(0);
    run(&fake).await.unwrap();
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert!(state.deliveries.is_empty());
    let o = &state.orders["o1"];
    assert_eq!(o.lines[0].quantities.cancelled, 3);
    assert!(
        !dropship_core::ledger::refunds(o).is_empty(),
        "the refund is in the ledger"
    );
    drop(state);
    assert_eq!(published(&fake), ["confirmed", "cancelled (refund: true)"]);
}

#[tokio::test]
async fn a_cancelled_order_is_not_routed() {
    let fake = accepted(5);
    if let Some(o) = fake.state().orders.get_mut("o1") {
        o.status = OrderStatus::Cancelled;
    }
    run(&fake).await.unwrap();
    assert!(fake.state().commits.is_empty());
    assert!(published(&fake).is_empty());
}

#[tokio::test]
async fn an_inactive_fulfiller_is_no_source_and_the_next_one_ships() {
    let product: Product = serde_json::from_value(json!({"sku": "A", "name": "A",
        "taxClass": "standard", "group": "garden", "allowBackorder": false,
        "sources": [{"fulfillerId": "acme", "priority": 1}, {"fulfillerId": "nordic", "priority": 2}]}))
    .unwrap();
    let mut acme = fulfiller("acme");
    acme.active = false;
    let mut o = order();
    o.status = OrderStatus::Accepted;
    o.delivery_order_ids.clear();
    let fake = Fake::default()
        .with_order(o)
        .with_product(product)
        .with_fulfiller(acme)
        .with_fulfiller(fulfiller("nordic"))
        .with_stock(crate::testing::fulfiller_id("acme"), "A", 5, 0)
        .with_stock(crate::testing::fulfiller_id("nordic"), "A", 5, 0);
    run(&fake).await.unwrap();
    let state = fake.state();
    let new: Vec<&DeliveryOrder> = state.deliveries.values().collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].fulfiller_id, "nordic", "acme is inactive");
    assert_eq!(
        state.stock[&crate::testing::stock_key("acme", "A")].reserved,
        0
    );
}
