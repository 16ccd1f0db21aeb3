//! The template's `Conditions` section: named conditions built from `Fn::Equals`, `Fn::Not`,
//! `Fn::And`, `Fn::Or` and references to other conditions (`Condition: Name`), which `Fn::If`
//! uses to choose a property's value (or `AWS::NoValue`: no property at all).
//!
//! Conditions depend on parameter values only (CloudFormation decides them before it creates
//! anything), and the runner learns those after reading the template (its local defaults, the
//! `DROPSHIP_PARAM_*` overrides). So a condition is read here, checked, and kept with the
//! definitions of the conditions it refers to inlined: every `Fn::If` carries what it needs to
//! be decided wherever its value is resolved ([`super::Context::condition`]).
//!
//! Strict, like the rest of the reader: an unknown condition name, a cycle, a function that is
//! not a condition function, a wrong number of operands or an operand that names a resource is
//! an error that names the condition.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_norway::Value as Yaml;

use super::expr::Expr;
use super::Parameter;

/// A condition, with the named conditions it refers to inlined.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Equals(Expr, Expr),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// A condition of the `Conditions` section: its name (for messages) and its definition.
    Named(String, Arc<Condition>),
}

impl Condition {
    /// The name of a named condition; `(unnamed)` for an inline one.
    pub fn name(&self) -> &str {
        match self {
            Condition::Named(name, _) => name,
            _ => "(unnamed)",
        }
    }

    /// The parameters (and pseudo parameters) the condition compares.
    pub(super) fn collect_references(&self, out: &mut Vec<String>) {
        match self {
            Condition::Equals(a, b) => {
                a.collect_references(out);
                b.collect_references(out);
            }
            Condition::Not(c) => c.collect_references(out),
            Condition::And(cs) | Condition::Or(cs) => {
                cs.iter().for_each(|c| c.collect_references(out))
            }
            Condition::Named(_, c) => c.collect_references(out),
        }
    }
}

/// The `Conditions` section, each condition checked and its references inlined.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    defs: BTreeMap<String, Arc<Condition>>,
    /// Set while a condition's own operands are read: `Fn::If` has no place there.
    inside_condition: bool,
}

/// The condition functions, as the section may use them.
const FUNCTIONS: &str = "Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition";

impl Conditions {
    /// Reads the section (absent or empty: no conditions). `parameters` are the template's: a
    /// condition may compare only them and pseudo parameters.
    pub(super) fn parse(section: Option<&Yaml>, parameters: &[Parameter]) -> Result<Conditions> {
        let mut raw = BTreeMap::new();
        match section {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Mapping(map)) => {
                for (k, v) in map {
                    let name = k
                        .as_str()
                        .ok_or_else(|| anyhow!("condition name {k:?} is not a string"))?;
                    raw.insert(name.to_string(), v);
                }
            }
            Some(_) => bail!("the Conditions section is not a mapping"),
        }
        let mut reader = Reader {
            raw: &raw,
            parameters,
            built: BTreeMap::new(),
            stack: Vec::new(),
        };
        for name in raw.keys() {
            reader.define(name)?;
        }
        Ok(Conditions {
            defs: reader.built,
            inside_condition: false,
        })
    }

    /// What a condition's operands are read with: no conditions, and `Fn::If` refused.
    fn for_operands() -> Conditions {
        Conditions {
            defs: BTreeMap::new(),
            inside_condition: true,
        }
    }

    pub(super) fn inside_condition(&self) -> bool {
        self.inside_condition
    }

    /// The condition `name`, as `Fn::If` refers to it; an error names it and the defined ones.
    pub(super) fn named(&self, name: &str) -> Result<Condition, String> {
        self.defs
            .get(name)
            .map(|c| Condition::Named(name.to_string(), c.clone()))
            .ok_or_else(|| {
                format!(
                    "Fn::If names condition `{name}`, which the Conditions section does not \
                     define (defined: {})",
                    self.names_text()
                )
            })
    }

    /// Every condition of the section, by name.
    pub fn all(&self) -> Vec<(&str, Condition)> {
        self.defs
            .iter()
            .map(|(name, c)| (name.as_str(), Condition::Named(name.clone(), c.clone())))
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.defs.contains_key(name)
    }

    pub(super) fn names_text(&self) -> String {
        if self.defs.is_empty() {
            "none".to_string()
        } else {
            self.defs.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }
}

/// Builds the section's conditions in dependency order, refusing cycles.
struct Reader<'a> {
    raw: &'a BTreeMap<String, &'a Yaml>,
    parameters: &'a [Parameter],
    built: BTreeMap<String, Arc<Condition>>,
    /// The conditions being read, outermost first (to name a cycle).
    stack: Vec<String>,
}

impl Reader<'_> {
    fn define(&mut self, name: &str) -> Result<Arc<Condition>> {
        if let Some(c) = self.built.get(name) {
            return Ok(c.clone());
        }
        if self.stack.iter().any(|n| n == name) {
            bail!(
                "conditions refer to each other in a cycle: {} -> {name}",
                self.stack.join(" -> ")
            );
        }
        let yaml = *self.raw.get(name).ok_or_else(|| {
            anyhow!(
                "condition `{name}` is not defined (defined: {})",
                self.raw.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        self.stack.push(name.to_string());
        let read = self.read(yaml);
        self.stack.pop();
        // A cycle is reported once, by the condition that closes it, without every condition on
        // the way adding its name again.
        let condition = match read {
            Ok(c) => c,
            Err(e) if e.to_string().starts_with("conditions refer") => return Err(e),
            Err(e) => return Err(e).with_context(|| format!("condition `{name}`")),
        };
        let condition = Arc::new(condition);
        self.built.insert(name.to_string(), condition.clone());
        Ok(condition)
    }

    fn read(&mut self, yaml: &Yaml) -> Result<Condition> {
        let (function, args) = match yaml {
            Yaml::Tagged(t) => (
                t.tag.to_string().trim_start_matches('!').to_string(),
                &t.value,
            ),
            Yaml::Mapping(m) if m.len() == 1 => match m.iter().next() {
                Some((Yaml::String(key), value)) => {
                    let short = match key.as_str() {
                        "Condition" => "Condition",
                        "Fn::Condition" => key.as_str(),
                        k => k.strip_prefix("Fn::").unwrap_or(k),
                    };
                    (short.to_string(), value)
                }
                _ => bail!("a condition is one of {FUNCTIONS}, found {yaml:?}"),
            },
            other => bail!("a condition is one of {FUNCTIONS}, found {other:?}"),
        };
        match function.as_str() {
            "Equals" => match args.as_sequence().map(Vec::as_slice) {
                Some([a, b]) => Ok(Condition::Equals(self.operand(a)?, self.operand(b)?)),
                _ => bail!("Fn::Equals takes [value, value], found {args:?}"),
            },
            "Not" => match args.as_sequence().map(Vec::as_slice) {
                Some([c]) => Ok(Condition::Not(Box::new(self.read(c)?))),
                _ => bail!("Fn::Not takes [condition], found {args:?}"),
            },
            "And" | "Or" => {
                let items = args
                    .as_sequence()
                    .filter(|items| (2..=10).contains(&items.len()))
                    .ok_or_else(|| {
                        anyhow!("Fn::{function} takes a list of 2 to 10 conditions, found {args:?}")
                    })?;
                let conditions = items
                    .iter()
                    .map(|c| self.read(c))
                    .collect::<Result<Vec<_>>>()?;
                Ok(if function == "And" {
                    Condition::And(conditions)
                } else {
                    Condition::Or(conditions)
                })
            }
            "Condition" => {
                let name = args
                    .as_str()
                    .ok_or_else(|| anyhow!("Condition takes a condition name, found {args:?}"))?;
                if !self.raw.contains_key(name) {
                    bail!(
                        "refers to condition `{name}`, which the Conditions section does not \
                         define (defined: {})",
                        self.raw.keys().cloned().collect::<Vec<_>>().join(", ")
                    );
                }
                Ok(Condition::Named(name.to_string(), self.define(name)?))
            }
            other => bail!("`{other}` is not a condition function (those are: {FUNCTIONS})"),
        }
    }

    /// An operand of `Fn::Equals`: a value that refers to parameters and pseudo parameters only.
    fn operand(&self, yaml: &Yaml) -> Result<Expr> {
        let expr =
            Expr::from_yaml(yaml, &Conditions::for_operands()).map_err(|e| anyhow!("{e}"))?;
        for name in expr.references() {
            if name == super::resolve::NO_VALUE {
                bail!("Fn::Equals cannot compare {name}, which has no value");
            }
            if !name.starts_with("AWS::") && !self.parameters.iter().any(|p| p.name == name) {
                bail!(
                    "Fn::Equals refers to `{name}`, which is not a parameter: a condition is \
                     decided before any resource exists, from parameters and pseudo parameters"
                );
            }
        }
        Ok(expr)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{parse, Context};

    /// A template with the given Parameters and Conditions sections and one queue whose
    /// properties are `props`.
    fn template(params: &str, conditions: &str, props: &str) -> String {
        format!(
            "Parameters:\n{params}\nConditions:\n{conditions}\nResources:\n  Q:\n    Type: \
             AWS::SQS::Queue\n    Properties:\n{props}\n"
        )
    }

    const PARAMS: &str =
        "  Peak: { Type: String, Default: \"false\", AllowedValues: [\"false\", \"true\"] }\n  \
                          Stage: { Type: String, Default: dev }";

    /// Short tags and long forms of every condition function, side by side.
    const CONDITIONS: &str = "  PeakOn: !Equals [!Ref Peak, \"true\"]\n  \
                              PeakOnLong: { \"Fn::Equals\": [{ Ref: Peak }, \"true\"] }\n  \
                              NotPeak: !Not [!Condition PeakOn]\n  \
                              NotPeakLong: { \"Fn::Not\": [{ Condition: PeakOnLong }] }\n  \
                              ProdPeak: !And [!Condition PeakOn, !Equals [!Ref Stage, prod]]\n  \
                              ProdPeakLong: { \"Fn::And\": [{ Condition: PeakOn }, { \"Fn::Equals\": [prod, { Ref: Stage }] }] }\n  \
                              PeakOrProd: !Or [!Condition PeakOn, !Equals [!Ref Stage, prod]]\n  \
                              PeakOrProdLong: { \"Fn::Or\": [{ Condition: PeakOnLong }, { \"Fn::Equals\": [{ Ref: Stage }, prod] }] }\n  \
                              InRegion: !Equals [!Ref \"AWS::Region\", eu-central-1]";

    fn values(overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
        let t = parse(&template(PARAMS, CONDITIONS, "      {}")).expect("parse");
        let o = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.parameter_values(&BTreeMap::new(), &o).expect("values")
    }

    fn decided(overrides: &[(&str, &str)]) -> BTreeMap<String, bool> {
        let t = parse(&template(PARAMS, CONDITIONS, "      {}")).expect("parse");
        let ctx = Context::new(values(overrides));
        t.conditions
            .all()
            .into_iter()
            .map(|(name, c)| (name.to_string(), ctx.condition(&c).expect(name)))
            .collect()
    }

    #[test]
    fn short_and_long_condition_functions_decide_alike_from_the_parameters() {
        let expect = |on: bool, prod: bool| -> BTreeMap<String, bool> {
            [
                ("PeakOn", on),
                ("PeakOnLong", on),
                ("NotPeak", !on),
                ("NotPeakLong", !on),
                ("ProdPeak", on && prod),
                ("ProdPeakLong", on && prod),
                ("PeakOrProd", on || prod),
                ("PeakOrProdLong", on || prod),
                ("InRegion", true),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        // Defaults, then overrides (as DROPSHIP_PARAM_* and Stack::builder().param(..) give).
        assert_eq!(decided(&[]), expect(false, false));
        assert_eq!(decided(&[("Peak", "true")]), expect(true, false));
        assert_eq!(
            decided(&[("Peak", "true"), ("Stage", "prod")]),
            expect(true, true)
        );
        assert_eq!(decided(&[("Stage", "prod")]), expect(false, true));
    }

    fn parse_err(conditions: &str, props: &str) -> String {
        format!(
            "{:#}",
            parse(&template(PARAMS, conditions, props)).expect_err("must fail")
        )
    }

    #[test]
    fn a_bad_conditions_section_is_an_error_that_names_the_condition() {
        let none = "      {}";
        for (conditions, expected) in [
            (
                "  A: !Condition Missing",
                &["condition `A`", "`Missing`", "not define"][..],
            ),
            (
                "  A: !Not [{ Condition: B }]\n  B: !Not [!Condition A]",
                &["cycle", "A -> B -> A"],
            ),
            ("  A: !Contains [[a], a]", &["condition `A`", "`Contains`"]),
            (
                "  A: { \"Fn::Select\": [0, [a]] }",
                &["condition `A`", "`Select`"],
            ),
            (
                "  A: !Equals [!Ref Peak, \"true\", x]",
                &["condition `A`", "Fn::Equals takes"],
            ),
            (
                "  A: !Not [!Condition B, !Condition B]\n  B: !Equals [a, a]",
                &["condition `A`", "Fn::Not takes"],
            ),
            ("  A: !And [!Equals [a, a]]", &["condition `A`", "2 to 10"]),
            (
                "  A: !Equals [!Ref Q, x]",
                &["condition `A`", "`Q`", "not a parameter"],
            ),
            (
                "  A: !Equals [!GetAtt Q.Arn, x]",
                &["condition `A`", "`Q`", "not a parameter"],
            ),
            (
                "  A: !Equals [!Ref Nope, x]",
                &["condition `A`", "`Nope`", "not a parameter"],
            ),
            (
                "  A: !Equals [!If [B, a, b], x]\n  B: !Equals [a, a]",
                &["condition `A`", "Fn::If cannot be used inside a condition"],
            ),
            (
                "  A: !Equals [!Ref \"AWS::NoValue\", x]",
                &["condition `A`", "AWS::NoValue"],
            ),
            ("  A: plain", &["condition `A`", "one of Fn::Equals"]),
        ] {
            let err = parse_err(conditions, none);
            for e in expected {
                assert!(err.contains(e), "{conditions}: expected `{e}` in: {err}");
            }
        }
    }

    #[test]
    fn a_malformed_or_unknown_if_is_an_error_that_names_it() {
        for (props, expected) in [
            (
                "      QueueName: !If [Nope, a, b]",
                &["Q", "QueueName", "condition `Nope`", "defined: PeakOn"][..],
            ),
            (
                "      QueueName: { \"Fn::If\": [Nope, a, b] }",
                &["Q", "condition `Nope`"],
            ),
            (
                "      QueueName: !If [PeakOn, a]",
                &["Q", "QueueName", "Fn::If takes"],
            ),
            (
                "      QueueName: !If [[PeakOn], a, b]",
                &["Q", "Fn::If takes a condition name"],
            ),
            ("      QueueName: !If PeakOn", &["Q", "Fn::If takes"]),
            (
                "      QueueName: !If [PeakOn, !Select [0, [a]], b]",
                &["Q", "Fn::If [PeakOn, ..] value if true", "Select"],
            ),
            (
                "      QueueName: !Equals [a, a]",
                &["Q", "`Equals`", "Conditions section"],
            ),
            ("      QueueName: !Condition PeakOn", &["Q", "`Condition`"]),
        ] {
            let err = parse_err("  PeakOn: !Equals [!Ref Peak, \"true\"]", props);
            for e in expected {
                assert!(err.contains(e), "{props}: expected `{e}` in: {err}");
            }
        }
        // No Conditions section at all: the If still names what it wants.
        let err = format!(
            "{:#}",
            parse("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { QueueName: !If [C, a, b] }\n")
                .expect_err("must fail")
        );
        assert!(
            err.contains("`C`") && err.contains("defined: none"),
            "{err}"
        );
        // An output's Condition must be one of the template's; a resource's is not supported.
        let with = |extra: &str| {
            let text = template(
                PARAMS,
                "  PeakOn: !Equals [!Ref Peak, \"true\"]",
                "      {}",
            );
            format!(
                "{:#}",
                parse(&format!("{text}{extra}")).expect_err("must fail")
            )
        };
        let err = with("Outputs:\n  O: { Condition: Nope, Value: x }\n");
        assert!(err.contains("output O") && err.contains("Nope"), "{err}");
        let err = with("  R:\n    Type: AWS::SQS::Queue\n    Condition: PeakOn\n");
        assert!(
            err.contains("resource R") && err.contains("Fn::If"),
            "{err}"
        );
    }

    #[test]
    fn a_value_the_runner_reads_before_the_parameters_cannot_be_chosen() {
        let function = |props: &str| {
            format!(
                "Parameters:\n{PARAMS}\nConditions:\n  PeakOn: !Equals [!Ref Peak, \"true\"]\n\
                 Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: \
                 {{BuildProperties: {{Binary: f}}}}\n    Properties: {{Runtime: provided.al2023, \
                 {props}}}\n"
            )
        };
        // MemorySize shapes the local process: it is read with the template.
        let err = format!(
            "{:#}",
            parse(&function("MemorySize: !If [PeakOn, 1024, 128]")).expect_err("must fail")
        );
        assert!(
            err.contains("MemorySize") && err.contains("Fn::If on condition PeakOn"),
            "{err}"
        );
        // A setting without local behaviour may be chosen: it is resolved with the parameters.
        let t = parse(&function(
            "ReservedConcurrentExecutions: !If [PeakOn, 5, !Ref AWS::NoValue]",
        ))
        .expect("parse");
        let ctx = Context::new(values(&[("Peak", "true")]));
        let props = ctx.resolve(&t.resources[0].properties).expect("resolve");
        assert_eq!(props["ReservedConcurrentExecutions"], 5);
    }
}
