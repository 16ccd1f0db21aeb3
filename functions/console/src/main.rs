use dropship_aws::config::FromConfig as _;
use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let console = console::Console::from_env().await?;
    lambda_http::run(service_fn(|req| console.handle(req))).await
}
