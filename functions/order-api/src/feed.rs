//! `GET /orders?updatedSince=&limit=&nextToken=`: the change feed for channels that poll. The
//! channel's orders changed at or after `updatedSince`, oldest change first, each as
//! `GET /orders/{orderId}` shows it plus its `updatedAt`; only changes committed at least five
//! seconds before the request (`dropship_core::change_feed`), so that asking again from the last
//! `updatedAt` seen misses nothing. At least once: an order may come again.

use crate::OrderApi;
use dropship_aws::http::{self, json, query_param, HandlerResult};
use dropship_aws::repo::orders::sort_time;
use dropship_core::change_feed::{parse_updated_since, Window};
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

impl OrderApi {
    pub(crate) async fn changed_orders(&self, req: &Request, channel: &str) -> HandlerResult {
        let since = parse_updated_since(query_param(req, "updatedSince").as_deref())?;
        let limit = http::limit(req)?;
        let next = query_param(req, "nextToken");
        let Some(window) = Window::of(since, chrono::Utc::now()) else {
            // Nothing can be listed from a time within the last five seconds yet; a token
            // cannot name a position in an empty window.
            if next.is_some() {
                return Err(invalid_token().into());
            }
            return json(200, &json!({ "items": [] }));
        };
        let page = self
            .repositories
            .orders
            .changed(channel, &window, limit, next.as_deref())
            .await?
            .ok_or_else(invalid_token)?;
        let mut items = Vec::with_capacity(page.items.len());
        for order in &page.items {
            let mut view = self.channel_view(order).await?;
            view["updatedAt"] = json!(order.updated_at.map(sort_time));
            items.push(view);
        }
        let mut body = json!({ "items": items });
        if let Some(t) = page.next_token {
            body["nextToken"] = json!(t);
        }
        json(200, &body)
    }
}

fn invalid_token() -> ApiError {
    ApiError::invalid(
        "nextToken",
        "nextToken is not valid (it continues only the poll, with the same updatedSince, that gave it)",
    )
}
