//! What every page handler of a site answers: the page (HTML with the sites' security headers),
//! a redirect, or why the site's error page is shown instead (`Fail`, with the texts it shows).

use crate::forms::FormError;
use lambda_http::{Body, Response};

/// The pages both sites show alike, in their own layout (`layout.html`) and texts: signing in
/// with a token or a mailed link, the link's page, the link's mail, and a message (the error
/// page). Their variables:
/// `site.path` (`/portal`, `/console`), `site.title` (the site's name, in the mail) and
/// `person` (whom the mail greets).
pub const SHARED_TEMPLATES: &[(&str, &str)] = &[
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("magic.html", include_str!("../templates/magic.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("mail_link.txt", include_str!("../templates/mail_link.txt")),
    (
        "mail_link.html",
        include_str!("../templates/mail_link.html"),
    ),
];

/// A site's templates (`own`) with the shared ones; `.html` ones are auto-escaped. Undefined
/// values chain (an absent `error` makes `error.field` empty) so templates need no guard on
/// every optional value.
pub fn environment(
    own: &'static [(&'static str, &'static str)],
) -> anyhow::Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in own.iter().chain(SHARED_TEMPLATES) {
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
    /// The person's role may not do this (the console: the API's 403); nothing changed.
    Forbidden,
    TooLarge,
    BadForm,
    Internal(anyhow::Error),
}

impl Fail {
    /// The error page's status and the paths of its heading and text in the site's texts.
    pub fn page(&self) -> (u16, &'static str, &'static str) {
        match self {
            Fail::NotFound => (404, "errors.not_found_title", "errors.not_found_text"),
            Fail::Csrf => (403, "errors.csrf_title", "errors.csrf_text"),
            Fail::Forbidden => (403, "errors.forbidden_title", "errors.forbidden_text"),
            Fail::TooLarge => (413, "errors.csrf_title", "errors.file_too_large"),
            Fail::BadForm => (400, "errors.csrf_title", "errors.bad_form"),
            Fail::Internal(_) => (500, "errors.server_title", "errors.server_text"),
        }
    }
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

/// What every page handler answers.
pub type Page = Result<Response<Body>, Fail>;

/// An HTML page with the sites' headers: never cached; scripts and styles only with the page's
/// `nonce`; forms only to the site; no framing; no referrer (sign-in link pages carry the
/// secret in their URL). `cookie`: a Set-Cookie to send with it.
pub fn html(status: u16, html: String, nonce: &str, cookie: Option<String>) -> Page {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
            "content-security-policy",
            format!(
                "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
        )
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer");
    if let Some(c) = cookie {
        builder = builder.header("set-cookie", c);
    }
    builder
        .body(Body::Text(html))
        .map_err(|e| Fail::Internal(e.into()))
}

/// 303 to a GET page (after a form: reloading the page does not send the form again).
pub fn see_other(location: &str, cookies: Vec<String>) -> Page {
    crate::respond::see_other(location, cookies).map_err(|e| Fail::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_carries_the_sites_security_headers() {
        let r = html(200, "<p>x</p>".into(), "n1", Some("a=1".into())).unwrap();
        let h = r.headers();
        assert_eq!(h["cache-control"], "no-store");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'nonce-n1'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["set-cookie"], "a=1");
    }

    #[test]
    fn each_failure_has_its_status_and_texts() {
        assert_eq!(Fail::NotFound.page().0, 404);
        assert_eq!(Fail::Csrf.page().0, 403);
        assert_eq!(
            Fail::Forbidden.page(),
            (403, "errors.forbidden_title", "errors.forbidden_text")
        );
        assert_eq!(Fail::TooLarge.page().0, 413);
        assert_eq!(Fail::Internal(anyhow::anyhow!("x")).page().0, 500);
    }
}
