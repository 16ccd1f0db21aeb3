//! The runner's configuration, read once from `DROPSHIP_*` environment variables.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Config {
    pub template: PathBuf,
    pub bin_dir: PathBuf,
    pub venv: PathBuf,
    pub api_port: u16,
    pub aws_port: Option<u16>,
    pub ses_port: Option<u16>,
    pub admin_token: String,
    pub param_overrides: BTreeMap<String, String>,
    pub instances: usize,
    pub seed: Option<PathBuf>,
    /// Forward the emulators' own (very chatty) request logs.
    pub emulator_log: bool,
    /// Each function instance reaches AWS through a counting proxy (`DROPSHIP_AWS_PROXY=0`
    /// points the functions straight at the emulators; then no calls are counted and no AWS
    /// fault can be injected).
    pub aws_proxy: bool,
    /// The runner's RUST_LOG/RUST_BACKTRACE, passed on to the functions.
    pub rust_log: Option<String>,
    pub rust_backtrace: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config> {
        Config::from_vars(std::env::vars())
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Config> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let get = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        let port = |k: &str| -> Result<Option<u16>> {
            get(k)
                .map(|v| {
                    v.parse::<u16>()
                        .map_err(|_| anyhow!("{k}=`{v}` is not a port number"))
                })
                .transpose()
        };
        let instances = match get("DROPSHIP_INSTANCES") {
            None => 2,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=16).contains(&n) => n,
                _ => bail!("DROPSHIP_INSTANCES=`{v}` must be a number from 1 to 16"),
            },
        };
        let param_overrides = vars
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("DROPSHIP_PARAM_")
                    .map(|name| (name.to_string(), v.clone()))
            })
            .collect();
        Ok(Config {
            template: get("DROPSHIP_TEMPLATE")
                .unwrap_or_else(|| "template.yaml".into())
                .into(),
            bin_dir: get("DROPSHIP_BIN_DIR")
                .unwrap_or_else(|| "target/debug".into())
                .into(),
            venv: get("DROPSHIP_VENV")
                .unwrap_or_else(|| ".venv".into())
                .into(),
            api_port: port("DROPSHIP_API_PORT")?.unwrap_or(3000),
            aws_port: port("DROPSHIP_AWS_PORT")?,
            ses_port: port("DROPSHIP_SES_PORT")?,
            admin_token: get("DROPSHIP_ADMIN_TOKEN").unwrap_or_else(|| "local-admin-token".into()),
            param_overrides,
            instances,
            seed: get("DROPSHIP_SEED").map(PathBuf::from),
            emulator_log: get("DROPSHIP_EMULATOR_LOG").is_some_and(|v| v != "0"),
            aws_proxy: get("DROPSHIP_AWS_PROXY").is_none_or(|v| v != "0"),
            rust_log: get("RUST_LOG"),
            rust_backtrace: get("RUST_BACKTRACE"),
        })
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// Parameter values that only make sense locally; explicit overrides still win.
    pub fn local_parameter_defaults(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("PublicApiBaseUrl".to_string(), self.api_url());
        m.insert(
            "BootstrapAdminTokenSha256".to_string(),
            hex::encode(Sha256::digest(self.admin_token.as_bytes())),
        );
        // Short enough that a failed message comes back quickly while you watch.
        m.insert(
            "QueueVisibilityTimeoutSeconds".to_string(),
            "30".to_string(),
        );
        m.insert("QueueMaxReceiveCount".to_string(), "3".to_string());
        // Test receivers listen on http://127.0.0.1:<port>; the template never allows that.
        m.insert("WebhooksAllowLocalHttp".to_string(), "true".to_string());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_vars(vars(&[])).expect("defaults");
        assert_eq!(c.api_port, 3000);
        assert_eq!(c.instances, 2);
        assert_eq!(c.admin_token, "local-admin-token");
        assert!(c.aws_proxy);
        let d = c.local_parameter_defaults();
        assert_eq!(d["PublicApiBaseUrl"], "http://127.0.0.1:3000");
        assert_eq!(d["BootstrapAdminTokenSha256"].len(), 64);

        let c = Config::from_vars(vars(&[
            ("DROPSHIP_API_PORT", "3100"),
            ("DROPSHIP_PARAM_LogLevel", "debug"),
            ("DROPSHIP_INSTANCES", "1"),
        ]))
        .expect("overrides");
        assert_eq!(c.api_port, 3100);
        assert_eq!(c.instances, 1);
        assert_eq!(c.param_overrides["LogLevel"], "debug");
        assert!(Config::from_vars(vars(&[("DROPSHIP_API_PORT", "x")])).is_err());
        assert!(Config::from_vars(vars(&[("DROPSHIP_INSTANCES", "0")])).is_err());
    }

    #[test]
    fn admin_token_hash_is_sha256_hex() {
        let c = Config::from_vars(vars(&[("DROPSHIP_ADMIN_TOKEN", "abc")])).expect("config");
        assert_eq!(
            c.local_parameter_defaults()["BootstrapAdminTokenSha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
