//! Reports: every kind with its filters, a chart where a picture says more than the table
//! (`charts`), CSV and XLSX downloads, the finance export, and the progress of a report job
//! (a file over a long period is made in the background by the API).

use crate::api::{enc, query};
use crate::render::{see_other, Fail, Page};
use crate::session::Frame;
use crate::Console;
use lambda_http::Request;
use serde_json::json;

/// The API's report kinds, in the order the page offers them.
const KINDS: &[&str] = &[
    "sales",
    "orders",
    "customers",
    "returns",
    "stock",
    "finance",
    "settlement",
    "promotions",
];
/// The filters a report may take (the API ignores those that do not apply to a kind).
const FILTERS: &[&str] = &["from", "to", "channel", "fulfiller", "country", "group"];
/// Report columns that hold an amount of the row's currency.
const MONEY_COLUMNS: &[&str] = &[
    "total",
    "revenue",
    "amount",
    "net",
    "tax",
    "gross",
    "refunds",
    "purchasePrice",
];
/// Report columns that hold a count.
const NUMBER_COLUMNS: &[&str] = &[
    "rank",
    "orders",
    "units",
    "unitsOrdered",
    "unitsCancelled",
    "unitsReturned",
    "unitsSold",
    "returns",
    "available",
    "reserved",
    "free",
    "ageHours",
    "unitsShipped",
    "unitsReturnedResellable",
];

impl Console {
    /// The filters of the page's URL, as query pairs.
    fn filters(req: &Request) -> Vec<(&'static str, String)> {
        FILTERS
            .iter()
            .map(|f| (*f, crate::query(req, f).trim().to_string()))
            .collect()
    }

    /// `GET /console/reports?kind=&from=&to=&channel=&fulfiller=&country=&group=`
    pub(crate) async fn reports(&self, req: &Request, frame: &Frame) -> Page {
        let token = frame.token()?;
        let kind = crate::query(req, "kind");
        let kind = KINDS
            .iter()
            .find(|k| **k == kind)
            .copied()
            .unwrap_or("sales");
        let filters = Self::filters(req);
        let pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let path = format!("/admin/reports/{kind}{}", query(&pairs));
        let (answer, channels, fulfillers) = tokio::join!(
            self.api.get(token, &path),
            self.ids(token, "/admin/channels?limit=200"),
            self.ids(token, "/admin/fulfillers?limit=200"),
        );
        let answer = answer?;
        let (rows, problem) = if answer.ok() {
            (
                answer.body["items"].as_array().cloned().unwrap_or_default(),
                None,
            )
        } else {
            (Vec::new(), Some(self.problem(frame, &answer)))
        };
        let columns: Vec<String> = answer.body["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        let charts = crate::charts::charts_for_report(
            kind,
            &rows,
            frame.lang.code(),
            dropship_web::brand::brand(frame.branding.as_ref())["color"]
                .as_str()
                .unwrap_or("#2E5E4E"),
        );
        let mut with_kind = pairs.clone();
        with_kind.insert(0, ("kind", kind));
        // A download starts work (a file, a job, an export): its link carries the CSRF token,
        // so no other site can start it with the person's cookie.
        let csrf = frame.csrf();
        let download = |format: &str| {
            let mut p = with_kind.clone();
            p.push(("format", format));
            p.push(("csrf", &csrf));
            format!("/console/reports/download{}", query(&p))
        };
        // Drill-down: a group's row leads to the same report of that group's articles.
        let drill: Vec<(&str, &str)> = with_kind
            .iter()
            .filter(|(k, _)| *k != "group")
            .copied()
            .collect();
        let status = if problem.is_some() { 422 } else { 200 };
        self.render(
            frame,
            status,
            "reports.html",
            "reports",
            json!({
                "kinds": KINDS, "kind": kind, "money_columns": MONEY_COLUMNS, "number_columns": NUMBER_COLUMNS, "rows": rows, "columns": columns, "charts": charts,
                "filter": filters.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "channels": channels?, "fulfillers": fulfillers?, "problem": problem,
                "csv": download("csv"), "xlsx": download("xlsx"),
                "drill": format!("/console/reports{}", query(&drill)),
                "journal": format!("/console/reports/download{}", query(&[("kind", "finance-export"), ("format", "journal"), ("from", &filters[0].1), ("to", &filters[1].1), ("csrf", &csrf)])),
                "datev": format!("/console/reports/download{}", query(&[("kind", "finance-export"), ("format", "datev"), ("from", &filters[0].1), ("to", &filters[1].1), ("csrf", &csrf)])),
            }),
        )
    }

    /// `GET /console/reports/download?kind=&format=csv|xlsx&...` (or `kind=finance-export`,
    /// `format=journal|datev`): to the file's download link, or to the job making it.
    pub(crate) async fn download(&self, req: &Request, frame: &Frame) -> Page {
        let token = frame.token()?;
        let csrf = crate::query(req, "csrf");
        if !crate::security::SITE.csrf_ok(token, Some(&csrf)) {
            return Err(Fail::Csrf);
        }
        let kind = crate::query(req, "kind");
        let format = crate::query(req, "format");
        let filters = Self::filters(req);
        let mut pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let path = if kind == "finance-export" && matches!(format.as_str(), "journal" | "datev") {
            let (today, month_start) = self.this_month(frame);
            let from = if filters[0].1.is_empty() {
                month_start
            } else {
                filters[0].1.clone()
            };
            let to = if filters[1].1.is_empty() {
                today
            } else {
                filters[1].1.clone()
            };
            format!(
                "/admin/finance/export{}",
                query(&[("from", &from), ("to", &to), ("format", &format)])
            )
        } else if KINDS.contains(&kind.as_str()) && matches!(format.as_str(), "csv" | "xlsx") {
            pairs.push(("format", &format));
            format!("/admin/reports/{kind}{}", query(&pairs))
        } else {
            return Err(Fail::NotFound);
        };
        let answer = self.api.get(token, &path).await?;
        match (
            answer.status,
            answer.body["url"].as_str(),
            answer.body["id"].as_str(),
        ) {
            // Only a web address: the API's download link (a presigned S3 URL).
            (200, Some(url), _) if url.starts_with("https://") || url.starts_with("http://") => {
                see_other(url, vec![])
            }
            (202, _, Some(job)) => see_other(&format!("/console/report-jobs/{}", enc(job)), vec![]),
            (403, _, _) => Err(Fail::Forbidden),
            (200..=299, _, _) => Err(Fail::Internal(anyhow::anyhow!(
                "the download answered {} without a link",
                answer.status
            ))),
            _ => {
                let problem = self.problem(frame, &answer);
                self.render(frame, answer.status, "message.html", "reports",
                    json!({"heading": problem["title"], "text": problem["message"], "back": "/console/reports"}))
            }
        }
    }

    /// `GET /console/report-jobs/{id}`: a job's progress (the page reloads itself every two
    /// seconds until the file is ready or the job failed), then its download.
    pub(crate) async fn report_job(&self, frame: &Frame, job: &str) -> Page {
        let token = frame.token()?;
        let answer = self
            .api
            .get(token, &format!("/admin/report-jobs/{}", enc(job)))
            .await?;
        match answer.status {
            200 => {
                let done = answer.body["progress"]["done"].as_i64().unwrap_or(0);
                let total = answer.body["progress"]["total"]
                    .as_i64()
                    .unwrap_or(0)
                    .max(1);
                self.render(
                    frame,
                    200,
                    "report_job.html",
                    "reports",
                    json!({"job": answer.body, "percent": done * 100 / total,
                        "running": matches!(answer.body["status"].as_str(), Some("queued" | "running"))}),
                )
            }
            404 | 422 => Err(Fail::NotFound),
            s => Err(Fail::Internal(anyhow::anyhow!(
                "the report job answered {s}"
            ))),
        }
    }

    /// Today and the first of this month in the retailer's time zone (the finance export's
    /// default period).
    fn this_month(&self, frame: &Frame) -> (String, String) {
        let today = frame.now.with_timezone(&frame.tz).date_naive();
        let start = today.format("%Y-%m-01").to_string();
        (today.to_string(), start)
    }
}
