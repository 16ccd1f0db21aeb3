//! The mail templates (`templates/`), compiled into the binary and parsed once per process.
//!
//! Every mail is two files per locale: `<mail>.<locale>.txt` (a `subject` block and the plain
//! text, extending `layout.txt`) and `<mail>.<locale>.html` (extending `layout.html`, the
//! retailer's frame). `.html` templates escape every value; `.txt` ones do not need to.

use anyhow::Context;
use dropship_core::catalogue::Locale;
use minijinja::{context, Environment, UndefinedBehavior, Value};
use serde::Serialize;
use std::sync::OnceLock;

/// Every mail's name: its templates are `<name>.<locale>.txt` and `.html`.
pub const MAILS: [&str; 12] = [
    "documents_ready",
    "delivery_order_changed",
    "delivery_shipped",
    "stock_feed",
    "order_confirmation",
    "refund",
    "order_cancelled",
    "delivery_late",
    "alert_reminder",
    "alert_escalation",
    "return_authorized",
    "return_rejected",
];

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Embedded so that the Lambda needs no files at run time.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "layout.txt",
    "layout.html",
    "terms.de.txt",
    "terms.en.txt",
    "documents_ready.de.txt",
    "documents_ready.de.html",
    "documents_ready.en.txt",
    "documents_ready.en.html",
    "delivery_order_changed.de.txt",
    "delivery_order_changed.de.html",
    "delivery_order_changed.en.txt",
    "delivery_order_changed.en.html",
    "delivery_shipped.de.txt",
    "delivery_shipped.de.html",
    "delivery_shipped.en.txt",
    "delivery_shipped.en.html",
    "stock_feed.de.txt",
    "stock_feed.de.html",
    "stock_feed.en.txt",
    "stock_feed.en.html",
    "order_confirmation.de.txt",
    "order_confirmation.de.html",
    "order_confirmation.en.txt",
    "order_confirmation.en.html",
    "refund.de.txt",
    "refund.de.html",
    "refund.en.txt",
    "refund.en.html",
    "order_cancelled.de.txt",
    "order_cancelled.de.html",
    "order_cancelled.en.txt",
    "order_cancelled.en.html",
    "delivery_late.de.txt",
    "delivery_late.de.html",
    "delivery_late.en.txt",
    "delivery_late.en.html",
    "alert_reminder.de.txt",
    "alert_reminder.de.html",
    "alert_reminder.en.txt",
    "alert_reminder.en.html",
    "alert_escalation.de.txt",
    "alert_escalation.de.html",
    "alert_escalation.en.txt",
    "alert_escalation.en.html",
    "return_authorized.de.txt",
    "return_authorized.de.html",
    "return_authorized.en.txt",
    "return_authorized.en.html",
    "return_rejected.de.txt",
    "return_rejected.de.html",
    "return_rejected.en.txt",
    "return_rejected.en.html",
];

pub fn locale_code(locale: Locale) -> &'static str {
    match locale {
        Locale::De => "de",
        Locale::En => "en",
    }
}

fn build() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // A misspelt variable fails the render (and the tests) instead of leaving a gap in a mail.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("nl2br", nl2br);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// HTML-escapes a multi-line value and keeps its line breaks (footers, alert details).
fn nl2br(value: String) -> Value {
    let escaped = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    Value::from_safe_string(escaped.replace("\r\n", "\n").replace('\n', "<br>\n"))
}

/// The parsed templates; a template that does not parse is reported on every render (the unit
/// tests render all of them, so it never ships).
fn environment() -> anyhow::Result<&'static Environment<'static>> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the mail templates do not parse: {e}"))
}

/// A rendered mail: one-line subject, plain text, HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders mail `mail` in `locale` with the shared context (`brand`) and the mail's own `data`
/// (a struct whose fields become top-level variables).
pub fn render(
    mail: &str,
    locale: Locale,
    brand: &impl Serialize,
    data: &impl Serialize,
) -> anyhow::Result<Rendered> {
    let env = environment()?;
    let code = locale_code(locale);
    let ctx = context! {
        brand => Value::from_serialize(brand),
        locale => code,
        ..Value::from_serialize(data)
    };
    let txt_name = format!("{mail}.{code}.txt");
    let txt = env
        .get_template(&txt_name)
        .with_context(|| format!("no template {txt_name}"))?;
    let mut captured = txt
        .render_captured(ctx.clone())
        .with_context(|| format!("rendering {txt_name}"))?;
    let subject = captured
        .with_state_mut(|state| state.render_block("subject"))
        .with_context(|| format!("rendering the subject of {txt_name}"))?;
    // A subject is one header line.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = tidy(captured.output());
    let html_name = format!("{mail}.{code}.html");
    let html = env
        .get_template(&html_name)
        .with_context(|| format!("no template {html_name}"))?
        .render(context! { subject => subject.clone(), ..ctx })
        .with_context(|| format!("rendering {html_name}"))?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// Plain text without trailing spaces, with at most one blank line in a row, ending in a newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim().lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_every_file_is_embedded() {
        build().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for mail in MAILS {
            for locale in ["de", "en"] {
                for ext in ["txt", "html"] {
                    let name = format!("{mail}.{locale}.{ext}");
                    assert!(embedded.contains(&name), "{name} missing");
                }
            }
        }
    }

    #[test]
    fn tidy_drops_trailing_spaces_and_repeated_blank_lines() {
        assert_eq!(tidy("\n a  \n\n\n\nb\n\n"), "a\n\nb\n");
    }
}
