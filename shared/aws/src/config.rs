//! Configuration from the environment the template gives each function, read once at start.
//!
//! Each function declares a `Config` struct whose fields are its variables in lower case
//! (`orders_table` is `ORDERS_TABLE`), with their types: [`from_env`] fills it from the process
//! environment, [`from_vars`] from any list of pairs (tests), both naming the variable that is
//! missing or does not parse. A part several functions share (e.g. stock counting's tables) is a
//! struct of its own, `#[serde(flatten)]` into each `Config`; such parts hold only strings (serde
//! hands a flattened part its values as strings, so a number there would not parse).

use anyhow::anyhow;
use serde::de::DeserializeOwned;

pub use aws_config::SdkConfig;

/// A function's handler, built from its typed configuration.
pub trait FromConfig: Sized {
    /// The variables template.yaml gives the function.
    type Config: DeserializeOwned + Send + Sync;

    /// The handler on this configuration and these AWS settings.
    fn from_config(config: &Self::Config, aws: &SdkConfig) -> anyhow::Result<Self>;

    /// Reads the configuration once, then builds the handler on it (the runtime's entry point).
    fn from_env() -> impl std::future::Future<Output = anyhow::Result<Self>> + Send {
        async {
            let config: Self::Config = from_env()?;
            Self::from_config(&config, &aws().await)
        }
    }
}

/// A function's configuration from the process environment. Variables that are not Unicode are
/// left out (so reported as missing) instead of panicking as `std::env::vars` would.
pub fn from_env<T: DeserializeOwned>() -> anyhow::Result<T> {
    from_vars(
        std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }),
    )
}

/// A function's configuration from these variables (name, value).
pub fn from_vars<T: DeserializeOwned>(
    vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
) -> anyhow::Result<T> {
    envy::from_iter(vars.into_iter().map(|(k, v)| (k.into(), v.into()))).map_err(|e| match e {
        envy::Error::MissingValue(field) => anyhow!(
            "environment variable {} is not set (see template.yaml)",
            field.to_ascii_uppercase()
        ),
        // envy's message names the variable and its value: "<why> while parsing value 'x' provided by NAME".
        envy::Error::Custom(message) => anyhow!("{message} (see template.yaml)"),
    })
}

/// A list of names (`DEAD_LETTER_QUEUE_URLS=a,b`): comma-separated, blanks ignored.
pub fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = <String as serde::Deserialize>::deserialize(d)?;
    Ok(list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
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

/// Any function's configuration for in-process handler tests (with [`offline`]): every variable
/// the template gives a function, with a placeholder of its kind; each function takes its own.
pub fn offline_config<T: DeserializeOwned>() -> anyhow::Result<T> {
    const QUEUE: &str = "http://127.0.0.1:9/queue";
    from_vars([
        ("CATALOGUE_TABLE", "CatalogueTable"),
        ("ORDERS_TABLE", "OrdersTable"),
        ("DELIVERY_ORDERS_TABLE", "DeliveryOrdersTable"),
        ("STOCK_TABLE", "StockTable"),
        ("RETURNS_TABLE", "ReturnsTable"),
        ("ALERTS_TABLE", "AlertsTable"),
        ("AUDIT_TABLE", "AuditTable"),
        ("IDEMPOTENCY_TABLE", "IdempotencyTable"),
        ("TOKENS_TABLE", "TokensTable"),
        ("WEBHOOKS_TABLE", "WebhooksTable"),
        ("DELIVERY_QUEUE_URL", QUEUE),
        ("ALLOW_LOCAL_HTTP", "false"),
        ("DOCUMENT_BUCKET", "bucket"),
        ("ROUTE_QUEUE_URL", QUEUE),
        ("EVENTS_QUEUE_URL", QUEUE),
        ("DOCUMENTS_QUEUE_URL", QUEUE),
        ("RETURNS_QUEUE_URL", QUEUE),
        ("REPORT_JOBS_QUEUE_URL", QUEUE),
        ("DEAD_LETTER_QUEUE_URLS", QUEUE),
        ("PUBLIC_API_BASE_URL", "https://oms.example.com"),
        ("MAIL_SENDER_DOMAIN", "lindenhof.example"),
        ("OPS_EMAIL", "ops@example.com"),
        ("BOOTSTRAP_ADMIN_TOKEN_SHA256", &"0".repeat(64)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Config {
        orders_table: String,
        escalation_minutes: u32,
        #[serde(default, deserialize_with = "comma_separated")]
        queue_urls: Vec<String>,
    }

    #[test]
    fn fills_the_fields_from_their_upper_case_variables() {
        let c: Config = from_vars([
            ("ORDERS_TABLE", "orders"),
            ("ESCALATION_MINUTES", "240"),
            ("QUEUE_URLS", "a, b,,"),
            ("UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(c.orders_table, "orders");
        assert_eq!(c.escalation_minutes, 240);
        assert_eq!(c.queue_urls, ["a", "b"]);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let e = from_vars::<Config>([("ESCALATION_MINUTES", "1")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable ORDERS_TABLE is not set (see template.yaml)"
        );
    }

    /// A part shared by several functions' configurations, flattened into each.
    #[derive(Debug, serde::Deserialize)]
    struct Tables {
        orders_table: String,
    }

    #[derive(Debug, serde::Deserialize)]
    struct WithPart {
        #[serde(flatten)]
        tables: Tables,
        bucket: String,
    }

    #[test]
    fn a_shared_part_is_filled_and_its_missing_variable_named() {
        let c: WithPart = from_vars([("ORDERS_TABLE", "o"), ("BUCKET", "b")]).unwrap();
        assert_eq!(
            (c.tables.orders_table.as_str(), c.bucket.as_str()),
            ("o", "b")
        );
        let e = from_vars::<WithPart>([("BUCKET", "b")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable ORDERS_TABLE is not set (see template.yaml)"
        );
    }

    #[test]
    fn a_bad_number_is_named_with_its_value() {
        let e = from_vars::<Config>([("ORDERS_TABLE", "o"), ("ESCALATION_MINUTES", "4h")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("ESCALATION_MINUTES"), "{e}");
        assert!(e.contains("'4h'"), "{e}");
        assert!(e.ends_with("(see template.yaml)"), "{e}");
    }
}
