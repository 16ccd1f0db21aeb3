//! Lambda's event filtering (`FilterCriteria.Filters[].Pattern`) for stream event sources: a
//! record is delivered when any pattern matches it; the others are dropped and checkpointed
//! past, as Lambda does. The pattern syntax is EventBridge's: nested objects follow the record's
//! fields, and a leaf is a list of alternatives, each a literal (equality) or one of `prefix`,
//! `suffix`, `equals-ignore-case`, `anything-but` (a value, a list or `{prefix}`), `numeric`
//! and `exists`. As in Lambda, `numeric` compares JSON numbers only: DynamoDB's `N` values are
//! strings in the record, so they match by equality or `prefix`, not by `numeric`.

use serde_json::{Map, Value};

/// One validated pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Map<String, Value>);

impl Pattern {
    /// Reads a pattern from its JSON text, naming what is wrong with it.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("Pattern is not JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("Pattern must be a JSON object".into());
        };
        check_object(&map, "")?;
        Ok(Pattern(map))
    }

    pub fn matches(&self, record: &Value) -> bool {
        object_matches(&self.0, Some(record))
    }
}

/// Whether a record passes the filters (none = every record).
pub fn passes(filters: &[Pattern], record: &Value) -> bool {
    filters.is_empty() || filters.iter().any(|p| p.matches(record))
}

fn check_object(map: &Map<String, Value>, path: &str) -> Result<(), String> {
    for (key, value) in map {
        let here = format!("{path}{key}");
        match value {
            Value::Object(inner) => check_object(inner, &format!("{here}."))?,
            Value::Array(alternatives) => {
                if alternatives.is_empty() {
                    return Err(format!("{here}: a list of values must not be empty"));
                }
                for alternative in alternatives {
                    check_alternative(alternative).map_err(|e| format!("{here}: {e}"))?;
                }
            }
            other => {
                return Err(format!(
                    "{here}: expected an object or a list of values, found {other}"
                ))
            }
        }
    }
    Ok(())
}

fn check_alternative(alternative: &Value) -> Result<(), String> {
    let Value::Object(op) = alternative else {
        return Ok(());
    };
    let mut entries = op.iter();
    let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "an operator object has exactly one key: {alternative}"
        ));
    };
    let ok = match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => arg.is_string(),
        "exists" => arg.is_boolean(),
        "anything-but" => match arg {
            Value::Array(items) => items.iter().all(|i| i.is_string() || i.is_number()),
            Value::Object(inner) => {
                inner.len() == 1 && inner.get("prefix").is_some_and(Value::is_string)
            }
            Value::String(_) | Value::Number(_) => true,
            _ => false,
        },
        "numeric" => numeric_conditions(arg).is_some(),
        other => return Err(format!("operator `{other}` is not supported")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` has an invalid argument {arg}"))
    }
}

/// `[">", 0, "<=", 5]` → its comparisons; `None` if malformed.
fn numeric_conditions(arg: &Value) -> Option<Vec<(&str, f64)>> {
    let items = arg.as_array()?;
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return None;
    }
    items
        .chunks(2)
        .map(|pair| {
            let op = pair[0].as_str()?;
            let n = pair[1].as_f64()?;
            ["=", "<", "<=", ">", ">="].contains(&op).then_some((op, n))
        })
        .collect()
}

fn object_matches(pattern: &Map<String, Value>, value: Option<&Value>) -> bool {
    pattern.iter().all(|(key, expected)| {
        let field = value.and_then(|v| v.get(key));
        match expected {
            Value::Object(inner) => object_matches(inner, field),
            Value::Array(alternatives) => leaf_matches(alternatives, field),
            _ => false,
        }
    })
}

fn leaf_matches(alternatives: &[Value], field: Option<&Value>) -> bool {
    // A list in the record matches when any of its elements does.
    let values: Vec<&Value> = match field {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
    };
    alternatives.iter().any(|alternative| {
        if let Some(exists) = alternative.get("exists").and_then(Value::as_bool) {
            let present = field.is_some_and(|f| !f.is_object());
            return exists == present;
        }
        values.iter().any(|v| value_matches(alternative, v))
    })
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn value_matches(alternative: &Value, v: &Value) -> bool {
    let Value::Object(op) = alternative else {
        return same(alternative, v);
    };
    let Some((name, arg)) = op.iter().next() else {
        return false;
    };
    let text = v.as_str();
    match name.as_str() {
        "prefix" => text
            .zip(arg.as_str())
            .is_some_and(|(t, p)| t.starts_with(p)),
        "suffix" => text.zip(arg.as_str()).is_some_and(|(t, s)| t.ends_with(s)),
        "equals-ignore-case" => text
            .zip(arg.as_str())
            .is_some_and(|(t, s)| t.eq_ignore_ascii_case(s)),
        "anything-but" => match arg {
            Value::Array(items) => !items.iter().any(|i| same(i, v)),
            Value::Object(inner) => match (text, inner.get("prefix").and_then(Value::as_str)) {
                (Some(t), Some(p)) => !t.starts_with(p),
                _ => false,
            },
            single => !same(single, v),
        },
        "numeric" => match (
            v.as_f64().filter(|_| v.is_number()),
            numeric_conditions(arg),
        ) {
            (Some(n), Some(conditions)) => conditions.iter().all(|(op, bound)| match *op {
                "=" => n == *bound,
                "<" => n < *bound,
                "<=" => n <= *bound,
                ">" => n > *bound,
                _ => n >= *bound,
            }),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Value {
        json!({
            "eventName": "MODIFY",
            "dynamodb": {
                "Keys": {"pk": {"S": "ORDER#o-1"}},
                "NewImage": {"pk": {"S": "ORDER#o-1"}, "status": {"S": "shipped"},
                             "lines": {"N": "3"}, "tags": {"SS": ["a", "b"]}},
                "SizeBytes": 120
            }
        })
    }

    fn matches(pattern: Value) -> bool {
        Pattern::parse(&pattern.to_string())
            .expect("valid pattern")
            .matches(&record())
    }

    #[test]
    fn exact_values_and_nested_image_paths() {
        assert!(matches(json!({"eventName": ["INSERT", "MODIFY"]})));
        assert!(!matches(json!({"eventName": ["REMOVE"]})));
        assert!(matches(
            json!({"dynamodb": {"NewImage": {"status": {"S": ["shipped"]}}}})
        ));
        assert!(!matches(
            json!({"dynamodb": {"NewImage": {"status": {"S": ["open"]}}}})
        ));
        // Every field of a pattern must match.
        assert!(!matches(
            json!({"eventName": ["MODIFY"], "dynamodb": {"OldImage": {"status": {"S": ["open"]}}}})
        ));
        // A list in the record matches by any element.
        assert!(matches(
            json!({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}})
        ));
    }

    #[test]
    fn operators() {
        assert!(matches(
            json!({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "ORDER#"}]}}}})
        ));
        assert!(!matches(
            json!({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "RETURN#"}]}}}})
        ));
        assert!(matches(
            json!({"dynamodb": {"Keys": {"pk": {"S": [{"suffix": "-1"}]}}}})
        ));
        assert!(matches(
            json!({"eventName": [{"equals-ignore-case": "modify"}]})
        ));
        assert!(matches(
            json!({"eventName": [{"anything-but": ["REMOVE"]}]})
        ));
        assert!(!matches(json!({"eventName": [{"anything-but": "MODIFY"}]})));
        assert!(matches(
            json!({"eventName": [{"anything-but": {"prefix": "INS"}}]})
        ));
        assert!(matches(
            json!({"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 120]}]}})
        ));
        assert!(!matches(
            json!({"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}})
        ));
        // DynamoDB numbers are strings in the record: numeric does not apply to them.
        assert!(!matches(
            json!({"dynamodb": {"NewImage": {"lines": {"N": [{"numeric": [">", 1]}]}}}})
        ));
        assert!(matches(
            json!({"dynamodb": {"NewImage": {"lines": {"N": ["3"]}}}})
        ));
        assert!(!matches(
            json!({"dynamodb": {"NewImage": {"status": [{"exists": true}]}}})
        ));
        assert!(matches(
            json!({"dynamodb": {"NewImage": {"status": {"S": [{"exists": true}]}}}})
        ));
        assert!(matches(
            json!({"dynamodb": {"OldImage": {"status": {"S": [{"exists": false}]}}}})
        ));
        assert!(!matches(
            json!({"dynamodb": {"NewImage": {"status": {"S": [{"exists": false}]}}}})
        ));
        // Alternatives of a leaf: any may match.
        assert!(matches(json!({"eventName": ["INSERT", {"prefix": "MOD"}]})));
    }

    #[test]
    fn filters_are_alternatives_and_none_passes_everything() {
        let a = Pattern::parse(r#"{"eventName": ["INSERT"]}"#).expect("a");
        let b = Pattern::parse(r#"{"eventName": ["MODIFY"]}"#).expect("b");
        assert!(passes(&[], &record()));
        assert!(passes(&[a.clone(), b], &record()));
        assert!(!passes(&[a], &record()));
    }

    #[test]
    fn malformed_patterns_are_named() {
        for (bad, says) in [
            ("[1]", "object"),
            ("{", "not JSON"),
            (r#"{"eventName": "INSERT"}"#, "eventName"),
            (r#"{"eventName": []}"#, "empty"),
            (r#"{"a": [{"wildcard": "x*"}]}"#, "wildcard"),
            (r#"{"a": [{"numeric": [">", "x"]}]}"#, "numeric"),
            (r#"{"a": [{"prefix": 1}]}"#, "prefix"),
            (r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#, "one key"),
        ] {
            let err = Pattern::parse(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
