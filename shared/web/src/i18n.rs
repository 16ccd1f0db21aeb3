//! A site's texts in German and English (two JSON documents with the same keys), and how a page
//! picks its language: the person's locale, else the retailer's.

use dropship_core::catalogue::Locale;
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    /// The person's locale wins, then the retailer's; German without either.
    pub fn pick(person: Option<Locale>, retailer: Option<Locale>) -> Lang {
        match person.or(retailer).unwrap_or_default() {
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
    /// The texts from their JSON documents (embedded by the site; a broken one is a build
    /// mistake its unit tests catch).
    pub fn from_json(de: &str, en: &str) -> anyhow::Result<Texts> {
        Ok(Texts {
            de: serde_json::from_str(de)?,
            en: serde_json::from_str(en)?,
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

    /// Every dotted path of a language's texts, to check both languages have the same.
    pub fn paths(&self, lang: Lang) -> BTreeSet<String> {
        fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
            if let Some(map) = v.as_object() {
                for (k, child) in map {
                    let p = format!("{prefix}{k}");
                    walk(child, &format!("{p}."), out);
                    out.insert(p);
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(self.all(lang), "", &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_found_by_path_and_a_gap_shows_itself() {
        let t = Texts::from_json(
            r#"{"nav": {"stock": "Bestand"}}"#,
            r#"{"nav": {"stock": "Stock"}}"#,
        )
        .unwrap();
        assert_eq!(t.get(Lang::De, "nav.stock"), "Bestand");
        assert_eq!(t.get(Lang::En, "nav.nope"), "nav.nope");
        assert!(!t.has(Lang::En, "nav.nope"));
        assert_eq!(t.paths(Lang::De), t.paths(Lang::En));
        assert!(Texts::from_json("{", "{}").is_err());
    }

    #[test]
    fn the_persons_locale_wins_then_the_retailers() {
        assert_eq!(Lang::pick(Some(Locale::En), Some(Locale::De)), Lang::En);
        assert_eq!(Lang::pick(None, Some(Locale::En)), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::De);
    }
}
