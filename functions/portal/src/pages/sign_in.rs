//! Signing in and out: with the fulfiller's API token, or with a one-time link mailed to the
//! fulfiller's address; signing out closes the session.

use crate::explain::Problem;
use crate::forms::Form;
use crate::i18n::Lang;
use crate::render::{see_other, Fail, Page};
use crate::session::{pre_session_form, Frame};
use crate::{path, query, security, view, Portal};
use chrono::Duration;
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::{Branding, Fulfiller};
use dropship_core::ids::FulfillerId;
use dropship_core::principal::Principal;
use lambda_http::Request;
use serde_json::json;

/// A sign-in link works once, for 15 minutes (the rule).
pub const LINK_MINUTES: i64 = 15;
/// At most one sign-in mail per fulfiller per minute.
const MAIL_EVERY_SECONDS: i64 = 60;
/// An API token is far shorter; a longer one is not looked up.
const MAX_TOKEN_CHARS: usize = 512;

/// The pages of a visitor without a session; a signed-in fulfiller is led home from them.
pub(crate) const ROUTES: &[&str] = &[
    "GET /portal/sign-in",
    "POST /portal/sign-in",
    "POST /portal/sign-in/link",
    "GET /portal/magic/{token}",
    "POST /portal/magic/{token}",
];

impl Portal {
    /// `GET /portal/sign-in`, with what was just done (a link mailed, signed out).
    pub(crate) fn sign_in_form(&self, req: &Request, frame: &Frame) -> Page {
        self.sign_in_page(frame, 200, query(req, "done"), None, "")
    }

    fn sign_in_page(
        &self,
        frame: &Frame,
        status: u16,
        done: Option<String>,
        error: Option<Problem>,
        email: &str,
    ) -> Page {
        let done = done.filter(|d| matches!(d.as_str(), "link_sent" | "signed_out"));
        self.render(
            frame,
            status,
            "sign_in.html",
            "",
            done.map(|d| self.text(frame, &format!("done.{d}"))),
            json!({"error": error.map(|e| json!({"field": e.field, "message": e.message})), "email": email}),
        )
    }

    /// `POST /portal/sign-in`: the fulfiller's API token opens a session.
    pub(crate) async fn sign_in_with_token(&self, req: &Request, frame: &Frame) -> Page {
        let form = pre_session_form(req, frame)?;
        let token = form.get("token").unwrap_or_default().trim();
        let record = if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            None
        } else {
            self.tokens.find_token(token).await?
        };
        let fulfiller =
            record.as_ref().and_then(
                |r| match Principal::parse(&r.principal, r.name.as_deref()) {
                    Some(Principal::Fulfiller { id }) => Some(id),
                    _ => None,
                },
            );
        let (Some(fulfiller), Some(record)) = (fulfiller, record) else {
            let problem = Problem {
                field: Some("token".into()),
                message: self.text(frame, "errors.token_unknown"),
            };
            return self.sign_in_page(frame, 422, None, Some(problem), "");
        };
        tracing::info!(fulfiller_id = %fulfiller, token_id = %record.token_id, "portal sign-in with an API token");
        self.open_session(frame, &fulfiller, Some(record.token_id))
            .await
    }

    async fn open_session(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        token_id: Option<String>,
    ) -> Page {
        let secret = self
            .sessions
            .open(
                fulfiller,
                token_id,
                frame.now,
                Duration::hours(security::SESSION_HOURS),
            )
            .await?;
        see_other(
            "/portal",
            vec![
                security::set_cookie(
                    security::SESSION_COOKIE,
                    &secret,
                    security::SESSION_HOURS * 3600,
                ),
                security::clear_cookie(security::PRE_COOKIE),
            ],
        )
    }

    /// `POST /portal/sign-in/link`: mails a one-time sign-in link to every fulfiller with this
    /// address. The answer is the same whether or not the address is known, so the form tells
    /// no one who is a supplier.
    pub(crate) async fn mail_link(&self, req: &Request, frame: &Frame) -> Page {
        let form: Form = pre_session_form(req, frame)?;
        let email = form.get("email").unwrap_or_default().trim();
        if !dropship_core::catalogue::is_email(email) {
            let problem = Problem {
                field: Some("email".into()),
                message: self.text(frame, "errors.email_invalid"),
            };
            return self.sign_in_page(frame, 422, None, Some(problem), email);
        }
        let Some(branding) = &frame.branding else {
            // Without branding there is no sender address; nobody can be mailed yet.
            tracing::warn!("sign-in link requested before the retailer's branding exists");
            return see_other("/portal/sign-in?done=link_sent", vec![]);
        };
        for fulfiller in self.sessions.fulfillers_with_email(email).await? {
            let every = Duration::seconds(MAIL_EVERY_SECONDS);
            if !self
                .sessions
                .claim_mail(&fulfiller.id, frame.now, every)
                .await?
            {
                tracing::info!(fulfiller_id = %fulfiller.id, "sign-in link not mailed: one was mailed less than a minute ago");
                continue;
            }
            let secret = self
                .sessions
                .mint_link(&fulfiller.id, frame.now, Duration::minutes(LINK_MINUTES))
                .await?;
            let url = format!("{}/portal/magic/{secret}", self.public_base_url);
            let mail = self.link_mail(branding, &fulfiller, &url)?;
            self.mailer.send(&mail).await?;
            // The link is a credential: it is never logged.
            tracing::info!(fulfiller_id = %fulfiller.id, "sign-in link mailed");
        }
        see_other("/portal/sign-in?done=link_sent", vec![])
    }

    fn link_mail(
        &self,
        branding: &Branding,
        fulfiller: &Fulfiller,
        url: &str,
    ) -> Result<Mail, Fail> {
        // The recipient's language: its own locale, else the retailer's.
        let lang = Lang::pick(fulfiller.locale, Some(branding.locale));
        let t = self.texts.all(lang);
        let subject = format!(
            "{} – {}",
            self.texts.get(lang, "mail.subject"),
            branding.company_name
        );
        let ctx = json!({"t": t, "lang": lang.code(), "brand": view::brand(Some(branding)),
            "person": fulfiller.name, "url": url, "subject": subject,
            "site": {"path": "/portal", "title": self.texts.get(lang, "portal")}});
        let text = self.pages.get_template("mail_link.txt")?.render(&ctx)?;
        let html = self.pages.get_template("mail_link.html")?.render(&ctx)?;
        Ok(Mail {
            from_name: branding.company_name.clone(),
            from_address: branding.email_from.clone(),
            to: vec![fulfiller.email.clone()],
            subject,
            text,
            html,
            attachments: vec![],
            inline_images: vec![],
        })
    }

    /// `GET /portal/magic/{token}`: a button that posts the link, so that a mail scanner
    /// following the link does not use it up.
    pub(crate) fn magic_page(&self, req: &Request, frame: &Frame) -> Page {
        let token = path(req, "token")?;
        self.render(
            frame,
            200,
            "magic.html",
            "",
            None,
            json!({"action": format!("/portal/magic/{token}")}),
        )
    }

    /// `POST /portal/magic/{token}`: a mailed link, used once, opens a session.
    pub(crate) async fn use_link(&self, req: &Request, frame: &Frame) -> Page {
        pre_session_form(req, frame)?;
        let token = path(req, "token")?;
        let fulfiller = if security::is_secret(&token) {
            self.sessions.consume_link(&token, frame.now).await?
        } else {
            None
        };
        match fulfiller {
            Some(f) => {
                tracing::info!(fulfiller_id = %f, "portal sign-in with a mailed link");
                self.open_session(frame, &f, None).await
            }
            None => {
                let problem = Problem {
                    field: None,
                    message: self.text(frame, "errors.link_used"),
                };
                self.sign_in_page(frame, 410, None, Some(problem), "")
            }
        }
    }

    /// `POST /portal/sign-out`: the session ends here and in the browser.
    pub(crate) async fn sign_out(&self, frame: &Frame) -> Page {
        if let Some((_, secret)) = &frame.session {
            self.sessions.close(secret).await?;
        }
        tracing::info!(
            fulfiller_id = frame
                .fulfiller_id()
                .map(FulfillerId::as_str)
                .unwrap_or_default(),
            "portal sign-out"
        );
        see_other(
            "/portal/sign-in?done=signed_out",
            vec![security::clear_cookie(security::SESSION_COOKIE)],
        )
    }
}
