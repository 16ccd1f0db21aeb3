//! The use cases: each takes a typed command, reads what it needs, plans with `dropship_core`,
//! commits one change through `retry::commit_with_retries` (the one retry loop) and then sends
//! its follow-ups. They work through the narrow traits of `ports`, which the DynamoDB and SQS
//! adapters of `aws` and the in-memory `fake` implement; the functions only parse, call and render.

pub mod aws;
pub mod fake;
pub mod fulfilment;
pub mod invoicing;
pub mod money;
pub mod orders;
pub mod ports;
pub mod repositories;
pub mod rerouting;
pub mod retry;
pub mod returns;
pub mod routing;
pub mod stock_counts;
#[cfg(test)]
mod testing;

pub use ports::{
    CatalogueReader, ChangeCommitter, ChangeSet, EventPublisher, InvoiceRegister, Message,
    OrderReader, RoutingReader,
};
pub use repositories::{QueueUrls, Repositories, TablesConfig};
pub use retry::ATTEMPTS;
