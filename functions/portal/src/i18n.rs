//! The portal's texts in German and English (`i18n/*.json`, the same keys in both), and how a
//! page picks its language: the fulfiller's locale, else the retailer's.

use dropship_core::catalogue::Locale;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn pick(fulfiller: Option<Locale>, retailer: Option<Locale>) -> Lang {
        match fulfiller.or(retailer).unwrap_or_default() {
            Locale::De => Lang::De,
            Locale::En => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
}

pub struct Texts {
    de: Value,
    en: Value,
}

impl Texts {
    /// The embedded texts; a broken file is a build mistake the unit tests catch.
    pub fn load() -> anyhow::Result<Texts> {
        Ok(Texts {
            de: serde_json::from_str(include_str!("../i18n/de.json"))?,
            en: serde_json::from_str(include_str!("../i18n/en.json"))?,
        })
    }

    pub fn all(&self, lang: Lang) -> &Value {
        match lang {
            Lang::De => &self.de,
            Lang::En => &self.en,
        }
    }

    /// One text by its dotted path (`errors.required`); the path itself if it is missing, so a
    /// gap shows up on the page instead of failing it.
    pub fn get(&self, lang: Lang, path: &str) -> String {
        let mut v = self.all(lang);
        for part in path.split('.') {
            match v.get(part) {
                Some(next) => v = next,
                None => return path.to_string(),
            }
        }
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| path.to_string())
    }

    /// Whether a text exists (to accept only known message keys from a query string).
    pub fn has(&self, lang: Lang, path: &str) -> bool {
        self.get(lang, path) != path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Some(map) = v.as_object() {
            for (k, child) in map {
                let p = format!("{prefix}{k}");
                paths(child, &format!("{p}."), out);
                out.insert(p);
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_texts() {
        let t = Texts::load().unwrap_or_else(|e| panic!("i18n files: {e}"));
        let (mut de, mut en) = (BTreeSet::new(), BTreeSet::new());
        paths(t.all(Lang::De), "", &mut de);
        paths(t.all(Lang::En), "", &mut en);
        assert_eq!(de, en);
        assert_eq!(t.get(Lang::De, "nav.stock"), "Bestand");
        assert_eq!(t.get(Lang::En, "nav.stock"), "Stock");
        assert_eq!(t.get(Lang::En, "nav.nope"), "nav.nope");
        assert!(!t.has(Lang::En, "done.nope"));
    }

    #[test]
    fn the_fulfillers_locale_wins_then_the_retailers() {
        assert_eq!(Lang::pick(Some(Locale::En), Some(Locale::De)), Lang::En);
        assert_eq!(Lang::pick(None, Some(Locale::En)), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::De);
    }
}
