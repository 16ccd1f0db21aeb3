//! Mail through SES as raw MIME (text + HTML alternatives, optional attachments), so that what
//! the customer or fulfiller receives is exactly what we built, in the retailer's name.

use anyhow::Context;
use base64::Engine;
use chrono::Utc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Display name shown as sender (the retailer's company name).
    pub from_name: String,
    pub from_address: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// RFC 2047 encoded word for headers that may hold non-ASCII (names, subjects).
fn encode_header(s: &str) -> String {
    if s.is_ascii() && !s.contains(['\r', '\n']) {
        s.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s.replace(['\r', '\n'], " "))
        )
    }
}

fn wrap76(b64: &str) -> String {
    let mut out = String::with_capacity(b64.len() + b64.len() / 76 * 2 + 2);
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    wrap76(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl Mail {
    /// The complete MIME message.
    pub fn to_mime(&self) -> String {
        let boundary_mixed = format!("mixed-{}", uuid::Uuid::new_v4().simple());
        let boundary_alt = format!("alt-{}", uuid::Uuid::new_v4().simple());
        let mut m = String::new();
        m.push_str(&format!(
            "From: {} <{}>\r\n",
            encode_header(&self.from_name),
            self.from_address
        ));
        m.push_str(&format!("To: {}\r\n", self.to.join(", ")));
        m.push_str(&format!("Subject: {}\r\n", encode_header(&self.subject)));
        m.push_str(&format!("Date: {}\r\n", Utc::now().to_rfc2822()));
        m.push_str(&format!(
            "Message-ID: <{}@{}>\r\n",
            uuid::Uuid::new_v4(),
            self.from_address.split('@').nth(1).unwrap_or("localhost")
        ));
        m.push_str("MIME-Version: 1.0\r\n");
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary_mixed}\"\r\n\r\n"
        ));
        m.push_str(&format!("--{boundary_mixed}\r\n"));
        m.push_str(&format!(
            "Content-Type: multipart/alternative; boundary=\"{boundary_alt}\"\r\n\r\n"
        ));
        for (ct, body) in [("text/plain", &self.text), ("text/html", &self.html)] {
            m.push_str(&format!("--{boundary_alt}\r\n"));
            m.push_str(&format!(
                "Content-Type: {ct}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            ));
            m.push_str(&b64(body.as_bytes()));
        }
        m.push_str(&format!("--{boundary_alt}--\r\n"));
        for a in &self.attachments {
            m.push_str(&format!("--{boundary_mixed}\r\n"));
            m.push_str(&format!(
                "Content-Type: {}; name=\"{}\"\r\nContent-Disposition: attachment; filename=\"{}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                a.content_type, a.filename, a.filename
            ));
            m.push_str(&b64(&a.bytes));
        }
        m.push_str(&format!("--{boundary_mixed}--\r\n"));
        m
    }
}

#[derive(Clone, Debug)]
pub struct Mailer {
    client: aws_sdk_sesv2::Client,
}

impl Mailer {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        Self { client }
    }

    pub async fn send(&self, mail: &Mail) -> anyhow::Result<String> {
        let raw = aws_sdk_sesv2::types::RawMessage::builder()
            .data(aws_sdk_sesv2::primitives::Blob::new(
                mail.to_mime().into_bytes(),
            ))
            .build()
            .context("building the raw message")?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from_address)
            .destination(
                aws_sdk_sesv2::types::Destination::builder()
                    .set_to_addresses(Some(mail.to.clone()))
                    .build(),
            )
            .content(
                aws_sdk_sesv2::types::EmailContent::builder()
                    .raw(raw)
                    .build(),
            )
            .send()
            .await
            .with_context(|| {
                format!(
                    "sending mail \"{}\" from {}",
                    mail.subject, mail.from_address
                )
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    /// Makes `address` a verified sender (SES needs it; the emulator refuses unverified ones).
    pub async fn verify_sender(&self, address: &str) -> anyhow::Result<()> {
        let exists = self
            .client
            .get_email_identity()
            .email_identity(address)
            .send()
            .await
            .is_ok();
        if !exists {
            self.client
                .create_email_identity()
                .email_identity(address)
                .send()
                .await
                .with_context(|| format!("creating the SES identity {address}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_has_both_alternatives_and_named_attachments() {
        let mail = Mail {
            from_name: "Müller Versand".into(),
            from_address: "shop@retailer.example".into(),
            to: vec!["a@example.com".into()],
            subject: "Ihre Bestellung – versandt".into(),
            text: "Hallo".into(),
            html: "<p>Hallo</p>".into(),
            attachments: vec![Attachment {
                filename: "label.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: vec![1, 2, 3],
            }],
        };
        let mime = mail.to_mime();
        assert!(mime.contains("From: =?UTF-8?B?"));
        assert!(mime.contains("Subject: =?UTF-8?B?"));
        assert!(mime.contains("Content-Type: text/plain; charset=UTF-8"));
        assert!(mime.contains("Content-Type: text/html; charset=UTF-8"));
        assert!(mime.contains("filename=\"label.pdf\""));
        assert!(mime.contains("To: a@example.com\r\n"));
    }
}
