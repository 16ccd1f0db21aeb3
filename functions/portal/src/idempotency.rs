//! A posted form's change runs at most once, through an idempotency store on the same table as the
//! fulfiller API's (under the portal's own scopes).

use crate::forms::Form;
use crate::Portal;
use chrono::Utc;
use dropship_aws::http::HandlerError;
use dropship_aws::http_idempotency::StoredResponse;
use lambda_http::{Request, RequestExt};
use std::future::Future;

/// When the invocation's deadline is unknown, how long a change may stay in progress.
const FALLBACK_DEADLINE_MS: i64 = 15_000;

impl Portal {
    /// Runs a change once per rendered form (`formId` is the idempotency key, as the API's
    /// `Idempotency-Key`): a double click or a resent form does not ship twice.
    pub(crate) async fn once<F, Fut>(
        &self,
        req: &Request,
        scope: &str,
        form: &Form,
        work: F,
    ) -> Result<StoredResponse, HandlerError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<StoredResponse, HandlerError>>,
    {
        match form
            .get("formId")
            .filter(|k| dropship_aws::http_idempotency::check_key(k).is_ok())
        {
            Some(key) => {
                let deadline_ms = req
                    .lambda_context_ref()
                    .map(|c| c.deadline as i64)
                    .filter(|d| *d > 0)
                    .unwrap_or_else(|| Utc::now().timestamp_millis() + FALLBACK_DEADLINE_MS);
                let body: &[u8] = req.body().as_ref();
                self.idempotency
                    .run(scope, key, body, deadline_ms, work)
                    .await
            }
            None => work().await,
        }
    }
}
