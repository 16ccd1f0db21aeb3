//! Runs on a schedule (every 15 minutes; locally on demand) and keeps the alert records current:
//! a problem found opens one alert (never two for the same open problem), a problem gone
//! resolves it. Today it watches the dead-letter queues: a message there is a message the
//! system could not process, and nothing may be silently dropped.

use chrono::Utc;
use dropship_aws::repo::alerts::Alerts;

pub struct Alerting {
    pub alerts: Alerts,
    pub sqs: aws_sdk_sqs::Client,
    pub dead_letter_queues: Vec<String>,
}

/// The queue's name, the last segment of its URL.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

impl Alerting {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        Ok(Self {
            alerts: Alerts::new(aws_sdk_dynamodb::Client::new(&cfg), env("ALERTS_TABLE")?),
            sqs: aws_sdk_sqs::Client::new(&cfg),
            dead_letter_queues: env("DEAD_LETTER_QUEUE_URLS")?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        })
    }

    pub async fn handle(&self, _event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let now = Utc::now();
        let mut opened = 0;
        let mut resolved = 0;
        for url in &self.dead_letter_queues {
            let attrs = self
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                )
                .send()
                .await?;
            let count = |name| {
                attrs
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let waiting = count(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
            ) + count(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            );
            let name = queue_name(url);
            if waiting > 0 {
                if self
                    .alerts
                    .open(
                        "dead_lettered_messages",
                        name,
                        &format!("{waiting} message(s) in {name}"),
                        now,
                    )
                    .await?
                {
                    tracing::warn!(
                        queue = name,
                        waiting,
                        "dead-lettered messages: alert opened"
                    );
                    opened += 1;
                }
            } else if self
                .alerts
                .resolve("dead_lettered_messages", name, now)
                .await?
            {
                resolved += 1;
            }
        }
        Ok(serde_json::json!({"opened": opened, "resolved": resolved}))
    }
}
