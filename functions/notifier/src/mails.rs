//! Every mail the system sends, as a pure function from domain values to a [`Mail`]: the
//! templates' data is prepared here (money formatted, names looked up, nothing a recipient
//! must not see), the wording lives in `templates/`.
//!
//! Customer mails are given the order, refund and return values only, never a fulfiller: what a
//! template does not get, it cannot show.

use crate::render::{render, Rendered};
use base64::Engine;
use chrono::{DateTime, Utc};
use dropship_aws::mailer::{Attachment, InlineImage, Mail};
use dropship_core::catalogue::{Address, Branding, Fulfiller, Locale};
use dropship_core::delivery::{DeliveryOrder, DeliveryStatus, DocumentKind};
use dropship_core::fulfilment::Shipment;
use dropship_core::money::Money;
use dropship_core::order::{Order, PaymentMethod};
use dropship_core::refund::Refund;
use dropship_core::returns::ReturnPart;
use rust_decimal::Decimal;
use serde::Serialize;

/// How long a mailed document link works (docs/api.md: 7 days).
pub const LINK_TTL_DAYS: i64 = dropship_core::links::VALIDITY_DAYS;

/// The colour used when the branding's is not a `#RRGGBB` value (it goes into CSS).
const DEFAULT_COLOR: &str = "#333333";

/// The recipient's language: their own if they chose one, else the retailer's.
pub fn locale_for(own: Option<Locale>, branding: &Branding) -> Locale {
    own.unwrap_or(branding.locale)
}

/// What every template knows about the retailer (layout: header, colour, footer).
#[derive(Debug, Serialize)]
struct Brand<'a> {
    name: &'a str,
    color: &'a str,
    logo: bool,
    footer: &'a str,
    /// One line: street, postal code and city, country (the name is `name`).
    address: String,
    vat_id: &'a str,
}

fn address_lines(a: &Address) -> Vec<String> {
    vec![
        a.name.clone(),
        a.street.clone(),
        format!("{} {}", a.postal_code, a.city),
        a.country.clone(),
    ]
}

fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The retailer's logo as an inline image, when there is a valid PNG (a broken one is left
/// out rather than holding up the mail).
fn logo(branding: &Branding) -> Option<InlineImage> {
    let b64 = branding.logo_png_base64.as_deref()?;
    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
        Ok(bytes) if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => Some(InlineImage {
            content_id: "logo".into(),
            content_type: "image/png".into(),
            bytes,
        }),
        _ => {
            tracing::warn!("the branding's logo is not a base64 PNG; mails go without it");
            None
        }
    }
}

/// Renders `name` and wraps it as a mail from the retailer to `to`.
fn branded(
    branding: &Branding,
    locale: Locale,
    name: &str,
    to: &str,
    data: &impl Serialize,
    attachments: Vec<Attachment>,
) -> anyhow::Result<Mail> {
    let logo = logo(branding);
    let brand = Brand {
        name: &branding.company_name,
        color: if is_hex_color(&branding.primary_color) {
            &branding.primary_color
        } else {
            DEFAULT_COLOR
        },
        logo: logo.is_some(),
        footer: &branding.footer,
        address: format!(
            "{}, {} {}, {}",
            branding.address.street,
            branding.address.postal_code,
            branding.address.city,
            branding.address.country
        ),
        vat_id: &branding.vat_id,
    };
    let Rendered {
        subject,
        text,
        html,
    } = render(name, locale, &brand, data)?;
    Ok(Mail {
        from_name: branding.company_name.clone(),
        from_address: branding.email_from.clone(),
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments,
        inline_images: logo.into_iter().collect(),
    })
}

/// `19.99 EUR`: amounts keep their two decimals (Money's Display) and the order's currency.
fn money(amount: Money, currency: &str) -> String {
    format!("{amount} {currency}")
}

/// `19` for 0.19, `7` for 0.07, `5.5` for 0.055.
fn percent(rate: Decimal) -> String {
    (rate * Decimal::ONE_HUNDRED).normalize().to_string()
}

fn method_code(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Card => "card",
        PaymentMethod::Paypal => "paypal",
        PaymentMethod::Invoice => "invoice",
        PaymentMethod::GiftCard => "gift_card",
        PaymentMethod::BonusPoints => "bonus_points",
    }
}

/// A number of units of an article.
#[derive(Debug, Serialize)]
struct Units {
    quantity: u32,
    name: String,
}

/// An amount paid or refunded by one payment method (`method` is translated by the templates).
#[derive(Debug, Serialize)]
struct ByMethod {
    method: &'static str,
    amount: String,
}

#[derive(Debug, Serialize)]
struct RefundView {
    amount: String,
    reason: String,
    allocation: Vec<ByMethod>,
}

fn refund_view(refund: &Refund, currency: &str) -> RefundView {
    RefundView {
        amount: money(refund.amount, currency),
        reason: refund.reason.clone(),
        allocation: refund
            .allocation
            .iter()
            .map(|a| ByMethod {
                method: method_code(a.method),
                amount: money(a.amount, currency),
            })
            .collect(),
    }
}

fn line_name(order: &Order, line_id: &str) -> String {
    order
        .lines
        .iter()
        .find(|l| l.line_id == line_id)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| line_id.to_string())
}

// ---------------------------------------------------------------------------------------------
// To fulfillers

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
                sku: &l.sku,
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

/// An open alert as its mails show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotice {
    pub id: String,
    /// Machine kind, e.g. `delivery_order_late` (the templates name the known ones).
    pub kind: String,
    /// What it is about, e.g. a delivery order id or a fulfiller id.
    pub subject: String,
    pub details: String,
    pub since: DateTime<Utc>,
}

/// `since` in the retailer's time zone, written the way the locale writes dates.
fn local_time(at: DateTime<Utc>, branding: &Branding, locale: Locale) -> String {
    let tz: chrono_tz::Tz = branding
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Berlin);
    let local = at.with_timezone(&tz);
    match locale {
        Locale::De => local.format("%d.%m.%Y, %H:%M Uhr (%Z)").to_string(),
        Locale::En => local.format("%Y-%m-%d %H:%M (%Z)").to_string(),
    }
}

#[derive(Serialize)]
struct AlertView<'a> {
    recipient_name: &'a str,
    alert_id: &'a str,
    kind: &'a str,
    subject: &'a str,
    details: &'a str,
    since: String,
    fulfiller_id: Option<&'a str>,
    fulfiller_name: Option<&'a str>,
}

/// The fulfiller's reminder about an alert that concerns it, in the fulfiller's language.
pub fn alert_reminder_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    alert: &AlertNotice,
) -> anyhow::Result<Mail> {
    let locale = locale_for(fulfiller.locale, branding);
    let data = AlertView {
        recipient_name: &fulfiller.name,
        alert_id: &alert.id,
        kind: &alert.kind,
        subject: &alert.subject,
        details: &alert.details,
        since: local_time(alert.since, branding, locale),
        fulfiller_id: Some(&fulfiller.id),
        fulfiller_name: Some(&fulfiller.name),
    };
    branded(
        branding,
        locale,
        "alert_reminder",
        &fulfiller.email,
        &data,
        Vec::new(),
    )
}

/// The escalation of an alert to the retailer's operations address, in the retailer's
/// language (internal: it may name the fulfiller concerned).
pub fn alert_escalation_mail(
    branding: &Branding,
    ops_email: &str,
    alert: &AlertNotice,
    fulfiller: Option<&Fulfiller>,
) -> anyhow::Result<Mail> {
    let locale = branding.locale;
    let data = AlertView {
        recipient_name: &branding.company_name,
        alert_id: &alert.id,
        kind: &alert.kind,
        subject: &alert.subject,
        details: &alert.details,
        since: local_time(alert.since, branding, locale),
        fulfiller_id: fulfiller.map(|f| f.id.as_str()),
        fulfiller_name: fulfiller.map(|f| f.name.as_str()),
    };
    branded(
        branding,
        locale,
        "alert_escalation",
        ops_email,
        &data,
        Vec::new(),
    )
}

// ---------------------------------------------------------------------------------------------
// To customers: never a fulfiller's name or address.

#[derive(Serialize)]
struct OrderConfirmation<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    lines: Vec<ConfirmedLine<'a>>,
    discount: Option<String>,
    shipping: String,
    total: String,
    taxes: Vec<TaxView>,
    payments: Vec<ByMethod>,
    ship_to: Vec<String>,
}

#[derive(Serialize)]
struct ConfirmedLine<'a> {
    quantity: u32,
    name: &'a str,
    gross: String,
    backordered: u32,
}

#[derive(Serialize)]
struct TaxView {
    rate: String,
    tax: String,
}

/// The customer's order confirmation: lines, totals and what waits for stock; never who ships.
pub fn order_confirmation_mail(branding: &Branding, order: &Order) -> anyhow::Result<Mail> {
    let c = order.currency.as_str();
    let t = &order.totals;
    let data = OrderConfirmation {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        lines: order
            .lines
            .iter()
            .map(|l| ConfirmedLine {
                quantity: l.quantity,
                name: &l.name,
                gross: money(l.gross, c),
                backordered: l.quantities.backordered,
            })
            .collect(),
        discount: (t.discount != Money::ZERO).then(|| money(t.discount, c)),
        shipping: money(t.shipping, c),
        total: money(t.total, c),
        taxes: t
            .tax
            .iter()
            .map(|x| TaxView {
                rate: percent(x.rate),
                tax: money(x.tax, c),
            })
            .collect(),
        payments: order
            .payments
            .iter()
            .map(|p| ByMethod {
                method: method_code(p.method),
                amount: money(p.amount, c),
            })
            .collect(),
        ship_to: address_lines(&order.shipping_address),
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "order_confirmation",
        &order.customer.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct Shipped<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    carrier: &'a str,
    tracking_number: &'a str,
    tracking_url: Option<String>,
    lines: Vec<Units>,
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a URL path or query.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The public tracking page of the carriers customers in the DACH region meet most; another
/// carrier's mail shows the tracking number alone.
pub fn tracking_url(carrier: &str, tracking_number: &str) -> Option<String> {
    let n = url_encode(tracking_number.trim());
    let url = match carrier.trim().to_ascii_lowercase().as_str() {
        "dhl" | "dhl paket" | "deutsche post" => {
            format!(
                "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={n}"
            )
        }
        "dpd" => format!("https://tracking.dpd.de/status/de_DE/parcel/{n}"),
        "ups" => format!("https://www.ups.com/track?tracknum={n}"),
        "gls" => format!("https://gls-group.com/DE/de/paketverfolgung?match={n}"),
        "hermes" => {
            format!("https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#{n}")
        }
        _ => return None,
    };
    Some(url)
}

/// The customer's shipping notice with carrier and tracking number (and link, when known).
pub fn shipped_mail(
    branding: &Branding,
    order: &Order,
    shipment: &Shipment,
) -> anyhow::Result<Mail> {
    let data = Shipped {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        carrier: &shipment.carrier,
        tracking_number: &shipment.tracking_number,
        tracking_url: tracking_url(&shipment.carrier, &shipment.tracking_number),
        lines: shipment
            .lines
            .iter()
            .map(|l| Units {
                quantity: l.quantity,
                name: line_name(order, &l.line_id),
            })
            .collect(),
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "delivery_shipped",
        &order.customer.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct RefundMail<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    refund: RefundView,
}

/// The customer's refund confirmation (returns, goodwill): amount, reason, and how it is paid back.
pub fn refund_mail(branding: &Branding, order: &Order, refund: &Refund) -> anyhow::Result<Mail> {
    let data = RefundMail {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        refund: refund_view(refund, &order.currency),
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "refund",
        &order.customer.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct OrderCancelled<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    by_customer: Vec<Units>,
    undeliverable: Vec<Units>,
    refund: Option<RefundView>,
    /// Some units are not cancelled: the rest of the order goes on.
    rest_continues: bool,
}

/// The customer's cancellation notice: the order's cancelled units (those the customer asked
/// for and those nobody could ship) and, when money moved, the refund and its split.
pub fn order_cancelled_mail(
    branding: &Branding,
    order: &Order,
    refund: Option<&Refund>,
) -> anyhow::Result<Mail> {
    let units = |n: u32, name: &str| {
        (n > 0).then(|| Units {
            quantity: n,
            name: name.to_string(),
        })
    };
    let data = OrderCancelled {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        by_customer: order
            .lines
            .iter()
            .filter_map(|l| units(l.cancelled_by_customer.min(l.quantities.cancelled), &l.name))
            .collect(),
        undeliverable: order
            .lines
            .iter()
            .filter_map(|l| {
                units(
                    l.quantities
                        .cancelled
                        .saturating_sub(l.cancelled_by_customer),
                    &l.name,
                )
            })
            .collect(),
        refund: refund.map(|r| refund_view(r, &order.currency)),
        rest_continues: order
            .lines
            .iter()
            .any(|l| l.quantities.cancelled < l.quantity),
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "order_cancelled",
        &order.customer.email,
        &data,
        Vec::new(),
    )
}

#[derive(Serialize)]
struct DeliveryLate<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    lines: Vec<Units>,
}

/// The customer's delay notice for the units of one delivery still to ship; `None` when nothing
/// is left to ship (shipped or cancelled meanwhile), so there is nothing to apologise for.
pub fn delivery_late_mail(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
) -> anyhow::Result<Option<Mail>> {
    let lines: Vec<Units> = delivery
        .lines
        .iter()
        .filter(|l| l.open() > 0)
        .map(|l| Units {
            quantity: l.open(),
            name: line_name(order, &l.line_id),
        })
        .collect();
    if !delivery.is_active() || lines.is_empty() {
        return Ok(None);
    }
    let data = DeliveryLate {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        lines,
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "delivery_late",
        &order.customer.email,
        &data,
        Vec::new(),
    )
    .map(Some)
}

#[derive(Serialize)]
struct ReturnAuthorized<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    return_id: &'a str,
    parcels: Vec<Parcel>,
}

#[derive(Serialize)]
struct Parcel {
    number: usize,
    filename: String,
    lines: Vec<Units>,
}

/// The attachment name of the `n`th return label: numbered, never naming who receives it.
pub fn label_filename(locale: Locale, n: usize) -> String {
    match locale {
        Locale::De => format!("Retourenschein-{n}.pdf"),
        Locale::En => format!("return-label-{n}.pdf"),
    }
}

/// The customer's return authorization: one parcel (and one attached label PDF) per part of the
/// return, numbered; `labels[i]` is the PDF of `parts[i]`.
pub fn return_authorized_mail(
    branding: &Branding,
    order: &Order,
    return_id: &str,
    parts: &[ReturnPart],
    labels: Vec<Vec<u8>>,
) -> anyhow::Result<Mail> {
    anyhow::ensure!(
        parts.len() == labels.len(),
        "return {return_id}: {} parts but {} labels",
        parts.len(),
        labels.len()
    );
    let locale = locale_for(order.customer.locale, branding);
    let parcels: Vec<Parcel> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| Parcel {
            number: i + 1,
            filename: label_filename(locale, i + 1),
            lines: p
                .lines
                .iter()
                .map(|l| Units {
                    quantity: l.quantity,
                    name: l.name.clone(),
                })
                .collect(),
        })
        .collect();
    let attachments = parcels
        .iter()
        .zip(labels)
        .map(|(p, bytes)| Attachment {
            filename: p.filename.clone(),
            content_type: "application/pdf".into(),
            bytes,
        })
        .collect();
    let data = ReturnAuthorized {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        return_id,
        parcels,
    };
    branded(
        branding,
        locale,
        "return_authorized",
        &order.customer.email,
        &data,
        attachments,
    )
}
