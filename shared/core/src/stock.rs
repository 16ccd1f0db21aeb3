//! Stock counts reported by a fulfiller: validated as a whole before any is applied.

use crate::ids::{FulfillerId, Sku};
use crate::input::{self, Fields, Lax, List};
use crate::ApiError;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

pub mod shards;

pub const MAX_ITEMS: usize = 1000;
pub const MAX_AVAILABLE: u64 = 1_000_000_000;

/// Units of one sku: shipped, released, restocked or moved by a reroute.
#[derive(Clone, PartialEq, Eq)]
pub struct SkuUnits {
    pub sku: Sku,
    pub units: u32,
}

debug_as_tuple!(SkuUnits, sku, units);

/// Units of one (fulfiller, sku): a reservation, or a release, consumption or restock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub fulfiller_id: FulfillerId,
    pub sku: Sku,
    /// The item of a sharded sku's stock the units move on (`shards`); 0, the sku's one item,
    /// for all but a sharded sku's reservations.
    pub shard: u16,
    pub quantity: u32,
}

impl StockMove {
    /// Moves of one fulfiller's stock.
    pub fn at<'a>(
        fulfiller_id: &FulfillerId,
        units: impl IntoIterator<Item = &'a SkuUnits>,
    ) -> Vec<StockMove> {
        units
            .into_iter()
            .map(|u| StockMove {
                fulfiller_id: fulfiller_id.clone(),
                sku: u.sku.clone(),
                shard: 0,
                quantity: u.units,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCount {
    pub sku: Sku,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockUpdate {
    pub as_of: DateTime<Utc>,
    pub items: Vec<StockCount>,
}

/// A stock update's body as serde reads it (`StockUpdate::parse` checks it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockUpdateInput {
    as_of: Option<Lax<String>>,
    #[serde(default)]
    items: List<Fields<StockCountInput>>,
}

#[derive(Deserialize)]
struct StockCountInput {
    #[serde(default)]
    sku: Lax<String>,
    #[serde(default)]
    available: Lax<u64>,
}

impl StockUpdate {
    /// `{asOf?, items: [{sku, available}]}`; `asOf` defaults to `now` and may not lie in the
    /// future (a minute of clock skew is tolerated).
    pub fn parse(v: &Value, now: DateTime<Utc>) -> Result<Self, ApiError> {
        let Fields(update) = input::read::<Fields<StockUpdateInput>>(v)?;
        let as_of =
            input::time("asOf", update.as_of, "asOf must be an RFC 3339 timestamp")?.unwrap_or(now);
        if as_of > now + Duration::minutes(1) {
            return Err(ApiError::invalid("asOf", "asOf lies in the future"));
        }
        let raw = update
            .items
            .0
            .ok_or_else(|| ApiError::invalid("items", "items must be an array"))?;
        if raw.is_empty() || raw.len() > MAX_ITEMS {
            return Err(ApiError::invalid(
                "items",
                format!("items must hold 1..{MAX_ITEMS} counts"),
            ));
        }
        let mut items: Vec<StockCount> = Vec::with_capacity(raw.len());
        for (i, Fields(item)) in raw.into_iter().enumerate() {
            let sku = item
                .sku
                .0
                .ok_or_else(|| ApiError::required(format!("items[{i}].sku"), "sku is required"))?;
            let sku = Sku::parse(&format!("items[{i}].sku"), sku)?;
            if items.iter().any(|c| c.sku == sku) {
                return Err(ApiError::invalid(
                    format!("items[{i}].sku"),
                    format!("sku {sku} appears twice"),
                ));
            }
            let available = item
                .available
                .0
                .filter(|a| *a <= MAX_AVAILABLE)
                .and_then(|a| u32::try_from(a).ok())
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("items[{i}].available"),
                        "available must be an integer 0..1000000000",
                    )
                })?;
            items.push(StockCount { sku, available });
        }
        Ok(StockUpdate { as_of, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::refused;
    use serde_json::json;

    #[test]
    fn moved_units_are_logged_as_the_pairs_they_were() {
        let units = SkuUnits {
            sku: Sku::try_from("A").unwrap(),
            units: 2,
        };
        assert_eq!(format!("{:?}", [units]), r#"[("A", 2)]"#);
    }

    #[test]
    fn validates_everything_before_anything_is_applied() {
        let now = Utc::now();
        let u = StockUpdate::parse(&json!({"items": [{"sku": "A", "available": 3}]}), now).unwrap();
        assert_eq!((u.as_of, u.items.len()), (now, 1));
        for (body, field) in [
            (json!({"items": []}), "items"),
            (
                json!({"items": [{"sku": "A", "available": -1}]}),
                "items[0].available",
            ),
            (
                json!({"items": [{"sku": "A", "available": 1.5}]}),
                "items[0].available",
            ),
            (
                json!({"items": [{"sku": "A", "available": 1}, {"sku": "A", "available": 2}]}),
                "items[1].sku",
            ),
            (
                json!({"items": [{"sku": "a b", "available": 1}]}),
                "items[0].sku",
            ),
            (
                json!({"asOf": "2999-01-01T00:00:00Z", "items": [{"sku": "A", "available": 1}]}),
                "asOf",
            ),
        ] {
            assert_eq!(
                StockUpdate::parse(&body, now).unwrap_err().field.as_deref(),
                Some(field),
                "{body}"
            );
        }
    }
    #[test]
    fn a_stock_update_is_refused_in_the_words_of_before() {
        let now = Utc::now();
        let item = |i: Value| json!({"items": [{"sku": "A", "available": 1}, i]});
        for (body, field, message) in [
            (
                json!({"asOf": 5, "items": []}),
                "asOf",
                "asOf must be an RFC 3339 timestamp",
            ),
            (json!({"items": {}}), "items", "items must be an array"),
            (json!("x"), "items", "items must be an array"),
            (
                json!({"items": []}),
                "items",
                "items must hold 1..1000 counts",
            ),
            (
                item(json!({"available": 1})),
                "items[1].sku",
                "sku is required",
            ),
            (
                item(json!({"sku": "A", "available": 1})),
                "items[1].sku",
                "sku A appears twice",
            ),
            (
                item(json!({"sku": "B", "available": -1})),
                "items[1].available",
                "available must be an integer 0..1000000000",
            ),
            (
                item(json!({"sku": "B", "available": 1000000001})),
                "items[1].available",
                "available must be an integer 0..1000000000",
            ),
        ] {
            assert_eq!(
                refused(StockUpdate::parse(&body, now)),
                (field.into(), message.into()),
                "{body}"
            );
        }
        let u =
            StockUpdate::parse(&item(json!({"sku": "B", "available": 1000000000})), now).unwrap();
        assert_eq!(u.items[1].available, 1_000_000_000);
    }
}

/// A CSV row the feed could not use, with its physical line number in the file (1 = header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// A stock feed read as a whole: the counts to apply and the rows refused, each with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Feed {
    /// One count per sku: when a sku appears on several rows, the last good row wins (a feed
    /// is a snapshot of the shelf, and the bottom of a sheet is what was typed last).
    pub counts: Vec<StockCount>,
    pub refused: Vec<BadRow>,
}

/// How much of an offending value a row error quotes: enough to recognise it, never a whole
/// pasted paragraph in a mail.
const QUOTED_CHARS: usize = 40;

/// Parses a stock feed as spreadsheets export it: a header `sku,available` (names in any case,
/// quoted or not), fields separated by `,` or, as German Excel writes them, `;` (whichever the
/// header uses), quoted fields, CRLF or LF, spaces around fields. The bytes are UTF-8 (a BOM is
/// dropped) or, when they are not valid UTF-8, Windows-1252 (Excel's "CSV" on a German
/// Windows); a UTF-16 file with its BOM is read too. Good rows are returned to be applied, bad
/// rows with their physical line numbers (a quoted field spanning lines does not shift them).
/// `Err` only when the file as a whole cannot be a feed (no header).
pub fn parse_feed(bytes: &[u8]) -> Result<Feed, String> {
    let text = decode_feed(bytes);
    let header_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or("the file is empty")?;
    // Only the header decides: a count may legitimately contain neither separator.
    let delimiter = if header_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h.iter().map(clean_field).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    if !(header.len() == 2
        && header[0].eq_ignore_ascii_case("sku")
        && header[1].eq_ignore_ascii_case("available"))
    {
        return Err(format!(
            "the first line must be the header sku,available (or sku;available); found {}",
            quote(header_line.trim())
        ));
    }
    let sep = delimiter as char;
    // The reader's own line count skips blank lines; the fulfiller's editor does not.
    let line_of = physical_lines(&text);
    let last_line = line_of(text.trim_end().len().saturating_sub(1) as u64);
    let mut feed = Feed::default();
    // sku -> index in feed.counts, so a 100 000-row feed stays linear.
    let mut index: std::collections::HashMap<Sku, usize> = std::collections::HashMap::new();
    for record in records {
        // The reader works on decoded text, so a record can only fail on I/O, which a slice
        // does not have; a failure is still reported as a row rather than dropped.
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                feed.refused.push(BadRow {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        let fields: Vec<String> = record.iter().map(clean_field).collect();
        // Excel writes `;;` for a row it considers empty.
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        let spans = record.iter().any(|f| f.contains(['\n', '\r']));
        let reason = if spans {
            // An unclosed quote runs to the end of the file: name its last line with text.
            let end = (line + breaks_in(&record)).min(last_line);
            Some(format!(
                "a quoted field runs from line {line} to line {end}: is a closing quote missing?"
            ))
        } else if fields.len() != 2 {
            Some(format!(
                "expected 2 fields (sku{sep}available), found {}",
                fields.len()
            ))
        } else {
            match (Sku::try_from(fields[0].as_str()), parse_count(&fields[1])) {
                (Err(_), _) => Some(if fields[0].is_empty() {
                    "sku is empty".to_string()
                } else {
                    format!(
                        "sku {} may only hold letters A-Z, digits, '.', '_' and '-' (at most 64)",
                        quote(&fields[0])
                    )
                }),
                (Ok(sku), Ok(available)) => {
                    let count = StockCount { sku, available };
                    match index.get(&count.sku) {
                        Some(&i) => feed.counts[i] = count,
                        None => {
                            index.insert(count.sku.clone(), feed.counts.len());
                            feed.counts.push(count);
                        }
                    }
                    None
                }
                (Ok(_), Err(why)) => Some(why),
            }
        };
        if let Some(reason) = reason {
            feed.refused.push(BadRow { line, reason });
        }
    }
    Ok(feed)
}

/// The 1-based physical line a byte offset of `text` lies on; `\r\n`, `\n` and a lone `\r`
/// (old Mac exports) each end a line.
fn physical_lines(text: &str) -> impl Fn(u64) -> usize + '_ {
    let bytes = text.as_bytes();
    let mut starts = vec![0u64];
    for (i, b) in bytes.iter().enumerate() {
        let ends_line = *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends_line {
            starts.push(i as u64 + 1);
        }
    }
    // The reader places a record where the previous one's terminator ended (before a `\n`
    // after `\r`, before blank lines it skipped): the record starts after those breaks.
    move |byte| {
        let skipped = bytes.get(byte as usize..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count()
        });
        starts.partition_point(|s| *s <= byte + skipped as u64)
    }
}

/// How many line breaks a record's fields hold (quoted fields keep them verbatim).
fn breaks_in(record: &csv::StringRecord) -> usize {
    // `\r\n` is one break, so its `\r` is not counted on its own.
    record
        .iter()
        .map(|f| f.matches(['\n', '\r']).count() - f.matches("\r\n").count())
        .sum()
}

/// UTF-8 (BOM dropped) when the bytes are UTF-8; UTF-16 when a UTF-16 BOM says so; otherwise
/// Windows-1252, which maps every byte, so a feed is never refused for its encoding alone.
fn decode_feed(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

/// A field without its surrounding spaces, and without quotes the csv reader left in place
/// because a space came before them (`A; "5"`).
fn clean_field(raw: &str) -> String {
    let t = raw.trim();
    match t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\"").trim().to_string(),
        None => t.to_string(),
    }
}

/// A count as a person typed it: digits only. Anything a spreadsheet might have formatted
/// (`1.000`, `12,5`, `1e3`, `-1`) is refused with the reason, never guessed at: `1.000` is a
/// thousand in Germany and one elsewhere.
fn parse_count(raw: &str) -> Result<u32, String> {
    let shown = quote(raw);
    if raw.is_empty() {
        return Err("available is empty".into());
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        return match raw.parse::<u64>() {
            Ok(n) if n <= MAX_AVAILABLE => Ok(n as u32),
            _ => Err(format!("available {shown} is more than {MAX_AVAILABLE}")),
        };
    }
    let digits_and = |extra: &[char]| {
        raw.chars()
            .all(|c| c.is_ascii_digit() || extra.contains(&c))
    };
    let why = if raw.starts_with('-') && digits_and(&['-', '.', ',']) {
        "must not be negative"
    } else if is_grouped(raw) {
        "must be a whole number without separators"
    } else if digits_and(&['.', ',']) {
        "must be a whole number, not a decimal"
    } else if digits_and(&['e', 'E', '+', '-', '.', ',']) {
        "must be written out in digits (no exponent)"
    } else {
        "must be a whole number 0..1000000000"
    };
    Err(format!("available {shown} {why}"))
}

/// `1.000`, `12,345,678`, `1 000` (also with Excel's no-break space), `1'000`: digits in groups
/// of three after the first group, one separator throughout.
fn is_grouped(raw: &str) -> bool {
    let Some(sep) = raw.chars().find(|c| !c.is_ascii_digit()) else {
        return false;
    };
    if !matches!(sep, '.' | ',' | ' ' | '\u{a0}' | '\u{202f}' | '\'') {
        return false;
    }
    let groups: Vec<&str> = raw.split(sep).collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

/// A value quoted for a row error, shortened to `QUOTED_CHARS` characters.
fn quote(raw: &str) -> String {
    if raw.chars().count() > QUOTED_CHARS {
        let head: String = raw.chars().take(QUOTED_CHARS).collect();
        format!("{:?}", format!("{head}…"))
    } else {
        format!("{raw:?}")
    }
}

#[cfg(test)]
mod feed_tests {
    use super::*;

    fn count(sku: &str, available: u32) -> StockCount {
        StockCount {
            sku: sku.try_into().unwrap(),
            available,
        }
    }

    fn lines(feed: &Feed) -> Vec<usize> {
        feed.refused.iter().map(|b| b.line).collect()
    }

    #[test]
    fn reports_bad_rows_with_line_numbers_and_keeps_good_ones() {
        let feed = parse_feed(b"sku,available\nA,3\nB,-1\n\nC\nA,5\n").unwrap();
        assert_eq!(feed.counts, vec![count("A", 5)]);
        assert_eq!(lines(&feed), [3, 5]);
        assert!(parse_feed(b"product,qty\nA,1").is_err());
        assert!(parse_feed(b"").is_err());
    }

    /// What German Excel's "CSV (Trennzeichen-getrennt)" writes: Windows-1252, `;`, CRLF,
    /// quoted fields, spaces; here with an umlaut in a sku (0xF6 is ö), thousands separators
    /// and a decimal comma.
    #[test]
    fn reads_a_windows_1252_semicolon_file_from_excel() {
        let mut bytes: Vec<u8> = Vec::new();
        bytes.extend_from_slice(b"\"SKU\";\"Available\"\r\n");
        bytes.extend_from_slice(b"\"CHAIR-TEAK\";\"12\"\r\n");
        bytes.extend_from_slice(b" VASE-BLUE ; 7 \r\n");
        bytes.extend_from_slice(b"GR\xd6SSE-L;4\r\n");
        bytes.extend_from_slice(b"LAMP-OAK;1.000\r\n");
        bytes.extend_from_slice(b"SEEDS;12,5\r\n");
        bytes.extend_from_slice(b";;\r\n");
        assert!(std::str::from_utf8(&bytes).is_err(), "really Windows-1252");
        let feed = parse_feed(&bytes).unwrap();
        assert_eq!(
            feed.counts,
            vec![count("CHAIR-TEAK", 12), count("VASE-BLUE", 7)]
        );
        assert_eq!(
            feed.refused,
            vec![
                BadRow {
                    line: 4,
                    reason: "sku \"GRÖSSE-L\" may only hold letters A-Z, digits, '.', '_' and '-' (at most 64)".into()
                },
                BadRow {
                    line: 5,
                    reason: "available \"1.000\" must be a whole number without separators".into()
                },
                BadRow {
                    line: 6,
                    reason: "available \"12,5\" must be a whole number, not a decimal".into()
                },
            ]
        );
    }

    #[test]
    fn reads_utf8_with_and_without_bom_and_utf16() {
        let plain = "sku;available\r\nA;1\r\nÜ;2\r\n";
        let with_bom = [b"\xef\xbb\xbf".as_slice(), plain.as_bytes()].concat();
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(plain.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for bytes in [plain.as_bytes().to_vec(), with_bom, utf16] {
            let feed = parse_feed(&bytes).unwrap();
            assert_eq!(feed.counts, vec![count("A", 1)]);
            assert_eq!(lines(&feed), [3]);
            assert!(
                feed.refused[0].reason.contains("\"Ü\""),
                "{:?}",
                feed.refused
            );
        }
    }

    #[test]
    fn refuses_counts_a_spreadsheet_formatted_and_says_why() {
        for (raw, why) in [
            ("1.000", "must be a whole number without separators"),
            ("1,000,000", "must be a whole number without separators"),
            ("1 000", "must be a whole number without separators"),
            ("1\u{a0}000", "must be a whole number without separators"),
            ("12,5", "must be a whole number, not a decimal"),
            ("3.0", "must be a whole number, not a decimal"),
            ("1e3", "must be written out in digits (no exponent)"),
            ("-1", "must not be negative"),
            ("lots", "must be a whole number 0..1000000000"),
            ("1000000001", "is more than 1000000000"),
        ] {
            let feed = parse_feed(format!("sku;available\nA;\"{raw}\"\n").as_bytes()).unwrap();
            assert_eq!(feed.refused.len(), 1, "{raw}");
            assert_eq!(
                feed.refused[0].reason,
                format!("available {raw:?} {why}"),
                "{raw}"
            );
        }
        let empty = parse_feed(b"sku;available\nA;\n").unwrap();
        assert_eq!(empty.refused[0].reason, "available is empty");
        let ok = parse_feed(b"sku,available\nA,0\nB,1000000000\nC,007\n").unwrap();
        assert_eq!(
            ok.counts,
            vec![count("A", 0), count("B", 1_000_000_000), count("C", 7)]
        );
    }

    #[test]
    fn line_numbers_are_physical_lines_when_a_quoted_field_spans_lines() {
        let feed = parse_feed(b"sku,available\r\n\"A\r\nB\",1\r\nC,x\r\n\r\nD,\"1.5\"\r\nE,2\r\n")
            .unwrap();
        assert_eq!(lines(&feed), [2, 4, 6]);
        assert!(feed.refused[0]
            .reason
            .contains("runs from line 2 to line 3"));
        assert_eq!(feed.counts, vec![count("E", 2)]);
        // A quote never closed swallows the rest of the file: that is said, with its lines.
        let open = parse_feed(b"sku,available\nA,1\n\"B,2\nC,3\nD,4\n").unwrap();
        assert_eq!(open.counts, vec![count("A", 1)]);
        assert!(
            open.refused[0].reason.contains("from line 3 to line 5"),
            "{:?}",
            open.refused
        );
    }

    #[test]
    fn the_last_row_of_a_sku_wins_and_a_header_is_required() {
        let feed = parse_feed(b"Sku , AVAILABLE\nA,1\nB,2\nA,3\nA,x\n").unwrap();
        assert_eq!(feed.counts, vec![count("A", 3), count("B", 2)]);
        assert_eq!(lines(&feed), [5]);
        let err = parse_feed(b"artikel;bestand\nA;1\n").unwrap_err();
        assert!(
            err.contains("sku,available") && err.contains("artikel;bestand"),
            "{err}"
        );
        // Only the header picks the separator: a comma file whose rows hold `;` refuses them.
        let mixed = parse_feed(b"sku,available\nA;1\n").unwrap();
        assert_eq!(
            mixed.refused[0].reason,
            "expected 2 fields (sku,available), found 1"
        );
    }
}
