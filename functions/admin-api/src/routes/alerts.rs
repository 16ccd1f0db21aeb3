//! The alerts the scheduled checks open (late, stale, stuck, unroutable, shortfalls, dead
//! letters, chargebacks): listed by state, and resolved by hand. Separate because alert ids
//! arrive percent-encoded and need decoding no other route does.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{self, json, path_param, HandlerResult};
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

/// `%XX` sequences to bytes (a path parameter as the client encoded it); anything malformed
/// stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl AdminApi {
    /// `GET /admin/alerts?state=open|resolved` (open when not given).
    pub(crate) async fn list_alerts(&self, req: &Request) -> HandlerResult {
        let state = http::query_param(req, "state").unwrap_or_else(|| "open".into());
        if state != "open" && state != "resolved" {
            return Err(ApiError::invalid("state", "state must be open or resolved").into());
        }
        let items = self.alerts.list(&state).await?;
        json(200, &json!({ "items": items }))
    }

    /// `POST /admin/alerts/{alertId}/resolve` `{note?}` (no body: no note).
    pub(crate) async fn resolve_alert(&self, req: &Request, admin: &str) -> HandlerResult {
        // Alert ids hold '#' and '/': clients send them percent-encoded.
        let id = percent_decode(&path_param(req, "alertId")?);
        let note = resolution_note(req)?;
        match self.alerts.get(&id).await? {
            None => Err(ApiError::not_found("alert").into()),
            Some(_) => {
                self.alerts
                    .resolve_by_hand(&id, Utc::now(), admin, note.as_deref())
                    .await?;
                tracing::info!(alert = %id, by = %admin, "alert resolved by hand");
                let alert = self.alerts.get(&id).await?;
                json(200, &json!(alert))
            }
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolution {
    note: Option<String>,
}

/// The optional note of a resolution: an empty body is none; at most 1000 characters.
fn resolution_note(req: &Request) -> Result<Option<String>, ApiError> {
    if req.body().as_ref().is_empty() {
        return Ok(None);
    }
    let r: Resolution = dropship_core::catalogue::from_body(http::json_body(req)?)?;
    let note = r
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if let Some(n) = &note {
        dropship_core::ids::check_text("note", n, 1000)?;
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_leaves_malformed_sequences_as_they_are() {
        assert_eq!(
            percent_decode("delivery_order_late%23do_1%2Fx"),
            "delivery_order_late#do_1/x"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%2"), "%zz%2");
        assert_eq!(percent_decode("M%C3%BCller"), "Müller");
    }
}
