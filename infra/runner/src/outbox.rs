//! `GET /_local/outbox`: every mail sent through the SES emulator, read from its
//! `/moto-api/data.json` (moto's only window on sent mail) and parsed from the MIME text.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value as Json};

pub struct Outbox {
    http: reqwest::Client,
    data_url: String,
    /// Mails without a Date header are dated by when the runner first saw them.
    first_seen: Mutex<HashMap<String, DateTime<Utc>>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub message_id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attachments: Vec<String>,
    pub sent_at: DateTime<Utc>,
}

impl Mail {
    pub fn to_json(&self) -> Json {
        json!({
            "messageId": self.message_id,
            "from": self.from,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": self.attachments,
            "sentAt": self.sent_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
    }
}

impl Outbox {
    pub fn new(ses_endpoint: &str) -> Result<Outbox> {
        Ok(Outbox {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .context("cannot build an HTTP client")?,
            data_url: format!("{ses_endpoint}/moto-api/data.json"),
            first_seen: Mutex::new(HashMap::new()),
        })
    }

    pub async fn mails(&self) -> Result<Vec<Mail>> {
        let data: Json = self
            .http
            .get(&self.data_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("cannot read the SES emulator's {}", self.data_url))?
            .json()
            .await
            .context("the SES emulator's data.json is not JSON")?;
        let mut seen = self.first_seen.lock().unwrap_or_else(|p| p.into_inner());
        Ok(parse_data(&data, &mut seen, Utc::now()))
    }
}

/// All mails in `data.json`, oldest first (stable for equal times: moto keeps send order).
pub fn parse_data(
    data: &Json,
    first_seen: &mut HashMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Mail> {
    let ses = data.get("ses");
    let entries = |model: &str| -> Vec<Json> {
        ses.and_then(|s| s.get(model))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut mails = Vec::new();
    for raw in entries("RawMessage") {
        let id = str_of(&raw, "id");
        let seen = *first_seen.entry(id.clone()).or_insert(now);
        mails.push(parse_raw(&raw, id, seen));
    }
    for simple in entries("Message") {
        let id = str_of(&simple, "id");
        let seen = *first_seen.entry(id.clone()).or_insert(now);
        let body = simple
            .get("body")
            .and_then(Json::as_str)
            .map(str::to_string);
        // SESv2 simple mails keep one body in moto: HTML when there was HTML, else text.
        let is_html = body
            .as_deref()
            .is_some_and(|b| b.trim_start().starts_with('<'));
        mails.push(Mail {
            message_id: id,
            from: address_only(&str_of(&simple, "source")),
            to: simple
                .get("destinations")
                .and_then(|d| d.get("ToAddresses"))
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(address_only)
                        .collect()
                })
                .unwrap_or_default(),
            subject: simple
                .get("subject")
                .and_then(Json::as_str)
                .map(str::to_string),
            text: if is_html { None } else { body.clone() },
            html: if is_html { body } else { None },
            attachments: Vec::new(),
            sent_at: seen,
        });
    }
    mails.sort_by_key(|m| m.sent_at);
    mails
}

fn str_of(v: &Json, key: &str) -> String {
    v.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `Name <a@b>` → `a@b`.
fn address_only(s: &str) -> String {
    match (s.rfind('<'), s.rfind('>')) {
        (Some(start), Some(end)) if start < end => s[start + 1..end].trim().to_string(),
        _ => s.trim().to_string(),
    }
}

fn parse_raw(raw: &Json, id: String, seen: DateTime<Utc>) -> Mail {
    let text = str_of(raw, "raw_data");
    let source = address_only(&str_of(raw, "source"));
    let destinations: Vec<String> = raw
        .get("destinations")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(address_only)
                .collect()
        })
        .unwrap_or_default();
    let Some(msg) = MessageParser::default().parse(text.as_bytes()) else {
        return Mail {
            message_id: id,
            from: source,
            to: dedup(destinations),
            subject: None,
            text: Some(text),
            html: None,
            attachments: Vec::new(),
            sent_at: seen,
        };
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string)
        .unwrap_or(source);
    let mut to: Vec<String> = msg
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if to.is_empty() {
        to = dedup(destinations);
    }
    let text_body = msg
        .text_bodies()
        .find(|p| p.is_text() && !p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(str::to_string);
    let html_body = msg
        .html_bodies()
        .find(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(str::to_string);
    let attachments = msg
        .attachments()
        .map(|a| a.attachment_name().unwrap_or("unnamed").to_string())
        .collect();
    let sent_at = msg
        .date()
        .and_then(|d| DateTime::parse_from_rfc3339(&d.to_rfc3339()).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(seen);
    Mail {
        message_id: id,
        from,
        to,
        subject: msg.subject().map(str::to_string),
        text: text_body,
        html: html_body,
        attachments,
        sent_at,
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "From: Shop <shop@example.com>\r\nTo: Ann <ann@example.com>\r\n\
Subject: Your order\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHello Ann\r\n--b2\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello Ann</p>\r\n--b2--\r\n--b1\r\n\
Content-Type: application/pdf; name=\"invoice.pdf\"\r\n\
Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

    #[test]
    fn parses_raw_and_simple_mails_oldest_first() {
        let data = json!({"ses": {
            "RawMessage": [{"id": "r1", "source": "shop@example.com",
                            "destinations": ["Ann <ann@example.com>"], "raw_data": RAW}],
            "Message": [{"id": "m1", "source": "ops@example.com",
                         "destinations": {"ToAddresses": ["bob@example.com"]},
                         "subject": "Hi", "body": "plain words"}]
        }});
        let now = Utc::now();
        let mut seen = HashMap::new();
        let mails = parse_data(&data, &mut seen, now);
        assert_eq!(mails.len(), 2);
        let raw = &mails[0];
        assert_eq!(raw.message_id, "r1");
        assert_eq!(raw.from, "shop@example.com");
        assert_eq!(raw.to, vec!["ann@example.com"]);
        assert_eq!(raw.subject.as_deref(), Some("Your order"));
        assert_eq!(raw.text.as_deref().map(str::trim), Some("Hello Ann"));
        assert_eq!(raw.html.as_deref().map(str::trim), Some("<p>Hello Ann</p>"));
        assert_eq!(raw.attachments, vec!["invoice.pdf"]);
        assert_eq!(raw.to_json()["sentAt"], json!("2026-03-03T09:00:00.000Z"));
        let simple = &mails[1];
        assert_eq!(simple.to, vec!["bob@example.com"]);
        assert_eq!(simple.text.as_deref(), Some("plain words"));
        assert_eq!(simple.sent_at, now);

        // The first sighting sticks.
        let later = now + chrono::Duration::seconds(5);
        let again = parse_data(&data, &mut seen, later);
        assert_eq!(again[1].sent_at, now);
    }

    #[test]
    fn address_only_strips_display_names() {
        assert_eq!(address_only("Ann <ann@example.com>"), "ann@example.com");
        assert_eq!(address_only(" ann@example.com "), "ann@example.com");
    }
}
