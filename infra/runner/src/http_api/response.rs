//! A function's payload 2.0 response mapped back to HTTP: status, headers, multi-value
//! headers, cookies and a text or base64 body, or API Gateway's inference when the function
//! answered without `statusCode`.

use axum::body::Body;
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde_json::Value;

/// Maps a payload-2.0 function response to HTTP, including API Gateway's inference for
/// responses without `statusCode`.
pub fn map_response(out: &[u8]) -> Result<Response, String> {
    let parsed: Value = if out.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(out).map_err(|e| format!("not JSON: {e}"))?
    };
    let structured = parsed.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(obj) = structured else {
        let mut r = Response::new(Body::from(out.to_vec()));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(r);
    };
    let status = obj
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("statusCode is not a valid HTTP status")?;
    let body: Vec<u8> = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| format!("body is not valid base64: {e}"))?
            } else {
                s.clone().into_bytes()
            }
        }
        Some(other) => other.to_string().into_bytes(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &Value| {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => return,
            other => other.to_string(),
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            (Ok(n), Ok(v)) => {
                headers.append(n, v);
            }
            _ => tracing::warn!("dropping invalid response header {name}"),
        }
    };
    if let Some(Value::Object(h)) = obj.get("headers") {
        for (k, v) in h {
            add(k, v);
        }
    }
    if let Some(Value::Object(h)) = obj.get("multiValueHeaders") {
        for (k, vs) in h {
            for v in vs.as_array().into_iter().flatten() {
                add(k, v);
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies {
            add(SET_COOKIE.as_str(), c);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn function_responses_map_to_http() {
        let r = map_response(
            br#"{"statusCode": 201, "headers": {"content-type": "application/json", "x-n": 1},
                 "multiValueHeaders": {"x-m": ["a", "b"]}, "cookies": ["s=1", "t=2"],
                 "body": "{\"id\":\"o-1\"}", "isBase64Encoded": false}"#,
        )
        .expect("mapped");
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["x-n"], "1");
        assert_eq!(r.headers().get_all("x-m").iter().count(), 2);
        assert_eq!(r.headers().get_all(SET_COOKIE).iter().count(), 2);
        let body = axum::body::to_bytes(r.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], br#"{"id":"o-1"}"#);

        let r = map_response(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#)
            .expect("mapped");
        let body = axum::body::to_bytes(r.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], b"hi");

        // Without statusCode API Gateway infers 200 + JSON.
        let r = map_response(br#"{"ok": true}"#).expect("inferred");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");

        assert!(map_response(b"not json").is_err());
        assert!(map_response(br#"{"statusCode": 1000}"#).is_err());
    }
}
