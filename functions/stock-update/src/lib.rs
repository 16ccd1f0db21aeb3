//! Applies a fulfiller's uploaded stock feed (CSV in S3, announced by an S3 notification on the
//! stock-feed queue; read by `dropship_core::stock::parse_feed`, which takes Excel's exports) to
//! that fulfiller's stock, row by row, exactly as `PUT /fulfiller/stock` does (shared
//! `StockCounts`); refused rows go back to the fulfiller by mail with their line numbers
//! (through the notifier), good rows are applied.
//!
//! The fulfiller is the one named in the object key (`stock-feeds/<fulfillerId>/<feedId>.csv`),
//! which only `POST /fulfiller/stock-feed` hands out, bound to the caller. Applying a count is
//! idempotent (absolute counts, ignored when older), so a redelivered notification is harmless.

mod config;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
pub use config::Config;
use dropship_app::stock_counts::StockCounts;
use dropship_aws::documents::DocumentStore;
use dropship_aws::queue::Queue;
use dropship_aws::sqs_batch;
use dropship_core::ids::FulfillerId;
use dropship_core::messages::BusinessEvent;
use dropship_core::stock::{parse_feed, BadRow};

/// How much of the stock-feed report's event may be refused rows. The event travels through
/// SQS (at most 256 KB a message); a refused row takes about 100 bytes, so some 2000 rows are
/// listed one by one, which is every row of any feed a person can still read in a mail.
const REPORT_BUDGET_BYTES: usize = 200_000;

/// The refused rows as the fulfiller's report lists them: every one, in file order, as long as
/// the report fits in one queue message; past that, one last entry says how many more there
/// are and from which line to which (rather than losing the whole report to a refused send).
pub fn report_rows(refused: Vec<BadRow>) -> Vec<(usize, String)> {
    let mut rows = Vec::with_capacity(refused.len());
    let mut size = 0;
    let total = refused.len();
    let last_line = refused.last().map_or(0, |b| b.line);
    for (i, bad) in refused.into_iter().enumerate() {
        // The row's JSON: `[line,"reason"],` with room for escapes.
        size += bad.reason.len() + 32;
        if size > REPORT_BUDGET_BYTES {
            rows.push((
                bad.line,
                format!(
                    "and {} more refused rows up to line {last_line}, too many to list in one mail",
                    total - i
                ),
            ));
            break;
        }
        rows.push((bad.line, bad.reason));
    }
    rows
}

pub struct StockUpdate {
    pub store: DocumentStore,
    pub counts: StockCounts,
    pub events_queue: Queue,
}

/// S3 event keys are URL-encoded (`+` for space, `%XX` for the rest).
pub fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fulfiller a feed key belongs to.
pub fn fulfiller_of(key: &str) -> Option<FulfillerId> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("stock-feeds"), Some(f), Some(_), None) => FulfillerId::try_from(f).ok(),
        _ => None,
    }
}

impl dropship_aws::config::FromConfig for StockUpdate {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        let sqs = aws_sdk_sqs::Client::new(cfg);
        Ok(Self {
            store: DocumentStore::new(aws_sdk_s3::Client::new(cfg), config.document_bucket.clone()),
            counts: StockCounts::from_config(&config.stock_counts, &ddb, &sqs),
            events_queue: Queue::new(sqs, config.events_queue_url.clone()),
        })
    }
}

impl StockUpdate {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.apply_feed(m)).await
    }

    async fn apply_feed(&self, m: SqsMessage) -> anyhow::Result<()> {
        let body: serde_json::Value = sqs_batch::body(&m)?;
        // S3 sends one test event when notifications are configured: nothing to do.
        if body.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
            return Ok(());
        }
        // Read only the fields we need: S3 (and the emulator) vary in the rest of the record.
        let records = body
            .get("Records")
            .and_then(|r| r.as_array())
            .ok_or_else(|| anyhow::anyhow!("not an S3 event notification: {body}"))?;
        for record in records {
            let raw_key = record
                .pointer("/s3/object/key")
                .and_then(|k| k.as_str())
                .ok_or_else(|| anyhow::anyhow!("an S3 record without an object key"))?;
            let key = decode_key(raw_key);
            let Some(fulfiller) = fulfiller_of(&key) else {
                tracing::warn!(key, "object outside stock-feeds/<fulfiller>/: ignored");
                continue;
            };
            let bytes = self.store.get(&key).await?;
            let now = Utc::now();
            // The count is as of the upload; a feed older than a later count is ignored per sku.
            let as_of = record
                .get("eventTime")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<chrono::DateTime<Utc>>().ok())
                .unwrap_or(now);
            let feed = key.rsplit('/').next().unwrap_or(&key).to_string();
            let report = match parse_feed(&bytes) {
                Err(reason) => {
                    tracing::warn!(
                        key,
                        fulfiller = fulfiller.as_str(),
                        reason,
                        "stock feed refused as a whole"
                    );
                    BusinessEvent::StockFeedProcessed {
                        fulfiller_id: fulfiller.clone(),
                        feed,
                        applied: 0,
                        bad_rows: Vec::new(),
                        refused: Some(reason),
                    }
                }
                Ok(parsed) => {
                    let applied = self
                        .counts
                        .apply(&fulfiller, &parsed.counts, as_of, now)
                        .await?;
                    tracing::info!(key, fulfiller = fulfiller.as_str(), applied = applied.applied, bad = parsed.refused.len(), shortfalls = ?applied.shortfalls, "stock feed applied");
                    BusinessEvent::StockFeedProcessed {
                        fulfiller_id: fulfiller.clone(),
                        feed,
                        applied: applied.applied,
                        bad_rows: report_rows(parsed.refused),
                        refused: None,
                    }
                }
            };
            // The fulfiller hears about what was refused (the notifier sends the mail).
            if let BusinessEvent::StockFeedProcessed {
                bad_rows, refused, ..
            } = &report
            {
                if !bad_rows.is_empty() || refused.is_some() {
                    self.events_queue.send(&report).await?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_and_name_their_fulfiller() {
        assert_eq!(
            decode_key("stock-feeds%2Facme%2Ff1.csv"),
            "stock-feeds/acme/f1.csv"
        );
        assert_eq!(decode_key("a+b%zz"), "a b%zz");
        assert_eq!(
            fulfiller_of("stock-feeds/acme/f1.csv")
                .as_ref()
                .map(FulfillerId::as_str),
            Some("acme")
        );
        assert_eq!(fulfiller_of("stock-feeds/acme/x/f1.csv"), None);
        assert_eq!(fulfiller_of("documents/acme/f1.csv"), None);
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn every_refused_row_is_listed_until_the_report_would_not_fit_in_a_queue_message() {
        let bad = |n: usize| -> Vec<BadRow> {
            (2..n + 2)
                .map(|line| BadRow {
                    line,
                    reason: format!(
                        "available \"{line}.000\" must be a whole number without separators"
                    ),
                })
                .collect()
        };
        let few = report_rows(bad(500));
        assert_eq!(few.len(), 500);
        assert_eq!(few[499].0, 501);
        let many = report_rows(bad(50_000));
        let event = BusinessEvent::StockFeedProcessed {
            fulfiller_id: "acme".try_into().unwrap(),
            feed: "f.csv".into(),
            applied: 0,
            bad_rows: many.clone(),
            refused: None,
        };
        let size = serde_json::to_string(&event).unwrap().len();
        assert!(size < 256 * 1024, "{size} bytes");
        let (line, last) = many.last().unwrap();
        assert!(many.len() > 2000, "{}", many.len());
        assert_eq!(*line, many.len() + 1);
        assert!(
            last.contains(&format!(
                "{} more refused rows up to line 50001",
                50_000 - many.len() + 1
            )),
            "{last}"
        );
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let handler = StockUpdate::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut event =
            dropship_aws::sqs_batch::with_poison(include_str!("../../../events/stock-update.json"));
        // S3's test event needs no AWS call: it succeeds while the poison fails.
        event.records[0].body =
            Some(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#.into());
        let resp = handler.handle(event).await;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["poison-1"]);
    }
}
