//! Routing time for 100 lines x 20 sources (`make bench-routing`): the figures in BENCHMARKS.md.
//! Three shapes: stock everywhere (one fulfiller serves all), stock scattered so that several
//! fulfillers are needed (the exact search works hardest), and no single source with enough
//! (every line split).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark: its figures go to the terminal"
)]

use dropship_core::ids::{FulfillerId, Sku};
use dropship_core::routing::{route, Candidate, LineDemand};
use std::time::Instant;

fn lines(available: impl Fn(usize, usize) -> u32) -> Vec<LineDemand> {
    // Every `SKU-<n>` is a valid sku and every `f<nn>` a valid fulfiller id, so none is dropped.
    (0..100)
        .filter_map(|i| {
            Some(LineDemand {
                line_id: format!("L{i}"),
                sku: Sku::try_from(format!("SKU-{i}")).ok()?,
                quantity: 2,
                allow_backorder: true,
                candidates: (0..20)
                    .map(|f| {
                        Some(Candidate {
                            fulfiller_id: FulfillerId::try_from(format!("f{f:02}")).ok()?,
                            priority: ((f + i) % 7) as u32,
                            own_warehouse: f == 0,
                            available: available(i, f),
                        })
                    })
                    .collect::<Option<_>>()?,
            })
        })
        .collect()
}

/// Units of stock at (line, fulfiller).
type Stock = Box<dyn Fn(usize, usize) -> u32>;

fn main() {
    let shapes: [(&str, Stock); 3] = [
        ("stock everywhere", Box::new(|_, _| 10)),
        (
            "scattered stock",
            Box::new(|i, f| if (i * 7 + f * 3) % 5 == 0 { 10 } else { 0 }),
        ),
        ("every line split", Box::new(|_, _| 1)),
    ];
    println!("| shape (100 lines x 20 sources) | delivery orders | p50 | max |");
    println!("|---|---|---|---|");
    for (name, available) in shapes {
        let input = lines(available);
        let mut times = Vec::new();
        let mut delivery_orders = 0;
        for _ in 0..50 {
            let started = Instant::now();
            let plan = route(&input);
            times.push(started.elapsed());
            delivery_orders = plan.shipments.len();
        }
        times.sort();
        println!(
            "| {name} | {delivery_orders} | {:.2} ms | {:.2} ms |",
            times[25].as_secs_f64() * 1e3,
            times[49].as_secs_f64() * 1e3
        );
    }
}
