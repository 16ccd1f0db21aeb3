//! Who asks: the session cookie's fulfiller, the retailer's look and language, and the CSRF
//! checks every posted form passes before anything is read or written.

use crate::forms::{self, Form};
use crate::i18n::Lang;
use crate::render::Fail;
use crate::view::{self, Clock};
use crate::{security, Portal};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dropship_core::catalogue::{Branding, Fulfiller};
use dropship_core::ids::FulfillerId;
use lambda_http::Request;

/// Everything a request's page needs to know about who asks, in which language and look.
pub(crate) struct Frame {
    pub(crate) lang: Lang,
    pub(crate) tz: Tz,
    pub(crate) now: DateTime<Utc>,
    pub(crate) branding: Option<Branding>,
    /// The signed-in fulfiller and its session secret.
    pub(crate) session: Option<(Fulfiller, String)>,
    /// The pre-session secret for sign-in forms, and whether it is new (to be set as a cookie).
    pub(crate) pre: (String, bool),
    pub(crate) nonce: String,
}

impl Frame {
    pub(crate) fn clock(&self) -> Clock {
        Clock {
            now: self.now,
            tz: self.tz,
            lang: self.lang,
        }
    }

    pub(crate) fn fulfiller_id(&self) -> Option<&FulfillerId> {
        self.session.as_ref().map(|(f, _)| &f.id)
    }

    pub(crate) fn csrf(&self) -> String {
        match &self.session {
            Some((_, secret)) => security::csrf_token(secret),
            None => security::csrf_token(&self.pre.0),
        }
    }
}

impl Portal {
    /// Who asks (session cookie), and the retailer's look and language.
    pub(crate) async fn frame(&self, req: &Request) -> anyhow::Result<Frame> {
        let now = Utc::now();
        let mut session = None;
        if let Some(secret) =
            security::cookie(req, security::SESSION_COOKIE).filter(|s| security::is_secret(s))
        {
            if let Some(s) = self.sessions.find(&secret, now).await? {
                session = Some((s.fulfiller_id, secret));
            }
        }
        let branding = self.catalogue.get_branding();
        let (branding, fulfiller) = match &session {
            Some((id, _)) => {
                let (b, f) = tokio::join!(branding, self.catalogue.get_fulfiller(id.as_str()));
                (b?, f?)
            }
            None => (branding.await?, None),
        };
        // A session whose fulfiller is gone is no session.
        let session = match (session, fulfiller) {
            (Some((_, secret)), Some(f)) => Some((f, secret)),
            _ => None,
        };
        let lang = Lang::pick(
            session.as_ref().and_then(|(f, _)| f.locale),
            branding.as_ref().map(|b| b.locale),
        );
        let pre = dropship_web::security::pre_session(req, security::PRE_COOKIE);
        Ok(Frame {
            lang,
            tz: view::time_zone(branding.as_ref()),
            now,
            branding,
            session,
            pre,
            nonce: security::nonce(),
        })
    }
}

/// A sign-in form's fields, once its CSRF token matched the pre-session cookie.
pub(crate) fn pre_session_form(req: &Request, frame: &Frame) -> Result<Form, Fail> {
    let form = forms::urlencoded(req)?;
    // A new pre-session means the browser sent no cookie: the form cannot be ours.
    if frame.pre.1 || !security::csrf_ok(&frame.pre.0, form.get("csrf")) {
        return Err(Fail::Csrf);
    }
    Ok(form)
}

/// A signed-in form's fields, once its CSRF token matched the session's.
pub(crate) fn session_form(frame: &Frame, form: Form) -> Result<Form, Fail> {
    match &frame.session {
        Some((_, secret)) if security::csrf_ok(secret, form.get("csrf")) => Ok(form),
        _ => Err(Fail::Csrf),
    }
}
