//! Configuration from the environment the template gives each function, read once at start.

use anyhow::Context;

/// A required environment variable; the error names it, so a mis-wired template is obvious.
pub fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("environment variable {name} is not set (see template.yaml)"))
}

/// The AWS SDK configuration of this execution environment (region, credentials, endpoints:
/// locally the runner points `AWS_ENDPOINT_URL` at the emulator; the code never knows).
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
