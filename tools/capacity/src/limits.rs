//! Every limit the load meets, as a demand per order per second against a limit: each has one
//! ceiling in orders per second, and the lowest ceiling is the limit that bites first.

use crate::model::{self, PerOrder};
use crate::profile::Profile;
use crate::template::Infra;

/// One limit: what grows with the order rate, and where it stops.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    pub area: &'static str,
    pub name: String,
    /// Demand at 1 order per second, in the limit's unit.
    pub per_order_per_second: f64,
    pub limit: f64,
    pub unit: &'static str,
    /// What raises or removes the limit.
    pub remedy: String,
}

impl Check {
    /// Orders per second at which the demand reaches the limit.
    pub fn ceiling(&self) -> f64 {
        if self.per_order_per_second <= 0.0 {
            f64::INFINITY
        } else {
            self.limit / self.per_order_per_second
        }
    }

    pub fn utilisation(&self, rate: f64) -> f64 {
        rate * self.per_order_per_second / self.limit
    }
}

/// How a check names the keys its load is spread over: `one` for a single key, else "N `many`",
/// or "in each of N `many`" when `one` is empty (a limit that holds per key, such as a counter's
/// cycle).
fn keys(n: f64, one: &str, many: &str) -> String {
    if n <= 1.0 {
        one.to_string()
    } else if one.is_empty() {
        format!("in each of {n} {many}")
    } else {
        format!("{n} {many}")
    }
}

pub fn checks(profile: &Profile, infra: &Infra, load: &PerOrder) -> Vec<Check> {
    let q = &profile.quotas;
    let mut out = Vec::new();
    for (key, t) in &load.tables {
        let warm = infra.warm.get(key).copied();
        let (read_limit, write_limit) = warm
            .map(|(r, w)| {
                (
                    r.max(q.new_table_read_units),
                    w.max(q.new_table_write_units),
                )
            })
            .unwrap_or((q.new_table_read_units, q.new_table_write_units));
        for (units, quota, start, what) in [
            (t.write_units, q.table_write_units, write_limit, "write"),
            (t.read_units, q.table_read_units, read_limit, "read"),
        ] {
            if units <= 0.0 {
                continue;
            }
            out.push(Check {
                area: "DynamoDB",
                name: format!("{key}: {what} units, table quota"),
                per_order_per_second: units,
                limit: quota,
                unit: "units/s",
                remedy: "Service Quotas: raise the table-level throughput quota".into(),
            });
            out.push(Check {
                area: "DynamoDB",
                name: format!("{key}: {what} units a new on-demand table takes at once"),
                per_order_per_second: units,
                limit: start,
                unit: "units/s",
                remedy: "WarmThroughput on the table (and index) before the peak".into(),
            });
        }
    }
    for h in &profile.hot_keys {
        let hot = load.hot_keys.get(&h.name).cloned().unwrap_or_default();
        for (units, limit, what, remedy) in [
            (
                hot.write_units,
                q.partition_write_units,
                "write",
                "spread the key over several (write sharding) or drop it",
            ),
            (
                hot.read_units,
                q.partition_read_units,
                "read",
                "keep it in the function instance for a few seconds",
            ),
        ] {
            if units > 0.0 {
                out.push(Check {
                    area: "hot key",
                    name: format!(
                        "{}: {what} units on {}",
                        h.name,
                        keys(h.shards, "one key", "keys")
                    ),
                    per_order_per_second: units,
                    limit: limit * h.shards,
                    unit: "units/s",
                    remedy: remedy.into(),
                });
            }
        }
        if let Some(cycle) = h.serial_cycle_ms {
            out.push(Check {
                area: "hot key",
                name: format!(
                    "{}: read-then-write cycles of {cycle} ms, one at a time {}",
                    h.name,
                    keys(h.shards, "", "series")
                )
                .trim_end()
                .to_string(),
                per_order_per_second: hot.writes,
                limit: 1000.0 / cycle * h.shards,
                unit: "changes/s",
                remedy: "several number series, one counter each".into(),
            });
        }
    }
    let sku = &profile.hot_sku;
    out.push(Check {
        area: "hot key",
        name: format!(
            "promoted sku: reservation write units on {}",
            keys(sku.shards, "its one stock item", "stock shards")
        ),
        per_order_per_second: sku.share_of_orders * sku.write_units_per_reservation,
        limit: q.partition_write_units * sku.shards,
        unit: "units/s",
        remedy: "stock shards for the sku (docs/capacity.md, hot sku)".into(),
    });
    let mut total_concurrency = 0.0;
    for (name, f) in &load.functions {
        let Some(function) = infra.function(name) else {
            continue;
        };
        total_concurrency += f.busy_ms / 1000.0;
        let esm = function.queue.as_ref().map(|t| {
            t.max_concurrency
                .unwrap_or(q.sqs_event_source_max_concurrency)
        });
        let (limit, remedy) = match (function.reserved_concurrency, esm) {
            (Some(r), _) => (r, "ReservedConcurrentExecutions in template.yaml"),
            (None, Some(e)) => (e, "the event source's concurrency (ScalingConfig.MaximumConcurrency, at most 1,000 batches)"),
            (None, None) => (q.lambda_account_concurrency, "the account's concurrency quota"),
        };
        out.push(Check {
            area: "Lambda",
            name: format!("{name}: concurrent executions"),
            per_order_per_second: f.busy_ms / 1000.0,
            limit,
            unit: "executions",
            remedy: remedy.into(),
        });
        if let Some(t) = &function.queue {
            out.push(Check {
                area: "SQS",
                name: format!("{}: messages in flight", t.queue),
                per_order_per_second: f.handled * f.in_flight_ms / 1000.0,
                limit: q.sqs_in_flight_per_queue,
                unit: "messages",
                remedy: "more consumers per message (smaller batches), or split the queue".into(),
            });
        }
    }
    out.push(Check {
        area: "Lambda",
        name: "all functions: concurrent executions in the account".into(),
        per_order_per_second: total_concurrency,
        limit: q.lambda_account_concurrency,
        unit: "executions",
        remedy: "Service Quotas: raise Lambda concurrent executions".into(),
    });
    for queue in infra.queues.iter().filter(|q| q.fifo) {
        let sent = load.queue_messages.get(&queue.name).copied().unwrap_or(0.0);
        out.push(Check {
            area: "SQS",
            name: format!("{}: FIFO messages per second", queue.name),
            per_order_per_second: sent,
            limit: q.fifo_messages_per_second,
            unit: "messages/s",
            remedy: "high-throughput FIFO or more message groups".into(),
        });
    }
    out.push(Check {
        area: "API Gateway",
        name: "all routes: requests per second in the account and region".into(),
        per_order_per_second: load.api_requests,
        limit: q.api_account_rps,
        unit: "requests/s",
        remedy: "Service Quotas: raise the HTTP API throttle quota".into(),
    });
    if let Some((rate, _)) = infra.route_throttle {
        for (route, n) in &load.routes {
            out.push(Check {
                area: "API Gateway",
                name: format!("{route}: the template's route throttle"),
                per_order_per_second: *n,
                limit: rate,
                unit: "requests/s",
                remedy:
                    "raise DefaultRouteSettings (or RouteSettings for the route) in template.yaml"
                        .into(),
            });
        }
    }
    out.push(Check {
        area: "SES",
        name: "mails per second (sending rate)".into(),
        per_order_per_second: load.mails,
        limit: q.ses_mails_per_second,
        unit: "mails/s",
        remedy: "SES production access and a sending-rate raise".into(),
    });
    out.push(Check {
        area: "SES",
        name: "mails of one peak hour against the daily quota".into(),
        per_order_per_second: load.mails * 3600.0,
        limit: q.ses_mails_per_day,
        unit: "mails/day",
        remedy: "SES production access and a daily-quota raise".into(),
    });
    out
}

/// The partitions each table and index needs at `rate` orders per second.
/// One table's or index's figures at a rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableFigures {
    /// `Table` or `Table/index`.
    pub name: String,
    pub read_units: f64,
    pub write_units: f64,
    pub stored_gb: f64,
    pub partitions: f64,
}

pub fn partitions_at(profile: &Profile, load: &PerOrder, rate: f64) -> Vec<TableFigures> {
    let q = &profile.quotas;
    let per = model::PartitionLimits {
        read_units: q.partition_read_units,
        write_units: q.partition_write_units,
        gb: q.partition_gb,
    };
    load.tables
        .iter()
        .map(|(k, t)| {
            let gb = t.stored_kb * profile.stored_orders / (1024.0 * 1024.0);
            let (r, w) = (t.read_units * rate, t.write_units * rate);
            TableFigures {
                name: k.clone(),
                read_units: r,
                write_units: w,
                stored_gb: gb,
                partitions: model::partitions(r, w, gb, &per),
            }
        })
        .collect()
}
