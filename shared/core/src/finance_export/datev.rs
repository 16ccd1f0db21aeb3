//! The DATEV Buchungsstapel (docs/api.md "Finance export"): format EXTF, version 700, category
//! 21, format version 13: the header record, the column-name line, one booking per line;
//! `;`-separated, Windows-1252, CRLF, decimal comma, amounts without sign plus `S`/`H`.
//!
//! Field order of the header record and the column names follow DATEV's published sample file
//! (`EXTF_Buchungsstapel.csv` of the "Musterdaten DATEV-Format", as reproduced in
//! github.com/DSchuppelius/php-common-toolkit tests/Parsers/DatevDocumentParserTest.php), the
//! header's field names as github.com/ledermann/datev lib/datev/base/header.rb lists them.
//!
//! Revenue is booked per document line and per shipping share on the automatic revenue account
//! of its rate (the `Gegenkonto`, no BU-Schlüssel), so that the tax DATEV derives from each
//! booking, `round(gross x rate / (1 + rate))`, is the line's own. `Konto` is the receivable or
//! money side; `S` means it is debited.

use super::accounts::{fiscal_year_start, is_eu, FinanceAccounts, HOME_COUNTRY};
use super::{accounts_of, Posting, PostingLine};
use crate::money::Money;
use crate::ApiError;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

/// The booking columns of format version 13, in order (125).
#[rustfmt::skip]
pub const COLUMNS: [&str; 125] = [
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
    "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum",
    "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext", "Postensperre",
    "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt", "Zinssperre", "Beleglink",
    "Beleginfo - Art 1", "Beleginfo - Inhalt 1", "Beleginfo - Art 2", "Beleginfo - Inhalt 2",
    "Beleginfo - Art 3", "Beleginfo - Inhalt 3", "Beleginfo - Art 4", "Beleginfo - Inhalt 4",
    "Beleginfo - Art 5", "Beleginfo - Inhalt 5", "Beleginfo - Art 6", "Beleginfo - Inhalt 6",
    "Beleginfo - Art 7", "Beleginfo - Inhalt 7", "Beleginfo - Art 8", "Beleginfo - Inhalt 8",
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart", "Sachverhalt L+L",
    "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung", "Zusatzinformation - Art 1", "Zusatzinformation- Inhalt 1",
    "Zusatzinformation - Art 2", "Zusatzinformation- Inhalt 2", "Zusatzinformation - Art 3",
    "Zusatzinformation- Inhalt 3", "Zusatzinformation - Art 4", "Zusatzinformation- Inhalt 4",
    "Zusatzinformation - Art 5", "Zusatzinformation- Inhalt 5", "Zusatzinformation - Art 6",
    "Zusatzinformation- Inhalt 6", "Zusatzinformation - Art 7", "Zusatzinformation- Inhalt 7",
    "Zusatzinformation - Art 8", "Zusatzinformation- Inhalt 8", "Zusatzinformation - Art 9",
    "Zusatzinformation- Inhalt 9", "Zusatzinformation - Art 10", "Zusatzinformation- Inhalt 10",
    "Zusatzinformation - Art 11", "Zusatzinformation- Inhalt 11", "Zusatzinformation - Art 12",
    "Zusatzinformation- Inhalt 12", "Zusatzinformation - Art 13", "Zusatzinformation- Inhalt 13",
    "Zusatzinformation - Art 14", "Zusatzinformation- Inhalt 14", "Zusatzinformation - Art 15",
    "Zusatzinformation- Inhalt 15", "Zusatzinformation - Art 16", "Zusatzinformation- Inhalt 16",
    "Zusatzinformation - Art 17", "Zusatzinformation- Inhalt 17", "Zusatzinformation - Art 18",
    "Zusatzinformation- Inhalt 18", "Zusatzinformation - Art 19", "Zusatzinformation- Inhalt 19",
    "Zusatzinformation - Art 20", "Zusatzinformation- Inhalt 20", "Stück", "Gewicht", "Zahlweise",
    "Forderungsart", "Veranlagungsjahr", "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer",
    "Buchungstyp", "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)", "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz", "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre",
    "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer",
    "Postensperre bis", "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung",
    "Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit",
    "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position",
    "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
];

/// Positions (0-based) of the columns a booking fills.
pub mod col {
    pub const UMSATZ: usize = 0;
    pub const SOLL_HABEN: usize = 1;
    pub const WKZ: usize = 2;
    pub const KONTO: usize = 6;
    pub const GEGENKONTO: usize = 7;
    pub const BELEGDATUM: usize = 9;
    pub const BELEGFELD_1: usize = 10;
    pub const BUCHUNGSTEXT: usize = 13;
    pub const EU_LAND: usize = 39;
    pub const EU_STEUERSATZ: usize = 40;
    pub const AUFTRAGSNUMMER: usize = 94;
    pub const LEISTUNGSDATUM: usize = 114;
}

pub const BELEGFELD_1_MAX: usize = 36;
pub const BUCHUNGSTEXT_MAX: usize = 60;
const AUFTRAGSNUMMER_MAX: usize = 30;
const BEZEICHNUNG_MAX: usize = 30;

/// A DATEV export of one period.
pub struct Buchungsstapel<'a> {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// When the file is made (the header's "Erzeugt am").
    pub created_at: DateTime<Utc>,
    pub accounts: &'a FinanceAccounts,
    /// The period's postings (each dated from..=to).
    pub postings: &'a [Posting],
}

/// The first day of the fiscal year that holds `day`.
pub fn fiscal_year_of(day: NaiveDate, (month, dom): (u32, u32)) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(day.year(), month, dom)?;
    if this_year <= day {
        Some(this_year)
    } else {
        NaiveDate::from_ymd_opt(day.year() - 1, month, dom)
    }
}

impl Buchungsstapel<'_> {
    /// The file as Windows-1252 bytes, or 422: DATEV numbers not set, the period spanning two
    /// fiscal years, a posting in another currency than EUR.
    pub fn write(&self) -> Result<Vec<u8>, ApiError> {
        let datev = &self.accounts.datev;
        let consultant = datev.consultant_number.ok_or_else(|| {
            ApiError::invalid(
                "datev.consultantNumber",
                "set datev.consultantNumber (PUT /admin/finance/accounts) before a DATEV export",
            )
        })?;
        let client = datev.client_number.ok_or_else(|| {
            ApiError::invalid(
                "datev.clientNumber",
                "set datev.clientNumber (PUT /admin/finance/accounts) before a DATEV export",
            )
        })?;
        if self.to < self.from {
            return Err(ApiError::invalid("to", "to must not be before from"));
        }
        let start = fiscal_year_start(&datev.fiscal_year_start)
            .and_then(|s| fiscal_year_of(self.from, s))
            .ok_or_else(|| {
                ApiError::invalid(
                    "datev.fiscalYearStart",
                    "datev.fiscalYearStart is not MM-DD",
                )
            })?;
        let next = NaiveDate::from_ymd_opt(start.year() + 1, start.month(), start.day());
        if next.is_some_and(|n| self.to >= n) {
            return Err(ApiError::invalid(
                "to",
                format!(
                    "a DATEV file holds one fiscal year: {} to {} spans the one beginning {start} and the next",
                    self.from, self.to
                ),
            ));
        }
        if let Some(p) = self.postings.iter().find(|p| p.currency.as_str() != "EUR") {
            return Err(ApiError::invalid(
                "format",
                format!(
                    "order {} is in {}: a DATEV file holds EUR only (the journal holds every currency)",
                    p.order_id, p.currency
                ),
            ));
        }
        let mut text = String::new();
        text.push_str(&self.header(consultant, client, start));
        text.push_str("\r\n");
        // The column names unquoted, as DATEV's sample file writes them.
        text.push_str(&COLUMNS.join(";"));
        text.push_str("\r\n");
        for p in self.postings {
            if p.date < self.from || p.date > self.to {
                return Err(ApiError::new(
                    500,
                    crate::ErrorCode::InternalError,
                    format!("posting {} is dated outside the period", p.document_number),
                ));
            }
            for l in &p.lines {
                for fields in bookings(p, l, self.accounts)? {
                    text.push_str(&fields.join(";"));
                    text.push_str("\r\n");
                }
            }
        }
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        Ok(bytes.into_owned())
    }

    /// The header record: 31 fields.
    fn header(&self, consultant: u32, client: u32, fiscal_year: NaiveDate) -> String {
        let day = |d: NaiveDate| d.format("%Y%m%d").to_string();
        let name = format!("Finanzexport {}-{}", day(self.from), day(self.to));
        #[rustfmt::skip]
        let fields: [String; 31] = [
            quoted("EXTF"),                                        // 1 Kennzeichen
            "700".into(),                                          // 2 Versionsnummer
            "21".into(),                                           // 3 Formatkategorie
            quoted("Buchungsstapel"),                              // 4 Formatname
            "13".into(),                                           // 5 Formatversion
            self.created_at.format("%Y%m%d%H%M%S%3f").to_string(), // 6 Erzeugt am
            String::new(),                                         // 7 Importiert (set by DATEV)
            quoted("RE"),                                          // 8 Herkunft
            quoted(""),                                            // 9 Exportiert von
            quoted(""),                                            // 10 Importiert von
            consultant.to_string(),                                // 11 Beraternummer
            client.to_string(),                                    // 12 Mandantennummer
            day(fiscal_year),                                      // 13 WJ-Beginn
            self.accounts.datev.account_length.to_string(),        // 14 Sachkontenlänge
            day(self.from),                                        // 15 Datum vom
            day(self.to),                                          // 16 Datum bis
            quoted(&clip(&name, BEZEICHNUNG_MAX)),                 // 17 Bezeichnung
            quoted(""),                                            // 18 Diktatkürzel
            "1".into(),                                            // 19 Buchungstyp: Finanzbuchführung
            "0".into(),                                            // 20 Rechnungslegungszweck
            "0".into(),                                            // 21 Festschreibung: none
            quoted("EUR"),                                         // 22 WKZ
            String::new(),                                         // 23 reserviert
            quoted(""),                                            // 24 Derivatskennzeichen
            String::new(),                                         // 25 reserviert
            String::new(),                                         // 26 reserviert
            quoted("03"),                                          // 27 Sachkontenrahmen SKR03
            String::new(),                                         // 28 Branchenlösungs-Id
            String::new(),                                         // 29 reserviert
            quoted(""),                                            // 30 reserviert
            quoted(""),                                            // 31 Anwendungsinformation
        ];
        fields.join(";")
    }
}

/// The bookings of one line (125 fields each): one, or for a line whose tax is not what DATEV
/// derives from its gross (`exact_pieces`) several; none when both accounts are the same.
fn bookings(
    p: &Posting,
    l: &PostingLine,
    accounts: &FinanceAccounts,
) -> Result<Vec<Vec<String>>, ApiError> {
    let pieces = match l.tax_rate {
        Some(rate) => exact_pieces(l.gross, l.tax, rate),
        None => vec![(l.gross, l.tax)],
    };
    let mut out = Vec::with_capacity(pieces.len());
    for (gross, tax) in pieces {
        let piece = PostingLine {
            gross,
            tax,
            ..l.clone()
        };
        out.extend(booking(p, &piece, accounts)?);
    }
    Ok(out)
}

/// One booking line (125 fields), or none when both accounts are the same.
fn booking(
    p: &Posting,
    l: &PostingLine,
    accounts: &FinanceAccounts,
) -> Result<Option<Vec<String>>, ApiError> {
    if l.gross == Money::ZERO {
        return Ok(None);
    }
    let (debit, credit, konto_is_debit) = accounts_of(p.kind, l, &p.country, accounts)?;
    if debit == credit {
        return Ok(None);
    }
    let (konto, gegenkonto) = if konto_is_debit {
        (debit, credit)
    } else {
        (credit, debit)
    };
    // Konto is debited when it is the debit side and the line runs the kind's own way.
    let soll = konto_is_debit != l.gross.is_negative();
    let mut f = vec![String::new(); COLUMNS.len()];
    f[col::UMSATZ] = decimal_comma(l.gross.amount().abs());
    f[col::SOLL_HABEN] = quoted(if soll { "S" } else { "H" });
    f[col::WKZ] = quoted(p.currency.as_str());
    f[col::KONTO] = konto;
    f[col::GEGENKONTO] = gegenkonto;
    f[col::BELEGDATUM] = p.date.format("%d%m").to_string();
    f[col::BELEGFELD_1] = quoted(&belegfeld(&p.document_number));
    let text = if l.text.is_empty() {
        p.text.clone()
    } else {
        format!("{}, {}", p.text, l.text)
    };
    f[col::BUCHUNGSTEXT] = quoted(&clip(&text, BUCHUNGSTEXT_MAX));
    // OSS: a sale taxed in another EU country names that country and its rate.
    if let Some(rate) = l.tax_rate.filter(|r| !r.is_zero()) {
        if is_eu(&p.country) && p.country.as_str() != HOME_COUNTRY {
            // DATEV, as the EU's VAT numbers do, writes Greece as EL.
            let land = if p.country.as_str() == "GR" {
                "EL"
            } else {
                p.country.as_str()
            };
            f[col::EU_LAND] = quoted(land);
            f[col::EU_STEUERSATZ] = decimal_comma(rate * Decimal::ONE_HUNDRED);
        }
    }
    f[col::AUFTRAGSNUMMER] = quoted(&clip(&p.external_id, AUFTRAGSNUMMER_MAX));
    if let Some(d) = p.supply_date {
        f[col::LEISTUNGSDATUM] = d.format("%d%m%Y").to_string();
    }
    Ok(Some(f))
}

/// `gross` split into pieces on each of which DATEV's automatic account derives exactly its part
/// of `tax` (`round(piece x rate / (1 + rate))`), adding up to `gross` and `tax`. One piece when
/// the line's tax is what DATEV derives anyway (every invoice line and shipping share is taxed
/// so); a credit document's rate line, whose tax is the sum of its units' rounded shares
/// (docs/api.md), can be a cent or a few away: small pieces (at most 10.00 each) whose rounding
/// leans the needed way close the gap. A figure no rounding reaches (tax on a 0 % line) keeps
/// DATEV's tax on its last piece.
pub fn exact_pieces(gross: Money, tax: Money, rate: Decimal) -> Vec<(Money, Money)> {
    let negative = gross.is_negative();
    let (mut g, mut t) = if negative {
        (-gross, -tax)
    } else {
        (gross, tax)
    };
    let derived = |x: Money| crate::money::tax_of(x, rate);
    // What rounding adds to a piece's tax: DATEV's figure minus the unrounded one.
    let rounding = |x: Money| derived(x).amount() - x.amount() * rate / (Decimal::ONE + rate);
    let cent = Money::from_decimal(Decimal::new(1, 2));
    let largest_piece = Money::from_decimal(Decimal::TEN);
    let mut out = Vec::new();
    // Each piece closes at least a fraction of a cent of the gap; 50 pieces is no rounding.
    while derived(g) != t && out.len() < 50 {
        let up = t > derived(g);
        let mut best: Option<(Money, Decimal)> = None;
        let mut x = cent;
        while x < g && x <= largest_piece {
            let r = if up { rounding(x) } else { -rounding(x) };
            if r > Decimal::ZERO && best.is_none_or(|(_, b)| r > b) {
                best = Some((x, r));
            }
            x += cent;
        }
        let Some((x, _)) = best else { break };
        out.push((x, derived(x)));
        g -= x;
        t -= derived(x);
    }
    out.push((g, derived(g)));
    if negative {
        out.into_iter().map(|(g, t)| (-g, -t)).collect()
    } else {
        out
    }
}

/// `1234,50`: two decimals, decimal comma, no thousands separator.
pub fn decimal_comma(d: Decimal) -> String {
    let mut d = d.round_dp(2);
    d.rescale(2);
    d.to_string().replace('.', ",")
}

/// A text field: in quotes, a quote doubled; only characters Windows-1252 holds (others become
/// `?`, never the `&#...;` an encoder would write), no line breaks.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", cp1252(s).replace('"', "\"\""))
}

fn cp1252(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                return ' ';
            }
            let mut buf = [0u8; 4];
            let (_, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// At most `max` characters (of the Windows-1252 text: one byte each).
fn clip(s: &str, max: usize) -> String {
    cp1252(s).chars().take(max).collect()
}

/// Belegfeld 1: the document number in the characters DATEV takes there (letters, digits and
/// `$ & % * + - /`; others become `-`), its last 36 when longer (the unique tail of an id).
pub fn belegfeld(number: &str) -> String {
    let clean: Vec<char> = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "$&%*+-/".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let skip = clean.len().saturating_sub(BELEGFELD_1_MAX);
    clean[skip..].iter().collect()
}
