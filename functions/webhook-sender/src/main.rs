use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use webhook_sender::WebhookSender;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let sender = WebhookSender::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let sender = &sender;
        async move { Ok::<_, Error>(sender.handle(event.payload).await) }
    }))
    .await
}
