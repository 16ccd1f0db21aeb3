//! The command line, the tokens and the loopback guard.

use crate::mix::Mix;
use crate::schedule::Profile;
use anyhow::{bail, Context, Result};
use std::net::IpAddr;
use std::path::PathBuf;

pub const USAGE: &str = "usage: load-driver --base-url <url> [--allow-remote]
  [--profile <start-rps>,<target-rps>,<ramp-s>,<hold-s>]   default 2,10,10,10
  [--max-requests <n>] default 1000     [--max-seconds <s>] default 60
  [--mix create=30,get=25,list=10,ship=15,return=3,stock=12,report=5]
  [--products <n>] default 50   [--seed <u64>] default 1   [--timeout-seconds <s>] default 10
  [--channel-id <id>] default load-test   [--fulfiller-id <id>] default load-test-wh
  [--report-kind <kind>] default orders   [--seed-retailer]   [--max-in-flight <n>] default 1000
  [--tokens-file <file.json>]   [--out <file.json>]   [--svg <file.svg>]
tokens: LOAD_ADMIN_TOKEN, LOAD_CHANNEL_TOKEN, LOAD_FULFILLER_TOKEN, or a file
  {\"admin\": ..., \"channel\": ..., \"fulfiller\": ...}; without a channel or fulfiller token the
  driver mints one for its channel and fulfiller with the admin token.";

#[derive(Debug)]
pub struct Args {
    pub base_url: String,
    pub allow_remote: bool,
    pub profile: Profile,
    pub max_requests: u64,
    pub max_seconds: u64,
    pub mix: Mix,
    pub products: usize,
    pub seed: u64,
    pub timeout_seconds: u64,
    pub channel_id: String,
    pub fulfiller_id: String,
    pub report_kind: String,
    pub seed_retailer: bool,
    pub max_in_flight: usize,
    pub tokens_file: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args> {
    let mut a = Args {
        base_url: String::new(),
        allow_remote: false,
        profile: Profile {
            start_rps: 2.0,
            target_rps: 10.0,
            ramp_seconds: 10.0,
            hold_seconds: 10.0,
        },
        max_requests: 1000,
        max_seconds: 60,
        mix: Mix::default(),
        products: 50,
        seed: 1,
        timeout_seconds: 10,
        channel_id: "load-test".into(),
        fulfiller_id: "load-test-wh".into(),
        report_kind: "orders".into(),
        seed_retailer: false,
        max_in_flight: 1000,
        tokens_file: None,
        out: None,
        svg: None,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--base-url" => a.base_url = value()?.trim_end_matches('/').to_string(),
            "--allow-remote" => a.allow_remote = true,
            "--seed-retailer" => a.seed_retailer = true,
            "--profile" => a.profile = Profile::parse(&value()?)?,
            "--max-requests" => a.max_requests = number(&flag, &value()?)?,
            "--max-seconds" => a.max_seconds = number(&flag, &value()?)?,
            "--mix" => a.mix = Mix::parse(&value()?)?,
            "--products" => a.products = number(&flag, &value()?)?,
            "--seed" => a.seed = number(&flag, &value()?)?,
            "--timeout-seconds" => a.timeout_seconds = number(&flag, &value()?)?,
            "--max-in-flight" => a.max_in_flight = number(&flag, &value()?)?,
            "--channel-id" => a.channel_id = value()?,
            "--fulfiller-id" => a.fulfiller_id = value()?,
            "--report-kind" => a.report_kind = value()?,
            "--tokens-file" => a.tokens_file = Some(value()?.into()),
            "--out" => a.out = Some(value()?.into()),
            "--svg" => a.svg = Some(value()?.into()),
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if a.base_url.is_empty() {
        bail!("--base-url is required\n{USAGE}");
    }
    if a.products == 0 || a.products > 1000 {
        bail!("--products must be 1..1000 (one stock update seeds them all)");
    }
    if a.max_in_flight == 0 || a.timeout_seconds == 0 {
        bail!("--max-in-flight and --timeout-seconds must be at least 1");
    }
    check_target(&a.base_url, a.allow_remote)?;
    Ok(a)
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| anyhow::anyhow!("{flag}: `{v}` is not a valid number"))
}

/// The host of an `http(s)://host[:port][/path]` URL, without brackets around IPv6.
pub fn host_of(url: &str) -> Result<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .context("the base URL must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        bail!("the base URL may not carry credentials");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        bail!("the base URL has no host");
    }
    Ok(host)
}

/// Only loopback (127.0.0.0/8, ::1, localhost) unless remote traffic is asked for explicitly:
/// a mistyped URL must not load someone's production system.
pub fn check_target(url: &str, allow_remote: bool) -> Result<()> {
    let host = host_of(url)?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback && !allow_remote {
        bail!("refusing to send load to `{host}`: not loopback; pass --allow-remote for a deployed stack you own");
    }
    Ok(())
}

/// The three tokens. Debug is hand-written so that no token can reach a log line.
pub struct Tokens {
    pub admin: String,
    pub channel: Option<String>,
    pub fulfiller: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

pub fn tokens(file: Option<&PathBuf>, env: impl Fn(&str) -> Option<String>) -> Result<Tokens> {
    let from_file: serde_json::Value = match file {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{} is not JSON", p.display()))?,
        None => serde_json::Value::Null,
    };
    let pick = |key: &str, var: &str| {
        from_file[key]
            .as_str()
            .map(str::to_string)
            .or_else(|| env(var))
            .filter(|t| !t.is_empty())
    };
    Ok(Tokens {
        admin: pick("admin", "LOAD_ADMIN_TOKEN")
            .context("an admin token is required (LOAD_ADMIN_TOKEN or \"admin\" in --tokens-file): the driver seeds its catalogue")?,
        channel: pick("channel", "LOAD_CHANNEL_TOKEN"),
        fulfiller: pick("fulfiller", "LOAD_FULFILLER_TOKEN"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_lets_only_loopback_through_without_allow_remote() {
        for url in [
            "http://127.0.0.1:3000",
            "http://127.5.6.7",
            "http://localhost:3000/",
            "http://LOCALHOST",
            "http://[::1]:3000",
        ] {
            assert!(check_target(url, false).is_ok(), "{url}");
        }
        for url in [
            "https://abc.execute-api.eu-central-1.amazonaws.com",
            "http://10.0.0.1:3000",
            "http://0.0.0.0:3000",
            "http://[::]:3000",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://user@127.0.0.1",
            "ftp://127.0.0.1",
        ] {
            assert!(check_target(url, false).is_err(), "{url}");
        }
        assert!(check_target("https://abc.execute-api.eu-central-1.amazonaws.com", true).is_ok());
    }

    #[test]
    fn flags_parse_and_remote_urls_are_refused_before_anything_runs() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = parse(args(&[
            "--base-url",
            "http://127.0.0.1:3000/",
            "--profile",
            "5,50,60,60",
            "--max-requests",
            "10000",
        ]))
        .unwrap();
        assert_eq!(a.base_url, "http://127.0.0.1:3000");
        assert_eq!(a.profile.target_rps, 50.0);
        assert_eq!(a.max_requests, 10000);
        assert!(parse(args(&["--base-url", "https://example.com"])).is_err());
        assert!(parse(args(&[
            "--base-url",
            "https://example.com",
            "--allow-remote"
        ]))
        .is_ok());
        assert!(parse(args(&["--base-url"])).is_err());
    }

    #[test]
    fn tokens_come_from_the_file_before_the_environment_and_never_show_in_debug() {
        let dir = std::env::temp_dir().join(format!("load-driver-tokens-{}", std::process::id()));
        std::fs::write(&dir, r#"{"admin": "file-admin"}"#).unwrap();
        let env = |k: &str| match k {
            "LOAD_ADMIN_TOKEN" => Some("env-admin".to_string()),
            "LOAD_CHANNEL_TOKEN" => Some("env-channel".to_string()),
            _ => None,
        };
        let t = tokens(Some(&dir), env).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(t.admin, "file-admin");
        assert_eq!(t.channel.as_deref(), Some("env-channel"));
        assert_eq!(t.fulfiller, None);
        assert!(!format!("{t:?}").contains("admin\""));
        assert!(!format!("{t:?}").contains("env-channel"));
        assert!(tokens(None, |_| None).is_err());
    }
}
