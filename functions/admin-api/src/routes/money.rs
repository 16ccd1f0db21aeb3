//! Money an admin records on an order: goodwill (a refund the customer did not ask for),
//! invoice money received and chargebacks. Each is one entry in the order's ledger, at most
//! once per idempotency key (the use case is `dropship_app::money`); separate because it is
//! the only place an admin moves money.

use crate::AdminApi;
use dropship_app::money::{self, MoneyRecorded, RecordMoney};
use dropship_aws::http::{self, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use lambda_http::Request;
use serde_json::json;

/// A money movement an admin records on an order.
pub(crate) use dropship_app::money::MoneyMovement as MoneyAction;

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

    /// Goodwill, invoice money received or a chargeback (`dropship_app::money`).
    async fn move_money(
        &self,
        id: &str,
        body: &serde_json::Value,
        action: &MoneyAction,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        let command = RecordMoney {
            admin: admin.to_string(),
            order: id.to_string(),
            movement: *action,
            entry: body.clone(),
        };
        let recorded =
            money::record_money(&self.repositories.store(), &self.catalogue, &command).await?;
        let MoneyRecorded { entry, order } = recorded;
        Ok(StoredResponse {
            status: 201,
            body: json!({"id": entry["id"], "entry": entry, "totals": order.totals}),
        })
    }
}
