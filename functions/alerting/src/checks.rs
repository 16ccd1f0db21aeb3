//! What the alerting run reads (through keys and indexes only) and the pure decisions it takes.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use dropship_aws::repo::alerts::{Alert, Step};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::{sort_time, Orders};
use dropship_aws::repo::stock::{Stock, StockLevel};
use dropship_aws::repo::{query_all_whole, s};
use dropship_core::catalogue::{Fulfiller, Product};
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus};
use dropship_core::ids::Sku;
use dropship_core::messages::BusinessEvent;
use dropship_core::order::{Order, OrderLine, OrderStatus};
use std::collections::BTreeMap;

/// The queue's name, the last segment of its URL.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The tables the run reads.
pub struct Sources {
    pub client: aws_sdk_dynamodb::Client,
    pub catalogue_table: String,
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub stock_table: String,
}

impl Sources {
    fn delivery_orders_repo(&self) -> DeliveryOrders {
        DeliveryOrders::new(self.client.clone(), self.delivery_orders_table.clone())
    }

    /// Delivery orders nothing of which has shipped yet (open or accepted), from the byStatus
    /// index: the working set of unshipped deliveries, not the whole history.
    pub async fn unshipped_delivery_orders(&self) -> anyhow::Result<Vec<DeliveryOrder>> {
        let mut out = Vec::new();
        for status in ["open", "accepted"] {
            let query = self
                .client
                .query()
                .table_name(&self.delivery_orders_table)
                .index_name("byStatus")
                .key_condition_expression("#st = :st")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":st", s(status));
            out.extend(
                query_all_whole::<DeliveryOrder>(
                    &self.client,
                    query,
                    &["id"],
                    &format!("listing {status} delivery orders"),
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// Delivery orders by id, read consistently.
    pub async fn delivery_orders(&self, ids: &[String]) -> anyhow::Result<Vec<DeliveryOrder>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.delivery_orders_repo().get_many(ids).await
    }

    /// Every version of the process settings, oldest first (a handful of items: read once per
    /// run rather than once per delivery order).
    pub async fn process_versions(
        &self,
    ) -> anyhow::Result<Vec<dropship_core::process::ProcessVersion>> {
        Catalogue::new(self.client.clone(), self.catalogue_table.clone())
            .all_process_versions()
            .await
    }

    /// Every fulfiller (the catalogue's FULFILLER partition: one query, no scan).
    pub async fn fulfillers(&self) -> anyhow::Result<Vec<Fulfiller>> {
        Catalogue::new(self.client.clone(), self.catalogue_table.clone())
            .all_fulfillers()
            .await
    }

    /// When the fulfiller's stock was last counted (any sku): the newest entry of its byUpdated
    /// index partition; None when it never reported stock.
    pub async fn last_stock_update(
        &self,
        fulfiller: &str,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        let out = self
            .client
            .query()
            .table_name(&self.stock_table)
            .index_name("byUpdated")
            .key_condition_expression("fulfillerId = :f")
            .expression_attribute_values(":f", s(fulfiller))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .with_context(|| format!("reading the latest stock update of {fulfiller}"))?;
        Ok(out
            .items()
            .first()
            .and_then(|i| i.get("updatedAt"))
            .and_then(|v| v.as_s().ok())
            .and_then(|t| t.parse::<DateTime<Utc>>().ok()))
    }

    pub async fn stock(
        &self,
        keys: Vec<dropship_core::catalogue::SourcePair>,
    ) -> anyhow::Result<
        BTreeMap<(dropship_core::ids::FulfillerId, dropship_core::ids::Sku), StockLevel>,
    > {
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        Stock::new(self.client.clone(), self.stock_table.clone())
            .get_many(keys)
            .await
    }

    /// Orders created since `since`, from the byCreated index (bounded by time).
    pub async fn orders_created_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<Order>> {
        let query = self
            .client
            .query()
            .table_name(&self.orders_table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk >= :since")
            .expression_attribute_values(":o", s("ORDERS"))
            .expression_attribute_values(":since", s(sort_time(since)));
        query_all_whole(&self.client, query, &["pk"], "listing recent orders").await
    }

    /// Backordered orders created in [`from`, `to`), from the byCreated index (it projects the
    /// status): the orders whose backorders may just have run out of time.
    pub async fn backordered_orders_created_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Order>> {
        let query = self
            .client
            .query()
            .table_name(&self.orders_table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk BETWEEN :from AND :to")
            .filter_expression("#st = :backordered")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":o", s("ORDERS"))
            .expression_attribute_values(":from", s(sort_time(from)))
            .expression_attribute_values(":to", s(sort_time(to)))
            .expression_attribute_values(":backordered", s("backordered"));
        query_all_whole(&self.client, query, &["pk"], "listing backordered orders").await
    }

    pub async fn order(&self, id: &str) -> anyhow::Result<Option<Order>> {
        Orders::new(self.client.clone(), self.orders_table.clone())
            .get(id)
            .await
    }

    pub async fn products(
        &self,
        skus: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<BTreeMap<Sku, Product>> {
        Catalogue::new(self.client.clone(), self.catalogue_table.clone())
            .get_products(skus)
            .await
    }
}

/// Past its due time (the fulfiller's slaHours after routing) with nothing shipped.
pub fn is_late(d: &DeliveryOrder, now: DateTime<Utc>) -> bool {
    matches!(d.status, DeliveryStatus::Open | DeliveryStatus::Accepted)
        && d.shipments.is_empty()
        && now > d.due_at
}

/// The last stock update is older than the fulfiller allows.
pub fn is_stale(last_update: DateTime<Utc>, max_age_hours: u32, now: DateTime<Utc>) -> bool {
    now - last_update > Duration::hours(i64::from(max_age_hours))
}

/// Still `accepted` (not routed) longer than `after` after it came in.
pub fn is_stuck(o: &Order, now: DateTime<Utc>, after: Duration) -> bool {
    o.status == OrderStatus::Accepted && now - o.created_at > after
}

/// A shortfall alert's subject `<fulfillerId>/<sku>` (as the stock updates open them).
pub fn shortfall_key(subject: &str) -> Option<(String, String)> {
    let (f, sku) = subject.split_once('/')?;
    (!f.is_empty() && !sku.is_empty()).then(|| (f.to_string(), sku.to_string()))
}

/// Units of a line the system cancelled because no fulfiller could ship them.
pub fn system_cancelled(l: &OrderLine) -> u32 {
    l.quantities
        .cancelled
        .saturating_sub(l.cancelled_by_customer)
}

/// Per sku, the orders (id, creation time) with units nobody could ship.
pub fn unroutable_units(orders: &[Order]) -> BTreeMap<String, Vec<(String, DateTime<Utc>)>> {
    let mut out: BTreeMap<String, Vec<(String, DateTime<Utc>)>> = BTreeMap::new();
    for o in orders {
        for l in &o.lines {
            if system_cancelled(l) > 0 {
                let hits = out.entry(l.sku.to_string()).or_default();
                if !hits.iter().any(|(id, _)| *id == o.id) {
                    hits.push((o.id.to_string(), o.created_at));
                }
            }
        }
    }
    out
}

/// The escalation steps an open alert is due now, with their events, in order: the customer's
/// delay notice (late deliveries, once); for a problem of a fulfiller its reminder, then after
/// `escalate_after` operations; for any other problem operations at once.
pub fn due_steps(
    a: &Alert,
    now: DateTime<Utc>,
    escalate_after: Duration,
) -> Vec<(Step, BusinessEvent)> {
    let mut steps = Vec::new();
    if a.kind == crate::kinds::LATE_DELIVERY && a.customer_notified_at.is_none() {
        steps.push(Step::CustomerNotified);
    }
    let escalate = if a.fulfiller_id.is_some() {
        let reminded = match a.reminded_at {
            Some(t) => t,
            None => {
                steps.push(Step::Reminded);
                now
            }
        };
        now - reminded >= escalate_after
    } else {
        true
    };
    if escalate && a.escalated_at.is_none() {
        steps.push(Step::Escalated);
    }
    steps
        .into_iter()
        .filter_map(|s| crate::step_event(a, s).map(|e| (s, e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_core::messages::AlertAudience;

    fn t(h: i64) -> DateTime<Utc> {
        "2026-03-02T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::hours(h)
    }

    fn alert(kind: &str, fulfiller: Option<&str>) -> Alert {
        Alert {
            id: format!("{kind}#x"),
            kind: kind.into(),
            subject: "x".into(),
            state: "open".into(),
            since: t(0),
            details: String::new(),
            resolved_at: None,
            fulfiller_id: fulfiller.map(str::to_owned),
            order_id: Some("ord_1".into()),
            delivery_order_id: Some("DO-1".into()),
            reminded_at: None,
            escalated_at: None,
            customer_notified_at: None,
            resolved_by: None,
            resolution_note: None,
        }
    }

    fn steps(a: &Alert, now: DateTime<Utc>, after_h: i64) -> Vec<Step> {
        due_steps(a, now, Duration::hours(after_h))
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    #[test]
    fn a_late_delivery_reminds_the_fulfiller_and_tells_the_customer_then_escalates() {
        let mut a = alert(crate::kinds::LATE_DELIVERY, Some("acme"));
        assert_eq!(steps(&a, t(0), 4), [Step::CustomerNotified, Step::Reminded]);
        let events = due_steps(&a, t(0), Duration::hours(4));
        assert_eq!(
            events[0].1,
            BusinessEvent::DeliveryLate {
                order_id: "ord_1".try_into().unwrap(),
                delivery_order_id: "DO-1".into()
            }
        );
        assert_eq!(
            events[1].1,
            BusinessEvent::AlertRaised {
                alert_id: a.id.clone(),
                audience: AlertAudience::Fulfiller
            }
        );
        a.customer_notified_at = Some(t(0));
        a.reminded_at = Some(t(0));
        assert!(steps(&a, t(3), 4).is_empty());
        assert_eq!(steps(&a, t(4), 4), [Step::Escalated]);
        a.escalated_at = Some(t(4));
        assert!(steps(&a, t(9), 4).is_empty());
    }

    #[test]
    fn with_no_escalation_period_operations_hear_in_the_same_run() {
        let a = alert(crate::kinds::STALE_STOCK, Some("acme"));
        assert_eq!(steps(&a, t(0), 0), [Step::Reminded, Step::Escalated]);
    }

    #[test]
    fn problems_of_no_fulfiller_go_to_operations_at_once() {
        let a = alert(crate::kinds::DEAD_LETTERED, None);
        assert_eq!(steps(&a, t(0), 4), [Step::Escalated]);
        let events = due_steps(&a, t(0), Duration::hours(4));
        assert_eq!(
            events[0].1,
            BusinessEvent::AlertRaised {
                alert_id: a.id.clone(),
                audience: AlertAudience::Operations
            }
        );
    }

    #[test]
    fn staleness_and_stuck_orders_are_strictly_past_their_limits() {
        assert!(!is_stale(t(0), 24, t(24)));
        assert!(is_stale(t(0), 24, t(25)));
        assert!(is_stale(t(0), 0, t(0) + Duration::seconds(1)));
        assert_eq!(
            shortfall_key("acme/VASE-BLUE"),
            Some(("acme".into(), "VASE-BLUE".into()))
        );
        assert_eq!(shortfall_key("acme"), None);
        assert_eq!(
            queue_name("http://h/123/RouteDeadLetterQueue"),
            "RouteDeadLetterQueue"
        );
    }
}
