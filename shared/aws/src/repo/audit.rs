//! Audit table: every change by the retailer's side and every refusal of a staff token
//! (docs/api.md "Audit"). Keys: pk = `DAY#<yyyy-mm-dd>` (UTC), sk = `<at, microseconds>#<requestId>`,
//! so a day reads newest first by one Query; the log is written by a handful of people, so a
//! day's partition stays far below DynamoDB's limits.
//! Access: put one entry; list a period newest first, optionally of one principal.

use super::{from_item, s, to_item};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// One line of the audit log as `GET /admin/audit` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The principal's notation: `admin` or `staff:<id>`.
    pub principal: String,
    /// Who it was, as histories name them (the token's or staff member's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Method and route template: `POST /admin/orders/{orderId}/goodwill`.
    pub action: String,
    /// The id(s) in the route, `/`-joined when it has more than one; none for a route without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The HTTP status answered.
    pub outcome: u16,
    pub request_id: String,
}

/// Where the next page of a listing starts: a day, and within it after this sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    day: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

impl Cursor {
    /// Whether the cursor starts inside this listing: a day of the period and, within it, a
    /// sort key between the bounds (any other start key is DynamoDB's ValidationException).
    fn is_within(&self, first_day: NaiveDate, last_day: NaiveDate, low: &str, high: &str) -> bool {
        (first_day..=last_day).contains(&self.day)
            && self
                .after
                .as_deref()
                .is_none_or(|a| a.starts_with(&self.day.to_string()) && low < a && a <= high)
    }
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn sort_key(at: DateTime<Utc>, request_id: &str) -> String {
    format!(
        "{}#{request_id}",
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

fn encode(cursor: &Cursor) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(cursor).unwrap_or_default())
}

fn decode(token: &str) -> Option<Cursor> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl AuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn record(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        let day = format!("DAY#{}", entry.at.date_naive());
        let sk = sort_key(entry.at, &entry.request_id);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(entry, &[("pk", &day), ("sk", &sk)])?))
            .send()
            .await
            .context("writing the audit log")?;
        Ok(())
    }

    /// Entries at `from` or later and before `until`, newest first, at most `limit`; the
    /// token of the next page while more may follow. `None` for a token that is not ours.
    pub async fn list(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        principal: Option<&str>,
        limit: usize,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<super::Page<AuditEntry>>> {
        let last_day = (until - chrono::Duration::microseconds(1)).date_naive();
        let low = sort_key(from, "");
        let high = sort_key(until, "");
        // A cursor of this period only: a start key outside the query's bounds is DynamoDB's
        // ValidationException (a 500), not the caller's 422.
        let mut cursor = match next_token {
            Some(t) => match decode(t) {
                Some(c) if c.is_within(from.date_naive(), last_day, &low, &high) => c,
                _ => return Ok(None),
            },
            None => Cursor {
                day: last_day,
                after: None,
            },
        };
        let mut items = Vec::new();
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(format!("DAY#{}", cursor.day)))
                .expression_attribute_values(":low", s(&low))
                .expression_attribute_values(":high", s(&high))
                .scan_index_forward(false)
                .limit((limit - items.len()) as i32);
            if let Some(p) = principal {
                q = q
                    .filter_expression("principal = :p")
                    .expression_attribute_values(":p", s(p));
            }
            if let Some(after) = &cursor.after {
                q = q.exclusive_start_key("pk", s(format!("DAY#{}", cursor.day)));
                q = q.exclusive_start_key("sk", s(after));
            }
            let page = q.send().await.context("reading the audit log")?;
            for item in page.items.unwrap_or_default() {
                // The upper bound is exclusive: an entry at exactly `until` belongs to the next period.
                let entry: AuditEntry = from_item(item)?;
                if entry.at < until {
                    items.push(entry);
                }
            }
            let resume = page
                .last_evaluated_key
                .and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned());
            cursor = match resume {
                Some(after) => Cursor {
                    day: cursor.day,
                    after: Some(after),
                },
                None => match cursor.day.pred_opt() {
                    Some(day) if day >= from.date_naive() => Cursor { day, after: None },
                    _ => {
                        return Ok(Some(super::Page {
                            items,
                            next_token: None,
                        }))
                    }
                },
            };
            if items.len() >= limit {
                return Ok(Some(super::Page {
                    items,
                    next_token: Some(encode(&cursor)),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_sort_as_time() {
        let a = "2026-12-03T09:59:59.999999Z".parse().unwrap();
        let b = "2026-12-03T10:00:00Z".parse().unwrap();
        assert!(sort_key(a, "zzz") < sort_key(b, ""));
        assert!(sort_key(b, "") < sort_key(b, "req-1"));
    }

    #[test]
    fn a_cursor_starts_only_inside_its_listing() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (first, last) = (d("2026-12-01"), d("2026-12-03"));
        let low = sort_key("2026-11-30T23:00:00Z".parse().unwrap(), "");
        let high = sort_key("2026-12-03T23:00:00Z".parse().unwrap(), "");
        let at = |day: &str, after: Option<&str>| Cursor {
            day: d(day),
            after: after.map(String::from),
        };
        assert!(at("2026-12-02", None).is_within(first, last, &low, &high));
        assert!(at("2026-12-02", Some("2026-12-02T10:00:00.000000Z#r"))
            .is_within(first, last, &low, &high));
        for bad in [
            at("2026-12-04", None),
            at("2026-11-30", None),
            at("2026-12-02", Some("")),
            at("2026-12-02", Some("2026-12-01T10:00:00.000000Z#r")),
            at("2026-12-03", Some("2026-12-03T23:30:00.000000Z#r")),
        ] {
            assert!(!bad.is_within(first, last, &low, &high), "{bad:?}");
        }
    }

    #[test]
    fn a_cursor_survives_its_token_and_a_strange_token_is_refused() {
        let c = Cursor {
            day: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            after: Some("2026-12-03T10:00:00.000000Z#r".into()),
        };
        assert_eq!(decode(&encode(&c)), Some(c));
        assert_eq!(decode("not a token"), None);
    }
}
