use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let relay = outbox_relay::OutboxRelay::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let relay = &relay;
        async move { relay.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
