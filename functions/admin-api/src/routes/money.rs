//! Money an admin records on an order: goodwill (a refund the customer did not ask for),
//! invoice money received and chargebacks. Each is one entry in the order's ledger, at most
//! once per idempotency key; separate because it is the only place an admin moves money.

use crate::AdminApi;
use chrono::Utc;
use dropship_aws::http::{self, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

/// A money movement an admin records on an order.
pub(crate) enum MoneyAction {
    Goodwill,
    PaymentReceived,
    Chargeback,
}

impl AdminApi {
    /// `POST /admin/orders/{orderId}/goodwill`, `.../payments-received` and `.../chargebacks`:
    /// a repeated request with the same idempotency key gets the first answer.
    pub(crate) async fn record_money(
        &self,
        req: &Request,
        action: MoneyAction,
        admin: &str,
    ) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let body = json_body(req)?;
        let route = http::route_key(req);
        let work = || self.move_money(&id, &body, &action, admin);
        let scope = format!("{}#admin", route.replace("{orderId}", &id));
        self.idempotency.respond(req, &scope, work).await
    }

    /// Goodwill, invoice money received or a chargeback: one ledger entry on the order,
    /// conditional on the order's version (retried when someone else changed it).
    async fn move_money(
        &self,
        id: &str,
        body: &serde_json::Value,
        action: &MoneyAction,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        use dropship_aws::repo::changes::{self, Change, Outcome};
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        let policy = self.catalogue.get_refund_policy().await?;
        let who = format!("admin:{admin}");
        let entry_id = format!("led_{}", uuid::Uuid::now_v7().simple());
        for attempt in 1..=5 {
            let mut order = self
                .orders
                .get(id)
                .await?
                .ok_or_else(|| ApiError::not_found("order"))?;
            let now = Utc::now();
            let (status, record, what, event) = match action {
                MoneyAction::Goodwill => {
                    let r = dropship_core::refund::goodwill(
                        &mut order,
                        body,
                        policy.allocation,
                        entry_id.replace("led_", "ref_"),
                        now,
                    )?;
                    let what = format!("goodwill {} {}: {}", r.amount, order.currency, r.reason);
                    let event = BusinessEvent::RefundIssued {
                        order_id: order.id.clone(),
                        refund_id: r.id.clone(),
                    };
                    (201, json!(r), what, Some((event, r)))
                }
                MoneyAction::PaymentReceived => {
                    let e = dropship_core::ledger::receive_payment(
                        &mut order,
                        body,
                        entry_id.clone(),
                        now,
                    )?;
                    let what = format!("received {} {} on the invoice", e.amount, order.currency);
                    (201, json!(e), what, None)
                }
                MoneyAction::Chargeback => {
                    let e = dropship_core::ledger::charge_back(
                        &mut order,
                        body,
                        entry_id.clone(),
                        now,
                    )?;
                    let what = format!("chargeback {} {}", e.amount, order.currency);
                    (201, json!(e), what, None)
                }
            };
            order.record(now, who.clone(), what);
            let change = Change {
                order: Some(&order),
                ..Change::default()
            };
            match changes::commit(&self.dynamodb, &self.tables, change).await? {
                Outcome::Committed => {
                    if let MoneyAction::Chargeback = action {
                        // Customer service looks into every chargeback.
                        self.alerts
                            .open(
                                "chargeback",
                                &format!("{}#{entry_id}", order.id),
                                &format!("chargeback on order {}", order.id),
                                now,
                            )
                            .await?;
                    }
                    if let Some((event, refund)) = event {
                        dropship_aws::metrics::refunds_issued(refund.amount, &order.currency);
                        self.events_queue.send(&event).await?;
                        self.documents_queue
                            .send(&GenerateDocuments::Refund {
                                order_id: order.id.clone(),
                                refund_id: refund.id.clone(),
                            })
                            .await?;
                    }
                    tracing::info!(order_id = %order.id, by = %admin, "money movement recorded");
                    return Ok(StoredResponse {
                        status,
                        body: json!({"id": record["id"], "entry": record, "totals": order.totals}),
                    });
                }
                other => {
                    tracing::warn!(attempt, outcome = ?other, "order changed while recording money; trying again")
                }
            }
        }
        Err(ApiError::conflict(
            dropship_core::ErrorCode::ConcurrentModification,
            "the order kept changing; please retry",
        )
        .into())
    }
}
