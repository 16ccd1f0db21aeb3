// The handler's nested async document jobs make a deep future type for the runtime loop.
#![recursion_limit = "256"]

use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let generator = document_generator::DocumentGenerator::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let generator = &generator;
        async move { Ok::<_, Error>(generator.handle(event.payload).await) }
    }))
    .await
}
