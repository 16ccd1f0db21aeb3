//! What `Ref` and `Fn::GetAtt` mean locally, and resolving expressions to JSON values.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::expr::{sub_parts, Expr, SubPart};
use super::{ACCOUNT_ID, PARTITION, REGION, STACK_NAME, URL_SUFFIX};

/// What `Ref` and `Fn::GetAtt` mean locally: parameter values and the identities of the
/// resources created so far.
#[derive(Debug, Default, Clone)]
pub struct Context {
    pub params: BTreeMap<String, String>,
    refs: HashMap<String, String>,
    attrs: HashMap<(String, String), String>,
}

impl Context {
    pub fn new(params: BTreeMap<String, String>) -> Self {
        Context {
            params,
            ..Default::default()
        }
    }

    pub fn set_ref(&mut self, logical_id: &str, value: impl Into<String>) {
        self.refs.insert(logical_id.to_string(), value.into());
    }

    pub fn set_attr(&mut self, logical_id: &str, attr: &str, value: impl Into<String>) {
        self.attrs
            .insert((logical_id.to_string(), attr.to_string()), value.into());
    }

    pub fn get_attr(&self, logical_id: &str, attr: &str) -> Option<&str> {
        self.attrs
            .get(&(logical_id.to_string(), attr.to_string()))
            .map(String::as_str)
    }

    fn lookup_ref(&self, name: &str) -> Result<String, String> {
        let pseudo = match name {
            "AWS::Region" => Some(REGION),
            "AWS::AccountId" => Some(ACCOUNT_ID),
            "AWS::Partition" => Some(PARTITION),
            "AWS::URLSuffix" => Some(URL_SUFFIX),
            "AWS::StackName" => Some(STACK_NAME),
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(v.to_string());
        }
        if name == "AWS::StackId" {
            return Ok(format!(
                "arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local"
            ));
        }
        if name.starts_with("AWS::") {
            return Err(format!("pseudo parameter {name} is not supported locally"));
        }
        if let Some(v) = self.params.get(name) {
            return Ok(v.clone());
        }
        self.refs.get(name).cloned().ok_or_else(|| {
            format!("Ref to unknown (or not yet created) resource or parameter `{name}`")
        })
    }

    fn lookup_attr(&self, res: &str, attr: &str) -> Result<String, String> {
        self.get_attr(res, attr).map(str::to_string).ok_or_else(|| {
            format!("Fn::GetAtt {res}.{attr}: unknown resource or attribute (or not yet created)")
        })
    }

    pub fn resolve(&self, expr: &Expr) -> Result<Json, String> {
        Ok(match expr {
            Expr::Null => Json::Null,
            Expr::Bool(b) => Json::Bool(*b),
            Expr::Number(n) => Json::Number(n.clone()),
            Expr::Str(s) => Json::String(s.clone()),
            Expr::List(items) => Json::Array(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.clone(), self.resolve(v).map_err(|e| format!("{k}: {e}"))?);
                }
                Json::Object(map)
            }
            Expr::Ref(name) => Json::String(self.lookup_ref(name)?),
            Expr::GetAtt(res, attr) => Json::String(self.lookup_attr(res, attr)?),
            Expr::Sub(template, vars) => {
                let mut out = String::new();
                for part in sub_parts(template)? {
                    match part {
                        SubPart::Lit(s) => out.push_str(&s),
                        SubPart::Var(var) => {
                            if let Some((_, v)) = vars.iter().find(|(k, _)| *k == var) {
                                out.push_str(&scalar_string(&self.resolve(v)?)?);
                            } else if let Some((res, attr)) =
                                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
                            {
                                out.push_str(&self.lookup_attr(res, attr)?);
                            } else {
                                out.push_str(&self.lookup_ref(&var)?);
                            }
                        }
                    }
                }
                Json::String(out)
            }
            Expr::Join(delim, items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match self.resolve(item)? {
                        // A Ref to a list parameter inside Join contributes all its elements.
                        Json::Array(inner) => {
                            for v in inner {
                                parts.push(scalar_string(&v)?);
                            }
                        }
                        v => parts.push(scalar_string(&v)?),
                    }
                }
                Json::String(parts.join(delim))
            }
        })
    }

    /// Resolves to a string, as environment variables and names need.
    pub fn resolve_string(&self, expr: &Expr) -> Result<String, String> {
        scalar_string(&self.resolve(expr)?)
    }
}

/// Renders a scalar like CloudFormation does when it needs a string.
pub fn scalar_string(v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::parse_expr as expr;
    use super::*;

    fn ctx() -> Context {
        let mut params = BTreeMap::new();
        params.insert("LogLevel".into(), "debug".into());
        let mut c = Context::new(params);
        c.set_ref("Q", "http://127.0.0.1:5000/123456789012/Q");
        c.set_attr("Q", "Arn", "arn:aws:sqs:eu-central-1:123456789012:Q");
        c.set_ref("T", "T");
        c.set_attr(
            "T",
            "Arn",
            "arn:aws:dynamodb:eu-central-1:123456789012:table/T",
        );
        c
    }

    #[test]
    fn resolves_refs_attrs_sub_and_join() {
        let c = ctx();
        assert_eq!(c.resolve_string(&expr("!Ref T")).expect("ref"), "T");
        assert_eq!(
            c.resolve_string(&expr("!Ref LogLevel")).expect("param"),
            "debug"
        );
        assert_eq!(
            c.resolve_string(&expr("!GetAtt Q.Arn")).expect("attr"),
            "arn:aws:sqs:eu-central-1:123456789012:Q"
        );
        assert_eq!(
            c.resolve_string(&expr(
                "!Sub '${T.Arn}/index/* in ${AWS::Region} ${AWS::AccountId} ${AWS::Partition} ${AWS::URLSuffix} ${!Literal}'"
            ))
            .expect("sub"),
            "arn:aws:dynamodb:eu-central-1:123456789012:table/T/index/* in eu-central-1 123456789012 aws amazonaws.com ${Literal}"
        );
        assert_eq!(
            c.resolve_string(&expr("!Sub ['${A}-${LogLevel}', {A: !Ref T}]"))
                .expect("sub vars"),
            "T-debug"
        );
        assert_eq!(
            c.resolve_string(&expr("!Join [',', [!Ref T, x, !GetAtt Q.Arn]]"))
                .expect("join"),
            "T,x,arn:aws:sqs:eu-central-1:123456789012:Q"
        );
        let err = c.resolve(&expr("!Ref Nope")).expect_err("unknown");
        assert!(err.contains("Nope"), "{err}");
        let err = c
            .resolve(&expr("!GetAtt Q.Nope"))
            .expect_err("unknown attr");
        assert!(err.contains("Q.Nope"), "{err}");
    }
}
