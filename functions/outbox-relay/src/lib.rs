//! Recovers what a crash left behind, every minute:
//! - sends the routing message of every accepted order whose message may not have gone out (the
//!   intake crashed between storing the order and sending): the relay half of the transactional
//!   outbox, whose entries are the orders' own sparse `routePending` markers; an order younger
//!   than a minute is left to the intake itself;
//! - gives back the reservations of a large order whose routing stopped between its chunks and
//!   was never retried (`dropship_aws::repo::holds`), once the hold is older than any function
//!   runs.

mod config;
use chrono::{Duration, Utc};
pub use config::Config;
use dropship_aws::queue::Queue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::holds;
use dropship_aws::repo::orders::Orders;
use dropship_core::messages::RouteOrder;

pub struct OutboxRelay {
    pub orders: Orders,
    pub route_queue: Queue,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Only the orders (holds) and stock tables: giving back touches nothing else.
    pub tables: Tables,
    pub hold_max_age: Duration,
}

impl dropship_aws::config::FromConfig for OutboxRelay {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let dynamodb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            orders: Orders::new(dynamodb.clone(), config.orders_table.clone()),
            route_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.route_queue_url.clone(),
            ),
            dynamodb,
            tables: Tables {
                orders: config.orders_table.clone(),
                delivery_orders: String::new(),
                stock: config.stock_table.clone(),
                returns: None,
            },
            hold_max_age: Duration::seconds(config.reservation_hold_max_age_seconds),
        })
    }
}

impl OutboxRelay {
    pub async fn handle(&self, _event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let pending = self
            .orders
            .pending_route(Utc::now() - Duration::minutes(1), 200)
            .await?;
        let messages: Vec<RouteOrder> = pending
            .iter()
            .map(|id| RouteOrder {
                order_id: id.clone(),
            })
            .collect();
        self.route_queue.send_all(&messages).await?;
        for id in &pending {
            self.orders.clear_route_pending(id).await?;
        }
        if !pending.is_empty() {
            tracing::warn!(
                count = pending.len(),
                "re-sent routing messages from the outbox"
            );
        }
        let (holds, units) =
            holds::sweep(&self.dynamodb, &self.tables, Utc::now() - self.hold_max_age).await?;
        if holds > 0 {
            tracing::warn!(
                holds,
                units,
                "gave back the reservations of large orders whose routing stopped half-way"
            );
        }
        Ok(
            serde_json::json!({"resent": pending.len(), "holdsGivenBack": holds, "unitsGivenBack": units}),
        )
    }
}
