//! Code 128 barcodes (ISO/IEC 15417), pure: data in, bar and space widths out. Code set B for
//! printable ASCII, switching to code set C (two digits per symbol) for runs of digits where
//! that makes the barcode shorter, so that a long id still fits a 4-inch label.

/// Widths (in modules) of bar, space, bar, space, bar, space for symbol values 0..=105, and
/// STOP (106) with its final bar. Every symbol is 11 modules wide, STOP 13.
const PATTERNS: [&[u8]; 107] = [
    b"212222", b"222122", b"222221", b"121223", b"121322", b"131222", b"122213", b"122312",
    b"132212", b"221213", b"221312", b"231212", b"112232", b"122132", b"122231", b"113222",
    b"123122", b"123221", b"223211", b"221132", b"221231", b"213212", b"223112", b"312131",
    b"311222", b"321122", b"321221", b"312212", b"322112", b"322211", b"212123", b"212321",
    b"232121", b"111323", b"131123", b"131321", b"112313", b"132113", b"132311", b"211313",
    b"231113", b"231311", b"112133", b"112331", b"132131", b"113123", b"113321", b"133121",
    b"313121", b"211331", b"231131", b"213113", b"213311", b"213131", b"311123", b"311321",
    b"331121", b"312113", b"312311", b"332111", b"314111", b"221411", b"431111", b"111224",
    b"111422", b"121124", b"121421", b"141122", b"141221", b"112214", b"112412", b"122114",
    b"122411", b"142112", b"142211", b"241211", b"221114", b"413111", b"241112", b"134111",
    b"111242", b"121142", b"121241", b"114212", b"124112", b"124211", b"411212", b"421112",
    b"421211", b"212141", b"214121", b"412121", b"111143", b"111341", b"131141", b"114113",
    b"114311", b"411113", b"411311", b"113141", b"114131", b"311141", b"411131", b"211412",
    b"211214", b"211232", b"2331112",
];

const CODE_C: u8 = 99;
const CODE_B: u8 = 100;
const START_B: u8 = 104;
const START_C: u8 = 105;
const STOP: u8 = 106;

/// Modules of blank space each side: the symbology's minimum quiet zone (10 X).
pub const QUIET_ZONE: u32 = 10;

#[derive(Debug, PartialEq, Eq)]
pub struct Unencodable(pub char);

impl std::fmt::Display for Unencodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} cannot be encoded in Code 128 (printable ASCII only)",
            self.0
        )
    }
}

impl std::error::Error for Unencodable {}

/// The symbol values of `data`: start, data, check symbol, stop.
pub fn symbols(data: &str) -> Result<Vec<u8>, Unencodable> {
    if let Some(bad) = data.chars().find(|c| !matches!(c, ' '..='~')) {
        return Err(Unencodable(bad));
    }
    if data.is_empty() {
        return Err(Unencodable(' '));
    }
    let bytes = data.as_bytes();
    let digits_at = |i: usize| bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut out = Vec::with_capacity(bytes.len() + 4);
    let mut i = 0;
    // Code set C pays off for at least 4 digits at either end, or 6 in the middle.
    let lead = digits_at(0);
    let mut in_c = lead >= 4 || (lead == bytes.len() && lead % 2 == 0);
    out.push(if in_c { START_C } else { START_B });
    while i < bytes.len() {
        if in_c {
            if digits_at(i) >= 2 {
                out.push((bytes[i] - b'0') * 10 + (bytes[i + 1] - b'0'));
                i += 2;
                continue;
            }
            out.push(CODE_B);
            in_c = false;
        }
        let run = digits_at(i);
        let worth_it = if i + run == bytes.len() {
            run >= 4
        } else {
            run >= 6
        };
        if worth_it && run % 2 == 0 {
            out.push(CODE_C);
            in_c = true;
            continue;
        }
        // An odd run: its first digit goes in B, the even rest in C (next round).
        out.push(bytes[i] - b' ');
        i += 1;
    }
    out.push(checksum(&out));
    out.push(STOP);
    Ok(out)
}

/// The check symbol: start value plus each symbol value times its position, modulo 103.
pub fn checksum(start_and_data: &[u8]) -> u8 {
    let sum: u32 = start_and_data
        .iter()
        .enumerate()
        .map(|(i, &v)| u32::from(v) * (i as u32).max(1))
        .sum();
    (sum % 103) as u8
}

/// Bar and space widths in modules, alternating and starting with a bar (quiet zones excluded).
pub fn widths(data: &str) -> Result<Vec<u8>, Unencodable> {
    Ok(symbols(data)?
        .into_iter()
        .flat_map(|v| PATTERNS[usize::from(v)].iter().map(|w| w - b'0'))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(data: &str) -> String {
        widths(data)
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, &w)| if i % 2 == 0 { "1" } else { "0" }.repeat(usize::from(w)))
            .collect()
    }

    #[test]
    fn every_pattern_has_three_bars_and_eleven_modules() {
        for (v, p) in PATTERNS.iter().enumerate() {
            let total: u32 = p.iter().map(|w| u32::from(w - b'0')).sum();
            assert_eq!(total, if v == 106 { 13 } else { 11 }, "symbol {v}");
            assert!(p.iter().all(|w| (b'1'..=b'4').contains(w)));
        }
        let mut unique = PATTERNS.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 107, "patterns are distinct");
    }

    #[test]
    fn the_wikipedia_example_has_check_symbol_54() {
        // Wikipedia's "PJJ123C" uses code set A (START A = 103):
        // 103 + 48*1 + 42*2 + 42*3 + 17*4 + 18*5 + 19*6 + 35*7 = 878 = 8*103 + 54.
        assert_eq!(checksum(&[103, 48, 42, 42, 17, 18, 19, 35]), 54);
        // These letters and digits have the same values in code set B, whose start is 104: 55.
        let s = symbols("PJJ123C").unwrap();
        assert_eq!(s, [104, 48, 42, 42, 17, 18, 19, 35, 55, 106]);
        let bits = modules("PJJ123C");
        assert!(bits.starts_with("11010010000"), "START B");
        assert!(bits.ends_with("1100011101011"), "STOP with its final bar");
        assert_eq!(bits.len(), 11 * 9 + 13);
        // barcodeisland.com's "HI345678" (A, then C): 1406 = 13*103 + 67.
        assert_eq!(checksum(&[103, 40, 41, 99, 34, 56, 78]), 67);
    }

    #[test]
    fn digits_use_code_set_c_where_it_is_shorter() {
        // 105 + 12*1 + 34*2 + 56*3 = 353 = 3*103 + 44
        assert_eq!(symbols("123456").unwrap(), [105, 12, 34, 56, 44, 106]);
        // An odd run at the end: one digit in B, then C.
        let s = symbols("DO-12345").unwrap();
        assert_eq!(&s[..5], [104, 36, 47, 13, 17]);
        assert_eq!(&s[5..8], [CODE_C, 23, 45]);
        // Short runs stay in B.
        assert_eq!(symbols("A12B").unwrap()[..5], [104, 33, 17, 18, 34]);
        // C, then back to B for letters.
        assert_eq!(symbols("1234AB").unwrap()[..5], [105, 12, 34, CODE_B, 33]);
    }

    #[test]
    fn only_printable_ascii_is_encoded() {
        assert_eq!(symbols("Straße"), Err(Unencodable('ß')));
        assert!(symbols("").is_err());
        assert!(symbols("ret_0193a1b2-c3d4.X").is_ok());
    }
}
