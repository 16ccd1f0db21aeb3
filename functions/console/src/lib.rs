//! The retailer's console: server-rendered pages under `/console` where the retailer's staff
//! find orders and customers, act for customers, watch alerts and reports, and read (admins
//! also change) the configuration, in German or English, by keyboard, on a tablet.
//!
//! The console holds no rules of its own. Signing in (with a staff or the owner's API token,
//! or a mailed one-time link) makes a console session, which is an API token of that person
//! ending after 12 hours (`ConsoleSessions`). Every page reads, and every form acts, through
//! the HTTP API with that token (`api`): the API's role rules, validation, idempotency and audit
//! log apply unchanged, and the console shows only the buttons the person's role may use
//! (`dropship_core::staff::may`). A form posted anyway gets the API's 403.
//!
//! API Gateway sends every `/console` path here (`GET /console/{path+}`, `POST
//! /console/{path+}`, no authorizer: a page's caller is its session cookie); `serve` routes by
//! path. The page groups live in `pages/`; what every page shares beside this file: `session`
//! (who asks, CSRF), `render` (templates, headers, error page), `security` (cookies).

pub mod api;
pub mod charts;
mod config;
pub mod format;
pub use config::Config;
mod pages;
mod render;
pub mod security;
mod session;

use api::Api;
use dropship_aws::mailer::Mailer;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::console_sessions::ConsoleSessions;
use dropship_web::i18n::Texts;
use lambda_http::{Body, Request, Response};
use minijinja::Environment;
use render::{plain, see_other, Fail, Page};
use session::Frame;

pub use render::templates;

pub struct Console {
    /// The HTTP API every page reads and acts through, as the signed-in person.
    pub api: Api,
    pub sessions: ConsoleSessions,
    pub catalogue: Catalogue,
    pub mailer: Mailer,
    /// The API's public address, without a trailing slash (mailed links start with it).
    pub public_base_url: String,
    /// The bootstrap admin token's SHA-256 (hex): the owner may sign in with it.
    pub bootstrap_admin_sha256: String,
    pub texts: Texts,
    pub pages: Environment<'static>,
}

/// The console's texts in German and English.
pub fn texts() -> anyhow::Result<Texts> {
    Texts::from_json(
        include_str!("../i18n/de.json"),
        include_str!("../i18n/en.json"),
    )
}

impl dropship_aws::config::FromConfig for Console {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let base = config.public_api_base_url.trim_end_matches('/').to_string();
        Ok(Self {
            api: Api::new(&base)?,
            bootstrap_admin_sha256: config.bootstrap_admin_token_sha256.to_lowercase(),
            sessions: ConsoleSessions::new(
                ddb.clone(),
                config.tokens_table.clone(),
                config.catalogue_table.clone(),
            ),
            catalogue: Catalogue::new(ddb, config.catalogue_table.clone()),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(cfg)),
            public_base_url: base,
            texts: texts()?,
            pages: templates()?,
        })
    }
}

impl Console {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(self.serve(&req).await)
    }

    async fn serve(&self, req: &Request) -> Response<Body> {
        let frame = match self.frame(req).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "console page failed before rendering");
                return plain(
                    500,
                    "The console is unavailable; please try again in a moment.",
                );
            }
        };
        let path = req.uri().path().trim_end_matches('/').to_string();
        let rest = path.strip_prefix("/console").unwrap_or("");
        let decoded: Vec<String> = rest
            .split('/')
            .filter(|p| !p.is_empty())
            .map(decode_segment)
            .collect();
        let parts: Vec<&str> = decoded.iter().map(String::as_str).collect();
        let method = req.method().as_str();
        let result = match (method, parts.as_slice()) {
            ("GET", ["language", lang]) => self.language(lang),
            _ if frame.session.is_none() => self.public(req, method, &parts, &frame).await,
            _ => self.private(req, method, &parts, &frame).await,
        };
        match result {
            Ok(resp) => resp,
            Err(fail) => self.failure(&frame, fail),
        }
    }

    /// Without a session: the sign-in pages (`pages::sign_in`).
    async fn public(&self, req: &Request, method: &str, parts: &[&str], frame: &Frame) -> Page {
        match (method, parts) {
            ("GET", ["sign-in"]) => self.sign_in_form(req, frame),
            ("POST", ["sign-in"]) => self.sign_in_with_token(req, frame).await,
            ("POST", ["sign-in", "link"]) => self.mail_link(req, frame).await,
            ("GET", ["magic", token]) => self.magic_page(token, frame),
            ("POST", ["magic", token]) => self.use_link(req, token, frame).await,
            // Every other page needs a session: sign in first.
            ("GET", _) => see_other("/console/sign-in", vec![]),
            _ => Err(Fail::Csrf),
        }
    }

    /// Signed in: every page group's routes (`pages::*`).
    async fn private(&self, req: &Request, method: &str, parts: &[&str], frame: &Frame) -> Page {
        if method == "POST" {
            // Every POST: the CSRF token first, before anything is read or written.
            let form = session::session_form(req, frame)?;
            return match parts {
                ["sign-out"] => self.sign_out(frame).await,
                ["orders", order, action] => self.act_on_order(frame, order, action, &form).await,
                ["delivery-orders", delivery, "reroute"] => {
                    self.reroute(frame, delivery, &form).await
                }
                ["returns", ret, "reject"] => self.reject_return(frame, ret, &form).await,
                ["alerts", "resolve"] => self.resolve_alert(frame, &form).await,
                ["configuration", "products", sku] => self.save_product(frame, sku, &form).await,
                ["configuration", "edit"] => self.save_edit(frame, &form).await,
                ["configuration", "tokens"] => self.create_token(frame, &form).await,
                ["configuration", "tokens", id, "revoke"] => self.revoke_token(frame, id).await,
                ["configuration", kind, id, "active"] => {
                    self.set_active(frame, kind, id, &form).await
                }
                _ => Err(Fail::NotFound),
            };
        }
        match parts {
            [] => see_other("/console/orders", vec![]),
            ["sign-in"] | ["magic", _] => see_other("/console/orders", vec![]),
            ["orders"] => self.orders(req, frame).await,
            ["orders", order] => {
                let done = self.done(frame, req);
                self.order_page(frame, order, done, None).await
            }
            ["customers", email] => self.customer(frame, email).await,
            ["alerts"] => self.alerts(req, frame).await,
            ["reports"] => self.reports(req, frame).await,
            ["reports", "download"] => self.download(req, frame).await,
            ["report-jobs", job] => self.report_job(frame, job).await,
            ["configuration"] => self.configuration(req, frame).await,
            ["configuration", "products", sku] => self.product_page(frame, sku, None).await,
            ["configuration", "edit"] => self.edit_page(frame, &query(req, "path"), None).await,
            _ => Err(Fail::NotFound),
        }
    }
}

impl Console {
    /// What a form just did (`?done=<action>`), in the page's language; unknown ones say nothing.
    fn done(&self, frame: &Frame, req: &Request) -> Option<String> {
        let done = query(req, "done");
        let path = format!("done.{done}");
        (!done.is_empty() && self.texts.has(frame.lang, &path)).then(|| self.text(frame, &path))
    }
}

/// A query parameter of the page's URL.
fn query(req: &Request, name: &str) -> String {
    dropship_aws::http::query_param(req, name).unwrap_or_default()
}

/// A path segment without its percent-encoding (a `+` stays a `+`: it is part of addresses).
fn decode_segment(segment: &str) -> String {
    let raw = segment.replace('+', "%2B");
    form_urlencoded::parse(format!("s={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_decoded_keeping_plus_signs() {
        assert_eq!(decode_segment("ada%40example.com"), "ada@example.com");
        assert_eq!(decode_segment("ada+x@example.com"), "ada+x@example.com");
        assert_eq!(decode_segment("WEB%201001"), "WEB 1001");
    }

    #[test]
    fn both_languages_have_the_same_texts_and_every_template_compiles() {
        let t = texts().unwrap_or_else(|e| panic!("i18n files: {e}"));
        assert_eq!(
            t.paths(dropship_web::i18n::Lang::De),
            t.paths(dropship_web::i18n::Lang::En)
        );
        templates().unwrap_or_else(|e| panic!("templates: {e}"));
    }
}
