//! Reading property values that shape the wiring itself: they must be literals, because the
//! runner needs them before any resource exists, and every key must be one the runner knows.

use anyhow::{anyhow, bail, Result};

use super::expr::Expr;

pub(super) fn literal_str<'a>(props: &'a Expr, key: &str, what: &str) -> Result<Option<&'a str>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Str(s)) => Ok(Some(s)),
        Some(other) => bail!(
            "{what}.{key} must be a literal string locally, found {}",
            other.describe()
        ),
    }
}

pub(super) fn literal_u64(props: &Expr, key: &str, what: &str) -> Result<Option<u64>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| anyhow!("{what}.{key} must be a non-negative integer")),
        Some(Expr::Str(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("{what}.{key} must be a non-negative integer, found `{s}`")),
        Some(other) => bail!(
            "{what}.{key} must be a literal number locally, found {}",
            other.describe()
        ),
    }
}

pub(super) fn literal_bool(props: &Expr, key: &str, what: &str) -> Result<Option<bool>> {
    match props.get(key) {
        None => Ok(None),
        Some(Expr::Bool(b)) => Ok(Some(*b)),
        Some(Expr::Str(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Expr::Str(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => bail!(
            "{what}.{key} must be a literal boolean locally, found {}",
            other.describe()
        ),
    }
}

pub(super) fn check_keys(
    what: &str,
    props: &Expr,
    emulated: &[&str],
    accepted: &[&str],
) -> Result<()> {
    for key in props.keys() {
        if !emulated.contains(&key) && !accepted.contains(&key) {
            bail!(
                "{what}: `{key}` is not supported by the local runner (emulated: {}; accepted \
                 without local behaviour: {})",
                emulated.join(", "),
                if accepted.is_empty() {
                    "none".to_string()
                } else {
                    accepted.join(", ")
                }
            );
        }
    }
    Ok(())
}

pub(super) fn literal_list(props: &Expr, key: &str, what: &str) -> Result<Vec<String>> {
    match props.get(key) {
        None => Ok(Vec::new()),
        Some(Expr::List(items)) => items
            .iter()
            .map(|i| {
                i.as_literal_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("{what}.{key} entries must be literal strings"))
            })
            .collect(),
        Some(_) => bail!("{what}.{key} must be a list"),
    }
}
