//! The finance export, `GET /admin/finance/export?from=&to=&format=journal|datev`, and its
//! status, `GET /admin/finance/exports/{id}`. The postings come from the records the system keeps
//! (`dropship_core::finance_export`): the figures of each invoice-like document, stored as JSON
//! beside its PDF by the document generator (`documents/{orderId}/figures-{number}.json`), and each
//! order's ledger. The file is written within the request (200 with the link); the status route
//! answers for an export made before (`ready` with a fresh link, or 404).
//!
//! Which orders are read: those created from `LOOKBACK_DAYS` before the period to its end (the
//! byCreated index), so that an invoice, a correction, a refund or a payment in the period of an
//! order created up to 92 days before it is booked. A document or money movement of an older
//! order is not in the file.

use crate::{Reports, LOOKBACK_DAYS};
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use dropship_aws::documents::PRESIGNED_TTL;
use dropship_aws::http::{json, path_param, query_param, HandlerResult};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_core::documents::{InvoiceDocument, InvoiceKind};
use dropship_core::finance_export::datev::Buchungsstapel;
use dropship_core::finance_export::{
    correction_posting, document_posting, journal::journal, ledger_postings, ExportFormat,
    ExportRequest, Posting,
};
use dropship_core::order::Order;
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;
use std::collections::BTreeMap;

/// Where the export files live: under the reports' prefix (kept 7 days), one folder per export.
const PREFIX: &str = "reports/finance-export";

/// The postings of one order's documents and ledger (every date: the request picks the period).
pub fn order_postings(
    order: &Order,
    documents: &[InvoiceDocument],
    time_zone: &str,
) -> Result<Vec<Posting>, ApiError> {
    let by_number: BTreeMap<&str, &InvoiceDocument> =
        documents.iter().map(|d| (d.number.as_str(), d)).collect();
    let mut out = Vec::with_capacity(documents.len() + order.ledger.len());
    for d in documents {
        out.push(match &d.kind {
            InvoiceKind::Correction { supersedes } => {
                let superseded = by_number.get(supersedes.as_str()).ok_or_else(|| {
                    ApiError::new(
                        500,
                        dropship_core::ErrorCode::InternalError,
                        format!(
                            "correction {} supersedes {supersedes}, whose figures are not stored",
                            d.number
                        ),
                    )
                })?;
                correction_posting(d, superseded)
            }
            _ => document_posting(d)?,
        });
    }
    out.extend(ledger_postings(order, time_zone));
    Ok(out)
}

/// The file's name as the download offers it.
pub fn file_name(r: &ExportRequest) -> String {
    match r.format {
        ExportFormat::Journal => format!("journal_{}_{}.csv", r.from, r.to),
        ExportFormat::Datev => format!("EXTF_Buchungsstapel_{}_{}.csv", r.from, r.to),
    }
}

fn content_type(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Journal => "text/csv; charset=utf-8",
        ExportFormat::Datev => "text/csv; charset=windows-1252",
    }
}

/// An export id is the folder name this function made: 32 lowercase hex digits.
fn is_export_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Reports {
    /// `GET /admin/finance/export`
    pub(crate) async fn finance_export(&self, req: &Request, admin: &str) -> HandlerResult {
        let request = ExportRequest::parse(|n| query_param(req, n))?;
        let catalogue = Catalogue::new(self.dynamodb.clone(), self.catalogue_table.clone());
        let accounts = catalogue.get_finance_accounts().await?;
        let tz = self.time_zone().await?;
        let (lo, hi) =
            dropship_core::catalogue::day_bounds(Some(request.from), Some(request.to), tz.name());
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Err(ApiError::invalid("from", "the period is out of range").into());
        };
        let orders = self
            .orders_between(lo - Duration::days(LOOKBACK_DAYS), hi)
            .await?;
        let mut postings = Vec::new();
        for order in &orders {
            let documents = self.invoice_documents(order).await?;
            postings.extend(order_postings(order, &documents, tz.name())?);
        }
        let postings = request.pick(postings);
        let now = Utc::now();
        let bytes = match request.format {
            ExportFormat::Journal => journal(&postings, &accounts)?,
            ExportFormat::Datev => Buchungsstapel {
                from: request.from,
                to: request.to,
                created_at: now,
                accounts: &accounts,
                postings: &postings,
            }
            .write()?,
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = file_name(&request);
        let key = format!("{PREFIX}/{id}/{name}");
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type(request.format))
            .content_disposition(format!("attachment; filename=\"{name}\""))
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(bytes.into())
            .send()
            .await
            .with_context(|| format!("storing the export s3://{}/{key}", self.bucket))?;
        tracing::info!(format = request.format.as_str(), from = %request.from, to = %request.to,
            postings = postings.len(), orders = orders.len(), export = %id, by = %admin, "finance export");
        self.ready(&id, &key, now).await
    }

    /// `GET /admin/finance/exports/{id}`: an export made before, with a fresh link.
    pub(crate) async fn finance_export_status(&self, req: &Request) -> HandlerResult {
        let id = path_param(req, "id")?;
        if !is_export_id(&id) {
            return Err(ApiError::not_found("export").into());
        }
        let keys = self.store.list(&format!("{PREFIX}/{id}/")).await?;
        let Some(key) = keys.first() else {
            return Err(ApiError::not_found("export").into());
        };
        self.ready(&id, key, Utc::now()).await
    }

    async fn ready(&self, id: &str, key: &str, now: DateTime<Utc>) -> HandlerResult {
        let url = self.store.presign_get(key).await?;
        let expires_at =
            now + Duration::from_std(PRESIGNED_TTL).unwrap_or_else(|_| Duration::minutes(15));
        json(
            200,
            &json!({
                "id": id,
                "status": "ready",
                "url": url,
                "expiresAt": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }),
        )
    }

    /// The figures of every invoice-like document of the order (invoices, corrections, credit
    /// documents), in key order.
    async fn invoice_documents(&self, order: &Order) -> anyhow::Result<Vec<InvoiceDocument>> {
        // `dropship_app::invoicing::figures_key`: `documents/{orderId}/figures-{number}.json`.
        let prefix = format!("documents/{}/figures-", order.id);
        let mut out = Vec::new();
        for key in self.store.list(&prefix).await? {
            if !key.ends_with(".json") {
                continue;
            }
            let bytes = self.store.get(&key).await?;
            out.push(
                serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading the figures {key}"))?,
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn address() -> serde_json::Value {
        json!({"name": "Jörg Weiß", "street": "Königsallee 5", "postalCode": "40212",
            "city": "Düsseldorf", "country": "DE"})
    }

    fn order() -> Order {
        serde_json::from_value(json!({
            "id": "o1", "channelId": "web", "externalId": "WEB-1", "status": "routed", "currency": "EUR",
            "customer": {"email": "c@example.com", "name": "J"}, "shippingAddress": address(),
            "orderedAt": "2026-11-26T10:00:00Z", "createdAt": "2026-11-26T10:00:00Z", "lines": [],
            "discounts": [], "shippingCost": "0.00", "payments": [], "history": [],
            "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00",
                "total": "0.00", "tax": [], "refunded": "0.00", "due": "0.00"}}))
        .unwrap()
    }

    /// A one-line invoice-like document of 11.90 at `rate` (tax `tax`).
    fn document(
        kind: serde_json::Value,
        number: &str,
        rate: &str,
        net: &str,
        tax: &str,
    ) -> InvoiceDocument {
        let line = json!({"sku": "LAMP", "name": "Lampe", "quantity": 1, "unitPrice": "11.90",
            "discount": "0.00", "rate": rate, "net": net, "tax": tax, "gross": "11.90"});
        let mut doc = json!({
            "number": number, "issuedOn": "2026-11-27", "supplyDate": "2026-11-26", "locale": "de",
            "currency": "EUR", "orderExternalId": "WEB-1", "orderId": "o1", "deliveryOrderId": "DO-1",
            "billTo": address(), "shipTo": address(), "lines": [line], "shipping": null,
            "taxTotals": [{"rate": rate, "net": net, "tax": tax}], "totalNet": net, "totalTax": tax,
            "totalGross": "11.90", "payments": [{"method": "card", "amount": "11.90"}], "due": "0.00"});
        for (k, v) in kind.as_object().unwrap() {
            doc[k] = v.clone();
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn a_correction_takes_back_the_figures_of_the_invoice_it_supersedes() {
        let invoice = document(
            json!({"kind": "invoice"}),
            "2026-000001",
            "0.07",
            "11.12",
            "0.78",
        );
        let correction = document(
            json!({"kind": "correction", "supersedes": "2026-000001"}),
            "2026-000002",
            "0.19",
            "10.00",
            "1.90",
        );
        let postings =
            order_postings(&order(), &[invoice, correction.clone()], "Europe/Berlin").unwrap();
        assert_eq!(postings.len(), 2);
        let lines: Vec<(String, String, Option<String>)> = postings[1]
            .lines
            .iter()
            .map(|l| {
                (
                    l.gross.to_string(),
                    l.tax.to_string(),
                    l.tax_rate.map(|r| r.to_string()),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("-11.90".into(), "-0.78".into(), Some("0.07".into())),
                ("11.90".into(), "1.90".into(), Some("0.19".into())),
            ]
        );
        // Without the superseded invoice's figures nothing is booked.
        let e = order_postings(&order(), &[correction], "Europe/Berlin").unwrap_err();
        assert_eq!(e.status, 500);
    }

    #[test]
    fn file_names_say_the_format_and_period() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let r = |format| ExportRequest {
            from: day(1),
            to: day(31),
            format,
        };
        assert_eq!(
            file_name(&r(ExportFormat::Datev)),
            "EXTF_Buchungsstapel_2026-03-01_2026-03-31.csv"
        );
        assert_eq!(
            file_name(&r(ExportFormat::Journal)),
            "journal_2026-03-01_2026-03-31.csv"
        );
    }

    #[test]
    fn export_ids_are_only_what_this_function_makes() {
        let made = uuid::Uuid::new_v4().simple().to_string();
        assert!(is_export_id(&made));
        for bad in ["", "../reports", &made.to_uppercase(), &made[1..]] {
            assert!(!is_export_id(bad), "{bad}");
        }
    }
}
