//! Rendering: the page templates, the console's look around every page (security headers, the
//! pre-session cookie), redirects after a form, and the error page a failed request ends on.

use crate::security::{self, SITE};
use crate::session::Frame;
use crate::Console;
use dropship_web::forms::FormError;
use lambda_http::{Body, Response};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("magic.html", include_str!("../templates/magic.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("orders.html", include_str!("../templates/orders.html")),
    ("order.html", include_str!("../templates/order.html")),
    ("customer.html", include_str!("../templates/customer.html")),
    ("alerts.html", include_str!("../templates/alerts.html")),
    ("reports.html", include_str!("../templates/reports.html")),
    (
        "report_job.html",
        include_str!("../templates/report_job.html"),
    ),
    (
        "configuration.html",
        include_str!("../templates/configuration.html"),
    ),
    ("product.html", include_str!("../templates/product.html")),
    ("edit.html", include_str!("../templates/edit.html")),
    ("token.html", include_str!("../templates/token.html")),
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
    env.add_filter("when", |v: String, tz: String, lang: String| {
        crate::format::when(&v, &tz, &lang)
    });
    env.add_filter("urlencode", |v: String| crate::api::enc(&v));
    env.add_filter("money", |v: String, currency: String, lang: String| {
        crate::format::money(&v, &currency, &lang)
    });
    Ok(env)
}

/// Why a request ends on an error page instead of the page it asked for.
#[derive(Debug)]
pub enum Fail {
    NotFound,
    /// The form's CSRF token is missing or not this session's.
    Csrf,
    /// The API refused the person's role (403): the page says so, nothing changed.
    Forbidden,
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

impl Console {
    /// A text of the page's language.
    pub(crate) fn text(&self, frame: &Frame, path: &str) -> String {
        self.texts.get(frame.lang, path)
    }

    /// A page: `page`'s values over what every page shows (language, texts, brand, who is
    /// signed in with which role, CSRF token, nonce, section, the done message).
    pub(crate) fn render(
        &self,
        frame: &Frame,
        status: u16,
        template: &str,
        section: &str,
        page: Value,
    ) -> Page {
        let mut ctx = json!({
            "lang": frame.lang.code(),
            "tz": frame.tz.name(),
            "t": self.texts.all(frame.lang),
            "brand": dropship_web::brand::brand(frame.branding.as_ref()),
            "site_css": dropship_web::brand::SITE_CSS,
            "me": frame.session.as_ref().map(|s| json!({"name": s.name, "principal": s.principal, "role": s.role})),
            "csrf": frame.csrf(),
            "nonce": frame.nonce,
            "section": section,
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
                SITE.set_cookie(security::PRE_COOKIE, &frame.pre.0, security::PRE_SECONDS),
            );
        }
        builder
            .body(Body::Text(html))
            .map_err(|e| Fail::Internal(e.into()))
    }

    /// An error page in the console's look; internal causes go to the log, never to the page.
    pub(crate) fn failure(&self, frame: &Frame, fail: Fail) -> Response<Body> {
        let (status, heading, text) = match &fail {
            Fail::NotFound => (404, "errors.not_found_title", "errors.not_found_text"),
            Fail::Csrf => (403, "errors.csrf_title", "errors.csrf_text"),
            Fail::Forbidden => (403, "errors.forbidden_title", "errors.forbidden_text"),
            Fail::TooLarge => (413, "errors.csrf_title", "errors.bad_form"),
            Fail::BadForm => (400, "errors.csrf_title", "errors.bad_form"),
            Fail::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "console page failed");
                (500, "errors.server_title", "errors.server_text")
            }
        };
        if matches!(fail, Fail::Csrf) {
            tracing::warn!(principal = ?frame.session.as_ref().map(|s| &s.principal), "console form refused: CSRF token missing or wrong");
        }
        let back = if frame.session.is_some() {
            "/console"
        } else {
            "/console/sign-in"
        };
        let page = json!({"heading": self.text(frame, heading), "text": self.text(frame, text), "back": back});
        match self.render(frame, status, "message.html", "", page) {
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
