//! A customer: their orders, returns, refunds, goodwill and contacts across channels, by mail
//! address (the API's customer view).

use crate::api::enc;
use crate::render::{Fail, Page};
use crate::session::Frame;
use crate::Console;
use serde_json::json;

impl Console {
    /// `GET /console/customers/{email}`
    pub(crate) async fn customer(&self, frame: &Frame, email: &str) -> Page {
        let token = frame.token()?;
        let answer = self
            .api
            .get(token, &format!("/admin/customers/{}", enc(email)))
            .await?;
        match answer.status {
            200 => self.render(
                frame,
                200,
                "customer.html",
                "orders",
                json!({"customer": answer.body}),
            ),
            404 | 422 => Err(Fail::NotFound),
            s => Err(Fail::Internal(anyhow::anyhow!(
                "the customer view answered {s}"
            ))),
        }
    }
}
