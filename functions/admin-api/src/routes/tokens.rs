//! API tokens: made for an admin, a staff member, a channel or a fulfiller (the secret is shown once), and
//! revoked. Separate because it is the only place secrets are made.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{json, json_body, path_param, HandlerResult};
use dropship_aws::repo::tokens::{new_secret, TokenRecord};
use dropship_core::catalogue::from_body;
use dropship_core::ids::StaffId;
use dropship_core::staff::StaffRole;
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
    /// Whether a token of `notation` is the owner's to make or revoke: the principal `admin`'s
    /// and admin staff's tokens are; a staff admin may not hand out or take away admin power.
    async fn guards_admin_power(&self, notation: &str) -> anyhow::Result<bool> {
        Ok(match notation.strip_prefix("staff:") {
            _ if notation == "admin" => true,
            Some(id) => self
                .catalogue
                .get_staff(id)
                .await?
                .is_some_and(|m| m.role == StaffRole::Admin),
            None => false,
        })
    }

    /// `POST /admin/tokens`: the principal must be configured (a channel, fulfiller or staff
    /// member that exists).
    pub(crate) async fn create_token(
        &self,
        req: &Request,
        caller: Option<&Principal>,
        admin: &str,
    ) -> HandlerResult {
        let input = from_body::<TokenRequest>(json_body(req)?)?;
        let principal = match input.principal.strip_prefix("staff:") {
            // Staff tokens carry no role: the authorizer reads it from the member each time.
            Some(id) => Principal::Staff {
                id: StaffId::parse("principal", id)?,
                name: input.name.clone().unwrap_or_default(),
                role: StaffRole::Service,
            },
            None => Principal::parse(&input.principal, input.name.as_deref()).ok_or_else(|| {
                ApiError::invalid(
                    "principal",
                    "principal must be admin, staff:<staffId>, channel:<channelId> or fulfiller:<fulfillerId>",
                )
            })?,
        };
        if let Some(name) = &input.name {
            dropship_core::ids::check_text("name", name, 200)?;
        }
        let exists = match &principal {
            Principal::Admin { .. } => true,
            Principal::Channel { id } => self.catalogue.get_channel(id.as_str()).await?.is_some(),
            Principal::Fulfiller { id } => {
                self.catalogue.get_fulfiller(id.as_str()).await?.is_some()
            }
            Principal::Staff { id, .. } => self.catalogue.get_staff(id.as_str()).await?.is_some(),
        };
        if !exists {
            return Err(ApiError::invalid(
                "principal",
                format!("{} is not configured", input.principal),
            )
            .into());
        }
        if !matches!(caller, Some(Principal::Admin { .. }))
            && self.guards_admin_power(&principal.notation()).await?
        {
            return Err(ApiError::forbidden().into());
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
    pub(crate) async fn revoke_token(
        &self,
        req: &Request,
        caller: Option<&Principal>,
        admin: &str,
    ) -> HandlerResult {
        let id = path_param(req, "tokenId")?;
        if !dropship_core::ids::is_valid_id(&id) {
            return Err(ApiError::not_found("token").into());
        }
        if !matches!(caller, Some(Principal::Admin { .. })) {
            let Some(owner) = self.tokens.principal_of(&id).await? else {
                return Err(ApiError::not_found("token").into());
            };
            if self.guards_admin_power(&owner).await? {
                return Err(ApiError::forbidden().into());
            }
        }
        if !self.tokens.revoke(&id).await? {
            return Err(ApiError::not_found("token").into());
        }
        tracing::info!(token_id = %id, by = %admin, "token revoked");
        Ok(Response::builder()
            .status(204)
            .body(Body::Empty)
            .map_err(anyhow::Error::from)?)
    }
}
