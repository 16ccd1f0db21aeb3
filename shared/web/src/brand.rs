//! The retailer's look on every site: name, colour (with a readable text colour on it), logo
//! and time zone, from the branding.

use chrono_tz::Tz;
use dropship_core::catalogue::Branding;
use serde_json::{json, Value};

/// The stylesheet both sites' layouts inline (CSP allows only styles with the page's nonce).
pub const SITE_CSS: &str = include_str!("../assets/site.css");

/// The retailer's time zone (branding `timeZone`, default Europe/Berlin as docs/api.md says).
pub fn time_zone(branding: Option<&Branding>) -> Tz {
    branding
        .and_then(|b| b.time_zone.parse::<Tz>().ok())
        .unwrap_or(chrono_tz::Europe::Berlin)
}

/// The retailer's look: name, colour (with a readable text colour on it) and logo.
pub fn brand(branding: Option<&Branding>) -> Value {
    let color = branding
        .map(|b| b.primary_color.as_str())
        .filter(|c| is_hex_color(c))
        .unwrap_or("#2E5E4E");
    let logo = branding
        .and_then(|b| b.logo_png_base64.as_deref())
        .filter(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        })
        .map(|l| format!("data:image/png;base64,{l}"));
    json!({
        "name": branding.map(|b| b.company_name.as_str()).unwrap_or(""),
        "color": color,
        "on_color": on_color(color),
        "logo": logo,
    })
}

fn is_hex_color(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit)
}

/// White or near-black text, whichever contrasts more with `color` (WCAG relative luminance).
pub fn on_color(color: &str) -> &'static str {
    let channel = |i: usize| -> f64 {
        let v = color
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0) as f64
            / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white: 1.05 / (l + 0.05); with #111: (l + 0.05) / 0.0555.
    if 1.05 / (l + 0.05) >= (l + 0.05) / 0.0555 {
        "#ffffff"
    } else {
        "#111111"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_on_the_brand_colour_stays_readable() {
        assert_eq!(on_color("#2E5E4E"), "#ffffff");
        assert_eq!(on_color("#FFE066"), "#111111");
        assert_eq!(brand(None)["color"], "#2E5E4E");
        assert_eq!(brand(None)["logo"], Value::Null);
        assert_eq!(time_zone(None), chrono_tz::Europe::Berlin);
    }
}
