//! The HTTP API as the console uses it: every page reads, and every form acts, through the
//! same operations a retailer's own tools call, with the session's token as the bearer. So the
//! API's role rules, validation, idempotency and audit log apply to the console unchanged; the
//! console only decides which buttons to show.

use anyhow::Context;
use serde_json::Value;
use std::time::Duration;

/// The API answers within API Gateway's 30 s; the page gives up a little earlier.
const TIMEOUT: Duration = Duration::from_secs(25);

#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    /// The API's address, without a trailing slash.
    base: String,
}

/// What the API answered: its status and JSON body (`{}` for an empty or non-JSON body), or
/// for a non-JSON success the raw text (the process diagram's SVG).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: Option<String>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The API error's message (`{"error": {"message"}}`), for a form's explanation.
    pub fn message(&self) -> String {
        self.body["error"]["message"]
            .as_str()
            .or_else(|| self.body["message"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// The field the API error names, if any.
    pub fn field(&self) -> Option<String> {
        self.body["error"]["field"].as_str().map(str::to_string)
    }
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .context("building the API client")?,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// `GET path` (with its query) as the session's principal.
    pub async fn get(&self, token: &str, path: &str) -> anyhow::Result<Answer> {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        Self::answer(req).await
    }

    /// `method path` with a JSON body; `key` is the Idempotency-Key of the form it came from,
    /// so a form sent twice changes once.
    pub async fn send(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        Self::answer(req).await
    }

    async fn answer(req: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let resp = req.send().await.context("calling the HTTP API")?;
        let status = resp.status().as_u16();
        let json = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let text = resp.text().await.context("reading the HTTP API's answer")?;
        if json || text.is_empty() {
            let body =
                serde_json::from_str(&text).unwrap_or_else(|_| Value::Object(Default::default()));
            Ok(Answer {
                status,
                body,
                text: None,
            })
        } else {
            Ok(Answer {
                status,
                body: Value::Object(Default::default()),
                text: Some(text),
            })
        }
    }
}

/// A path segment or query value, percent-encoded (a space as `%20`, right in both).
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A query string of the given pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    // `%20`, not `+`, for a space: API Gateway passes `+` on as it is.
    let q = q.finish().replace('+', "%20");
    if q.is_empty() {
        q
    } else {
        format!("?{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_leave_out_empty_values_and_encode_the_rest() {
        assert_eq!(query(&[("a", ""), ("b", "")]), "");
        assert_eq!(
            query(&[("from", "2026-12-01"), ("q", "a b&c"), ("x", "")]),
            "?from=2026-12-01&q=a%20b%26c"
        );
        assert_eq!(enc("ada+x@example.com"), "ada%2Bx%40example.com");
        assert_eq!(enc("WEB 1/2"), "WEB%201%2F2");
    }

    #[test]
    fn an_api_error_is_explained_by_its_message_and_field() {
        let a = Answer {
            status: 422,
            body: serde_json::json!({"error": {"code": "invalid", "message": "amount is too high", "field": "amount"}}),
            text: None,
        };
        assert!(!a.ok());
        assert_eq!(
            (a.message(), a.field()),
            ("amount is too high".into(), Some("amount".into()))
        );
    }
}
