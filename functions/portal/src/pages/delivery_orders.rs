//! Delivery orders: the list by status, one order's page with its documents, and the changes a
//! fulfiller makes there (accept, reject, ship), each through the use case the fulfiller API calls
//! (`dropship_app::fulfilment`).

use crate::explain::{handler_fail, line_index, Problem};
use crate::forms::{self, Form};
use crate::pagination::{read_all, PAGE_SIZE};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::{path, query, security, view, Portal};
use chrono::Utc;
use dropship_app::fulfilment::{self, answers, ActOnDeliveryOrder, DeliveryOrderAction as Action};
use dropship_aws::http::HandlerError;
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus};
use dropship_core::ids::FulfillerId;
use lambda_http::Request;
use serde_json::{json, Value};

/// Rows per page of a list by status (the list of active orders shows them all).
const LIST_PAGE_SIZE: i32 = 50;

/// The status tabs after "active", as the query's `status` names them.
const STATUS_TABS: [&str; 6] = [
    "open",
    "accepted",
    "partially_shipped",
    "shipped",
    "rejected",
    "cancelled",
];

/// How a delivery order's page is shown: as asked for, or after a refused change with its
/// reason and the values the form sent, to put back into the form.
struct Shown {
    status: u16,
    done: Option<String>,
    problem: Option<Problem>,
    sent: Value,
}

impl Shown {
    fn refused(status: u16, problem: Problem, sent: Value) -> Self {
        Shown {
            status,
            done: None,
            problem: Some(problem),
            sent,
        }
    }
}

fn status_code(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Open => "open",
        DeliveryStatus::Accepted => "accepted",
        DeliveryStatus::PartiallyShipped => "partially_shipped",
        DeliveryStatus::Shipped => "shipped",
        DeliveryStatus::Rejected => "rejected",
        DeliveryStatus::Cancelled => "cancelled",
    }
}

impl Portal {
    /// Every delivery order of the fulfiller that still has something to ship.
    pub(crate) async fn active(
        &self,
        fulfiller: &FulfillerId,
    ) -> anyhow::Result<Vec<DeliveryOrder>> {
        let (all, more) = read_all(|next| async move {
            self.repositories
                .delivery_orders
                .list_by_fulfiller(fulfiller, None, PAGE_SIZE, next.as_deref())
                .await
        })
        .await?;
        if more {
            tracing::warn!(fulfiller_id = %fulfiller, "more delivery orders than the portal reads at once: the newest are not shown");
        }
        Ok(all.into_iter().filter(DeliveryOrder::is_active).collect())
    }

    /// `GET /portal/delivery-orders`: the active ones by due time, or one status page by page.
    pub(crate) async fn delivery_orders(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &FulfillerId,
    ) -> Page {
        let clock = frame.clock();
        let status = query(req, "status").and_then(|s| DeliveryStatus::parse(&s));
        let (rows, next) = match status {
            None => {
                let mut active = self.active(fulfiller).await?;
                active.sort_by_key(|d| d.due_at);
                let rows: Vec<Value> = active
                    .iter()
                    .map(|d| view::delivery_row(d, &clock, &self.texts))
                    .collect();
                (rows, None)
            }
            Some(st) => {
                let next = query(req, "nextToken");
                let page = self
                    .repositories
                    .delivery_orders
                    .list_by_fulfiller(fulfiller, Some(st), LIST_PAGE_SIZE, next.as_deref())
                    .await?
                    .ok_or(Fail::NotFound)?;
                let rows = page
                    .items
                    .iter()
                    .map(|d| view::delivery_row(d, &clock, &self.texts))
                    .collect();
                let code = status_code(st);
                let next = page.next_token.map(|t| {
                    format!(
                        "/portal/delivery-orders?status={code}&nextToken={}",
                        form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
                    )
                });
                (rows, next)
            }
        };
        let current = status.map(status_code).unwrap_or("");
        let mut tabs = vec![
            json!({"href": "/portal/delivery-orders", "label": self.text(frame, "delivery.tab_active"), "current": current.is_empty()}),
        ];
        for st in STATUS_TABS {
            tabs.push(
                json!({"href": format!("/portal/delivery-orders?status={st}"),
                "label": self.text(frame, &format!("status.{st}")), "current": current == st}),
            );
        }
        self.render(
            frame,
            200,
            "delivery_orders.html",
            "delivery_orders",
            None,
            json!({"tabs": tabs, "due": rows, "next": next}),
        )
    }

    /// `GET /portal/delivery-orders/{id}`, with what was just done.
    pub(crate) async fn delivery_order_page(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &FulfillerId,
    ) -> Page {
        let id = path(req, "id")?;
        let done = query(req, "done")
            .filter(|d| matches!(d.as_str(), "accepted" | "shipped" | "rejected"));
        let shown = Shown {
            status: 200,
            done,
            problem: None,
            sent: json!({}),
        };
        self.delivery_order(frame, fulfiller, &id, shown).await
    }

    /// A delivery order's page, optionally with a failed change's reason and the values sent.
    async fn delivery_order(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        id: &str,
        shown: Shown,
    ) -> Page {
        let Shown {
            status,
            done,
            problem,
            sent,
        } = shown;
        let d =
            match fulfilment::own_delivery_order(&self.repositories.store(), fulfiller, id).await {
                Ok(d) => d,
                Err(e) => return Err(handler_fail(e)),
            };
        // The same /documents/{linkId} links the fulfiller API lists.
        let documents: Vec<Value> = answers::document_links(&self.public_base_url, &d, Utc::now())
            .into_iter()
            .map(|mut doc| {
                let kind = doc["kind"].as_str().unwrap_or_default().to_string();
                doc["label"] = json!(self.text(frame, &format!("docs.{kind}")));
                doc
            })
            .collect();
        let can_reject = matches!(d.status, DeliveryStatus::Open | DeliveryStatus::Accepted)
            && d.lines.iter().all(|l| l.shipped == 0);
        self.render(
            frame,
            status,
            "delivery_order.html",
            "delivery_orders",
            done.map(|d| self.text(frame, &format!("done.{d}"))),
            json!({
                "d": view::delivery_detail(&d, &frame.clock(), &self.texts),
                "documents": documents,
                "can_accept": d.status == DeliveryStatus::Open,
                "can_ship": d.is_active(),
                "can_reject": can_reject,
                "form_id": security::nonce(),
                "form": sent,
                "error": problem.map(|p| json!({"field": p.field, "message": p.message})),
            }),
        )
    }

    /// `POST /portal/delivery-orders/{id}/accept`, `.../reject` and `.../shipments`: accept,
    /// reject or ship through the same use case as the fulfiller API, at most once per form.
    pub(crate) async fn act(
        &self,
        req: &Request,
        key: &str,
        frame: &Frame,
        fulfiller: &FulfillerId,
        form: &Form,
    ) -> Page {
        let id = path(req, "id")?;
        let id = id.as_str();
        // For a shipment, the units per line as the form sent them (blank is 0), in line order.
        let mut line_of_index: Vec<String> = Vec::new();
        let (action, done, sent) = if key.ends_with("/accept") {
            (Action::Accept, "accepted", json!({}))
        } else if key.ends_with("/reject") {
            let reason = form.get("reason").unwrap_or_default();
            (
                Action::Reject(json!({"reason": reason})),
                "rejected",
                json!({"reason": reason}),
            )
        } else {
            let carrier = form.get("carrier").unwrap_or_default().trim();
            let tracking = form.get("trackingNumber").unwrap_or_default().trim();
            let mut lines = Vec::new();
            let mut qty = serde_json::Map::new();
            for (line_id, raw) in form.with_prefix("qty:") {
                qty.insert(line_id.to_string(), json!(raw));
                match forms::count(raw) {
                    Some(0) => {}
                    Some(n) => {
                        line_of_index.push(line_id.to_string());
                        lines.push(json!({"lineId": line_id, "quantity": n}));
                    }
                    None => {
                        let sent =
                            json!({"carrier": carrier, "trackingNumber": tracking, "qty": qty});
                        let problem = Problem {
                            field: Some(format!("qty:{line_id}")),
                            message: self.text(frame, "errors.whole_number"),
                        };
                        return self
                            .delivery_order(
                                frame,
                                fulfiller,
                                id,
                                Shown::refused(422, problem, sent),
                            )
                            .await;
                    }
                }
            }
            let sent = json!({"carrier": carrier, "trackingNumber": tracking, "qty": qty});
            (
                Action::Ship(
                    json!({"carrier": carrier, "trackingNumber": tracking, "lines": lines}),
                ),
                "shipped",
                sent,
            )
        };
        let scope = format!("portal:{}#fulfiller:{fulfiller}", key.replace("{id}", id));
        let command = ActOnDeliveryOrder {
            fulfiller: fulfiller.clone(),
            delivery_order: id.to_string(),
            action,
        };
        let store = self.repositories.store();
        let outcome = self
            .once(req, &scope, form, || answers::act(&store, &command))
            .await;
        match outcome {
            Ok(_) => {
                tracing::info!(fulfiller_id = %fulfiller, delivery_order_id = %id, done, "changed in the portal");
                see_other(&format!("/portal/delivery-orders/{id}?done={done}"), vec![])
            }
            Err(HandlerError::Api(e)) if e.status == 404 => Err(Fail::NotFound),
            Err(HandlerError::Api(e)) => {
                let problem = self.explain(frame, &e, |field| {
                    // lines[i].quantity is about the i-th line the form shipped.
                    line_of_index
                        .get(line_index(field)?)
                        .map(|l| format!("qty:{l}"))
                });
                let shown = Shown::refused(e.status, problem, sent);
                self.delivery_order(frame, fulfiller, id, shown).await
            }
            Err(HandlerError::Internal(e)) => Err(Fail::Internal(e)),
        }
    }
}
