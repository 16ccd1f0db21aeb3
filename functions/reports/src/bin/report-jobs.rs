#![recursion_limit = "256"]
//! The report-jobs function: makes the report files over long periods, one message per job
//! (`reports::jobs`).

use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let reports = reports::Reports::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let reports = &reports;
        async move { Ok::<_, Error>(reports.run_jobs(event.payload).await) }
    }))
    .await
}
