//! The order list (filtered by status, channel and ordering day in the retailer's time zone)
//! and the full view of one order: its delivery orders, replacements and returns with who takes
//! back what, and customer service's contacts about it. Separate because these routes only read.

use crate::AdminApi;
use dropship_aws::http::{self, json, path_param, HandlerResult};
use dropship_aws::repo::orders::OrderFilter;
use dropship_core::catalogue::day_bounds;
use dropship_core::order::OrderStatus;
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

impl AdminApi {
    /// `GET /admin/orders?status=&channel=&from=&to=&limit=&nextToken=`
    pub(crate) async fn list_orders(&self, req: &Request) -> HandlerResult {
        use dropship_aws::http::query_param;
        let status = match query_param(req, "status") {
            None => None,
            Some(st) => {
                serde_json::from_value::<OrderStatus>(json!(st)).map_err(|_| {
                    ApiError::invalid(
                        "status",
                        "status must be accepted, routed, backordered, partially_shipped, shipped or cancelled",
                    )
                })?;
                Some(st)
            }
        };
        let channel_id = query_param(req, "channel");
        if let Some(c) = &channel_id {
            dropship_core::ids::check_id("channel", c)?;
        }
        let date = |name: &str| -> Result<Option<chrono::NaiveDate>, ApiError> {
            query_param(req, name)
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD"))
                    })
                })
                .transpose()
        };
        let (from, to) = (date("from")?, date("to")?);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(ApiError::invalid("to", "to is before from").into());
            }
        }
        let time_zone = self
            .catalogue
            .get_branding()
            .await?
            .map(|b| b.time_zone)
            .unwrap_or_else(|| "Europe/Berlin".into());
        let (from, to) = day_bounds(from, to, &time_zone);
        let filter = OrderFilter {
            status,
            channel_id,
            from,
            to,
        };
        let next = query_param(req, "nextToken");
        let (orders, next_token) = self
            .repositories
            .orders
            .list(&filter, http::limit(req)?, next.as_deref())
            .await?
            .ok_or_else(|| ApiError::invalid("nextToken", "nextToken is not valid"))?;
        let items: Vec<_> = orders
            .iter()
            .map(|o| {
                json!({"id": o.id, "orderId": o.id, "externalId": o.external_id, "channelId": o.channel_id,
                    "status": o.status, "currency": o.currency, "total": o.totals.total,
                    "customer": {"name": o.customer.name, "email": o.customer.email},
                    "orderedAt": o.ordered_at, "createdAt": o.created_at})
            })
            .collect();
        let mut body = json!({ "items": items });
        if let Some(t) = next_token {
            body["nextToken"] = json!(t);
        }
        json(200, &body)
    }

    /// `GET /admin/orders/{orderId}`: everything staff may see of an order.
    pub(crate) async fn order(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "orderId")?;
        let order = self
            .repositories
            .orders
            .get(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let deliveries = self
            .repositories
            .delivery_orders
            .get_many(&order.delivery_order_ids)
            .await?;
        let mut all = order.delivery_order_ids.clone();
        all.extend(
            order
                .replacements
                .iter()
                .map(|r| r.delivery_order_id.clone()),
        );
        let deliveries = if all.len() == deliveries.len() {
            deliveries
        } else {
            self.repositories.delivery_orders.get_many(&all).await?
        };
        let mut view = dropship_core::views::admin_order(&order, &deliveries);
        let mut returns = Vec::new();
        for r in &order.return_ids {
            let parts = self.returns.parts(r).await?;
            let mut v = dropship_core::returns::channel_view(&parts);
            // Staff see who takes back what.
            v["parts"] = json!(parts);
            returns.push(v);
        }
        view["returns"] = json!(returns);
        // Customer service's contacts with the customer about this order, oldest first.
        let contacts = self.repositories.orders.contacts(order.id.as_str()).await?;
        view["contacts"] = json!(contacts.iter().map(|c| c.view()).collect::<Vec<_>>());
        view["invoices"] = json!(self.invoices_of(&order, &deliveries).await?);
        json(200, &view)
    }

    /// `invoices` of the order view: every invoice-like document of the order, oldest first,
    /// `url` the fulfiller's document link where one gives it (the invoice in force of a
    /// delivery order, valid 7 days), else a presigned link to the stored PDF (a superseded
    /// invoice, a credit document; valid 15 minutes).
    async fn invoices_of(
        &self,
        order: &dropship_core::order::Order,
        deliveries: &[dropship_core::delivery::DeliveryOrder],
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        use super::invoices::{listed, purposes, Link};
        let records = self.invoices.get_many(purposes(order, deliveries)).await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let time_zone = self.catalogue.time_zone().await?;
        let mut out = Vec::with_capacity(records.len());
        let now = chrono::Utc::now();
        for l in listed(
            records,
            order,
            deliveries,
            time_zone.name(),
            &self.public_base_url,
            now,
        ) {
            let url = match l.link {
                Link::Document(url) => url,
                Link::Stored(key) => self.documents.presign_get(&key).await?,
            };
            let mut view = l.view;
            view["url"] = json!(url);
            out.push(view);
        }
        Ok(out)
    }
}
