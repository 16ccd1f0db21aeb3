//! Sends the routing message of every accepted order whose message may not have gone out (the
//! intake crashed between storing the order and sending): the relay half of the transactional
//! outbox, whose entries are the orders' own sparse `routePending` markers. Runs every minute;
//! an order younger than a minute is left to the intake itself.

mod config;
use chrono::{Duration, Utc};
pub use config::Config;
use dropship_aws::queue::Queue;
use dropship_aws::repo::orders::Orders;
use dropship_core::messages::RouteOrder;

pub struct OutboxRelay {
    pub orders: Orders,
    pub route_queue: Queue,
}

impl dropship_aws::config::FromConfig for OutboxRelay {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        Ok(Self {
            orders: Orders::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.orders_table.clone(),
            ),
            route_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.route_queue_url.clone(),
            ),
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
        Ok(serde_json::json!({"resent": pending.len()}))
    }
}
