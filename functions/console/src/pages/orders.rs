//! Orders: the search (order id, external id, customer address, or a list by status, channel
//! and date), the order page with everything staff may see, and its actions. Every action is
//! the API's operation with the session's token and the form's Idempotency-Key; a refusal
//! shows the order page again with the API's reason and status.

use crate::api::{enc, query, Answer};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::Console;
use dropship_core::ids::OrderId;
use dropship_web::forms::Form;
use lambda_http::Request;
use reqwest::Method;
use serde_json::{json, Value};

/// An order action of the order page: its form's path segment, the API's route (for the role
/// rule) and the API path under `/admin/orders/{orderId}/`.
const ACTIONS: &[(&str, &str)] = &[
    ("goodwill", "POST /admin/orders/{orderId}/goodwill"),
    ("cancel", "POST /admin/orders/{orderId}/cancel"),
    ("returns", "POST /admin/orders/{orderId}/returns"),
    ("replacements", "POST /admin/orders/{orderId}/replacements"),
    (
        "payments-received",
        "POST /admin/orders/{orderId}/payments-received",
    ),
    ("chargebacks", "POST /admin/orders/{orderId}/chargebacks"),
    ("contacts", "POST /admin/orders/{orderId}/contacts"),
];

const ORDER_STATUSES: &[&str] = &[
    "accepted",
    "routed",
    "backordered",
    "partially_shipped",
    "shipped",
    "cancelled",
];

impl Console {
    /// `GET /console/orders?q=&status=&channel=&from=&to=&nextToken=`: `q` finds an order by
    /// its id or a channel's external id, or leads to the customer page for an address; the
    /// other filters list orders newest first.
    pub(crate) async fn orders(&self, req: &Request, frame: &Frame) -> Page {
        let token = frame.token()?;
        let q = crate::query(req, "q").trim().to_string();
        if q.contains('@') {
            return see_other(
                &format!("/console/customers/{}", enc(&q.to_lowercase())),
                vec![],
            );
        }
        let mut found: Vec<Value> = Vec::new();
        let mut list = json!({"items": []});
        let mut problem = None;
        let channels = self.ids(token, "/admin/channels?limit=200").await?;
        if !q.is_empty() {
            found = self.find_orders(token, &q, &channels).await?;
            if let [one] = found.as_slice() {
                let id = one["orderId"].as_str().unwrap_or_default();
                return see_other(&format!("/console/orders/{}", enc(id)), vec![]);
            }
        } else {
            let filters = [
                ("status", crate::query(req, "status")),
                ("channel", crate::query(req, "channel")),
                ("from", crate::query(req, "from")),
                ("to", crate::query(req, "to")),
                ("nextToken", crate::query(req, "nextToken")),
            ];
            let pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = self
                .api
                .get(token, &format!("/admin/orders{}", query(&pairs)))
                .await?;
            if answer.ok() {
                list = answer.body;
            } else {
                problem = Some(self.problem(frame, &answer));
            }
        }
        let next = list["nextToken"].as_str().map(|t| {
            let mut pairs: Vec<(&str, String)> = ["status", "channel", "from", "to"]
                .iter()
                .map(|k| (*k, crate::query(req, k)))
                .collect();
            pairs.push(("nextToken", t.to_string()));
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            format!("/console/orders{}", query(&pairs))
        });
        let status = if problem.is_some() { 422 } else { 200 };
        self.render(
            frame,
            status,
            "orders.html",
            "orders",
            json!({
                "q": q, "searched": !q.is_empty(), "found": found, "orders": list["items"],
                "next": next, "statuses": ORDER_STATUSES, "channels": channels, "problem": problem,
                "filter": {"status": crate::query(req, "status"), "channel": crate::query(req, "channel"),
                    "from": crate::query(req, "from"), "to": crate::query(req, "to")},
            }),
        )
    }

    /// Orders by their id, or by an external id in any channel (an order's id is derived from
    /// its channel and external id, so each channel is one read).
    async fn find_orders(
        &self,
        token: &str,
        q: &str,
        channels: &[String],
    ) -> Result<Vec<Value>, Fail> {
        use futures::stream::{self, StreamExt};
        let mut ids = Vec::new();
        if dropship_core::ids::is_valid_id(q) && q.starts_with("ord_") {
            ids.push(q.to_string());
        }
        for channel in channels {
            ids.push(OrderId::for_channel_order(channel, q).as_str().to_string());
        }
        // A retailer has a handful of channels; at most 8 reads at a time all the same.
        let answers: Vec<_> = stream::iter(ids)
            .map(|id| async move {
                self.api
                    .get(token, &format!("/admin/orders/{}", enc(&id)))
                    .await
            })
            .buffered(8)
            .collect()
            .await;
        let mut found = Vec::new();
        for answer in answers {
            let answer = answer?;
            if answer.ok() {
                found.push(answer.body);
            }
        }
        Ok(found)
    }

    /// The `id`s of a configuration list (channels, fulfillers): for filters and selects.
    pub(crate) async fn ids(&self, token: &str, path: &str) -> Result<Vec<String>, Fail> {
        let answer = self.api.get(token, path).await?;
        Ok(answer.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str().map(str::to_string))
            .collect())
    }

    /// `GET /console/orders/{orderId}`: the order with lines, money, deliveries, returns,
    /// contacts, invoices and history, and the actions the person's role may use.
    pub(crate) async fn order_page(
        &self,
        frame: &Frame,
        order: &str,
        done: Option<String>,
        refused: Option<(u16, Value)>,
    ) -> Page {
        let token = frame.token()?;
        let path = format!("/admin/orders/{}", enc(order));
        let (answer, fulfillers) = tokio::join!(
            self.api.get(token, &path),
            self.ids(token, "/admin/fulfillers?active=true&limit=200")
        );
        let answer = answer?;
        if answer.status == 404 {
            return Err(Fail::NotFound);
        }
        if !answer.ok() {
            return Err(Fail::Internal(anyhow::anyhow!(
                "the order view answered {}",
                answer.status
            )));
        }
        let can: serde_json::Map<String, Value> = ACTIONS
            .iter()
            .map(|(name, route)| (name.replace('-', "_"), json!(frame.may(route))))
            .chain([
                (
                    "reroute".to_string(),
                    json!(frame.may("POST /admin/delivery-orders/{deliveryOrderId}/reroute")),
                ),
                (
                    "reject".to_string(),
                    json!(frame.may("POST /admin/returns/{returnId}/reject")),
                ),
            ])
            .collect();
        let (status, problem) = match refused {
            Some((status, problem)) => (status, Some(problem)),
            None => (200, None),
        };
        self.render(
            frame,
            status,
            "order.html",
            "orders",
            json!({"order": answer.body, "can": can, "fulfillers": fulfillers?,
                "key": uuid::Uuid::new_v4().to_string(), "problem": problem,
                "done": done}),
        )
    }

    /// `POST /console/orders/{orderId}/{action}`: the action's API operation.
    pub(crate) async fn act_on_order(
        &self,
        frame: &Frame,
        order: &str,
        action: &str,
        form: &Form,
    ) -> Page {
        if !ACTIONS.iter().any(|(name, _)| *name == action) {
            return Err(Fail::NotFound);
        }
        let body = action_body(action, form);
        let path = format!("/admin/orders/{}/{action}", enc(order));
        self.send_and_show(frame, order, Method::POST, &path, &body, form, action)
            .await
    }

    /// `POST /console/delivery-orders/{id}/reroute` (from the order page).
    pub(crate) async fn reroute(&self, frame: &Frame, delivery: &str, form: &Form) -> Page {
        let order = form.get("order").unwrap_or_default().to_string();
        let body = json!({"fulfillerId": form.get("fulfillerId").unwrap_or_default()});
        let path = format!("/admin/delivery-orders/{}/reroute", enc(delivery));
        self.send_and_show(frame, &order, Method::POST, &path, &body, form, "reroute")
            .await
    }

    /// `POST /console/returns/{id}/reject` (from the order page).
    pub(crate) async fn reject_return(&self, frame: &Frame, ret: &str, form: &Form) -> Page {
        let order = form.get("order").unwrap_or_default().to_string();
        let body = json!({"reason": form.get("reason").unwrap_or_default()});
        let path = format!("/admin/returns/{}/reject", enc(ret));
        self.send_and_show(frame, &order, Method::POST, &path, &body, form, "reject")
            .await
    }

    /// Sends a change to the API; on success back to the order page with what was done, else
    /// the order page with the API's reason under the API's status (403 for a role that may
    /// not, 409/422 for the order's state or the input).
    #[allow(clippy::too_many_arguments)]
    async fn send_and_show(
        &self,
        frame: &Frame,
        order: &str,
        method: Method,
        path: &str,
        body: &Value,
        form: &Form,
        action: &str,
    ) -> Page {
        let token = frame.token()?;
        let key = form.get("key").filter(|k| !k.is_empty());
        let answer = self.api.send(token, method, path, body, key).await?;
        if answer.ok() {
            return see_other(
                &format!("/console/orders/{}?done={action}", enc(order)),
                vec![],
            );
        }
        tracing::info!(
            status = answer.status,
            action,
            "console action refused by the API"
        );
        if answer.status == 403 && !dropship_core::ids::is_valid_id(order) {
            return Err(Fail::Forbidden);
        }
        let problem = self.problem(frame, &answer);
        self.order_page(frame, order, None, Some((answer.status, problem)))
            .await
    }

    /// An API refusal as the page's notice: a title for its status, the API's message.
    pub(crate) fn problem(&self, frame: &Frame, answer: &Answer) -> Value {
        let title = match answer.status {
            403 => self.text(frame, "errors.forbidden_title"),
            404 => self.text(frame, "errors.not_found_title"),
            409 => self.text(frame, "errors.conflict_title"),
            _ => self.text(frame, "errors.invalid_title"),
        };
        let message = if answer.status == 403 {
            self.text(frame, "errors.forbidden_text")
        } else {
            answer.message()
        };
        json!({"title": title, "message": message, "field": answer.field(), "status": answer.status})
    }
}

/// The JSON body of an order action from its form's fields. Units per line come as
/// `qty.<lineId>` (empty or 0 leaves the line out); the API checks everything else.
fn action_body(action: &str, form: &Form) -> Value {
    let field = |name: &str| form.get(name).unwrap_or_default().trim().to_string();
    let lines = || -> Vec<Value> {
        form.with_prefix("qty.")
            .filter_map(|(line, v)| {
                let quantity: u32 = v.trim().parse().ok().filter(|q| *q > 0)?;
                let mut l = json!({"lineId": line, "quantity": quantity});
                if action == "returns" && !field("reason").is_empty() {
                    l["reason"] = json!(field("reason"));
                }
                Some(l)
            })
            .collect()
    };
    let mut body = match action {
        "goodwill" => json!({"amount": field("amount"), "reason": field("reason")}),
        "payments-received" => json!({"amount": field("amount"), "reference": field("reference")}),
        "chargebacks" => {
            json!({"paymentReference": field("paymentReference"), "amount": field("amount")})
        }
        "contacts" => {
            json!({"channel": field("channel"), "topic": field("topic"), "note": field("note")})
        }
        "cancel" => {
            let lines = lines();
            if lines.is_empty() {
                json!({})
            } else {
                json!({"lines": lines})
            }
        }
        "returns" => {
            json!({"lines": lines(), "ignoreReturnWindow": form.get("ignoreReturnWindow") == Some("on")})
        }
        "replacements" => json!({"lines": lines(), "reason": field("reason")}),
        _ => json!({}),
    };
    if action == "chargebacks" && !field("reason").is_empty() {
        body["reason"] = json!(field("reason"));
    }
    if action == "replacements" && !field("fulfillerId").is_empty() {
        body["fulfillerId"] = json!(field("fulfillerId"));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn an_action_form_becomes_the_apis_body() {
        assert_eq!(
            action_body(
                "goodwill",
                &form(&[("amount", " 5.00 "), ("reason", "late")])
            ),
            json!({"amount": "5.00", "reason": "late"})
        );
        assert_eq!(
            action_body(
                "returns",
                &form(&[
                    ("qty.L1", "1"),
                    ("qty.L2", ""),
                    ("qty.L3", "0"),
                    ("reason", "too big"),
                    ("ignoreReturnWindow", "on")
                ])
            ),
            json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "too big"}], "ignoreReturnWindow": true})
        );
        assert_eq!(action_body("cancel", &form(&[("qty.L1", "")])), json!({}));
        assert_eq!(
            action_body("cancel", &form(&[("qty.L1", "2")])),
            json!({"lines": [{"lineId": "L1", "quantity": 2}]})
        );
        assert_eq!(
            action_body(
                "contacts",
                &form(&[
                    ("channel", "phone"),
                    ("topic", "damaged"),
                    ("note", "called")
                ])
            ),
            json!({"channel": "phone", "topic": "damaged", "note": "called"})
        );
        assert_eq!(
            action_body(
                "chargebacks",
                &form(&[("paymentReference", "psp-1"), ("amount", "10.00")])
            ),
            json!({"paymentReference": "psp-1", "amount": "10.00"})
        );
    }
}
