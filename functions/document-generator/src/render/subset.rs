//! Cuts a TrueType font down to the characters one document prints, so that a document with a
//! name outside WinAnsi embeds a few kilobytes of font instead of the whole 400 KB file.
//!
//! Built here rather than with a subsetting crate because genpdf and printpdf 0.3 read the
//! embedded font's own `cmap` to map characters to glyphs (for measuring and for the text's
//! glyph ids), and the PDF-oriented subsetters (`subsetter`) drop the `cmap`. The subset is a
//! complete, small TrueType font: `cmap` (format 4), `head`, `hhea`, `hmtx`, `maxp`, `loca`,
//! `glyf`, `post` (format 3), `OS/2` and `name` (the copyright and licence notices stay).
//! Hinting (`fpgm`, `prep`, `cvt `, glyph instructions) and layout tables (`GPOS`, `GSUB`,
//! `kern`) are left out: PDF viewers scale outlines without them, and the built-in path's
//! metrics font has no kerning either, so both paths lay text out alike.
//!
//! Every character gets a glyph of its own, even where the font shares one glyph between two
//! characters (a space and a no-break space): printpdf writes the PDF's `ToUnicode` map from
//! glyph to one character, so a shared glyph would extract as the wrong character.

use anyhow::{anyhow, bail, Context as _};
use std::collections::{BTreeSet, HashMap};
use ttf_parser::{Face, GlyphId, Tag};

/// What a character the font does not have is printed as (when the font has this one).
pub const REPLACEMENT: char = '\u{fffd}';

pub struct Subset {
    /// The subset font file.
    pub font: Vec<u8>,
    /// The characters asked for that the font has no glyph for (they are not in the subset).
    pub missing: Vec<char>,
}

/// The subset of `font` with a glyph for each of `chars` it has. When one is missing, the
/// replacement character is added, so that the document can print that in its place.
pub fn subset(font: &[u8], chars: &BTreeSet<char>) -> anyhow::Result<Subset> {
    let face = Face::parse(font, 0).context("reading the document font")?;
    let raw = face.raw_face();
    let table = |tag: &[u8; 4]| {
        raw.table(Tag::from_bytes(tag))
            .ok_or_else(|| anyhow!("the document font has no {} table", tag.escape_ascii()))
    };
    let (head, hhea, maxp, loca, glyf) = (
        table(b"head")?,
        table(b"hhea")?,
        table(b"maxp")?,
        table(b"loca")?,
        table(b"glyf")?,
    );
    if head.len() < 54 || hhea.len() < 36 || maxp.len() < 6 {
        bail!("the document font's head, hhea or maxp table is too short");
    }
    let long_offsets = be16(head, 50)? == 1;
    let glyph_data = |gid: u16| -> anyhow::Result<&[u8]> {
        let i = usize::from(gid);
        let (start, end) = if long_offsets {
            (be32(loca, 4 * i)? as usize, be32(loca, 4 * i + 4)? as usize)
        } else {
            (
                usize::from(be16(loca, 2 * i)?) * 2,
                usize::from(be16(loca, 2 * i + 2)?) * 2,
            )
        };
        glyf.get(start..end)
            .ok_or_else(|| anyhow!("glyph {gid} lies outside the glyf table"))
    };

    // The subset's glyphs by their original ids: .notdef first, then one per character (in
    // character order, so that the cmap is a few ranges), then the parts of composite glyphs.
    let mut originals: Vec<u16> = vec![0];
    let mut mapped: Vec<(char, u16)> = Vec::new();
    let mut missing = Vec::new();
    let has = |c: char| {
        face.glyph_index(c)
            .filter(|g| g.0 != 0 && u32::from(c) <= 0xffff)
    };
    for &c in chars {
        match has(c) {
            Some(g) => {
                mapped.push((c, new_id(originals.len())?));
                originals.push(g.0);
            }
            None => missing.push(c),
        }
    }
    if !missing.is_empty() && !chars.contains(&REPLACEMENT) {
        if let Some(g) = has(REPLACEMENT) {
            let at = mapped.partition_point(|(c, _)| *c < REPLACEMENT);
            mapped.insert(at, (REPLACEMENT, new_id(originals.len())?));
            originals.push(g.0);
        }
    }
    let mut first_new: HashMap<u16, u16> = HashMap::new();
    for (new, &original) in originals.iter().enumerate() {
        first_new.entry(original).or_insert(new_id(new)?);
    }
    let mut i = 0;
    while i < originals.len() {
        for (_, part) in components(glyph_data(originals[i])?)? {
            if let std::collections::hash_map::Entry::Vacant(e) = first_new.entry(part) {
                e.insert(new_id(originals.len())?);
                originals.push(part);
            }
        }
        i += 1;
    }
    let count = new_id(originals.len())?;

    let mut new_glyf = Vec::new();
    let mut new_loca = Vec::with_capacity(4 * (originals.len() + 1));
    let mut new_hmtx = Vec::with_capacity(4 * originals.len());
    for &original in &originals {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        new_glyf.extend(without_instructions(glyph_data(original)?, &first_new)?);
        while new_glyf.len() % 4 != 0 {
            new_glyf.push(0);
        }
        let id = GlyphId(original);
        new_hmtx.extend_from_slice(&face.glyph_hor_advance(id).unwrap_or(0).to_be_bytes());
        new_hmtx.extend_from_slice(&face.glyph_hor_side_bearing(id).unwrap_or(0).to_be_bytes());
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());

    let mut new_head = head.to_vec();
    new_head[8..12].copy_from_slice(&[0; 4]); // checkSumAdjustment, set last
    new_head[50..52].copy_from_slice(&1u16.to_be_bytes()); // 32-bit loca offsets
    let mut new_hhea = hhea.to_vec();
    new_hhea[34..36].copy_from_slice(&count.to_be_bytes()); // numberOfHMetrics
    let mut new_maxp = maxp.to_vec();
    new_maxp[4..6].copy_from_slice(&count.to_be_bytes()); // numGlyphs

    let mut tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"cmap", cmap(&mapped)),
        (*b"glyf", new_glyf),
        (*b"head", new_head),
        (*b"hhea", new_hhea),
        (*b"hmtx", new_hmtx),
        (*b"loca", new_loca),
        (*b"maxp", new_maxp),
    ];
    if let Some(post) = raw
        .table(Tag::from_bytes(b"post"))
        .and_then(|p| p.get(..32))
    {
        // Format 3: no glyph names (they would be most of the table).
        let mut post = post.to_vec();
        post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
        tables.push((*b"post", post));
    }
    for tag in [b"OS/2", b"name"] {
        if let Some(t) = raw.table(Tag::from_bytes(tag)) {
            tables.push((*tag, t.to_vec()));
        }
    }
    Ok(Subset {
        font: assemble(tables),
        missing,
    })
}

fn new_id(n: usize) -> anyhow::Result<u16> {
    u16::try_from(n).map_err(|_| anyhow!("a document needs more than 65535 glyphs"))
}

fn be16(data: &[u8], at: usize) -> anyhow::Result<u16> {
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| anyhow!("the document font ends early"))
}

fn be32(data: &[u8], at: usize) -> anyhow::Result<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| anyhow!("the document font ends early"))
}

const ARGS_ARE_WORDS: u16 = 0x0001;
const HAS_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const HAS_XY_SCALE: u16 = 0x0040;
const HAS_2X2: u16 = 0x0080;
const HAS_INSTRUCTIONS: u16 = 0x0100;

/// The parts of a composite glyph: where each part's glyph id sits, and the id. Empty for a
/// simple (or empty) glyph.
fn components(glyph: &[u8]) -> anyhow::Result<Vec<(usize, u16)>> {
    if glyph.len() < 10 || (be16(glyph, 0)? as i16) >= 0 {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut at = 10;
    loop {
        let flags = be16(glyph, at)?;
        parts.push((at + 2, be16(glyph, at + 2)?));
        at += 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & HAS_SCALE != 0 {
            2
        } else if flags & HAS_XY_SCALE != 0 {
            4
        } else if flags & HAS_2X2 != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            return Ok(parts);
        }
    }
}

/// A glyph without its hinting instructions; a composite glyph's parts renumbered.
fn without_instructions(glyph: &[u8], first_new: &HashMap<u16, u16>) -> anyhow::Result<Vec<u8>> {
    if glyph.len() < 10 {
        return Ok(Vec::new());
    }
    let contours = be16(glyph, 0)? as i16;
    if contours >= 0 {
        // header, endPtsOfContours, instructionLength, instructions, flags and coordinates
        let at = 10 + 2 * contours as usize;
        let instructions = usize::from(be16(glyph, at)?);
        let rest = glyph
            .get(at + 2 + instructions..)
            .ok_or_else(|| anyhow!("a glyph ends inside its instructions"))?;
        let mut out = Vec::with_capacity(at + 2 + rest.len());
        out.extend_from_slice(&glyph[..at]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
        return Ok(out);
    }
    let parts = components(glyph)?;
    let end = match parts.last() {
        // The last part's record ends where the instructions (if any) begin.
        Some(_) => composite_end(glyph)?,
        None => glyph.len(),
    };
    let mut out = glyph[..end].to_vec();
    for (at, original) in parts {
        let new = first_new
            .get(&original)
            .ok_or_else(|| anyhow!("a glyph part {original} was not taken into the subset"))?;
        out[at..at + 2].copy_from_slice(&new.to_be_bytes());
        let flags_at = at - 2;
        let flags = be16(&out, flags_at)? & !HAS_INSTRUCTIONS;
        out[flags_at..flags_at + 2].copy_from_slice(&flags.to_be_bytes());
    }
    Ok(out)
}

/// Where a composite glyph's part records end.
fn composite_end(glyph: &[u8]) -> anyhow::Result<usize> {
    let parts = components(glyph)?;
    let Some(&(last_id_at, _)) = parts.last() else {
        return Ok(glyph.len());
    };
    let at = last_id_at - 2;
    let flags = be16(glyph, at)?;
    let mut end = at + 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
    end += if flags & HAS_SCALE != 0 {
        2
    } else if flags & HAS_XY_SCALE != 0 {
        4
    } else if flags & HAS_2X2 != 0 {
        8
    } else {
        0
    };
    if end > glyph.len() {
        bail!("a composite glyph ends early");
    }
    Ok(end)
}

/// A cmap with one Windows Unicode BMP subtable (format 4), ranges of consecutive characters
/// with consecutive glyph ids merged into one segment each.
fn cmap(mapped: &[(char, u16)]) -> Vec<u8> {
    let mut segments: Vec<(u16, u16, u16)> = Vec::new(); // start, end, first glyph
    for &(c, gid) in mapped {
        let c = c as u16; // only BMP characters are mapped
        match segments.last_mut() {
            Some((start, end, first))
                if u32::from(*end) + 1 == u32::from(c) && *first + (c - *start) == gid =>
            {
                *end = c;
            }
            _ => segments.push((c, c, gid)),
        }
    }
    segments.push((0xffff, 0xffff, 0)); // the required last segment
    let n = segments.len() as u16;
    let search_range = 2 * (1u16 << (15 - n.leading_zeros()));
    let mut sub = Vec::new();
    let length = 16 + 8 * n;
    for v in [
        4,
        length,
        0,
        2 * n,
        search_range,
        search_range.trailing_zeros() as u16 - 1,
        2 * n - search_range,
    ] {
        sub.extend_from_slice(&v.to_be_bytes());
    }
    for (_, end, _) in &segments {
        sub.extend_from_slice(&end.to_be_bytes());
    }
    sub.extend_from_slice(&[0, 0]); // reservedPad
    for (start, _, _) in &segments {
        sub.extend_from_slice(&start.to_be_bytes());
    }
    for (start, _, first) in &segments {
        // idDelta: glyph = character + delta (mod 65536); the last segment maps to .notdef.
        let delta = if *start == 0xffff {
            1
        } else {
            first.wrapping_sub(*start)
        };
        sub.extend_from_slice(&delta.to_be_bytes());
    }
    for _ in &segments {
        sub.extend_from_slice(&[0, 0]); // idRangeOffset
    }
    let mut out = Vec::with_capacity(12 + sub.len());
    for v in [0u16, 1, 3, 1] {
        out.extend_from_slice(&v.to_be_bytes()); // version, one subtable, Windows, Unicode BMP
    }
    out.extend_from_slice(&12u32.to_be_bytes());
    out.extend(sub);
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// The font file: the table directory (tables sorted by tag), the tables 4-byte aligned, and
/// head's checkSumAdjustment.
fn assemble(mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|t| t.0);
    let n = tables.len() as u16;
    let search_range = 16 * (1u16 << (15 - n.leading_zeros()));
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [
        n,
        search_range,
        (search_range / 16).trailing_zeros() as u16,
        16 * n - search_range,
    ] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(at) = head_at {
        let adjustment = 0xb1b0_afbau32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    static REGULAR: &[u8] = include_bytes!("../../fonts/LiberationSans-Regular.ttf");

    #[test]
    fn a_subset_has_just_the_asked_characters_with_their_widths() {
        let chars: BTreeSet<char> = "Łódź Gödöllő Ș ÅÅ".chars().collect();
        let s = subset(REGULAR, &chars).unwrap();
        assert!(s.missing.is_empty());
        assert!(s.font.len() < 8_000, "{} bytes", s.font.len());
        let full = Face::parse(REGULAR, 0).unwrap();
        let sub = Face::parse(&s.font, 0).unwrap();
        // .notdef, one glyph per character, and the parts of the composite ones.
        assert!(usize::from(sub.number_of_glyphs()) > chars.len());
        for c in chars {
            let g = sub.glyph_index(c).unwrap();
            assert_eq!(
                sub.glyph_hor_advance(g),
                full.glyph_hor_advance(full.glyph_index(c).unwrap()),
                "{c}"
            );
            assert!(sub.outline_glyph(g, &mut Outline).is_some() || c == ' ');
        }
        assert!(sub.glyph_index('x').is_none());
        // genpdf measures with rusttype: it reads the subset too.
        assert!(genpdf::fonts::FontData::new(s.font.clone(), None).is_ok());
    }

    #[test]
    fn a_missing_character_is_reported() {
        let chars: BTreeSet<char> = "A東".chars().collect();
        let s = subset(REGULAR, &chars).unwrap();
        assert_eq!(s.missing, ['東']);
        let sub = Face::parse(&s.font, 0).unwrap();
        assert!(sub.glyph_index('A').is_some());
        // Liberation Sans has no U+FFFD: such a character prints as "?" (see text.rs).
        assert!(sub.glyph_index(REPLACEMENT).is_none());
    }

    struct Outline;
    impl ttf_parser::OutlineBuilder for Outline {
        fn move_to(&mut self, _: f32, _: f32) {}
        fn line_to(&mut self, _: f32, _: f32) {}
        fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {}
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {}
        fn close(&mut self) {}
    }
}
