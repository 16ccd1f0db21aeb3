//! The customer's return mails: the authorization, one parcel per part of the return, each with
//! its label attached (the only mail with attachments, and the labels' names must never say who
//! receives the parcel); and customer service's rejection, the units joined over the parts.

use super::brand::branded;
use super::locale_for;
use super::values::Units;
use dropship_aws::mailer::{Attachment, Mail};
use dropship_core::catalogue::{Branding, Locale};
use dropship_core::order::Order;
use dropship_core::returns::ReturnPart;
use serde::Serialize;

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

#[derive(Serialize)]
struct ReturnRejected<'a> {
    customer_name: &'a str,
    order_ref: &'a str,
    return_id: &'a str,
    reason: &'a str,
    lines: Vec<Units>,
}

/// The customer's notice that customer service rejected their return: which units, and why
/// (the reason staff gave); the units stay with the customer. The parts must be rejected.
pub fn return_rejected_mail(
    branding: &Branding,
    order: &Order,
    return_id: &str,
    parts: &[ReturnPart],
) -> anyhow::Result<Mail> {
    let rejection = parts
        .iter()
        .find_map(|p| p.rejection.as_ref())
        .ok_or_else(|| anyhow::anyhow!("return {return_id} was not rejected"))?;
    // One line per article, whoever would have received it.
    let mut lines: Vec<Units> = Vec::new();
    for l in parts.iter().flat_map(|p| &p.lines) {
        match lines.iter_mut().find(|u| u.name == l.name) {
            Some(u) => u.quantity += l.quantity,
            None => lines.push(Units {
                quantity: l.quantity,
                name: l.name.clone(),
            }),
        }
    }
    let data = ReturnRejected {
        customer_name: &order.customer.name,
        order_ref: &order.external_id,
        return_id,
        reason: &rejection.reason,
        lines,
    };
    let locale = locale_for(order.customer.locale, branding);
    branded(
        branding,
        locale,
        "return_rejected",
        &order.customer.email,
        &data,
        Vec::new(),
    )
}
