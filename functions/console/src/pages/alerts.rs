//! Alerts: open and resolved ones, and resolving an open one with a note.

use crate::api::{enc, query};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::Console;
use dropship_web::forms::Form;
use lambda_http::Request;
use reqwest::Method;
use serde_json::json;

impl Console {
    /// `GET /console/alerts?state=open|resolved`
    pub(crate) async fn alerts(&self, req: &Request, frame: &Frame) -> Page {
        let token = frame.token()?;
        let state = match crate::query(req, "state").as_str() {
            "resolved" => "resolved",
            _ => "open",
        };
        let answer = self
            .api
            .get(
                token,
                &format!("/admin/alerts{}", query(&[("state", state)])),
            )
            .await?;
        if !answer.ok() {
            return Err(Fail::Internal(anyhow::anyhow!(
                "the alerts answered {}",
                answer.status
            )));
        }
        let mut items = answer.body["items"].as_array().cloned().unwrap_or_default();
        // Newest first: what just happened is on top.
        items.reverse();
        let done = self.done(frame, req);
        self.render(
            frame,
            200,
            "alerts.html",
            "alerts",
            json!({"state": state, "alerts": items, "done": done,
                "can_resolve": frame.may("POST /admin/alerts/{alertId}/resolve")}),
        )
    }

    /// `POST /console/alerts/resolve` `alert, note` (the id in the form: alert ids hold `/`).
    pub(crate) async fn resolve_alert(&self, frame: &Frame, form: &Form) -> Page {
        let token = frame.token()?;
        let alert = form.get("alert").unwrap_or_default();
        if alert.is_empty() {
            return Err(Fail::BadForm);
        }
        let note = form.get("note").unwrap_or_default().trim();
        let body = if note.is_empty() {
            json!({})
        } else {
            json!({"note": note})
        };
        let answer = self
            .api
            .send(
                token,
                Method::POST,
                &format!("/admin/alerts/{}/resolve", enc(alert)),
                &body,
                None,
            )
            .await?;
        match answer.status {
            200..=299 => see_other("/console/alerts?done=resolved", vec![]),
            403 => Err(Fail::Forbidden),
            404 => Err(Fail::NotFound),
            status => {
                let problem = self.problem(frame, &answer);
                self.render(frame, status, "message.html", "alerts",
                    json!({"heading": problem["title"], "text": problem["message"], "back": "/console/alerts"}))
            }
        }
    }
}
