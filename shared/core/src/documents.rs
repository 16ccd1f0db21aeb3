//! What goes on paper: the contents of an invoice, a corrected invoice, a credit document, a
//! shipping label and a return label, computed from the order without any I/O. The renderer
//! (document-generator) only lays these out; every figure on a document is decided here.
//!
//! The customer sees the retailer only: a document names the retailer as seller and sender; a
//! return label shows a fulfiller's return address under the retailer's name.

use crate::catalogue::{Address, Locale};
use crate::ids::{Currency, OrderId};
use crate::money::Money;
use crate::order::{PaymentMethod, TaxLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Which kind of invoice-like document: the original, a correction superseding an earlier
/// invoice (another rate period at shipment), or the credit document for a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InvoiceKind {
    Invoice,
    /// Rechnungskorrektur: replaces the invoice numbered `supersedes`.
    #[serde(rename_all = "camelCase")]
    Correction {
        supersedes: String,
    },
    /// Rechnungskorrektur/Stornorechnung for a refund; refers to the order's invoices.
    #[serde(rename_all = "camelCase")]
    Credit {
        refund_id: String,
        invoice_numbers: Vec<String>,
    },
}

/// One priced line of an invoice (or, with positive figures meaning "given back", of a credit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// The customer's unit price, gross, before discounts.
    pub unit_price: Money,
    /// Discounts on these units (already subtracted from `gross`).
    pub discount: Money,
    pub rate: Decimal,
    pub net: Money,
    pub tax: Money,
    /// What the customer pays for these units: `net + tax`.
    pub gross: Money,
}

/// A payment as it applies to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLine {
    pub method: PaymentMethod,
    pub amount: Money,
}

/// An invoice, a corrected invoice or a credit document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDocument {
    #[serde(flatten)]
    pub kind: InvoiceKind,
    /// Gap-free per retailer, e.g. `2026-000042`.
    pub number: String,
    pub issued_on: NaiveDate,
    /// Date of supply (Leistungsdatum): the shipment's date, before shipment the order date.
    pub supply_date: NaiveDate,
    pub locale: Locale,
    pub currency: Currency,
    pub order_external_id: String,
    pub order_id: OrderId,
    pub delivery_order_id: Option<String>,
    pub bill_to: Address,
    pub ship_to: Address,
    pub lines: Vec<InvoiceLine>,
    /// Shipping as an ancillary service, on one invoice of the order only.
    pub shipping: Option<InvoiceLine>,
    /// Per rate: net and tax of lines and shipping.
    pub tax_totals: Vec<TaxLine>,
    pub total_net: Money,
    pub total_tax: Money,
    pub total_gross: Money,
    /// How the total is (or, for a credit, is given back) paid.
    pub payments: Vec<PaymentLine>,
    /// Still to be paid by invoice payment (0 when paid by other means).
    pub due: Money,
}

/// A 4x6 inch label for the parcel: the retailer as sender, the delivery order id as Code 128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLabel {
    pub sender_name: String,
    pub sender: Address,
    pub ship_to: Address,
    /// Printed as a Code 128 barcode and as text.
    pub barcode: String,
    pub order_external_id: String,
    pub units: u32,
    pub locale: Locale,
}

/// A return label the customer prints: the customer as sender, the retailer's name over the
/// fulfiller's return address as recipient, the return id as Code 128.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLabel {
    pub sender: Address,
    /// The retailer's company name (the fulfiller's name never appears).
    pub recipient_name: String,
    pub recipient: Address,
    pub barcode: String,
    pub order_external_id: String,
    /// (article name, quantity) to put in the parcel.
    pub lines: Vec<(String, u32)>,
    pub locale: Locale,
}

use crate::catalogue::Branding;
use crate::delivery::DeliveryOrder;
use crate::order::{allocate, tax_of, Order, OrderLine};
use crate::refund::{share, Refund};
use crate::returns::ReturnPart;
use std::collections::BTreeMap;

/// Where an invoice-like document stands in its order.
pub struct InvoiceHeader {
    pub kind: InvoiceKind,
    pub number: String,
    pub issued_on: NaiveDate,
    pub supply_date: NaiveDate,
    pub locale: Locale,
}

/// A delivery order's units of one order line at one rate: the line's rate period they belong
/// to (`taxes_per_period`). When the delivery order holds every unit of that period (the usual
/// case: one line, one delivery order) the invoice takes the period's figures as they are, so
/// the invoice, the order view, the totals and the finance report agree to the cent. Only when a
/// period's units are spread over several delivery orders (or some were cancelled) does an
/// invoice carry `round(period's paid x units / period's units)` of it.
fn units_by_rate(line: &OrderLine, delivery_id: &str, units: u32) -> Vec<(Decimal, u32)> {
    let mut out: Vec<(Decimal, u32)> = Vec::new();
    let mut add = |rate: Decimal, n: u32| match out.iter_mut().find(|(r, _)| *r == rate) {
        Some(e) => e.1 += n,
        None => out.push((rate, n)),
    };
    let mut left = units;
    // Shipped units first, each at its supply's rate; what is left is not shipped yet (or
    // shipped before supplies were recorded): the order date's rate.
    for s in line
        .supplies
        .iter()
        .filter(|s| s.delivery_order_id == delivery_id)
    {
        let n = s.units.min(left);
        left -= n;
        add(line.rate_of(s), n);
    }
    add(line.rate_at_order_date(), left);
    out.retain(|(_, n)| *n > 0);
    out
}

/// The invoice of a delivery order's units (not cancelled), each taxed at the rate of its
/// supply (its shipment's date; before shipment the order date), with the order's shipping when
/// `with_shipping`. A line whose units were supplied in two rate periods has a row per period.
/// Payments are the order's, in proportion to this invoice's share of the order total; `due`
/// is what remains open on invoice payment, at most this invoice's invoice share.
pub fn invoice(
    header: InvoiceHeader,
    order: &Order,
    delivery: &DeliveryOrder,
    with_shipping: bool,
) -> InvoiceDocument {
    let mut lines = Vec::with_capacity(delivery.lines.len());
    for dl in &delivery.lines {
        let units = dl.quantity - dl.cancelled;
        let Some(l) = order.lines.iter().find(|l| l.line_id == dl.line_id) else {
            continue;
        };
        let mine = units_by_rate(l, &delivery.id, units);
        // In the line's period sequence: the order date's rate first.
        for p in l.taxes() {
            let Some(&(rate, n)) = mine.iter().find(|(r, _)| *r == p.rate) else {
                continue;
            };
            let (gross, tax) = if n == p.units {
                (p.gross(), p.tax)
            } else {
                let gross = share(p.gross(), n, p.units);
                (gross, tax_of(gross, rate))
            };
            lines.push(InvoiceLine {
                sku: l.sku.to_string(),
                name: l.name.clone(),
                quantity: n,
                unit_price: l.unit_price,
                // What the discounts took off these units: the row adds up exactly.
                discount: l.unit_price * n - gross,
                rate,
                net: gross - tax,
                tax,
                gross,
            });
        }
    }
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for l in &lines {
        let e = by_rate.entry(l.rate.normalize()).or_default();
        e.0 += l.gross;
        e.1 += l.tax;
    }
    let shipping = (with_shipping && order.shipping_cost != Money::ZERO).then(|| {
        // Shipping is ancillary: its tax follows the order's rate periods pro rata to what
        // their units paid, exactly as the order's totals split it (`order::tax_summary`).
        let mut order_rates: BTreeMap<Decimal, Money> = BTreeMap::new();
        for p in order.lines.iter().flat_map(OrderLine::taxes) {
            *order_rates.entry(p.rate.normalize()).or_default() += p.gross();
        }
        let weights: Vec<Money> = order_rates.values().copied().collect();
        let parts = allocate(order.shipping_cost, &weights);
        let mut tax = Money::ZERO;
        let mut main = (Decimal::ZERO, Money::ZERO);
        for (rate, part) in order_rates.keys().zip(parts) {
            let t = tax_of(part, *rate);
            tax += t;
            let e = by_rate.entry(*rate).or_default();
            e.0 += part;
            e.1 += t;
            if part > main.1 {
                main = (*rate, part);
            }
        }
        InvoiceLine {
            sku: String::new(),
            name: String::new(),
            quantity: 1,
            unit_price: order.shipping_cost,
            discount: Money::ZERO,
            rate: main.0,
            net: order.shipping_cost - tax,
            tax,
            gross: order.shipping_cost,
        }
    });
    let tax_totals: Vec<TaxLine> = by_rate
        .iter()
        .map(|(rate, (gross, tax))| TaxLine {
            rate: *rate,
            net: *gross - *tax,
            tax: *tax,
        })
        .collect();
    let total_gross: Money = lines.iter().map(|l| l.gross).sum::<Money>()
        + shipping.as_ref().map(|s| s.gross).unwrap_or(Money::ZERO);
    let total_tax: Money = tax_totals.iter().map(|t| t.tax).sum();
    let amounts: Vec<Money> = order.payments.iter().map(|p| p.amount).collect();
    let shares = allocate(total_gross.min(order.totals.total), &amounts);
    let payments: Vec<PaymentLine> = order
        .payments
        .iter()
        .zip(&shares)
        .filter(|(_, a)| **a != Money::ZERO)
        .map(|(p, a)| PaymentLine {
            method: p.method,
            amount: *a,
        })
        .collect();
    let invoice_share: Money = order
        .payments
        .iter()
        .zip(&shares)
        .filter(|(p, _)| p.method == PaymentMethod::Invoice)
        .map(|(_, a)| *a)
        .sum();
    InvoiceDocument {
        kind: header.kind,
        number: header.number,
        issued_on: header.issued_on,
        supply_date: header.supply_date,
        locale: header.locale,
        currency: order.currency.clone(),
        order_external_id: order.external_id.clone(),
        order_id: order.id.clone(),
        delivery_order_id: Some(delivery.id.clone()),
        bill_to: order
            .billing_address
            .clone()
            .unwrap_or_else(|| order.shipping_address.clone()),
        ship_to: delivery.ship_to.clone(),
        lines,
        shipping,
        tax_totals,
        total_net: total_gross - total_tax,
        total_tax,
        total_gross,
        payments,
        due: invoice_share.min(order.totals.due),
    }
}

/// True when the delivery order's invoice shows other figures on `after` than on `before`
/// (the order before and after a shipment's rates were decided): the invoice in force must be
/// corrected.
pub fn invoice_changes(
    before: &Order,
    after: &Order,
    delivery: &DeliveryOrder,
    with_shipping: bool,
) -> bool {
    let figures = |o: &Order| {
        let header = InvoiceHeader {
            kind: InvoiceKind::Invoice,
            number: String::new(),
            issued_on: NaiveDate::default(),
            supply_date: NaiveDate::default(),
            locale: Locale::De,
        };
        let inv = invoice(header, o, delivery, with_shipping);
        (inv.lines, inv.shipping, inv.tax_totals)
    };
    figures(before) != figures(after)
}

/// The credit document of a refund: per rate what goes back (net, tax, gross) and to which
/// payments, referring to the order's invoices.
pub fn credit_note(
    header: InvoiceHeader,
    order: &Order,
    refund: &Refund,
    label: &str,
) -> InvoiceDocument {
    let lines: Vec<InvoiceLine> = refund
        .tax
        .iter()
        .map(|t| InvoiceLine {
            sku: String::new(),
            name: label.to_string(),
            quantity: 1,
            unit_price: t.net + t.tax,
            discount: Money::ZERO,
            rate: t.rate,
            net: t.net,
            tax: t.tax,
            gross: t.net + t.tax,
        })
        .collect();
    let total_tax: Money = refund.tax.iter().map(|t| t.tax).sum();
    InvoiceDocument {
        kind: header.kind,
        number: header.number,
        issued_on: header.issued_on,
        supply_date: header.supply_date,
        locale: header.locale,
        currency: order.currency.clone(),
        order_external_id: order.external_id.clone(),
        order_id: order.id.clone(),
        delivery_order_id: None,
        bill_to: order
            .billing_address
            .clone()
            .unwrap_or_else(|| order.shipping_address.clone()),
        ship_to: order.shipping_address.clone(),
        lines,
        shipping: None,
        tax_totals: refund.tax.clone(),
        total_net: refund.amount - total_tax,
        total_tax,
        total_gross: refund.amount,
        payments: refund
            .allocation
            .iter()
            .map(|a| PaymentLine {
                method: a.method,
                amount: a.amount,
            })
            .collect(),
        due: Money::ZERO,
    }
}

/// The parcel's label: the retailer sends, the customer receives.
pub fn shipping_label(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
    locale: Locale,
) -> ShippingLabel {
    ShippingLabel {
        sender_name: branding.company_name.clone(),
        sender: branding.address.clone(),
        ship_to: delivery.ship_to.clone(),
        barcode: delivery.id.clone(),
        order_external_id: order.external_id.clone(),
        units: delivery
            .lines
            .iter()
            .map(|l| l.quantity - l.cancelled)
            .sum(),
        locale,
    }
}

/// The customer's return label for one fulfiller's part: addressed to the retailer's name at
/// that fulfiller's return address.
pub fn return_label(
    branding: &Branding,
    order: &Order,
    part: &ReturnPart,
    return_address: &Address,
    locale: Locale,
) -> ReturnLabel {
    let mut recipient = return_address.clone();
    // The fulfiller's own name never appears: the parcel goes to the retailer's name.
    recipient.name = match locale {
        Locale::De => "Retourenannahme".to_string(),
        Locale::En => "Returns".to_string(),
    };
    ReturnLabel {
        sender: order.shipping_address.clone(),
        recipient_name: branding.company_name.clone(),
        recipient,
        barcode: part.return_id.clone(),
        order_external_id: order.external_id.clone(),
        lines: part
            .lines
            .iter()
            .map(|l| (l.name.clone(), l.quantity))
            .collect(),
        locale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{DeliveryLine, DeliveryStatus};
    use crate::intake::fixtures::{base, date, order, order_2020, ship_on};
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn delivery_of(o: &Order) -> DeliveryOrder {
        let now = chrono::Utc::now();
        DeliveryOrder {
            id: "DO-1".into(),
            order_id: o.id.clone(),
            fulfiller_id: "acme".try_into().unwrap(),
            status: DeliveryStatus::Open,
            ship_to: o.shipping_address.clone(),
            lines: o
                .lines
                .iter()
                .map(|l| DeliveryLine {
                    line_id: l.line_id.clone(),
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    shipped: 0,
                    cancelled: 0,
                })
                .collect(),
            created_at: now,
            due_at: now,
            created_key: "k".into(),
            documents: vec![],
            carrier: None,
            tracking_number: None,
            version: 0,
            shipments: vec![],
            stock_shortfall: false,
            rejection_reason: None,
            link_key: None,
        }
    }

    fn header() -> InvoiceHeader {
        let d = NaiveDate::from_ymd_opt(2020, 7, 15).unwrap_or_default();
        InvoiceHeader {
            kind: InvoiceKind::Invoice,
            number: "2020-000001".into(),
            issued_on: d,
            supply_date: d,
            locale: Locale::De,
        }
    }

    #[test]
    fn the_invoice_of_the_worked_example_adds_up() {
        let o = order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
                   {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
            json!([{"code": "SAVE5", "amount": "5.00"}]),
            "3.90",
            "63.88",
        ));
        let inv = invoice(header(), &o, &delivery_of(&o), true);
        let taxes: Vec<String> = inv.lines.iter().map(|l| l.tax.to_string()).collect();
        assert_eq!(taxes, ["7.37", "2.21"]);
        assert_eq!(
            inv.shipping.as_ref().map(|s| s.tax.to_string()),
            Some("0.62".into())
        );
        assert_eq!(inv.total_gross.to_string(), "63.88");
        assert_eq!(inv.total_tax.to_string(), "10.20");
        assert_eq!(inv.payments[0].amount.to_string(), "63.88");
        assert_eq!(inv.due, Money::ZERO);
    }

    #[test]
    fn germany_2020_supplies_are_taxed_at_16_percent_and_call_for_a_correction() {
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 1, "unitPrice": "116.00"}]),
            json!([]),
            "0",
            "116.00",
        ));
        let d = delivery_of(&o);
        let before = o.clone();
        ship_on(&mut o, "L1", 1, date(2020, 7, 1));
        assert!(invoice_changes(&before, &o, &d, true));
        assert!(!invoice_changes(&o, &o, &d, true));
        let inv = invoice(header(), &o, &d, true);
        assert_eq!(inv.lines[0].rate, dec!(0.16));
        assert_eq!(inv.lines[0].tax.to_string(), "16.00");
        assert_eq!(inv.tax_totals[0].net.to_string(), "100.00");
    }

    #[test]
    fn the_corrected_invoice_shows_what_the_order_shows() {
        // The worked example of docs/api.md ordered 2020-06-30, one unit of L1 shipped 2020-07-01:
        // the invoice has a row per rate period of L1 (the figures of order.rs's
        // `a_discounted_line_shipped_in_two_periods`) and the same totals as the order.
        let mut o = order_2020(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"},
                   {"lineId": "L2", "sku": "B", "quantity": 1, "unitPrice": "15.00"}]),
            json!([{"code": "SAVE5", "amount": "5.00"}]),
            "3.90",
            "63.88",
        ));
        let d = delivery_of(&o);
        ship_on(&mut o, "L1", 1, date(2020, 7, 1));
        let inv = invoice(header(), &o, &d, true);
        let rows: Vec<String> = inv
            .lines
            .iter()
            .map(|l| format!("{} x{} {} {} {}", l.sku, l.quantity, l.rate, l.gross, l.tax))
            .collect();
        // 24.99 - 23.07 = 1.92 and 24.99 - 23.06 = 1.93 of the discount on the two rows.
        assert_eq!(
            rows,
            [
                "A x1 0.19 23.07 3.68",
                "A x1 0.16 23.06 3.18",
                "B x1 0.19 13.85 2.21"
            ]
        );
        assert_eq!(inv.lines[1].discount.to_string(), "1.93");
        assert_eq!(inv.tax_totals, o.totals.tax);
        assert_eq!(
            inv.shipping.as_ref().map(|s| s.tax),
            Some(o.totals.shipping_tax)
        );
        assert_eq!(inv.total_gross.to_string(), "63.88");
    }

    #[test]
    fn a_credit_note_gives_back_the_refund_per_rate() {
        let mut o = order(base(
            json!([{"lineId": "L1", "sku": "A", "quantity": 2, "unitPrice": "24.99"}]),
            json!([]),
            "0",
            "49.98",
        ));
        o.lines[0].quantities.returned = 1;
        let refund = crate::refund::settle(
            &mut o,
            crate::refund::Allocation::ProRata,
            "r1".into(),
            "return",
            chrono::Utc::now(),
        )
        .unwrap_or_else(|| panic!("a refund is due"));
        let mut h = header();
        h.kind = InvoiceKind::Credit {
            refund_id: "r1".into(),
            invoice_numbers: vec!["2020-000001".into()],
        };
        let credit = credit_note(h, &o, &refund, "Rücksendung");
        assert_eq!(credit.total_gross.to_string(), "24.99");
        assert_eq!(credit.total_tax.to_string(), "3.99");
        assert_eq!(credit.lines[0].net.to_string(), "21.00");
    }
}
