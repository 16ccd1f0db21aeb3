//! Mail through SES as raw MIME (text + HTML alternatives, optional attachments), so that what
//! the customer or fulfiller receives is exactly what we built, in the retailer's name.

use anyhow::Context;
use chrono::Utc;
use mail_builder::encoders::base64::base64_encode_mime;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

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

/// A header value on one line: CR, LF and other control characters would end the header and
/// let a customer-supplied name or subject add headers of its own (`Bcc:`), so they become
/// spaces. The builder encodes what is left (RFC 2047) but passes plain ASCII through as it is.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A header parameter value (file names, content ids, content types): quotes, backslashes and
/// control characters could break out of the header, so they become `_`.
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

/// An address as the builder writes it between `<` and `>`, verbatim: whatever could end the
/// header or the angle brackets is dropped. Addresses were checked where they entered
/// (intake, branding); this only keeps a bad one from becoming a header of its own.
fn bare_address(s: &str) -> String {
    s.chars()
        .filter(|c| {
            !c.is_control() && !c.is_whitespace() && !matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        .collect()
}

/// A text part as base64 of exactly the text built. Left to itself mail-builder sends text as
/// 7bit or quoted-printable with every LF turned into CRLF, and every reader (the local outbox,
/// the tests, a portal that quotes a mail) would get `\r\n` where the template wrote `\n`.
fn text_part(content_type: &str, text: &str) -> anyhow::Result<MimePart<'static>> {
    let mut encoded = Vec::new();
    base64_encode_mime(text.as_bytes(), &mut encoded, false).context("encoding a text part")?;
    Ok(MimePart::new(
        ContentType::new(content_type.to_string()).attribute("charset", "utf-8"),
        BodyPart::Text(String::from_utf8(encoded)?.into()),
    )
    .transfer_encoding("base64"))
}

impl Mail {
    /// The complete MIME message, built and encoded by mail-builder:
    /// `multipart/mixed [ multipart/alternative [ text, html | multipart/related [ html, images ] ], attachments ]`.
    /// The display name goes into a quoted string (so `Smith, Jones & Co` stays one address),
    /// non-ASCII names, subjects and file names into RFC 2047 encoded words.
    pub fn to_mime(&self) -> anyhow::Result<String> {
        let html = text_part("text/html", &self.html)?;
        let html = if self.inline_images.is_empty() {
            html
        } else {
            let mut related = vec![html];
            related.extend(self.inline_images.iter().map(|img| {
                MimePart::new(header_token(&img.content_type), img.bytes.as_slice())
                    .inline()
                    .cid(bare_address(&header_token(&img.content_id)))
            }));
            MimePart::new(
                ContentType::new("multipart/related").attribute("type", "text/html"),
                related,
            )
        };
        let alternative = MimePart::new(
            "multipart/alternative",
            vec![text_part("text/plain", &self.text)?, html],
        );
        let mut mixed = vec![alternative];
        mixed.extend(self.attachments.iter().map(|a| {
            let name = header_token(&a.filename);
            // `name` on the Content-Type too: older Outlook versions read only that one.
            MimePart::new(
                ContentType::new(header_token(&a.content_type)).attribute("name", name.clone()),
                a.bytes.as_slice(),
            )
            .attachment(name)
        }));
        let from = bare_address(&self.from_address);
        let domain = from
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let to: Vec<Address<'_>> = self
            .to
            .iter()
            .map(|a| Address::from(bare_address(a)))
            .collect();
        MessageBuilder::new()
            .from(Address::new_address(Some(one_line(&self.from_name)), from))
            .to(Address::new_list(to))
            .subject(one_line(&self.subject))
            .date(Date::new(Utc::now().timestamp()))
            .message_id(format!("{}@{domain}", uuid::Uuid::new_v4()))
            .body(MimePart::new("multipart/mixed", mixed))
            .write_to_string()
            .context("writing the MIME message")
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
                mail.to_mime()?.into_bytes(),
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
    use mail_parser::{MessageParser, MimeHeaders};

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

    fn parse(mime: &str) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(mime.as_bytes())
            .expect("a parseable message")
    }

    /// Names and subjects as retailers and customers really write them: the specials of RFC
    /// 5322 (`,` `&` `"` `<` `;` `:` `@` `(`), umlauts and scripts other than Latin.
    const NAMES: &[&str] = &[
        "Smith, Jones & Co",
        "Say \"Hi\" Ltd.",
        "O'Brien (Versand) <Shop>; Lager: Nord @ Hamburg",
        "Müller, Söhne & Töchter GmbH",
        "Ελληνικά Είδη Σπιτιού Α.Ε.",
        "ООО «Дом и Сад», Москва",
        "株式会社ドロップシップ・ジャパン、東京本社",
        "Back\\slash",
        "a",
        "Ihre Erstattung für Größe „XL“ – Ihre Erstattung für Größe „XL“ – Ihre Erstattung",
    ];

    #[test]
    fn display_names_and_subjects_come_back_exactly_as_one_address() {
        for name in NAMES {
            let m = Mail {
                from_name: (*name).into(),
                subject: format!("Ihre Bestellung bei {name}"),
                ..mail()
            };
            let mime = m.to_mime().unwrap();
            let msg = parse(&mime);
            let from: Vec<_> = msg.from().expect("a From header").iter().collect();
            assert_eq!(from.len(), 1, "{name}: {mime}");
            assert_eq!(from[0].name(), Some(*name), "{mime}");
            assert_eq!(from[0].address(), Some("shop@retailer.example"));
            assert_eq!(
                msg.subject(),
                Some(format!("Ihre Bestellung bei {name}").as_str())
            );
            let to: Vec<_> = msg.to().expect("a To header").iter().collect();
            assert_eq!(to.len(), 1);
            assert_eq!(to[0].address(), Some("a@example.com"));
        }
    }

    /// The same From headers read by a second, unrelated parser: Python's standard library
    /// (`email.policy.default`), which the project needs anyway for the local stack.
    #[test]
    fn pythons_mail_parser_reads_the_same_single_sender() {
        let messages: Vec<String> = NAMES
            .iter()
            .map(|name| {
                Mail {
                    from_name: (*name).into(),
                    subject: (*name).into(),
                    ..mail()
                }
                .to_mime()
                .unwrap()
            })
            .collect();
        let script = r#"
import email, email.policy, json, sys
out = []
for raw in json.load(sys.stdin):
    m = email.message_from_string(raw, policy=email.policy.default)
    out.append([[a.display_name, a.addr_spec] for a in m["From"].addresses] + [str(m["Subject"])])
print(json.dumps(out))
"#;
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 (the local stack needs it too)");
        std::io::Write::write_all(
            child.stdin.as_mut().unwrap(),
            serde_json::to_string(&messages).unwrap().as_bytes(),
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let parsed: Vec<Vec<serde_json::Value>> = serde_json::from_slice(&out.stdout).unwrap();
        for (name, got) in NAMES.iter().zip(parsed) {
            assert_eq!(
                got,
                vec![
                    serde_json::json!([name, "shop@retailer.example"]),
                    serde_json::json!(name)
                ],
                "{name}"
            );
        }
    }

    #[test]
    fn mime_has_both_alternatives_and_named_attachments() {
        let pdf = b"%PDF-1.7\n\x00\xff binary \r\n %%EOF".repeat(40);
        let mail = Mail {
            attachments: vec![
                Attachment {
                    filename: "Retourenschein-1.pdf".into(),
                    content_type: "application/pdf".into(),
                    bytes: pdf.clone(),
                },
                Attachment {
                    filename: "Rücksendeetikett für Größe „XL“ – Ελληνικά.pdf".into(),
                    content_type: "application/pdf".into(),
                    bytes: vec![1, 2, 3],
                },
            ],
            text: "Hallo\nzweite Zeile – ü\n".into(),
            html: "<p>Hallo</p>\n<p>ü</p>".into(),
            ..mail()
        };
        let mime = mail.to_mime().unwrap();
        assert!(mime.lines().all(|l| l.len() <= 998));
        assert!(!mime.contains("multipart/related"));
        assert!(mime.contains("MIME-Version: 1.0\r\n"));
        assert!(mime.contains("Message-ID: <"));
        assert!(mime.contains("@retailer.example>\r\n"));
        assert!(mime.contains("\r\nDate: "));
        let msg = parse(&mime);
        assert_eq!(
            msg.body_text(0).as_deref(),
            Some("Hallo\nzweite Zeile – ü\n")
        );
        assert_eq!(msg.body_html(0).as_deref(), Some("<p>Hallo</p>\n<p>ü</p>"));
        let attachments: Vec<_> = msg.attachments().collect();
        assert_eq!(attachments.len(), 2);
        // The PDF survives byte for byte; the non-ASCII name comes back exactly.
        assert_eq!(
            attachments[0].attachment_name(),
            Some("Retourenschein-1.pdf")
        );
        assert_eq!(attachments[0].contents(), pdf.as_slice());
        assert_eq!(
            attachments[1].attachment_name(),
            Some("Rücksendeetikett für Größe „XL“ – Ελληνικά.pdf")
        );
        assert_eq!(attachments[1].contents(), [1, 2, 3]);
        assert!(attachments
            .iter()
            .all(|a| a.content_type().is_some_and(|c| c.subtype() == Some("pdf"))));
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
        let mime = mail.to_mime().unwrap();
        let alt = mime.find("multipart/alternative").unwrap();
        let text = mime.find("text/plain").unwrap();
        let related = mime.find("multipart/related").unwrap();
        let html = mime.find("text/html").unwrap();
        let logo = mime.find("Content-ID: <logo>").unwrap();
        assert!(alt < text && text < related && related < html && html < logo);
        let msg = parse(&mime);
        let logo = msg
            .parts
            .iter()
            .find(|p| p.content_id() == Some("logo"))
            .expect("the logo part");
        assert_eq!(logo.contents(), [0x89, b'P', b'N', b'G']);
        assert_eq!(msg.attachments().filter(|a| a.is_text()).count(), 0);
    }

    #[test]
    fn headers_cannot_be_broken_out_of() {
        let mail = Mail {
            from_name: "Shop\r\nBcc: victim@example.com".into(),
            subject: "Order 1\r\nBcc: victim@example.com".into(),
            to: vec!["a@example.com\r\nBcc: victim@example.com".into()],
            attachments: vec![Attachment {
                filename: "a\".pdf\r\nX-Evil: 1".into(),
                content_type: "application/pdf\r\nX-Evil: 2".into(),
                bytes: vec![1],
            }],
            inline_images: vec![InlineImage {
                content_id: "logo>\r\nX-Evil: 3".into(),
                content_type: "image/png".into(),
                bytes: vec![1],
            }],
            ..mail()
        };
        let mime = mail.to_mime().unwrap();
        assert!(!mime.contains("\r\nBcc:"), "{mime}");
        assert!(!mime.contains("\r\nX-Evil"), "{mime}");
        let msg = parse(&mime);
        assert_eq!(msg.from().unwrap().iter().count(), 1);
        assert!(msg.bcc().is_none());
    }

    #[test]
    fn long_and_non_ascii_headers_are_split_into_valid_encoded_words() {
        let subject = "Ihre Erstattung für Größe „XL“ – ".repeat(6);
        let mime = Mail {
            subject: subject.clone(),
            ..mail()
        }
        .to_mime()
        .unwrap();
        let header_end = mime.find("\r\n\r\n").unwrap();
        let start = mime.find("Subject: ").unwrap();
        // The folded subject: the header line and its continuation lines.
        let folded: Vec<&str> = mime[start..header_end]
            .split("\r\n")
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with([' ', '\t']))
            .map(|(_, l)| l.trim_start_matches("Subject: ").trim())
            .collect();
        assert!(folded.len() > 1, "{folded:?}");
        // Whole encoded words, one per line, cut between characters (the parse back proves
        // that no character was split). mail-builder lets a word reach 76 to 80 characters,
        // a little over RFC 2047's 75; parsers read them (mail-parser here, Python above).
        for word in &folded {
            assert!(word.len() <= 80, "{word}");
            assert!(
                word.starts_with("=?utf-8?") && word.ends_with("?="),
                "{word}"
            );
        }
        assert!(mime.lines().all(|l| l.len() <= 998));
        assert_eq!(parse(&mime).subject(), Some(subject.as_str()));
    }
}
