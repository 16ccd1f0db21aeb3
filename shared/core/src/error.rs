//! The API's error shape: `{"error": {"code", "message", "field"?}}` with its HTTP status.

use serde::Serialize;

/// An error a request can end in. Handlers build these; the HTTP adapter renders them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(400, "malformed_json", message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(401, "unauthenticated", "a valid bearer token is required")
    }
    pub fn forbidden() -> Self {
        Self::new(403, "forbidden", "this principal may not use this endpoint")
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn too_large() -> Self {
        Self::new(
            413,
            "payload_too_large",
            "the request body is larger than 256 KiB",
        )
    }
    /// 422: well-formed but invalid, naming the offending field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(422, "validation_failed", message).at(field)
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal_error",
            "an internal error occurred; it has been logged",
        )
    }

    pub fn body(&self) -> String {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        // Serializing a struct of strings cannot fail.
        serde_json::to_string(&body).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_api_shape_with_and_without_field() {
        let e = ApiError::invalid("lines[2].quantity", "quantity must be 1..999");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"]["code"], "validation_failed");
        assert_eq!(v["error"]["field"], "lines[2].quantity");
        let v: serde_json::Value =
            serde_json::from_str(&ApiError::unauthenticated().body()).unwrap();
        assert!(v["error"].get("field").is_none());
        assert_eq!(ApiError::unauthenticated().status, 401);
    }
}
