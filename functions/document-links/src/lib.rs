//! Answers a document link (`GET /documents/{linkId}`, mailed or listed, 7 days) with a redirect
//! to a fresh presigned S3 URL valid 15 minutes. The link id is the credential: it is stored only
//! hashed and bound to one document of one fulfiller. A presigned URL signed with a Lambda role's
//! temporary credentials dies with the session, hence the redirect instead of a long-lived URL.

use chrono::Utc;
use dropship_aws::documents::DocumentStore;
use dropship_aws::http::{self, path_param, redirect, HandlerResult};
use dropship_aws::repo::tokens::Tokens;
use dropship_core::ApiError;
use lambda_http::{Body, Request, Response};

pub struct DocumentLinks {
    pub tokens: Tokens,
    pub store: DocumentStore,
}

impl DocumentLinks {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        Ok(Self {
            tokens: Tokens::new(aws_sdk_dynamodb::Client::new(&cfg), env("TOKENS_TABLE")?),
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), env("DOCUMENT_BUCKET")?),
        })
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        http::respond(self.follow(req)).await
    }

    async fn follow(&self, req: Request) -> HandlerResult {
        let link_id = path_param(&req, "linkId")?;
        if !dropship_core::ids::is_valid_id(&link_id) {
            return Err(ApiError::not_found("document").into());
        }
        let link = self
            .tokens
            .find_link(&link_id, Utc::now())
            .await?
            .ok_or_else(|| ApiError::not_found("document"))?;
        let url = self.store.presign_get(&link.key).await?;
        tracing::info!(fulfiller_id = %link.fulfiller_id, kind = %link.kind, "document link followed");
        redirect(&url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    #[tokio::test]
    async fn a_malformed_link_is_a_plain_404() {
        let cfg = offline();
        let links = DocumentLinks {
            tokens: Tokens::new(aws_sdk_dynamodb::Client::new(&cfg), "TokensTable".into()),
            store: DocumentStore::new(aws_sdk_s3::Client::new(&cfg), "bucket".into()),
        };
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/document-links.json")).unwrap();
        v["pathParameters"]["linkId"] = serde_json::json!("../../etc/passwd");
        let resp = links
            .handle(lambda_http::request::from_str(&v.to_string()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}
