//! Demo data: the seed file's requests go through the runner's own HTTP API (so they obey the
//! same rules as any client), then a banner says what to try.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    /// What the file is for; read by people only.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    requests: Vec<SeedRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    /// The principal whose token (minted earlier in the same file) makes the request; admin if absent.
    #[serde(default, rename = "as")]
    as_principal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SeededToken {
    pub principal: String,
    pub name: Option<String>,
    pub token: String,
}

#[derive(Debug, Default)]
pub struct Seeded {
    pub tokens: Vec<SeededToken>,
    pub skus: Vec<String>,
}

pub async fn run(path: &Path, api_url: &str, admin_token: &str) -> Result<Seeded> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the seed file {} (DROPSHIP_SEED)",
            path.display()
        )
    })?;
    let seed: SeedFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "seed file {} is not {{\"requests\": [{{method, path, body?, headers?, as?}}]}}",
            path.display()
        )
    })?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("cannot build an HTTP client")?;
    let mut seeded = Seeded::default();
    for (i, r) in seed.requests.iter().enumerate() {
        let method = reqwest::Method::from_bytes(r.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| anyhow!("seed request #{i}: `{}` is not an HTTP method", r.method))?;
        let token = match &r.as_principal {
            None => admin_token,
            Some(p) => seeded
                .tokens
                .iter()
                .find(|t| &t.principal == p)
                .map(|t| t.token.as_str())
                .ok_or_else(|| {
                    anyhow!("seed request #{i}: no token for `{p}` was minted earlier in the file")
                })?,
        };
        let mut req = http
            .request(method.clone(), format!("{api_url}{}", r.path))
            .bearer_auth(token);
        if method == reqwest::Method::POST
            && !r
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("idempotency-key"))
        {
            req = req.header(
                "Idempotency-Key",
                format!("seed-{i}-{}", uuid::Uuid::new_v4()),
            );
        }
        for (k, v) in &r.headers {
            req = req.header(k, v);
        }
        if let Some(body) = &r.body {
            req = req.json(body);
        }
        let what = format!("seed request #{i} {} {}", r.method, r.path);
        let resp = req.send().await.with_context(|| format!("{what} failed"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "{what} was answered {status}: {text}\n  request body: {}",
                r.body.as_ref().map(Value::to_string).unwrap_or_default()
            );
        }
        if method == reqwest::Method::POST && r.path.trim_end_matches('/') == "/admin/tokens" {
            let created: Value = serde_json::from_str(&text)
                .with_context(|| format!("{what}: the response is not JSON: {text}"))?;
            let token = created
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("{what}: the response has no `token`: {text}"))?;
            let body = r.body.clone().unwrap_or(Value::Null);
            seeded.tokens.push(SeededToken {
                principal: body
                    .get("principal")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                name: body.get("name").and_then(Value::as_str).map(str::to_string),
                token: token.to_string(),
            });
        }
        if method == reqwest::Method::PUT {
            if let Some(sku) = r.path.strip_prefix("/admin/products/") {
                seeded.skus.push(sku.to_string());
            }
        }
    }
    Ok(seeded)
}

/// What to try, with copy-paste commands.
pub fn banner(api_url: &str, admin_token: &str, seeded: &Seeded) -> String {
    let mut out = String::new();
    let line = "=".repeat(78);
    out.push_str(&format!("{line}\nDropship OMS is running locally.\n\n"));
    out.push_str(&format!("  API:          {api_url}\n"));
    out.push_str(&format!("  Admin token:  {admin_token}\n"));
    if !seeded.tokens.is_empty() {
        out.push_str("\n  Seeded tokens:\n");
        for t in &seeded.tokens {
            let name = t
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push_str(&format!("    {:<28} {}{name}\n", t.principal, t.token));
        }
    }
    let channel = seeded
        .tokens
        .iter()
        .find(|t| t.principal.starts_with("channel:"))
        .map(|t| t.token.as_str())
        .unwrap_or("<channel token>");
    let fulfiller = seeded
        .tokens
        .iter()
        .find(|t| t.principal.starts_with("fulfiller:"))
        .map(|t| t.token.as_str())
        .unwrap_or("<fulfiller token>");
    let sku = seeded.skus.first().map(String::as_str).unwrap_or("<sku>");
    let order = json!({
        "externalId": "demo-1",
        "customer": {"email": "ann@example.com", "name": "Ann Example"},
        "shippingAddress": {"name": "Ann Example", "street": "Hauptstr. 1", "postalCode": "10115",
                            "city": "Berlin", "country": "DE"},
        "currency": "EUR",
        "lines": [{"lineId": "1", "sku": sku, "quantity": 1, "unitPrice": "19.99"}],
        "payments": [{"method": "card", "amount": "19.99"}],
    });
    out.push_str("\n  Try:\n");
    out.push_str(&format!("    curl -s {api_url}/health\n"));
    out.push_str(&format!(
        "    curl -s -X POST {api_url}/orders -H 'Authorization: Bearer {channel}' \\\n      \
         -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\\n      -d '{order}'\n"
    ));
    out.push_str(&format!(
        "    curl -s {api_url}/fulfiller/delivery-orders -H 'Authorization: Bearer {fulfiller}'\n"
    ));
    out.push_str(&format!("    curl -s {api_url}/_local/outbox\n"));
    out.push_str(&format!("    curl -s {api_url}/_local/stats\n"));
    out.push_str(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_tokens_and_examples() {
        let seeded = Seeded {
            tokens: vec![
                SeededToken {
                    principal: "channel:web-de".into(),
                    name: Some("Web shop".into()),
                    token: "tok-c".into(),
                },
                SeededToken {
                    principal: "fulfiller:acme".into(),
                    name: None,
                    token: "tok-f".into(),
                },
            ],
            skus: vec!["SKU-1".into()],
        };
        let b = banner("http://127.0.0.1:3000", "adm", &seeded);
        assert!(b.contains("channel:web-de"));
        assert!(b.contains("Bearer tok-c"));
        assert!(b.contains("Bearer tok-f"));
        assert!(b.contains("\"sku\":\"SKU-1\""));
        assert!(b.contains("/_local/outbox"));
    }

    #[test]
    fn seed_files_are_strict() {
        assert!(serde_json::from_str::<SeedFile>(
            r#"{"requests": [{"method": "PUT", "path": "/x", "body": {}}]}"#
        )
        .is_ok());
        assert!(serde_json::from_str::<SeedFile>(r#"{"requests": [{"verb": "PUT"}]}"#).is_err());
    }
}
