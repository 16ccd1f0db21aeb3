//! What `Ref` and `Fn::GetAtt` mean locally, deciding conditions (`Fn::If`) from the parameter
//! values, and resolving expressions to JSON values.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::conditions::Condition;
use super::expr::{sub_parts, Expr, SubPart};
use super::{ACCOUNT_ID, PARTITION, REGION, STACK_NAME, URL_SUFFIX};

/// The pseudo parameter that means "no value": a map entry or list item whose value it is
/// is left out, as CloudFormation leaves the property out.
pub(super) const NO_VALUE: &str = "AWS::NoValue";

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
        if name == NO_VALUE {
            return Err(format!("{NO_VALUE} has no value to put into a string"));
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

    /// The JSON value of `expr`. A map entry or list item whose value is `AWS::NoValue` (directly
    /// or as the branch an `Fn::If` chose) is left out; `expr` itself being no value is an
    /// error, since the caller needs one.
    pub fn resolve(&self, expr: &Expr) -> Result<Json, String> {
        self.resolve_opt(expr)?.ok_or_else(|| {
            format!("the value is {NO_VALUE} (none), where the local runner needs one")
        })
    }

    /// Whether a condition holds for the parameter values.
    pub fn condition(&self, c: &Condition) -> Result<bool, String> {
        Ok(match c {
            Condition::Equals(a, b) => {
                let (a, b) = (self.resolve(a)?, self.resolve(b)?);
                // CloudFormation compares strings: `true` and "true", 5 and "5" are equal.
                match (scalar_string(&a), scalar_string(&b)) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => a == b,
                }
            }
            Condition::Not(c) => !self.condition(c)?,
            Condition::And(cs) => {
                let mut all = true;
                for c in cs {
                    all &= self.condition(c)?;
                }
                all
            }
            Condition::Or(cs) => {
                let mut any = false;
                for c in cs {
                    any |= self.condition(c)?;
                }
                any
            }
            Condition::Named(name, c) => self
                .condition(c)
                .map_err(|e| format!("condition {name}: {e}"))?,
        })
    }

    /// `None` for no value (`AWS::NoValue`).
    fn resolve_opt(&self, expr: &Expr) -> Result<Option<Json>, String> {
        Ok(Some(match expr {
            Expr::Null => Json::Null,
            Expr::Bool(b) => Json::Bool(*b),
            Expr::Number(n) => Json::Number(n.clone()),
            Expr::Str(s) => Json::String(s.clone()),
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.resolve_opt(item)? {
                        out.push(v);
                    }
                }
                Json::Array(out)
            }
            Expr::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    if let Some(v) = self.resolve_opt(v).map_err(|e| format!("{k}: {e}"))? {
                        map.insert(k.clone(), v);
                    }
                }
                Json::Object(map)
            }
            Expr::Ref(name) if name == NO_VALUE => return Ok(None),
            Expr::Ref(name) => Json::String(self.lookup_ref(name)?),
            Expr::GetAtt(res, attr) => Json::String(self.lookup_attr(res, attr)?),
            Expr::If(i) => {
                let chosen = if self.condition(&i.condition)? {
                    &i.then
                } else {
                    &i.otherwise
                };
                return self.resolve_opt(chosen);
            }
            Expr::Sub(template, vars) => {
                let mut out = String::new();
                for part in sub_parts(template)? {
                    match part {
                        SubPart::Lit(s) => out.push_str(&s),
                        SubPart::Var(var) => {
                            if let Some((_, v)) = vars.iter().find(|(k, _)| *k == var) {
                                let v = self.resolve(v).map_err(|e| format!("${{{var}}}: {e}"))?;
                                out.push_str(&scalar_string(&v)?);
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
                    match self.resolve_opt(item)? {
                        // An item without a value is left out, as in any list.
                        None => {}
                        // A Ref to a list parameter inside Join contributes all its elements.
                        Some(Json::Array(inner)) => {
                            for v in inner {
                                parts.push(scalar_string(&v)?);
                            }
                        }
                        Some(v) => parts.push(scalar_string(&v)?),
                    }
                }
                Json::String(parts.join(delim))
            }
        }))
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

    /// A queue whose properties choose with `Fn::If` (short tags and long forms) by a parameter.
    const CHOOSING: &str = r#"
Parameters:
  Peak: { Type: String, Default: "false", AllowedValues: ["false", "true"] }
Conditions:
  PeakOn: !Equals [!Ref Peak, "true"]
  Calm: { "Fn::Not": [{ Condition: PeakOn }] }
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !If [PeakOn, peak, { "Fn::Join": ["-", [calm, !Ref Peak]] }]
      DelaySeconds: { "Fn::If": [PeakOn, 5, { Ref: "AWS::NoValue" }] }
      VisibilityTimeout: !If [Calm, 30, !Ref "AWS::NoValue"]
      Tags:
        - { Key: a, Value: b }
        - !If [PeakOn, { Key: peak, Value: !Sub "${Peak}" }, !Ref "AWS::NoValue"]
      RedrivePolicy:
        maxReceiveCount: 3
        deadLetterTargetArn: !Join [":", [x, !If [PeakOn, y, !Ref "AWS::NoValue"], z]]
"#;

    fn choosing(peak: Option<&str>) -> (super::super::Template, Context) {
        let t = super::super::parse(CHOOSING).expect("parse");
        let mut overrides = BTreeMap::new();
        if let Some(p) = peak {
            overrides.insert("Peak".to_string(), p.to_string());
        }
        let params = t
            .parameter_values(&BTreeMap::new(), &overrides)
            .expect("values");
        (t, Context::new(params))
    }

    #[test]
    fn if_chooses_by_the_parameters_and_no_value_leaves_the_property_out() {
        let (t, c) = choosing(None);
        let q = &t.resources[0].properties;
        assert_eq!(
            c.resolve(q).expect("default"),
            serde_json::json!({
                "QueueName": "calm-false",
                "VisibilityTimeout": 30,
                "Tags": [{"Key": "a", "Value": "b"}],
                "RedrivePolicy": {"maxReceiveCount": 3, "deadLetterTargetArn": "x:z"}
            })
        );
        let (_, c) = choosing(Some("true"));
        assert_eq!(
            c.resolve(q).expect("override"),
            serde_json::json!({
                "QueueName": "peak",
                "DelaySeconds": 5,
                "Tags": [{"Key": "a", "Value": "b"}, {"Key": "peak", "Value": "true"}],
                "RedrivePolicy": {"maxReceiveCount": 3, "deadLetterTargetArn": "x:y:z"}
            })
        );
        // Resource order still sees what either value refers to.
        let (t, _) = choosing(None);
        assert!(t.resources[0]
            .properties
            .references()
            .contains(&"Peak".to_string()));
    }

    #[test]
    fn no_value_where_a_value_is_needed_is_an_error() {
        let (t, c) = choosing(None);
        let delay = t.resources[0]
            .properties
            .get("DelaySeconds")
            .expect("delay");
        let err = c.resolve_string(delay).expect_err("no value");
        assert!(err.contains("AWS::NoValue"), "{err}");
        let err = c
            .resolve(&expr("!Sub 'a-${AWS::NoValue}'"))
            .expect_err("no value in a string");
        assert!(err.contains("AWS::NoValue"), "{err}");
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
