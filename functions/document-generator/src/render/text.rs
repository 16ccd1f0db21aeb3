//! Everything a document says in words and figures, in German and English: the fixed texts, and
//! how money, tax rates, dates and countries are written. Also keeps every string printable with
//! the PDF's built-in Helvetica (WinAnsi), so that an unusual letter never fails a document.

use chrono::NaiveDate;
use dropship_core::catalogue::Locale;
use dropship_core::money::Money;
use dropship_core::order::PaymentMethod;
use rust_decimal::Decimal;

/// The fixed texts of every document, per locale.
#[derive(Debug)]
pub struct Words {
    pub delivery_note: &'static str,
    pub invoice: &'static str,
    pub correction: &'static str,
    pub credit: &'static str,
    pub number: &'static str,
    pub invoice_no: &'static str,
    pub correction_no: &'static str,
    pub credit_no: &'static str,
    /// "ersetzt Rechnung Nr. {}"
    pub supersedes: &'static str,
    /// "zu Rechnung Nr. {}"
    pub for_invoices: &'static str,
    pub refund: &'static str,
    pub order: &'static str,
    pub delivery: &'static str,
    pub date: &'static str,
    pub issued_on: &'static str,
    pub supply_date: &'static str,
    pub bill_to: &'static str,
    pub ship_to: &'static str,
    pub vat_id: &'static str,
    pub item: &'static str,
    pub sku: &'static str,
    pub article: &'static str,
    pub quantity: &'static str,
    pub unit_price: &'static str,
    pub discount: &'static str,
    pub tax_rate: &'static str,
    pub net: &'static str,
    pub tax: &'static str,
    pub gross: &'static str,
    pub shipping: &'static str,
    /// "Nettobetrag {rate}"
    pub net_at: &'static str,
    /// "Umsatzsteuer {rate}"
    pub tax_at: &'static str,
    pub total_net: &'static str,
    pub total_tax: &'static str,
    pub total_gross: &'static str,
    pub payments: &'static str,
    pub refunded_to: &'static str,
    pub amount_due: &'static str,
    pub thanks: &'static str,
    pub check_parcel: &'static str,
    pub page: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub units: &'static str,
    pub return_title: &'static str,
    pub return_contents: &'static str,
    /// "und {} weitere Artikel"
    pub more_articles: &'static str,
    pub return_instruction: &'static str,
}

pub fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::De => &DE,
        Locale::En => &EN,
    }
}

static DE: Words = Words {
    delivery_note: "Lieferschein",
    invoice: "Rechnung",
    correction: "Rechnungskorrektur",
    // A refund's document is a correction of the invoice; "Gutschrift" would mean self-billing
    // under German VAT law (§ 14 Abs. 2 UStG), so the word never appears.
    credit: "Rechnungskorrektur (Storno)",
    number: "Nr.",
    invoice_no: "Rechnungsnr.",
    correction_no: "Korrektur-Nr.",
    credit_no: "Storno-Nr.",
    supersedes: "ersetzt Rechnung Nr. {}",
    for_invoices: "zu Rechnung Nr. {}",
    refund: "Erstattung",
    order: "Bestellnummer",
    delivery: "Lieferung",
    date: "Datum",
    issued_on: "Rechnungsdatum",
    supply_date: "Leistungsdatum",
    bill_to: "Rechnungsadresse",
    ship_to: "Lieferadresse",
    vat_id: "USt-IdNr.",
    item: "Pos.",
    sku: "Art.-Nr.",
    article: "Artikel",
    quantity: "Menge",
    unit_price: "Einzelpreis",
    discount: "Rabatt",
    tax_rate: "USt.",
    net: "Netto",
    tax: "USt.-Betrag",
    gross: "Brutto",
    shipping: "Versandkosten",
    net_at: "Nettobetrag {}",
    tax_at: "Umsatzsteuer {}",
    total_net: "Summe netto",
    total_tax: "Summe Umsatzsteuer",
    total_gross: "Gesamtbetrag",
    payments: "Zahlung",
    refunded_to: "Erstattung auf",
    amount_due: "Offener Betrag",
    thanks: "Vielen Dank für Ihren Einkauf!",
    check_parcel: "Bitte prüfen Sie die Sendung bei Erhalt auf Vollständigkeit.",
    page: "Seite",
    from: "Absender",
    to: "Empfänger",
    units: "Anzahl Artikel",
    return_title: "RETOURE",
    return_contents: "Bitte in das Paket legen:",
    more_articles: "und {} weitere Artikel",
    return_instruction:
        "Legen Sie die Artikel in das Paket, kleben Sie dieses Etikett gut sichtbar \
        auf (alte Etiketten entfernen oder überkleben) und geben Sie das Paket bei einer \
        Annahmestelle ab. Die Erstattung folgt, sobald die Retoure bei uns eingegangen ist.",
};

static EN: Words = Words {
    delivery_note: "Delivery note",
    invoice: "Invoice",
    correction: "Corrected invoice",
    credit: "Credit note",
    number: "no.",
    invoice_no: "Invoice no.",
    correction_no: "Correction no.",
    credit_no: "Credit note no.",
    supersedes: "supersedes invoice no. {}",
    for_invoices: "for invoice no. {}",
    refund: "Refund",
    order: "Order number",
    delivery: "Delivery",
    date: "Date",
    issued_on: "Invoice date",
    supply_date: "Date of supply",
    bill_to: "Bill to",
    ship_to: "Ship to",
    vat_id: "VAT ID",
    item: "Item",
    sku: "SKU",
    article: "Article",
    quantity: "Qty",
    unit_price: "Unit price",
    discount: "Discount",
    tax_rate: "VAT",
    net: "Net",
    tax: "VAT amount",
    gross: "Gross",
    shipping: "Shipping",
    net_at: "Net amount {}",
    tax_at: "VAT {}",
    total_net: "Total net",
    total_tax: "Total VAT",
    total_gross: "Total",
    payments: "Payment",
    refunded_to: "Refunded to",
    amount_due: "Amount due",
    thanks: "Thank you for your order!",
    check_parcel: "Please check the parcel for completeness on receipt.",
    page: "Page",
    from: "From",
    to: "Ship to",
    units: "Units",
    return_title: "RETURN",
    return_contents: "Put in the parcel:",
    more_articles: "and {} more articles",
    return_instruction: "Put the articles in the parcel, stick this label on it where it can be \
        seen (remove or cover old labels) and hand the parcel in at a drop-off point. Your \
        refund follows once the return has reached us.",
};

/// Fills the one `{}` of a text.
pub fn fill(template: &str, value: impl std::fmt::Display) -> String {
    template.replacen("{}", &value.to_string(), 1)
}

/// How a payment method is called on a document. A gift card is "Geschenkkarte": "Gutschein"
/// is ambiguous and "Gutschrift" is a VAT term.
pub fn payment_method(method: PaymentMethod, locale: Locale) -> &'static str {
    match (method, locale) {
        (PaymentMethod::Card, Locale::De) => "Kreditkarte",
        (PaymentMethod::Card, Locale::En) => "Card",
        (PaymentMethod::Paypal, _) => "PayPal",
        (PaymentMethod::Invoice, Locale::De) => "Kauf auf Rechnung",
        (PaymentMethod::Invoice, Locale::En) => "Invoice",
        (PaymentMethod::GiftCard, Locale::De) => "Geschenkkarte",
        (PaymentMethod::GiftCard, Locale::En) => "Gift card",
        (PaymentMethod::BonusPoints, Locale::De) => "Bonuspunkte",
        (PaymentMethod::BonusPoints, Locale::En) => "Bonus points",
    }
}

/// An amount with two decimals and its currency: `1.234,56 €` in German, `€1,234.56` in English.
pub fn money(amount: Money, currency: &str, locale: Locale) -> String {
    let mut d = amount.amount().abs();
    d.rescale(2);
    let digits = d.to_string();
    let (int, frac) = digits.split_once('.').unwrap_or((digits.as_str(), "00"));
    let (group, point) = match locale {
        Locale::De => ('.', ','),
        Locale::En => (',', '.'),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if amount.is_negative() { "-" } else { "" };
    let symbol = match currency {
        "EUR" => "€",
        "GBP" => "£",
        "USD" => "$",
        other => other,
    };
    match locale {
        Locale::De => format!("{sign}{grouped}{point}{frac} {symbol}"),
        Locale::En if symbol.chars().count() == 1 => {
            format!("{sign}{symbol}{grouped}{point}{frac}")
        }
        Locale::En => format!("{sign}{symbol} {grouped}{point}{frac}"),
    }
}

/// A tax rate (a fraction such as 0.19) as a percentage: `19 %`, `5,5 %` (German), `5.5 %`.
pub fn percent(rate: Decimal, locale: Locale) -> String {
    let p = (rate * Decimal::ONE_HUNDRED).normalize().to_string();
    match locale {
        Locale::De => format!("{} %", p.replace('.', ",")),
        Locale::En => format!("{p} %"),
    }
}

pub fn date(d: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::De => d.format("%d.%m.%Y").to_string(),
        Locale::En => d.format("%-d %b %Y").to_string(),
    }
}

/// A country's name for an address (ISO 3166-1 alpha-2 in the data); the code itself where
/// the name is not known here, which carriers accept as well.
pub fn country(code: &str, locale: Locale) -> String {
    let names: &[(&str, &str, &str)] = &[
        ("DE", "Deutschland", "Germany"),
        ("AT", "Österreich", "Austria"),
        ("CH", "Schweiz", "Switzerland"),
        ("FR", "Frankreich", "France"),
        ("NL", "Niederlande", "Netherlands"),
        ("BE", "Belgien", "Belgium"),
        ("LU", "Luxemburg", "Luxembourg"),
        ("IT", "Italien", "Italy"),
        ("ES", "Spanien", "Spain"),
        ("PT", "Portugal", "Portugal"),
        ("PL", "Polen", "Poland"),
        ("CZ", "Tschechien", "Czechia"),
        ("DK", "Dänemark", "Denmark"),
        ("SE", "Schweden", "Sweden"),
        ("FI", "Finnland", "Finland"),
        ("NO", "Norwegen", "Norway"),
        ("IE", "Irland", "Ireland"),
        ("GB", "Vereinigtes Königreich", "United Kingdom"),
        ("US", "Vereinigte Staaten", "United States"),
    ];
    let code = code.trim().to_ascii_uppercase();
    names
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, de, en)| match locale {
            Locale::De => (*de).to_string(),
            Locale::En => (*en).to_string(),
        })
        .unwrap_or(code)
}

/// Base letters for U+0100..U+017F (Latin Extended-A), which the built-in fonts cannot show.
const LATIN_EXTENDED_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/// Windows-1252 characters in 0x80..0x9F: the typographic extras the built-in fonts have.
const WIN_ANSI_EXTRAS: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";

fn is_win_ansi(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{ff}') || WIN_ANSI_EXTRAS.contains(c)
}

/// A character as a document prints it, before any font is asked: line breaks stay (a footer
/// may have them; labels print one line at a time), a tab is a space, other control and
/// zero-width characters are dropped.
pub fn normalised(c: char) -> Option<char> {
    match c {
        '\n' => Some('\n'),
        '\t' => Some(' '),
        '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' => None,
        c if c.is_control() => None,
        c => Some(c),
    }
}

/// The WinAnsi twin of a dash or space that looks the same: printing it loses nothing.
fn layout_twin(c: char) -> Option<char> {
    match c {
        '\u{2010}' | '\u{2011}' | '\u{2212}' => Some('-'),
        '\u{2012}' | '\u{2015}' => Some('–'),
        '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' => Some(' '),
        _ => None,
    }
}

/// The WinAnsi character that stands in for one a font lacks: dashes and spaces their twins,
/// Latin Extended-A letters their base letter (Łódź -> Lodz).
fn win_ansi_twin(c: char) -> Option<char> {
    match c {
        '\u{100}'..='\u{17f}' => Some(char::from(LATIN_EXTENDED_A[c as usize - 0x100])),
        c => layout_twin(c),
    }
}

/// Whether printing `c` (normalised) as it is needs an embedded font: it is not WinAnsi, and
/// it is no dash or space whose WinAnsi twin looks the same.
pub fn needs_a_font(c: char) -> bool {
    !is_win_ansi(c) && c != '\n' && layout_twin(c).is_none()
}

/// Makes a string printable with the built-in fonts (WinAnsi): Latin Extended-A letters become
/// their base letter (Łódź -> Lodz), dashes and spaces their WinAnsi twins, anything else `?`.
/// genpdf refuses a string it cannot encode, and a customer's name must never fail a document.
/// A document whose data has such letters is set in an embedded font instead (`fonts.rs`);
/// this stays for its title in the file's metadata and as the safety net.
pub fn printable(s: &str) -> String {
    printable_with(s, is_win_ansi)
}

/// Makes a string printable with a font that has the characters `has` says: a character it
/// lacks becomes its WinAnsi twin if the font has that, else U+FFFD (or `?`).
pub fn printable_with(s: &str, has: impl Fn(char) -> bool) -> String {
    let replacement = if has('\u{fffd}') { '\u{fffd}' } else { '?' };
    s.chars()
        .filter_map(normalised)
        .map(|c| match c {
            c if c == '\n' || has(c) => c,
            c => win_ansi_twin(c)
                .filter(|&twin| has(twin))
                .unwrap_or(replacement),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn m(s: &str) -> Money {
        Money::from_decimal(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn money_has_two_decimals_grouping_and_the_currency_sign() {
        let cases = [
            ("1234.56", "EUR", Locale::De, "1.234,56 €"),
            ("1234.56", "EUR", Locale::En, "€1,234.56"),
            ("3.9", "EUR", Locale::De, "3,90 €"),
            ("0", "EUR", Locale::De, "0,00 €"),
            ("-23.07", "EUR", Locale::De, "-23,07 €"),
            ("-23.07", "EUR", Locale::En, "-€23.07"),
            ("1234567.5", "CHF", Locale::De, "1.234.567,50 CHF"),
            ("999.99", "CHF", Locale::En, "CHF 999.99"),
            ("100", "GBP", Locale::En, "£100.00"),
        ];
        for (amount, currency, locale, want) in cases {
            assert_eq!(
                money(m(amount), currency, locale),
                want,
                "{amount} {currency}"
            );
        }
    }

    #[test]
    fn rates_are_percentages() {
        let r = |s| Decimal::from_str(s).unwrap();
        assert_eq!(percent(r("0.19"), Locale::De), "19 %");
        assert_eq!(percent(r("0.160"), Locale::En), "16 %");
        assert_eq!(percent(r("0.07"), Locale::De), "7 %");
        assert_eq!(percent(r("0.055"), Locale::De), "5,5 %");
        assert_eq!(percent(r("0.055"), Locale::En), "5.5 %");
        assert_eq!(percent(r("0"), Locale::De), "0 %");
    }

    #[test]
    fn dates_and_countries_follow_the_locale() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 7).unwrap();
        assert_eq!(date(d, Locale::De), "07.11.2026");
        assert_eq!(date(d, Locale::En), "7 Nov 2026");
        assert_eq!(country("AT", Locale::De), "Österreich");
        assert_eq!(country("de", Locale::En), "Germany");
        assert_eq!(country("JP", Locale::De), "JP");
    }

    #[test]
    fn text_is_kept_printable_with_the_built_in_fonts() {
        assert_eq!(
            printable("Jörg Weiß, 5 € – „gut“"),
            "Jörg Weiß, 5 € – „gut“"
        );
        assert_eq!(printable("Łukasz Wałęsa, Łódź"), "Lukasz Walesa, Lódz");
        assert_eq!(printable("Šárka Dvořáková"), "Šárka Dvoráková");
        assert_eq!(printable("a\tb\u{200b}c\u{2212}1"), "a bc-1");
        assert_eq!(printable("東京"), "??");
        assert!(printable(&('\u{100}'..='\u{17f}').collect::<String>())
            .chars()
            .all(is_win_ansi));
    }

    #[test]
    fn no_document_text_says_gutschrift() {
        for w in [words(Locale::De), words(Locale::En)] {
            for method in [
                PaymentMethod::Card,
                PaymentMethod::Paypal,
                PaymentMethod::Invoice,
                PaymentMethod::GiftCard,
                PaymentMethod::BonusPoints,
            ] {
                assert!(!payment_method(method, Locale::De).contains("Gutsch"));
            }
            assert!(!w.credit.contains("Gutschrift"));
        }
        assert_eq!(
            payment_method(PaymentMethod::GiftCard, Locale::De),
            "Geschenkkarte"
        );
    }
}
