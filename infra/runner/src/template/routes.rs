//! Route patterns: API Gateway HTTP API path matching and its order of specificity.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RoutePattern {
    Default,
    Path(Vec<Segment>),
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePattern::Default => write!(f, "$default"),
            RoutePattern::Path(segs) => {
                for s in segs {
                    match s {
                        Segment::Literal(l) => write!(f, "/{l}")?,
                        Segment::Param(p) => write!(f, "/{{{p}}}")?,
                        Segment::Greedy(p) => write!(f, "/{{{p}+}}")?,
                    }
                }
                if segs.is_empty() {
                    write!(f, "/")?;
                }
                Ok(())
            }
        }
    }
}

impl RoutePattern {
    pub fn parse(path: &str) -> Result<RoutePattern, String> {
        if path == "$default" {
            return Ok(RoutePattern::Default);
        }
        let rest = path
            .strip_prefix('/')
            .ok_or_else(|| format!("path `{path}` must start with /"))?;
        let mut segs = Vec::new();
        if rest.is_empty() {
            return Ok(RoutePattern::Path(segs));
        }
        let raw: Vec<&str> = rest.split('/').collect();
        for (i, s) in raw.iter().enumerate() {
            if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if let Some(greedy) = name.strip_suffix('+') {
                    if i + 1 != raw.len() {
                        return Err(format!(
                            "path `{path}`: {{{name}}} must be the last segment"
                        ));
                    }
                    segs.push(Segment::Greedy(greedy.to_string()));
                } else if name.is_empty() {
                    return Err(format!("path `{path}` has an empty {{}}"));
                } else {
                    segs.push(Segment::Param(name.to_string()));
                }
            } else if s.contains('{') || s.contains('}') {
                return Err(format!(
                    "path `{path}`: partial-segment variables are not supported"
                ));
            } else if s.is_empty() {
                return Err(format!("path `{path}` has an empty segment"));
            } else {
                segs.push(Segment::Literal(s.to_string()));
            }
        }
        Ok(RoutePattern::Path(segs))
    }

    /// Path parameters if `path` (raw, percent-encoded) matches; values are decoded.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let RoutePattern::Path(segs) = self else {
            return Some(BTreeMap::new());
        };
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut params = BTreeMap::new();
        for (i, seg) in segs.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i).map(|p| percent_decode(p)) != Some(l.clone()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let p = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), percent_decode(p));
                }
                Segment::Greedy(name) => {
                    if parts.len() <= i {
                        return None;
                    }
                    params.insert(name.clone(), percent_decode(&parts[i..].join("/")));
                    return Some(params);
                }
            }
        }
        (parts.len() == segs.len()).then_some(params)
    }

    /// Orders matches like API Gateway: literal segments beat variables, variables beat greedy
    /// ones, and `$default` comes last. Larger is more specific.
    pub fn specificity(&self) -> Vec<u8> {
        match self {
            RoutePattern::Default => Vec::new(),
            RoutePattern::Path(segs) => {
                let mut key: Vec<u8> = segs
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(_) => 3,
                        Segment::Param(_) => 2,
                        Segment::Greedy(_) => 1,
                    })
                    .collect();
                // Any path beats $default (empty key).
                key.insert(0, 1);
                key
            }
        }
    }
}

/// Decodes %XX escapes (invalid ones are kept as they are); `+` is not special in paths.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_match_like_api_gateway() {
        let p = RoutePattern::parse("/orders/{orderId}").expect("pattern");
        let m = p.matches("/orders/o%2D1").expect("match");
        assert_eq!(m["orderId"], "o-1");
        assert!(p.matches("/orders").is_none());
        assert!(p.matches("/orders/").is_none());
        assert!(p.matches("/orders/1/lines").is_none());

        let g = RoutePattern::parse("/files/{proxy+}").expect("greedy");
        assert_eq!(g.matches("/files/a/b/c").expect("match")["proxy"], "a/b/c");
        assert!(g.matches("/files").is_none());

        let literal = RoutePattern::parse("/orders/export").expect("literal");
        assert!(literal.specificity() > p.specificity());
        assert!(p.specificity() > g.specificity());
        assert!(g.specificity() > RoutePattern::Default.specificity());
        assert_eq!(p.to_string(), "/orders/{orderId}");
        assert!(RoutePattern::parse("/a/{x+}/b").is_err());
        assert!(RoutePattern::parse("orders").is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%C3%A4"), "ä");
    }
}
