//! The dropshipper portal: server-rendered pages under `/portal` where a small fulfiller works
//! its delivery orders, stock and returns in any browser, through the same use cases as the
//! fulfiller API (`dropship_app`).
//!
//! The HTTP API's authorizer does not guard these routes (the template says `Authorizer: NONE`):
//! a page's caller is the fulfiller of its session cookie. Signing in takes the fulfiller's API
//! token or a one-time link mailed to the fulfiller's address. Every POST carries a CSRF token,
//! every change goes through the fulfiller API's use cases (`dropship_app::fulfilment`: accept,
//! reject, ship, receive) or the same stock counting as `PUT /fulfiller/stock`
//! (`dropship_app::stock_counts`), and a failed change re-renders the page with the reason.
//!
//! This file only dispatches a route to its page group in `pages/` (sign-in, dashboard,
//! delivery orders, stock, returns); what every page shares lives beside it: `session` (who
//! asks, CSRF), `render` (templates, headers, error page), `explain` (an API error as a form's
//! message), `idempotency` (a form's change at most once) and `pagination`.

mod config;
pub use config::Config;
mod explain;
pub use dropship_web::forms;
pub mod i18n;
mod idempotency;
mod pages;
use dropship_web::pagination;
mod render;
pub mod security;
mod session;
pub mod view;

use dropship_app::fulfilment::answers;
use dropship_app::stock_counts::StockCounts;
use dropship_app::{QueueUrls, Repositories};
use dropship_aws::http;
use dropship_aws::http_idempotency::IdempotencyStore;
use dropship_aws::mailer::Mailer;
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::portal_sessions::PortalSessions;
use dropship_aws::repo::tokens::Tokens;
use dropship_core::ids::FulfillerId;
use forms::Form;
use i18n::Texts;
use lambda_http::{Body, Request, Response};
use minijinja::Environment;
use render::{plain, see_other, Page};
use session::{session_form, Frame};

pub use pages::sign_in::LINK_MINUTES;
pub use render::{templates, Fail};

pub struct Portal {
    /// Orders, delivery orders, stock and returns, and every queue a fulfiller's change sends
    /// to, as the use cases read, change and publish.
    pub repositories: Repositories,
    pub counts: StockCounts,
    /// A form's change at most once (`idempotency`).
    pub idempotency: IdempotencyStore,
    /// The API's public address, without a trailing slash.
    pub public_base_url: String,
    pub catalogue: Catalogue,
    /// API tokens: a fulfiller may sign in with its token.
    pub tokens: Tokens,
    pub sessions: PortalSessions,
    pub mailer: Mailer,
    pub texts: Texts,
    pub pages: Environment<'static>,
}

impl dropship_aws::config::FromConfig for Portal {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let queues = QueueUrls {
            events: Some(&config.events_queue_url),
            documents: Some(&config.documents_queue_url),
            route: Some(&config.stock_counts.route_queue_url),
            returns: Some(&config.returns_queue_url),
        };
        Ok(Self {
            repositories: Repositories::new(cfg, &config.stock_counts.tables, queues)
                .with_returns(&config.returns_table),
            counts: StockCounts::from_config(
                &config.stock_counts,
                &ddb,
                &aws_sdk_sqs::Client::new(cfg),
            ),
            idempotency: IdempotencyStore::new(ddb.clone(), config.idempotency_table.clone()),
            public_base_url: answers::public_base_url(&config.public_api_base_url),
            catalogue: Catalogue::new(ddb.clone(), config.stock_counts.catalogue_table.clone()),
            tokens: Tokens::new(ddb.clone(), config.tokens_table.clone()),
            sessions: PortalSessions::new(
                ddb,
                config.tokens_table.clone(),
                config.stock_counts.catalogue_table.clone(),
            ),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(cfg)),
            texts: crate::i18n::texts()?,
            pages: templates()?,
        })
    }
}

impl Portal {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(self.serve(&req).await)
    }

    async fn serve(&self, req: &Request) -> Response<Body> {
        let frame = match self.frame(req).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal page failed before rendering");
                return plain(
                    500,
                    "The portal is unavailable; please try again in a moment.",
                );
            }
        };
        let key = http::route_key(req);
        let result = match frame.fulfiller_id() {
            None => self.public(req, &key, &frame).await,
            Some(fulfiller) => self.private(req, &key, &frame, fulfiller).await,
        };
        match result {
            Ok(resp) => resp,
            Err(fail) => self.failure(&frame, fail),
        }
    }

    /// Without a session: the sign-in pages (`pages::sign_in`).
    async fn public(&self, req: &Request, key: &str, frame: &Frame) -> Page {
        match key {
            "GET /portal/sign-in" => self.sign_in_form(req, frame),
            "POST /portal/sign-in" => self.sign_in_with_token(req, frame).await,
            "POST /portal/sign-in/link" => self.mail_link(req, frame).await,
            "GET /portal/magic/{token}" => self.magic_page(req, frame),
            "POST /portal/magic/{token}" => self.use_link(req, frame).await,
            // Every other page needs a session: sign in first.
            _ => see_other("/portal/sign-in", vec![]),
        }
    }

    /// Signed in: every page group's routes (`pages::*`).
    async fn private(
        &self,
        req: &Request,
        key: &str,
        frame: &Frame,
        fulfiller: &FulfillerId,
    ) -> Page {
        // Signed in already: the sign-in pages lead home.
        if pages::sign_in::ROUTES.contains(&key) {
            return see_other("/portal", vec![]);
        }
        let method = req.method().as_str();
        // Every POST: the CSRF token first, before anything is read or written.
        let mut upload = None;
        let form = match (method, key) {
            ("POST", "POST /portal/stock/upload") => {
                let (form, file) = forms::multipart(req).await?;
                upload = file;
                session_form(frame, form)?
            }
            ("POST", _) => session_form(frame, forms::urlencoded(req)?)?,
            _ => Form::default(),
        };
        match key {
            "POST /portal/sign-out" => self.sign_out(frame).await,
            "GET /portal" => self.dashboard(frame, fulfiller).await,
            // The greedy route below /portal: only `/portal/` (nothing after the slash) is a page.
            "GET /portal/{path+}" => match http::path_param(req, "path") {
                Ok(rest) if !rest.is_empty() => Err(Fail::NotFound),
                _ => self.dashboard(frame, fulfiller).await,
            },
            "GET /portal/delivery-orders" => self.delivery_orders(req, frame, fulfiller).await,
            "GET /portal/delivery-orders/{id}" => {
                self.delivery_order_page(req, frame, fulfiller).await
            }
            "POST /portal/delivery-orders/{id}/accept"
            | "POST /portal/delivery-orders/{id}/reject"
            | "POST /portal/delivery-orders/{id}/shipments" => {
                self.act(req, key, frame, fulfiller, &form).await
            }
            "GET /portal/stock" => self.stock(req, frame, fulfiller).await,
            "POST /portal/stock" => self.save_count(frame, fulfiller, &form).await,
            "POST /portal/stock/upload" => self.upload(frame, fulfiller, upload).await,
            "GET /portal/returns" => self.returns(req, frame, fulfiller).await,
            "POST /portal/returns/{returnId}/receive" => {
                self.receive(req, frame, fulfiller, &form).await
            }
            _ => Err(Fail::NotFound),
        }
    }
}

/// A query parameter of the page's URL.
fn query(req: &Request, name: &str) -> Option<String> {
    http::query_param(req, name)
}

/// A path parameter; a malformed id cannot name anything of this fulfiller's.
fn path(req: &Request, name: &str) -> Result<String, Fail> {
    http::path_param(req, name)
        .ok()
        .filter(|p| dropship_core::ids::is_valid_id(p))
        .ok_or(Fail::NotFound)
}

#[cfg(test)]
mod tests;
