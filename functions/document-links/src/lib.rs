//! Answers a document link (`GET /documents/{linkId}`, mailed or listed, 7 days) with a redirect
//! to a fresh presigned S3 URL valid 15 minutes. The link id is the credential: a stateless
//! signed link (`dropship_core::links`) naming one delivery order, one kind of its documents and
//! its expiry, signed with that delivery order's own random `linkKey`; checking it reads the
//! delivery order (one GetItem), and it gives that delivery order's current document of the kind
//! (a corrected invoice once there is one). A presigned URL signed with a Lambda role's temporary
//! credentials dies with the session, hence the redirect instead of a long-lived URL.

mod config;
use chrono::Utc;
pub use config::Config;
use dropship_aws::documents::DocumentStore;
use dropship_aws::http::{self, path_param, redirect, HandlerResult};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_core::links::SignedLink;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};

pub struct DocumentLinks {
    pub delivery_orders: DeliveryOrders,
    pub store: DocumentStore,
}

impl dropship_aws::config::FromConfig for DocumentLinks {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        Ok(Self {
            delivery_orders: DeliveryOrders::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.delivery_orders_table.clone(),
            ),
            store: DocumentStore::new(aws_sdk_s3::Client::new(cfg), config.document_bucket.clone()),
        })
    }
}

impl DocumentLinks {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.follow(req)).await
    }

    async fn follow(&self, req: Request) -> HandlerResult {
        // Whatever is wrong with a link, the answer is the same plain 404: no hint which.
        let not_found = || ApiError::not_found("document");
        let link_id = path_param(&req, "linkId")?;
        let now = Utc::now();
        // Malformed or expired links are refused before anything is read.
        let Some(link) = SignedLink::parse(&link_id).filter(|l| !l.is_expired(now)) else {
            return Err(not_found().into());
        };
        let Some(delivery) = self.delivery_orders.get(&link.delivery_order_id).await? else {
            return Err(not_found().into());
        };
        let signed = delivery
            .link_key
            .as_deref()
            .is_some_and(|key| link.verify(key, now));
        if !signed {
            return Err(not_found().into());
        }
        let document = delivery
            .documents
            .iter()
            .find(|d| d.kind == link.kind)
            .ok_or_else(not_found)?;
        let url = self.store.presign_get(&document.key).await?;
        tracing::info!(
            delivery_order_id = %delivery.id,
            fulfiller_id = %delivery.fulfiller_id,
            kind = link.kind.as_str(),
            "document link followed"
        );
        redirect(&url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;
    use dropship_core::delivery::DocumentKind;

    /// The answer to the sample event with another link id. Offline: any AWS call would fail
    /// (a 500), so a 404 here means the link was refused before anything was read.
    async fn follow(link_id: &str) -> (u16, serde_json::Value) {
        let cfg = offline();
        let links = DocumentLinks {
            delivery_orders: DeliveryOrders::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "DeliveryOrdersTable".into(),
            ),
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), "bucket".into()),
        };
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/document-links.json")).unwrap();
        v["pathParameters"]["linkId"] = serde_json::json!(link_id);
        let resp = links
            .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
            .await
            .unwrap();
        let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or_default();
        (resp.status().as_u16(), body)
    }

    #[tokio::test]
    async fn a_malformed_link_is_a_plain_404() {
        for id in [
            "../../etc/passwd",
            "5f2b8c1d9e3a4f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
            "DO-1.x.tpip80.H0CYQ3QNWbfS03Afs63aIw",
        ] {
            let (status, body) = follow(id).await;
            assert_eq!(status, 404, "{id}");
            assert_eq!(body["error"]["code"], "not_found", "{id}");
        }
    }

    #[tokio::test]
    async fn an_expired_link_is_a_plain_404_without_a_read() {
        let expired = Utc::now() - chrono::Duration::seconds(1);
        let id = dropship_core::links::mint(
            "DO-7927FD6E93E58F188D9A",
            DocumentKind::Invoice,
            expired,
            "k",
        )
        .unwrap();
        let (status, body) = follow(&id).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
    }
}
