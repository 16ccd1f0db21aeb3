//! The end-to-end tests: one test binary, a module per area, so the harness (`support`: a
//! whole local stack per test; `setup`: the small retailer most tests start from) compiles and
//! links once. Every test starts its own stack on free ports, so tests running side by side
//! share nothing but the machine.
//!
//! One area: `cargo test -p e2e-tests --test e2e intake::`; one test: its path, e.g.
//! `cargo test -p e2e-tests --test e2e reliability::orders_survive`. The benchmarks
//! (`bench_system`, `bench_intake`) are ignored tests here, run by `make bench` and
//! `make bench-intake`.
//! Needs `cargo build --workspace --bins` first (the runner does not build anything).

mod browser;
mod setup;
mod support;

mod alerting;
mod authorization;
mod bad_input;
mod bench_console;
mod bench_hot_sku;
mod bench_intake;
mod bench_reports;
mod bench_system;
mod bench_webhooks;
mod big_order;
mod change_feed;
mod configuration;
mod console;
mod contract;
mod crash_after_commit;
mod dead_letters;
mod documents;
mod emulator;
mod faults;
mod finance_export;
mod fulfilment;
mod handlers;
mod intake;
mod least_privilege;
mod mails;
mod outbox;
mod portal;
mod portal_home;
mod prices;
mod process;
mod races;
mod reliability;
mod repeated_skus;
mod report_aggregates;
mod report_jobs;
mod reports;
mod returns;
mod routing;
mod runner_errors;
mod schema;
mod service;
mod staff;
mod stock_feed_excel;
mod supply_vat;
mod template;
mod tokens;
mod walking_skeleton;
mod webhooks;
