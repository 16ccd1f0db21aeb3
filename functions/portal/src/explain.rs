//! Why a change failed, told in the page's language: the fulfiller API's errors turned into a
//! message and the form field it is about.

use crate::render::Fail;
use crate::session::Frame;
use crate::Portal;
use dropship_aws::http::HandlerError;
use dropship_core::error::Invalid;
use dropship_core::{ApiError, ErrorCode};

/// A failed change: the reason to show, and the form field it is about.
pub(crate) struct Problem {
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl Portal {
    /// The reason a change failed, in the page's language where the portal knows the case;
    /// `field_of` maps the API's field (`lines[0].quantity`) to the form's.
    pub(crate) fn explain(
        &self,
        frame: &Frame,
        e: &ApiError,
        field_of: impl Fn(&str) -> Option<String>,
    ) -> Problem {
        let known = format!("errors.{}", e.code);
        if matches!(
            e.code,
            ErrorCode::InvalidState
                | ErrorCode::AlreadyReceived
                | ErrorCode::ReturnNotAuthorized
                | ErrorCode::ConcurrentModification
        ) && self.texts.has(frame.lang, &known)
        {
            return Problem {
                field: None,
                message: self.text(frame, &known),
            };
        }
        if e.code == ErrorCode::IdempotencyInProgress {
            return Problem {
                field: None,
                message: self.text(frame, "errors.concurrent_modification"),
            };
        }
        let field = e.field.clone().unwrap_or_default();
        let blank = matches!(e.invalid, Some(Invalid::Required | Invalid::Empty));
        match field.as_str() {
            "carrier" | "trackingNumber" | "reason" if blank => Problem {
                field: Some(field.clone()),
                message: self.text(frame, "errors.required"),
            },
            "lines" => Problem {
                field: None,
                message: self.text(frame, "errors.lines_empty"),
            },
            f => Problem {
                field: field_of(f).or(Some(field.clone())),
                message: e.message.clone(),
            },
        }
    }
}

/// A failed read of the fulfiller API as a failed page: what it cannot find is not found.
pub(crate) fn handler_fail(e: HandlerError) -> Fail {
    match e {
        HandlerError::Api(e) if e.status == 404 => Fail::NotFound,
        HandlerError::Api(e) => Fail::Internal(anyhow::anyhow!("{}: {}", e.code, e.message)),
        HandlerError::Internal(e) => Fail::Internal(e),
    }
}

/// The `i` of an API error's field `lines[i]...`: which line of the posted form it is about.
pub(crate) fn line_index(field: &str) -> Option<usize> {
    field
        .strip_prefix("lines[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}
