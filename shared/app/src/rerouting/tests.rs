use super::*;
use crate::fake::Fake;
use crate::retry::ATTEMPTS;
use crate::testing::{api_error, fulfiller, routed};
use dropship_core::delivery::DeliveryStatus;

fn to_beta() -> Reroute {
    Reroute {
        admin: "ann".into(),
        delivery_order: "D1".into(),
        fulfiller: "beta".try_into().unwrap(),
    }
}

fn with_beta(fake: Fake, units: i64) -> Fake {
    fake.with_fulfiller(fulfiller("beta")).with_stock(
        crate::testing::fulfiller_id("beta"),
        "A",
        units,
        0,
    )
}

#[tokio::test]
async fn a_reroute_retried_after_a_conflict_moves_the_reservation_and_tells_both_once() {
    let fake = with_beta(routed(), 3).conflicting(1);
    let (plan, target) = reroute(&fake, &fake, &fake, &to_beta()).await.unwrap();
    assert_eq!(target.id, "beta");
    let state = fake.state();
    assert_eq!(state.commits.len(), 1);
    assert_eq!(state.deliveries["D1"].status, DeliveryStatus::Cancelled);
    assert_eq!(state.deliveries[&plan.new.id].fulfiller_id, "beta");
    let reserved = |f: &str| state.stock[&crate::testing::stock_key(f, "A")].reserved;
    assert_eq!((reserved("acme"), reserved("beta")), (0, 3));
    let expected = [
        Message::Documents(GenerateDocuments::DeliveryOrder {
            delivery_order_id: plan.new.id.clone(),
        }),
        Message::Event(BusinessEvent::DeliveryOrderChanged {
            delivery_order_id: "D1".into(),
            fulfiller_id: "acme".try_into().unwrap(),
            order_id: "o1".try_into().unwrap(),
            cancelled: true,
            version: 1,
        }),
    ];
    assert_eq!(state.published, expected);
}

#[tokio::test]
async fn a_shortage_at_the_target_is_final_and_a_busy_order_ends_in_the_409() {
    let fake = with_beta(routed(), 2);
    let e = api_error(reroute(&fake, &fake, &fake, &to_beta()).await);
    assert_eq!((e.status, e.code.as_str()), (409, "insufficient_stock"));
    assert_eq!(e.message, "beta has not enough free stock for it");
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());

    let fake = with_beta(routed(), 3).conflicting(ATTEMPTS);
    let e = api_error(reroute(&fake, &fake, &fake, &to_beta()).await);
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "concurrent_modification")
    );
    assert_eq!(e.message, "the delivery order kept changing; please retry");
    assert!(fake.state().published.is_empty());

    let fake = routed();
    let e = api_error(reroute(&fake, &fake, &fake, &to_beta()).await);
    assert_eq!((e.status, e.field.as_deref()), (422, Some("fulfillerId")));
}

#[tokio::test]
async fn an_inactive_fulfiller_gets_no_rerouted_delivery_order() {
    let mut beta = fulfiller("beta");
    beta.active = false;
    let fake =
        routed()
            .with_fulfiller(beta)
            .with_stock(crate::testing::fulfiller_id("beta"), "A", 3, 0);
    let e = api_error(reroute(&fake, &fake, &fake, &to_beta()).await);
    assert_eq!((e.status, e.field.as_deref()), (422, Some("fulfillerId")));
    assert!(e.message.contains("inactive"), "{}", e.message);
    assert!(fake.state().commits.is_empty() && fake.state().published.is_empty());
}
