use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use webhook_sender::WebhookSender;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let sender = WebhookSender::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let sender = &sender;
        // The invocation's deadline (milliseconds since the epoch) as a point on our clock.
        let left =
            std::time::Duration::from_millis(event.context.deadline.saturating_sub(now_millis()));
        let deadline = std::time::Instant::now() + left;
        async move { Ok::<_, Error>(sender.handle(event.payload, deadline).await) }
    }))
    .await
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
