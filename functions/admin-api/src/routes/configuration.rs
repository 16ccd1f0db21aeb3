//! The retailer's configuration: channels, fulfillers, products, tax rates, branding, the
//! refund policy and the finance export's accounts. Each PUT validates its body with the
//! catalogue's rules and stores it whole with who changed it and when; each GET answers what
//! was PUT with that stamp, and the lists page through one kind in id order. Separate because
//! nothing else here writes the catalogue.

use crate::AdminApi;
use dropship_aws::http::{json, json_body, limit, path_param, query_param, HandlerResult};
use dropship_aws::repo::catalogue::{logo_key, Stamp, Stamped};
use dropship_aws::repo::Page;
use dropship_core::catalogue::listing::ListFilter;
use dropship_core::catalogue::{
    from_body, BrandingInput, Channel, ChannelInput, Fulfiller, FulfillerInput, Product,
    ProductInput, RefundPolicyInput, TaxClass, TaxRates, TaxRatesInput,
};
use dropship_core::finance_export::FinanceAccounts;
use dropship_core::ApiError;
use lambda_http::Request;
use serde::Serialize;
use serde_json::{json, Value};

/// A configuration item as its GET answers it: what was PUT, with `updatedAt` and `updatedBy`
/// (both left out for an item stored before they were kept).
fn stamped_view<T: Serialize>(value: &T, stamp: &Stamp) -> Value {
    let mut v = json!(value);
    if let Some(o) = v.as_object_mut() {
        if let Some(at) = stamp.updated_at {
            o.insert(
                "updatedAt".into(),
                json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            );
        }
        if let Some(by) = &stamp.updated_by {
            o.insert("updatedBy".into(), json!(by));
        }
    }
    v
}

/// A list page as the API answers it: `{items, nextToken?}`.
fn page_view<T: Serialize>(page: &Page<Stamped<T>>) -> Value {
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|i| stamped_view(&i.value, &i.stamp))
        .collect();
    let mut body = json!({ "items": items });
    if let Some(t) = &page.next_token {
        body["nextToken"] = json!(t);
    }
    body
}

/// `?limit=` (1..200, default 50) and `?nextToken=` of a list.
fn paging(req: &Request) -> Result<(usize, Option<String>), ApiError> {
    let limit = usize::try_from(limit(req)?).unwrap_or(50);
    Ok((limit, query_param(req, "nextToken")))
}

fn foreign_token() -> ApiError {
    ApiError::invalid("nextToken", "nextToken is not one this list gave")
}

/// A logo's PNG bytes from its base64; 422 when it is not base64.
fn decode_logo(base64: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(base64.trim())
        .map_err(|_| ApiError::invalid("logoPngBase64", "logoPngBase64 is not base64"))
}

impl AdminApi {
    /// `PUT /admin/channels/{channelId}`: a channel that existed keeps its currency when the
    /// body names none.
    pub(crate) async fn put_channel(&self, req: &Request, admin: &str) -> HandlerResult {
        let id = path_param(req, "channelId")?;
        let input = from_body::<ChannelInput>(json_body(req)?)?;
        input.check(&id)?;
        let existing = self.catalogue.get_channel(&id).await?;
        let c = input.validate(&id, existing.as_ref())?;
        let stamp = Stamp::now(admin);
        self.catalogue.put_channel(&c, &stamp).await?;
        json(200, &stamped_view(&c, &stamp))
    }

    /// `GET /admin/channels/{channelId}`: 404 for an id no channel has (or could have).
    pub(crate) async fn channel(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "channelId")?;
        let found = match dropship_core::ids::is_valid_id(&id) {
            true => self.catalogue.get_channel_stamped(&id).await?,
            false => None,
        };
        let c = found.ok_or_else(|| ApiError::not_found("channel"))?;
        json(200, &stamped_view(&c.value, &c.stamp))
    }

    /// `GET /admin/channels?active=&limit=&nextToken=`: inactive channels too unless filtered.
    pub(crate) async fn list_channels(&self, req: &Request) -> HandlerResult {
        let filter = ListFilter::parse(|p| query_param(req, p), false)?;
        let (limit, next) = paging(req)?;
        let page = self
            .catalogue
            .list::<Channel>("CHANNEL", limit, next.as_deref(), |c| {
                filter.keeps_active(c.active)
            })
            .await?
            .ok_or_else(foreign_token)?;
        json(200, &page_view(&page))
    }

    /// `PUT /admin/fulfillers/{fulfillerId}`
    pub(crate) async fn put_fulfiller(&self, req: &Request, admin: &str) -> HandlerResult {
        let f = from_body::<FulfillerInput>(json_body(req)?)?
            .validate(&path_param(req, "fulfillerId")?)?;
        let stamp = Stamp::now(admin);
        self.catalogue.put_fulfiller(&f, &stamp).await?;
        json(200, &stamped_view(&f, &stamp))
    }

    /// `GET /admin/fulfillers/{fulfillerId}`
    pub(crate) async fn fulfiller(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "fulfillerId")?;
        let found = match dropship_core::ids::is_valid_id(&id) {
            true => self.catalogue.get_fulfiller_stamped(&id).await?,
            false => None,
        };
        let f = found.ok_or_else(|| ApiError::not_found("fulfiller"))?;
        json(200, &stamped_view(&f.value, &f.stamp))
    }

    /// `GET /admin/fulfillers?active=&limit=&nextToken=`
    pub(crate) async fn list_fulfillers(&self, req: &Request) -> HandlerResult {
        let filter = ListFilter::parse(|p| query_param(req, p), false)?;
        let (limit, next) = paging(req)?;
        let page = self
            .catalogue
            .list::<Fulfiller>("FULFILLER", limit, next.as_deref(), |f| {
                filter.keeps_active(f.active)
            })
            .await?
            .ok_or_else(foreign_token)?;
        json(200, &page_view(&page))
    }

    /// `PUT /admin/products/{sku}`: every source must name a configured fulfiller. A body
    /// without `stockShards` keeps the product's (an edit by a tool that does not know the field
    /// must not put a promoted sku's stock back on one item).
    pub(crate) async fn put_product(&self, req: &Request, admin: &str) -> HandlerResult {
        let input = from_body::<ProductInput>(json_body(req)?)?;
        let keep_shards = input.stock_shards.is_none();
        let ids: Vec<String> = input
            .sources
            .iter()
            .map(|s| s.fulfiller_id.clone())
            .collect();
        let known = self.catalogue.get_fulfillers(ids).await?;
        let mut p = input.validate(&path_param(req, "sku")?, |f| known.contains_key(f))?;
        if keep_shards {
            if let Some(stored) = self
                .catalogue
                .get_products([p.sku.to_string()])
                .await?
                .remove(&p.sku)
            {
                p.stock_shards = stored.stock_shards;
            }
        }
        let stamp = Stamp::now(admin);
        self.catalogue.put_product(&p, &stamp).await?;
        json(200, &stamped_view(&p, &stamp))
    }

    /// `GET /admin/products/{sku}`
    pub(crate) async fn product(&self, req: &Request) -> HandlerResult {
        let sku = path_param(req, "sku")?;
        let found = match dropship_core::ids::is_valid_id(&sku) {
            true => self.catalogue.get_product_stamped(&sku).await?,
            false => None,
        };
        let p = found.ok_or_else(|| ApiError::not_found("product"))?;
        json(200, &stamped_view(&p.value, &p.stamp))
    }

    /// `GET /admin/products?q=&group=&active=&limit=&nextToken=`: by sku.
    pub(crate) async fn list_products(&self, req: &Request) -> HandlerResult {
        let filter = ListFilter::parse(|p| query_param(req, p), true)?;
        let (limit, next) = paging(req)?;
        let page = self
            .catalogue
            .list::<Product>("PRODUCT", limit, next.as_deref(), |p| {
                filter.keeps_product(p)
            })
            .await?
            .ok_or_else(foreign_token)?;
        json(200, &page_view(&page))
    }

    /// `PUT /admin/tax-rates/{country}/{taxClass}`
    pub(crate) async fn put_tax_rates(&self, req: &Request, admin: &str) -> HandlerResult {
        let t = from_body::<TaxRatesInput>(json_body(req)?)?
            .validate(&path_param(req, "country")?, &path_param(req, "taxClass")?)?;
        let stamp = Stamp::now(admin);
        self.catalogue.put_tax_rates(&t, &stamp).await?;
        json(200, &stamped_view(&t, &stamp))
    }

    /// `GET /admin/tax-rates/{country}/{taxClass}`: every period of that country and class.
    pub(crate) async fn tax_rates(&self, req: &Request) -> HandlerResult {
        let country = path_param(req, "country")?;
        let class = TaxClass::parse(&path_param(req, "taxClass")?);
        let known_country = dropship_core::ids::CountryCode::parse("country", &country).ok();
        let found = match (known_country, class) {
            (Some(c), Some(class)) => {
                self.catalogue
                    .get_tax_rates_stamped(c.as_str(), class)
                    .await?
            }
            _ => None,
        };
        let t = found.ok_or_else(|| ApiError::not_found("tax rates"))?;
        json(200, &stamped_view(&t.value, &t.stamp))
    }

    /// `GET /admin/tax-rates?limit=&nextToken=`: every country and class with its periods,
    /// by country, then class.
    pub(crate) async fn list_tax_rates(&self, req: &Request) -> HandlerResult {
        let (limit, next) = paging(req)?;
        let page = self
            .catalogue
            .list::<TaxRates>("TAX", limit, next.as_deref(), |_| true)
            .await?
            .ok_or_else(foreign_token)?;
        json(200, &page_view(&page))
    }

    /// `PUT /admin/branding`: the design and sender of every document and mail. The logo is
    /// also put in the document bucket (before the item names it), for GET's `logoUrl`.
    pub(crate) async fn put_branding(&self, req: &Request, admin: &str) -> HandlerResult {
        let b = from_body::<BrandingInput>(json_body(req)?)?.validate()?;
        // The functions may send only from the deployment's mail domain (IAM grants
        // exactly that SES identity): another domain would fail at the first mail.
        let domain = b.email_from.rsplit('@').next().unwrap_or_default();
        if !domain.eq_ignore_ascii_case(&self.mail_sender_domain) {
            return Err(ApiError::invalid(
                "emailFrom",
                format!(
                    "emailFrom must be an address of {}",
                    self.mail_sender_domain
                ),
            )
            .into());
        }
        // Every check before the first write: a logo that is not base64 registers nothing.
        let logo = match &b.logo_png_base64 {
            Some(base64) => Some((logo_key(base64), decode_logo(base64)?)),
            None => None,
        };
        // SES sends only from verified identities: register the domain with every change.
        self.mailer.verify_sender(&self.mail_sender_domain).await?;
        let logo = match logo {
            Some((key, bytes)) => {
                self.documents.put_png(&key, bytes).await?;
                Some(key)
            }
            None => None,
        };
        let stamp = Stamp::now(admin);
        self.catalogue
            .put_branding(&b, &stamp, logo.as_deref())
            .await?;
        json(200, &stamped_view(&b, &stamp))
    }

    /// Puts a logo (base64 PNG) in the document bucket under its content's key; 422 when it is
    /// not base64.
    async fn store_logo(&self, base64: &str) -> Result<String, dropship_aws::http::HandlerError> {
        let bytes = decode_logo(base64)?;
        let key = logo_key(base64);
        self.documents.put_png(&key, bytes).await?;
        Ok(key)
    }

    /// `GET /admin/branding`: as PUT, with the logo as `logoUrl` (a presigned link valid 15
    /// minutes) instead of its base64. A branding stored before logos were kept in the bucket
    /// has its logo put there now (the same content-named object every time).
    pub(crate) async fn branding(&self) -> HandlerResult {
        let stored = self
            .catalogue
            .get_branding_stored()
            .await?
            .ok_or_else(|| ApiError::not_found("branding"))?;
        let Stamped { value: b, stamp } = &stored.branding;
        let key = match (&stored.logo_key, &b.logo_png_base64) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(base64)) => match self.store_logo(base64).await {
                Ok(key) => Some(key),
                Err(dropship_aws::http::HandlerError::Api(e)) => {
                    tracing::warn!(error = %e, "the stored logo is not base64: no logoUrl");
                    None
                }
                Err(e) => return Err(e),
            },
            (None, None) => None,
        };
        let mut view = stamped_view(b, stamp);
        if let Some(o) = view.as_object_mut() {
            o.remove("logoPngBase64");
            if let Some(key) = key {
                o.insert(
                    "logoUrl".into(),
                    json!(self.documents.presign_get(&key).await?),
                );
            }
        }
        json(200, &view)
    }

    /// `PUT /admin/refund-policy`: its return window is the process settings'
    /// `returns.windowDays`, so the write is a new process version too.
    pub(crate) async fn put_refund_policy(&self, req: &Request, admin: &str) -> HandlerResult {
        let p = from_body::<RefundPolicyInput>(json_body(req)?)?.validate()?;
        self.catalogue.put_refund_policy(&p, admin).await?;
        // The answer is what GET answers now, with the stamp as the policy item keeps it.
        let (policy, stamp) = self.catalogue.get_refund_policy_stamped().await?;
        json(200, &stamped_view(&policy, &stamp))
    }

    /// `GET /admin/refund-policy`: the allocation as PUT, the return window of the latest
    /// process settings; the defaults when none was PUT.
    pub(crate) async fn refund_policy(&self) -> HandlerResult {
        let (policy, stamp) = self.catalogue.get_refund_policy_stamped().await?;
        json(200, &stamped_view(&policy, &stamp))
    }

    /// `GET /admin/finance/accounts`: the stored accounts, or the SKR03 defaults.
    pub(crate) async fn finance_accounts(&self) -> HandlerResult {
        json(200, &self.catalogue.get_finance_accounts().await?)
    }

    /// `PUT /admin/finance/accounts`: a field left out takes its default (the whole document
    /// is replaced); a wrong one is 422 naming it, and nothing is written.
    pub(crate) async fn put_finance_accounts(&self, req: &Request) -> HandlerResult {
        let accounts = FinanceAccounts::parse(&json_body(req)?)?;
        self.catalogue.put_finance_accounts(&accounts).await?;
        json(200, &accounts)
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::call;
    use serde_json::json;

    #[tokio::test]
    async fn mail_comes_only_from_the_deployments_domain() {
        let branding = json!({"companyName": "L", "address": {"name": "L", "street": "S 1",
            "postalCode": "1", "city": "B", "country": "DE"}, "vatId": "DE1", "primaryColor": "#000000",
            "footer": "f", "emailFrom": "service@elsewhere.example", "locale": "de"});
        let (status, body) = call(|v| {
            v["routeKey"] = json!("PUT /admin/branding");
            v["requestContext"]["routeKey"] = json!("PUT /admin/branding");
            v["rawPath"] = json!("/admin/branding");
            v["body"] = json!(branding.to_string());
        })
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("emailFrom")),
            "{body}"
        );
    }

    #[tokio::test]
    async fn invalid_list_queries_are_refused_naming_the_parameter_before_any_read() {
        for (route, query, field) in [
            ("/admin/products", "active=yes", "active"),
            ("/admin/products", "q=%20", "q"),
            ("/admin/channels", "limit=0", "limit"),
            ("/admin/fulfillers", "limit=201", "limit"),
            ("/admin/tokens", "principal=everyone", "principal"),
        ] {
            let (status, answer) = call(|v| {
                v["routeKey"] = json!(format!("GET {route}"));
                v["requestContext"]["routeKey"] = json!(format!("GET {route}"));
                v["requestContext"]["http"]["method"] = json!("GET");
                v["rawPath"] = json!(route);
                v["rawQueryString"] = json!(query);
                v["body"] = serde_json::Value::Null;
            })
            .await;
            assert_eq!(
                (status, answer["error"]["field"].as_str()),
                (422, Some(field)),
                "{route} {query}: {answer}"
            );
        }
    }

    #[tokio::test]
    async fn wrong_finance_accounts_are_refused_naming_the_field() {
        for (body, field) in [
            (json!({"datev": {"clientNumber": 0}}), "datev.clientNumber"),
            (
                json!({"datev": {"accountLength": 9}}),
                "datev.accountLength",
            ),
            (
                json!({"revenue": [{"country": "DE", "rate": "19", "account": "8400"}]}),
                "revenue[0].rate",
            ),
            (json!({"chargebacks": "01460"}), "chargebacks"),
        ] {
            let (status, answer) = call(|v| {
                v["routeKey"] = json!("PUT /admin/finance/accounts");
                v["requestContext"]["routeKey"] = json!("PUT /admin/finance/accounts");
                v["rawPath"] = json!("/admin/finance/accounts");
                v["body"] = json!(body.to_string());
            })
            .await;
            assert_eq!(
                (status, answer["error"]["field"].as_str()),
                (422, Some(field)),
                "{body}: {answer}"
            );
        }
    }
}
