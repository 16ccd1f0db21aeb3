//! The mails to customers about their order: confirmation, shipping notice, refund,
//! cancellation and delay. They get the order's and refund's values only, never a fulfiller's
//! name or address: what a template does not get, it cannot show.

use super::brand::branded;
use super::locale_for;
use super::tracking::tracking_url;
use super::values::{
    address_lines, line_name, method_code, money, percent, refund_view, ByMethod, RefundView, Units,
};
use dropship_aws::mailer::Mail;
use dropship_core::catalogue::Branding;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::fulfilment::Shipment;
use dropship_core::money::Money;
use dropship_core::order::Order;
use dropship_core::refund::Refund;
use serde::Serialize;

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
        refund: refund_view(refund, order.currency.as_str()),
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
        refund: refund.map(|r| refund_view(r, order.currency.as_str())),
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
