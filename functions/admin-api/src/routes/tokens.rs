//! API tokens: made for an admin, a channel or a fulfiller (the secret is shown once), and
//! revoked. Separate because it is the only place secrets are made.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{json, json_body, path_param, HandlerResult};
use dropship_aws::repo::tokens::{new_secret, TokenRecord};
use dropship_core::catalogue::from_body;
use dropship_core::{ApiError, Principal};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    principal: String,
    name: Option<String>,
}

impl AdminApi {
    /// `POST /admin/tokens`: the principal must be configured (a channel or fulfiller that exists).
    pub(crate) async fn create_token(&self, req: &Request, admin: &str) -> HandlerResult {
        let input = from_body::<TokenRequest>(json_body(req)?)?;
        let principal =
            Principal::parse(&input.principal, input.name.as_deref()).ok_or_else(|| {
                ApiError::invalid(
                    "principal",
                    "principal must be admin, channel:<channelId> or fulfiller:<fulfillerId>",
                )
            })?;
        if let Some(name) = &input.name {
            dropship_core::ids::check_text("name", name, 200)?;
        }
        let exists = match &principal {
            Principal::Admin { .. } => true,
            Principal::Channel { id } => self.catalogue.get_channel(id.as_str()).await?.is_some(),
            Principal::Fulfiller { id } => {
                self.catalogue.get_fulfiller(id.as_str()).await?.is_some()
            }
        };
        if !exists {
            return Err(ApiError::invalid(
                "principal",
                format!("{} is not configured", input.principal),
            )
            .into());
        }
        let token = new_secret();
        let token_id = format!("tok_{}", uuid::Uuid::new_v4().simple());
        let record = TokenRecord {
            token_id: token_id.clone(),
            principal: principal.notation(),
            name: input.name,
            created_at: Utc::now(),
        };
        self.tokens.create_token(&token, &record).await?;
        tracing::info!(token_id = %token_id, principal = %record.principal, by = %admin, "token created");
        json(
            201,
            &json!({"id": token_id, "tokenId": token_id, "principal": record.principal, "token": token}),
        )
    }

    /// `DELETE /admin/tokens/{tokenId}`
    pub(crate) async fn revoke_token(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "tokenId")?;
        if !dropship_core::ids::is_valid_id(&id) || !self.tokens.revoke(&id).await? {
            return Err(ApiError::not_found("token").into());
        }
        tracing::info!(token_id = %id, by = %admin, "token revoked");
        Ok(Response::builder()
            .status(204)
            .body(Body::Empty)
            .map_err(anyhow::Error::from)?)
    }
}
