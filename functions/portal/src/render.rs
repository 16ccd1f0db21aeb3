//! Rendering: the page templates, the portal's look around every page (security headers, the
//! pre-session cookie), redirects after a form, and the error page a failed request ends on.

use crate::session::Frame;
use crate::{security, view, Portal};
use lambda_http::{Body, Response};
use minijinja::Environment;
use serde_json::{json, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
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
];

/// The page templates (the site's and the shared ones: `dropship_web::page::environment`).
pub fn templates() -> anyhow::Result<Environment<'static>> {
    dropship_web::page::environment(TEMPLATES)
}

pub use dropship_web::page::{Fail, Page};

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
            "site": {"path": "/portal"},
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
        // A visitor's first page sets the pre-session cookie its sign-in forms' CSRF tokens need.
        let cookie = (frame.session.is_none() && frame.pre.1).then(|| {
            security::set_cookie(security::PRE_COOKIE, &frame.pre.0, security::PRE_SECONDS)
        });
        dropship_web::page::html(status, html, &frame.nonce, cookie)
    }

    /// An error page in the portal's look; internal causes go to the log, never to the page.
    pub(crate) fn failure(&self, frame: &Frame, fail: Fail) -> Response<Body> {
        let (status, heading, text) = fail.page();
        if let Fail::Internal(e) = &fail {
            tracing::error!(error = %format!("{e:#}"), "portal page failed");
        }
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

pub(crate) use dropship_web::page::see_other;

pub(crate) use dropship_web::respond::plain;
