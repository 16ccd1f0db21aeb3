//! What a fulfiller is answered, the same in its API and its portal: a change's answer as the
//! idempotency store keeps it, and the links to a delivery order's documents.

use super::{act_on_delivery_order, receive_return, ActOnDeliveryOrder, ReceiveReturn};
use crate::ports::{ChangeCommitter, EventPublisher, OrderReader};
use chrono::{DateTime, Utc};
use dropship_aws::http::HandlerError;
use dropship_aws::http_idempotency::StoredResponse;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::links;
use dropship_core::returns;
use dropship_core::views::fulfiller_delivery_order;
use serde_json::json;

/// Accept, ship or reject, answered with the delivery order as it is now.
pub async fn act(
    store: &(impl OrderReader + ChangeCommitter),
    command: &ActOnDeliveryOrder,
) -> Result<StoredResponse, HandlerError> {
    let d = act_on_delivery_order(store, command).await?;
    Ok(StoredResponse {
        status: 200,
        body: fulfiller_delivery_order(&d, None),
    })
}

/// What arrived of a return, answered with the fulfiller's part as it is now.
pub async fn receive(
    store: &(impl OrderReader + ChangeCommitter),
    publisher: &impl EventPublisher,
    command: &ReceiveReturn,
) -> Result<StoredResponse, HandlerError> {
    let part = receive_return(store, publisher, command).await?;
    Ok(StoredResponse {
        status: 200,
        body: returns::fulfiller_view(&part),
    })
}

/// Fresh `/documents/{linkId}` links (valid 7 days) to a delivery order's documents, as
/// `{kind, url, expiresAt}`, under the API's public address. Signed with the delivery order's
/// own `linkKey` (`dropship_core::links`): minting them writes nothing. A delivery order
/// without a key (documents recorded before links were signed) lists no links.
pub fn document_links(
    public_base_url: &str,
    delivery: &DeliveryOrder,
    now: DateTime<Utc>,
) -> Vec<serde_json::Value> {
    let expires_at = links::expiry(now);
    links::document_urls(public_base_url, delivery, &delivery.documents, expires_at)
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, url)| json!({"kind": kind, "url": url, "expiresAt": expires_at}))
        .collect()
}

/// The API's public address as configured, without a trailing slash (links append paths).
pub fn public_base_url(configured: &str) -> String {
    configured.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfilment::DeliveryOrderAction;
    use crate::testing::{delivery, routed};
    use chrono::TimeZone;

    #[tokio::test]
    async fn a_change_is_answered_with_the_delivery_order_as_its_fulfiller_sees_it() {
        let fake = routed();
        let accept = ActOnDeliveryOrder {
            fulfiller: "acme".try_into().unwrap(),
            delivery_order: "D1".into(),
            action: DeliveryOrderAction::Accept,
        };
        let answer = act(&fake, &accept).await.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["id"], "D1");
        assert_eq!(answer.body["status"], "accepted");
    }

    #[test]
    fn links_go_under_the_public_address_and_only_with_a_link_key() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        let mut d = delivery();
        d.documents = serde_json::from_value(
            json!([{"kind": "delivery_note", "key": "documents/o1/D1/delivery_note.pdf"}]),
        )
        .unwrap();
        assert!(document_links("https://oms.example.com", &d, now).is_empty());
        d.link_key = serde_json::from_value(json!("A".repeat(22))).unwrap();
        let links = document_links(&public_base_url("https://oms.example.com/"), &d, now);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["kind"], "delivery_note");
        let url = links[0]["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://oms.example.com/documents/D1."),
            "{url}"
        );
        assert_eq!(links[0]["expiresAt"], json!(links::expiry(now)));
    }
}
