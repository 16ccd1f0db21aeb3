//! Template values with their intrinsic functions kept symbolic until resolution: most of
//! them name resources that only get their local identity once the emulator has created them,
//! and `Fn::If` is decided by parameter values the runner learns after reading the template.
//! Short tags (`!Ref X`) and long forms (`{"Fn::GetAtt": [..]}`) read alike.

use serde_norway::Value as Yaml;

use super::conditions::{Condition, Conditions};

/// A template value. Intrinsics stay symbolic because most of them name resources that only
/// get their local identity once the emulator has created them.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    List(Vec<Expr>),
    /// Keys in template order.
    Map(Vec<(String, Expr)>),
    Ref(String),
    GetAtt(String, String),
    Sub(String, Vec<(String, Expr)>),
    Join(String, Vec<Expr>),
    /// `Fn::If [Condition, value if true, value if false]`; either value may be
    /// `!Ref AWS::NoValue` (no value: the property or list item is left out).
    If(Box<If>),
}

/// The parts of an `Fn::If`: the condition (a named one of the `Conditions` section, with its
/// definition) and the two values.
#[derive(Debug, Clone, PartialEq)]
pub struct If {
    pub condition: Condition,
    pub then: Expr,
    pub otherwise: Expr,
}

impl Expr {
    /// Converts YAML (short tags like `!Ref X` or long forms like `{"Fn::GetAtt": [..]}`);
    /// `Fn::If` names one of `conditions`.
    pub fn from_yaml(value: &Yaml, conditions: &Conditions) -> Result<Expr, String> {
        Ok(match value {
            Yaml::Null => Expr::Null,
            Yaml::Bool(b) => Expr::Bool(*b),
            Yaml::Number(n) => Expr::Number(yaml_number(n)?),
            Yaml::String(s) => Expr::Str(s.clone()),
            Yaml::Sequence(items) => Expr::List(
                items
                    .iter()
                    .map(|i| Expr::from_yaml(i, conditions))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(map) => {
                if map.len() == 1 {
                    if let Some((Yaml::String(key), inner)) = map.iter().next() {
                        if key == "Ref" || key.starts_with("Fn::") {
                            return intrinsic(key, inner, conditions);
                        }
                    }
                }
                let mut entries = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => return Err(format!("map key {other:?} is not a string")),
                    };
                    let expr = Expr::from_yaml(v, conditions).map_err(|e| format!("{key}: {e}"))?;
                    entries.push((key, expr));
                }
                Expr::Map(entries)
            }
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                intrinsic(tag.trim_start_matches('!'), &tagged.value, conditions)?
            }
        })
    }

    pub fn get(&self, key: &str) -> Option<&Expr> {
        match self {
            Expr::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            Expr::Map(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The value as an error names it where a literal was needed: an `Fn::If` by its
    /// condition (decided only once the parameter values are known, after reading).
    pub(super) fn describe(&self) -> String {
        match self {
            Expr::If(i) => format!(
                "Fn::If on condition {} (the runner needs this value before it knows the \
                 parameters; choose a literal, or choose with Fn::If where the value is only \
                 resolved, such as an environment variable or a resource property)",
                i.condition.name()
            ),
            other => format!("{other:?}"),
        }
    }

    /// A literal string (no intrinsic), as needed for values that shape the wiring itself.
    pub fn as_literal_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Logical ids (resources or parameters) this expression refers to.
    pub fn references(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    pub(super) fn collect_references(&self, out: &mut Vec<String>) {
        match self {
            Expr::Ref(name) => out.push(name.clone()),
            Expr::GetAtt(res, _) => out.push(res.clone()),
            Expr::Sub(template, vars) => {
                for part in sub_parts(template).unwrap_or_default() {
                    if let SubPart::Var(var) = part {
                        let name = var.split('.').next().unwrap_or(&var).to_string();
                        if !vars.iter().any(|(k, _)| *k == name) {
                            out.push(name);
                        }
                    }
                }
                for (_, v) in vars {
                    v.collect_references(out);
                }
            }
            Expr::Join(_, items) | Expr::List(items) => {
                items.iter().for_each(|i| i.collect_references(out))
            }
            Expr::Map(entries) => entries.iter().for_each(|(_, v)| v.collect_references(out)),
            // Both values: which one counts is decided later, by parameters.
            Expr::If(i) => {
                i.condition.collect_references(out);
                i.then.collect_references(out);
                i.otherwise.collect_references(out);
            }
            Expr::Null | Expr::Bool(_) | Expr::Number(_) | Expr::Str(_) => {}
        }
    }
}

fn yaml_number(n: &serde_norway::Number) -> Result<serde_json::Number, String> {
    if let Some(i) = n.as_i64() {
        Ok(i.into())
    } else if let Some(u) = n.as_u64() {
        Ok(u.into())
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .ok_or_else(|| format!("number {n} is not representable"))
    }
}

fn intrinsic(name: &str, value: &Yaml, conditions: &Conditions) -> Result<Expr, String> {
    let short = name.trim_start_matches("Fn::");
    match short {
        "Ref" => match value {
            Yaml::String(s) => Ok(Expr::Ref(s.clone())),
            _ => Err("Ref takes a logical id string".into()),
        },
        "GetAtt" => match value {
            Yaml::String(s) => match s.split_once('.') {
                Some((res, attr)) => Ok(Expr::GetAtt(res.into(), attr.into())),
                None => Err(format!(
                    "GetAtt `{s}` is not of the form Resource.Attribute"
                )),
            },
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(res), Yaml::String(attr)] => {
                    Ok(Expr::GetAtt(res.clone(), attr.clone()))
                }
                _ => Err("GetAtt takes [Resource, Attribute]".into()),
            },
            _ => Err("GetAtt takes Resource.Attribute or [Resource, Attribute]".into()),
        },
        "Sub" => match value {
            Yaml::String(s) => Ok(Expr::Sub(s.clone(), Vec::new())),
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(s), vars] => match Expr::from_yaml(vars, conditions)? {
                    Expr::Map(vars) => Ok(Expr::Sub(s.clone(), vars)),
                    _ => Err("Sub variables must be a map".into()),
                },
                _ => Err("Sub takes a string or [string, {variables}]".into()),
            },
            _ => Err("Sub takes a string or [string, {variables}]".into()),
        },
        "Join" => match value {
            Yaml::Sequence(items) => match items.as_slice() {
                [Yaml::String(delim), Yaml::Sequence(list)] => Ok(Expr::Join(
                    delim.clone(),
                    list.iter()
                        .map(|i| Expr::from_yaml(i, conditions))
                        .collect::<Result<_, _>>()?,
                )),
                _ => Err("Join takes [delimiter, [values...]] with a literal list".into()),
            },
            _ => Err("Join takes [delimiter, [values...]]".into()),
        },
        "If" => parse_if(value, conditions),
        "Equals" | "Not" | "And" | "Or" | "Condition" => Err(format!(
            "`{name}` is a condition function: only the Conditions section may use it (a \
             value is chosen with Fn::If [ConditionName, value if true, value if false])"
        )),
        _ => Err(format!(
            "intrinsic function `{name}` is not supported by the local runner \
             (supported: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If)"
        )),
    }
}

/// `Fn::If [ConditionName, value if true, value if false]`, the condition one of `conditions`.
fn parse_if(value: &Yaml, conditions: &Conditions) -> Result<Expr, String> {
    const FORM: &str = "Fn::If takes [ConditionName, value if true, value if false]";
    if conditions.inside_condition() {
        return Err("Fn::If cannot be used inside a condition".into());
    }
    let Yaml::Sequence(items) = value else {
        return Err(format!("{FORM}, found {value:?}"));
    };
    let [name, then, otherwise] = items.as_slice() else {
        return Err(format!("{FORM}, found {} items", items.len()));
    };
    let Yaml::String(name) = name else {
        return Err(format!(
            "Fn::If takes a condition name first (a string), found {name:?}"
        ));
    };
    let condition = conditions.named(name)?;
    let value = |v: &Yaml, which: &str| {
        Expr::from_yaml(v, conditions)
            .map_err(|e| format!("Fn::If [{name}, ..] value if {which}: {e}"))
    };
    Ok(Expr::If(Box::new(If {
        condition,
        then: value(then, "true")?,
        otherwise: value(otherwise, "false")?,
    })))
}

#[derive(Debug, PartialEq)]
pub(super) enum SubPart {
    Lit(String),
    Var(String),
}

/// Splits a `Fn::Sub` template into literal text and `${...}` variables (`${!x}` is literal).
pub(super) fn sub_parts(template: &str) -> Result<Vec<SubPart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    let mut lit = String::new();
    while let Some(start) = rest.find("${") {
        lit.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ in Sub template `{template}`"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            lit.push_str("${");
            lit.push_str(literal);
            lit.push('}');
        } else {
            if !lit.is_empty() {
                parts.push(SubPart::Lit(std::mem::take(&mut lit)));
            }
            parts.push(SubPart::Var(name.trim().to_string()));
        }
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(SubPart::Lit(lit));
    }
    Ok(parts)
}

/// The expression a YAML snippet reads as; for tests only.
#[cfg(test)]
pub(super) fn parse_expr(yaml: &str) -> Expr {
    let v: Yaml = serde_norway::from_str(yaml).expect("test yaml");
    Expr::from_yaml(&v, &Conditions::default()).expect("test expr")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(yaml: &str) -> Expr {
        parse_expr(yaml)
    }

    #[test]
    fn short_and_long_intrinsics_parse_alike() {
        assert_eq!(expr("!Ref X"), Expr::Ref("X".into()));
        assert_eq!(expr("{Ref: X}"), Expr::Ref("X".into()));
        assert_eq!(
            expr("!GetAtt X.Arn"),
            Expr::GetAtt("X".into(), "Arn".into())
        );
        assert_eq!(
            expr("{'Fn::GetAtt': [X, Arn]}"),
            Expr::GetAtt("X".into(), "Arn".into())
        );
        assert_eq!(expr("!Sub 'a${X}'"), Expr::Sub("a${X}".into(), vec![]));
        assert_eq!(
            expr("{'Fn::Join': [',', [a, !Ref X]]}"),
            Expr::Join(
                ",".into(),
                vec![Expr::Str("a".into()), Expr::Ref("X".into())]
            )
        );
    }

    #[test]
    fn short_tags_on_block_nodes_read_like_flow_ones() {
        // The YAML parser must hand over the tag of a block sequence too (`!Sub` then a list).
        let block = "!Sub\n  - '${A}-x'\n  - A: !Ref T\n";
        assert_eq!(expr(block), expr("!Sub ['${A}-x', {A: !Ref T}]"));
        assert_eq!(
            expr("!GetAtt\n  - X\n  - Arn\n"),
            Expr::GetAtt("X".into(), "Arn".into())
        );
    }

    #[test]
    fn unsupported_intrinsics_are_named() {
        let none = Conditions::default();
        let v: Yaml = serde_norway::from_str("{'Fn::Select': [0, [a]]}").expect("yaml");
        let err = Expr::from_yaml(&v, &none).expect_err("must fail");
        assert!(err.contains("Fn::Select"), "{err}");
        let v: Yaml = serde_norway::from_str("!GetAZs ''").expect("yaml");
        let err = Expr::from_yaml(&v, &none).expect_err("must fail");
        assert!(err.contains("`GetAZs`") && err.contains("Fn::If"), "{err}");
        // Fn::If is supported, but only with a condition the template defines.
        let v: Yaml = serde_norway::from_str("!If [C, a, b]").expect("yaml");
        let err = Expr::from_yaml(&v, &none).expect_err("must fail");
        assert!(err.contains("condition `C`"), "{err}");
    }

    #[test]
    fn references_cover_sub_variables_but_not_locals() {
        let refs = expr("!Sub ['${T.Arn}/${X}/${AWS::Region}', {X: !Ref Q}]").references();
        assert_eq!(
            refs,
            vec!["T".to_string(), "AWS::Region".into(), "Q".into()]
        );
    }
}
