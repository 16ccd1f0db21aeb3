//! Recovers what a crash left behind, every minute: gives back the reservations of a large
//! order whose routing stopped between its chunks and was never retried
//! (`dropship_aws::repo::holds`), once the hold is older than any function runs. (Follow-up
//! messages need no recovery: they are committed with their change and sent by the change
//! relay from the orders table's stream.)
//!
//! It also backfills the report aggregates (`dropship_aws::repo::aggregates`) until they are
//! complete: the orders written before the report aggregator kept them (a stack upgraded with orders
//! in it; on a new stack the first run finds none), a few pages each run from where the last
//! one stopped. It applies each order as it is now, like the aggregator does, so the two never add
//! an order twice. When the retailer's time zone changes, it dates every order anew in the new
//! zone. A pass starts a settle time (a minute) after it is called for, longer than any
//! aggregator batch begun before takes. Until it is done, the reports read the orders.

mod config;
use anyhow::Context;
use chrono::{Duration, Utc};
pub use config::Config;
use dropship_aws::repo::aggregates::{Aggregates, Backfill};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::holds;
use dropship_core::order::Order;

/// How long one run backfills before it records where it stopped (the function has 15 s).
const BACKFILL_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// Orders per page of the backfill.
const BACKFILL_PAGE: i32 = 100;

pub struct Recovery {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Only the orders (holds) and stock tables: giving back touches nothing else.
    pub tables: Tables,
    pub hold_max_age: Duration,
    pub aggregates: Aggregates,
    pub catalogue: Catalogue,
    /// How long a pass that dates the orders (the first, or after a change of zone) waits: an
    /// aggregator batch that read the old zone, or code from before the aggregates, has ended.
    pub settle: Duration,
}

impl dropship_aws::config::FromConfig for Recovery {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let dynamodb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            dynamodb: dynamodb.clone(),
            tables: Tables {
                orders: config.orders_table.clone(),
                delivery_orders: String::new(),
                stock: config.stock_table.clone(),
                returns: None,
            },
            hold_max_age: Duration::seconds(config.reservation_hold_max_age_seconds),
            aggregates: Aggregates::new(dynamodb.clone(), config.report_aggregates_table.clone()),
            catalogue: Catalogue::new(dynamodb.clone(), config.catalogue_table.clone()),
            settle: Duration::seconds(config.report_aggregates_settle_seconds),
        })
    }
}

impl Recovery {
    pub async fn handle(&self, _event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let (holds, units) =
            holds::sweep(&self.dynamodb, &self.tables, Utc::now() - self.hold_max_age).await?;
        if holds > 0 {
            tracing::warn!(
                holds,
                units,
                "gave back the reservations of large orders whose routing stopped half-way"
            );
        }
        let backfilled = self.backfill().await?;
        Ok(
            serde_json::json!({"holdsGivenBack": holds, "unitsGivenBack": units,
            "ordersBackfilled": backfilled}),
        )
    }

    /// Applies pages of orders to the report aggregates for at most `BACKFILL_BUDGET`, from the
    /// recorded cursor; records the next cursor, or that the aggregates are complete. A change
    /// of the retailer's zone starts a new pass over every order, after `settle`.
    async fn backfill(&self) -> anyhow::Result<usize> {
        let zone = self.catalogue.time_zone().await?;
        let now = Utc::now();
        let mut state = self.aggregates.backfill().await?;
        if state.zone.as_deref() != Some(zone.name()) {
            let changed = state.zone.is_some();
            state = Backfill {
                zone: Some(zone.name().to_string()),
                // Also the first pass waits: a write handled by code from before the aggregates
                // (while they are deployed) is not announced, and must come before the pass.
                zone_since: Some(now),
                ..Backfill::default()
            };
            self.aggregates.set_backfill(&state).await?;
            if changed {
                tracing::info!(
                    zone = zone.name(),
                    "the time zone changed: the report aggregates are dated anew"
                );
            }
        }
        if state.complete {
            return Ok(0);
        }
        if state.pass_started.is_none() {
            if state
                .zone_since
                .is_some_and(|since| now < since + self.settle)
            {
                return Ok(0);
            }
            state.pass_started = Some(now);
        }
        let started = std::time::Instant::now();
        let mut applied = 0;
        while started.elapsed() < BACKFILL_BUDGET {
            let start = state
                .cursor
                .as_deref()
                .and_then(dropship_aws::repo::decode_next_token);
            let page = self
                .dynamodb
                .query()
                .table_name(&self.tables.orders)
                .index_name("byCreated")
                .key_condition_expression("gsi1pk = :o")
                .expression_attribute_values(":o", dropship_aws::repo::s("ORDERS"))
                .limit(BACKFILL_PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .context("listing orders to backfill the report aggregates")?;
            let keys = page.items.unwrap_or_default();
            let keys: Vec<_> = keys
                .into_iter()
                .filter_map(|k| {
                    k.get("pk")
                        .map(|pk| [("pk".to_string(), pk.clone())].into())
                })
                .collect();
            // Read strongly: an older copy would be refused by the order's marker anyway, but
            // the latest is what the pass is for.
            let items =
                dropship_aws::repo::batch_get_consistent(&self.dynamodb, &self.tables.orders, keys)
                    .await?;
            for item in items {
                match dropship_aws::repo::from_item::<Order>(item) {
                    Ok(order) => {
                        self.aggregates.apply(&order, zone).await?;
                        applied += 1;
                    }
                    // Never applicable (the aggregator fails on it too, into its DLQ and its
                    // alarm): the pass goes on rather than stopping at it for good.
                    Err(err) => tracing::error!(
                        error = %format!("{err:#}"),
                        "an order that cannot be read is left out of the report aggregates"
                    ),
                }
            }
            match page.last_evaluated_key {
                Some(key) => state.cursor = Some(dropship_aws::repo::encode_next_token(&key)),
                None => {
                    state.cursor = None;
                    state.complete = true;
                }
            }
            self.aggregates.set_backfill(&state).await?;
            if state.complete {
                tracing::info!(applied, "the report aggregates are complete");
                break;
            }
        }
        Ok(applied)
    }
}
