use aws_lambda_events::sqs::SqsEvent;
use dropship_aws::config::FromConfig as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dropship_aws::telemetry::init();
    let notifier = notifier::Notifier::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let notifier = &notifier;
        // A deadline the runtime did not give (never in Lambda) is the longest a Lambda lives.
        let deadline = i64::try_from(event.context.deadline)
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .unwrap_or_else(|| chrono::Utc::now() + chrono::Duration::minutes(15));
        async move { Ok::<_, Error>(notifier.handle(event.payload, deadline).await) }
    }))
    .await
}
