//! The mails to fulfillers: a new delivery order's documents, a cancellation of its units and
//! the report on a stock feed. Separate from the customers' mails, which must never name a
//! fulfiller.

use super::brand::branded;
use super::{locale_for, LINK_TTL_DAYS};
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::{Branding, Fulfiller};
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus, DocumentKind};
use serde::Serialize;

#[derive(Serialize)]
struct DocumentsReady<'a> {
    fulfiller_name: &'a str,
    delivery_order_id: &'a str,
    documents: Vec<DocumentLinkView<'a>>,
    link_days: i64,
}

#[derive(Serialize)]
struct DocumentLinkView<'a> {
    kind: &'static str,
    url: &'a str,
}

/// The fulfiller's mail for a new delivery order with its document links.
pub fn documents_ready_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    delivery_order_id: &str,
    links: &[(DocumentKind, String)],
) -> anyhow::Result<Mail> {
    let data = DocumentsReady {
        fulfiller_name: &fulfiller.name,
        delivery_order_id,
        documents: links
            .iter()
            .map(|(kind, url)| DocumentLinkView {
                kind: kind.as_str(),
                url,
            })
            .collect(),
        link_days: LINK_TTL_DAYS,
    };
    let locale = locale_for(fulfiller.locale, branding);
    branded(
        branding,
        locale,
        "documents_ready",
        &fulfiller.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct DeliveryOrderChanged<'a> {
    fulfiller_name: &'a str,
    delivery_order_id: &'a str,
    cancelled: bool,
    lines: Vec<ChangedLine<'a>>,
}

#[derive(Serialize)]
struct ChangedLine<'a> {
    sku: &'a str,
    name: &'a str,
    open: u32,
    cancelled: u32,
}

/// The fulfiller's notice that units of a delivery order (or all of it) were cancelled.
pub fn delivery_order_changed_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    d: &DeliveryOrder,
) -> anyhow::Result<Mail> {
    let data = DeliveryOrderChanged {
        fulfiller_name: &fulfiller.name,
        delivery_order_id: &d.id,
        cancelled: d.status == DeliveryStatus::Cancelled,
        lines: d
            .lines
            .iter()
            .map(|l| ChangedLine {
                sku: l.sku.as_str(),
                name: &l.name,
                open: l.open(),
                cancelled: l.cancelled,
            })
            .collect(),
    };
    let locale = locale_for(fulfiller.locale, branding);
    branded(
        branding,
        locale,
        "delivery_order_changed",
        &fulfiller.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct StockFeed<'a> {
    fulfiller_name: &'a str,
    feed: &'a str,
    applied: usize,
    refused: Option<&'a str>,
    bad_rows: Vec<BadRow<'a>>,
}

#[derive(Serialize)]
struct BadRow<'a> {
    line: usize,
    why: &'a str,
}

/// The fulfiller's report on a stock feed: which lines were refused and why (or the whole file).
pub fn stock_feed_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    feed: &str,
    applied: usize,
    bad_rows: &[(usize, String)],
    refused: Option<&str>,
) -> anyhow::Result<Mail> {
    let data = StockFeed {
        fulfiller_name: &fulfiller.name,
        feed,
        applied,
        refused,
        bad_rows: bad_rows
            .iter()
            .map(|(line, why)| BadRow { line: *line, why })
            .collect(),
    };
    let locale = locale_for(fulfiller.locale, branding);
    branded(
        branding,
        locale,
        "stock_feed",
        &fulfiller.email,
        &data,
        Vec::new(),
    )
}
