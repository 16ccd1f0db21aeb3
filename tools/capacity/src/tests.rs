//! The model on a small template and profile whose figures are worked out by hand, and the
//! committed profile against the units BENCHMARKS.md measured.

use crate::limits;
use crate::model::{self, PartitionLimits};
use crate::prices::Prices;
use crate::profile::{Kind, Profile};
use crate::template;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Also the template module's fixture: globals, a reserved concurrency, a batching window, an
/// event source's maximum concurrency, a route without the authorizer, warm throughput, and a
/// peak switch (a parameter, its condition, `Fn::If` short and long) that is off by default.
pub(crate) const TEMPLATE: &str = r#"
Parameters:
  Peak: { Type: String, Default: "false", AllowedValues: ["false", "true"] }
Conditions:
  PeakOn: !Equals [!Ref Peak, "true"]
Globals:
  Function: { MemorySize: 256, Timeout: 15 }
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties: { DefaultRouteSettings: { ThrottlingBurstLimit: 20, ThrottlingRateLimit: 10 } }
  IntakeFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: intake } }
    Properties:
      MemorySize: 1024
      Events:
        Post: { Type: HttpApi, Properties: { ApiId: !Ref HttpApi, Method: post, Path: /orders } }
        Doc: { Type: HttpApi, Properties: { ApiId: !Ref HttpApi, Method: GET, Path: /d, Auth: { Authorizer: NONE } } }
  AuthFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: auth } }
    Properties: { MemorySize: 512, Timeout: 5 }
  RouterFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: router } }
    Properties:
      MemorySize: 2048
      ReservedConcurrentExecutions: !If [PeakOn, 40, !Ref AWS::NoValue]
      Events:
        Q: { Type: SQS, Properties: { Queue: !GetAtt RouteQueue.Arn, BatchSize: 10 } }
  DocumentsFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: documents } }
    Properties:
      ReservedConcurrentExecutions: 50
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt DocumentsQueue.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            ScalingConfig: { MaximumConcurrency: 20 }
  RouteQueue:
    Type: AWS::SQS::Queue
  DocumentsQueue:
    Type: AWS::SQS::Queue
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      WarmThroughput: { ReadUnitsPerSecond: 12000, WriteUnitsPerSecond: 8000 }
      GlobalSecondaryIndexes:
        - IndexName: byCreated
          WarmThroughput: { "Fn::If": [PeakOn, { WriteUnitsPerSecond: 4100 }, { Ref: AWS::NoValue }] }
"#;

/// Two shapes, half the orders each: 1 line in 1 delivery order, 3 lines in 2.
const PROFILE: &str = r#"{
  "rates": [10],
  "stored_orders": 1000000,
  "mix": {
    "shapes": [{"lines": 1, "delivery_orders": 1, "share": 1}, {"lines": 3, "delivery_orders": 2, "share": 1}],
    "events": {"read": {"per": "delivery_order", "count": 2}},
    "batch_fill": 0.5
  },
  "operations": [
    {"name": "intake", "driver": "order", "function": "intake", "route": "POST /orders", "duration_ms": 100,
     "dynamodb": [
       {"table": "OrdersTable", "kind": "write", "count": 1, "kb": 1.1, "kb_per_line": 0.3, "creates": true, "hot_key": "ORDERS"},
       {"table": "OrdersTable", "index": "byCreated", "kind": "write", "count": 1, "kb": 0.2, "hot_key": "ORDERS"}],
     "messages": [{"queue": "RouteQueue", "count": 1}]},
    {"name": "route", "driver": "order", "function": "router", "duration_ms": 200, "duration_ms_per_line": 100,
     "dynamodb": [
       {"table": "OrdersTable", "kind": "strong_read", "count": 1, "kb": 1.1, "kb_per_line": 0.3},
       {"table": "OrdersTable", "kind": "transact_write", "count_per_delivery_order": 1, "kb": 0.5}]},
    {"name": "reads", "driver": "read", "function": "router", "duration_ms": 0,
     "dynamodb": [{"table": "OrdersTable", "kind": "read", "count": 1, "kb": 8}]}
  ],
  "hot_keys": [{"name": "ORDERS"}],
  "hot_sku": {"share_of_orders": 0.4, "write_units_per_reservation": 2, "scenario_reservations_per_second": 2000, "target_utilisation": 0.8},
  "authorizer": {"function": "auth", "duration_ms": 10},
  "quotas": {
    "lambda_account_concurrency": 1000, "sqs_event_source_max_concurrency": 1000, "sqs_in_flight_per_queue": 120000,
    "fifo_messages_per_second": 300, "api_account_rps": 10000, "api_account_burst": 5000,
    "ses_mails_per_second": 14, "ses_mails_per_day": 50000, "table_read_units": 40000, "table_write_units": 40000,
    "new_table_read_units": 12000, "new_table_write_units": 4000,
    "partition_read_units": 3000, "partition_write_units": 1000, "partition_gb": 10
  }
}"#;

fn fixture() -> (Profile, template::Infra) {
    (
        serde_json::from_str(PROFILE).unwrap(),
        template::parse(TEMPLATE).unwrap(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn read_units_count_4_kb_blocks_at_half_one_or_two_units() {
    assert_eq!(model::read_units(Kind::Read, 5.0), 1.0);
    assert_eq!(model::read_units(Kind::Read, 0.2), 0.5);
    assert_eq!(model::read_units(Kind::StrongRead, 4.0), 1.0);
    assert_eq!(model::read_units(Kind::StrongRead, 4.1), 2.0);
    assert_eq!(model::read_units(Kind::TransactRead, 1.0), 2.0);
    assert_eq!(model::read_units(Kind::Write, 1.0), 0.0);
}

#[test]
fn write_units_count_1_kb_blocks_doubled_in_a_transaction() {
    assert_eq!(model::write_units(Kind::Write, 2.5), 3.0);
    assert_eq!(model::write_units(Kind::Write, 0.1), 1.0);
    assert_eq!(model::write_units(Kind::TransactWrite, 0.3), 2.0);
    assert_eq!(model::write_units(Kind::TransactWrite, 2.0), 4.0);
    assert_eq!(model::write_units(Kind::StrongRead, 2.0), 0.0);
}

#[test]
fn partitions_follow_throughput_or_size_whichever_needs_more() {
    let per = PartitionLimits {
        read_units: 3000.0,
        write_units: 1000.0,
        gb: 10.0,
    };
    // Half a partition of reads and of writes: together one full one, and a second.
    assert_eq!(model::partitions(3000.0, 1000.0, 0.0, &per), 2.0);
    assert_eq!(model::partitions(1500.0, 500.0, 0.0, &per), 1.0);
    assert_eq!(model::partitions(100.0, 100.0, 25.0, &per), 3.0);
    assert_eq!(model::partitions(6001.0, 0.0, 5.0, &per), 3.0);
    assert_eq!(model::partitions(0.0, 0.0, 0.0, &per), 1.0);
}

#[test]
fn concurrency_is_rate_times_duration() {
    assert!(close(model::concurrency(1000.0, 41.4), 41.4));
    assert!(close(model::concurrency(5000.0, 54.3), 271.5));
}

#[test]
fn the_hot_sku_needs_five_shards_for_2000_reservations_at_80_percent() {
    // 2,000 reservations x 2 units = 4,000 units/s; 800 usable per item.
    assert_eq!(model::shards_needed(2000.0, 2.0, 1000.0, 0.8), 5.0);
    assert_eq!(model::shards_needed(2000.0, 2.0, 1000.0, 1.0), 4.0);
    assert_eq!(model::shards_needed(100.0, 2.0, 1000.0, 0.8), 1.0);
}

#[test]
fn per_order_weighs_every_operation_over_the_shapes() {
    let (profile, infra) = fixture();
    let load = model::per_order(&profile, &infra).unwrap();
    let orders = &load.tables["OrdersTable"];
    // Intake: 1.4 and 2.0 KB -> 2 units each. Route: 1 and 2 delivery orders x 2 (transaction) -> 3.
    assert!(close(orders.write_units, 5.0));
    // Route reads the order (1 unit either way); reads: 2 per delivery order (3 on average) x 0.5 x 2 blocks.
    assert!(close(orders.read_units, 4.0));
    assert!(close(orders.stored_kb, 1.7));
    assert!(close(load.tables["OrdersTable/byCreated"].write_units, 1.0));
    let hot = &load.hot_keys["ORDERS"];
    assert!(close(hot.write_units, 3.0));
    assert!(close(hot.writes, 2.0));
    let router = &load.functions["router"];
    // Messages: 1 routing + 3 reads; 300 and 500 ms routing; batches of 10 x 0.5.
    assert!(close(router.handled, 4.0));
    assert!(close(router.busy_ms, 400.0));
    assert!(close(router.invocations, 0.8));
    assert!(close(router.gb_seconds, 0.8));
    let auth = &load.functions["auth"];
    assert!(close(auth.invocations, 1.0));
    assert!(close(auth.gb_seconds, 0.005));
    // 1 send, and a receive and a delete per batch.
    assert!(close(load.sqs_requests, 2.6));
    assert!(close(load.api_requests, 1.0));
    let route = &load.operations[1];
    assert_eq!(
        (route.name.as_str(), route.function.as_str()),
        ("route", "router")
    );
    assert!(close(route.count, 1.0));
    assert!(close(route.read_units, 1.0));
    assert!(close(route.write_units, 3.0));
    assert!(close(load.operations[2].count, 3.0));
    assert!(close(load.lines, 2.0));
    assert!(close(load.delivery_orders, 1.5));
}

#[test]
fn cost_per_thousand_orders_adds_up_the_services() {
    let (profile, infra) = fixture();
    let load = model::per_order(&profile, &infra).unwrap();
    let cost = model::cost_per_thousand(&load, &Prices::eu_central_1());
    let d = |s: &str| Decimal::from_str(s).unwrap();
    // 4,000 read units at $0.1525 per million; 6,000 write units at $0.7625 per million.
    assert_eq!(cost.dynamodb_reads, d("0.00061"));
    assert_eq!(cost.dynamodb_writes, d("0.004575"));
    // 2,800 invocations at $0.20 per million + 905 GB-s at $0.0000133334.
    assert_eq!(cost.lambda, d("0.012627"));
    assert_eq!(cost.sqs, d("0.00104"));
    assert_eq!(cost.api_gateway, d("0.0012"));
    assert_eq!(cost.s3, Decimal::ZERO);
    assert_eq!(cost.total_without_ses, d("0.020052"));
    assert_eq!(cost.total, d("0.020052"));
}

#[test]
fn the_lowest_ceiling_bites_first() {
    let (profile, infra) = fixture();
    let load = model::per_order(&profile, &infra).unwrap();
    let mut checks = limits::checks(&profile, &infra, &load);
    checks.sort_by(|a, b| a.ceiling().total_cmp(&b.ceiling()));
    // The template's 10 requests/s per route: 10 orders/s.
    assert_eq!(
        checks[0].name,
        "POST /orders: the template's route throttle"
    );
    assert!(close(checks[0].ceiling(), 10.0));
    assert!(close(checks[0].utilisation(20.0), 2.0));
    let hot = checks
        .iter()
        .find(|c| c.name == "ORDERS: write units on one key")
        .unwrap();
    assert!(close(hot.ceiling(), 1000.0 / 3.0));
    // The router: 0.4 executions per order/s against the event source's 1,000.
    let router = checks
        .iter()
        .find(|c| c.name == "router: concurrent executions")
        .unwrap();
    assert!(close(router.ceiling(), 2500.0));
    // No mails: SES never bites.
    let ses = checks
        .iter()
        .find(|c| c.name == "mails per second (sending rate)")
        .unwrap();
    assert!(ses.ceiling().is_infinite());
}

#[test]
fn an_unknown_table_queue_or_route_is_refused() {
    let (mut profile, infra) = fixture();
    profile.operations[0].dynamodb[0].table = "NoSuchTable".into();
    assert!(model::per_order(&profile, &infra)
        .unwrap_err()
        .contains("NoSuchTable"));
    let (mut profile, _) = fixture();
    profile.operations[0].messages[0].queue = "NoSuchQueue".into();
    assert!(model::per_order(&profile, &infra)
        .unwrap_err()
        .contains("NoSuchQueue"));
    let (mut profile, _) = fixture();
    profile.operations[0].dynamodb[1].index = Some("byNothing".into());
    assert!(model::per_order(&profile, &infra)
        .unwrap_err()
        .contains("byNothing"));
    let (mut profile, _) = fixture();
    profile.operations[0].route = Some("GET /nowhere".into());
    assert!(model::per_order(&profile, &infra)
        .unwrap_err()
        .contains("GET /nowhere"));
}

/// The committed profile, for the order BENCHMARKS.md measured (3 lines over 3 fulfillers,
/// intake to mails sent): 49 write units and 34.5 read units ("DynamoDB capacity per order"),
/// with what changed since (below).
#[test]
fn the_committed_profile_reproduces_the_measured_pipeline() {
    let mut profile: Profile = serde_json::from_str(include_str!("../profile.json")).unwrap();
    let infra = template::parse(include_str!("../../../template.yaml")).unwrap();
    profile.mix.shapes = vec![crate::profile::Shape {
        lines: 3.0,
        delivery_orders: 3.0,
        share: 1.0,
    }];
    let pipeline = [
        "order intake",
        "routing",
        "delivery order documents",
        "mail: order confirmed",
        "mail: documents ready (to the fulfiller)",
    ];
    profile
        .operations
        .retain(|op| pipeline.contains(&op.name.as_str()));
    assert_eq!(profile.operations.len(), pipeline.len());
    let load = model::per_order(&profile, &infra).unwrap();
    let writes: f64 = load.tables.values().map(|t| t.write_units).sum();
    let reads: f64 = load.tables.values().map(|t| t.read_units).sum();
    // BENCHMARKS.md measured 49 with the routePending marker's two index writes (set at
    // intake, removed at routing), which the outbox on the order item replaced (47); the
    // change feed's byChannelUpdated index adds 3: its entry written at intake (1) and moved
    // by routing's order write (a delete and a put, 2); the customer page's byCustomer index
    // adds its entry at intake (1).
    assert!(close(writes, 51.0), "write units {writes}");
    // 34.5 measured before the intake read list prices (one item per line, 3 x 0.5) and
    // queried the promotions (0.5).
    assert!(close(reads, 36.5), "read units {reads}");
    assert!(close(load.mails, 4.0));
    assert!(close(load.s3_puts, 9.0));
}

fn scenario(json: &str) -> crate::profile::Scenario {
    serde_json::from_str(json).unwrap()
}

#[test]
fn a_scenario_raises_quotas_caches_keys_and_sizes_shards_and_warm_throughput() {
    let (mut profile, infra) = fixture();
    // A configuration item every order reads once (0.5 units), kept in memory by the scenario.
    profile
        .hot_keys
        .push(serde_json::from_str(r#"{"name": "CONFIG"}"#).unwrap());
    profile.operations[0].dynamodb.push(
        serde_json::from_str(
            r#"{"table": "OrdersTable", "kind": "read", "count": 1, "kb": 1, "hot_key": "CONFIG"}"#,
        )
        .unwrap(),
    );
    let s = scenario(
        r#"{"name": "after", "quotas": {"lambda_account_concurrency": 3000},
            "route_throttle": [5000, 2000], "reserved_concurrency": {"router": 50},
            "max_concurrency": {"documents": 30}, "cached_hot_keys": ["CONFIG"],
            "sized_for": 1000, "warm_headroom": 1.2}"#,
    );
    let (p, i, sized) = crate::scenario::apply(&profile, &infra, &s).unwrap();
    assert_eq!(p.quotas.lambda_account_concurrency, 3000.0);
    assert_eq!(p.quotas.api_account_rps, 10000.0);
    assert_eq!(i.route_throttle, Some((5000.0, 2000.0)));
    assert_eq!(
        i.function("router").unwrap().reserved_concurrency,
        Some(50.0)
    );
    assert_eq!(
        i.function("documents")
            .unwrap()
            .queue
            .as_ref()
            .unwrap()
            .max_concurrency,
        Some(30.0)
    );
    // The cached read is gone; the orders' own reads stay (4 units, as without CONFIG).
    let load = model::per_order(&p, &i).unwrap();
    assert!(close(load.tables["OrdersTable"].read_units, 4.0));
    assert!(p.hot_keys.iter().all(|h| h.name != "CONFIG"));
    // ORDERS: 3 write units per order x 1,000 orders/s over 800 a key -> 4 keys; the promoted
    // sku: 400 reservations x 2 units -> 1 item.
    let shards: Vec<(&str, f64)> = sized
        .shards
        .iter()
        .map(|s| (s.key.as_str(), s.shards))
        .collect();
    assert_eq!(shards, vec![("ORDERS", 4.0), ("promoted sku", 1.0)]);
    // 4 read and 5 write units per order x 1,000 x 1.2, to the next thousand; the template's
    // own warm throughput on OrdersTable is what is modelled, the sized one where it has none.
    let orders = sized.warm.iter().find(|w| w.name == "OrdersTable").unwrap();
    assert_eq!(
        (orders.read_units_per_second, orders.write_units_per_second),
        (5000.0, 6000.0)
    );
    assert_eq!(orders.template, Some((12000.0, 8000.0)));
    assert_eq!(i.warm.get("OrdersTable"), Some(&(12000.0, 8000.0)));
    assert_eq!(i.warm.get("OrdersTable/byCreated"), Some(&(1000.0, 2000.0)));
    let checks = limits::checks(&p, &i, &load);
    let hot = checks
        .iter()
        .find(|c| c.name == "ORDERS: write units on 4 keys")
        .unwrap();
    assert!(close(hot.ceiling(), 4000.0 / 3.0));
    let router = checks
        .iter()
        .find(|c| c.name == "router: concurrent executions")
        .unwrap();
    assert!(close(router.limit, 50.0));
}

#[test]
fn a_scenario_naming_what_does_not_exist_is_refused() {
    let (profile, infra) = fixture();
    let base = r#""sized_for": 1000, "warm_headroom": 1.2"#;
    for (bad, what) in [
        (r#""quotas": {"no_such_quota": 1}"#, "no_such_quota"),
        (r#""max_concurrency": {"intake": 5}"#, "intake"),
        (r#""reserved_concurrency": {"nobody": 5}"#, "nobody"),
        (r#""cached_hot_keys": ["NOTHING"]"#, "NOTHING"),
    ] {
        let s = scenario(&format!(r#"{{"name": "x", {bad}, {base}}}"#));
        let err = crate::scenario::apply(&profile, &infra, &s).unwrap_err();
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn a_scenario_reads_the_template_with_its_parameters() {
    let (profile, infra) = fixture();
    let s = scenario(
        r#"{"name": "peak", "template_parameters": {"Peak": "true"},
            "sized_for": 1000, "warm_headroom": 1.2}"#,
    );
    let (_, i, sized) = crate::scenario::apply(&profile, &infra, &s).unwrap();
    assert_eq!(i.parameters["Peak"], "true");
    assert!(i.conditions["PeakOn"]);
    assert_eq!(
        i.function("router").unwrap().reserved_concurrency,
        Some(40.0)
    );
    // The template's index setting (write only) is modelled, not the sized 1,000 / 2,000.
    assert_eq!(i.warm.get("OrdersTable/byCreated"), Some(&(0.0, 4100.0)));
    let by_created = sized
        .warm
        .iter()
        .find(|w| w.name == "OrdersTable/byCreated")
        .unwrap();
    assert_eq!(by_created.template, Some((0.0, 4100.0)));
    // The base figures are still the defaults'.
    assert_eq!(infra.function("router").unwrap().reserved_concurrency, None);

    let s = scenario(
        r#"{"name": "typo", "template_parameters": {"Peek": "true"},
            "sized_for": 1000, "warm_headroom": 1.2}"#,
    );
    let err = crate::scenario::apply(&profile, &infra, &s).unwrap_err();
    assert!(err.contains("typo") && err.contains("Peek"), "{err}");
}

fn committed() -> (Profile, template::Infra) {
    (
        serde_json::from_str(include_str!("../profile.json")).unwrap(),
        template::parse(include_str!("../../../template.yaml")).unwrap(),
    )
}

/// The peak settings are off as a new stack deploys the template, and on with the switches.
#[test]
fn the_committed_template_reserves_and_warms_only_with_its_peak_switches() {
    let (_, infra) = committed();
    for f in ["order-intake", "authorizer"] {
        assert_eq!(infra.function(f).unwrap().reserved_concurrency, None, "{f}");
    }
    assert!(infra.warm.is_empty(), "{:?}", infra.warm);
    let on = |k: &str| [(k.to_string(), "true".to_string())].into_iter().collect();
    let peak = infra
        .with_parameters(&on("PeakReservedConcurrency"))
        .unwrap();
    let reserved = |i: &template::Infra, f: &str| i.function(f).unwrap().reserved_concurrency;
    assert_eq!(reserved(&peak, "order-intake"), Some(200.0));
    assert_eq!(reserved(&peak, "authorizer"), Some(100.0));
    assert!(peak.warm.is_empty());
    let peak = infra.with_parameters(&on("PeakWarmThroughput")).unwrap();
    assert_eq!(reserved(&peak, "order-intake"), None);
    assert_eq!(peak.warm.get("OrdersTable"), Some(&(122000.0, 184000.0)));
    assert_eq!(
        peak.warm.get("OrdersTable/byCreated"),
        Some(&(0.0, 21000.0))
    );
}

/// The committed scenario restates what the template sets with its switches on (so the two
/// cannot drift apart unnoticed), and with them no limit is reached at the rate it is sized for:
/// the template's warm throughput and reserved concurrency cover the peak.
#[test]
fn the_recommendations_agree_with_the_template_and_reach_no_limit_at_their_peak() {
    let (profile, infra) = committed();
    assert!(!profile.scenarios.is_empty());
    for s in &profile.scenarios {
        let peak = infra.with_parameters(&s.template_parameters).unwrap();
        for (f, n) in &s.reserved_concurrency {
            let t = peak.function(f).unwrap().reserved_concurrency;
            assert_eq!(t, Some(*n), "{}: {f}", s.name);
        }
        for (f, n) in &s.max_concurrency {
            let t = peak
                .function(f)
                .unwrap()
                .queue
                .as_ref()
                .unwrap()
                .max_concurrency;
            assert_eq!(t, Some(*n), "{}: {f}", s.name);
        }
    }
    let report = crate::report::build(&profile, &infra).unwrap();
    for (sr, s) in report.scenarios.iter().zip(&profile.scenarios) {
        let level = sr
            .report
            .levels
            .iter()
            .find(|l| l.orders_per_second == s.sized_for)
            .unwrap();
        assert!(level.over.is_empty(), "{}: {:?}", s.name, level.over);
        // Every table and index the peak needs warmed beyond the on-demand baseline is warmed
        // by the template itself.
        let q = &profile.quotas;
        for w in &sr.sized.warm {
            let (r, wr) = w.template.unwrap_or((0.0, 0.0));
            if w.read_units_per_second > q.new_table_read_units {
                assert!(r >= w.read_units_per_second, "{}: {w:?}", w.name);
            }
            if w.write_units_per_second > q.new_table_write_units {
                assert!(wr >= w.write_units_per_second, "{}: {w:?}", w.name);
            }
        }
    }
}
