//! List prices, eu-central-1 (Frankfurt), on-demand, without free tiers: the one place they are
//! kept. The same figures as BENCHMARKS.md's cost model (DynamoDB after the November 2024
//! on-demand price cut; Lambda on arm64, as the template deploys). Not re-checked online from
//! this machine: check them on the AWS pricing pages before relying on the cost figures.

use rust_decimal::Decimal;

/// When the prices were last taken from the pricing pages.
pub const AS_OF: &str = "2025 list prices (as in BENCHMARKS.md), eu-central-1";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prices {
    pub dynamodb_per_million_read_units: Decimal,
    pub dynamodb_per_million_write_units: Decimal,
    pub lambda_per_million_requests: Decimal,
    pub lambda_arm64_per_gb_second: Decimal,
    pub sqs_per_million_requests: Decimal,
    pub api_gateway_http_per_million_requests: Decimal,
    pub s3_per_thousand_puts: Decimal,
    pub s3_per_thousand_gets: Decimal,
    pub s3_standard_per_gb_month: Decimal,
    pub ses_per_thousand_mails: Decimal,
}

impl Prices {
    pub fn eu_central_1() -> Self {
        Self {
            dynamodb_per_million_read_units: Decimal::new(1525, 4),
            dynamodb_per_million_write_units: Decimal::new(7625, 4),
            lambda_per_million_requests: Decimal::new(20, 2),
            lambda_arm64_per_gb_second: Decimal::new(133_334, 10),
            sqs_per_million_requests: Decimal::new(40, 2),
            api_gateway_http_per_million_requests: Decimal::new(120, 2),
            s3_per_thousand_puts: Decimal::new(54, 4),
            s3_per_thousand_gets: Decimal::new(43, 5),
            s3_standard_per_gb_month: Decimal::new(245, 4),
            ses_per_thousand_mails: Decimal::new(10, 2),
        }
    }
}
