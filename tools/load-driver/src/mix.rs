//! The operations of the mix, their weights, and the bodies the driver sends (openapi.yaml).

use anyhow::{bail, Context, Result};
use rand::Rng;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    CreateOrder,
    GetOrder,
    ListDeliveryOrders,
    Ship,
    Return,
    StockUpdate,
    Report,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::CreateOrder,
        Op::GetOrder,
        Op::ListDeliveryOrders,
        Op::Ship,
        Op::Return,
        Op::StockUpdate,
        Op::Report,
    ];

    /// The key in `--mix` and in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Op::CreateOrder => "create",
            Op::GetOrder => "get",
            Op::ListDeliveryOrders => "list",
            Op::Ship => "ship",
            Op::Return => "return",
            Op::StockUpdate => "stock",
            Op::Report => "report",
        }
    }

    pub fn route(self) -> &'static str {
        match self {
            Op::CreateOrder => "POST /orders",
            Op::GetOrder => "GET /orders/{id}",
            Op::ListDeliveryOrders => "GET /fulfiller/delivery-orders",
            Op::Ship => "POST /fulfiller/delivery-orders/{id}/shipments",
            Op::Return => "POST /orders/{id}/returns",
            Op::StockUpdate => "PUT /fulfiller/stock",
            Op::Report => "GET /admin/reports/{kind}",
        }
    }

    pub fn index(self) -> usize {
        Op::ALL.iter().position(|o| *o == self).unwrap_or_default()
    }
}

/// Relative weights per operation, in `Op::ALL` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix(pub [u32; 7]);

impl Default for Mix {
    /// A shop's day: mostly orders and their reads, fulfillers polling and shipping, a stock
    /// feed now and then, few returns and reports.
    fn default() -> Mix {
        Mix([30, 25, 10, 15, 3, 12, 5])
    }
}

impl Serialize for Mix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(7))?;
        for op in Op::ALL {
            m.serialize_entry(op.key(), &self.0[op.index()])?;
        }
        m.end()
    }
}

impl Mix {
    /// `create=30,get=25,...`; operations not named get weight 0.
    pub fn parse(s: &str) -> Result<Mix> {
        let mut w = [0u32; 7];
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .with_context(|| format!("--mix: `{part}` is not name=weight"))?;
            let op = Op::ALL
                .into_iter()
                .find(|o| o.key() == k.trim())
                .with_context(|| format!("--mix: unknown operation `{k}`"))?;
            w[op.index()] = v
                .trim()
                .parse()
                .with_context(|| format!("--mix: `{v}` is not a whole number"))?;
        }
        if w[Op::CreateOrder.index()] == 0 || w.iter().sum::<u32>() == 0 {
            bail!("--mix: creating orders needs a weight above 0 (everything else follows orders)");
        }
        Ok(Mix(w))
    }

    pub fn sample(&self, rng: &mut impl Rng) -> Op {
        let total: u32 = self.0.iter().sum();
        let mut pick = rng.random_range(0..total);
        for op in Op::ALL {
            let w = self.0[op.index()];
            if pick < w {
                return op;
            }
            pick -= w;
        }
        Op::CreateOrder
    }
}

/// Lines per order, 1 to 30, most orders small: 60 % 1-3 lines, 30 % 4-10, 10 % 11-30.
pub fn line_count(rng: &mut impl Rng) -> usize {
    match rng.random_range(0..10) {
        0..=5 => rng.random_range(1..=3),
        6..=8 => rng.random_range(4..=10),
        _ => rng.random_range(11..=30),
    }
}

/// A catalogue product: its sku and price.
#[derive(Debug, Clone)]
pub struct Product {
    pub sku: String,
    pub price: Decimal,
}

/// The catalogue the driver seeds: `LOAD-0001`... with prices from 1.99 to 99.99.
pub fn catalogue(n: usize, rng: &mut impl Rng) -> Vec<Product> {
    (1..=n)
        .map(|i| Product {
            sku: format!("LOAD-{i:04}"),
            price: Decimal::new(rng.random_range(199..=9999), 2),
        })
        .collect()
}

/// A POST /orders body with `lines` lines of distinct skus; payments equal the total as the API
/// requires. Customers are the SES mailbox simulator, so a deployed stack mails no one.
pub fn order_body(key: &str, catalogue: &[Product], lines: usize, rng: &mut impl Rng) -> Value {
    let mut total = Decimal::ZERO;
    let first = rng.random_range(0..catalogue.len());
    let lines: Vec<Value> = (0..lines.min(catalogue.len()))
        .map(|i| {
            let p = &catalogue[(first + i) % catalogue.len()];
            let quantity: u32 = if rng.random_range(0..5) == 0 { 2 } else { 1 };
            total += p.price * Decimal::from(quantity);
            json!({"lineId": format!("l{}", i + 1), "sku": p.sku, "quantity": quantity,
                "unitPrice": p.price.to_string()})
        })
        .collect();
    let address = json!({"name": "Erika Mustermann", "street": "Lindenstraße 12",
        "postalCode": "10969", "city": "Berlin", "country": "DE"});
    json!({
        "externalId": key,
        "customer": {"email": "success@simulator.amazonses.com", "name": "Erika Mustermann", "locale": "de"},
        "shippingAddress": address,
        "currency": "EUR",
        "lines": lines,
        "payments": [{"method": "card", "amount": total.round_dp(2).to_string(), "reference": key}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn the_mix_follows_its_weights_and_a_seed_repeats_it() {
        let mix = Mix::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = [0u32; 7];
        for _ in 0..100_000 {
            counts[mix.sample(&mut rng).index()] += 1;
        }
        for (i, w) in mix.0.iter().enumerate() {
            let share = f64::from(counts[i]) / 1000.0; // percent
            assert!((share - f64::from(*w)).abs() < 0.6, "{i}: {share} vs {w}");
        }
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..50).map(|_| mix.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let only_orders = Mix::parse("create=1").unwrap();
        assert!((0..100).all(|_| only_orders.sample(&mut rng) == Op::CreateOrder));
    }

    #[test]
    fn mixes_parse_by_name_and_need_orders() {
        let m = Mix::parse("create=10, ship=5").unwrap();
        assert_eq!(m.0, [10, 0, 0, 5, 0, 0, 0]);
        assert!(Mix::parse("ship=5").is_err());
        assert!(Mix::parse("create=x").is_err());
        assert!(Mix::parse("buy=3").is_err());
    }

    #[test]
    fn orders_have_1_to_30_lines_mostly_few() {
        let mut rng = StdRng::seed_from_u64(1);
        let counts: Vec<usize> = (0..10_000).map(|_| line_count(&mut rng)).collect();
        assert!(counts.iter().all(|n| (1..=30).contains(n)));
        assert!(counts.contains(&1) && counts.contains(&30));
        let small = counts.iter().filter(|n| **n <= 3).count();
        assert!((5700..6300).contains(&small), "{small}");
    }

    #[test]
    fn an_order_body_pays_exactly_its_total_with_distinct_skus() {
        let mut rng = StdRng::seed_from_u64(9);
        let cat = catalogue(40, &mut rng);
        let body = order_body("k-1", &cat, 30, &mut rng);
        let lines = body["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 30);
        let skus: std::collections::HashSet<_> = lines.iter().map(|l| &l["sku"]).collect();
        assert_eq!(skus.len(), 30);
        let sum: Decimal = lines
            .iter()
            .map(|l| {
                l["unitPrice"].as_str().unwrap().parse::<Decimal>().unwrap()
                    * Decimal::from(l["quantity"].as_u64().unwrap())
            })
            .sum();
        assert_eq!(body["payments"][0]["amount"], sum.to_string());
        assert_eq!(body["externalId"], "k-1");
        assert!(cat.iter().all(|p| p.price.scale() == 2));
    }
}
