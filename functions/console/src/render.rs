//! Rendering: the page templates, the console's look around every page (security headers, the
//! pre-session cookie), redirects after a form, and the error page a failed request ends on.

use crate::security::{self, SITE};
use crate::session::Frame;
use crate::Console;
use lambda_http::{Body, Response};
use minijinja::Environment;
use serde_json::{json, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
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
];

/// The page templates (the site's and the shared ones: `dropship_web::page::environment`).
pub fn templates() -> anyhow::Result<Environment<'static>> {
    let mut env = dropship_web::page::environment(TEMPLATES)?;
    env.add_filter("when", |v: String, tz: String, lang: String| {
        crate::format::when(&v, &tz, &lang)
    });
    env.add_filter("urlencode", |v: String| crate::api::enc(&v));
    env.add_filter("money", |v: String, currency: String, lang: String| {
        crate::format::money(&v, &currency, &lang)
    });
    Ok(env)
}

pub use dropship_web::page::{Fail, Page};

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
            "site": {"path": "/console"},
            "me": frame.session.as_ref().map(|s| json!({"name": s.name, "principal": s.principal, "role": s.role})),
            "csrf": frame.csrf(),
            "nonce": frame.nonce,
            "section": section,
        });
        if let (Some(ctx), Value::Object(page)) = (ctx.as_object_mut(), page) {
            ctx.extend(page);
        }
        let html = self.pages.get_template(template)?.render(&ctx)?;
        // A visitor's first page sets the pre-session cookie its sign-in forms' CSRF tokens need.
        let cookie = (frame.session.is_none() && frame.pre.1)
            .then(|| SITE.set_cookie(security::PRE_COOKIE, &frame.pre.0, security::PRE_SECONDS));
        dropship_web::page::html(status, html, &frame.nonce, cookie)
    }

    /// An error page in the console's look; internal causes go to the log, never to the page.
    pub(crate) fn failure(&self, frame: &Frame, fail: Fail) -> Response<Body> {
        let (status, heading, text) = fail.page();
        if let Fail::Internal(e) = &fail {
            tracing::error!(error = %format!("{e:#}"), "console page failed");
        }
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

pub(crate) use dropship_web::page::see_other;

pub(crate) use dropship_web::respond::plain;
