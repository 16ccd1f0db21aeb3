//! Customer service acting for the customer: cancel an order and authorize a return under the
//! channel's rules (the same use cases, `dropship_app::orders`; a return may ignore the return
//! window), reject an authorized return, record a contact with the customer, and the customer's
//! page found by their mail address. Separate because these are the only admin routes that act
//! in the customer's name; every history entry names the staff member.

use crate::AdminApi;
use dropship_app::orders::{self, Acting, AuthorizeReturn, CancelOrder, RejectReturn};
use dropship_aws::http::{self, json, json_body, path_param, HandlerError, HandlerResult};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_core::service::{self, Contact, CustomerPages, CustomerRecords};
use dropship_core::ApiError;
use futures::{StreamExt, TryStreamExt};
use lambda_http::Request;
use serde_json::json;

/// The most orders a customer page reads (its newest).
const MAX_CUSTOMER_ORDERS: usize = 1000;

impl AdminApi {
    /// `POST /admin/orders/{orderId}/cancel`: the channel's cancellation, for any order; no body
    /// (or `{}`) cancels everything not shipped. At most once per idempotency key.
    pub(crate) async fn cancel_for_customer(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let raw: &[u8] = req.body().as_ref();
        let body = if raw.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(json_body(req)?)
        };
        let command = CancelOrder {
            by: Acting::Staff(admin.to_string()),
            order: id.clone(),
            request: body,
        };
        let work = || self.cancel(&command);
        let scope = format!("POST /admin/orders/{id}/cancel#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    async fn cancel(&self, command: &CancelOrder) -> Result<StoredResponse, HandlerError> {
        let store = self.repositories.store();
        let (order, deliveries) = orders::cancel_order(&store, &self.catalogue, command).await?;
        Ok(StoredResponse {
            status: 200,
            body: dropship_core::views::admin_order(&order, &deliveries),
        })
    }

    /// `POST /admin/orders/{orderId}/returns`: the channel's return authorization, for any
    /// order; `ignoreReturnWindow: true` lets staff take back units shipped before the window.
    pub(crate) async fn return_for_customer(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let command = AuthorizeReturn {
            by: Acting::Staff(admin.to_string()),
            order: id.clone(),
            request: json_body(req)?,
        };
        let work = || self.authorize_return(&command);
        let scope = format!("POST /admin/orders/{id}/returns#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    async fn authorize_return(
        &self,
        command: &AuthorizeReturn,
    ) -> Result<StoredResponse, HandlerError> {
        let store = self.repositories.store();
        let return_id = orders::authorize_return(&store, &self.catalogue, command).await?;
        Ok(StoredResponse {
            status: 201,
            body: json!({"id": return_id, "returnId": return_id, "status": "authorized"}),
        })
    }

    /// `POST /admin/returns/{returnId}/reject` `{reason}`: only while the return is authorized.
    pub(crate) async fn reject_return(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "returnId")?;
        let command = RejectReturn {
            admin: admin.to_string(),
            return_id: id.clone(),
            request: json_body(req)?,
        };
        let work = || self.reject(&command);
        let scope = format!("POST /admin/returns/{id}/reject#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    async fn reject(&self, command: &RejectReturn) -> Result<StoredResponse, HandlerError> {
        let store = self.repositories.store();
        let parts = orders::reject_return(&store, command).await?;
        let mut view = dropship_core::returns::channel_view(&parts);
        if let Some(first) = parts.first() {
            view["orderId"] = json!(first.order_id);
            view["rejection"] = json!(first.rejection);
        }
        Ok(StoredResponse {
            status: 200,
            body: view,
        })
    }

    /// `POST /admin/orders/{orderId}/contacts` `{channel, topic, note}` -> 201 `{id}`.
    pub(crate) async fn add_contact(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let body = json_body(req)?;
        let work = || self.record_contact(&id, &body, admin);
        let scope = format!("POST /admin/orders/{id}/contacts#admin");
        self.idempotency.respond(req, &scope, work).await
    }

    async fn record_contact(
        &self,
        id: &str,
        body: &serde_json::Value,
        admin: &str,
    ) -> Result<StoredResponse, HandlerError> {
        if !dropship_core::ids::is_valid_id(id) {
            return Err(ApiError::not_found("order").into());
        }
        let order = self
            .repositories
            .orders
            .get(id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let request = service::parse_contact(body)?;
        let contact = Contact {
            id: service::new_contact_id(uuid::Uuid::now_v7().simple()),
            order_id: order.id.clone(),
            at: chrono::Utc::now(),
            by: admin.to_string(),
            channel: request.channel,
            topic: request.topic,
            note: request.note,
        };
        self.repositories
            .orders
            .add_contact(&order, &contact)
            .await?;
        tracing::info!(order_id = %order.id, contact_id = %contact.id, by = %contact.by, "customer contact recorded");
        Ok(StoredResponse {
            status: 201,
            body: json!({"id": contact.id}),
        })
    }

    /// `GET /admin/customers/{email}`: the customer's orders, returns, refunds, goodwill and
    /// contacts, each newest first (`<list>NextToken` pages one list). Staff see every customer;
    /// one without orders is a 404.
    pub(crate) async fn customer(&self, req: &Request) -> HandlerResult {
        // The address arrives percent-encoded (`%40` for `@`); matched in lower case.
        let email = service::customer_key(&crate::percent_decode(&path_param(req, "email")?));
        if !service::is_customer_key(&email) {
            return Err(ApiError::not_found("customer").into());
        }
        let pages = CustomerPages::parse(|name| http::query_param(req, name))?;
        // A customer page reads at most the newest MAX_CUSTOMER_ORDERS orders (a buyer with
        // thousands of orders would not fit in a Lambda's answer time); `truncated` says so.
        let (orders, truncated) = self
            .repositories
            .orders
            .of_customer(&email, MAX_CUSTOMER_ORDERS)
            .await?;
        if orders.is_empty() {
            return Err(ApiError::not_found("customer").into());
        }
        // The returns' parts, 16 reads at a time (a customer may have hundreds).
        let return_ids: Vec<String> = orders
            .iter()
            .flat_map(|o| o.return_ids.iter().cloned())
            .collect();
        let returns: Vec<_> = futures::stream::iter(return_ids)
            .map(|return_id| async move { self.returns.parts(&return_id).await })
            .buffered(16)
            .try_collect()
            .await?;
        let mut contacts = self
            .repositories
            .orders
            .contacts_of_customer(&email)
            .await?;
        if truncated {
            // The view covers the orders it shows: contacts about older ones are left out.
            let shown: std::collections::HashSet<&str> =
                orders.iter().map(|o| o.id.as_str()).collect();
            contacts.retain(|c| shown.contains(c.order_id.as_str()));
        }
        let records = CustomerRecords {
            orders: &orders,
            returns: &returns,
            contacts: &contacts,
        };
        let mut view = service::customer_view(&email, &records, &pages);
        if truncated {
            view["truncated"] = serde_json::json!(true);
        }
        json(200, &view)
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::call;
    use serde_json::json;

    /// The sample event as `route` with these path and query parameters.
    async fn request(
        route: &str,
        path: &str,
        params: serde_json::Value,
        query: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        call(|v| {
            let method = route.split(' ').next().unwrap_or_default();
            v["routeKey"] = json!(route);
            v["requestContext"]["routeKey"] = json!(route);
            v["requestContext"]["http"]["method"] = json!(method);
            v["rawPath"] = json!(path);
            v["requestContext"]["http"]["path"] = json!(path);
            v["pathParameters"] = params;
            let raw: Vec<String> = query
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            v["rawQueryString"] = json!(raw.join("&"));
            v["queryStringParameters"] = query;
        })
        .await
    }

    #[tokio::test]
    async fn a_customer_is_an_address_and_a_page_token_is_ours_before_anything_is_read() {
        let route = "GET /admin/customers/{email}";
        let (status, body) = request(
            route,
            "/admin/customers/nobody",
            json!({"email": "nobody"}),
            json!({}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
        let (status, body) = request(
            route,
            "/admin/customers/Carla%40Example.com",
            json!({"email": "Carla%40Example.com"}),
            json!({"contactsNextToken": "garbage"}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("contactsNextToken")),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_return_that_cannot_exist_is_not_found() {
        let (status, body) = request(
            "POST /admin/returns/{returnId}/reject",
            "/admin/returns/bad%20id/reject",
            json!({"returnId": "bad id"}),
            json!({}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
    }
}
