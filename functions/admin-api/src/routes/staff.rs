//! The retailer's staff and the audit log: who may work on the retailer's side, in which role,
//! and what they did. Separate because it is the only place people (not systems) are managed.

use crate::AdminApi;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dropship_aws::http::{json, json_body, limit, path_param, query_param, HandlerResult};
use dropship_core::catalogue::from_body;
use dropship_core::staff::StaffInput;
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

/// The longest period one audit listing covers.
const AUDIT_MAX_DAYS: i64 = 366;

impl AdminApi {
    /// `PUT /admin/staff/{staffId}`: the member whole (an `active` left out is true). Only the
    /// principal `admin` may make someone an admin, or change an admin: a staff admin could
    /// otherwise give themselves what only the owner's token has.
    pub(crate) async fn put_staff(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "staffId")?;
        let member = from_body::<StaffInput>(json_body(req)?)?.validate(&id, admin, Utc::now())?;
        if !matches!(
            dropship_aws::http::principal(req),
            Some(dropship_core::Principal::Admin { .. })
        ) {
            let existing = self.catalogue.get_staff(member.id.as_str()).await?;
            let touches_admin = member.role == dropship_core::staff::StaffRole::Admin
                || existing.is_some_and(|m| m.role == dropship_core::staff::StaffRole::Admin);
            if touches_admin {
                return Err(ApiError::forbidden().into());
            }
        }
        self.catalogue.put_staff(&member).await?;
        tracing::info!(staff_id = %member.id, role = member.role.as_str(), active = member.active, by = %admin, "staff member stored");
        json(200, &member)
    }

    /// `GET /admin/staff/{staffId}`
    pub(crate) async fn staff_member(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "staffId")?;
        match self.catalogue.get_staff(&id).await? {
            Some(m) => json(200, &m),
            None => Err(ApiError::not_found("staff member").into()),
        }
    }

    /// `GET /admin/staff?active=`: every member, inactive ones included unless filtered.
    pub(crate) async fn list_staff(&self, req: &Request) -> HandlerResult {
        let active = match query_param(req, "active").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(ApiError::invalid("active", "active must be true or false").into())
            }
        };
        let next = query_param(req, "nextToken");
        let page = self
            .catalogue
            .staff_page(active, limit(req)?, next.as_deref())
            .await?
            .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not one of ours"))?;
        json(200, &page_body(page))
    }

    /// `GET /admin/audit?from=&to=&principal=`: newest first. `from` and `to` are dates in the
    /// retailer's time zone and include both ends; without them the last 30 days.
    pub(crate) async fn list_audit(&self, req: &Request) -> HandlerResult {
        let tz = self.catalogue.time_zone().await?;
        let today = Utc::now().with_timezone(&tz).date_naive();
        let date = |name: &str| -> Result<Option<NaiveDate>, ApiError> {
            query_param(req, name)
                .map(|s| {
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                        .map_err(|_| ApiError::invalid(name, format!("{name} must be YYYY-MM-DD")))
                })
                .transpose()
        };
        let to = date("to")?.unwrap_or(today);
        let from = date("from")?.unwrap_or(to - chrono::Duration::days(29));
        if from > to {
            return Err(ApiError::invalid("from", "from must not be after to").into());
        }
        if (to - from).num_days() >= AUDIT_MAX_DAYS {
            return Err(ApiError::invalid(
                "from",
                format!("a listing covers at most {AUDIT_MAX_DAYS} days"),
            )
            .into());
        }
        let start_of = |d: NaiveDate| -> DateTime<Utc> {
            let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            tz.from_local_datetime(&midnight)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
        };
        let principal = query_param(req, "principal");
        if let Some(p) = &principal {
            dropship_core::ids::check_text("principal", p, 80)?;
        }
        let next = query_param(req, "nextToken");
        let page = self
            .audit
            .list(
                start_of(from),
                start_of(to + chrono::Duration::days(1)),
                principal.as_deref(),
                limit(req)? as usize,
                next.as_deref(),
            )
            .await?
            .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not one of ours"))?;
        json(200, &page_body(page))
    }
}

/// A list page as docs/api.md writes it: `nextToken` only while the list goes on.
fn page_body<T: serde::Serialize>(page: dropship_aws::repo::Page<T>) -> serde_json::Value {
    let mut body = json!({ "items": page.items });
    if let Some(t) = page.next_token {
        body["nextToken"] = json!(t);
    }
    body
}
