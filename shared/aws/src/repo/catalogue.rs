//! Catalogue table: the retailer's configuration, one item per thing.
//! Keys: pk = kind (`CHANNEL`, `FULFILLER`, `PRODUCT`, `TAX`, `BRANDING`, `POLICY`), sk = its id
//! (`TAX`: `<country>#<taxClass>`, `BRANDING`: `current`, `POLICY`: `refund`). The process
//! settings' versions: `process`.
//! Access: get one; batch-get many of a kind (products and tax rates of an order, fulfillers of
//! a product); put (last write wins: PUT is a full replace). Prices and promotions: `pricing`.

mod pricing;
mod process;
mod staff;
pub use pricing::{StoredPrices, StoredPromotion};
pub use process::{ProcessWrite, VersionPage};

use super::{batch_get, from_item, s, to_item, Item};
use anyhow::Context;
use dropship_core::catalogue::{Branding, Channel, Fulfiller, Product, TaxClass, TaxRates};
use dropship_core::finance_export::FinanceAccounts;
use dropship_core::ids::{ChannelId, CountryCode, FulfillerId, Sku};
use dropship_core::pricing::PriceHistory;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Catalogue {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The newest process versions as last read, shared by the clones of this catalogue (one
    /// per function container): `process::ProcessCache`.
    process_cache: std::sync::Arc<std::sync::Mutex<Option<process::ProcessCache>>>,
}

fn key(pk: &str, sk: &str) -> Item {
    Item::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// The keys of `sks` under `pk`, each once: BatchGetItem refuses a request naming a key twice.
/// (Deduplicated as strings: an Item is a HashMap, whose printed order varies from process to
/// process, so items cannot be sorted into adjacency by their text.)
fn distinct_keys(pk: &str, sks: impl IntoIterator<Item = String>) -> Vec<Item> {
    let sks: std::collections::BTreeSet<String> = sks.into_iter().collect();
    sks.iter().map(|sk| key(pk, sk)).collect()
}

impl Catalogue {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self {
            client,
            table,
            process_cache: Default::default(),
        }
    }

    async fn put<T: Serialize>(&self, pk: &str, sk: &str, v: &T) -> anyhow::Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(v, &[("pk", pk), ("sk", sk)])?))
            .send()
            .await
            .with_context(|| format!("storing {pk} {sk}"))?;
        Ok(())
    }

    async fn get<T: DeserializeOwned>(&self, pk: &str, sk: &str) -> anyhow::Result<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .with_context(|| format!("reading {pk} {sk}"))?;
        out.item.map(from_item).transpose()
    }

    async fn get_many<T: DeserializeOwned>(
        &self,
        pk: &str,
        sks: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<Vec<T>> {
        let keys = distinct_keys(pk, sks);
        batch_get(&self.client, &self.table, keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    pub async fn put_channel(&self, c: &Channel) -> anyhow::Result<()> {
        self.put("CHANNEL", c.id.as_str(), c).await
    }
    pub async fn get_channel(&self, id: &str) -> anyhow::Result<Option<Channel>> {
        self.get("CHANNEL", id).await
    }
    pub async fn put_fulfiller(&self, f: &Fulfiller) -> anyhow::Result<()> {
        self.put("FULFILLER", f.id.as_str(), f).await
    }
    pub async fn get_fulfiller(&self, id: &str) -> anyhow::Result<Option<Fulfiller>> {
        self.get("FULFILLER", id).await
    }
    pub async fn get_fulfillers(
        &self,
        ids: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<BTreeMap<FulfillerId, Fulfiller>> {
        let (_, keys) = self.fulfiller_keys(ids);
        Self::fulfillers_from(batch_get(&self.client, &self.table, keys).await?)
    }
    /// Every fulfiller (the FULFILLER partition: one query, no scan).
    pub async fn all_fulfillers(&self) -> anyhow::Result<Vec<Fulfiller>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("FULFILLER"));
        super::query_all(query, "listing the fulfillers").await
    }
    /// The table and keys of these fulfillers, to read them in a BatchGetItem shared with
    /// other tables (`repo::batch_get_tables`); `fulfillers_from` parses what came back.
    pub fn fulfiller_keys(&self, ids: impl IntoIterator<Item = String>) -> (String, Vec<Item>) {
        (self.table.clone(), distinct_keys("FULFILLER", ids))
    }
    pub fn fulfillers_from(items: Vec<Item>) -> anyhow::Result<BTreeMap<FulfillerId, Fulfiller>> {
        items
            .into_iter()
            .map(|i| from_item::<Fulfiller>(i).map(|f| (f.id.clone(), f)))
            .collect()
    }
    pub async fn put_product(&self, p: &Product) -> anyhow::Result<()> {
        self.put("PRODUCT", p.sku.as_str(), p).await
    }
    pub async fn get_products(
        &self,
        skus: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<BTreeMap<Sku, Product>> {
        Ok(self
            .get_many::<Product>("PRODUCT", skus)
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect())
    }
    pub async fn put_tax_rates(&self, t: &TaxRates) -> anyhow::Result<()> {
        self.put("TAX", &format!("{}#{}", t.country, t.tax_class.as_str()), t)
            .await
    }
    pub async fn put_branding(&self, b: &Branding) -> anyhow::Result<()> {
        self.put("BRANDING", "current", b).await
    }
    pub async fn get_branding(&self) -> anyhow::Result<Option<Branding>> {
        self.get("BRANDING", "current").await
    }
    /// The retailer's time zone: the branding's, Europe/Berlin before one is set.
    pub async fn time_zone(&self) -> anyhow::Result<chrono_tz::Tz> {
        Ok(self
            .get_branding()
            .await?
            .and_then(|b| b.time_zone.parse().ok())
            .unwrap_or(chrono_tz::Europe::Berlin))
    }
    pub async fn put_finance_accounts(&self, a: &FinanceAccounts) -> anyhow::Result<()> {
        self.put("FINANCE", "accounts", a).await
    }
    /// The finance export's accounts, or the SKR03 defaults when none were set.
    pub async fn get_finance_accounts(&self) -> anyhow::Result<FinanceAccounts> {
        Ok(self.get("FINANCE", "accounts").await?.unwrap_or_default())
    }

    /// Everything the intake needs in one BatchGetItem: the order's products, the tax rates of
    /// every class for the shipping country, and the branding (for its time zone).
    pub async fn get_for_order(
        &self,
        skus: impl IntoIterator<Item = String>,
        country: &str,
        channel: Option<&ChannelId>,
    ) -> anyhow::Result<OrderCatalogue> {
        let skus: Vec<String> = skus.into_iter().collect();
        let mut keys = distinct_keys("PRODUCT", skus.iter().cloned());
        if let Some(channel) = channel {
            keys.push(key("CHANNEL", channel.as_str()));
            let prices = skus
                .iter()
                .filter_map(|sku| Sku::try_from(sku.as_str()).ok())
                .map(|sku| pricing::price_key(channel, &sku));
            keys.extend(distinct_keys("PRICE", prices));
        }
        for class in [TaxClass::Standard, TaxClass::Reduced, TaxClass::Zero] {
            keys.push(key("TAX", &format!("{country}#{}", class.as_str())));
        }
        keys.push(key("BRANDING", "current"));
        let mut out = OrderCatalogue::default();
        for item in batch_get(&self.client, &self.table, keys).await? {
            let pk = item
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            match pk.as_str() {
                "PRODUCT" => {
                    let p: Product = from_item(item)?;
                    out.products.insert(p.sku.clone(), p);
                }
                "TAX" => {
                    let t: TaxRates = from_item(item)?;
                    out.tax_rates.insert((t.country.clone(), t.tax_class), t);
                }
                "BRANDING" => out.branding = Some(from_item(item)?),
                "CHANNEL" => out.channel = Some(from_item(item)?),
                "PRICE" => {
                    let (sku, history) = pricing::history_of(item)?;
                    out.list_prices.insert(sku, history);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The catalogue an order is priced against.
#[derive(Debug, Default)]
pub struct OrderCatalogue {
    pub products: BTreeMap<Sku, Product>,
    pub tax_rates: BTreeMap<(CountryCode, TaxClass), TaxRates>,
    pub branding: Option<Branding>,
    /// The ordering channel, when one was asked for.
    pub channel: Option<Channel>,
    /// The channel's price histories of the order's skus (those that have any).
    pub list_prices: BTreeMap<Sku, PriceHistory>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_asked_for_once() {
        let keys = super::distinct_keys(
            "FULFILLER",
            ["acme", "nordic", "acme", "wh", "nordic", "acme"].map(String::from),
        );
        let sks: Vec<&str> = keys
            .iter()
            .filter_map(|k| k.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str))
            .collect();
        assert_eq!(sks, ["acme", "nordic", "wh"]);
    }
}
