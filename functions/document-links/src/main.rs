use dropship_aws::config::FromConfig as _;
use lambda_http::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let links = document_links::DocumentLinks::from_env().await?;
    lambda_http::run(service_fn(|req| links.handle(req))).await
}
