//! Stock: the fulfiller's counts with product names, one count saved exactly as
//! `PUT /fulfiller/stock` takes it, and a whole stock list uploaded as a CSV file.

use crate::explain::Problem;
use crate::forms::{Form, Upload};
use crate::render::{see_other, Page};
use crate::session::Frame;
use crate::{query, view, Portal};
use chrono::Utc;
use dropship_core::ids::FulfillerId;
use dropship_core::stock::{parse_feed, StockUpdate, MAX_ITEMS};
use lambda_http::Request;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Refused rows of an uploaded stock list shown one by one; past them, one row counts the rest.
const MAX_REFUSED_ROWS_SHOWN: usize = 1000;

/// A refused stock change: why, the refused rows of a list, and the count typed into a row.
struct StockProblem {
    problem: Problem,
    rows: Vec<Value>,
    edited: Option<(String, String)>,
}

impl Portal {
    /// `GET /portal/stock`: the counts (filtered by `q`), with what was just done.
    pub(crate) async fn stock(
        &self,
        req: &Request,
        frame: &Frame,
        fulfiller: &FulfillerId,
    ) -> Page {
        let q = query(req, "q").unwrap_or_default();
        let done = match query(req, "done").as_deref() {
            Some("stock_saved") => Some(self.text(frame, "done.stock_saved")),
            Some("uploaded") => {
                let n = query(req, "n")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                Some(
                    self.text(frame, "done.uploaded")
                        .replace("{n}", &n.to_string()),
                )
            }
            _ => None,
        };
        self.stock_page(frame, fulfiller, &q, 200, done, None).await
    }

    async fn stock_page(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        q: &str,
        status: u16,
        done: Option<String>,
        problem: Option<StockProblem>,
    ) -> Page {
        let levels = self.repositories.stock.list(fulfiller).await?;
        let names: BTreeMap<String, String> = self
            .catalogue
            .get_products(levels.iter().map(|s| s.sku.to_string()))
            .await?
            .into_iter()
            .map(|(sku, p)| (sku.into_string(), p.name))
            .collect();
        let mut items = view::stock_rows(&levels, &names, q, &frame.clock());
        let mut error = Value::Null;
        if let Some(StockProblem {
            problem: p,
            rows,
            edited,
        }) = problem
        {
            // Show the value that was refused in its row, marked.
            if let Some((sku, value)) = edited {
                for item in items.iter_mut().filter(|i| i["sku"] == sku.as_str()) {
                    item["edit_value"] = json!(value);
                    item["invalid"] = json!(true);
                }
            }
            error = json!({"field": p.field, "message": p.message, "rows": rows});
        }
        self.render(
            frame,
            status,
            "stock.html",
            "stock",
            done,
            json!({"q": q, "items": items, "error": error}),
        )
    }

    /// `POST /portal/stock`: one count, exactly as `PUT /fulfiller/stock` takes it.
    pub(crate) async fn save_count(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        form: &Form,
    ) -> Page {
        let sku = form.get("sku").unwrap_or_default().trim();
        let raw = form.get("available").unwrap_or_default().trim();
        // A number stays a number; anything else goes as typed, for the domain to refuse.
        let available = raw
            .parse::<u64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(raw));
        let now = Utc::now();
        let update = match StockUpdate::parse(
            &json!({"items": [{"sku": sku, "available": available}]}),
            now,
        ) {
            Ok(u) => u,
            Err(e) => {
                let problem = Problem {
                    field: Some("available".into()),
                    message: if e.field.as_deref() == Some("items[0].available") {
                        self.text(frame, "errors.whole_number")
                    } else {
                        e.message
                    },
                };
                let edited = Some((sku.to_string(), raw.to_string()));
                return self
                    .stock_page(
                        frame,
                        fulfiller,
                        "",
                        422,
                        None,
                        Some(StockProblem {
                            problem,
                            rows: vec![],
                            edited,
                        }),
                    )
                    .await;
            }
        };
        let applied = self
            .counts
            .apply(fulfiller, &update.items, update.as_of, now)
            .await?;
        tracing::info!(fulfiller_id = %fulfiller, sku, applied = applied.applied, shortfalls = ?applied.shortfalls, "stock count saved in the portal");
        see_other("/portal/stock?done=stock_saved", vec![])
    }

    /// `POST /portal/stock/upload`: a stock list, read by the stock feed's own parser. Unlike
    /// the mailed feed, the person is looking at the page: a file with any bad row is refused
    /// whole (nothing applied) and the bad rows are listed by line number, to correct and
    /// upload again.
    pub(crate) async fn upload(
        &self,
        frame: &Frame,
        fulfiller: &FulfillerId,
        upload: Option<Upload>,
    ) -> Page {
        let refuse = |message: String, rows: Vec<Value>| {
            let problem = Problem {
                field: Some("feed".into()),
                message,
            };
            Some(StockProblem {
                problem,
                rows,
                edited: None,
            })
        };
        let Some(file) = upload.filter(|u| u.field == "feed" && !u.bytes.is_empty()) else {
            let p = refuse(self.text(frame, "errors.file_missing"), vec![]);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        };
        let feed = match parse_feed(&file.bytes) {
            Ok(parsed) => parsed,
            Err(reason) => {
                let p = refuse(
                    format!("{} {reason}", self.text(frame, "errors.file_refused")),
                    vec![],
                );
                return self.stock_page(frame, fulfiller, "", 422, None, p).await;
            }
        };
        let (good, bad) = (feed.counts, feed.refused);
        if !bad.is_empty() {
            // Every refused row in file order, up to a page a browser (and Lambda's 6 MB answer)
            // carries; a 1 MB file of nothing but bad rows ends in one row saying how many more.
            let mut rows: Vec<Value> = bad
                .iter()
                .take(MAX_REFUSED_ROWS_SHOWN)
                .map(|b| json!({"line": b.line, "reason": b.reason}))
                .collect();
            if let (Some(next), Some(last)) = (bad.get(MAX_REFUSED_ROWS_SHOWN), bad.last()) {
                let more = bad.len() - MAX_REFUSED_ROWS_SHOWN;
                let reason = self
                    .text(frame, "errors.more_rows")
                    .replace("{n}", &more.to_string())
                    .replace("{last}", &last.line.to_string());
                rows.push(json!({"line": next.line, "reason": reason}));
            }
            tracing::info!(fulfiller_id = %fulfiller, bad = bad.len(), good = good.len(), "portal stock list refused");
            let p = refuse(self.text(frame, "errors.bad_rows"), rows);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        }
        let problem = if good.is_empty() {
            Some("errors.no_rows")
        } else if good.len() > MAX_ITEMS {
            Some("errors.too_many_rows")
        } else {
            None
        };
        if let Some(key) = problem {
            let p = refuse(self.text(frame, key), vec![]);
            return self.stock_page(frame, fulfiller, "", 422, None, p).await;
        }
        let now = Utc::now();
        let applied = self.counts.apply(fulfiller, &good, now, now).await?;
        tracing::info!(fulfiller_id = %fulfiller, applied = applied.applied, shortfalls = ?applied.shortfalls, "portal stock list applied");
        see_other(
            &format!("/portal/stock?done=uploaded&n={}", applied.applied),
            vec![],
        )
    }
}
