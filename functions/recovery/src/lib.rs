//! Recovers what a crash left behind, every minute: gives back the reservations of a large
//! order whose routing stopped between its chunks and was never retried
//! (`dropship_aws::repo::holds`), once the hold is older than any function runs. (Follow-up
//! messages need no recovery: they are committed with their change and sent by the change
//! relay from the orders table's stream.)

mod config;
use chrono::{Duration, Utc};
pub use config::Config;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::holds;

pub struct Recovery {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Only the orders (holds) and stock tables: giving back touches nothing else.
    pub tables: Tables,
    pub hold_max_age: Duration,
}

impl dropship_aws::config::FromConfig for Recovery {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let dynamodb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
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
        Ok(serde_json::json!({"holdsGivenBack": holds, "unitsGivenBack": units}))
    }
}
