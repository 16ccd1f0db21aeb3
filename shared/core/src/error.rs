//! The API's error shape: `{"error": {"code", "message", "field"?}}` with its HTTP status.

use serde::Serialize;

/// Every error code the API answers with (docs/api.md), written on the wire as `as_str` names
/// it. Callers match on it, never on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MalformedJson,
    Unauthenticated,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    InternalError,
    /// Someone else wrote the item between our read and our write, retries exhausted.
    ConcurrentModification,
    /// A write based on a version of the process settings that is no longer the current one.
    VersionConflict,
    InvalidState,
    AlreadyCancelled,
    AlreadyShipped,
    AlreadyReceived,
    NotShipped,
    NotReturnable,
    ReturnWindowClosed,
    NoInvoicePayment,
    InsufficientStock,
    DuplicateOrder,
    IdempotencyInProgress,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    /// A price that has begun (or would begin in the past) never changes.
    PriceHistoryImmutable,
    /// A promotion that has begun keeps its terms.
    PromotionBegun,
    /// A line without a price whose sku has no list price on the order date.
    NoPrice,
    /// Under a channel's `priceCheck: reject`, a given unit price that is not the list price.
    PriceMismatch,
    /// A customer's cancellation of units the process settings no longer let the customer
    /// cancel (`cancellation.customerMayCancelUntil`).
    CancellationClosed,
    /// Customer service may reject a return only while it is authorized (nothing arrived).
    ReturnNotAuthorized,
    /// An order from a channel the retailer has set inactive (its reads keep working).
    ChannelInactive,
    /// An order line of a product the retailer has set inactive.
    ProductInactive,
}

impl ErrorCode {
    /// The code as the API writes it.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "malformed_json",
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            NotFound => "not_found",
            PayloadTooLarge => "payload_too_large",
            ValidationFailed => "validation_failed",
            InternalError => "internal_error",
            ConcurrentModification => "concurrent_modification",
            VersionConflict => "version_conflict",
            InvalidState => "invalid_state",
            AlreadyCancelled => "already_cancelled",
            AlreadyShipped => "already_shipped",
            AlreadyReceived => "already_received",
            NotShipped => "not_shipped",
            NotReturnable => "not_returnable",
            ReturnWindowClosed => "return_window_closed",
            NoInvoicePayment => "no_invoice_payment",
            InsufficientStock => "insufficient_stock",
            DuplicateOrder => "duplicate_order",
            IdempotencyInProgress => "idempotency_in_progress",
            IdempotencyKeyRequired => "idempotency_key_required",
            IdempotencyKeyReused => "idempotency_key_reused",
            InvalidIdempotencyKey => "invalid_idempotency_key",
            PriceHistoryImmutable => "price_history_immutable",
            PromotionBegun => "promotion_begun",
            NoPrice => "no_price",
            PriceMismatch => "price_mismatch",
            CancellationClosed => "cancellation_closed",
            ReturnNotAuthorized => "return_not_authorized",
            ChannelInactive => "channel_inactive",
            ProductInactive => "product_inactive",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with an invalid field, for callers that word it themselves (the portal says
/// "required" in the page's language). Not part of the HTTP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Missing (or null, or not of the expected type where only presence is checked).
    Required,
    /// Present but blank.
    Empty,
    /// Longer than allowed.
    TooLong,
    /// Not an id of docs/api.md (`[A-Za-z0-9._-]{1,64}`).
    NotAnId,
}

/// An error a request can end in. Handlers build these; the HTTP adapter renders them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Set by the field checks that know it (`ids::check_text`, "... is required").
    pub invalid: Option<Invalid>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            invalid: None,
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Says what is wrong with the field (see `Invalid`).
    pub fn because(mut self, invalid: Invalid) -> Self {
        self.invalid = Some(invalid);
        self
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::MalformedJson, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            401,
            ErrorCode::Unauthenticated,
            "a valid bearer token is required",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            403,
            ErrorCode::Forbidden,
            "this principal may not use this endpoint",
        )
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(404, ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn too_large() -> Self {
        Self::new(
            413,
            ErrorCode::PayloadTooLarge,
            "the request body is larger than 256 KiB",
        )
    }
    /// 422: well-formed but invalid, naming the offending field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(422, ErrorCode::ValidationFailed, message).at(field)
    }
    /// 422: a field that must be given is missing.
    pub fn required(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(field, message).because(Invalid::Required)
    }
    pub fn internal() -> Self {
        Self::new(
            500,
            ErrorCode::InternalError,
            "an internal error occurred; it has been logged",
        )
    }

    pub fn body(&self) -> String {
        let body = Body {
            error: Inner {
                code: self.code,
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

    #[test]
    fn a_code_is_written_as_its_name_on_the_wire() {
        let e = ApiError::conflict(ErrorCode::IdempotencyKeyReused, "x");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"]["code"], "idempotency_key_reused");
        assert_eq!(
            ErrorCode::ConcurrentModification.to_string(),
            "concurrent_modification"
        );
    }

    #[test]
    fn a_missing_field_says_so_without_changing_the_body() {
        let e = ApiError::required("reason", "reason is required");
        assert_eq!(e.invalid, Some(Invalid::Required));
        assert_eq!(
            e.body(),
            ApiError::invalid("reason", "reason is required").body()
        );
        assert_eq!(
            e.body(),
            r#"{"error":{"code":"validation_failed","message":"reason is required","field":"reason"}}"#
        );
    }
}
