//! Runs on a schedule (every 15 minutes; locally on demand) and keeps the business alerts
//! current: finds what is late, stuck, stale, short, unroutable or dead-lettered, opens one
//! alert per problem (deterministic ids, never two for the same open problem), resolves alerts
//! whose cause is gone, and escalates: a reminder to the fulfiller concerned first, operations
//! after a further period (at once for problems no fulfiller can fix); a late delivery also
//! gets the customer one delay notice. The notifier sends the mails, on the events sent here.
//!
//! Reads only through keys and indexes: delivery orders by status (byStatus), a fulfiller's
//! latest stock update (stock byUpdated), the orders of the last `lookback` hours (byCreated),
//! fulfillers from the catalogue's FULFILLER partition, open alerts by state.

mod config;
pub use config::Config;
pub mod checks;

use chrono::{DateTime, Duration, Utc};
use dropship_aws::queue::Queue;
use dropship_aws::repo::alerts::{Alert, Alerts, NewAlert, Step};
use dropship_core::cancel::overdue_backorders;
use dropship_core::catalogue::SourcePair;
use dropship_core::delivery::DeliveryStatus;
use dropship_core::fulfilment::silent_deadline;
use dropship_core::ids::{FulfillerId, OrderId, Sku};
use dropship_core::messages::{AlertAudience, BusinessEvent, DueTimer, RouteOrder};
use dropship_core::process::settings::in_force_at;
use dropship_core::process::ProcessVersion;
use std::collections::BTreeMap;

pub use checks::queue_name;

/// Alert types (the `type` field of an alert, the first part of its id).
pub mod kinds {
    pub const DEAD_LETTERED: &str = "dead_lettered_messages";
    pub const LATE_DELIVERY: &str = "late_delivery";
    pub const STALE_STOCK: &str = "stale_stock";
    pub const SHORTFALL: &str = "stock_shortfall";
    pub const STUCK_ORDER: &str = "stuck_order";
    pub const UNROUTABLE: &str = "unroutable_lines";
    pub const CHARGEBACK: &str = "chargeback";
}

/// The thresholds, from the environment the template sets.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// An order still `accepted` after this is stuck.
    pub stuck_after: Duration,
    /// How far back the orders are read for stuck orders and unroutable lines.
    pub lookback: Duration,
}

pub struct Alerting {
    pub alerts: Alerts,
    pub sources: checks::Sources,
    pub sqs: aws_sdk_sqs::Client,
    pub events_queue: Queue,
    /// Silent delivery orders go to the router (withdrawn, then routed again).
    pub route_queue: Queue,
    pub dead_letter_queues: Vec<String>,
    pub settings: Settings,
}

/// What a run did, returned to the scheduler (and the runner's invoke endpoint).
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub opened: Vec<String>,
    pub resolved: Vec<String>,
    pub events: usize,
    pub late_delivery_orders: u64,
    pub stale_stock_feeds: u64,
}

impl dropship_aws::config::FromConfig for Alerting {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let sqs = aws_sdk_sqs::Client::new(cfg);
        Ok(Self {
            alerts: Alerts::new(ddb.clone(), config.alerts_table.clone()),
            sources: checks::Sources {
                client: ddb,
                catalogue_table: config.catalogue_table.clone(),
                orders_table: config.orders_table.clone(),
                delivery_orders_table: config.delivery_orders_table.clone(),
                stock_table: config.stock_table.clone(),
            },
            events_queue: Queue::new(sqs.clone(), config.events_queue_url.clone()),
            route_queue: Queue::new(sqs.clone(), config.route_queue_url.clone()),
            sqs,
            dead_letter_queues: config.dead_letter_queue_urls.clone(),
            settings: Settings {
                stuck_after: Duration::minutes(config.stuck_order_minutes.into()),
                lookback: Duration::minutes(config.alert_lookback_minutes.into()),
            },
        })
    }
}

impl Alerting {
    /// One run of the checks. Its "now" is the scheduled event's `time` when that is later than
    /// the machine's clock (the local stack moves its schedules' time forward to test long
    /// timers); a sample or retried event from the past runs at the machine's time.
    pub async fn handle(&self, event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let now = run_time(&event, Utc::now(), dropship_core::messages::local_clock());
        let mut run = Run {
            me: self,
            now,
            report: Report::default(),
            just_opened: Vec::new(),
            open_before: None,
            versions: None,
        };
        // Each check on its own: one failing (say, a throttled index) must not stop the others;
        // the run still fails at the end so that the scheduler retries and the Errors alarm sees it.
        let mut failures = Vec::new();
        let results = [
            ("dead letters", run.dead_letters().await),
            ("late deliveries", run.late_deliveries().await),
            ("silent deliveries", run.silent_deliveries().await),
            ("overdue backorders", run.overdue_backorders().await),
            ("stale stock", run.stale_stock().await),
            ("shortfalls", run.shortfalls().await),
            ("orders", run.orders().await),
        ];
        for (what, r) in results {
            if let Err(e) = r {
                tracing::error!(check = what, error = %format!("{e:#}"), "alert check failed");
                failures.push(what);
            }
        }
        if let Err(e) = run.escalate().await {
            tracing::error!(error = %format!("{e:#}"), "escalating alerts failed");
            failures.push("escalation");
        }
        // Heartbeat for the anomaly alarm: a period without orders shows as 0, not as no data.
        dropship_aws::metrics::emit(
            "OrdersAccepted",
            "0",
            dropship_aws::metrics::Unit::Count,
            &[],
            &[&[]],
        );
        dropship_aws::metrics::delivery_orders_late(run.report.late_delivery_orders);
        dropship_aws::metrics::stock_feeds_stale(run.report.stale_stock_feeds);
        tracing::info!(opened = ?run.report.opened, resolved = ?run.report.resolved, events = run.report.events, "alerting run done");
        if !failures.is_empty() {
            anyhow::bail!("alert checks failed: {}", failures.join(", "));
        }
        Ok(serde_json::to_value(&run.report)?)
    }
}

struct Run<'a> {
    me: &'a Alerting,
    now: DateTime<Utc>,
    report: Report,
    /// Ids opened in this run: escalated at once, even before the state index shows them.
    just_opened: Vec<String>,
    /// The alerts open when the run started, read once (the checks resolve from these).
    open_before: Option<Vec<Alert>>,
    /// The process settings' versions, read once.
    versions: Option<Vec<ProcessVersion>>,
}

/// How far back past their deadline a run looks for overdue backorders: three of the schedule's
/// 15-minute periods.
const OVERDUE_WINDOW: Duration = Duration::minutes(45);

impl Run<'_> {
    async fn open(&mut self, new: NewAlert<'_>) -> anyhow::Result<()> {
        if self.me.alerts.open_alert(&new, self.now).await? {
            let id = dropship_aws::repo::alerts::alert_id(new.kind, new.subject);
            tracing::warn!(alert_id = %id, order_id = ?new.order_id, delivery_order_id = ?new.delivery_order_id, "alert opened");
            self.report.opened.push(id.clone());
            self.just_opened.push(id);
        }
        Ok(())
    }

    async fn resolve(&mut self, id: &str) -> anyhow::Result<()> {
        if self.me.alerts.resolve_id(id, self.now).await? {
            tracing::info!(alert_id = %id, "alert resolved");
            self.report.resolved.push(id.to_string());
        }
        Ok(())
    }

    /// The alerts of one type that were open when the run started.
    async fn open_of(&mut self, kind: &str) -> anyhow::Result<Vec<Alert>> {
        if self.open_before.is_none() {
            self.open_before = Some(self.me.alerts.list("open").await?);
        }
        Ok(self
            .open_before
            .iter()
            .flatten()
            .filter(|a| a.kind == kind)
            .cloned()
            .collect())
    }

    /// Messages sitting in a dead-letter queue: one alert per queue while any are there.
    async fn dead_letters(&mut self) -> anyhow::Result<()> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let me = self.me;
        for url in &me.dead_letter_queues {
            let attrs = self
                .me
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(A::ApproximateNumberOfMessages)
                .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await?;
            let count = |name| {
                attrs
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let waiting = count(A::ApproximateNumberOfMessages)
                + count(A::ApproximateNumberOfMessagesNotVisible);
            let name = queue_name(url);
            dropship_aws::metrics::messages_dead_lettered(name, waiting);
            if waiting > 0 {
                let details = format!(
                    "{waiting} message(s) in {name}: fix the cause, then move them back with infra/redrive"
                );
                self.open(NewAlert {
                    kind: kinds::DEAD_LETTERED,
                    subject: name,
                    details: &details,
                    ..NewAlert::default()
                })
                .await?;
            } else {
                self.resolve(&dropship_aws::repo::alerts::alert_id(
                    kinds::DEAD_LETTERED,
                    name,
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Delivery orders past their due time (the fulfiller's slaHours) without a shipment.
    async fn late_deliveries(&mut self) -> anyhow::Result<()> {
        let active = self.me.sources.unshipped_delivery_orders().await?;
        let candidates: Vec<String> = active
            .iter()
            .filter(|d| checks::is_late(d, self.now))
            .map(|d| d.id.clone())
            .collect();
        // The index may lag behind a shipment: confirm with consistent reads before alerting.
        let confirmed = self.me.sources.delivery_orders(&candidates).await?;
        let mut late = std::collections::BTreeSet::new();
        let now = self.now;
        for d in confirmed.iter().filter(|d| checks::is_late(d, now)) {
            late.insert(d.id.clone());
            let details = format!(
                "delivery order {} of order {} was due at {} and has not shipped",
                d.id,
                d.order_id,
                d.due_at.to_rfc3339()
            );
            self.open(NewAlert {
                kind: kinds::LATE_DELIVERY,
                subject: &d.id,
                details: &details,
                fulfiller_id: Some(d.fulfiller_id.as_str()),
                order_id: Some(d.order_id.as_str()),
                delivery_order_id: Some(&d.id),
            })
            .await?;
        }
        self.report.late_delivery_orders = late.len() as u64;
        let open = self.open_of(kinds::LATE_DELIVERY).await?;
        let gone: Vec<String> = open
            .iter()
            .filter(|a| !late.contains(&a.subject))
            .map(|a| a.subject.clone())
            .collect();
        let now_read: BTreeMap<String, _> = self
            .me
            .sources
            .delivery_orders(&gone)
            .await?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        for id in gone {
            // Shipped, cancelled, rejected or gone altogether: no longer late.
            if now_read
                .get(&id)
                .is_none_or(|d| !checks::is_late(d, self.now))
            {
                self.resolve(&dropship_aws::repo::alerts::alert_id(
                    kinds::LATE_DELIVERY,
                    &id,
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Delivery orders their fulfiller left unanswered past the process settings'
    /// `rerouteIfSilentHours` (the version in force when each was made): each goes to the router,
    /// which withdraws it if it is still unanswered and routes its units again. A run repeats
    /// the request until the router has done it (the router does it once).
    async fn silent_deliveries(&mut self) -> anyhow::Result<()> {
        let versions = self.process_versions().await?;
        let open = self.me.sources.unshipped_delivery_orders().await?;
        let mut sent = 0;
        for d in open.iter().filter(|d| d.status == DeliveryStatus::Open) {
            let process = in_force_at(&versions, d.created_at);
            if silent_deadline(d, &process).is_some_and(|due| self.now >= due) {
                // A free replacement goes where the admin sent it: never rerouted.
                let order = self.me.sources.order(d.order_id.as_str()).await?;
                if order.is_some_and(|o| dropship_core::replacement::is_replacement(&o, &d.id)) {
                    continue;
                }
                let mut route = RouteOrder::new(d.order_id.clone());
                route.due = Some(DueTimer::SilentDelivery {
                    delivery_order_id: d.id.clone(),
                    at: self.now,
                });
                self.me.route_queue.send(&route).await?;
                sent += 1;
            }
        }
        if sent > 0 {
            tracing::info!(
                delivery_orders = sent,
                "silent delivery orders sent to be withdrawn"
            );
        }
        Ok(())
    }

    /// Orders whose units are still backordered past the process settings' `backorders.maxDays`
    /// (the version in force when the order was placed): each goes to the router, which cancels
    /// those units, refunds them and tells the customer. Each run reads the orders whose wait ran
    /// out in the last `OVERDUE_WINDOW` (three runs: two missed runs lose nothing), per distinct
    /// `maxDays` any version set, so what it reads is bounded by the order rate, not the history.
    async fn overdue_backorders(&mut self) -> anyhow::Result<()> {
        let versions = self.process_versions().await?;
        let limits: std::collections::BTreeSet<u32> = versions
            .iter()
            .map(|v| v.settings.backorders.max_days)
            .filter(|d| *d > 0)
            .collect();
        let mut sent = 0;
        for days in limits {
            let to = self.now - Duration::days(days.into());
            let orders = self
                .me
                .sources
                .backordered_orders_created_between(to - OVERDUE_WINDOW, to)
                .await?;
            for order in orders {
                let process = in_force_at(&versions, order.created_at);
                if process.settings.backorders.max_days != days
                    || overdue_backorders(&order, &process, self.now).is_none()
                {
                    continue;
                }
                let mut route = RouteOrder::new(order.id.clone());
                route.due = Some(DueTimer::OverdueBackorders { at: self.now });
                self.me.route_queue.send(&route).await?;
                sent += 1;
            }
        }
        if sent > 0 {
            tracing::info!(
                orders = sent,
                "orders with overdue backorders sent to be cancelled"
            );
        }
        Ok(())
    }

    /// Every version of the process settings, read once per run.
    async fn process_versions(&mut self) -> anyhow::Result<Vec<ProcessVersion>> {
        if self.versions.is_none() {
            self.versions = Some(self.me.sources.process_versions().await?);
        }
        Ok(self.versions.clone().unwrap_or_default())
    }

    /// Fulfillers whose latest stock update is older than their stockMaxAgeHours.
    async fn stale_stock(&mut self) -> anyhow::Result<()> {
        let mut stale = 0;
        for f in self.me.sources.fulfillers().await? {
            let last = self.me.sources.last_stock_update(f.id.as_str()).await?;
            let id = dropship_aws::repo::alerts::alert_id(kinds::STALE_STOCK, f.id.as_str());
            match last {
                Some(last) if checks::is_stale(last, f.stock_max_age_hours, self.now) => {
                    stale += 1;
                    let details = format!(
                        "the last stock update of {} was at {} (at most {} hours allowed)",
                        f.id,
                        last.to_rfc3339(),
                        f.stock_max_age_hours
                    );
                    self.open(NewAlert {
                        kind: kinds::STALE_STOCK,
                        subject: f.id.as_str(),
                        details: &details,
                        fulfiller_id: Some(f.id.as_str()),
                        ..NewAlert::default()
                    })
                    .await?;
                }
                // Fresh, or never reported any stock (nothing that could be stale).
                _ => self.resolve(&id).await?,
            }
        }
        self.report.stale_stock_feeds = stale;
        Ok(())
    }

    /// Shortfalls (opened by the stock updates) resolve once on-hand covers what is promised.
    async fn shortfalls(&mut self) -> anyhow::Result<()> {
        let open = self.open_of(kinds::SHORTFALL).await?;
        let keys = open
            .iter()
            .filter_map(|a| checks::shortfall_key(&a.subject))
            .filter_map(|(fulfiller_id, sku)| {
                // Subjects are made from stored (valid) ids and skus: none is dropped.
                let fulfiller_id = FulfillerId::try_from(fulfiller_id).ok()?;
                let sku = Sku::try_from(sku).ok()?;
                Some(SourcePair { fulfiller_id, sku })
            })
            .collect();
        let levels = self.me.sources.stock(keys).await?;
        for a in open {
            let Some((fulfiller, sku)) = checks::shortfall_key(&a.subject) else {
                continue;
            };
            let level = FulfillerId::try_from(fulfiller.as_str())
                .ok()
                .zip(Sku::try_from(sku).ok())
                .and_then(|key| levels.get(&key));
            match level {
                Some(l) if l.available < l.reserved => {
                    if a.fulfiller_id.is_none() {
                        self.me.alerts.set_fulfiller(&a.id, &fulfiller).await?;
                    }
                }
                _ => self.resolve(&a.id).await?,
            }
        }
        Ok(())
    }

    /// Orders of the lookback window: stuck in `accepted`, and units nobody could ship.
    async fn orders(&mut self) -> anyhow::Result<()> {
        let since = self.now - self.me.settings.lookback;
        let orders = self.me.sources.orders_created_since(since).await?;
        // Stuck: confirmed with a consistent read (the index may not show the routing yet).
        let mut stuck = std::collections::BTreeSet::new();
        let (now, stuck_after) = (self.now, self.me.settings.stuck_after);
        for o in orders
            .iter()
            .filter(|o| checks::is_stuck(o, now, stuck_after))
        {
            let Some(current) = self.me.sources.order(o.id.as_str()).await? else {
                continue;
            };
            if checks::is_stuck(&current, self.now, self.me.settings.stuck_after) {
                stuck.insert(current.id.clone());
                let details = format!(
                    "order {} was accepted at {} and has not been routed",
                    current.id,
                    current.created_at.to_rfc3339()
                );
                self.open(NewAlert {
                    kind: kinds::STUCK_ORDER,
                    subject: current.id.as_str(),
                    details: &details,
                    order_id: Some(current.id.as_str()),
                    ..NewAlert::default()
                })
                .await?;
            }
        }
        for a in self.open_of(kinds::STUCK_ORDER).await? {
            if stuck.contains(a.subject.as_str()) {
                continue;
            }
            let still = self
                .me
                .sources
                .order(&a.subject)
                .await?
                .is_some_and(|o| checks::is_stuck(&o, self.now, self.me.settings.stuck_after));
            if !still {
                self.resolve(&a.id).await?;
            }
        }
        self.unroutable(&orders).await
    }

    /// Per sku: units of recent orders that no fulfiller could ship. The alert resolves once the
    /// sku can be shipped again: backorders allowed, or free stock counted after the alert opened.
    async fn unroutable(&mut self, orders: &[dropship_core::order::Order]) -> anyhow::Result<()> {
        let found = checks::unroutable_units(orders);
        let open = self.open_of(kinds::UNROUTABLE).await?;
        let mut skus: std::collections::BTreeSet<String> = found.keys().cloned().collect();
        skus.extend(open.iter().map(|a| a.subject.clone()));
        if skus.is_empty() {
            return Ok(());
        }
        let products = self.me.sources.products(skus.iter().cloned()).await?;
        let pairs = dropship_core::catalogue::source_pairs(products.values());
        let levels = self.me.sources.stock(pairs).await?;
        for sku in skus {
            let id = dropship_aws::repo::alerts::alert_id(kinds::UNROUTABLE, &sku);
            let existing = match open.iter().find(|a| a.subject == sku) {
                Some(a) => Some(a.clone()),
                None => self.me.alerts.get(&id).await?,
            };
            let restocked_since = |t: DateTime<Utc>| {
                products.get(sku.as_str()).is_some_and(|p| {
                    p.allow_backorder
                        || p.sources.iter().any(|s| {
                            levels
                                .get(&(s.fulfiller_id.clone(), p.sku.clone()))
                                .is_some_and(|l| l.free > 0 && l.updated_at > t)
                        })
                })
            };
            match existing {
                Some(a) if a.state == "open" => {
                    if restocked_since(a.since) {
                        self.resolve(&id).await?;
                    }
                }
                previous => {
                    // Only units cancelled after the last resolution open it again.
                    let after = previous.and_then(|a| a.resolved_at);
                    let Some(hits) = found.get(&sku) else {
                        continue;
                    };
                    let new: Vec<&(String, DateTime<Utc>)> = hits
                        .iter()
                        .filter(|(_, at)| after.is_none_or(|r| *at > r))
                        .collect();
                    if new.is_empty() {
                        continue;
                    }
                    let units: u32 = orders
                        .iter()
                        .filter(|o| new.iter().any(|(id, _)| *id == o.id))
                        .flat_map(|o| o.lines.iter().filter(|l| l.sku == sku))
                        .map(checks::system_cancelled)
                        .sum();
                    let details = format!(
                        "{units} unit(s) of {sku} in {} order(s) could not be routed to any fulfiller and were cancelled",
                        new.len()
                    );
                    self.open(NewAlert {
                        kind: kinds::UNROUTABLE,
                        subject: &sku,
                        details: &details,
                        order_id: new.first().map(|(id, _)| id.as_str()),
                        ..NewAlert::default()
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Sends what each open alert is due: the fulfiller's reminder, operations' escalation, the
    /// customer's delay notice. Each step is recorded before its event is sent, so that two
    /// overlapping runs cannot both send it; a send that fails takes its step back.
    async fn escalate(&mut self) -> anyhow::Result<()> {
        let mut alerts: BTreeMap<String, Alert> = self
            .me
            .alerts
            .list("open")
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        for id in &self.just_opened {
            if !alerts.contains_key(id) {
                if let Some(a) = self.me.alerts.get(id).await? {
                    alerts.insert(id.clone(), a);
                }
            }
        }
        for a in alerts.values().filter(|a| a.state == "open") {
            // Operations hear of it the process settings' minutes after the reminder, as the
            // version in force when the reminder went (or goes now) says.
            let reminded = a.reminded_at.unwrap_or(self.now);
            let process = in_force_at(&self.process_versions().await?, reminded);
            let escalate_after = Duration::minutes(
                process
                    .settings
                    .escalation
                    .escalate_to_ops_after_minutes
                    .into(),
            );
            for (step, event) in checks::due_steps(a, self.now, escalate_after) {
                if !self.me.alerts.mark(&a.id, step, self.now).await? {
                    continue;
                }
                if let Err(e) = self.me.events_queue.send(&event).await {
                    self.me.alerts.unmark(&a.id, step).await?;
                    return Err(e);
                }
                tracing::info!(alert_id = %a.id, ?step, "alert escalation sent");
                self.report.events += 1;
            }
        }
        Ok(())
    }
}

/// The time a run checks at: the event's `time` if later than `machine` and the local clock is
/// on (`local_clock`: only the local runner moves time; deployed, a time ahead is an edited
/// event), else `machine`.
pub fn run_time(
    event: &serde_json::Value,
    machine: DateTime<Utc>,
    local_clock: bool,
) -> DateTime<Utc> {
    event
        .get("time")
        .and_then(|t| t.as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| local_clock && *t > machine)
        .unwrap_or(machine)
}

/// The events of an escalation step, for the notifier.
pub fn step_event(a: &Alert, step: Step) -> Option<BusinessEvent> {
    match step {
        Step::Reminded => Some(BusinessEvent::AlertRaised {
            alert_id: a.id.clone(),
            audience: AlertAudience::Fulfiller,
        }),
        Step::Escalated => Some(BusinessEvent::AlertRaised {
            alert_id: a.id.clone(),
            audience: AlertAudience::Operations,
        }),
        Step::CustomerNotified => Some(BusinessEvent::DeliveryLate {
            order_id: OrderId::try_from(a.order_id.as_deref()?).ok()?,
            delivery_order_id: a.delivery_order_id.clone()?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::run_time;
    use chrono::{DateTime, Duration, Utc};
    use serde_json::json;

    #[test]
    fn a_run_checks_at_its_events_time_only_when_that_is_ahead() {
        let machine: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().unwrap();
        let ahead = json!({"time": "2026-12-04T10:00:00Z"});
        assert_eq!(
            run_time(&ahead, machine, true),
            machine + Duration::hours(24)
        );
        assert_eq!(
            run_time(&ahead, machine, false),
            machine,
            "deployed: never ahead"
        );
        let sample = json!({"time": "2026-11-27T11:00:00Z"});
        assert_eq!(run_time(&sample, machine, true), machine);
        assert_eq!(run_time(&json!({}), machine, true), machine);
        assert_eq!(run_time(&json!({"time": "soon"}), machine, true), machine);
    }
}
