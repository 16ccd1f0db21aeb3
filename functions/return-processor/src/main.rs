use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let processor = return_processor::ReturnProcessor::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let processor = &processor;
        async move { Ok::<_, Error>(processor.handle(event.payload).await) }
    }))
    .await
}
