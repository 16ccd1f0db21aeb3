//! Configuration from the environment the template gives each function, read once at start.

use anyhow::Context;

/// A required environment variable; the error names it, so a mis-wired template is obvious.
pub fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .with_context(|| format!("environment variable {name} is not set (see template.yaml)"))
}

/// The AWS SDK configuration of this execution environment (region, credentials, endpoints:
/// locally the runner points `AWS_ENDPOINT_URL` at the emulator; the code never knows).
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A configuration for in-process handler tests that must never reach AWS: any call it makes
/// fails fast against a closed local port instead of leaving the machine.
pub fn offline() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build()
}
