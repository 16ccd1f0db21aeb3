//! Request bodies read into typed input structs (`#[derive(Deserialize)]`) through
//! `serde_path_to_error`, so that a refusal names the field as docs/api.md's error shape does:
//! `lines[2].quantity`, `shippingAddress.city`, and `body` for the body itself.
//!
//! Serde checks the shape (objects, arrays, strings, the validated newtypes); the checks serde
//! cannot word as the API does (ranges, sums, duplicates, one message for a value that is
//! missing or mistyped alike) run after it, on the typed struct. An input struct holds such a
//! field as `Option<_>` or `Lax<_>` and leaves the refusal to that check.

use crate::error::Invalid;
use crate::ids::check_id;
use crate::ApiError;
use chrono::{DateTime, Utc};
use serde::de::value::{MapAccessDeserializer, MapDeserializer};
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;

/// The scalar visits of a visitor that takes any value: each answers `$other`.
macro_rules! not_this_type {
    ($this:ident => $other:expr) => {
        fn visit_bool<E: de::Error>($this, _: bool) -> Result<Self::Value, E> {
            $other
        }
        fn visit_i64<E: de::Error>($this, _: i64) -> Result<Self::Value, E> {
            $other
        }
        fn visit_u64<E: de::Error>($this, _: u64) -> Result<Self::Value, E> {
            $other
        }
        // A JSON number with a fraction is only recognised as the wrong type here, never
        // read as a value (money arrives as a decimal string).
        fn visit_f64<E: de::Error>($this, _: f64) -> Result<Self::Value, E> {
            $other
        }
        fn visit_str<E: de::Error>($this, _: &str) -> Result<Self::Value, E> {
            $other
        }
        fn visit_unit<E: de::Error>($this) -> Result<Self::Value, E> {
            $other
        }
        fn visit_none<E: de::Error>($this) -> Result<Self::Value, E> {
            $other
        }
    };
}

/// Reads `body` into `T`, wording serde's refusals as the API's own checks do: `customer must be
/// an object`, `lines must be an array`, `shippingAddress.city is required`.
/// The body's own type is the caller's: `Object<_>` (`body must be an object`) or `Fields<_>`.
pub fn read<T: DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| refusal(e, Wording::Api))
}

/// Reads `body` into `T`, keeping serde's own words (`missing field `kind``): the admin
/// configuration inputs have always answered with them. The error names the field.
pub fn read_as_serde<T: DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| refusal(e, Wording::Serde))
}

/// A struct the body must give as a JSON object. Serde's derive also reads a struct from an
/// array of its fields in order; the API never took that, and refuses it with `must be an
/// object` as before. A caller of `read` wraps the body in it, an input struct its nested structs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            // The map is the one `d` gives, so the path of a field inside stays tracked.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(Fields(PhantomData))
    }
}

/// A value the body gives for a field whose check words every refusal alike (missing, null,
/// mistyped or out of range: `quantity must be an integer 1..999`): `Lax(Some(_))` when the
/// value is a `T`, else `Lax(None)`, left to that check. `#[serde(default)]` reads a missing
/// field as `Lax(None)`; `Option<Lax<T>>` tells a missing or null field (`None`) from a bad one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lax<T>(pub Option<T>);

impl<T> Default for Lax<T> {
    fn default() -> Self {
        Lax(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lax<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Lax(T::deserialize(v).ok()))
    }
}

/// A list the body gives for a field whose check refuses a missing list and a value of another
/// type alike (`lines is required`): `List(Some(_))` for an array, read element by element (an
/// element's refusal names its path), `List(None)` for anything else. `#[serde(default)]` reads a
/// missing field as `List(None)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1000));
                while let Some(t) = seq.next_element()? {
                    out.push(t);
                }
                Ok(List(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
                drain_map(map)?;
                Ok(List(None))
            }
            not_this_type!(self => Ok(List(None)));
        }
        d.deserialize_any(Elements(PhantomData))
    }
}

/// A struct whose check never asked for an object: a value of another type reads as one with
/// no fields (each then missing, as `v.get("lineId")` on a string found nothing before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Fields<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AnyValue<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> AnyValue<T> {
            fn none<E: de::Error>(self) -> Result<Fields<T>, E> {
                let nothing = std::iter::empty::<(String, String)>();
                T::deserialize(MapDeserializer::<_, E>::new(nothing)).map(Fields)
            }
        }
        impl<'de, T: Deserialize<'de>> Visitor<'de> for AnyValue<T> {
            type Value = Fields<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Fields<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Fields)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Fields<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                self.none()
            }
            not_this_type!(self => self.none());
        }
        d.deserialize_any(AnyValue(PhantomData))
    }
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A 422 for a field that must be there, worded as the API always has (`externalId is required`).
pub fn required(field: &str) -> ApiError {
    ApiError::required(field, format!("{field} is required"))
}

/// A 422 for a field missing or not a string where the API says so (`customer.email must be a
/// string`).
pub fn not_a_string(field: &str) -> ApiError {
    ApiError::invalid(field, format!("{field} must be a string"))
}

/// `{lineId, quantity}`: units of an order line a request names (cancel, replace, ship), read
/// leniently; `line_id` and `quantity` word the refusals as the API always has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineUnitsInput {
    #[serde(default)]
    pub line_id: Lax<String>,
    #[serde(default)]
    pub quantity: Lax<u64>,
}

/// `lines[i].lineId`, which must be given as a string (`lineId is required`).
pub fn named_line(i: usize, given: Lax<String>) -> Result<String, ApiError> {
    given
        .0
        .ok_or_else(|| ApiError::required(format!("lines[{i}].lineId"), "lineId is required"))
}

/// `named_line` that must also be an id.
pub fn line_id(i: usize, given: Lax<String>) -> Result<String, ApiError> {
    let id = named_line(i, given)?;
    check_id(&format!("lines[{i}].lineId"), &id)?;
    Ok(id)
}

/// `lines[i].quantity` when it is a whole number that `fits`, else refused in `words`
/// (`quantity must be an integer 1..999`).
pub fn quantity(
    i: usize,
    given: Lax<u64>,
    fits: impl Fn(u64) -> bool,
    words: &str,
) -> Result<u32, ApiError> {
    given
        .0
        .filter(|q| fits(*q))
        .and_then(|q| u32::try_from(q).ok())
        .ok_or_else(|| ApiError::invalid(format!("lines[{i}].quantity"), words))
}

/// The most units of one line a request may name.
pub const MAX_UNITS: u64 = 999;

/// `lines[i].quantity` of units of an order line: 1..999, as every request names them.
pub fn units(i: usize, given: Lax<u64>) -> Result<u32, ApiError> {
    quantity(
        i,
        given,
        |q| (1..=MAX_UNITS).contains(&q),
        "quantity must be an integer 1..999",
    )
}

/// An optional RFC 3339 time (`None` when missing or null); any other value that is not one is
/// refused in `words` (`shippedAt must be an RFC 3339 timestamp`).
pub fn time(
    field: &str,
    given: Option<Lax<String>>,
    words: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    given
        .map(|Lax(s)| {
            s.and_then(|s| s.parse::<DateTime<Utc>>().ok())
                .ok_or_else(|| ApiError::invalid(field, words))
        })
        .transpose()
}

enum Wording {
    Api,
    Serde,
}

/// The one place serde's refusal becomes the API's: the path as the API writes fields, and
/// (`Wording::Api`) the words of the checks the input types replaced.
fn refusal(e: serde_path_to_error::Error<serde_json::Error>, wording: Wording) -> ApiError {
    let path = e.path().to_string();
    let message = e.into_inner().to_string();
    // The path is the one the API writes (`lines[2].quantity`) but for the body itself ("."),
    // and serde reports a missing field at its parent, where the path stopped.
    let parent = if path == "." { "" } else { path.as_str() };
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        let field = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}.{name}")
        };
        return match wording {
            Wording::Api => required(&field),
            Wording::Serde => ApiError::invalid(field, message).because(Invalid::Required),
        };
    }
    let field = if parent.is_empty() { "body" } else { parent };
    let message = match wording {
        Wording::Api => api_words(field, &message).unwrap_or(message),
        Wording::Serde => message,
    };
    ApiError::invalid(field, message)
}

/// `invalid type: integer `5`, expected a string` as the hand-written checks said it.
fn api_words(field: &str, message: &str) -> Option<String> {
    let (_, expected) = message
        .strip_prefix("invalid type: ")?
        .rsplit_once(", expected ")?;
    let what = match expected {
        "a string" => "a string",
        "a sequence" => "an array",
        "an object" => "an object",
        _ => return None,
    };
    Some(format!("{field} must be {what}"))
}

/// A refused request's field and words, for the tests of each input type.
#[cfg(test)]
pub(crate) fn refused<T>(r: Result<T, ApiError>) -> (String, String) {
    let e = r.err().expect("the request is refused");
    assert_eq!(
        (e.status, e.code),
        (422, crate::ErrorCode::ValidationFailed)
    );
    assert_eq!(
        e.invalid == Some(Invalid::Required),
        e.message.ends_with(" is required"),
        "{e:?}"
    );
    (e.field.unwrap_or_default(), e.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Currency;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)] // read only through Debug: the tests are about the refusals
    struct Body {
        name: String,
        currency: Option<Currency>,
        lines: Option<Vec<Object<Line>>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        line_id: String,
        #[serde(default)]
        quantity: Lax<u64>,
    }

    fn refused(body: Value) -> (Option<String>, String, Option<Invalid>) {
        let e = read::<Object<Body>>(&body).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (422, crate::ErrorCode::ValidationFailed)
        );
        (e.field, e.message, e.invalid)
    }

    fn at(field: &str, message: &str) -> (Option<String>, String, Option<Invalid>) {
        (Some(field.into()), message.into(), None)
    }

    #[test]
    fn a_refusal_names_the_field_path_as_the_api_writes_it() {
        assert_eq!(refused(json!([1])), at("body", "body must be an object"));
        assert_eq!(
            refused(json!({})),
            (
                Some("name".into()),
                "name is required".into(),
                Some(Invalid::Required)
            )
        );
        assert_eq!(
            refused(json!({"name": 5})),
            at("name", "name must be a string")
        );
        assert_eq!(
            refused(json!({"name": "n", "lines": {}})),
            at("lines", "lines must be an array")
        );
        assert_eq!(
            refused(json!({"name": "n", "lines": [{"lineId": "a"}, 7]})),
            at("lines[1]", "lines[1] must be an object")
        );
        assert_eq!(
            refused(json!({"name": "n", "lines": [{"lineId": "a"}, {"quantity": 1}]})),
            (
                Some("lines[1].lineId".into()),
                "lines[1].lineId is required".into(),
                Some(Invalid::Required)
            )
        );
        // Serde would read a struct from an array of its fields: the API never did.
        assert_eq!(
            refused(json!({"name": "n", "lines": [["a", 1]]})),
            at("lines[0]", "lines[0] must be an object")
        );
        assert_eq!(
            refused(json!({"name": "n", "lines": [{"lineId": "a", "colour": "red"}]})).0,
            Some("lines[0].colour".into())
        );
        // A validated newtype's own words, at its path.
        assert_eq!(
            refused(json!({"name": "n", "currency": "JPY"})),
            at(
                "currency",
                "currency must be an ISO 4217 code with two minor units"
            )
        );
    }

    #[test]
    fn lax_takes_what_it_can_read_and_leaves_the_rest_to_the_check() {
        let lines = |v: Value| {
            read::<Object<Body>>(&json!({"name": "n", "lines": [v]}))
                .unwrap()
                .0
                .lines
                .unwrap()
                .remove(0)
                .0
                .quantity
        };
        assert_eq!(lines(json!({"lineId": "a", "quantity": 3})), Lax(Some(3)));
        for bad in [json!(null), json!("3"), json!(1.5), json!(-1)] {
            assert_eq!(lines(json!({"lineId": "a", "quantity": bad})), Lax(None));
        }
        assert_eq!(lines(json!({"lineId": "a"})), Lax(None));
    }

    #[test]
    fn serde_wording_keeps_serdes_words_and_adds_the_field() {
        let e = read_as_serde::<Body>(&json!({"name": "n", "lines": [{"lineId": 5}]})).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (
                Some("lines[0].lineId"),
                "invalid type: integer `5`, expected a string"
            )
        );
        let e = read_as_serde::<Body>(&json!({})).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("name"), "missing field `name`")
        );
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Units {
        #[serde(default)]
        line_id: Lax<String>,
        note: Option<String>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Request {
        #[serde(default)]
        lines: List<Fields<Units>>,
    }

    #[test]
    fn list_and_fields_read_a_value_of_another_type_as_missing() {
        let lines = |body: Value| read::<Fields<Request>>(&body).map(|Fields(r)| r.lines.0);
        for other in [json!("x"), json!(5), json!(null), json!({}), json!(true)] {
            assert_eq!(lines(json!({"lines": other})).unwrap(), None);
            // A body of another type has no fields at all.
            assert_eq!(lines(other).unwrap(), None);
        }
        let units = |line_id: Option<&str>| {
            Fields(Units {
                line_id: Lax(line_id.map(str::to_owned)),
                note: None,
            })
        };
        assert_eq!(
            lines(json!({"lines": [{"lineId": "L1"}, "L2", [1], {"lineId": 2}]})).unwrap(),
            Some(vec![
                units(Some("L1")),
                units(None),
                units(None),
                units(None)
            ])
        );
        // Inside an element, serde still checks and names the path.
        let e = lines(json!({"lines": [{"lineId": "L1"}, {"note": 5}]})).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("lines[1].note"), "lines[1].note must be a string")
        );
    }

    #[test]
    fn a_time_is_rfc_3339_or_refused_in_the_callers_words() {
        let words = "asOf must be an RFC 3339 timestamp";
        assert_eq!(time("asOf", None, words).unwrap(), None);
        let t = time(
            "asOf",
            Some(Lax(Some("2026-11-27T10:00:00+01:00".into()))),
            words,
        )
        .unwrap();
        assert_eq!(
            t.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-27T09:00:00+00:00")
        );
        for bad in [Lax(None), Lax(Some("27.11.2026".into()))] {
            let e = time("asOf", Some(bad), words).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), e.message.as_str()),
                (Some("asOf"), words)
            );
        }
    }
}
