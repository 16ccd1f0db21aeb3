//! The portal's texts in German and English (`i18n/*.json`, the same keys in both); the rules
//! are `dropship_web::i18n`'s.

pub use dropship_web::i18n::{Lang, Texts};

/// The portal's embedded texts.
pub fn texts() -> anyhow::Result<Texts> {
    Texts::from_json(
        include_str!("../i18n/de.json"),
        include_str!("../i18n/en.json"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_texts() {
        let t = texts().unwrap_or_else(|e| panic!("i18n files: {e}"));
        assert_eq!(t.paths(Lang::De), t.paths(Lang::En));
        assert_eq!(t.get(Lang::De, "nav.stock"), "Bestand");
        assert_eq!(t.get(Lang::En, "nav.stock"), "Stock");
    }
}
