//! The pieces every A4 document shares, on genpdf: the page (margins, footer with the
//! retailer's footer text and page number), the letterhead in the primary colour, address
//! blocks, and tables with right-aligned figures and quiet rules.

use super::text::{self, Words};
use super::{fonts, logo};
use dropship_core::catalogue::{Address, Branding, Locale};
use genpdf::elements::{CellDecorator, LinearLayout, PaddedElement, TableLayout};
use genpdf::error::Error;
use genpdf::render::Area;
use genpdf::style::{Color, Style};
use genpdf::{Alignment, Context, Element, Margins, Mm, Position, RenderResult, Size};
use image::DynamicImage;
use std::sync::Arc;

/// genpdf strokes every line 1 pt wide (PDF's default; it has no setting for it).
const STROKE_MM: f64 = 0.3528;
pub const GREY: Color = Color::Rgb(0x6b, 0x6b, 0x6b);
pub const RULE_GREY: Color = Color::Rgb(0xd4, 0xd4, 0xd4);

pub fn style(size: u8) -> Style {
    Style::new().with_font_size(size)
}

/// Left-aligned text in its own style (font size, weight, colour), wrapped to its column.
pub fn para(s: impl AsRef<str>, style: Style) -> Lines {
    Lines::new(s.as_ref(), style, Alignment::Left)
}

/// Right-aligned text: money and quantities.
pub fn para_right(s: impl AsRef<str>, style: Style) -> Lines {
    Lines::new(s.as_ref(), style, Alignment::Right)
}

/// Wrapped text that never loses a word. genpdf's `Paragraph` drops a word wider than its
/// column (a delivery id in a narrow column vanished); this breaks such a word between
/// characters instead. The line height follows this element's own font size. The text is
/// made printable when it is laid out, for the font it is then set in (built-in or embedded).
pub struct Lines {
    text: String,
    style: Style,
    align: Alignment,
    lines: Option<Vec<String>>,
    next: usize,
}

impl Lines {
    pub fn new(s: &str, style: Style, align: Alignment) -> Lines {
        Lines {
            text: s.to_string(),
            style,
            align,
            lines: None,
            next: 0,
        }
    }
}

impl Element for Lines {
    fn render(
        &mut self,
        ctx: &Context,
        mut area: Area<'_>,
        style: Style,
    ) -> Result<RenderResult, Error> {
        let mut style = style;
        style.merge(self.style);
        let width = f64::from(area.size().width);
        let measure = |s: &str| f64::from(style.str_width(&ctx.font_cache, s));
        let Lines { text, lines, .. } = self;
        let lines = lines.get_or_insert_with(|| {
            let printable = fonts::printable(text, style.font(&ctx.font_cache), &ctx.font_cache);
            wrap(&printable, measure, width)
        });
        let line_height = style.line_height(&ctx.font_cache);
        let mut result = RenderResult::default();
        while let Some(line) = lines.get(self.next) {
            let w = measure(line);
            let x = match self.align {
                Alignment::Left => 0.0,
                Alignment::Right => width - w,
                Alignment::Center => (width - w) / 2.0,
            };
            if !area.print_str(&ctx.font_cache, Position::new(x.max(0.0), 0), style, line)? {
                result.has_more = true;
                break;
            }
            result.size = result.size.stack_vertical(Size::new(w, line_height));
            area.add_offset(Position::new(0, line_height));
            self.next += 1;
        }
        Ok(result)
    }
}

/// Greedy word wrap to `width` as `measure` measures; explicit line breaks are kept, and a
/// word wider than a line is broken between characters.
pub fn wrap(text: &str, measure: impl Fn(&str) -> f64, width: f64) -> Vec<String> {
    let fits = |s: &str| measure(s) <= width + 0.01;
    let mut out = Vec::new();
    for paragraph in text.split('\n') {
        let mut current = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if fits(&candidate) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            for c in word.chars() {
                current.push(c);
                if !fits(&current) && current.chars().count() > 1 {
                    current.pop();
                    out.push(std::mem::replace(&mut current, c.to_string()));
                }
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// A table cell: text with room to breathe, so that columns never touch.
pub fn cell<E: Element>(e: E) -> PaddedElement<E> {
    e.padded(Margins::trbl(1.2, 1.5, 1.2, 1.5))
}

/// A boxed element as an element (genpdf implements `Element` only for concrete types).
pub struct Boxed(pub Box<dyn Element>);

impl Element for Boxed {
    fn render(
        &mut self,
        ctx: &Context,
        area: Area<'_>,
        style: Style,
    ) -> Result<RenderResult, Error> {
        self.0.render(ctx, area, style)
    }
}

/// Blank vertical space in millimetres.
pub struct Space(pub f64);

impl Element for Space {
    fn render(&mut self, _: &Context, area: Area<'_>, _: Style) -> Result<RenderResult, Error> {
        let height = Mm::from(self.0).max(Mm::from(0));
        let fits = f64::from(area.size().height) >= self.0;
        Ok(RenderResult {
            size: Size::new(0, if fits { height } else { Mm::from(0) }),
            has_more: false,
        })
    }
}

/// A solid band across the area. genpdf can only stroke 1 pt lines, so a thicker band is
/// drawn as overlapping horizontal strokes whose outer edges meet the band's edges exactly.
pub struct Band {
    pub thickness: f64,
    pub color: Color,
}

pub fn draw_band(area: &Area<'_>, top: f64, thickness: f64, width: f64, color: Color) {
    let strokes = ((thickness - STROKE_MM) / (STROKE_MM * 0.8))
        .ceil()
        .max(0.0) as usize
        + 1;
    for i in 0..strokes {
        let y = if strokes == 1 {
            top + thickness / 2.0
        } else {
            top + STROKE_MM / 2.0 + (thickness - STROKE_MM) * i as f64 / (strokes - 1) as f64
        };
        area.draw_line(
            vec![Position::new(0, y), Position::new(width, y)],
            Style::new().with_color(color),
        );
    }
}

impl Element for Band {
    fn render(&mut self, _: &Context, area: Area<'_>, _: Style) -> Result<RenderResult, Error> {
        let width = f64::from(area.size().width);
        if f64::from(area.size().height) < self.thickness {
            return Ok(RenderResult {
                size: Size::new(0, 0),
                has_more: true,
            });
        }
        draw_band(&area, 0.0, self.thickness, width, self.color);
        Ok(RenderResult {
            size: Size::new(width, self.thickness),
            has_more: false,
        })
    }
}

/// The logo, top-left in its area, at the size the letterhead allows; it reports that size,
/// so that what follows does not overlap it.
struct Logo {
    image: Arc<DynamicImage>,
}

impl Element for Logo {
    fn render(
        &mut self,
        ctx: &Context,
        area: Area<'_>,
        style: Style,
    ) -> Result<RenderResult, Error> {
        let (w, h) = logo::size_mm(&self.image);
        let (px_w, _) = image::GenericImageView::dimensions(self.image.as_ref());
        let dpi = f64::from(px_w.max(1)) * 25.4 / w;
        let mut image = genpdf::elements::Image::from_dynamic_image((*self.image).clone())?
            .with_dpi(dpi)
            .with_position(Position::new(0, 0));
        image.render(ctx, area, style)?;
        Ok(RenderResult {
            size: Size::new(w, h),
            has_more: false,
        })
    }
}

/// The letterhead: the logo (or the company name in the primary colour) on the left, the
/// retailer's address and VAT id on the right, a band in the primary colour below.
pub fn letterhead(b: &Branding, locale: Locale) -> Result<LinearLayout, Error> {
    let w = text::words(locale);
    let primary = super::color(&b.primary_color);
    let mut head = TableLayout::new(vec![3, 2]);
    let brand: Box<dyn Element> = match logo::prepared(b.logo_png_base64.as_deref()) {
        Some(image) => Box::new(Logo { image }),
        None => Box::new(para(&b.company_name, style(18).bold().with_color(primary))),
    };
    let a = &b.address;
    let mut seller = LinearLayout::vertical();
    seller.push(para_right(&b.company_name, style(8).bold()));
    for line in [
        a.street.clone(),
        format!("{} {}", a.postal_code, a.city),
        text::country(a.country.as_str(), locale),
        format!("{} {}", w.vat_id, b.vat_id),
    ] {
        seller.push(para_right(line, style(8).with_color(GREY)));
    }
    head.push_row(vec![brand, Box::new(seller)])?;
    let mut out = LinearLayout::vertical();
    out.push(head);
    out.push(Space(3.0));
    out.push(Band {
        thickness: 1.2,
        color: primary,
    });
    out.push(Space(8.0));
    Ok(out)
}

/// An address under a small grey caption; the name in bold.
pub fn address_block(caption: &str, a: &Address, locale: Locale) -> LinearLayout {
    let mut block = LinearLayout::vertical();
    block.push(para(caption, style(8).with_color(GREY)));
    block.push(Space(0.8));
    block.push(para(&a.name, style(10).bold()));
    block.push(para(&a.street, style(10)));
    block.push(para(format!("{} {}", a.postal_code, a.city), style(10)));
    block.push(para(text::country(a.country.as_str(), locale), style(10)));
    block
}

/// Label-value pairs (document number, dates, order number) as a small two-column table.
pub fn facts(rows: &[(&str, String)]) -> Result<TableLayout, Error> {
    let mut t = TableLayout::new(vec![1, 2]);
    for (label, value) in rows {
        t.row()
            .element(para(label, style(8).with_color(GREY)).padded(Margins::trbl(0.4, 1, 0.4, 0)))
            .element(para(value, style(9)).padded(Margins::trbl(0.2, 0, 0.2, 0)))
            .push()?;
    }
    Ok(t)
}

/// The document's title in the primary colour, e.g. "Rechnung Nr. 2026-000042".
pub fn title(s: &str, b: &Branding) -> Lines {
    para(
        s,
        style(15).bold().with_color(super::color(&b.primary_color)),
    )
}

/// Rules between table rows: the primary colour under the header and at the end, light grey
/// between the lines. No vertical rules: right-aligned columns read well without them.
pub struct RowRules {
    pub header: Color,
    pub rows: usize,
}

impl CellDecorator for RowRules {
    fn set_table_size(&mut self, _columns: usize, rows: usize) {
        self.rows = rows;
    }

    fn decorate_cell(&mut self, _column: usize, row: usize, _more: bool, area: Area<'_>, _: Style) {
        let color = if row == 0 || row + 1 == self.rows {
            self.header
        } else {
            RULE_GREY
        };
        let y = f64::from(area.size().height);
        area.draw_line(
            vec![Position::new(0, y), Position::new(area.size().width, y)],
            Style::new().with_color(color),
        );
    }
}

/// The page: margins, and at the bottom of every page the retailer's footer and the page
/// number above a thin rule.
pub struct Page {
    pub footer: String,
    pub words: &'static Words,
    pub page: usize,
}

impl genpdf::PageDecorator for Page {
    fn decorate_page<'a>(
        &mut self,
        ctx: &Context,
        mut area: Area<'a>,
        style: Style,
    ) -> Result<Area<'a>, Error> {
        self.page += 1;
        area.add_margins(Margins::trbl(14, 18, 10, 20));
        let footer_style = style.with_font_size(7).with_color(GREY);
        let width = f64::from(area.size().width);
        let footer = fonts::printable(
            &self.footer,
            footer_style.font(&ctx.font_cache),
            &ctx.font_cache,
        );
        let lines = wrap(
            &footer,
            |s| f64::from(footer_style.str_width(&ctx.font_cache, s)),
            width,
        )
        .len()
        .clamp(1, 6) as f64;
        let line_height = f64::from(footer_style.line_height(&ctx.font_cache));
        let footer_height = lines * line_height + 6.0;
        let body_height = f64::from(area.size().height) - footer_height;

        let mut footer_area = area.clone();
        footer_area.add_offset(Position::new(0, body_height));
        para_right(format!("{} {}", self.words.page, self.page), footer_style).render(
            ctx,
            footer_area.clone(),
            style,
        )?;
        footer_area.add_offset(Position::new(0, line_height + 1.0));
        footer_area.draw_line(
            vec![Position::new(0, 0), Position::new(width, 0)],
            Style::new().with_color(RULE_GREY),
        );
        footer_area.add_offset(Position::new(0, 1.5));
        para(&self.footer, footer_style).render(ctx, footer_area, style)?;

        area.set_height(Mm::from(body_height - 4.0));
        Ok(area)
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_character() {
        let measure = |s: &str| s.chars().count() as f64;
        assert_eq!(wrap("ab cd ef", measure, 5.0), ["ab cd", "ef"]);
        assert_eq!(wrap("DO-123456789", measure, 5.0), ["DO-12", "34567", "89"]);
        assert_eq!(
            wrap("x DO-123456789 y", measure, 5.0),
            ["x", "DO-12", "34567", "89 y"]
        );
        assert_eq!(wrap("one\ntwo  three", measure, 20.0), ["one", "two three"]);
        assert!(wrap("", measure, 5.0).is_empty());
    }
}
