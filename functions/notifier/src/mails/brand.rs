//! How the retailer's design reaches every mail: the brand every template's layout shows
//! (name, colour, logo, footer, address) and the wrapping of a rendered template as a mail
//! from the retailer. Separate because every mail goes through it, whoever receives it.

use crate::render::{render, Rendered};
use base64::Engine;
use dropship_aws::mailer::{Attachment, InlineImage, Mail};
use dropship_core::catalogue::{Branding, Locale};
use serde::Serialize;

/// The colour used when the branding's is not a `#RRGGBB` value (it goes into CSS).
const DEFAULT_COLOR: &str = "#333333";

/// What every template knows about the retailer (layout: header, colour, footer).
#[derive(Debug, Serialize)]
struct Brand<'a> {
    name: &'a str,
    color: &'a str,
    logo: bool,
    footer: &'a str,
    /// One line: street, postal code and city, country (the name is `name`).
    address: String,
    vat_id: &'a str,
}

fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The retailer's logo as an inline image, when there is a valid PNG (a broken one is left
/// out rather than holding up the mail).
fn logo(branding: &Branding) -> Option<InlineImage> {
    let b64 = branding.logo_png_base64.as_deref()?;
    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
        Ok(bytes) if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => Some(InlineImage {
            content_id: "logo".into(),
            content_type: "image/png".into(),
            bytes,
        }),
        _ => {
            tracing::warn!("the branding's logo is not a base64 PNG; mails go without it");
            None
        }
    }
}

/// Renders `name` and wraps it as a mail from the retailer to `to`.
pub(super) fn branded(
    branding: &Branding,
    locale: Locale,
    name: &str,
    to: &str,
    data: &impl Serialize,
    attachments: Vec<Attachment>,
) -> anyhow::Result<Mail> {
    let logo = logo(branding);
    let brand = Brand {
        name: &branding.company_name,
        color: if is_hex_color(&branding.primary_color) {
            &branding.primary_color
        } else {
            DEFAULT_COLOR
        },
        logo: logo.is_some(),
        footer: &branding.footer,
        address: format!(
            "{}, {} {}, {}",
            branding.address.street,
            branding.address.postal_code,
            branding.address.city,
            branding.address.country
        ),
        vat_id: &branding.vat_id,
    };
    let Rendered {
        subject,
        text,
        html,
    } = render(name, locale, &brand, data)?;
    Ok(Mail {
        from_name: branding.company_name.clone(),
        from_address: branding.email_from.clone(),
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments,
        inline_images: logo.into_iter().collect(),
    })
}
