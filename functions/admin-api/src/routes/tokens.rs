//! API tokens: made for an admin, a staff member, a channel or a fulfiller (the secret is shown
//! once), listed (never with the secret nor its hash), and revoked. Separate because it is the
//! only place secrets are made.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{json, json_body, limit, path_param, query_param, HandlerResult};
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
            created_by: Some(admin.to_string()),
            last_used_at: None,
            expires_at: None,
            expires_at_epoch: None,
            console_session: false,
            opened_with: None,
        };
        self.tokens.create_token(&token, &record).await?;
        tracing::info!(token_id = %token_id, principal = %record.principal, by = %admin, "token created");
        json(
            201,
            &json!({"id": token_id, "tokenId": token_id, "principal": record.principal, "token": token}),
        )
    }

    /// `GET /admin/tokens?principal=&limit=&nextToken=`: the tokens (of one principal, in
    /// docs/api.md's notation), each as `{id, tokenId, principal, name, createdAt, createdBy,
    /// lastUsedAt?}`: what identifies and dates it, never the token nor its hash.
    pub(crate) async fn list_tokens(&self, req: &Request) -> HandlerResult {
        let principal = query_param(req, "principal")
            .map(|p| {
                let staff = p
                    .strip_prefix("staff:")
                    .filter(|id| dropship_core::ids::is_valid_id(id))
                    .map(|_| p.clone());
                staff
                    .or_else(|| Principal::parse(&p, None).map(|p| p.notation()))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "principal",
                            "principal must be admin, staff:<staffId>, channel:<channelId> or fulfiller:<fulfillerId>",
                        )
                    })
            })
            .transpose()?;
        let limit = usize::try_from(limit(req)?).unwrap_or(50);
        let next = query_param(req, "nextToken");
        let page = self
            .tokens
            .list(principal.as_deref(), limit, next.as_deref())
            .await?
            .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not one this list gave"))?;
        let items: Vec<serde_json::Value> = page.items.iter().map(token_view).collect();
        let mut body = json!({ "items": items });
        if let Some(t) = page.next_token {
            body["nextToken"] = json!(t);
        }
        json(200, &body)
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

/// A token as the list shows it: built field by field, so nothing secret can slip in.
fn token_view(t: &TokenRecord) -> serde_json::Value {
    let mut v = json!({"id": t.token_id, "tokenId": t.token_id, "principal": t.principal,
        "name": t.name, "createdAt": t.created_at, "createdBy": t.created_by});
    if let Some(at) = t.last_used_at {
        v["lastUsedAt"] = json!(at);
    }
    if let Some(at) = t.expires_at {
        v["expiresAt"] = json!(at);
    }
    if t.console_session {
        v["consoleSession"] = json!(true);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_token_shows_who_made_it_and_its_last_use_only_when_known() {
        let mut t: TokenRecord = serde_json::from_value(json!({"tokenId": "tok_1",
            "principal": "channel:web", "name": "shop", "createdAt": "2026-12-01T10:00:00Z",
            "createdBy": "Ada"}))
        .unwrap();
        let v = token_view(&t);
        assert_eq!(v["createdBy"], "Ada");
        assert!(v.get("lastUsedAt").is_none());
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "createdAt",
                "createdBy",
                "id",
                "name",
                "principal",
                "tokenId"
            ]
        );
        t.last_used_at = Some("2026-12-02T10:00:00Z".parse().unwrap());
        assert_eq!(token_view(&t)["lastUsedAt"], "2026-12-02T10:00:00Z");
    }
}
