use dropship_aws::config::FromConfig as _;
use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let api = webhook_api::WebhookApi::from_env().await?;
    lambda_http::run(service_fn(|req| api.handle(req))).await
}
