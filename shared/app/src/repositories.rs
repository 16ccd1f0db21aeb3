//! The adapters a function's use cases work through, owned and built once at start from the
//! function's configuration; they hand out the ports (`store`, `queues`) per request.

use crate::aws::{Queues, Store};
use dropship_aws::config::SdkConfig;
use dropship_aws::queue::Queue;
use dropship_aws::repo::changes::Tables;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::repo::stock::Stock;

/// The tables every store changes together; part of each function's configuration
/// (`#[serde(flatten)]`), so the variables keep their names.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TablesConfig {
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub stock_table: String,
}

/// The urls of the queues a function sends follow-ups to; it names only those it has.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueUrls<'a> {
    pub events: Option<&'a str>,
    pub documents: Option<&'a str>,
    pub route: Option<&'a str>,
    pub returns: Option<&'a str>,
}

/// Orders, delivery orders, stock and (for the functions that work on returns) returns in
/// DynamoDB, and the queues the use cases' follow-ups go to.
pub struct Repositories {
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub stock: Stock,
    returns: Option<Returns>,
    pub dynamodb: aws_sdk_dynamodb::Client,
    tables: Tables,
    events_queue: Option<Queue>,
    documents_queue: Option<Queue>,
    route_queue: Option<Queue>,
    returns_queue: Option<Queue>,
}

impl Repositories {
    /// The tables and these queues; no returns until `with_returns`.
    pub fn new(aws: &SdkConfig, tables: &TablesConfig, queues: QueueUrls<'_>) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        let sqs = aws_sdk_sqs::Client::new(aws);
        let queue = |url: Option<&str>| url.map(|u| Queue::new(sqs.clone(), u.to_string()));
        Repositories {
            orders: Orders::new(dynamodb.clone(), tables.orders_table.clone()),
            delivery_orders: DeliveryOrders::new(
                dynamodb.clone(),
                tables.delivery_orders_table.clone(),
            ),
            stock: Stock::new(dynamodb.clone(), tables.stock_table.clone()),
            returns: None,
            tables: Tables {
                orders: tables.orders_table.clone(),
                delivery_orders: tables.delivery_orders_table.clone(),
                stock: tables.stock_table.clone(),
                returns: None,
            },
            events_queue: queue(queues.events),
            documents_queue: queue(queues.documents),
            route_queue: queue(queues.route),
            returns_queue: queue(queues.returns),
            dynamodb,
        }
    }

    /// With the returns table: the store reads return parts and commits changes of them.
    pub fn with_returns(self, returns_table: &str) -> Self {
        Repositories {
            returns: Some(Returns::new(
                self.dynamodb.clone(),
                returns_table.to_string(),
            )),
            tables: Tables {
                returns: Some(returns_table.to_string()),
                ..self.tables
            },
            ..self
        }
    }

    /// The returns table, for what the use cases do not cover (a fulfiller's list of returns).
    pub fn returns(&self) -> anyhow::Result<&Returns> {
        self.returns
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("this function has no returns table"))
    }

    /// Orders, delivery orders (and returns) as the use cases read and change them.
    pub fn store(&self) -> Store<'_> {
        let store = Store::new(
            &self.orders,
            &self.delivery_orders,
            &self.dynamodb,
            &self.tables,
        );
        match &self.returns {
            Some(returns) => store.with_returns(returns),
            None => store,
        }
    }

    /// Where the use cases' follow-ups go.
    pub fn queues(&self) -> Queues<'_> {
        Queues {
            events: self.events_queue.as_ref(),
            documents: self.documents_queue.as_ref(),
            route: self.route_queue.as_ref(),
            returns: self.returns_queue.as_ref(),
        }
    }

    /// The order as its channel reads it (`GET /orders/{orderId}`): its delivery orders and
    /// returns, no fulfiller named anywhere. The order-api answers with it and webhooks send it.
    pub async fn channel_order_view(
        &self,
        order: &dropship_core::order::Order,
    ) -> anyhow::Result<serde_json::Value> {
        let deliveries = self
            .delivery_orders
            .get_many(&order.delivery_order_ids)
            .await?;
        let mut view = dropship_core::views::channel_order(order, &deliveries);
        let mut returns = Vec::new();
        for id in &order.return_ids {
            returns.push(dropship_core::returns::channel_view(
                &self.returns()?.parts(id).await?,
            ));
        }
        view["returns"] = serde_json::Value::Array(returns);
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{EventPublisher, Message, OrderReader};
    use dropship_core::messages::RouteOrder;

    /// Flattened into a function's configuration, the tables keep their variables' names.
    #[derive(Debug, serde::Deserialize)]
    struct Config {
        #[serde(flatten)]
        tables: TablesConfig,
        events_queue_url: String,
    }

    fn repositories() -> Repositories {
        let config: Config = dropship_aws::config::offline_config().unwrap();
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            ..QueueUrls::default()
        };
        Repositories::new(&dropship_aws::config::offline(), &config.tables, queues)
    }

    #[test]
    fn the_tables_come_from_their_variables() {
        let r = repositories();
        assert_eq!(
            (
                r.tables.orders.as_str(),
                r.tables.delivery_orders.as_str(),
                r.tables.stock.as_str(),
                r.tables.returns.as_deref()
            ),
            ("OrdersTable", "DeliveryOrdersTable", "StockTable", None)
        );
        let r = r.with_returns("ReturnsTable");
        assert_eq!(r.tables.returns.as_deref(), Some("ReturnsTable"));
        assert!(r.returns().is_ok() && r.store().returns.is_some());
    }

    #[tokio::test]
    async fn a_function_without_a_table_or_queue_says_so_without_calling_aws() {
        let r = repositories();
        let read = r.store().return_parts("RT-1").await;
        assert_eq!(
            read.map_err(|e| e.to_string()).err().as_deref(),
            Some("this function has no returns table")
        );
        let message = Message::Route(RouteOrder::new("o1".try_into().unwrap()));
        let sent = r.queues().publish(&message).await;
        assert_eq!(
            sent.map_err(|e| e.to_string()).err().as_deref(),
            Some("this function has no route queue")
        );
    }
}
