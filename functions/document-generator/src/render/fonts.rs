//! Which fonts a document is set in. Most documents print only WinAnsi characters (German,
//! English, Western European names): they use the viewers' built-in Helvetica, nothing is
//! embedded and a document stays a few kilobytes. A document that prints a character outside
//! WinAnsi (Łódź, Dvořák, Gödöllő, Ștefan, Greek, Cyrillic) embeds subsets of Liberation Sans
//! with just the characters it prints, so that names and addresses appear exactly as given.
//! Liberation Sans has Helvetica's widths, so both kinds of document are laid out alike.

use super::subset;
use super::text;
use genpdf::fonts::{Font, FontCache, FontData, FontFamily};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Metrics of the built-in fonts (Liberation Sans widths, which are Helvetica's); see
/// `fonts/README.md`.
static METRICS_REGULAR: &[u8] = include_bytes!("../../fonts/ParcelMetricsSans-Regular.ttf");
static METRICS_BOLD: &[u8] = include_bytes!("../../fonts/ParcelMetricsSans-Bold.ttf");
/// The fonts a subset is cut from: Liberation Sans 2.1.5 as Debian ships it, unmodified.
static LIBERATION_REGULAR: &[u8] = include_bytes!("../../fonts/LiberationSans-Regular.ttf");
static LIBERATION_BOLD: &[u8] = include_bytes!("../../fonts/LiberationSans-Bold.ttf");

/// Characters the fixed texts, numbers, dates and country names of both locales print besides
/// printable ASCII (a test keeps this in step with `text.rs`). An embedded subset always has
/// them, so the document's own words never depend on what the data happened to contain.
const FURNITURE: &str = "ÄÖÜäöüß€£„“”‚‘’–—…×·§";

/// The fonts of one document.
#[derive(Clone)]
pub enum Faces {
    /// The viewers' built-in Helvetica: everything the document prints is WinAnsi.
    BuiltIn,
    /// Liberation Sans subsets (regular, bold) with the document's characters.
    Embedded {
        regular: Arc<Vec<u8>>,
        bold: Arc<Vec<u8>>,
    },
}

impl Faces {
    /// The fonts for a document whose data prints `texts` (names, addresses, article names,
    /// the retailer's details); the fixed words and figures come on top.
    pub fn for_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Faces> {
        let mut chars = BTreeSet::new();
        let mut foreign = false;
        for s in texts {
            for c in s.chars().filter_map(text::normalised) {
                foreign |= text::needs_a_font(c);
                chars.insert(c);
            }
        }
        if !foreign {
            return Ok(Faces::BuiltIn);
        }
        chars.extend((' '..='~').chain(FURNITURE.chars()));
        let regular = subset::subset(LIBERATION_REGULAR, &chars)?;
        let bold = subset::subset(LIBERATION_BOLD, &chars)?;
        let missing: BTreeSet<char> = regular.missing.into_iter().chain(bold.missing).collect();
        if !missing.is_empty() {
            let codes: Vec<String> = missing
                .iter()
                .map(|c| format!("U+{:04X}", u32::from(*c)))
                .collect();
            tracing::warn!(
                characters = %codes.join(" "),
                "the document font has no glyph for these characters; they print as {}",
                subset::REPLACEMENT
            );
        }
        Ok(Faces::Embedded {
            regular: Arc::new(regular.font),
            bold: Arc::new(bold.font),
        })
    }

    /// The family genpdf lays the document out with (and, when embedded, embeds).
    pub fn family(&self) -> anyhow::Result<FontFamily<FontData>> {
        let built_in = built_in()?;
        match self {
            Faces::BuiltIn => Ok(built_in),
            Faces::Embedded { regular, bold } => {
                let load = |bytes: &Arc<Vec<u8>>| {
                    FontData::new(bytes.to_vec(), None)
                        .map_err(|e| anyhow::anyhow!("loading the document font: {e}"))
                };
                Ok(FontFamily {
                    regular: load(regular)?,
                    bold: load(bold)?,
                    // Never used by our documents; built-in so that genpdf, which embeds every
                    // font of the family, does not embed the subsets twice.
                    italic: built_in.regular,
                    bold_italic: built_in.bold,
                })
            }
        }
    }
}

/// The PDF with its streams compressed: the embedded font files, their ToUnicode maps and the
/// page content, which printpdf 0.3 writes uncompressed (it even marks font files so, though
/// PDF allows FlateDecode on a FontFile2 and every viewer reads it). An embedded-font document
/// is re-read for this anyway; built-in ones skip it, so their render time stays as it was.
pub fn compress_streams(pdf: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut doc = lopdf::Document::load_mem(pdf)
        .map_err(|e| anyhow::anyhow!("reading the document to compress it: {e}"))?;
    for object in doc.objects.values_mut() {
        if let lopdf::Object::Stream(stream) = object {
            stream
                .compress()
                .map_err(|e| anyhow::anyhow!("compressing the document: {e}"))?;
        }
    }
    let mut out = Vec::with_capacity(pdf.len() / 2);
    doc.save_to(&mut out)
        .map_err(|e| anyhow::anyhow!("writing the document: {e}"))?;
    Ok(out)
}

/// The built-in family, parsed once per process: the metrics fonts give the widths, the PDF
/// names the viewer's Helvetica (WinAnsi: umlauts, ß and € included), so nothing is embedded.
fn built_in() -> anyhow::Result<FontFamily<FontData>> {
    type Family = Result<FontFamily<FontData>, String>;
    static FAMILY: std::sync::OnceLock<Family> = std::sync::OnceLock::new();
    FAMILY
        .get_or_init(|| {
            let load = |bytes: &[u8], builtin| {
                FontData::new(bytes.to_vec(), Some(builtin))
                    .map_err(|e| format!("loading a font: {e}"))
            };
            let regular = load(METRICS_REGULAR, printpdf::BuiltinFont::Helvetica)?;
            let bold = load(METRICS_BOLD, printpdf::BuiltinFont::HelveticaBold)?;
            Ok(FontFamily {
                regular: regular.clone(),
                bold: bold.clone(),
                italic: regular,
                bold_italic: bold,
            })
        })
        .clone()
        .map_err(|e| anyhow::anyhow!(e))
}

/// `s` as `font` can print it: for a built-in font folded to WinAnsi, for an embedded subset
/// each character it lacks replaced.
pub fn printable(s: &str, font: Font, cache: &FontCache) -> String {
    if font.is_builtin() {
        text::printable(s)
    } else {
        text::printable_with(s, |c| {
            font.glyph_ids(cache, [c]).first().is_some_and(|g| *g != 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_core::catalogue::Locale;

    #[test]
    fn the_furniture_covers_every_fixed_text() {
        let mut fixed = String::new();
        for locale in [Locale::De, Locale::En] {
            fixed.push_str(&format!("{:?}", text::words(locale)));
            for code in [
                "DE", "AT", "CH", "FR", "NL", "BE", "LU", "IT", "ES", "PT", "PL", "CZ", "DK", "SE",
                "FI", "NO", "IE", "GB", "US",
            ] {
                fixed.push_str(&text::country(code, locale));
            }
        }
        for c in fixed.chars().filter(|c| !(' '..='~').contains(c)) {
            assert!(FURNITURE.contains(c), "{c:?} is not in FURNITURE");
        }
    }

    #[test]
    fn win_ansi_text_stays_on_the_built_in_fonts() {
        let faces = Faces::for_texts(["Jörg Weiß – „gut“ 5 €", "a\u{2011}b\u{200b}"]);
        assert!(matches!(faces.unwrap(), Faces::BuiltIn));
        let faces = Faces::for_texts(["Jörg", "Łódź"]).unwrap();
        assert!(matches!(faces, Faces::Embedded { .. }));
    }
}
