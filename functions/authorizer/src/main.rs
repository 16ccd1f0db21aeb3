use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let authorizer = authorizer::Authorizer::from_env().await?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| {
            let authorizer = &authorizer;
            async move { authorizer.handle(event.payload).await.map_err(Error::from) }
        },
    ))
    .await
}
