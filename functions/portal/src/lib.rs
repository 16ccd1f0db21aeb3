//! The dropshipper portal: server-rendered pages under `/portal` where a small fulfiller works
//! its delivery orders, stock and returns in any browser, through the fulfiller API's own code.
//!
//! The HTTP API's authorizer does not guard these routes (the template says `Authorizer: NONE`):
//! a page's caller is the fulfiller of its session cookie. Signing in takes the fulfiller's API
//! token or a one-time link mailed to the fulfiller's address. Every POST carries a CSRF token,
//! every change goes through `FulfillerApi` (accept, reject, ship, receive) or the same stock
//! code as `PUT /fulfiller/stock`, and a failed change re-renders the page with the reason.

pub mod forms;
pub mod i18n;
pub mod security;
pub mod view;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use dropship_aws::http::{self, HandlerError};
use dropship_aws::http_idempotency::StoredResponse;
use dropship_aws::mailer::{Mail, Mailer};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::portal_sessions::PortalSessions;
use dropship_aws::repo::tokens::Tokens;
use dropship_core::catalogue::{Branding, Fulfiller};
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus};
use dropship_core::principal::Principal;
use dropship_core::returns::ReturnStatus;
use dropship_core::stock::{parse_feed, StockUpdate, MAX_ITEMS};
use dropship_core::ApiError;
use forms::{Form, FormError, Upload};
use fulfiller_api::{Action, FulfillerApi};
use i18n::{Lang, Texts};
use lambda_http::{Body, Request, RequestExt, Response};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use view::Clock;

/// A sign-in link works once, for 15 minutes (the rule).
pub const LINK_MINUTES: i64 = 15;
/// At most one sign-in mail per fulfiller per minute.
const MAIL_EVERY_SECONDS: i64 = 60;
/// How many pages of 200 a page reads at most when it needs all of a fulfiller's active
/// delivery orders or waiting returns (the byFulfiller index holds every one, oldest first).
const MAX_PAGES: usize = 250;
/// Refused rows of an uploaded stock list shown one by one; past them, one row counts the rest.
const MAX_REFUSED_ROWS_SHOWN: usize = 1000;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("magic.html", include_str!("../templates/magic.html")),
    ("message.html", include_str!("../templates/message.html")),
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
    Ok(env)
}

/// Why a request ends on an error page instead of the page it asked for.
#[derive(Debug)]
pub enum Fail {
    NotFound,
    /// The form's CSRF token is missing or not this session's.
    Csrf,
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

type Page = Result<Response<Body>, Fail>;

/// A failed change: the reason to show, and the form field it is about.
struct Problem {
    field: Option<String>,
    message: String,
}

/// A refused stock change: why, the refused rows of a list, and the count typed into a row.
struct StockProblem {
    problem: Problem,
    rows: Vec<Value>,
    edited: Option<(String, String)>,
}

/// Counts sent per return line: (resellable, damaged), as typed.
type Sent = BTreeMap<String, (String, String)>;

/// A refused receipt: which return, why, and the counts sent back into its form.
struct ReceiptProblem {
    return_id: String,
    problem: Problem,
    sent: Sent,
}

/// Everything a request's page needs to know about who asks, in which language and look.
struct Frame {
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
    branding: Option<Branding>,
    /// The signed-in fulfiller and its session secret.
    session: Option<(Fulfiller, String)>,
    /// The pre-session secret for sign-in forms, and whether it is new (to be set as a cookie).
    pre: (String, bool),
    nonce: String,
}

impl Frame {
    fn clock(&self) -> Clock {
        Clock {
            now: self.now,
            tz: self.tz,
            lang: self.lang,
        }
    }

    fn fulfiller_id(&self) -> Option<&str> {
        self.session.as_ref().map(|(f, _)| f.id.as_str())
    }

    fn csrf(&self) -> String {
        match &self.session {
            Some((_, secret)) => security::csrf_token(secret),
            None => security::csrf_token(&self.pre.0),
        }
    }
}

pub struct Portal {
    pub api: FulfillerApi,
    pub catalogue: Catalogue,
    /// API tokens: a fulfiller may sign in with its token.
    pub tokens: Tokens,
    pub sessions: PortalSessions,
    pub mailer: Mailer,
    pub texts: Texts,
    pub pages: Environment<'static>,
}

impl Portal {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            api: FulfillerApi::from_env().await?,
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            tokens: Tokens::new(ddb.clone(), env("TOKENS_TABLE")?),
            sessions: PortalSessions::new(ddb, env("TOKENS_TABLE")?, env("CATALOGUE_TABLE")?),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
            texts: Texts::load()?,
            pages: templates()?,
        })
    }

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
            Some(_) => self.private(req, &key, &frame).await,
        };
        match result {
            Ok(resp) => resp,
            Err(fail) => self.failure(&frame, fail),
        }
    }

    /// Who asks (session cookie), and the retailer's look and language.
    async fn frame(&self, req: &Request) -> anyhow::Result<Frame> {
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
                let (b, f) = tokio::join!(branding, self.catalogue.get_fulfiller(id));
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
        let pre =
            match security::cookie(req, security::PRE_COOKIE).filter(|s| security::is_secret(s)) {
                Some(p) => (p, false),
                None => (dropship_aws::repo::tokens::new_secret(), true),
            };
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

    // ------------------------------------------------------------------ without a session

    async fn public(&self, req: &Request, key: &str, frame: &Frame) -> Page {
        match key {
            "GET /portal/sign-in" => self.sign_in_page(frame, 200, query(req, "done"), None, ""),
            "POST /portal/sign-in" => {
                let form = self.pre_session_form(req, frame)?;
                self.sign_in_with_token(frame, &form).await
            }
            "POST /portal/sign-in/link" => {
                let form = self.pre_session_form(req, frame)?;
                self.mail_link(frame, &form).await
            }
            "GET /portal/magic/{token}" => {
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
            "POST /portal/magic/{token}" => {
                self.pre_session_form(req, frame)?;
                let token = path(req, "token")?;
                self.use_link(frame, &token).await
            }
            // Every other page needs a session: sign in first.
            _ => see_other("/portal/sign-in", vec![]),
        }
    }

    /// A sign-in form's fields, once its CSRF token matched the pre-session cookie.
    fn pre_session_form(&self, req: &Request, frame: &Frame) -> Result<Form, Fail> {
        let form = forms::urlencoded(req)?;
        // A new pre-session means the browser sent no cookie: the form cannot be ours.
        if frame.pre.1 || !security::csrf_ok(&frame.pre.0, form.get("csrf")) {
            return Err(Fail::Csrf);
        }
        Ok(form)
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

    async fn sign_in_with_token(&self, frame: &Frame, form: &Form) -> Page {
        let token = form.get("token").unwrap_or_default().trim();
        let record = if token.is_empty() || token.len() > 512 {
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

    async fn open_session(&self, frame: &Frame, fulfiller: &str, token_id: Option<String>) -> Page {
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

    /// Mails a one-time sign-in link to every fulfiller with this address. The answer is the
    /// same whether or not the address is known, so the form tells no one who is a supplier.
    async fn mail_link(&self, frame: &Frame, form: &Form) -> Page {
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
            let url = format!("{}/portal/magic/{secret}", self.api.public_base_url);
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
            "fulfiller": fulfiller.name, "url": url, "subject": subject});
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

    async fn use_link(&self, frame: &Frame, token: &str) -> Page {
        let fulfiller = if security::is_secret(token) {
            self.sessions.consume_link(token, frame.now).await?
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

    // ------------------------------------------------------------------ signed in

    async fn private(&self, req: &Request, key: &str, frame: &Frame) -> Page {
        let fulfiller = frame.fulfiller_id().unwrap_or_default();
        // Signed in already: the sign-in pages lead home.
        if matches!(
            key,
            "GET /portal/sign-in"
                | "POST /portal/sign-in"
                | "POST /portal/sign-in/link"
                | "GET /portal/magic/{token}"
                | "POST /portal/magic/{token}"
        ) {
            return see_other("/portal", vec![]);
        }
        let method = req.method().as_str();
        // Every POST: the CSRF token first, before anything is read or written.
        let mut upload = None;
        let form = match (method, key) {
            ("POST", "POST /portal/stock/upload") => {
                let (form, file) = forms::multipart(req).await?;
                upload = file;
                self.session_csrf(frame, form)?
            }
            ("POST", _) => self.session_csrf(frame, forms::urlencoded(req)?)?,
            _ => Form::default(),
        };
        match key {
            "POST /portal/sign-out" => {
                if let Some((_, secret)) = &frame.session {
                    self.sessions.close(secret).await?;
                }
                tracing::info!(fulfiller_id = %fulfiller, "portal sign-out");
                see_other(
                    "/portal/sign-in?done=signed_out",
                    vec![security::clear_cookie(security::SESSION_COOKIE)],
                )
            }
            "GET /portal" => self.dashboard(frame, fulfiller).await,
            // The greedy route below /portal: only `/portal/` (nothing after the slash) is a page.
            "GET /portal/{path+}" => match http::path_param(req, "path") {
                Ok(rest) if !rest.is_empty() => Err(Fail::NotFound),
                _ => self.dashboard(frame, fulfiller).await,
            },
            "GET /portal/delivery-orders" => self.delivery_orders(req, frame, fulfiller).await,
            "GET /portal/delivery-orders/{id}" => {
                let id = path(req, "id")?;
                let done = query(req, "done")
                    .filter(|d| matches!(d.as_str(), "accepted" | "shipped" | "rejected"));
                self.delivery_order(frame, fulfiller, &id, 200, done, None, json!({}))
                    .await
            }
            "POST /portal/delivery-orders/{id}/accept"
            | "POST /portal/delivery-orders/{id}/reject"
            | "POST /portal/delivery-orders/{id}/shipments" => {
                let id = path(req, "id")?;
                self.act(req, key, frame, fulfiller, &id, &form).await
            }
            "GET /portal/stock" => {
                let q = query(req, "q").unwrap_or_default();
                let done = match query(req, "done").as_deref() {
                    Some("stock_saved") => Some(self.text(frame, "done.stock_saved")),
                    Some("uploaded") => {
                        let n = query(req, "n")
                            .and_then(|n| n.parse::<usize>().ok())
                            .unwrap_or(0);
                        Some(
                            self.text(frame, "done.uploaded")
                                .replace("{n}", &n.to_string()),
                        )
                    }
                    _ => None,
                };
                self.stock_page(frame, fulfiller, &q, 200, done, None).await
            }
            "POST /portal/stock" => self.save_count(frame, fulfiller, &form).await,
            "POST /portal/stock/upload" => self.upload(frame, fulfiller, upload).await,
            "GET /portal/returns" => {
                let done = query(req, "done").filter(|d| d == "received");
                self.returns_page(frame, fulfiller, 200, done, None).await
            }
            "POST /portal/returns/{returnId}/receive" => {
                let id = path(req, "returnId")?;
                self.receive(req, frame, fulfiller, &id, &form).await
            }
            _ => Err(Fail::NotFound),
        }
    }

    fn session_csrf(&self, frame: &Frame, form: Form) -> Result<Form, Fail> {
        match &frame.session {
            Some((_, secret)) if security::csrf_ok(secret, form.get("csrf")) => Ok(form),
            _ => Err(Fail::Csrf),
        }
    }

    /// Every delivery order of the fulfiller that still has something to ship.
    async fn active(&self, fulfiller: &str) -> anyhow::Result<Vec<DeliveryOrder>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let Some(page) = self
                .api
                .delivery_orders
                .list_by_fulfiller(fulfiller, None, 200, next.as_deref())
                .await?
            else {
                break;
            };
            out.extend(page.items.into_iter().filter(DeliveryOrder::is_active));
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        if next.is_some() {
            tracing::warn!(fulfiller_id = %fulfiller, "more delivery orders than the portal reads at once: the newest are not shown");
        }
        Ok(out)
    }

    async fn dashboard(&self, frame: &Frame, fulfiller: &str) -> Page {
        let (active, returns) = tokio::join!(
            self.active(fulfiller),
            self.api
                .returns
                .of_fulfiller(fulfiller, Some(ReturnStatus::Authorized), 200, None)
        );
        let active = active?;
        let returns = returns?;
        let clock = frame.clock();
        let (late, due_today, rows) = view::due(&active, &clock, &self.texts);
        let to_accept = active
            .iter()
            .filter(|d| d.status == DeliveryStatus::Open)
            .count();
        let waiting = returns
            .map(|p| {
                let n = p.items.len().to_string();
                if p.next_token.is_some() {
                    format!("{n}+")
                } else {
                    n
                }
            })
            .unwrap_or_else(|| "0".into());
        self.render(
            frame,
            200,
            "dashboard.html",
            "dashboard",
            None,
            json!({"today": clock.date(clock.today()), "late": late, "due_today": due_today,
                "to_accept": to_accept, "returns_waiting": waiting, "due": rows}),
        )
    }

    async fn delivery_orders(&self, req: &Request, frame: &Frame, fulfiller: &str) -> Page {
        let clock = frame.clock();
        let status = query(req, "status").and_then(|s| DeliveryStatus::parse(&s));
        let (rows, next) = match status {
            None => {
                let mut active = self.active(fulfiller).await?;
                active.sort_by_key(|d| d.due_at);
                let rows: Vec<Value> = active
                    .iter()
                    .map(|d| view::delivery_row(d, &clock, &self.texts))
                    .collect();
                (rows, None)
            }
            Some(st) => {
                let next = query(req, "nextToken");
                let page = self
                    .api
                    .delivery_orders
                    .list_by_fulfiller(fulfiller, Some(st), 50, next.as_deref())
                    .await?
                    .ok_or(Fail::NotFound)?;
                let rows = page
                    .items
                    .iter()
                    .map(|d| view::delivery_row(d, &clock, &self.texts))
                    .collect();
                let code = status_code(st);
                let next = page.next_token.map(|t| {
                    format!(
                        "/portal/delivery-orders?status={code}&nextToken={}",
                        form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
                    )
                });
                (rows, next)
            }
        };
        let current = status.map(status_code).unwrap_or("");
        let mut tabs = vec![
            json!({"href": "/portal/delivery-orders", "label": self.text(frame, "delivery.tab_active"), "current": current.is_empty()}),
        ];
        for st in [
            "open",
            "accepted",
            "partially_shipped",
            "shipped",
            "rejected",
            "cancelled",
        ] {
            tabs.push(
                json!({"href": format!("/portal/delivery-orders?status={st}"),
                "label": self.text(frame, &format!("status.{st}")), "current": current == st}),
            );
        }
        self.render(
            frame,
            200,
            "delivery_orders.html",
            "delivery_orders",
            None,
            json!({"tabs": tabs, "due": rows, "next": next}),
        )
    }

    /// A delivery order's page, optionally with a failed change's reason and the values sent.
    #[allow(clippy::too_many_arguments)]
    async fn delivery_order(
        &self,
        frame: &Frame,
        fulfiller: &str,
        id: &str,
        status: u16,
        done: Option<String>,
        problem: Option<Problem>,
        sent: Value,
    ) -> Page {
        let d = match self.api.own(fulfiller, id).await {
            Ok(d) => d,
            Err(e) => return Err(handler_fail(e)),
        };
        // The same /documents/{linkId} links the fulfiller API lists.
        let documents: Vec<Value> = self
            .api
            .document_links(&d)
            .into_iter()
            .map(|mut doc| {
                let kind = doc["kind"].as_str().unwrap_or_default().to_string();
                doc["label"] = json!(self.text(frame, &format!("docs.{kind}")));
                doc
            })
            .collect();
        let can_reject = matches!(d.status, DeliveryStatus::Open | DeliveryStatus::Accepted)
            && d.lines.iter().all(|l| l.shipped == 0);
        self.render(
            frame,
            status,
            "delivery_order.html",
            "delivery_orders",
            done.map(|d| self.text(frame, &format!("done.{d}"))),
            json!({
                "d": view::delivery_detail(&d, &frame.clock(), &self.texts),
                "documents": documents,
                "can_accept": d.status == DeliveryStatus::Open,
                "can_ship": d.is_active(),
                "can_reject": can_reject,
                "form_id": security::nonce(),
                "form": sent,
                "error": problem.map(|p| json!({"field": p.field, "message": p.message})),
            }),
        )
    }

    /// Accept, reject or ship through the fulfiller API's own `act`, at most once per form.
    async fn act(
        &self,
        req: &Request,
        key: &str,
        frame: &Frame,
        fulfiller: &str,
        id: &str,
        form: &Form,
    ) -> Page {
        // For a shipment, the units per line as the form sent them (blank is 0), in line order.
        let mut line_of_index: Vec<String> = Vec::new();
        let (action, done, sent) = if key.ends_with("/accept") {
            (Action::Accept, "accepted", json!({}))
        } else if key.ends_with("/reject") {
            let reason = form.get("reason").unwrap_or_default();
            (
                Action::Reject(json!({"reason": reason})),
                "rejected",
                json!({"reason": reason}),
            )
        } else {
            let carrier = form.get("carrier").unwrap_or_default().trim();
            let tracking = form.get("trackingNumber").unwrap_or_default().trim();
            let mut lines = Vec::new();
            let mut qty = serde_json::Map::new();
            for (line_id, raw) in form.with_prefix("qty:") {
                qty.insert(line_id.to_string(), json!(raw));
                match forms::count(raw) {
                    Some(0) => {}
                    Some(n) => {
                        line_of_index.push(line_id.to_string());
                        lines.push(json!({"lineId": line_id, "quantity": n}));
                    }
                    None => {
                        let sent =
                            json!({"carrier": carrier, "trackingNumber": tracking, "qty": qty});
                        let problem = Problem {
                            field: Some(format!("qty:{line_id}")),
                            message: self.text(frame, "errors.whole_number"),
                        };
                        return self
                            .delivery_order(frame, fulfiller, id, 422, None, Some(problem), sent)
                            .await;
                    }
                }
            }
            let sent = json!({"carrier": carrier, "trackingNumber": tracking, "qty": qty});
            (
                Action::Ship(
                    json!({"carrier": carrier, "trackingNumber": tracking, "lines": lines}),
                ),
                "shipped",
                sent,
            )
        };
        let scope = format!("portal:{}#fulfiller:{fulfiller}", key.replace("{id}", id));
        let outcome = self
            .once(req, &scope, form, || self.api.act(fulfiller, id, &action))
            .await;
        match outcome {
            Ok(_) => {
                tracing::info!(fulfiller_id = %fulfiller, delivery_order_id = %id, done, "changed in the portal");
                see_other(&format!("/portal/delivery-orders/{id}?done={done}"), vec![])
            }
            Err(HandlerError::Api(e)) if e.status == 404 => Err(Fail::NotFound),
            Err(HandlerError::Api(e)) => {
                let problem = self.explain(frame, &e, |field| {
                    // lines[i].quantity is about the i-th line the form shipped.
                    line_of_index
                        .get(line_index(field)?)
                        .map(|l| format!("qty:{l}"))
                });
                self.delivery_order(frame, fulfiller, id, e.status, None, Some(problem), sent)
                    .await
            }
            Err(HandlerError::Internal(e)) => Err(Fail::Internal(e)),
        }
    }

    /// Runs a change once per rendered form (`formId` is the idempotency key, as the API's
    /// `Idempotency-Key`): a double click or a resent form does not ship twice.
    async fn once<F, Fut>(
        &self,
        req: &Request,
        scope: &str,
        form: &Form,
        work: F,
    ) -> Result<StoredResponse, HandlerError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<StoredResponse, HandlerError>>,
    {
        match form
            .get("formId")
            .filter(|k| dropship_aws::http_idempotency::check_key(k).is_ok())
        {
            Some(key) => {
                let deadline_ms = req
                    .lambda_context_ref()
                    .map(|c| c.deadline as i64)
                    .filter(|d| *d > 0)
                    .unwrap_or_else(|| Utc::now().timestamp_millis() + 15_000);
                let body: &[u8] = req.body().as_ref();
                self.api
                    .idempotency
                    .run(scope, key, body, deadline_ms, work)
                    .await
            }
            None => work().await,
        }
    }

    async fn stock_page(
        &self,
        frame: &Frame,
        fulfiller: &str,
        q: &str,
        status: u16,
        done: Option<String>,
        problem: Option<StockProblem>,
    ) -> Page {
        let levels = self.api.stock.list(fulfiller).await?;
        let names: BTreeMap<String, String> = self
            .catalogue
            .get_products(levels.iter().map(|s| s.sku.clone()))
            .await?
            .into_iter()
            .map(|(sku, p)| (sku, p.name))
            .collect();
        let mut items = view::stock_rows(&levels, &names, q, &frame.clock());
        let mut error = Value::Null;
        if let Some(StockProblem {
            problem: p,
            rows,
            edited,
        }) = problem
        {
            // Show the value that was refused in its row, marked.
            if let Some((sku, value)) = edited {
                for item in items.iter_mut().filter(|i| i["sku"] == sku.as_str()) {
                    item["edit_value"] = json!(value);
                    item["invalid"] = json!(true);
                }
            }
            error = json!({"field": p.field, "message": p.message, "rows": rows});
        }
        self.render(
            frame,
            status,
            "stock.html",
            "stock",
            done,
            json!({"q": q, "items": items, "error": error}),
        )
    }

    /// One count, exactly as `PUT /fulfiller/stock` takes it.
    async fn save_count(&self, frame: &Frame, fulfiller: &str, form: &Form) -> Page {
        let sku = form.get("sku").unwrap_or_default().trim();
        let raw = form.get("available").unwrap_or_default().trim();
        // A number stays a number; anything else goes as typed, for the domain to refuse.
        let available = raw
            .parse::<u64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(raw));
        let now = Utc::now();
        let update = match StockUpdate::parse(
            &json!({"items": [{"sku": sku, "available": available}]}),
            now,
        ) {
            Ok(u) => u,
            Err(e) => {
                let problem = Problem {
                    field: Some("available".into()),
                    message: if e.field.as_deref() == Some("items[0].available") {
                        self.text(frame, "errors.whole_number")
                    } else {
                        e.message
                    },
                };
                let edited = Some((sku.to_string(), raw.to_string()));
                return self
                    .stock_page(
                        frame,
                        fulfiller,
                        "",
                        422,
                        None,
                        Some(StockProblem {
                            problem,
                            rows: vec![],
                            edited,
                        }),
                    )
                    .await;
            }
        };
        let applied = self
            .api
            .counts
            .apply(fulfiller, &update.items, update.as_of, now)
            .await?;
        tracing::info!(fulfiller_id = %fulfiller, sku, applied = applied.applied, shortfalls = ?applied.shortfalls, "stock count saved in the portal");
        see_other("/portal/stock?done=stock_saved", vec![])
    }

    /// A stock list, read by the stock feed's own parser. Unlike the mailed feed, the person
    /// is looking at the page: a file with any bad row is refused whole (nothing applied) and
    /// the bad rows are listed by line number, to correct and upload again.
    async fn upload(&self, frame: &Frame, fulfiller: &str, upload: Option<Upload>) -> Page {
        let refuse = |message: String, rows: Vec<Value>| {
            let problem = Problem {
                field: Some("feed".into()),
                message,
            };
            Some(StockProblem {
                problem,
                rows,
                edited: None,
            })
        };
        let Some(file) = upload.filter(|u| u.field == "feed" && !u.bytes.is_empty()) else {
            let p = refuse(self.text(frame, "errors.file_missing"), vec![]);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        };
        let feed = match parse_feed(&file.bytes) {
            Ok(parsed) => parsed,
            Err(reason) => {
                let p = refuse(
                    format!("{} {reason}", self.text(frame, "errors.file_refused")),
                    vec![],
                );
                return self.stock_page(frame, fulfiller, "", 422, None, p).await;
            }
        };
        let (good, bad) = (feed.counts, feed.refused);
        if !bad.is_empty() {
            // Every refused row in file order, up to a page a browser (and Lambda's 6 MB answer)
            // carries; a 1 MB file of nothing but bad rows ends in one row saying how many more.
            let mut rows: Vec<Value> = bad
                .iter()
                .take(MAX_REFUSED_ROWS_SHOWN)
                .map(|b| json!({"line": b.line, "reason": b.reason}))
                .collect();
            if let (Some(next), Some(last)) = (bad.get(MAX_REFUSED_ROWS_SHOWN), bad.last()) {
                let more = bad.len() - MAX_REFUSED_ROWS_SHOWN;
                let reason = self
                    .text(frame, "errors.more_rows")
                    .replace("{n}", &more.to_string())
                    .replace("{last}", &last.line.to_string());
                rows.push(json!({"line": next.line, "reason": reason}));
            }
            tracing::info!(fulfiller_id = %fulfiller, bad = bad.len(), good = good.len(), "portal stock list refused");
            let p = refuse(self.text(frame, "errors.bad_rows"), rows);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        }
        let problem = if good.is_empty() {
            Some("errors.no_rows")
        } else if good.len() > MAX_ITEMS {
            Some("errors.too_many_rows")
        } else {
            None
        };
        if let Some(key) = problem {
            let p = refuse(self.text(frame, key), vec![]);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        }
        let now = Utc::now();
        let applied = self.api.counts.apply(fulfiller, &good, now, now).await?;
        tracing::info!(fulfiller_id = %fulfiller, applied = applied.applied, shortfalls = ?applied.shortfalls, "portal stock list applied");
        see_other(
            &format!("/portal/stock?done=uploaded&n={}", applied.applied),
            vec![],
        )
    }

    async fn returns_page(
        &self,
        frame: &Frame,
        fulfiller: &str,
        status: u16,
        done: Option<String>,
        problem: Option<ReceiptProblem>,
    ) -> Page {
        let mut waiting = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let Some(page) = self
                .api
                .returns
                .of_fulfiller(
                    fulfiller,
                    Some(ReturnStatus::Authorized),
                    200,
                    next.as_deref(),
                )
                .await?
            else {
                break;
            };
            waiting.extend(page.items);
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        if next.is_some() {
            tracing::warn!(fulfiller_id = %fulfiller, "more waiting returns than the portal reads at once: the newest are not shown");
        }
        let clock = frame.clock();
        let cards: Vec<Value> = waiting
            .iter()
            .map(|part| match &problem {
                Some(ReceiptProblem {
                    return_id,
                    problem: p,
                    sent,
                }) if *return_id == part.return_id => {
                    let mut card = view::return_card(part, &clock, &self.texts, Some(sent));
                    card["error"] = json!(p.message);
                    for l in card["lines"].as_array_mut().into_iter().flatten() {
                        if p.field.is_some() && l["line_id"].as_str() == p.field.as_deref() {
                            l["invalid"] = json!(true);
                        }
                    }
                    card
                }
                _ => view::return_card(part, &clock, &self.texts, None),
            })
            .collect();
        self.render(
            frame,
            status,
            "returns.html",
            "returns",
            done.map(|d| self.text(frame, &format!("done.{d}"))),
            json!({"waiting": cards, "form_id": security::nonce()}),
        )
    }

    /// Receives a return part through the fulfiller API's own `receive`: per line, how many
    /// units arrived resellable and how many damaged.
    async fn receive(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &str,
        return_id: &str,
        form: &Form,
    ) -> Page {
        let mut sent: Sent = BTreeMap::new();
        for (line, raw) in form.with_prefix("good:") {
            sent.entry(line.to_string()).or_default().0 = raw.to_string();
        }
        for (line, raw) in form.with_prefix("bad:") {
            sent.entry(line.to_string()).or_default().1 = raw.to_string();
        }
        let mut lines = Vec::new();
        let mut line_of_index = Vec::new();
        for (line, (good, bad)) in &sent {
            for (raw, condition) in [(good, "resellable"), (bad, "damaged")] {
                let Some(n) = forms::count(raw) else {
                    let p = Problem {
                        field: Some(line.clone()),
                        message: self.text(frame, "errors.whole_number"),
                    };
                    let problem = Some(ReceiptProblem {
                        return_id: return_id.to_string(),
                        problem: p,
                        sent: sent.clone(),
                    });
                    return self
                        .returns_page(frame, fulfiller, 422, None, problem)
                        .await;
                };
                line_of_index.push(line.clone());
                lines.push(json!({"lineId": line, "quantity": n, "condition": condition}));
            }
        }
        let body = json!({ "lines": lines });
        let scope =
            format!("portal:POST /portal/returns/{return_id}/receive#fulfiller:{fulfiller}");
        match self
            .once(req, &scope, form, || {
                self.api.receive(fulfiller, return_id, &body)
            })
            .await
        {
            Ok(_) => {
                tracing::info!(fulfiller_id = %fulfiller, return_id, "return received in the portal");
                see_other("/portal/returns?done=received", vec![])
            }
            Err(HandlerError::Api(e)) if e.status == 404 => Err(Fail::NotFound),
            Err(HandlerError::Api(e)) => {
                let p = self.explain(frame, &e, |field| {
                    line_of_index.get(line_index(field)?).cloned()
                });
                let problem = Some(ReceiptProblem {
                    return_id: return_id.to_string(),
                    problem: p,
                    sent,
                });
                self.returns_page(frame, fulfiller, e.status, None, problem)
                    .await
            }
            Err(HandlerError::Internal(e)) => Err(Fail::Internal(e)),
        }
    }

    // ------------------------------------------------------------------ rendering

    fn text(&self, frame: &Frame, path: &str) -> String {
        self.texts.get(frame.lang, path)
    }

    /// The reason a change failed, in the page's language where the portal knows the case;
    /// `field_of` maps the API's field (`lines[0].quantity`) to the form's.
    fn explain(
        &self,
        frame: &Frame,
        e: &ApiError,
        field_of: impl Fn(&str) -> Option<String>,
    ) -> Problem {
        let known = format!("errors.{}", e.code);
        if matches!(
            e.code.as_str(),
            "invalid_state" | "already_received" | "concurrent_modification"
        ) && self.texts.has(frame.lang, &known)
        {
            return Problem {
                field: None,
                message: self.text(frame, &known),
            };
        }
        if e.code == "idempotency_in_progress" {
            return Problem {
                field: None,
                message: self.text(frame, "errors.concurrent_modification"),
            };
        }
        let field = e.field.clone().unwrap_or_default();
        let blank = e.message.ends_with("must not be empty") || e.message.ends_with("is required");
        match field.as_str() {
            "carrier" | "trackingNumber" | "reason" if blank => Problem {
                field: Some(field.clone()),
                message: self.text(frame, "errors.required"),
            },
            "lines" => Problem {
                field: None,
                message: self.text(frame, "errors.lines_empty"),
            },
            f => Problem {
                field: field_of(f).or(Some(field.clone())),
                message: e.message.clone(),
            },
        }
    }

    fn render(
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
                security::set_cookie(security::PRE_COOKIE, &frame.pre.0, security::PRE_SECONDS),
            );
        }
        builder
            .body(Body::Text(html))
            .map_err(|e| Fail::Internal(e.into()))
    }

    /// An error page in the portal's look; internal causes go to the log, never to the page.
    fn failure(&self, frame: &Frame, fail: Fail) -> Response<Body> {
        let (status, heading, text) = match &fail {
            Fail::NotFound => (404, "errors.not_found_title", "errors.not_found_text"),
            Fail::Csrf => (403, "errors.csrf_title", "errors.csrf_text"),
            Fail::TooLarge => (413, "errors.csrf_title", "errors.file_too_large"),
            Fail::BadForm => (400, "errors.csrf_title", "errors.bad_form"),
            Fail::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal page failed");
                (500, "errors.server_title", "errors.server_text")
            }
        };
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

fn status_code(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Open => "open",
        DeliveryStatus::Accepted => "accepted",
        DeliveryStatus::PartiallyShipped => "partially_shipped",
        DeliveryStatus::Shipped => "shipped",
        DeliveryStatus::Rejected => "rejected",
        DeliveryStatus::Cancelled => "cancelled",
    }
}

fn handler_fail(e: HandlerError) -> Fail {
    match e {
        HandlerError::Api(e) if e.status == 404 => Fail::NotFound,
        HandlerError::Api(e) => Fail::Internal(anyhow::anyhow!("{}: {}", e.code, e.message)),
        HandlerError::Internal(e) => Fail::Internal(e),
    }
}

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

/// 303 to a GET page (after a form: reloading the page does not send the form again).
fn see_other(location: &str, cookies: Vec<String>) -> Page {
    let mut b = Response::builder()
        .status(303)
        .header("location", location)
        .header("cache-control", "no-store");
    for c in cookies {
        b = b.header("set-cookie", c);
    }
    b.body(Body::Empty).map_err(|e| Fail::Internal(e.into()))
}

fn plain(status: u16, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::Text(text.to_string()));
    *r.status_mut() =
        ::http::StatusCode::from_u16(status).unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        ::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The `i` of an API error's field `lines[i]...`: which line of the posted form it is about.
fn line_index(field: &str) -> Option<usize> {
    field
        .strip_prefix("lines[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests;
