//! Catalogue table: the retailer's configuration, one item per thing.
//! Keys: pk = kind (`CHANNEL`, `FULFILLER`, `PRODUCT`, `TAX`, `BRANDING`, `POLICY`), sk = its id
//! (`TAX`: `<country>#<taxClass>`, `BRANDING`: `current`, `POLICY`: `refund`). The process
//! settings' versions: `process`.
//! Access: get one; batch-get many of a kind (products and tax rates of an order, fulfillers of
//! a product); a page of one kind, in id order (one Query of its partition); put (last write
//! wins: PUT is a full replace). Prices and promotions: `pricing`.
//! An item PUT through the admin API carries `updatedAt` (RFC 3339 UTC) and `updatedBy` (the
//! admin's display name) beside its fields; items stored before have neither. The branding's
//! logo is also kept in the document bucket under `logoKey` (`BRANDING_LOGO_PREFIX`), for the
//! presigned `logoUrl` its GET answers.

mod pricing;
mod process;
mod staff;
pub use pricing::{StoredPrices, StoredPromotion};
pub use process::{ProcessWrite, VersionPage};

use super::{batch_get, decode_next_token, filtered_page, from_item, s, to_item, Item, Page};
use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
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

/// Who changed a configuration item last, and when; None on items stored before it was kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

impl Stamp {
    /// A change by `by`, now.
    pub fn now(by: &str) -> Self {
        Self {
            updated_at: Some(Utc::now()),
            updated_by: Some(by.to_string()),
        }
    }

    /// The stamp an item carries (absent or unreadable attributes: none).
    fn of(item: &Item) -> Self {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Self {
            updated_at: text("updatedAt")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
            updated_by: text("updatedBy"),
        }
    }

    /// Its attributes as `to_item` adds them.
    fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(at) = self.updated_at {
            out.push(("updatedAt", at.to_rfc3339_opts(SecondsFormat::Millis, true)));
        }
        if let Some(by) = &self.updated_by {
            out.push(("updatedBy", by.clone()));
        }
        out
    }
}

/// A configuration item as stored, with its stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped<T> {
    pub value: T,
    pub stamp: Stamp,
}

/// Where the branding's logo is kept in the document bucket: named by its content's SHA-256,
/// so the same logo is one object however often it is PUT.
pub const BRANDING_LOGO_PREFIX: &str = "branding/logo-";

/// The branding as stored: with its stamp and the bucket key of its logo (None for a branding
/// stored before logos were kept in the bucket, or without a logo).
#[derive(Debug, Clone)]
pub struct StoredBranding {
    pub branding: Stamped<Branding>,
    pub logo_key: Option<String>,
}

/// The bucket key of a logo (base64 PNG as PUT).
pub fn logo_key(logo_png_base64: &str) -> String {
    format!(
        "{BRANDING_LOGO_PREFIX}{}.png",
        super::tokens::sha256_hex(logo_png_base64)
    )
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

    /// Stores `v` with `stamp` (and `extra` attributes) beside its fields.
    async fn put_stamped<T: Serialize>(
        &self,
        pk: &str,
        sk: &str,
        v: &T,
        stamp: &Stamp,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let attributes = stamp.attributes();
        let mut keys: Vec<(&str, &str)> = vec![("pk", pk), ("sk", sk)];
        keys.extend(attributes.iter().map(|(k, v)| (*k, v.as_str())));
        keys.extend_from_slice(extra);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(v, &keys)?))
            .send()
            .await
            .with_context(|| format!("storing {pk} {sk}"))?;
        Ok(())
    }

    /// One item, strongly consistent: the admin's GET after a PUT sees what it wrote.
    async fn get_item(&self, pk: &str, sk: &str) -> anyhow::Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading {pk} {sk}"))?;
        Ok(out.item)
    }

    /// One item with its stamp.
    async fn get_stamped<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
    ) -> anyhow::Result<Option<Stamped<T>>> {
        self.get_item(pk, sk).await?.map(stamped).transpose()
    }

    /// A page of the `kind` partition in id order, of the items `keep` takes (`limit`: 1..200);
    /// None when `next_token` is not one this kind's list gave.
    pub async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        limit: usize,
        next_token: Option<&str>,
        keep: impl Fn(&T) -> bool,
    ) -> anyhow::Result<Option<Page<Stamped<T>>>> {
        let start = match next_token {
            None => None,
            Some(t) => match decode_next_token(t).filter(|k| is_key_of(k, kind)) {
                Some(k) => Some(k),
                None => return Ok(None),
            },
        };
        let fetch = |start: Option<Item>, limit: i32| {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(kind))
                // An admin's list right after a PUT shows it (the lists are rare reads).
                .consistent_read(true)
                .limit(limit)
                .set_exclusive_start_key(start);
            async move {
                let out = query
                    .send()
                    .await
                    .with_context(|| format!("listing the catalogue's {kind}"))?;
                Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
            }
        };
        let page = filtered_page(limit, start, &["pk", "sk"], fetch, |item| {
            let v: Stamped<T> = stamped(item)?;
            Ok(keep(&v.value).then_some(v))
        })
        .await?;
        Ok(Some(page))
    }

    pub async fn get_channel_stamped(&self, id: &str) -> anyhow::Result<Option<Stamped<Channel>>> {
        self.get_stamped("CHANNEL", id).await
    }
    pub async fn get_fulfiller_stamped(
        &self,
        id: &str,
    ) -> anyhow::Result<Option<Stamped<Fulfiller>>> {
        self.get_stamped("FULFILLER", id).await
    }
    pub async fn get_product_stamped(&self, sku: &str) -> anyhow::Result<Option<Stamped<Product>>> {
        self.get_stamped("PRODUCT", sku).await
    }
    pub async fn get_tax_rates_stamped(
        &self,
        country: &str,
        tax_class: TaxClass,
    ) -> anyhow::Result<Option<Stamped<TaxRates>>> {
        self.get_stamped("TAX", &format!("{country}#{}", tax_class.as_str()))
            .await
    }
    /// The branding with its stamp and its logo's bucket key.
    pub async fn get_branding_stored(&self) -> anyhow::Result<Option<StoredBranding>> {
        let Some(item) = self.get_item("BRANDING", "current").await? else {
            return Ok(None);
        };
        let logo_key = item.get("logoKey").and_then(|v| v.as_s().ok()).cloned();
        Ok(Some(StoredBranding {
            branding: stamped(item)?,
            logo_key,
        }))
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

    pub async fn put_channel(&self, c: &Channel, stamp: &Stamp) -> anyhow::Result<()> {
        self.put_stamped("CHANNEL", c.id.as_str(), c, stamp, &[])
            .await
    }
    pub async fn get_channel(&self, id: &str) -> anyhow::Result<Option<Channel>> {
        self.get("CHANNEL", id).await
    }
    pub async fn put_fulfiller(&self, f: &Fulfiller, stamp: &Stamp) -> anyhow::Result<()> {
        self.put_stamped("FULFILLER", f.id.as_str(), f, stamp, &[])
            .await
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
    pub async fn put_product(&self, p: &Product, stamp: &Stamp) -> anyhow::Result<()> {
        self.put_stamped("PRODUCT", p.sku.as_str(), p, stamp, &[])
            .await
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
    pub async fn put_tax_rates(&self, t: &TaxRates, stamp: &Stamp) -> anyhow::Result<()> {
        let sk = format!("{}#{}", t.country, t.tax_class.as_str());
        self.put_stamped("TAX", &sk, t, stamp, &[]).await
    }
    /// Stores the branding; `logo_key`: where its logo was put in the document bucket.
    pub async fn put_branding(
        &self,
        b: &Branding,
        stamp: &Stamp,
        logo_key: Option<&str>,
    ) -> anyhow::Result<()> {
        let extra: Vec<(&str, &str)> = logo_key.map(|k| ("logoKey", k)).into_iter().collect();
        self.put_stamped("BRANDING", "current", b, stamp, &extra)
            .await
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

/// An item read whole: its value and its stamp.
fn stamped<T: DeserializeOwned>(item: Item) -> anyhow::Result<Stamped<T>> {
    let stamp = Stamp::of(&item);
    Ok(Stamped {
        value: from_item(item)?,
        stamp,
    })
}

/// True when `k` is a catalogue key of `kind` (a list's token names the partition it walks).
fn is_key_of(k: &Item, kind: &str) -> bool {
    k.len() == 2
        && k.get("pk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some(kind)
        && k.get("sk")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|sk| !sk.is_empty())
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
    use super::*;

    #[test]
    fn a_stamp_round_trips_and_items_stored_before_have_none() {
        let stamp = Stamp {
            updated_at: DateTime::parse_from_rfc3339("2026-12-03T10:00:00.123Z")
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            updated_by: Some("Ada Admin".into()),
        };
        let item: Item = stamp
            .attributes()
            .into_iter()
            .map(|(k, v)| (k.to_string(), s(v)))
            .collect();
        assert_eq!(
            item["updatedAt"].as_s().unwrap(),
            "2026-12-03T10:00:00.123Z"
        );
        assert_eq!(Stamp::of(&item), stamp);
        assert_eq!(Stamp::of(&Item::new()), Stamp::default());
    }

    #[test]
    fn a_token_of_another_list_is_not_taken() {
        let k = key("PRODUCT", "MUG-1");
        assert!(is_key_of(&k, "PRODUCT"));
        assert!(!is_key_of(&k, "CHANNEL"));
        assert!(!is_key_of(&key("PRODUCT", ""), "PRODUCT"));
        let mut extra = k.clone();
        extra.insert("x".into(), s("y"));
        assert!(!is_key_of(&extra, "PRODUCT"));
    }

    #[test]
    fn the_same_logo_is_the_same_object() {
        let a = logo_key("iVBORw0KGgoAAA");
        assert_eq!(a, logo_key("iVBORw0KGgoAAA"));
        assert_ne!(a, logo_key("iVBORw0KGgoAAB"));
        assert!(a.starts_with(BRANDING_LOGO_PREFIX) && a.ends_with(".png"));
    }

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
