//! The retailer's PNG logo, made ready for a letterhead: decoded once per process (per logo),
//! flattened onto white (genpdf refuses an alpha channel) and scaled down to what the letterhead
//! needs at print resolution, so that it adds kilobytes to a document, not megabytes. A logo
//! that cannot be used yields `None`: the letterhead then shows the company name instead.

use base64::Engine as _;
use image::{DynamicImage, GenericImageView, ImageBuffer, Luma, Rgb};
use std::sync::{Arc, Mutex};

/// The largest logo on a letterhead, in millimetres.
pub const MAX_WIDTH_MM: f64 = 55.0;
pub const MAX_HEIGHT_MM: f64 = 16.0;
/// Pixels per inch kept at most. The PDF embeds pixels Flate-compressed, as a PNG holds them,
/// so the PNG's size predicts what the logo adds: a small PNG (a flat logo) keeps 300 dpi, a
/// large one (photo-like) is cut to 200 dpi, still sharp on office print, at less than half the
/// pixels (a 1200x400 noisy logo added 230 KB at 300 dpi, 100 KB at 200 dpi).
const DPI: f64 = 300.0;
const DPI_LARGE: f64 = 200.0;
const LARGE_PNG_BYTES: usize = 24 * 1024;
/// Refuse to decode anything bigger than this (a "decompression bomb" would need gigabytes).
const MAX_SOURCE_PIXELS: u64 = 16_000_000;

/// The decoded logo of the last branding seen: one retailer per deployment, so one entry does.
type Cached = Option<(String, Option<Arc<DynamicImage>>)>;
static CACHE: Mutex<Cached> = Mutex::new(None);

/// The logo ready to embed, or `None` if there is none or it cannot be used (logged).
pub fn prepared(base64_png: Option<&str>) -> Option<Arc<DynamicImage>> {
    let encoded = base64_png.map(str::trim).filter(|s| !s.is_empty())?;
    // A poisoned lock only means another render panicked; the cached value is still whole.
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((key, logo)) = cache.as_ref() {
        if key == encoded {
            return logo.clone();
        }
    }
    let logo = match prepare(encoded) {
        Ok(image) => Some(Arc::new(image)),
        Err(e) => {
            tracing::warn!(error = %e, "the branding's logo cannot be used; the company name stands in");
            None
        }
    };
    *cache = Some((encoded.to_string(), logo.clone()));
    logo
}

fn prepare(encoded: &str) -> anyhow::Result<DynamicImage> {
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| anyhow::anyhow!("logo is not base64: {e}"))?;
    let (w, h) = png_size(&png).ok_or_else(|| anyhow::anyhow!("logo is not a PNG"))?;
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_SOURCE_PIXELS {
        anyhow::bail!("logo is {w}x{h} pixels, too large to decode");
    }
    let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .map_err(|e| anyhow::anyhow!("logo cannot be decoded: {e}"))?;
    let dpi = if png.len() > LARGE_PNG_BYTES {
        DPI_LARGE
    } else {
        DPI
    };
    Ok(flatten(fit(image, dpi)))
}

/// Width and height from the PNG header (signature, then the IHDR chunk).
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&png[16..20]), be(&png[20..24])))
}

/// Scales down to the letterhead's box at `dpi` (never up: the PDF scales it for free).
fn fit(image: DynamicImage, dpi: f64) -> DynamicImage {
    let max_w = (MAX_WIDTH_MM / 25.4 * dpi) as u32;
    let max_h = (MAX_HEIGHT_MM / 25.4 * dpi) as u32;
    let (w, h) = image.dimensions();
    if w <= max_w && h <= max_h {
        return image;
    }
    image.resize(max_w, max_h, image::imageops::FilterType::Triangle)
}

/// Composites onto white paper and drops the alpha channel; grey logos stay one channel.
fn flatten(image: DynamicImage) -> DynamicImage {
    let rgba = image.to_rgba8();
    let (w, h) = rgba.dimensions();
    let over_white = |c: u8, a: u8| -> u8 {
        let (c, a) = (u32::from(c), u32::from(a));
        ((c * a + 255 * (255 - a) + 127) / 255) as u8
    };
    let rgb: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::from_fn(w, h, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        Rgb([
            over_white(p[0], p[3]),
            over_white(p[1], p[3]),
            over_white(p[2], p[3]),
        ])
    });
    if rgb.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]) {
        let grey: ImageBuffer<Luma<u8>, Vec<u8>> =
            ImageBuffer::from_fn(w, h, |x, y| Luma([rgb.get_pixel(x, y).0[0]]));
        return DynamicImage::ImageLuma8(grey);
    }
    DynamicImage::ImageRgb8(rgb)
}

/// The printed size in millimetres of a prepared logo: as large as fits the letterhead's box.
pub fn size_mm(image: &DynamicImage) -> (f64, f64) {
    let (w, h) = image.dimensions();
    let (w, h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    let scale = (MAX_WIDTH_MM / w).min(MAX_HEIGHT_MM / h);
    (w * scale, h * scale)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba};

    /// A 240x80 RGBA logo: a green disc and bar on a transparent background.
    pub fn sample_png() -> Vec<u8> {
        let img: ImageBuffer<Rgba<u8>, Vec<u8>> = ImageBuffer::from_fn(240, 80, |x, y| {
            let (dx, dy) = (x as i32 - 40, y as i32 - 40);
            if dx * dx + dy * dy < 34 * 34 || (90..230).contains(&x) && (30..50).contains(&y) {
                Rgba([0x2e, 0x5e, 0x4e, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 240, 80, image::ColorType::Rgba8)
            .unwrap();
        png
    }

    #[test]
    fn a_logo_is_flattened_onto_white_and_fits_the_letterhead() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(sample_png());
        let logo = prepared(Some(&encoded)).unwrap();
        assert!(!logo.color().has_alpha());
        assert_eq!(logo.dimensions(), (240, 80));
        let rgb = logo.to_rgb8();
        assert_eq!(
            rgb.get_pixel(0, 0).0,
            [255, 255, 255],
            "transparent is paper white"
        );
        assert_eq!(rgb.get_pixel(40, 40).0, [0x2e, 0x5e, 0x4e]);
        let (w, h) = size_mm(&logo);
        assert!(
            (h - MAX_HEIGHT_MM).abs() < 1e-9 && w <= MAX_WIDTH_MM,
            "{w} x {h}"
        );
    }

    #[test]
    fn a_large_logo_is_scaled_down_to_print_resolution() {
        let big = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(3000, 1000, Rgb([9, 9, 200])));
        let (w, h) = fit(big.clone(), DPI).dimensions();
        assert_eq!((w, h), (564, 188));
        let (w, h) = fit(big, DPI_LARGE).dimensions();
        assert_eq!((w, h), (375, 125));
    }

    #[test]
    fn an_unusable_logo_is_none() {
        for bad in ["not base64!", "aGVsbG8=", ""] {
            assert!(prepared(Some(bad)).is_none(), "{bad}");
        }
        // A PNG header claiming 100000 x 100000 pixels is refused before decoding.
        let mut bomb = sample_png();
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let encoded = base64::engine::general_purpose::STANDARD.encode(bomb);
        assert!(prepared(Some(&encoded)).is_none());
    }
}
