use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let update = stock_update::StockUpdate::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let update = &update;
        async move { Ok::<_, Error>(update.handle(event.payload).await) }
    }))
    .await
}
