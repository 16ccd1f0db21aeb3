//! Configuration from the environment the template gives each function, read once at start.
//!
//! Each function declares a `Config` struct whose fields are its variables in lower case
//! (`orders_table` is `ORDERS_TABLE`), with their types: [`from_env`] fills it from the process
//! environment, [`from_vars`] from any list of pairs (tests), both naming the variable that is
//! missing or does not parse.

use anyhow::anyhow;
use serde::de::DeserializeOwned;

pub use aws_config::SdkConfig;

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
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<T> {
    envy::from_iter(vars).map_err(|e| match e {
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

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_the_fields_from_their_upper_case_variables() {
        let c: Config = from_vars(vars(&[
            ("ORDERS_TABLE", "orders"),
            ("ESCALATION_MINUTES", "240"),
            ("QUEUE_URLS", "a, b,,"),
            ("UNRELATED", "x"),
        ]))
        .unwrap();
        assert_eq!(c.orders_table, "orders");
        assert_eq!(c.escalation_minutes, 240);
        assert_eq!(c.queue_urls, ["a", "b"]);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let e = from_vars::<Config>(vars(&[("ESCALATION_MINUTES", "1")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable ORDERS_TABLE is not set (see template.yaml)"
        );
    }

    #[test]
    fn a_bad_number_is_named_with_its_value() {
        let e = from_vars::<Config>(vars(&[("ORDERS_TABLE", "o"), ("ESCALATION_MINUTES", "4h")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ESCALATION_MINUTES"), "{e}");
        assert!(e.contains("'4h'"), "{e}");
        assert!(e.ends_with("(see template.yaml)"), "{e}");
    }
}
