//! Shipping and return labels: 4 x 6 inch (101.6 x 152.4 mm), the size of thermal label
//! printers, in black only (those printers have no colour).
//!
//! Drawn with printpdf directly rather than through genpdf: a barcode needs filled rectangles of
//! exact widths, and genpdf can only stroke 1 pt lines. Text is measured with the same fonts
//! as the A4 documents and set as there: built-in Helvetica, or an embedded subset when the
//! label prints a character outside WinAnsi.

use super::code128;
use super::fonts::Faces;
use super::text::{self, fill};
use dropship_core::catalogue::{Address, Branding, Locale};
use dropship_core::documents::{ReturnLabel, ShippingLabel};
use genpdf::fonts::{Font, FontCache};
use printpdf::{
    BuiltinFont, Color, CustomPdfConformance, IndirectFontRef, Line, PdfConformance, PdfDocument,
    PdfDocumentReference, PdfLayerReference, Point, Pt, Rgb,
};

const WIDTH: f64 = 101.6;
const HEIGHT: f64 = 152.4;
const MARGIN: f64 = 5.0;
const INNER: f64 = WIDTH - 2.0 * MARGIN;
const PT: f64 = 25.4 / 72.0;
/// Helvetica's ascender (718/1000) rounded up for accents: where the baseline sits below a
/// line's top.
const ASCENT: f64 = 0.80;
const LINE: f64 = 1.18;

/// One label page: printpdf for drawing, genpdf's font cache for measuring.
struct Canvas {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    metrics: FontCache,
    embedded: bool,
    regular_metrics: Font,
    bold_metrics: Font,
}

impl Canvas {
    /// A label page whose data prints `texts`.
    fn new<'a>(title: &str, texts: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Self> {
        let faces = super::fonts::Faces::for_texts(texts)?;
        let (doc, page, layer) = PdfDocument::new(
            text::printable(title),
            printpdf::Mm(WIDTH),
            printpdf::Mm(HEIGHT),
            "Label",
        );
        // As for the A4 documents: no ICC profile and XMP packet, which would be most of the file.
        let doc = doc.with_conformance(PdfConformance::Custom(CustomPdfConformance {
            requires_icc_profile: false,
            requires_xmp_metadata: false,
            ..Default::default()
        }));
        let (regular, bold) = match &faces {
            Faces::BuiltIn => (
                doc.add_builtin_font(BuiltinFont::Helvetica)
                    .map_err(|e| anyhow::anyhow!("adding Helvetica: {e}"))?,
                doc.add_builtin_font(BuiltinFont::HelveticaBold)
                    .map_err(|e| anyhow::anyhow!("adding Helvetica Bold: {e}"))?,
            ),
            Faces::Embedded { regular, bold } => (
                doc.add_external_font(regular.as_slice())
                    .map_err(|e| anyhow::anyhow!("embedding the label font: {e}"))?,
                doc.add_external_font(bold.as_slice())
                    .map_err(|e| anyhow::anyhow!("embedding the label font: {e}"))?,
            ),
        };
        let layer = doc.get_page(page).get_layer(layer);
        let metrics = FontCache::new(faces.family()?);
        let family = metrics.default_font_family();
        Ok(Canvas {
            doc,
            layer,
            regular,
            bold,
            embedded: matches!(faces, Faces::Embedded { .. }),
            regular_metrics: family.regular,
            bold_metrics: family.bold,
            metrics,
        })
    }

    fn metrics_font(&self, bold: bool) -> Font {
        if bold {
            self.bold_metrics
        } else {
            self.regular_metrics
        }
    }

    fn width(&self, s: &str, size: u8, bold: bool) -> f64 {
        f64::from(self.metrics_font(bold).str_width(&self.metrics, s, size))
    }

    /// `s` as the label's regular or bold font can print it.
    fn printable(&self, s: &str, bold: bool) -> String {
        super::fonts::printable(s, self.metrics_font(bold), &self.metrics)
    }

    /// One line of text with its top at `top` (mm from the page's top); returns the next top.
    fn text(&self, s: &str, x: f64, top: f64, size: u8, bold: bool) -> f64 {
        let size_mm = f64::from(size) * PT;
        let font = if bold { &self.bold } else { &self.regular };
        let baseline = HEIGHT - top - size_mm * ASCENT;
        self.layer.use_text(
            self.printable(s, bold).replace('\n', " "),
            f64::from(size),
            printpdf::Mm(x),
            printpdf::Mm(baseline),
            font,
        );
        top + size_mm * LINE
    }

    fn text_centered(&self, s: &str, top: f64, size: u8, bold: bool) -> f64 {
        let s = self.printable(s, bold);
        let x = (WIDTH - self.width(&s, size, bold)) / 2.0;
        self.text(&s, x.max(MARGIN), top, size, bold)
    }

    /// Text as large as fits `width` between `max` and `min` points; at `min` it wraps onto at
    /// most `max_lines` lines, the last one shortened with an ellipsis. Returns the next top.
    fn fitted(
        &self,
        s: &str,
        x: f64,
        top: f64,
        sizes: (u8, u8),
        bold: bool,
        max_lines: usize,
    ) -> f64 {
        let s = self.printable(s, bold);
        let (max, min) = sizes;
        for size in (min..=max).rev() {
            if self.width(&s, size, bold) <= INNER + MARGIN - x {
                return self.text(&s, x, top, size, bold);
            }
        }
        let mut top = top;
        for line in self.wrap(&s, min, bold, INNER + MARGIN - x, max_lines) {
            top = self.text(&line, x, top, min, bold);
        }
        top
    }

    /// Greedy word wrap; words longer than a line are cut, and what does not fit into
    /// `max_lines` ends in "…".
    fn wrap(&self, s: &str, size: u8, bold: bool, width: f64, max_lines: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in s.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if self.width(&candidate, size, bold) <= width || current.is_empty() {
                current = candidate;
            } else {
                lines.push(std::mem::replace(&mut current, word.to_string()));
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        if lines.is_empty() {
            return lines;
        }
        let truncated = lines.len() > max_lines;
        lines.truncate(max_lines.max(1));
        let last = lines.len() - 1;
        for (i, line) in lines.iter_mut().enumerate() {
            let must_end = truncated && i == last;
            if must_end || self.width(line, size, bold) > width {
                while !line.is_empty() && self.width(&format!("{line}…"), size, bold) > width {
                    line.pop();
                }
                line.push('…');
            }
        }
        lines
    }

    fn rect(&self, x: f64, top: f64, w: f64, h: f64) {
        let p = |x: f64, y: f64| {
            (
                Point {
                    x: Pt(x / PT),
                    y: Pt((HEIGHT - y) / PT),
                },
                false,
            )
        };
        self.layer.add_shape(Line {
            points: vec![p(x, top), p(x + w, top), p(x + w, top + h), p(x, top + h)],
            is_closed: true,
            has_fill: true,
            has_stroke: false,
            is_clipping_path: false,
        });
    }

    fn rule(&self, top: f64) {
        self.rect(MARGIN, top, INNER, 0.5);
    }

    /// The barcode centred across the label, with quiet zones; returns its bottom.
    fn barcode(&self, data: &str, top: f64, height: f64) -> anyhow::Result<f64> {
        let widths = code128::widths(data)?;
        let modules: u32 = widths.iter().map(|&w| u32::from(w)).sum();
        // Quiet zones may reach into the margins (they are blank), not beyond 2 mm from the edge.
        let available = WIDTH - 4.0;
        let mut module = available / f64::from(modules + 2 * code128::QUIET_ZONE);
        // Thermal label printers print 203 dpi: 0.125 mm dots. A module of whole dots keeps every
        // bar its exact width; 0.5 mm is plenty for any scanner.
        if module >= 0.25 {
            module = ((module / 0.125).floor() * 0.125).min(0.5);
        }
        let mut x = (WIDTH - module * f64::from(modules)) / 2.0;
        for (i, &w) in widths.iter().enumerate() {
            let width = f64::from(w) * module;
            if i % 2 == 0 {
                self.rect(x, top, width, height);
            }
            x += width;
        }
        Ok(top + height)
    }

    /// An address block: caption, then the lines, the name and the town largest.
    fn address(&self, a: &Address, top: f64, sizes: [u8; 3], locale: Locale) -> f64 {
        let [name, street, town] = sizes;
        let mut y = self.fitted(&a.name, MARGIN, top, (name, 9), true, 2);
        y = self.fitted(&a.street, MARGIN, y, (street, 8), false, 2);
        y = self.fitted(
            &format!("{} {}", a.postal_code, a.city),
            MARGIN,
            y,
            (town, 9),
            true,
            2,
        );
        self.fitted(
            &text::country(a.country.as_str(), locale).to_uppercase(),
            MARGIN,
            y,
            (street, 8),
            true,
            1,
        )
    }

    fn finish(self) -> anyhow::Result<Vec<u8>> {
        let mut out = std::io::BufWriter::new(Vec::new());
        self.doc
            .save(&mut out)
            .map_err(|e| anyhow::anyhow!("writing the label: {e}"))?;
        let out = out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing the label: {e}"))?;
        if self.embedded {
            super::fonts::compress_streams(&out)
        } else {
            Ok(out)
        }
    }
}

/// A small sender block at the top left: caption, name bold, then the address lines.
fn sender_block(c: &Canvas, caption: &str, name: &str, a: &Address, locale: Locale) -> f64 {
    let mut y = c.text(caption, MARGIN, MARGIN, 7, false);
    y = c.fitted(name, MARGIN, y, (9, 7), true, 1);
    y = c.fitted(&a.street, MARGIN, y, (8, 7), false, 1);
    y = c.fitted(
        &format!("{} {}", a.postal_code, a.city),
        MARGIN,
        y,
        (8, 7),
        false,
        1,
    );
    c.fitted(
        &text::country(a.country.as_str(), locale),
        MARGIN,
        y,
        (8, 7),
        false,
        1,
    )
}

/// The parcel's label: the retailer as sender, the ship-to address large, the delivery order
/// id as Code 128 with its text, the order number and the number of units.
pub fn shipping_label(branding: &Branding, label: &ShippingLabel) -> anyhow::Result<Vec<u8>> {
    // The label's data names the sender; the branding names the file (a thermal label has no
    // colours to brand).
    let locale = label.locale;
    let w = text::words(locale);
    let data = super::address_texts(&label.sender)
        .into_iter()
        .chain(super::address_texts(&label.ship_to))
        .chain([
            label.sender_name.as_str(),
            &label.barcode,
            &label.order_external_id,
        ]);
    let c = Canvas::new(
        &format!("{} {} {}", branding.company_name, w.ship_to, label.barcode),
        data,
    )?;

    let y = sender_block(&c, w.from, &label.sender_name, &label.sender, locale);
    let y = y.max(30.0) + 2.0;
    c.rule(y);
    let y = c.text(w.to, MARGIN, y + 3.0, 8, false) + 1.0;
    let y = c.address(&label.ship_to, y, [18, 15, 20], locale);
    let y = y.max(82.0) + 2.0;
    c.rule(y);

    let bottom = c.barcode(&label.barcode, y + 6.0, 26.0)?;
    c.text_centered(&label.barcode, bottom + 2.0, 11, false);
    c.rule(HEIGHT - 25.0);
    let y = c.text(w.order, MARGIN, HEIGHT - 21.0, 8, false);
    c.fitted(&label.order_external_id, MARGIN, y, (14, 9), true, 1);
    let units = label.units.to_string();
    let units_x = WIDTH - MARGIN - c.width(w.units, 8, false).max(c.width(&units, 14, true));
    let y = c.text(w.units, units_x, HEIGHT - 21.0, 8, false);
    c.text(&units, units_x, y, 14, true);
    c.finish()
}

/// The customer's return label: the customer as sender, the retailer's name over the return
/// address, the return id as Code 128, what to put in the parcel and how to send it.
pub fn return_label(branding: &Branding, label: &ReturnLabel) -> anyhow::Result<Vec<u8>> {
    let locale = label.locale;
    let w = text::words(locale);
    let data = super::address_texts(&label.sender)
        .into_iter()
        .chain(super::address_texts(&label.recipient))
        .chain([
            label.recipient_name.as_str(),
            &label.barcode,
            &label.order_external_id,
        ])
        .chain(label.lines.iter().map(|(name, _)| name.as_str()));
    let c = Canvas::new(
        &format!(
            "{} {} {}",
            branding.company_name, w.return_title, label.barcode
        ),
        data,
    )?;

    let y = sender_block(&c, w.from, &label.sender.name, &label.sender, locale);
    // "RETOURE" white on black at the top right, to be seen from across the counter.
    let title_width = c.width(w.return_title, 16, true) + 6.0;
    c.rect(WIDTH - MARGIN - title_width, MARGIN, title_width, 10.0);
    c.layer
        .set_fill_color(Color::Rgb(Rgb::new(1.0, 1.0, 1.0, None)));
    c.text(
        w.return_title,
        WIDTH - MARGIN - title_width + 3.0,
        MARGIN + 2.2,
        16,
        true,
    );
    c.layer
        .set_fill_color(Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)));

    let y = y.max(30.0) + 2.0;
    c.rule(y);
    let y = c.text(w.to, MARGIN, y + 3.0, 8, false) + 1.0;
    let y = c.fitted(&label.recipient_name, MARGIN, y, (18, 9), true, 2);
    // The recipient is the retailer's name over the return address; the address's own name
    // line is never printed, so no fulfiller's name can reach the parcel.
    let address = &label.recipient;
    let y = c.fitted(&address.street, MARGIN, y, (15, 8), false, 2);
    let y = c.fitted(
        &format!("{} {}", address.postal_code, address.city),
        MARGIN,
        y,
        (20, 9),
        true,
        2,
    );
    let y = c.fitted(
        &text::country(address.country.as_str(), locale).to_uppercase(),
        MARGIN,
        y,
        (15, 8),
        true,
        1,
    );
    let y = y.max(76.0) + 2.0;
    c.rule(y);

    let bottom = c.barcode(&label.barcode, y + 5.0, 20.0)?;
    let y = c.text_centered(&label.barcode, bottom + 1.5, 10, false);
    let y = c.text(
        &format!("{} {}", w.order, label.order_external_id),
        MARGIN,
        y + 1.5,
        8,
        false,
    );
    let y = y + 1.0;
    c.rule(y);

    // What goes in the parcel, as many lines as fit above the instruction.
    let mut y = c.text(w.return_contents, MARGIN, y + 2.5, 8, true);
    let instruction = c.wrap(w.return_instruction, 7, false, INNER, 5);
    let instruction_top = HEIGHT - MARGIN - instruction.len() as f64 * 7.0 * PT * LINE;
    let room = ((instruction_top - 2.0 - y) / (8.0 * PT * LINE))
        .floor()
        .max(1.0) as usize;
    let shown = if label.lines.len() > room {
        room - 1
    } else {
        label.lines.len()
    };
    for (name, quantity) in &label.lines[..shown] {
        y = c.fitted(
            &format!("{quantity} × {name}"),
            MARGIN + 2.0,
            y,
            (8, 8),
            false,
            1,
        );
    }
    if shown < label.lines.len() {
        c.text(
            &fill(w.more_articles, label.lines.len() - shown),
            MARGIN + 2.0,
            y,
            8,
            false,
        );
    }
    let mut y = instruction_top;
    for line in &instruction {
        y = c.text(line, MARGIN, y, 7, false);
    }
    c.finish()
}
