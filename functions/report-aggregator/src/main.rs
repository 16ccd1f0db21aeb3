use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let aggregator = report_aggregator::ReportAggregator::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let aggregator = &aggregator;
        async move { Ok::<_, Error>(aggregator.handle(event.payload).await) }
    }))
    .await
}
