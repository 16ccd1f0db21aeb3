//! Stock counts reported by a fulfiller: validated as a whole before any is applied.

use crate::ids::check_id;
use crate::ApiError;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

pub const MAX_ITEMS: usize = 1000;
pub const MAX_AVAILABLE: u64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCount {
    pub sku: String,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockUpdate {
    pub as_of: DateTime<Utc>,
    pub items: Vec<StockCount>,
}

impl StockUpdate {
    /// `{asOf?, items: [{sku, available}]}`; `asOf` defaults to `now` and may not lie in the
    /// future (a minute of clock skew is tolerated).
    pub fn parse(v: &Value, now: DateTime<Utc>) -> Result<Self, ApiError> {
        let as_of = match v.get("asOf") {
            None | Some(Value::Null) => now,
            Some(t) => t
                .as_str()
                .and_then(|s| s.parse::<DateTime<Utc>>().ok())
                .ok_or_else(|| ApiError::invalid("asOf", "asOf must be an RFC 3339 timestamp"))?,
        };
        if as_of > now + Duration::minutes(1) {
            return Err(ApiError::invalid("asOf", "asOf lies in the future"));
        }
        let raw = v
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::invalid("items", "items must be an array"))?;
        if raw.is_empty() || raw.len() > MAX_ITEMS {
            return Err(ApiError::invalid(
                "items",
                format!("items must hold 1..{MAX_ITEMS} counts"),
            ));
        }
        let mut items: Vec<StockCount> = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            let sku = item
                .get("sku")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid(format!("items[{i}].sku"), "sku is required"))?;
            check_id(&format!("items[{i}].sku"), sku)?;
            if items.iter().any(|c| c.sku == sku) {
                return Err(ApiError::invalid(
                    format!("items[{i}].sku"),
                    format!("sku {sku} appears twice"),
                ));
            }
            let available = item
                .get("available")
                .and_then(Value::as_u64)
                .filter(|a| *a <= MAX_AVAILABLE)
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("items[{i}].available"),
                        "available must be an integer 0..1000000000",
                    )
                })?;
            items.push(StockCount {
                sku: sku.to_string(),
                available: available as u32,
            });
        }
        Ok(StockUpdate { as_of, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}

/// A CSV row the feed could not use, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// Parses a stock feed: UTF-8 CSV with the header `sku,available`. Good rows are returned to be
/// applied, bad rows are reported with their line numbers; a later row for the same sku wins.
pub fn parse_feed(bytes: &[u8]) -> Result<(Vec<StockCount>, Vec<BadRow>), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the feed is not UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header))
            if header
                .trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("sku,available") => {}
        _ => return Err("the first line must be the header sku,available".into()),
    }
    let mut good: Vec<StockCount> = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in lines {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(|f| f.trim().trim_matches('"')).collect();
        if fields.len() != 2 {
            bad.push(BadRow {
                line,
                reason: format!("expected 2 fields, found {}", fields.len()),
            });
            continue;
        }
        if !crate::ids::is_valid_id(fields[0]) {
            bad.push(BadRow {
                line,
                reason: format!("invalid sku {:?}", fields[0]),
            });
            continue;
        }
        match fields[1].parse::<u64>() {
            Ok(n) if n <= MAX_AVAILABLE => {
                good.retain(|c| c.sku != fields[0]);
                good.push(StockCount {
                    sku: fields[0].to_string(),
                    available: n as u32,
                });
            }
            _ => bad.push(BadRow {
                line,
                reason: format!("available {:?} is not an integer 0..1000000000", fields[1]),
            }),
        }
    }
    Ok((good, bad))
}

#[cfg(test)]
mod feed_tests {
    use super::*;

    #[test]
    fn reports_bad_rows_with_line_numbers_and_keeps_good_ones() {
        let (good, bad) = parse_feed(b"sku,available\nA,3\nB,-1\n\nC\nA,5\n").unwrap();
        assert_eq!(
            good,
            vec![StockCount {
                sku: "A".into(),
                available: 5
            }]
        );
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [3, 5]);
        assert!(parse_feed(b"product,qty\nA,1").is_err());
        assert!(parse_feed(&[0xff, 0xfe]).is_err());
    }
}
