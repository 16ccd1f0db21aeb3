//! Report files for the people who open them: CSV for Excel in any locale (a UTF-8 BOM, `,` or
//! `;`), XLSX through rust_xlsxwriter, and no cell that a spreadsheet would run as a formula.
//!
//! CSV injection (OWASP): customer names, notes and ids reach the reports as the customer typed
//! them, and a spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` (and, in some,
//! one that starts with a tab or carriage return) as a formula: `=HYPERLINK(...)` leaks data,
//! DDE formulas run programs. Such a CSV cell gets a leading `'`, which makes it text. A cell
//! that is a plain number (`-?digits[.digits]`, e.g. the refund `-12.50`) is left alone: it
//! cannot be a formula, and the money must stay a number for the person adding it up. In XLSX
//! nothing needs the `'`: a string cell is stored as text and never evaluated.

use crate::tables::{cell, Table};
use serde_json::Value;

/// The CSV field separator: `,` (RFC 4180, the default) or `;`, which Excel in German and other
/// locales with a decimal comma expects when it opens a file by double-click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delimiter {
    #[default]
    Comma,
    Semicolon,
}

impl Delimiter {
    /// The `delimiter` query parameter's values.
    pub fn parse(s: &str) -> Option<Delimiter> {
        match s {
            "comma" => Some(Delimiter::Comma),
            "semicolon" => Some(Delimiter::Semicolon),
            _ => None,
        }
    }

    fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
        }
    }
}

/// The file a report is downloaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv(Delimiter),
    Xlsx,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv(_) => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv(_) => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The byte order mark that makes Excel read a CSV as UTF-8 (without it, Windows Excel reads
/// `Müller` as `MÃ¼ller`).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

// The formula rule is shared with the finance journal.
use dropship_core::spreadsheet::is_plain_number;
pub use dropship_core::spreadsheet::neutralise;

/// Columns that hold identifiers or names: their cells stay text in XLSX even when they look
/// like an amount (a sku `10.00` is not ten euros).
const TEXT_COLUMNS: &[&str] = &[
    "sku",
    "orderId",
    "channel",
    "fulfillerId",
    "customer",
    "name",
    "group",
];

/// Money as `Money` prints it: optional minus, digits, a point, exactly two digits.
fn is_money(s: &str) -> bool {
    is_plain_number(s) && s.split_once('.').is_some_and(|(_, cents)| cents.len() == 2)
}

impl Table {
    /// The rows as CSV: UTF-8 BOM, header first, RFC 4180 quoting by the csv crate, every cell
    /// neutralised against formula injection.
    pub fn csv(&self, delimiter: Delimiter) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter.byte())
            .from_writer(UTF8_BOM.to_vec());
        w.write_record(self.columns)?;
        for r in &self.rows {
            w.write_record(r.iter().map(|v| neutralise(cell(v))))?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The rows as an XLSX workbook with one sheet named after the report. Counts are numbers;
    /// amounts are numbers with two decimals (`#,##0.00`, shown with the reader's own separators)
    /// so that the person opening it can sum them, except in identifier columns; everything else
    /// is text, exactly as in the JSON. An amount becomes the nearest double, which Excel shows
    /// to the cent: two decimals are far inside a double's 15 significant digits.
    pub fn xlsx(&self, sheet: &str) -> anyhow::Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let header = Format::new().set_bold();
        let amount = Format::new().set_num_format("#,##0.00");
        let ws = book.add_worksheet();
        ws.set_name(sheet)?;
        for (c, name) in (0u16..).zip(self.columns) {
            ws.write_string_with_format(0, c, *name, &header)?;
        }
        for (r, row) in (1u32..).zip(&self.rows) {
            for ((c, v), column) in (0u16..).zip(row).zip(self.columns) {
                match v {
                    Value::Null => {}
                    Value::Number(n) => {
                        if let Some(f) = n.as_f64() {
                            ws.write_number(r, c, f)?;
                        }
                    }
                    Value::String(s) if is_money(s) && !TEXT_COLUMNS.contains(column) => {
                        let f: f64 = s.parse()?;
                        ws.write_number_with_format(r, c, f, &amount)?;
                    }
                    other => {
                        ws.write_string(r, c, cell(other))?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        Ok(book.save_to_buffer()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: Vec<Vec<Value>>) -> Table {
        Table {
            columns: &["customer", "name", "amount", "units"],
            rows,
        }
    }

    fn read(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn every_csv_starts_with_a_utf8_bom() {
        let t = table(vec![vec![
            json!("m@example.com"),
            json!("Müller"),
            json!("1.00"),
            json!(1),
        ]]);
        for d in [Delimiter::Comma, Delimiter::Semicolon] {
            let bytes = t.csv(d).unwrap();
            assert!(bytes.starts_with(UTF8_BOM), "{d:?}");
            // Exactly one BOM, then the header.
            assert!(bytes[3..].starts_with(b"customer"), "{d:?}");
        }
    }

    #[test]
    fn the_delimiter_is_the_one_asked_for_and_quoting_follows_it() {
        let t = table(vec![vec![
            json!("a@example.com"),
            json!("Smith; Jones, \"Co\""),
            json!("12.50"),
            json!(3),
        ]]);
        let semi = t.csv(Delimiter::Semicolon).unwrap();
        let text = std::str::from_utf8(&semi[3..]).unwrap();
        assert!(text.starts_with("customer;name;amount;units\n"), "{text}");
        // A comma needs no quotes with `;`, the `;` and the quote do.
        assert!(
            text.contains("a@example.com;\"Smith; Jones, \"\"Co\"\"\";12.50;3\n"),
            "{text}"
        );
        assert_eq!(
            read(&semi[3..], b';')[1],
            ["a@example.com", "Smith; Jones, \"Co\"", "12.50", "3"]
        );
        let comma = t.csv(Delimiter::Comma).unwrap();
        let text = std::str::from_utf8(&comma[3..]).unwrap();
        assert!(text.starts_with("customer,name,amount,units\n"), "{text}");
        assert_eq!(
            read(&comma[3..], b',')[1],
            ["a@example.com", "Smith; Jones, \"Co\"", "12.50", "3"]
        );
        assert_eq!(Delimiter::parse("semicolon"), Some(Delimiter::Semicolon));
        assert_eq!(Delimiter::parse("comma"), Some(Delimiter::Comma));
        assert_eq!(Delimiter::parse(";"), None);
    }

    #[test]
    fn every_csv_cell_is_neutralised_but_numbers_stay_numbers() {
        // Through the CSV writer: what a spreadsheet reads back.
        let t = table(vec![vec![
            json!("=cmd|' /C calc'!A0"),
            json!("@SUM(1+1)"),
            json!("-12.50"),
            json!(-2),
        ]]);
        let bytes = t.csv(Delimiter::Semicolon).unwrap();
        assert_eq!(
            read(&bytes[3..], b';')[1],
            ["'=cmd|' /C calc'!A0", "'@SUM(1+1)", "-12.50", "-2"]
        );
    }

    #[test]
    fn xlsx_is_a_workbook_with_amounts_as_numbers_and_text_as_text() {
        let t = table(vec![
            vec![
                json!("=HYPERLINK(\"x\")"),
                json!("10.00"),
                json!("-12.50"),
                json!(2),
            ],
            vec![json!("b@example.com"), Value::Null, Value::Null, json!(0)],
        ]);
        let bytes = t.xlsx("finance").unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut part = |name: &str| {
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut xml).unwrap();
            xml
        };
        let book = part("xl/workbook.xml");
        assert!(book.contains("<sheet name=\"finance\""), "{book}");
        let sheet = part("xl/worksheets/sheet1.xml");
        let strings = part("xl/sharedStrings.xml");
        // The amount is a number cell (no t="s") with the two-decimal format; the count too.
        assert!(
            sheet.contains("<c r=\"C2\" s=\"2\"><v>-12.5</v></c>"),
            "{sheet}"
        );
        assert!(sheet.contains("<c r=\"D2\"><v>2</v></c>"), "{sheet}");
        // The formula and the name that looks like money are text, never a formula.
        assert!(sheet.contains("<c r=\"A2\" t=\"s\">"), "{sheet}");
        assert!(sheet.contains("<c r=\"B2\" t=\"s\">"), "{sheet}");
        assert!(!sheet.contains("<f>"), "{sheet}");
        assert!(strings.contains("<t>=HYPERLINK(\"x\")</t>"), "{strings}");
        assert!(strings.contains("<t>10.00</t>"), "{strings}");
        let styles = part("xl/styles.xml");
        assert!(styles.contains("formatCode=\"#,##0.00\""), "{styles}");
        assert!(is_money("-12.50") && is_money("0.19") && !is_money("12.5"));
        assert!(!is_money("4006381333931") && !is_money("12.505"));
    }
}
