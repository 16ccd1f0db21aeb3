//! The retailer's reports, `GET /admin/reports/{kind}?from=&to=&format=json|csv|xlsx` (sales,
//! orders, customers, returns, stock, finance, settlement, promotions): read-only, admin only, as JSON rows or
//! as a CSV (`delimiter=comma|semicolon`) or XLSX file in the document bucket (under `reports/`,
//! an unguessable key, kept 7 days) reached by a 15-minute presigned link.
//!
//! Every read goes through a key or an index bounded by the period: orders by creation time
//! (byCreated), a fulfiller's delivery orders and returns by creation time (byFulfiller, from 92
//! days before the period, so that shipments and receipts in the period of older ones count),
//! fulfillers and products from their catalogue partitions, stock by fulfiller. The period is at
//! most 366 days. That is fine for a retailer's tens of thousands of orders a year; far beyond
//! (10 million orders) a report should not read the live tables at all: DynamoDB's export to S3
//! (incremental, no read capacity used) queried with Athena, or daily aggregates kept by a
//! stream consumer, would serve the same rows.

mod config;
pub use config::Config;
pub mod export;
pub mod finance;
pub mod jobs;
pub mod promotions;
pub mod sales;
pub mod tables;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use dropship_aws::documents::{DocumentStore, PRESIGNED_TTL};
use dropship_aws::http::{self, json, path_param, query_param, HandlerResult};
use dropship_aws::repo::aggregates::Aggregates;
use dropship_aws::repo::catalogue::StoredPromotion;
use dropship_aws::repo::orders::{sort_time, Orders};
use dropship_aws::repo::stock::Stock;
use dropship_aws::repo::{query_all, query_all_whole, s};
use dropship_core::aggregates::Kind as AggregateKind;
use dropship_core::catalogue::{Fulfiller, Product};
use dropship_core::delivery::DeliveryOrder;
use dropship_core::ids::{ChannelId, CountryCode, FulfillerId, OrderId, Sku};
use dropship_core::order::Order;
use dropship_core::principal::require_retailer;
use dropship_core::returns::ReturnPart;
use dropship_core::ApiError;
use export::{Delimiter, FileFormat};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::collections::BTreeMap;
use tables::{Filters, Period, Table};

/// The longest period one report may span.
pub const MAX_DAYS: i64 = 366;
/// How far before the period delivery orders and returns are read (for shipments and receipts
/// in the period of older ones).
pub const LOOKBACK_DAYS: i64 = 92;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sales,
    Orders,
    Customers,
    Returns,
    Stock,
    Finance,
    Settlement,
    Promotions,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "sales" => Kind::Sales,
            "orders" => Kind::Orders,
            "customers" => Kind::Customers,
            "returns" => Kind::Returns,
            "stock" => Kind::Stock,
            "finance" => Kind::Finance,
            "settlement" => Kind::Settlement,
            "promotions" => Kind::Promotions,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sales => "sales",
            Kind::Orders => "orders",
            Kind::Customers => "customers",
            Kind::Returns => "returns",
            Kind::Stock => "stock",
            Kind::Finance => "finance",
            Kind::Settlement => "settlement",
            Kind::Promotions => "promotions",
        }
    }
}

/// A checked request.
#[derive(Debug, Clone)]
pub struct Query {
    pub kind: Kind,
    /// `None`: the rows inline as JSON; else the file the download link serves.
    pub file: Option<FileFormat>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub filters: Filters,
}

/// Checks the query string: 422 with the field for anything wrong, before anything is read.
pub fn parse_query(kind: &str, get: impl Fn(&str) -> Option<String>) -> Result<Query, ApiError> {
    let kind = Kind::parse(kind).ok_or_else(|| ApiError::not_found("report"))?;
    // Checked whatever the format, so that a typo is refused rather than silently ignored.
    let delimiter = match get("delimiter") {
        None => Delimiter::default(),
        Some(d) => Delimiter::parse(&d).ok_or_else(|| {
            ApiError::invalid("delimiter", "delimiter must be comma or semicolon")
        })?,
    };
    let file = match get("format").as_deref() {
        None | Some("json") => None,
        Some("csv") => Some(FileFormat::Csv(delimiter)),
        Some("xlsx") => Some(FileFormat::Xlsx),
        Some(_) => {
            return Err(ApiError::invalid(
                "format",
                "format must be json, csv or xlsx",
            ))
        }
    };
    let date = |name: &str| -> Result<Option<NaiveDate>, ApiError> {
        get(name)
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD"))
                })
            })
            .transpose()
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::invalid("to", "to is before from"));
        }
        if (t - f).num_days() >= MAX_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("a report spans at most {MAX_DAYS} days"),
            ));
        }
    }
    let country = get("country")
        .map(|c| CountryCode::parse("country", c))
        .transpose()?;
    let group = get("group");
    if let Some(g) = &group {
        dropship_core::ids::check_text("group", g, 200)?;
    }
    Ok(Query {
        kind,
        file,
        from,
        to,
        filters: Filters {
            channel: get("channel")
                .map(|v| ChannelId::parse("channel", v))
                .transpose()?,
            fulfiller: get("fulfiller")
                .map(|v| FulfillerId::parse("fulfiller", v))
                .transpose()?,
            country,
            group,
        },
    })
}

/// The period in the retailer's time zone: `to` defaults to today, `from` to 30 days before.
pub fn period(q: &Query, tz: chrono_tz::Tz, now: DateTime<Utc>) -> Result<Period, ApiError> {
    let today = now.with_timezone(&tz).date_naive();
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if to < from {
        return Err(ApiError::invalid("from", "from is after to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("a report spans at most {MAX_DAYS} days"),
        ));
    }
    let (lo, hi) = dropship_core::catalogue::day_bounds(Some(from), Some(to), tz.name());
    match (lo, hi) {
        (Some(lo), Some(hi)) => Ok(Period { tz, lo, hi }),
        _ => Err(ApiError::invalid("from", "the period is out of range")),
    }
}

pub struct Reports {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub store: DocumentStore,
    pub bucket: String,
    pub orders_table: String,
    pub delivery_orders_table: String,
    pub stock_table: String,
    pub catalogue_table: String,
    pub returns_table: String,
    pub aggregates: Aggregates,
    /// A staff member's refusals (reports change nothing, so nothing else is audited here).
    pub audit: dropship_aws::repo::audit::AuditLog,
    /// Report jobs: the reports over long periods, made by the report-jobs function.
    pub jobs: dropship_aws::queue::Queue,
}

impl dropship_aws::config::FromConfig for Reports {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let s3 = aws_sdk_s3::Client::new(cfg);
        let bucket = config.document_bucket.clone();
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(cfg),
            store: DocumentStore::new(s3.clone(), bucket.clone()),
            s3,
            bucket,
            orders_table: config.orders_table.clone(),
            delivery_orders_table: config.delivery_orders_table.clone(),
            stock_table: config.stock_table.clone(),
            catalogue_table: config.catalogue_table.clone(),
            returns_table: config.returns_table.clone(),
            aggregates: Aggregates::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.report_aggregates_table.clone(),
            ),
            audit: dropship_aws::repo::audit::AuditLog::new(
                aws_sdk_dynamodb::Client::new(cfg),
                config.audit_table.clone(),
            ),
            jobs: dropship_aws::queue::Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.report_jobs_queue_url.clone(),
            ),
        })
    }
}

impl Reports {
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let result = self.route(&req).await;
        http::audit(&self.audit, &req, &result).await;
        http::respond(std::future::ready(result)).await
    }

    async fn route(&self, req: &Request) -> HandlerResult {
        let route = http::route_key(req);
        let admin = require_retailer(http::principal(req).as_ref(), &route)?;
        match route.as_str() {
            "GET /admin/reports/{kind}" => {}
            "GET /admin/finance/export" => return self.finance_export(req, &admin).await,
            "GET /admin/finance/exports/{id}" => return self.finance_export_status(req).await,
            "GET /admin/report-jobs/{id}" => return self.job_status(req).await,
            _ => return Err(ApiError::not_found("route").into()),
        }
        let q = parse_query(&path_param(req, "kind")?, |n| query_param(req, n))?;
        let tz = self.time_zone().await?;
        let now = Utc::now();
        let p = period(&q, tz, now)?;
        if jobs::is_job(&q, &p) {
            return self.start_job(req, &q, &p, &admin).await;
        }
        let table = self.build(&q, &p, now, None).await?;
        tracing::info!(report = q.kind.name(), rows = table.rows.len(), file = ?q.file, by = %admin, "report");
        let Some(file) = q.file else {
            // `columns`: the rows' fields in the report's order (a JSON object has none).
            return json(
                200,
                &json!({ "items": table.items(), "columns": table.columns }),
            );
        };
        let key = self.store_file(&q, file, &table).await?;
        let url = self.store.presign_get(&key).await?;
        let expires_at =
            now + Duration::from_std(PRESIGNED_TTL).unwrap_or_else(|_| Duration::minutes(15));
        json(
            200,
            &json!({"url": url, "expiresAt": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
        )
    }

    /// Writes a report's file under `reports/<kind>/` (an unguessable key) and answers its key.
    async fn store_file(
        &self,
        q: &Query,
        file: FileFormat,
        table: &Table,
    ) -> anyhow::Result<String> {
        let bytes = match file {
            FileFormat::Csv(delimiter) => table.csv(delimiter)?,
            FileFormat::Xlsx => table.xlsx(q.kind.name())?,
        };
        let extension = file.extension();
        let key = format!(
            "reports/{}/{}{}.{extension}",
            q.kind.name(),
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(file.content_type())
            .content_disposition(format!(
                "attachment; filename=\"{}.{extension}\"",
                q.kind.name()
            ))
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(bytes.into())
            .send()
            .await
            .with_context(|| format!("storing the report s3://{}/{key}", self.bucket))?;
        Ok(key)
    }

    /// The period's orders: those a report job read before (`read`), else from the index now.
    async fn period_orders(
        &self,
        p: &Period,
        read: &mut Option<Vec<Order>>,
    ) -> anyhow::Result<Vec<Order>> {
        match read.take() {
            Some(orders) => Ok(orders),
            None => self.orders_between(p.lo, p.hi).await,
        }
    }

    /// The report's rows. `read`: the period's orders when a job read them already.
    async fn build(
        &self,
        q: &Query,
        p: &Period,
        now: DateTime<Utc>,
        mut read: Option<Vec<Order>>,
    ) -> anyhow::Result<Table> {
        let read = &mut read;
        let f = &q.filters;
        Ok(match q.kind {
            Kind::Orders => match self.aggregate_rows(AggregateKind::Orders, p).await? {
                Some(rows) => sales::orders_of(&rows, f),
                None => tables::orders(&self.period_orders(p, read).await?, p, f),
            },
            Kind::Customers => tables::customers(&self.period_orders(p, read).await?, p, f),
            Kind::Finance => tables::finance(&self.period_orders(p, read).await?, p, f),
            Kind::Promotions => {
                let orders = self.period_orders(p, read).await?;
                let known = self
                    .catalogue_partition::<StoredPromotion>("PROMOTION")
                    .await?
                    .into_iter()
                    .map(|s| (s.promotion.id.clone(), s.promotion))
                    .collect();
                promotions::promotions(&orders, &known, p, f)
            }
            Kind::Sales => match self.aggregate_rows(AggregateKind::Sales, p).await? {
                Some(rows) => sales::sales_of(&rows, &self.products().await?, f),
                None => {
                    let orders = self.period_orders(p, read).await?;
                    tables::sales(&orders, &self.products().await?, p, f)
                }
            },
            Kind::Stock => {
                let mut levels = Vec::new();
                for id in self.fulfiller_ids(f).await? {
                    levels.extend(
                        Stock::new(self.dynamodb.clone(), self.stock_table.clone())
                            .list(&id)
                            .await?,
                    );
                }
                tables::stock(&levels, &self.products().await?, now, f)
            }
            Kind::Settlement => {
                let since = p.lo - Duration::days(LOOKBACK_DAYS);
                let mut deliveries = Vec::new();
                let mut parts = Vec::new();
                for id in self.fulfiller_ids(f).await? {
                    deliveries.extend(
                        self.by_fulfiller::<DeliveryOrder>(
                            &self.delivery_orders_table,
                            Some(&["id"]),
                            &id,
                            since,
                            p.hi,
                        )
                        .await?,
                    );
                    parts.extend(
                        self.by_fulfiller::<ReturnPart>(
                            &self.returns_table,
                            None,
                            &id,
                            since,
                            p.hi,
                        )
                        .await?,
                    );
                }
                tables::settlement(&deliveries, &parts, &self.products().await?, p, f)
            }
            Kind::Returns => {
                let orders = self.period_orders(p, read).await?;
                let mut parts = Vec::new();
                for id in self.fulfiller_ids(f).await? {
                    parts.extend(
                        self.by_fulfiller::<ReturnPart>(&self.returns_table, None, &id, p.lo, p.hi)
                            .await?,
                    );
                }
                let mut of_parts: BTreeMap<OrderId, Order> =
                    orders.iter().map(|o| (o.id.clone(), o.clone())).collect();
                let repo = Orders::new(self.dynamodb.clone(), self.orders_table.clone());
                for part in &parts {
                    if !of_parts.contains_key(&part.order_id) {
                        if let Some(o) = repo.get(part.order_id.as_str()).await? {
                            of_parts.insert(o.id.clone(), o);
                        }
                    }
                }
                tables::returns(&orders, &parts, &of_parts, p, f)
            }
        })
    }

    /// Whether this report's rows come from the report aggregates (sales and orders, once the
    /// sums are complete and dated in the retailer's zone), so that it reads no orders.
    async fn answered_by_aggregates(&self, q: &Query, p: &Period) -> anyhow::Result<bool> {
        if !matches!(q.kind, Kind::Sales | Kind::Orders) {
            return Ok(false);
        }
        let state = self.aggregates.backfill().await?;
        Ok(state.complete && state.zone.as_deref() == Some(p.tz.name()))
    }

    /// The period's rows of the report aggregates, when they answer it: complete (backfilled)
    /// and dated in the retailer's zone of now. `None`: the report reads the orders.
    async fn aggregate_rows(
        &self,
        kind: AggregateKind,
        p: &Period,
    ) -> anyhow::Result<Option<Vec<dropship_core::aggregates::Row>>> {
        let state = self.aggregates.backfill().await?;
        if !state.complete || state.zone.as_deref() != Some(p.tz.name()) {
            return Ok(None);
        }
        let (from, to) = (
            p.lo.with_timezone(&p.tz).date_naive(),
            p.hi.with_timezone(&p.tz).date_naive(),
        );
        let (rows, read) = self.aggregates.rows(kind, from, to).await?;
        tracing::info!(kind = ?kind, items = read, rows = rows.len(), "report aggregates read");
        Ok(Some(rows))
    }

    /// The retailer's time zone (the branding's), Europe/Berlin before one is set.
    async fn time_zone(&self) -> anyhow::Result<chrono_tz::Tz> {
        dropship_aws::repo::catalogue::Catalogue::new(
            self.dynamodb.clone(),
            self.catalogue_table.clone(),
        )
        .time_zone()
        .await
    }

    /// Orders created in [lo, hi], from the byCreated index.
    async fn orders_between(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Order>> {
        let query = self
            .dynamodb
            .query()
            .table_name(&self.orders_table)
            .index_name("byCreated")
            .key_condition_expression("gsi1pk = :o AND gsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":o", s("ORDERS"))
            .expression_attribute_values(":lo", s(sort_time(lo)))
            // "~" sorts after every id character: the whole last microsecond is included.
            .expression_attribute_values(":hi", s(format!("{}~", sort_time(hi))));
        query_all_whole(
            &self.dynamodb,
            query,
            &["pk"],
            "reading the orders of the period",
        )
        .await
    }

    /// A fulfiller's items created in [lo, hi] from a table's byFulfiller index; `whole`: the
    /// table's key attributes when the index holds only keys, so the items are read whole.
    async fn by_fulfiller<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        whole: Option<&[&str]>,
        fulfiller: &FulfillerId,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> anyhow::Result<Vec<T>> {
        let query = self
            .dynamodb
            .query()
            .table_name(table)
            .index_name("byFulfiller")
            .key_condition_expression("fulfillerId = :f AND createdKey BETWEEN :lo AND :hi")
            .expression_attribute_values(":f", s(fulfiller.as_str()))
            .expression_attribute_values(":lo", s(sort_time(lo)))
            .expression_attribute_values(":hi", s(format!("{}~", sort_time(hi))));
        let what = format!("reading {table} of {fulfiller}");
        match whole {
            Some(key_names) => query_all_whole(&self.dynamodb, query, key_names, &what).await,
            None => query_all(query, &what).await,
        }
    }

    async fn catalogue_partition<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
    ) -> anyhow::Result<Vec<T>> {
        let query = self
            .dynamodb
            .query()
            .table_name(&self.catalogue_table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk));
        query_all(query, &format!("reading the catalogue's {pk} items")).await
    }

    async fn products(&self) -> anyhow::Result<BTreeMap<Sku, Product>> {
        Ok(self
            .catalogue_partition::<Product>("PRODUCT")
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect())
    }

    /// The fulfiller asked for, or all of them.
    async fn fulfiller_ids(&self, f: &Filters) -> anyhow::Result<Vec<FulfillerId>> {
        Ok(match &f.fulfiller {
            Some(id) => vec![id.clone()],
            None => self
                .catalogue_partition::<Fulfiller>("FULFILLER")
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests;
