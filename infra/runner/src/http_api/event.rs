//! The payload format 2.0 event an HTTP request becomes: headers, cookies, query and path
//! parameters, the request context, and the body as text or base64, as API Gateway builds it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use base64::Engine as _;
use chrono::Utc;
use serde_json::{json, Value};

use super::API_ID;
use crate::template::{percent_decode, ACCOUNT_ID};

pub(super) struct RequestInfo {
    pub(super) method: String,
    pub(super) raw_path: String,
    pub(super) raw_query: String,
    pub(super) headers: HeaderMap,
    pub(super) source_ip: String,
    pub(super) request_id: String,
    pub(super) route_key: String,
    pub(super) path_params: BTreeMap<String, String>,
}

impl RequestInfo {
    /// Lower-case names; repeated headers joined by commas; cookies travel separately.
    pub(super) fn header_map(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &self.headers {
            if name == COOKIE {
                continue;
            }
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            out.entry(name.as_str().to_string())
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        out.entry("x-forwarded-for".into())
            .or_insert_with(|| self.source_ip.clone());
        out.entry("x-forwarded-proto".into())
            .or_insert_with(|| "http".into());
        out
    }

    pub(super) fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub(super) fn query_map(&self) -> BTreeMap<String, String> {
        parse_query(&self.raw_query)
    }

    pub(super) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    pub(super) fn request_context(&self) -> Value {
        let now = Utc::now();
        let domain = self
            .header("host")
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let prefix = domain.split('.').next().unwrap_or_default().to_string();
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": prefix,
            "http": {
                "method": self.method,
                "path": self.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.source_ip,
                "userAgent": self.header("user-agent").unwrap_or_default(),
            },
            "requestId": self.request_id,
            "routeKey": self.route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        })
    }

    /// Fields API Gateway leaves out when they would be empty.
    pub(super) fn add_optional(&self, event: &mut Value, query: &BTreeMap<String, String>) {
        let cookies = self.cookies();
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        if !query.is_empty() {
            event["queryStringParameters"] = json!(query);
        }
        if !self.path_params.is_empty() {
            event["pathParameters"] = json!(self.path_params);
        }
    }

    pub(super) fn event(&self, context: Value, body: &Bytes) -> Value {
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.raw_path,
            "rawQueryString": self.raw_query,
            "headers": self.header_map(),
            "requestContext": context,
            "isBase64Encoded": false,
        });
        self.add_optional(&mut event, &self.query_map());
        if !body.is_empty() {
            let content_type = self.header("content-type").unwrap_or_default();
            if is_text(&content_type) {
                event["body"] = json!(String::from_utf8_lossy(body));
            } else {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
        event
    }
}

/// Bodies API Gateway passes as text; everything else is base64-encoded.
pub fn is_text(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct.ends_with("+json")
        || ct == "application/x-www-form-urlencoded"
        || ct == "application/xml"
        || ct.ends_with("+xml")
}

/// Decoded query parameters; repeated names joined by commas, as API Gateway does.
pub fn parse_query(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(&k.replace('+', " "));
        let v = percent_decode(&v.replace('+', " "));
        out.entry(k)
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_content_types() {
        assert!(is_text("application/json; charset=utf-8"));
        assert!(is_text("text/csv"));
        assert!(is_text("application/problem+json"));
        assert!(is_text("application/x-www-form-urlencoded"));
        assert!(!is_text("application/pdf"));
        assert!(!is_text(""));
    }

    #[test]
    fn query_parameters_join_repeats() {
        let q = parse_query("a=1&a=2&b=x+y&c=%2F&d");
        assert_eq!(q["a"], "1,2");
        assert_eq!(q["b"], "x y");
        assert_eq!(q["c"], "/");
        assert_eq!(q["d"], "");
    }
}
