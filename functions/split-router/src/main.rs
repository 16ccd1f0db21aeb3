// The routing use case's futures nest deeper than the compiler's default layout limit.
#![recursion_limit = "256"]
use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let router = split_router::SplitRouter::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let router = &router;
        async move { Ok::<_, Error>(router.handle(event.payload).await) }
    }))
    .await
}
