//! `GET /admin/finance/export?from=&to=&format=journal|datev`: the query checked before anything
//! is read (422 naming the field), and the period's postings picked and ordered.

use super::Posting;
use crate::ApiError;
use chrono::NaiveDate;

/// At most a year of postings per file (as the reports: 366 days).
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Journal,
    Datev,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Journal => "journal",
            ExportFormat::Datev => "datev",
        }
    }
}

/// A checked export request: both ends of the period included, dates in the retailer's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub format: ExportFormat,
}

impl ExportRequest {
    /// `from` and `to` are required (a bookkeeping period is always named), `format` is
    /// `journal` when left out.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let format = match get("format").as_deref() {
            None | Some("journal") => ExportFormat::Journal,
            Some("datev") => ExportFormat::Datev,
            Some(_) => {
                return Err(ApiError::invalid(
                    "format",
                    "format must be journal or datev",
                ))
            }
        };
        let date = |name: &str| -> Result<NaiveDate, ApiError> {
            let given = get(name).ok_or_else(|| crate::input::required(name))?;
            NaiveDate::parse_from_str(&given, "%Y-%m-%d")
                .ok()
                .filter(|_| given.len() == 10)
                .ok_or_else(|| ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD")))
        };
        let (from, to) = (date("from")?, date("to")?);
        if to < from {
            return Err(ApiError::invalid("to", "to is before from"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("an export spans at most {MAX_DAYS} days"),
            ));
        }
        Ok(ExportRequest { from, to, format })
    }

    /// The postings dated in the period, by date (then as given: each order's in ledger
    /// order), each once as given.
    pub fn pick(&self, postings: Vec<Posting>) -> Vec<Posting> {
        let mut out: Vec<Posting> = postings
            .into_iter()
            .filter(|p| (self.from..=self.to).contains(&p.date))
            .collect();
        out.sort_by_key(|p| p.date);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{day, posting};
    use super::super::PostingKind;
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<ExportRequest, ApiError> {
        ExportRequest::parse(|k| q.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn the_query_is_checked_naming_the_field() {
        let r = parse(&[("from", "2026-03-01"), ("to", "2026-03-31")]).unwrap();
        assert_eq!(
            (r.from, r.to, r.format),
            (day(2026, 3, 1), day(2026, 3, 31), ExportFormat::Journal)
        );
        let r = parse(&[
            ("from", "2026-03-01"),
            ("to", "2026-03-01"),
            ("format", "datev"),
        ]);
        assert_eq!(r.unwrap().format, ExportFormat::Datev);
        for (q, field) in [
            (vec![("to", "2026-03-31")], "from"),
            (vec![("from", "2026-03-01")], "to"),
            (vec![("from", "2026-3-1"), ("to", "2026-03-31")], "from"),
            (vec![("from", "2026-03-01"), ("to", "31.03.2026")], "to"),
            (vec![("from", "2026-03-02"), ("to", "2026-03-01")], "to"),
            (vec![("from", "2025-01-01"), ("to", "2026-03-01")], "to"),
            (
                vec![
                    ("from", "2026-03-01"),
                    ("to", "2026-03-31"),
                    ("format", "csv"),
                ],
                "format",
            ),
        ] {
            let e = parse(&q).unwrap_err();
            assert_eq!((e.status, e.field.as_deref()), (422, Some(field)), "{q:?}");
        }
    }

    #[test]
    fn the_period_keeps_its_postings_by_date() {
        let at = |number: &str, d: NaiveDate| {
            let mut p = posting(PostingKind::Invoice, number, vec![]);
            p.date = d;
            p
        };
        let r = parse(&[("from", "2026-03-01"), ("to", "2026-03-31")]).unwrap();
        let picked = r.pick(vec![
            at("a", day(2026, 3, 31)),
            at("b", day(2026, 2, 28)),
            at("c", day(2026, 3, 1)),
            at("d", day(2026, 4, 1)),
            at("e", day(2026, 3, 1)),
        ]);
        let numbers: Vec<&str> = picked.iter().map(|p| p.document_number.as_str()).collect();
        assert_eq!(numbers, ["c", "e", "a"]);
    }
}
