//! The workload profile (`tools/capacity/profile.json`): the order rates to model, the mix per
//! order, and per operation what it reads and writes, sends and takes, as read from the code.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Free text: where the figures come from (kept in the file, ignored by the model).
    #[serde(default)]
    pub note: Vec<String>,
    /// Orders per second to model.
    pub rates: Vec<f64>,
    pub mix: Mix,
    pub operations: Vec<Operation>,
    #[serde(default)]
    pub hot_keys: Vec<HotKey>,
    pub hot_sku: HotSku,
    /// The HTTP API's authorizer: invoked once per request on every route that has it.
    pub authorizer: Authorizer,
    pub quotas: Quotas,
    /// Orders whose items are stored (for the tables' size and storage partitions).
    pub stored_orders: f64,
    /// The same load after changes to the template, the quotas and the code (docs/capacity.md).
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

/// Changes to model on top of the template and the profile: raised quotas, template settings,
/// cached configuration, spread keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// Template parameters to read template.yaml with (over their defaults), such as the peak
    /// switches `PeakReservedConcurrency` and `PeakWarmThroughput`: what the template then
    /// sets (reserved concurrency, warm throughput) is what the scenario models, before its
    /// own settings below.
    #[serde(default)]
    pub template_parameters: BTreeMap<String, String>,
    /// Quotas to replace (by their names in `quotas`).
    #[serde(default)]
    pub quotas: BTreeMap<String, f64>,
    /// The HTTP API's route throttle (rate, burst).
    #[serde(default)]
    pub route_throttle: Option<(f64, f64)>,
    /// Function (binary) -> ReservedConcurrentExecutions, over the template's (a what-if).
    #[serde(default)]
    pub reserved_concurrency: BTreeMap<String, f64>,
    /// Function (binary) -> its SQS event source's ScalingConfig.MaximumConcurrency, over the
    /// template's.
    #[serde(default)]
    pub max_concurrency: BTreeMap<String, f64>,
    /// Hot keys the functions keep in memory: their reads leave DynamoDB.
    #[serde(default)]
    pub cached_hot_keys: Vec<String>,
    /// Orders per second to size what is sized by the load: the other hot keys' shards (number
    /// series for a counter), the promoted sku's stock shards, WarmThroughput of every table
    /// and index (the template's own WarmThroughput, where it sets one, is modelled instead:
    /// the figures then show whether it is enough).
    pub sized_for: f64,
    /// Warm throughput over the load at `sized_for`.
    pub warm_headroom: f64,
}

/// Order shapes (lines, delivery orders) with their share of orders, and how often the other
/// events happen per order or per delivery order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    pub shapes: Vec<Shape>,
    /// Event name -> how many per order (`per: order`) or per delivery order.
    #[serde(default)]
    pub events: BTreeMap<String, EventRate>,
    /// Share of SQS `BatchSize` an event-source batch carries on average without a batching
    /// window (with one, batches are taken as full).
    pub batch_fill: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub lines: f64,
    pub delivery_orders: f64,
    pub share: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRate {
    pub per: Unit,
    pub count: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Order,
    DeliveryOrder,
}

/// One thing the system does: the function that does it, what triggers it, how long it takes,
/// and what it costs in DynamoDB, SQS, S3 and SES.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub name: String,
    /// `order`, `delivery_order`, or an event of `mix.events`.
    pub driver: String,
    /// The function's binary name, as in template.yaml.
    pub function: String,
    /// `METHOD /path` of the HTTP API route, when the operation is a request.
    #[serde(default)]
    pub route: Option<String>,
    /// Invocation time per message or request, and what each line adds.
    pub duration_ms: f64,
    #[serde(default)]
    pub duration_ms_per_line: f64,
    #[serde(default)]
    pub dynamodb: Vec<Access>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub s3_puts: f64,
    #[serde(default)]
    pub s3_put_kb: f64,
    #[serde(default)]
    pub s3_gets: f64,
    #[serde(default)]
    pub mails: f64,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Eventually consistent read: 0.5 unit per 4 KB.
    Read,
    /// Strongly consistent read: 1 unit per 4 KB.
    StrongRead,
    /// Read in a transaction: 2 units per 4 KB.
    TransactRead,
    /// Write: 1 unit per 1 KB.
    Write,
    /// Write in a transaction: 2 units per 1 KB.
    TransactWrite,
}

impl Kind {
    pub fn is_read(self) -> bool {
        matches!(self, Kind::Read | Kind::StrongRead | Kind::TransactRead)
    }
}

/// Items of one table (or one index) read or written by one operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub table: String,
    #[serde(default)]
    pub index: Option<String>,
    pub kind: Kind,
    /// Items per operation, and per line (of the order, or of the delivery order for an
    /// operation driven by delivery orders).
    #[serde(default)]
    pub count: f64,
    #[serde(default)]
    pub count_per_line: f64,
    /// Items per delivery order of the order (for an operation driven by orders).
    #[serde(default)]
    pub count_per_delivery_order: f64,
    /// Size of one item (a query: of all it returns) in KB, what each line (as above) adds, and
    /// what each line of the whole order adds (an order item read per delivery order).
    pub kb: f64,
    #[serde(default)]
    pub kb_per_line: f64,
    #[serde(default)]
    pub kb_per_order_line: f64,
    /// The one key (of `hot_keys`) every such access goes to.
    #[serde(default)]
    pub hot_key: Option<String>,
    /// The write creates an item that stays (counts toward the table's size).
    #[serde(default)]
    pub creates: bool,
    #[serde(default)]
    pub what: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub queue: String,
    #[serde(default)]
    pub count: f64,
    /// Messages per delivery order of the order (for an operation driven by orders).
    #[serde(default)]
    pub count_per_delivery_order: f64,
    /// SQS requests that send them per operation (SendMessageBatch sends up to 10 in one);
    /// default: one each.
    #[serde(default)]
    pub requests: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorizer {
    pub function: String,
    pub duration_ms: f64,
}

/// One key that takes a share of every order's traffic (a constant index partition key, a
/// counter, a configuration item everybody reads): the accesses naming it add up its load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotKey {
    pub name: String,
    /// For a key changed by read-then-conditional-write (a counter): the time of one cycle;
    /// such a key takes at most 1000 / cycle_ms changes per second, whatever its units.
    #[serde(default)]
    pub serial_cycle_ms: Option<f64>,
    /// Keys (or number series) the load is spread over.
    #[serde(default = "one")]
    pub shards: f64,
    #[serde(default)]
    pub source: String,
}

fn one() -> f64 {
    1.0
}

/// The promoted sku: the share of orders that reserve it, and what one reservation writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotSku {
    pub share_of_orders: f64,
    pub write_units_per_reservation: f64,
    /// The scenario: reservations per second on the one sku.
    pub scenario_reservations_per_second: f64,
    /// Share of the per-item limit to plan for (headroom for bursts and uneven shards).
    pub target_utilisation: f64,
    /// Stock items the sku's reservations are spread over.
    #[serde(default = "one")]
    pub shards: f64,
}

/// Account and service quotas (defaults unless raised), and the per-partition limits.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    pub lambda_account_concurrency: f64,
    pub sqs_event_source_max_concurrency: f64,
    pub sqs_in_flight_per_queue: f64,
    pub fifo_messages_per_second: f64,
    pub api_account_rps: f64,
    pub api_account_burst: f64,
    pub ses_mails_per_second: f64,
    pub ses_mails_per_day: f64,
    pub table_read_units: f64,
    pub table_write_units: f64,
    pub new_table_read_units: f64,
    pub new_table_write_units: f64,
    pub partition_read_units: f64,
    pub partition_write_units: f64,
    pub partition_gb: f64,
}
