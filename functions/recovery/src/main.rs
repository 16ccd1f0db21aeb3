use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let recovery = recovery::Recovery::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let recovery = &recovery;
        async move { recovery.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
