//! Rendering: the page templates, the portal's look around every page (security headers, the
//! pre-session cookie), redirects after a form, and the error page a failed request ends on.

use crate::forms::FormError;
use crate::session::Frame;
use crate::{security, view, Portal};
use lambda_http::{Body, Response};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("magic.html", include_str!("../templates/magic.html")),
    ("message.html", include_str!("../templates/message.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    (
        "delivery_table.html",
        include_str!("../templates/delivery_table.html"),
    ),
    (
        "delivery_orders.html",
        include_str!("../templates/delivery_orders.html"),
    ),
    (
        "delivery_order.html",
        include_str!("../templates/delivery_order.html"),
    ),
    ("stock.html", include_str!("../templates/stock.html")),
    ("returns.html", include_str!("../templates/returns.html")),
    ("mail_link.txt", include_str!("../templates/mail_link.txt")),
    (
        "mail_link.html",
        include_str!("../templates/mail_link.html"),
    ),
];

/// The page templates; `.html` ones are auto-escaped. Undefined values chain (an absent
/// `error` makes `error.field` empty) so templates need no guard on every optional value.
pub fn templates() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Why a request ends on an error page instead of the page it asked for.
#[derive(Debug)]
pub enum Fail {
    NotFound,
    /// The form's CSRF token is missing or not this session's.
    Csrf,
    TooLarge,
    BadForm,
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Self {
        Fail::Internal(e)
    }
}

impl From<minijinja::Error> for Fail {
    fn from(e: minijinja::Error) -> Self {
        Fail::Internal(anyhow::Error::new(e).context("rendering a page"))
    }
}

impl From<FormError> for Fail {
    fn from(e: FormError) -> Self {
        match e {
            FormError::TooLarge => Fail::TooLarge,
            FormError::Malformed(_) => Fail::BadForm,
        }
    }
}

/// What every page handler answers: the response, or why the error page is shown instead.
pub(crate) type Page = Result<Response<Body>, Fail>;

impl Portal {
    /// A text of the page's language.
    pub(crate) fn text(&self, frame: &Frame, path: &str) -> String {
        self.texts.get(frame.lang, path)
    }

    /// A page: `page`'s values over what every page shows (language, texts, brand, the
    /// signed-in fulfiller, CSRF token, nonce, section, the done message).
    pub(crate) fn render(
        &self,
        frame: &Frame,
        status: u16,
        template: &str,
        section: &str,
        done: Option<String>,
        page: Value,
    ) -> Page {
        let mut ctx = json!({
            "lang": frame.lang.code(),
            "t": self.texts.all(frame.lang),
            "brand": view::brand(frame.branding.as_ref()),
            "site_css": dropship_web::brand::SITE_CSS,
            "fulfiller": frame.session.as_ref().map(|(f, _)| json!({"id": f.id, "name": f.name})),
            "csrf": frame.csrf(),
            "nonce": frame.nonce,
            "section": section,
            "done": done,
        });
        if let (Some(ctx), Value::Object(page)) = (ctx.as_object_mut(), page) {
            ctx.extend(page);
        }
        let html = self.pages.get_template(template)?.render(&ctx)?;
        let mut builder = Response::builder()
            .status(status)
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .header(
                "content-security-policy",
                format!(
                    "default-src 'none'; style-src 'nonce-{n}'; script-src 'nonce-{n}'; img-src 'self' data:; \
                     form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                    n = frame.nonce
                ),
            )
            .header("x-content-type-options", "nosniff")
            .header("x-frame-options", "DENY")
            // Sign-in link pages carry the secret in their URL: never pass it on as a referrer.
            .header("referrer-policy", "no-referrer");
        if frame.session.is_none() && frame.pre.1 {
            builder = builder.header(
                "set-cookie",
                security::set_cookie(security::PRE_COOKIE, &frame.pre.0, security::PRE_SECONDS),
            );
        }
        builder
            .body(Body::Text(html))
            .map_err(|e| Fail::Internal(e.into()))
    }

    /// An error page in the portal's look; internal causes go to the log, never to the page.
    pub(crate) fn failure(&self, frame: &Frame, fail: Fail) -> Response<Body> {
        let (status, heading, text) = match &fail {
            Fail::NotFound => (404, "errors.not_found_title", "errors.not_found_text"),
            Fail::Csrf => (403, "errors.csrf_title", "errors.csrf_text"),
            Fail::TooLarge => (413, "errors.csrf_title", "errors.file_too_large"),
            Fail::BadForm => (400, "errors.csrf_title", "errors.bad_form"),
            Fail::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal page failed");
                (500, "errors.server_title", "errors.server_text")
            }
        };
        if matches!(fail, Fail::Csrf) {
            tracing::warn!(fulfiller_id = ?frame.fulfiller_id(), "portal form refused: CSRF token missing or wrong");
        }
        let back = if frame.session.is_some() {
            "/portal"
        } else {
            "/portal/sign-in"
        };
        let page = json!({"heading": self.text(frame, heading), "text": self.text(frame, text), "back": back});
        match self.render(frame, status, "message.html", "", None, page) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = ?e, "the error page failed too");
                plain(status, "Something went wrong.")
            }
        }
    }
}

/// 303 to a GET page (after a form: reloading the page does not send the form again).
pub(crate) fn see_other(location: &str, cookies: Vec<String>) -> Page {
    dropship_web::respond::see_other(location, cookies).map_err(|e| Fail::Internal(e.into()))
}

pub(crate) use dropship_web::respond::plain;
