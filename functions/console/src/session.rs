//! Who asks: the session cookie's staff member (or the owner's `admin`), their role, the
//! page's language and the retailer's look, and the CSRF checks every posted form passes
//! before anything is read or written.

use crate::render::Fail;
use crate::security::{self, SITE};
use crate::Console;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dropship_core::catalogue::Branding;
use dropship_core::staff::{self, StaffRole};
use dropship_web::forms::{self, Form};
use dropship_web::i18n::Lang;
use lambda_http::Request;

/// A signed-in person.
pub(crate) struct Session {
    /// The cookie's secret: the bearer token of the page's API calls.
    pub(crate) secret: String,
    /// `admin` or `staff:<id>`.
    pub(crate) principal: String,
    pub(crate) name: String,
    pub(crate) role: StaffRole,
}

/// Everything a request's page needs to know about who asks, in which language and look.
pub(crate) struct Frame {
    pub(crate) lang: Lang,
    pub(crate) tz: Tz,
    pub(crate) now: DateTime<Utc>,
    pub(crate) branding: Option<Branding>,
    pub(crate) session: Option<Session>,
    /// The pre-session secret for sign-in forms, and whether it is new (to be set as a cookie).
    pub(crate) pre: (String, bool),
    pub(crate) nonce: String,
}

impl Frame {
    pub(crate) fn csrf(&self) -> String {
        match &self.session {
            Some(s) => SITE.csrf_token(&s.secret),
            None => SITE.csrf_token(&self.pre.0),
        }
    }

    /// Whether the signed-in person's role may use an API route (`METHOD /admin/...`): the
    /// console shows only the actions the API would allow.
    pub(crate) fn may(&self, route_key: &str) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| staff::may(s.role, route_key))
    }

    pub(crate) fn token(&self) -> Result<&str, Fail> {
        self.session
            .as_ref()
            .map(|s| s.secret.as_str())
            .ok_or(Fail::NotFound)
    }
}

impl Console {
    /// Who asks (session cookie), and the retailer's look and language.
    pub(crate) async fn frame(&self, req: &Request) -> anyhow::Result<Frame> {
        let now = Utc::now();
        let secret =
            security::cookie(req, security::SESSION_COOKIE).filter(|s| security::is_secret(s));
        let (branding, session) = tokio::join!(self.catalogue.get_branding(), async {
            match &secret {
                Some(secret) => self.session_of(secret).await,
                None => Ok(None),
            }
        });
        let branding = branding?;
        let lang = match security::cookie(req, security::LANG_COOKIE).as_deref() {
            Some("en") => Lang::En,
            Some("de") => Lang::De,
            _ => Lang::pick(None, branding.as_ref().map(|b| b.locale)),
        };
        let pre = dropship_web::security::pre_session(req, security::PRE_COOKIE);
        Ok(Frame {
            lang,
            tz: dropship_web::brand::time_zone(branding.as_ref()),
            now,
            branding,
            session: session?,
            pre,
            nonce: security::nonce(),
        })
    }

    /// The person a session secret signs in: its token must be a live console session of the
    /// owner or of an active staff member (a deactivated member is signed out at once).
    async fn session_of(&self, secret: &str) -> anyhow::Result<Option<Session>> {
        let Some(token) = self.sessions.find(secret).await? else {
            return Ok(None);
        };
        let (name, role) = match token.principal.strip_prefix("staff:") {
            Some(id) => match self.catalogue.get_staff(id).await? {
                Some(m) if m.active => (m.name, m.role),
                _ => return Ok(None),
            },
            None if token.principal == "admin" => {
                (token.name.clone().unwrap_or_default(), StaffRole::Admin)
            }
            None => return Ok(None),
        };
        Ok(Some(Session {
            secret: secret.to_string(),
            principal: token.principal,
            name,
            role,
        }))
    }
}

/// A sign-in form's fields, once its CSRF token matched the pre-session cookie.
pub(crate) fn pre_session_form(req: &Request, frame: &Frame) -> Result<Form, Fail> {
    let form = forms::urlencoded(req)?;
    // A new pre-session means the browser sent no cookie: the form cannot be ours.
    if frame.pre.1 || !SITE.csrf_ok(&frame.pre.0, form.get("csrf")) {
        return Err(Fail::Csrf);
    }
    Ok(form)
}

/// A signed-in form's fields, once its CSRF token matched the session's.
pub(crate) fn session_form(req: &Request, frame: &Frame) -> Result<Form, Fail> {
    let form = forms::urlencoded(req)?;
    match &frame.session {
        Some(s) if SITE.csrf_ok(&s.secret, form.get("csrf")) => Ok(form),
        _ => Err(Fail::Csrf),
    }
}
