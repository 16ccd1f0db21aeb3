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

/// An image the HTML part shows by `cid:<content_id>` (e.g. the retailer's logo): mail clients
/// block remote images and many drop `data:` URLs, but show related inline parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// ASCII token without `<>`, e.g. `logo`.
    pub content_id: String,
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
    pub inline_images: Vec<InlineImage>,
}

/// RFC 2047 encoded words for headers that may hold non-ASCII (names, subjects). Long values
/// are split into several words (at most 75 characters each, RFC 2047 section 2) on character
/// boundaries, so that no multi-byte character is cut in half.
fn encode_header(s: &str) -> String {
    if s.is_ascii() && !s.contains(['\r', '\n']) && s.len() <= 900 {
        return s.to_string();
    }
    let flat = s.replace(['\r', '\n'], " ");
    // 45 bytes of UTF-8 become 60 base64 characters: 72 with "=?UTF-8?B?" and "?=".
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in flat.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// A header parameter value (file names, content ids): quotes, backslashes and control
/// characters could break out of the header, so they become `_`.
fn header_token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// `name="..."`/`filename="..."` parameters; a non-ASCII file name gets an ASCII fallback and
/// the RFC 2231 form (`filename*`), which clients prefer.
fn filename_params(filename: &str) -> (String, String) {
    let clean = header_token(filename);
    if clean.is_ascii() {
        return (format!("name=\"{clean}\""), format!("filename=\"{clean}\""));
    }
    let fallback: String = clean
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let encoded: String = clean
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        format!("name=\"{fallback}\""),
        format!("filename=\"{fallback}\"; filename*=UTF-8''{encoded}"),
    )
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

fn boundary(kind: &str) -> String {
    format!("{kind}-{}", uuid::Uuid::new_v4().simple())
}

impl Mail {
    /// The complete MIME message:
    /// `multipart/mixed [ multipart/alternative [ text, html | multipart/related [ html, images ] ], attachments ]`.
    pub fn to_mime(&self) -> String {
        let boundary_mixed = boundary("mixed");
        let boundary_alt = boundary("alt");
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
        let text_part = |ct: &str, body: &str| {
            format!(
                "Content-Type: {ct}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
                b64(body.as_bytes())
            )
        };
        m.push_str(&format!("--{boundary_alt}\r\n"));
        m.push_str(&text_part("text/plain", &self.text));
        m.push_str(&format!("--{boundary_alt}\r\n"));
        if self.inline_images.is_empty() {
            m.push_str(&text_part("text/html", &self.html));
        } else {
            let boundary_rel = boundary("rel");
            m.push_str(&format!(
                "Content-Type: multipart/related; type=\"text/html\"; boundary=\"{boundary_rel}\"\r\n\r\n"
            ));
            m.push_str(&format!("--{boundary_rel}\r\n"));
            m.push_str(&text_part("text/html", &self.html));
            for img in &self.inline_images {
                let id = header_token(&img.content_id);
                m.push_str(&format!("--{boundary_rel}\r\n"));
                m.push_str(&format!(
                    "Content-Type: {}\r\nContent-ID: <{id}>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                    header_token(&img.content_type)
                ));
                m.push_str(&b64(&img.bytes));
            }
            m.push_str(&format!("--{boundary_rel}--\r\n"));
        }
        m.push_str(&format!("--{boundary_alt}--\r\n"));
        for a in &self.attachments {
            let (name, filename) = filename_params(&a.filename);
            m.push_str(&format!("--{boundary_mixed}\r\n"));
            m.push_str(&format!(
                "Content-Type: {}; {name}\r\nContent-Disposition: attachment; {filename}\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                header_token(&a.content_type)
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

    fn mail() -> Mail {
        Mail {
            from_name: "Müller Versand".into(),
            from_address: "shop@retailer.example".into(),
            to: vec!["a@example.com".into()],
            subject: "Ihre Bestellung – versandt".into(),
            text: "Hallo".into(),
            html: "<p>Hallo</p>".into(),
            attachments: Vec::new(),
            inline_images: Vec::new(),
        }
    }

    /// The base64 body of the part whose headers contain `marker`, decoded.
    fn part_body(mime: &str, marker: &str) -> Vec<u8> {
        let start = mime.find(marker).expect("part present");
        let rest = &mime[start..];
        let body_start = rest.find("\r\n\r\n").expect("headers end") + 4;
        let body: String = rest[body_start..]
            .lines()
            .take_while(|l| !l.starts_with("--") && !l.is_empty())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("valid base64")
    }

    #[test]
    fn mime_has_both_alternatives_and_named_attachments() {
        let pdf = b"%PDF-1.7\n\x00\xff binary \r\n %%EOF".repeat(40);
        let mail = Mail {
            attachments: vec![Attachment {
                filename: "Retourenschein-1.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: pdf.clone(),
            }],
            ..mail()
        };
        let mime = mail.to_mime();
        assert!(mime.contains("From: =?UTF-8?B?"));
        assert!(mime.contains("Subject: =?UTF-8?B?"));
        assert!(mime.contains("Content-Type: text/plain; charset=UTF-8"));
        assert!(mime.contains("Content-Type: text/html; charset=UTF-8"));
        assert!(mime.contains("To: a@example.com\r\n"));
        assert!(mime.contains(
            "Content-Type: application/pdf; name=\"Retourenschein-1.pdf\"\r\nContent-Disposition: attachment; filename=\"Retourenschein-1.pdf\"\r\nContent-Transfer-Encoding: base64"
        ));
        // The PDF survives byte for byte, in lines of at most 76 characters.
        assert_eq!(part_body(&mime, "name=\"Retourenschein-1.pdf\""), pdf);
        assert!(mime.lines().all(|l| l.len() <= 998));
        assert!(!mime.contains("multipart/related"));
    }

    #[test]
    fn inline_images_sit_next_to_the_html_only() {
        let mail = Mail {
            inline_images: vec![InlineImage {
                content_id: "logo".into(),
                content_type: "image/png".into(),
                bytes: vec![0x89, b'P', b'N', b'G'],
            }],
            ..mail()
        };
        let mime = mail.to_mime();
        let alt = mime.find("multipart/alternative").unwrap();
        let text = mime.find("text/plain").unwrap();
        let related = mime.find("multipart/related").unwrap();
        let html = mime.find("text/html;").unwrap();
        let logo = mime.find("Content-ID: <logo>").unwrap();
        assert!(alt < text && text < related && related < html && html < logo);
        assert_eq!(
            part_body(&mime, "Content-ID: <logo>"),
            [0x89, b'P', b'N', b'G']
        );
    }

    #[test]
    fn headers_cannot_be_broken_out_of() {
        let mail = Mail {
            subject: "Order 1\r\nBcc: victim@example.com".into(),
            attachments: vec![Attachment {
                filename: "a\".pdf\r\nX-Evil: 1".into(),
                content_type: "application/pdf".into(),
                bytes: vec![1],
            }],
            ..mail()
        };
        let mime = mail.to_mime();
        assert!(!mime.contains("\r\nBcc:"));
        assert!(!mime.contains("\r\nX-Evil"));
    }

    #[test]
    fn long_and_non_ascii_headers_are_split_into_valid_encoded_words() {
        let subject = "Ihre Erstattung für Größe „XL“ – ".repeat(6);
        let encoded = encode_header(&subject);
        let decoded: String = encoded
            .split("\r\n ")
            .map(|w| {
                assert!(w.len() <= 75, "{w}");
                let inner = w
                    .strip_prefix("=?UTF-8?B?")
                    .and_then(|w| w.strip_suffix("?="))
                    .unwrap();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(inner)
                        .unwrap(),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(decoded, subject);
        let (name, filename) = filename_params("Rücksendeetikett-1.pdf");
        assert_eq!(name, "name=\"R_cksendeetikett-1.pdf\"");
        assert_eq!(
            filename,
            "filename=\"R_cksendeetikett-1.pdf\"; filename*=UTF-8''R%C3%BCcksendeetikett-1.pdf"
        );
    }
}
