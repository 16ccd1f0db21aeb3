//! The retailer's configuration: channels, fulfillers, products, tax rates, branding, the
//! refund policy and the finance export's accounts. Each route validates its body with the catalogue's rules and stores it whole;
//! separate because nothing else here writes the catalogue.

use crate::AdminApi;
use dropship_aws::http::{json, json_body, path_param, HandlerResult};
use dropship_core::catalogue::{
    from_body, BrandingInput, ChannelInput, FulfillerInput, ProductInput, RefundPolicyInput,
    TaxRatesInput,
};
use dropship_core::finance_export::FinanceAccounts;
use dropship_core::ApiError;
use lambda_http::Request;

impl AdminApi {
    /// `PUT /admin/channels/{channelId}`: a channel that existed keeps its currency when the
    /// body names none.
    pub(crate) async fn put_channel(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "channelId")?;
        let input = from_body::<ChannelInput>(json_body(req)?)?;
        input.check(&id)?;
        let existing = self.catalogue.get_channel(&id).await?;
        let c = input.validate(&id, existing.as_ref())?;
        self.catalogue.put_channel(&c).await?;
        json(200, &c)
    }

    /// `PUT /admin/fulfillers/{fulfillerId}`
    pub(crate) async fn put_fulfiller(&self, req: &Request) -> HandlerResult {
        let f = from_body::<FulfillerInput>(json_body(req)?)?
            .validate(&path_param(req, "fulfillerId")?)?;
        self.catalogue.put_fulfiller(&f).await?;
        json(200, &f)
    }

    /// `PUT /admin/products/{sku}`: every source must name a configured fulfiller. A body
    /// without `stockShards` keeps the product's (an edit by a tool that does not know the field
    /// must not put a promoted sku's stock back on one item).
    pub(crate) async fn put_product(&self, req: &Request) -> HandlerResult {
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
        self.catalogue.put_product(&p).await?;
        json(200, &p)
    }

    /// `PUT /admin/tax-rates/{country}/{taxClass}`
    pub(crate) async fn put_tax_rates(&self, req: &Request) -> HandlerResult {
        let t = from_body::<TaxRatesInput>(json_body(req)?)?
            .validate(&path_param(req, "country")?, &path_param(req, "taxClass")?)?;
        self.catalogue.put_tax_rates(&t).await?;
        json(200, &t)
    }

    /// `PUT /admin/branding`: the design and sender of every document and mail.
    pub(crate) async fn put_branding(&self, req: &Request) -> HandlerResult {
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
        // SES sends only from verified identities: register the domain with every change.
        self.mailer.verify_sender(&self.mail_sender_domain).await?;
        self.catalogue.put_branding(&b).await?;
        json(200, &b)
    }

    /// `PUT /admin/refund-policy`: its return window is the process settings'
    /// `returns.windowDays`, so the write is a new process version too.
    pub(crate) async fn put_refund_policy(&self, req: &Request, admin: &str) -> HandlerResult {
        let p = from_body::<RefundPolicyInput>(json_body(req)?)?.validate()?;
        self.catalogue.put_refund_policy(&p, admin).await?;
        json(200, &p)
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
