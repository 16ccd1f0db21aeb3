//! The one HTTP API: its Lambda authorizers, and the routes (`HttpApi` events) that functions
//! attach to it.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};

use super::expr::Expr;
use super::properties::{check_keys, literal_bool, literal_list, literal_str, literal_u64};
use super::resources::Resource;
use super::routes::RoutePattern;

#[derive(Debug, Clone)]
pub struct HttpApiDef {
    pub id: String,
    pub default_authorizer: Option<String>,
    pub authorizers: BTreeMap<String, AuthorizerDef>,
}

#[derive(Debug, Clone)]
pub struct AuthorizerDef {
    pub function_arn: Expr,
    /// `$request.header.X` / `$request.querystring.Y` sources; missing ones mean 401 without
    /// calling the authorizer, as API Gateway does.
    pub identity_headers: Vec<String>,
    pub identity_query: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RouteDef {
    /// Upper case, or `ANY`.
    pub method: String,
    /// As in the template (`/orders/{orderId}`), or `$default`.
    pub path: String,
    pub auth: RouteAuth,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAuth {
    /// The API's DefaultAuthorizer (if it has one).
    Default,
    None,
    Named(String),
}

pub(super) fn parse_http_api(r: &Resource) -> Result<HttpApiDef> {
    let props = &r.properties;
    if let Some(stage) = literal_str(props, "StageName", "HttpApi")? {
        if stage != "$default" {
            bail!("StageName `{stage}`: only the $default stage is served locally");
        }
    }
    let mut def = HttpApiDef {
        id: r.id.clone(),
        default_authorizer: None,
        authorizers: BTreeMap::new(),
    };
    let Some(auth) = props.get("Auth") else {
        return Ok(def);
    };
    check_keys(
        "Auth",
        auth,
        &["DefaultAuthorizer", "Authorizers"],
        &["EnableIamAuthorizer"],
    )?;
    if literal_bool(auth, "EnableIamAuthorizer", "Auth")? == Some(true) {
        bail!("Auth.EnableIamAuthorizer: IAM authorization is not emulated locally");
    }
    def.default_authorizer = literal_str(auth, "DefaultAuthorizer", "Auth")?.map(str::to_string);
    if let Some(Expr::Map(authorizers)) = auth.get("Authorizers") {
        for (name, a) in authorizers {
            let what = format!("Auth.Authorizers.{name}");
            check_keys(
                &what,
                a,
                &[
                    "FunctionArn",
                    "AuthorizerPayloadFormatVersion",
                    "EnableSimpleResponses",
                    "Identity",
                ],
                &["EnableFunctionDefaultPermissions", "FunctionInvokeRole"],
            )?;
            let function_arn = a.get("FunctionArn").cloned().ok_or_else(|| {
                anyhow!("{what}: only Lambda authorizers (FunctionArn) are emulated, not JWT")
            })?;
            let version = match a.get("AuthorizerPayloadFormatVersion") {
                Some(Expr::Str(s)) => s.clone(),
                Some(Expr::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            if version != "2.0" {
                bail!("{what}: only AuthorizerPayloadFormatVersion \"2.0\" is emulated");
            }
            if literal_bool(a, "EnableSimpleResponses", &what)? != Some(true) {
                bail!("{what}: only EnableSimpleResponses: true (simple responses) is emulated");
            }
            let mut identity_headers = Vec::new();
            let mut identity_query = Vec::new();
            if let Some(identity) = a.get("Identity") {
                let iw = format!("{what}.Identity");
                check_keys(
                    &iw,
                    identity,
                    &["Headers", "QueryStrings", "ReauthorizeEvery"],
                    &[],
                )?;
                identity_headers = literal_list(identity, "Headers", &iw)?;
                identity_query = literal_list(identity, "QueryStrings", &iw)?;
            }
            def.authorizers.insert(
                name.clone(),
                AuthorizerDef {
                    function_arn,
                    identity_headers,
                    identity_query,
                },
            );
        }
    }
    if let Some(default) = &def.default_authorizer {
        if !def.authorizers.contains_key(default) {
            bail!("Auth.DefaultAuthorizer `{default}` is not one of Auth.Authorizers");
        }
    }
    Ok(def)
}

/// An `HttpApi` event: a route on the template's HTTP API, with the API's authorizers checked.
pub(super) fn parse_route(
    what: &str,
    props: &Expr,
    http_api: Option<&HttpApiDef>,
) -> Result<RouteDef> {
    check_keys(
        what,
        props,
        &[
            "ApiId",
            "Method",
            "Path",
            "Auth",
            "PayloadFormatVersion",
            "TimeoutInMillis",
        ],
        &["RouteSettings"],
    )?;
    let api = http_api
        .ok_or_else(|| anyhow!("{what}: the template declares no AWS::Serverless::HttpApi"))?;
    match props.get("ApiId") {
        Some(Expr::Ref(r)) if *r == api.id => {}
        Some(other) => bail!("{what}: ApiId must be !Ref {}, found {other:?}", api.id),
        None => bail!(
            "{what}: ApiId is missing (the implicit ServerlessHttpApi is not emulated; \
             use ApiId: !Ref {})",
            api.id
        ),
    }
    let method = literal_str(props, "Method", what)?
        .ok_or_else(|| anyhow!("{what}: Method is missing"))?
        .to_ascii_uppercase();
    let path = literal_str(props, "Path", what)?
        .ok_or_else(|| anyhow!("{what}: Path is missing"))?
        .to_string();
    RoutePattern::parse(&path).map_err(|e| anyhow!("{what}: {e}"))?;
    if let Some(v) = props.get("PayloadFormatVersion") {
        let ok = matches!(v, Expr::Str(s) if s == "2.0");
        if !ok {
            bail!("{what}: only PayloadFormatVersion \"2.0\" is emulated");
        }
    }
    let auth = match props.get("Auth") {
        None => RouteAuth::Default,
        Some(a) => {
            check_keys(
                &format!("{what}.Auth"),
                a,
                &["Authorizer"],
                &["AuthorizationScopes"],
            )?;
            match literal_str(a, "Authorizer", what)? {
                None => RouteAuth::Default,
                Some("NONE") => RouteAuth::None,
                Some(name) => {
                    if !api.authorizers.contains_key(name) {
                        bail!(
                            "{what}: Auth.Authorizer `{name}` is not one of the API's Authorizers"
                        );
                    }
                    RouteAuth::Named(name.to_string())
                }
            }
        }
    };
    let timeout_ms = literal_u64(props, "TimeoutInMillis", what)?.unwrap_or(30_000);
    Ok(RouteDef {
        method,
        path,
        auth,
        timeout: Duration::from_millis(timeout_ms),
    })
}
