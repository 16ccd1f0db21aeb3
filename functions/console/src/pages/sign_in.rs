//! Signing in and out: with a staff member's (or the owner's) API token, or with a one-time
//! link mailed to a staff member's address; signing out revokes the session's token.

use crate::render::{see_other, Fail, Page};
use crate::security::{self, SITE};
use crate::session::{pre_session_form, Frame};
use crate::Console;
use chrono::Duration;
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::Branding;
use dropship_core::staff::StaffMember;
use dropship_web::i18n::Lang;
use lambda_http::Request;
use serde_json::json;

/// A sign-in link works once, for 15 minutes (as the portal's).
pub const LINK_MINUTES: i64 = 15;
/// At most one sign-in mail per staff member per minute.
const MAIL_EVERY_SECONDS: i64 = 60;
/// An API token is far shorter; a longer one is not looked up.
const MAX_TOKEN_CHARS: usize = 512;

impl Console {
    /// `GET /console/language/{de|en}`: the person's language, kept in a cookie for a year.
    pub(crate) fn language(&self, lang: &str) -> Page {
        let lang = if lang == "en" { "en" } else { "de" };
        see_other(
            "/console",
            vec![SITE.set_cookie(security::LANG_COOKIE, lang, 365 * 24 * 3600)],
        )
    }

    /// `GET /console/sign-in`, with what was just done (a link mailed, signed out).
    pub(crate) fn sign_in_form(&self, req: &Request, frame: &Frame) -> Page {
        let done = crate::query(req, "done");
        let done = matches!(done.as_str(), "link_sent" | "signed_out")
            .then(|| self.text(frame, &format!("done.{done}")));
        self.sign_in_page(frame, 200, done, None, "")
    }

    fn sign_in_page(
        &self,
        frame: &Frame,
        status: u16,
        done: Option<String>,
        error: Option<(Option<&str>, String)>,
        email: &str,
    ) -> Page {
        self.render(
            frame,
            status,
            "sign_in.html",
            "",
            json!({"done": done, "email": email,
                "error": error.map(|(field, message)| json!({"field": field, "message": message}))}),
        )
    }

    /// `POST /console/sign-in`: a staff member's token, or the owner's `admin` token, opens a
    /// session of that person (a token of their own, so signing out ends only the session).
    pub(crate) async fn sign_in_with_token(&self, req: &Request, frame: &Frame) -> Page {
        let form = pre_session_form(req, frame)?;
        let token = form.get("token").unwrap_or_default().trim();
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            let message = self.text(frame, "errors.token_unknown");
            return self.sign_in_page(frame, 422, None, Some((Some("token"), message)), "");
        }
        // The owner's bootstrap token is no record, only its hash in the stack's parameters.
        if is_bootstrap(token, &self.bootstrap_admin_sha256) {
            tracing::info!(
                principal = "admin",
                "console sign-in with the bootstrap admin token"
            );
            return self.open_session(frame, "admin", "bootstrap", None).await;
        }
        let found = self.sessions.find_api_token(token).await?;
        let who = match &found {
            Some(t) if t.principal == "admin" => Some(
                t.name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "admin".into()),
            ),
            Some(t) => match t.principal.strip_prefix("staff:") {
                Some(id) => self
                    .catalogue
                    .get_staff(id)
                    .await?
                    .filter(|m| m.active)
                    .map(|m| m.name),
                None => None,
            },
            None => None,
        };
        let (Some(token), Some(name)) = (found, who) else {
            let message = self.text(frame, "errors.token_unknown");
            return self.sign_in_page(frame, 422, None, Some((Some("token"), message)), "");
        };
        tracing::info!(principal = %token.principal, token_id = %token.token_id, "console sign-in with an API token");
        self.open_session(frame, &token.principal, &name, Some(token.token_id))
            .await
    }

    async fn open_session(
        &self,
        frame: &Frame,
        principal: &str,
        name: &str,
        opened_with: Option<String>,
    ) -> Page {
        let secret = self
            .sessions
            .open(
                principal,
                name,
                opened_with,
                frame.now,
                Duration::hours(security::SESSION_HOURS),
            )
            .await?;
        see_other(
            "/console/orders",
            vec![
                SITE.set_cookie(
                    security::SESSION_COOKIE,
                    &secret,
                    security::SESSION_HOURS * 3600,
                ),
                SITE.clear_cookie(security::PRE_COOKIE),
            ],
        )
    }

    /// `POST /console/sign-in/link`: mails a one-time sign-in link to every active staff member
    /// with this address. The answer is the same whether or not the address is known.
    pub(crate) async fn mail_link(&self, req: &Request, frame: &Frame) -> Page {
        let form = pre_session_form(req, frame)?;
        let email = form.get("email").unwrap_or_default().trim();
        if !dropship_core::catalogue::is_email(email) {
            let message = self.text(frame, "errors.email_invalid");
            return self.sign_in_page(frame, 422, None, Some((Some("email"), message)), email);
        }
        let Some(branding) = &frame.branding else {
            // Without branding there is no sender address; nobody can be mailed yet.
            tracing::warn!("console sign-in link requested before the retailer's branding exists");
            return see_other("/console/sign-in?done=link_sent", vec![]);
        };
        for member in self.sessions.staff_with_email(email).await? {
            let subject = format!("staff:{}", member.id);
            let every = Duration::seconds(MAIL_EVERY_SECONDS);
            if !self
                .sessions
                .links
                .claim_mail(&subject, frame.now, every)
                .await?
            {
                tracing::info!(staff_id = %member.id, "console sign-in link not mailed: one was mailed less than a minute ago");
                continue;
            }
            let secret = self
                .sessions
                .links
                .mint(&subject, frame.now, Duration::minutes(LINK_MINUTES))
                .await?;
            let url = format!("{}/console/magic/{secret}", self.public_base_url);
            let mail = self.link_mail(branding, &member, frame.lang, &url)?;
            // A failed send answers as any other address does (the form tells no one who is
            // staff); the link is a credential: it is never logged.
            match self.mailer.send(&mail).await {
                Ok(_) => tracing::info!(staff_id = %member.id, "console sign-in link mailed"),
                Err(e) => {
                    tracing::error!(staff_id = %member.id, error = %format!("{e:#}"), "console sign-in link not mailed")
                }
            }
        }
        see_other("/console/sign-in?done=link_sent", vec![])
    }

    fn link_mail(
        &self,
        branding: &Branding,
        member: &StaffMember,
        lang: Lang,
        url: &str,
    ) -> Result<Mail, Fail> {
        let subject = format!(
            "{} – {}",
            self.texts.get(lang, "mail.subject"),
            branding.company_name
        );
        let ctx = json!({"t": self.texts.all(lang), "lang": lang.code(),
            "brand": dropship_web::brand::brand(Some(branding)),
            "person": member.name, "url": url, "subject": subject,
            "site": {"path": "/console", "title": self.texts.get(lang, "console")}});
        let text = self.pages.get_template("mail_link.txt")?.render(&ctx)?;
        let html = self.pages.get_template("mail_link.html")?.render(&ctx)?;
        Ok(Mail {
            from_name: branding.company_name.clone(),
            from_address: branding.email_from.clone(),
            to: vec![member.email.clone()],
            subject,
            text,
            html,
            attachments: vec![],
            inline_images: vec![],
        })
    }

    /// `GET /console/magic/{token}`: a button that posts the link, so that a mail scanner
    /// following the link does not use it up.
    pub(crate) fn magic_page(&self, token: &str, frame: &Frame) -> Page {
        if !security::is_secret(token) {
            return Err(Fail::NotFound);
        }
        self.render(
            frame,
            200,
            "magic.html",
            "",
            json!({"action": format!("/console/magic/{token}")}),
        )
    }

    /// `POST /console/magic/{token}`: a mailed link, used once, opens a session of its staff
    /// member if they are still active.
    pub(crate) async fn use_link(&self, req: &Request, token: &str, frame: &Frame) -> Page {
        pre_session_form(req, frame)?;
        if !security::is_secret(token) {
            return Err(Fail::NotFound);
        }
        let subject = self.sessions.links.consume(token, frame.now).await?;
        let member = match subject.as_deref().and_then(|s| s.strip_prefix("staff:")) {
            Some(id) => self.catalogue.get_staff(id).await?.filter(|m| m.active),
            None => None,
        };
        match member {
            Some(m) => {
                tracing::info!(staff_id = %m.id, "console sign-in with a mailed link");
                self.open_session(frame, &format!("staff:{}", m.id), &m.name, None)
                    .await
            }
            None => {
                let message = self.text(frame, "errors.link_used");
                self.sign_in_page(frame, 410, None, Some((None, message)), "")
            }
        }
    }

    /// `POST /console/sign-out`: the session's token is revoked and the cookie cleared.
    pub(crate) async fn sign_out(&self, frame: &Frame) -> Page {
        if let Some(s) = &frame.session {
            self.sessions.close(&s.secret).await?;
            tracing::info!(principal = %s.principal, "console sign-out");
        }
        see_other(
            "/console/sign-in?done=signed_out",
            vec![SITE.clear_cookie(security::SESSION_COOKIE)],
        )
    }
}

/// Whether `token` is the bootstrap admin token (its SHA-256 is `sha256_hex`), compared
/// without stopping at the first difference.
fn is_bootstrap(token: &str, sha256_hex: &str) -> bool {
    let presented = dropship_aws::repo::tokens::sha256_hex(token);
    presented.len() == sha256_hex.len()
        && presented
            .bytes()
            .zip(sha256_hex.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bootstrap_tokens_hash_signs_the_owner_in() {
        let hash = dropship_aws::repo::tokens::sha256_hex("owner-secret");
        assert!(is_bootstrap("owner-secret", &hash));
        assert!(!is_bootstrap("owner-secreT", &hash));
        assert!(
            !is_bootstrap("owner-secret", ""),
            "no bootstrap token configured"
        );
    }
}
