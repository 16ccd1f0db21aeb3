//! The configuration: channels, fulfillers, products, tax rates, branding, refund policy,
//! staff, tokens and the process diagram, readable by every role; admins change a product and
//! switch channels, fulfillers, products and staff on or off here (the API refuses others).

use crate::api::{enc, query};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::Console;
use dropship_web::forms::Form;
use lambda_http::Request;
use reqwest::Method;
use serde_json::{json, Value};

/// What a configuration read shows beside the fields its PUT takes (ids, who and when, links).
const READ_ONLY: &[&str] = &[
    "id",
    "sku",
    "channelId",
    "fulfillerId",
    "staffId",
    "updatedAt",
    "updatedBy",
    "createdAt",
    "createdBy",
];

/// The configuration kinds that can be switched on and off: the console's path segment, the
/// API's collection.
const SWITCHABLE: &[(&str, &str)] = &[
    ("channels", "channels"),
    ("fulfillers", "fulfillers"),
    ("products", "products"),
    ("staff", "staff"),
];

/// Whether `path` names a configuration item the JSON editor may read and PUT: channels,
/// fulfillers, products, staff, tax rates and the refund policy. (Branding is left out: its
/// logo is written as a PNG and read back as a link.)
fn editable(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let id = |s: &str| dropship_core::ids::is_valid_id(s) && s != "." && s != "..";
    match parts.as_slice() {
        ["", "admin", "channels" | "fulfillers" | "products" | "staff", item] => id(item),
        ["", "admin", "tax-rates", country, class] => {
            country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) && id(class)
        }
        ["", "admin", "refund-policy"] => true,
        _ => false,
    }
}

impl Console {
    /// `GET /console/configuration/edit?path=/admin/...`: an item's writable fields as JSON,
    /// in a form for admins (every field the API's PUT takes, as docs/api.md describes).
    pub(crate) async fn edit_page(
        &self,
        frame: &Frame,
        path: &str,
        draft: Option<(&str, u16, Value)>,
    ) -> Page {
        if !editable(path) {
            return Err(Fail::NotFound);
        }
        let token = frame.token()?;
        let current = self.api.get(token, path).await?;
        if current.status == 404 && draft.is_none() {
            return Err(Fail::NotFound);
        }
        let (text, status, problem) = match draft {
            Some((text, status, problem)) => (text.to_string(), status, Some(problem)),
            None => {
                let body = merged(current.body, json!({}));
                let text = serde_json::to_string_pretty(&body).map_err(anyhow::Error::from)?;
                (text, 200, None)
            }
        };
        self.render(
            frame,
            status,
            "edit.html",
            "configuration",
            json!({"path": path, "json": text, "problem": problem,
                "can_edit": frame.may("PUT /admin/products/{sku}")}),
        )
    }

    /// `POST /console/configuration/edit` `path, json`: the item written with the API's PUT.
    pub(crate) async fn save_edit(&self, frame: &Frame, form: &Form) -> Page {
        let path = form.get("path").unwrap_or_default();
        if !editable(path) {
            return Err(Fail::NotFound);
        }
        let text = form.get("json").unwrap_or_default();
        let body: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let problem = json!({"title": self.text(frame, "errors.invalid_title"),
                    "message": format!("JSON: {e}")});
                return self
                    .edit_page(frame, path, Some((text, 400, problem)))
                    .await;
            }
        };
        let token = frame.token()?;
        let answer = self.api.send(token, Method::PUT, path, &body, None).await?;
        if answer.ok() {
            return see_other("/console/configuration?done=saved", vec![]);
        }
        let problem = self.problem(frame, &answer);
        self.edit_page(frame, path, Some((text, answer.status, problem)))
            .await
    }

    /// `POST /console/configuration/tokens/{tokenId}/revoke` (admins).
    pub(crate) async fn revoke_token(&self, frame: &Frame, token_id: &str) -> Page {
        let token = frame.token()?;
        let answer = self
            .api
            .send(
                token,
                Method::DELETE,
                &format!("/admin/tokens/{}", enc(token_id)),
                &json!({}),
                None,
            )
            .await?;
        match answer.status {
            200..=299 => see_other("/console/configuration?done=revoked#tokens", vec![]),
            403 => Err(Fail::Forbidden),
            404 => Err(Fail::NotFound),
            status => {
                let problem = self.problem(frame, &answer);
                self.render(frame, status, "message.html", "configuration",
                    json!({"heading": problem["title"], "text": problem["message"], "back": "/console/configuration#tokens"}))
            }
        }
    }

    /// `POST /console/configuration/tokens` `principal, name` (admins): the new token, shown
    /// once on the page that answers (it is never stored in plain).
    pub(crate) async fn create_token(&self, frame: &Frame, form: &Form) -> Page {
        let token = frame.token()?;
        let mut body = json!({"principal": form.get("principal").unwrap_or_default().trim()});
        let name = form.get("name").unwrap_or_default().trim();
        if !name.is_empty() {
            body["name"] = json!(name);
        }
        let answer = self
            .api
            .send(token, Method::POST, "/admin/tokens", &body, None)
            .await?;
        match answer.status {
            200..=299 => self.render(
                frame,
                201,
                "token.html",
                "configuration",
                json!({"made": answer.body}),
            ),
            403 => Err(Fail::Forbidden),
            _ => {
                let problem = self.problem(frame, &answer);
                self.render(frame, answer.status, "message.html", "configuration",
                    json!({"heading": problem["title"], "text": problem["message"], "back": "/console/configuration#tokens"}))
            }
        }
    }

    /// `GET /console/configuration?q=` (q filters the products)
    pub(crate) async fn configuration(&self, req: &Request, frame: &Frame) -> Page {
        let token = frame.token()?;
        let q = crate::query(req, "q");
        let products = format!("/admin/products{}", query(&[("limit", "200"), ("q", &q)]));
        let tokens_allowed = frame.may("GET /admin/tokens");
        let tokens = async {
            if tokens_allowed {
                self.api
                    .get(token, "/admin/tokens?limit=200")
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let (channels, fulfillers, products, tax, branding, refund, staff, diagram, tokens) = tokio::join!(
            self.api.get(token, "/admin/channels?limit=200"),
            self.api.get(token, "/admin/fulfillers?limit=200"),
            self.api.get(token, &products),
            self.api.get(token, "/admin/tax-rates?limit=200"),
            self.api.get(token, "/admin/branding"),
            self.api.get(token, "/admin/refund-policy"),
            self.api.get(token, "/admin/staff?limit=200"),
            self.api.get(token, "/admin/process/diagram?format=svg"),
            tokens,
        );
        let tokens = tokens?.map_or(Value::Null, |t| t.body["items"].clone());
        let items = |a: anyhow::Result<crate::api::Answer>| -> Result<Value, Fail> {
            Ok(a?.body["items"].clone())
        };
        let diagram = diagram?;
        let svg = diagram
            .text
            .filter(|t| diagram.status == 200 && t.contains("<svg"));
        let done = self.done(frame, req);
        self.render(
            frame,
            200,
            "configuration.html",
            "configuration",
            json!({
                "channels": items(channels)?, "fulfillers": items(fulfillers)?,
                "products": items(products)?, "tax_rates": items(tax)?,
                "branding": branding?.body, "refund_policy": facts(&refund?.body), "staff": items(staff)?,
                "tokens": tokens, "diagram": svg, "q": q, "done": done,
                "can_edit": frame.may("PUT /admin/products/{sku}"),
            }),
        )
    }

    /// `GET /console/configuration/products/{sku}`: the product, as a form for admins.
    pub(crate) async fn product_page(
        &self,
        frame: &Frame,
        sku: &str,
        refused: Option<(u16, Value)>,
    ) -> Page {
        let token = frame.token()?;
        let answer = self
            .api
            .get(token, &format!("/admin/products/{}", enc(sku)))
            .await?;
        if answer.status == 404 {
            return Err(Fail::NotFound);
        }
        if !answer.ok() {
            return Err(Fail::Internal(anyhow::anyhow!(
                "the product answered {}",
                answer.status
            )));
        }
        let (status, problem) = refused.map_or((200, None), |(s, p)| (s, Some(p)));
        self.render(
            frame,
            status,
            "product.html",
            "configuration",
            json!({"product": answer.body, "problem": problem,
                "can_edit": frame.may("PUT /admin/products/{sku}"),
                "tax_classes": ["standard", "reduced", "zero"]}),
        )
    }

    /// `POST /console/configuration/products/{sku}`: name, group, tax class, backorders and
    /// whether it is sold, over the product as it is (its sources stay).
    pub(crate) async fn save_product(&self, frame: &Frame, sku: &str, form: &Form) -> Page {
        let field = |n: &str| form.get(n).unwrap_or_default().trim().to_string();
        let changes = json!({
            "name": field("name"), "group": field("group"), "taxClass": field("taxClass"),
            "allowBackorder": form.get("allowBackorder") == Some("on"),
            "active": form.get("active") == Some("on"),
        });
        let answer = self.change(frame, "products", sku, changes).await?;
        if answer.ok() {
            return see_other("/console/configuration?done=saved#products", vec![]);
        }
        let problem = self.problem(frame, &answer);
        self.product_page(frame, sku, Some((answer.status, problem)))
            .await
    }

    /// `POST /console/configuration/{kind}/{id}/active` `active=true|false`
    pub(crate) async fn set_active(
        &self,
        frame: &Frame,
        kind: &str,
        id: &str,
        form: &Form,
    ) -> Page {
        let Some((_, collection)) = SWITCHABLE.iter().find(|(k, _)| *k == kind) else {
            return Err(Fail::NotFound);
        };
        let active = form.get("active") == Some("true");
        let answer = self
            .change(frame, collection, id, json!({ "active": active }))
            .await?;
        match answer.status {
            200..=299 => see_other(
                &format!(
                    "/console/configuration?done={}#{kind}",
                    if active { "activated" } else { "deactivated" }
                ),
                vec![],
            ),
            403 => Err(Fail::Forbidden),
            404 => Err(Fail::NotFound),
            _ => {
                let problem = self.problem(frame, &answer);
                self.render(frame, answer.status, "message.html", "configuration",
                    json!({"heading": problem["title"], "text": problem["message"], "back": "/console/configuration"}))
            }
        }
    }

    /// A configuration item changed: read as it is, `changes` laid over its writable fields,
    /// written back with PUT (the API validates it and keeps the audit line).
    async fn change(
        &self,
        frame: &Frame,
        collection: &str,
        id: &str,
        changes: Value,
    ) -> Result<crate::api::Answer, Fail> {
        let token = frame.token()?;
        let path = format!("/admin/{collection}/{}", enc(id));
        let current = self.api.get(token, &path).await?;
        if !current.ok() {
            return Ok(current);
        }
        let body = merged(current.body, changes);
        Ok(self
            .api
            .send(token, Method::PUT, &path, &body, None)
            .await?)
    }
}

/// A settings document as (dotted path, value) pairs to show as a list, who and when left out.
fn facts(doc: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    if path.is_empty() && READ_ONLY.contains(&k.as_str()) {
                        continue;
                    }
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, &p, out);
                }
            }
            Value::String(s) => out.push((path.to_string(), s.clone())),
            Value::Null => {}
            other => out.push((path.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(doc, "", &mut out);
    out
}

/// The item as its PUT takes it: the read's fields without the read-only ones, with `changes`
/// over them.
fn merged(mut current: Value, changes: Value) -> Value {
    if let Some(o) = current.as_object_mut() {
        for k in READ_ONLY {
            o.remove(*k);
        }
        if let Value::Object(changes) = changes {
            o.extend(changes);
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_document_is_shown_as_dotted_facts() {
        let doc = json!({"shipping": {"refund": "always", "days": 14}, "note": null, "updatedBy": "x",
            "kinds": ["a", "b"]});
        assert_eq!(
            facts(&doc),
            vec![
                ("kinds".to_string(), "[\"a\",\"b\"]".to_string()),
                ("shipping.days".to_string(), "14".to_string()),
                ("shipping.refund".to_string(), "always".to_string()),
            ]
        );
    }

    #[test]
    fn only_configuration_items_are_edited_as_json() {
        for ok in [
            "/admin/channels/web-de",
            "/admin/staff/anna",
            "/admin/tax-rates/DE/standard",
            "/admin/refund-policy",
        ] {
            assert!(editable(ok), "{ok}");
        }
        for bad in [
            "/admin/orders/ord_1",
            "/admin/tokens/tok_1",
            "/admin/channels/../orders",
            "/admin/branding",
            "/admin/tax-rates/de/standard",
            "/admin/channels/a/b",
            "https://evil.example/admin/channels/x",
        ] {
            assert!(!editable(bad), "{bad}");
        }
    }

    #[test]
    fn a_change_keeps_the_writable_fields_and_drops_the_read_only_ones() {
        let current = json!({"sku": "CHAIR", "name": "Chair", "group": "chairs", "sources": [{"fulfillerId": "acme"}],
            "active": true, "updatedAt": "2026-12-01T10:00:00Z", "updatedBy": "admin:ops"});
        assert_eq!(
            merged(current, json!({"active": false, "name": "Teak chair"})),
            json!({"name": "Teak chair", "group": "chairs", "sources": [{"fulfillerId": "acme"}], "active": false})
        );
    }
}
