//! The mails about open alerts: the fulfiller's reminder and the escalation to the retailer's
//! operations address. Separate because they are internal: the escalation may name the
//! fulfiller concerned, and both show the alert's time in the retailer's time zone.

use super::brand::branded;
use super::locale_for;
use chrono::{DateTime, Utc};
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::{Branding, Fulfiller, Locale};
use serde::Serialize;

/// An open alert as its mails show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotice {
    pub id: String,
    /// Machine kind, e.g. `delivery_order_late` (the templates name the known ones).
    pub kind: String,
    /// What it is about, e.g. a delivery order id or a fulfiller id.
    pub subject: String,
    pub details: String,
    pub since: DateTime<Utc>,
}

/// `since` in the retailer's time zone, written the way the locale writes dates.
fn local_time(at: DateTime<Utc>, branding: &Branding, locale: Locale) -> String {
    let tz: chrono_tz::Tz = branding
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Berlin);
    let local = at.with_timezone(&tz);
    match locale {
        Locale::De => local.format("%d.%m.%Y, %H:%M Uhr (%Z)").to_string(),
        Locale::En => local.format("%Y-%m-%d %H:%M (%Z)").to_string(),
    }
}

#[derive(Serialize)]
struct AlertView<'a> {
    recipient_name: &'a str,
    alert_id: &'a str,
    kind: &'a str,
    subject: &'a str,
    details: &'a str,
    since: String,
    fulfiller_id: Option<&'a str>,
    fulfiller_name: Option<&'a str>,
}

/// The fulfiller's reminder about an alert that concerns it, in the fulfiller's language.
pub fn alert_reminder_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    alert: &AlertNotice,
) -> anyhow::Result<Mail> {
    let locale = locale_for(fulfiller.locale, branding);
    let data = AlertView {
        recipient_name: &fulfiller.name,
        alert_id: &alert.id,
        kind: &alert.kind,
        subject: &alert.subject,
        details: &alert.details,
        since: local_time(alert.since, branding, locale),
        fulfiller_id: Some(fulfiller.id.as_str()),
        fulfiller_name: Some(&fulfiller.name),
    };
    branded(
        branding,
        locale,
        "alert_reminder",
        &fulfiller.email,
        &data,
        Vec::new(),
    )
}

/// The escalation of an alert to the retailer's operations address, in the retailer's
/// language (internal: it may name the fulfiller concerned).
pub fn alert_escalation_mail(
    branding: &Branding,
    ops_email: &str,
    alert: &AlertNotice,
    fulfiller: Option<&Fulfiller>,
) -> anyhow::Result<Mail> {
    let locale = branding.locale;
    let data = AlertView {
        recipient_name: &branding.company_name,
        alert_id: &alert.id,
        kind: &alert.kind,
        subject: &alert.subject,
        details: &alert.details,
        since: local_time(alert.since, branding, locale),
        fulfiller_id: fulfiller.map(|f| f.id.as_str()),
        fulfiller_name: fulfiller.map(|f| f.name.as_str()),
    };
    branded(
        branding,
        locale,
        "alert_escalation",
        ops_email,
        &data,
        Vec::new(),
    )
}
