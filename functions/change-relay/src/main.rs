use change_relay::{ChangeRelay, StreamEvent};
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let relay = ChangeRelay::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<StreamEvent>| {
        let relay = &relay;
        async move { Ok::<_, Error>(relay.handle(event.payload).await) }
    }))
    .await
}
