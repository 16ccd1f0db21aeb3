//! Returns: the return parts waiting for the fulfiller, and receiving one through the use case
//! the fulfiller API calls (per line, how many units arrived resellable and how many damaged).

use crate::explain::{line_index, Problem};
use crate::forms::{self, Form};
use crate::pagination::{read_all, PAGE_SIZE};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::{path, query, security, view, Portal};
use dropship_app::fulfilment::{answers, ReceiveReturn};
use dropship_aws::http::HandlerError;
use dropship_core::ids::FulfillerId;
use dropship_core::returns::ReturnStatus;
use lambda_http::Request;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Counts sent per return line: (resellable, damaged), as typed.
type Sent = BTreeMap<String, (String, String)>;

/// A refused receipt: which return, why, and the counts sent back into its form.
struct ReceiptProblem {
    return_id: String,
    problem: Problem,
    sent: Sent,
}

impl Portal {
    /// `GET /portal/returns`, with what was just done.
    pub(crate) async fn returns(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &FulfillerId,
    ) -> Page {
        let done = query(req, "done").filter(|d| d == "received");
        self.returns_page(frame, fulfiller, 200, done, None).await
    }

    async fn returns_page(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        status: u16,
        done: Option<String>,
        problem: Option<ReceiptProblem>,
    ) -> Page {
        let (waiting, more) = read_all(|next| async move {
            self.repositories
                .returns()?
                .of_fulfiller(
                    fulfiller,
                    Some(ReturnStatus::Authorized),
                    PAGE_SIZE,
                    next.as_deref(),
                )
                .await
        })
        .await?;
        if more {
            tracing::warn!(fulfiller_id = %fulfiller, "more waiting returns than the portal reads at once: the newest are not shown");
        }
        let clock = frame.clock();
        let cards: Vec<Value> = waiting
            .iter()
            .map(|part| match &problem {
                Some(ReceiptProblem {
                    return_id,
                    problem: p,
                    sent,
                }) if *return_id == part.return_id => {
                    let mut card = view::return_card(part, &clock, &self.texts, Some(sent));
                    card["error"] = json!(p.message);
                    for l in card["lines"].as_array_mut().into_iter().flatten() {
                        if p.field.is_some() && l["line_id"].as_str() == p.field.as_deref() {
                            l["invalid"] = json!(true);
                        }
                    }
                    card
                }
                _ => view::return_card(part, &clock, &self.texts, None),
            })
            .collect();
        self.render(
            frame,
            status,
            "returns.html",
            "returns",
            done.map(|d| self.text(frame, &format!("done.{d}"))),
            json!({"waiting": cards, "form_id": security::nonce()}),
        )
    }

    /// `POST /portal/returns/{returnId}/receive`: receives a return part through the use case
    /// the fulfiller API calls, at most once per form.
    pub(crate) async fn receive(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &FulfillerId,
        form: &Form,
    ) -> Page {
        let return_id = path(req, "returnId")?;
        let return_id = return_id.as_str();
        let mut sent: Sent = BTreeMap::new();
        for (line, raw) in form.with_prefix("good:") {
            sent.entry(line.to_string()).or_default().0 = raw.to_string();
        }
        for (line, raw) in form.with_prefix("bad:") {
            sent.entry(line.to_string()).or_default().1 = raw.to_string();
        }
        let mut lines = Vec::new();
        let mut line_of_index = Vec::new();
        for (line, (good, bad)) in &sent {
            for (raw, condition) in [(good, "resellable"), (bad, "damaged")] {
                let Some(n) = forms::count(raw) else {
                    let p = Problem {
                        field: Some(line.clone()),
                        message: self.text(frame, "errors.whole_number"),
                    };
                    let problem = Some(ReceiptProblem {
                        return_id: return_id.to_string(),
                        problem: p,
                        sent: sent.clone(),
                    });
                    return self
                        .returns_page(frame, fulfiller, 422, None, problem)
                        .await;
                };
                line_of_index.push(line.clone());
                lines.push(json!({"lineId": line, "quantity": n, "condition": condition}));
            }
        }
        let command = ReceiveReturn {
            fulfiller: fulfiller.clone(),
            return_id: return_id.to_string(),
            receipt: json!({ "lines": lines }),
        };
        let scope =
            format!("portal:POST /portal/returns/{return_id}/receive#fulfiller:{fulfiller}");
        let (store, queues) = (self.repositories.store(), self.repositories.queues());
        match self
            .once(req, &scope, form, || {
                answers::receive(&store, &queues, &command)
            })
            .await
        {
            Ok(_) => {
                tracing::info!(fulfiller_id = %fulfiller, return_id, "return received in the portal");
                see_other("/portal/returns?done=received", vec![])
            }
            Err(HandlerError::Api(e)) if e.status == 404 => Err(Fail::NotFound),
            Err(HandlerError::Api(e)) => {
                let p = self.explain(frame, &e, |field| {
                    line_of_index.get(line_index(field)?).cloned()
                });
                let problem = Some(ReceiptProblem {
                    return_id: return_id.to_string(),
                    problem: p,
                    sent,
                });
                self.returns_page(frame, fulfiller, e.status, None, problem)
                    .await
            }
            Err(HandlerError::Internal(e)) => Err(Fail::Internal(e)),
        }
    }
}
