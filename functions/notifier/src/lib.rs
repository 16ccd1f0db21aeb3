//! The only sender of mail: turns business events into mails to customers and fulfillers, in
//! the retailer's name and design.
//!
//! Once per event: a mail is claimed in the idempotency table before it is sent (SQS delivers at
//! least once) and the claim is released when sending fails, so the retry sends it.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{Duration, Utc};
use dropship_aws::mailer::{Mail, Mailer};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::idempotency::Idempotency;
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::tokens::{DocumentLink, Tokens};
use dropship_aws::sqs_batch;
use dropship_core::catalogue::{Branding, Fulfiller, Locale};
use dropship_core::delivery::{DeliveryOrder, DocumentKind, DocumentRef};
use dropship_core::messages::BusinessEvent;
use dropship_core::order::Order;
use dropship_core::refund::Refund;

/// How long a mailed document link works (API.md: 7 days).
pub const LINK_TTL_DAYS: i64 = 7;

pub struct Notifier {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub tokens: Tokens,
    pub idempotency: Idempotency,
    pub mailer: Mailer,
    pub public_base_url: String,
}

fn kind_name(kind: DocumentKind, locale: Locale) -> &'static str {
    match (kind, locale) {
        (DocumentKind::DeliveryNote, Locale::De) => "Lieferschein",
        (DocumentKind::DeliveryNote, Locale::En) => "Delivery note",
        (DocumentKind::ShippingLabel, Locale::De) => "Versandetikett",
        (DocumentKind::ShippingLabel, Locale::En) => "Shipping label",
        (DocumentKind::Invoice, Locale::De) => "Rechnung",
        (DocumentKind::Invoice, Locale::En) => "Invoice",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The fulfiller's mail for a new delivery order with its document links.
pub fn documents_ready_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    delivery_order_id: &str,
    links: &[(DocumentKind, String)],
) -> Mail {
    let locale = fulfiller.locale.unwrap_or(branding.locale);
    let (subject, intro, note) = match locale {
        Locale::De => (
            format!("Neuer Lieferauftrag {delivery_order_id}"),
            format!("Guten Tag {},\n\nfür Sie liegt ein neuer Lieferauftrag {delivery_order_id} bereit. Die Dokumente zum Ausdrucken:", fulfiller.name),
            "Die Links sind 7 Tage gültig.",
        ),
        Locale::En => (
            format!("New delivery order {delivery_order_id}"),
            format!("Hello {},\n\na new delivery order {delivery_order_id} is ready for you. The documents to print:", fulfiller.name),
            "The links are valid for 7 days.",
        ),
    };
    let list_text: String = links
        .iter()
        .map(|(k, url)| format!("- {}: {url}\n", kind_name(*k, locale)))
        .collect();
    let list_html: String = links
        .iter()
        .map(|(k, url)| {
            format!(
                "<li><a href=\"{}\">{}</a></li>",
                escape(url),
                kind_name(*k, locale)
            )
        })
        .collect();
    let text = format!(
        "{intro}\n{list_text}\n{note}\n\n{}\n{}",
        branding.company_name, branding.footer
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:{}\">{}</h2><p>{}</p><ul>{list_html}</ul><p>{note}</p><hr><p style=\"font-size:small\">{}</p></body></html>",
        escape(&branding.primary_color),
        escape(&branding.company_name),
        escape(&intro).replace('\n', "<br>"),
        escape(&branding.footer),
    );
    Mail {
        from_name: branding.company_name.clone(),
        from_address: branding.email_from.clone(),
        to: vec![fulfiller.email.clone()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// Wraps mail text in the retailer's simple HTML frame.
fn html_frame(branding: &Branding, title: &str, paragraphs: &[String]) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:{}\">{}</h2><h3>{}</h3>{body}<hr><p style=\"font-size:small\">{}</p></body></html>",
        escape(&branding.primary_color),
        escape(&branding.company_name),
        escape(title),
        escape(&branding.footer),
    )
}

/// A mail in the retailer's name and design: title, an introduction and a body (text and HTML).
fn branded_mail(
    branding: &Branding,
    to: String,
    subject: String,
    intro: String,
    body: String,
) -> Mail {
    let text = format!(
        "{intro}\n{body}\n{}\n{}",
        branding.company_name, branding.footer
    );
    Mail {
        from_name: branding.company_name.clone(),
        from_address: branding.email_from.clone(),
        to: vec![to],
        html: html_frame(branding, &subject, &[intro, body]),
        subject,
        text,
        attachments: Vec::new(),
    }
}

/// The fulfiller's notice that units of a delivery order were cancelled.
pub fn delivery_order_changed_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    d: &DeliveryOrder,
) -> Mail {
    let locale = fulfiller.locale.unwrap_or(branding.locale);
    let cancelled = d.status == dropship_core::delivery::DeliveryStatus::Cancelled;
    let lines: String = d
        .lines
        .iter()
        .map(|l| match locale {
            Locale::De => format!(
                "- {} {}: noch zu liefern {}, storniert {}\n",
                l.sku,
                l.name,
                l.open(),
                l.cancelled
            ),
            Locale::En => format!(
                "- {} {}: still to ship {}, cancelled {}\n",
                l.sku,
                l.name,
                l.open(),
                l.cancelled
            ),
        })
        .collect();
    let (subject, intro) = match (locale, cancelled) {
        (Locale::De, true) => (format!("Lieferauftrag {} storniert", d.id), format!("Der Lieferauftrag {} wurde vollständig storniert. Bitte nicht versenden.", d.id)),
        (Locale::De, false) => (format!("Lieferauftrag {} geändert", d.id), format!("Im Lieferauftrag {} wurden Positionen storniert. Bitte nur noch Folgendes versenden:", d.id)),
        (Locale::En, true) => (format!("Delivery order {} cancelled", d.id), format!("Delivery order {} was cancelled entirely. Please do not ship it.", d.id)),
        (Locale::En, false) => (format!("Delivery order {} changed", d.id), format!("Units of delivery order {} were cancelled. Please ship only this:", d.id)),
    };
    branded_mail(branding, fulfiller.email.clone(), subject, intro, lines)
}

/// The customer's shipping notice with carrier and tracking number, in the retailer's name:
/// the customer never learns which fulfiller shipped.
pub fn shipped_mail(
    branding: &Branding,
    order: &Order,
    delivery: &DeliveryOrder,
    shipment: &dropship_core::fulfilment::Shipment,
) -> Mail {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let name = |line_id: &str| {
        delivery
            .lines
            .iter()
            .find(|l| l.line_id == line_id)
            .map(|l| l.name.clone())
            .unwrap_or_default()
    };
    let lines: String = shipment
        .lines
        .iter()
        .map(|l| format!("- {} x {}\n", l.quantity, name(&l.line_id)))
        .collect();
    let (subject, intro) = match locale {
        Locale::De => (
            format!("Ihre Bestellung {} ist unterwegs", order.external_id),
            format!(
                "Guten Tag {},\n\nein Paket Ihrer Bestellung {} ist unterwegs.\nVersand mit {}, Sendungsnummer {}:",
                order.customer.name, order.external_id, shipment.carrier, shipment.tracking_number
            ),
        ),
        Locale::En => (
            format!("Your order {} is on its way", order.external_id),
            format!(
                "Hello {},\n\na parcel of your order {} is on its way.\nCarrier {}, tracking number {}:",
                order.customer.name, order.external_id, shipment.carrier, shipment.tracking_number
            ),
        ),
    };
    branded_mail(
        branding,
        order.customer.email.clone(),
        subject,
        intro,
        lines,
    )
}

/// The fulfiller's report on a stock feed: which lines were refused and why.
pub fn stock_feed_mail(
    branding: &Branding,
    fulfiller: &Fulfiller,
    feed: &str,
    applied: usize,
    bad_rows: &[(usize, String)],
    refused: Option<&str>,
) -> Mail {
    let locale = fulfiller.locale.unwrap_or(branding.locale);
    let rows: String = bad_rows
        .iter()
        .map(|(line, why)| match locale {
            Locale::De => format!("- Zeile {line}: {why}\n"),
            Locale::En => format!("- line {line}: {why}\n"),
        })
        .collect();
    let (subject, intro) = match (locale, refused) {
        (Locale::De, Some(why)) => (format!("Bestandsdatei {feed} abgelehnt"), format!("Die Bestandsdatei {feed} wurde nicht verarbeitet: {why}")),
        (Locale::En, Some(why)) => (format!("Stock feed {feed} refused"), format!("The stock feed {feed} was not processed: {why}")),
        (Locale::De, None) => (
            format!("Bestandsdatei {feed}: {} Zeile(n) abgelehnt", bad_rows.len()),
            format!("Aus der Bestandsdatei {feed} wurden {applied} Zeile(n) übernommen. Diese Zeilen wurden abgelehnt:"),
        ),
        (Locale::En, None) => (
            format!("Stock feed {feed}: {} line(s) refused", bad_rows.len()),
            format!("{applied} line(s) of the stock feed {feed} were applied. These lines were refused:"),
        ),
    };
    branded_mail(branding, fulfiller.email.clone(), subject, intro, rows)
}

/// The customer's order confirmation: lines, totals and what waits for stock; never who ships.
pub fn order_confirmation_mail(branding: &Branding, order: &Order) -> Mail {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let mut lines: String = order
        .lines
        .iter()
        .map(|l| {
            let waits = match (locale, l.quantities.backordered) {
                (_, 0) => String::new(),
                (Locale::De, n) => format!(" ({n} folgen, sobald verfügbar)"),
                (Locale::En, n) => format!(" ({n} to follow when available)"),
            };
            format!(
                "- {} x {}: {} {}{waits}\n",
                l.quantity, l.name, l.paid, order.currency
            )
        })
        .collect();
    let t = &order.totals;
    lines.push_str(&match locale {
        Locale::De => format!(
            "Versand: {} {}\nGesamt: {} {}\n",
            t.shipping, order.currency, t.total, order.currency
        ),
        Locale::En => format!(
            "Shipping: {} {}\nTotal: {} {}\n",
            t.shipping, order.currency, t.total, order.currency
        ),
    });
    let (subject, intro) = match locale {
        Locale::De => (
            format!("Ihre Bestellung {}", order.external_id),
            format!(
                "Guten Tag {},\n\nvielen Dank für Ihre Bestellung {}:",
                order.customer.name, order.external_id
            ),
        ),
        Locale::En => (
            format!("Your order {}", order.external_id),
            format!(
                "Hello {},\n\nthank you for your order {}:",
                order.customer.name, order.external_id
            ),
        ),
    };
    branded_mail(
        branding,
        order.customer.email.clone(),
        subject,
        intro,
        lines,
    )
}

/// The customer's refund confirmation, in the retailer's name (never the fulfiller's).
pub fn refund_mail(branding: &Branding, order: &Order, refund: &Refund) -> Mail {
    let locale = order.customer.locale.unwrap_or(branding.locale);
    let method = |m: dropship_core::order::PaymentMethod| {
        let s = serde_json::to_value(m)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        s.replace('_', " ")
    };
    let parts: String = refund
        .allocation
        .iter()
        .map(|a| format!("- {}: {} {}\n", method(a.method), a.amount, order.currency))
        .collect();
    let (subject, intro) = match locale {
        Locale::De => (
            format!("Ihre Erstattung zur Bestellung {}", order.external_id),
            format!(
                "Guten Tag {},\n\nwir erstatten Ihnen {} {} zu Ihrer Bestellung {}:",
                order.customer.name, refund.amount, order.currency, order.external_id
            ),
        ),
        Locale::En => (
            format!("Your refund for order {}", order.external_id),
            format!(
                "Hello {},\n\nwe are refunding {} {} for your order {}:",
                order.customer.name, refund.amount, order.currency, order.external_id
            ),
        ),
    };
    branded_mail(
        branding,
        order.customer.email.clone(),
        subject,
        intro,
        parts,
    )
}

impl Notifier {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
            orders: Orders::new(ddb.clone(), env("ORDERS_TABLE")?),
            delivery_orders: DeliveryOrders::new(ddb.clone(), env("DELIVERY_ORDERS_TABLE")?),
            tokens: Tokens::new(ddb.clone(), env("TOKENS_TABLE")?),
            idempotency: Idempotency::new(ddb, env("IDEMPOTENCY_TABLE")?),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
            public_base_url: env("PUBLIC_API_BASE_URL")?
                .trim_end_matches('/')
                .to_string(),
        })
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.notify(m)).await
    }

    async fn notify(&self, m: SqsMessage) -> anyhow::Result<()> {
        match sqs_batch::body::<BusinessEvent>(&m)? {
            BusinessEvent::DocumentsReady {
                delivery_order_id,
                fulfiller_id,
                documents,
                ..
            } => {
                self.once(&format!("mail#documents_ready#{delivery_order_id}"), || {
                    self.documents_ready(&delivery_order_id, &fulfiller_id, &documents)
                })
                .await
            }
            BusinessEvent::DeliveryOrderChanged {
                delivery_order_id,
                version,
                ..
            } => {
                self.once(
                    &format!("mail#delivery_order_changed#{delivery_order_id}#{version}"),
                    || self.delivery_order_changed(&delivery_order_id),
                )
                .await
            }
            BusinessEvent::DeliveryShipped {
                order_id,
                delivery_order_id,
                shipment_id,
            } => {
                self.once(&format!("mail#delivery_shipped#{shipment_id}"), || {
                    self.delivery_shipped(&order_id, &delivery_order_id, &shipment_id)
                })
                .await
            }
            BusinessEvent::StockFeedProcessed {
                fulfiller_id,
                feed,
                applied,
                bad_rows,
                refused,
            } => {
                self.once(&format!("mail#stock_feed#{fulfiller_id}#{feed}"), || {
                    self.stock_feed_processed(
                        &fulfiller_id,
                        &feed,
                        applied,
                        &bad_rows,
                        refused.as_deref(),
                    )
                })
                .await
            }
            BusinessEvent::OrderConfirmed { order_id } => {
                self.once(&format!("mail#order_confirmed#{order_id}"), || {
                    self.order_confirmed(&order_id)
                })
                .await
            }
            BusinessEvent::RefundIssued {
                order_id,
                refund_id,
            } => {
                self.once(&format!("mail#refund_issued#{refund_id}"), || {
                    self.refund_issued(&order_id, &refund_id)
                })
                .await
            }
            other => anyhow::bail!("no mail for this event yet: {other:?}"),
        }
    }

    async fn once<F, Fut>(&self, key: &str, send: F) -> anyhow::Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let now = Utc::now();
        if !self
            .idempotency
            .claim(key, now, now + Duration::days(30))
            .await?
        {
            tracing::info!(key, "mail already sent; skipping the duplicate event");
            return Ok(());
        }
        if let Err(e) = send().await {
            self.idempotency.release(key).await?;
            return Err(e);
        }
        Ok(())
    }

    async fn branding(&self) -> anyhow::Result<Branding> {
        self.catalogue
            .get_branding()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no branding configured"))
    }

    async fn delivery_order_changed(&self, delivery_order_id: &str) -> anyhow::Result<()> {
        let delivery = self
            .delivery_orders
            .get(delivery_order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("delivery order {delivery_order_id} does not exist"))?;
        let (fulfiller, branding) = tokio::try_join!(
            self.catalogue.get_fulfiller(&delivery.fulfiller_id),
            self.branding()
        )?;
        let fulfiller = fulfiller
            .ok_or_else(|| anyhow::anyhow!("fulfiller {} does not exist", delivery.fulfiller_id))?;
        let message_id = self
            .mailer
            .send(&delivery_order_changed_mail(
                &branding, &fulfiller, &delivery,
            ))
            .await?;
        tracing::info!(
            delivery_order_id,
            message_id,
            "fulfiller told about a changed delivery order"
        );
        Ok(())
    }

    async fn delivery_shipped(
        &self,
        order_id: &str,
        delivery_order_id: &str,
        shipment_id: &str,
    ) -> anyhow::Result<()> {
        let (order, delivery, branding) = tokio::try_join!(
            self.orders.get(order_id),
            self.delivery_orders.get(delivery_order_id),
            self.branding()
        )?;
        let order = order.ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))?;
        let delivery = delivery
            .ok_or_else(|| anyhow::anyhow!("delivery order {delivery_order_id} does not exist"))?;
        let shipment = delivery
            .shipments
            .iter()
            .find(|s| s.id == shipment_id)
            .ok_or_else(|| anyhow::anyhow!("{delivery_order_id} has no shipment {shipment_id}"))?;
        let message_id = self
            .mailer
            .send(&shipped_mail(&branding, &order, &delivery, shipment))
            .await?;
        tracing::info!(
            order_id,
            delivery_order_id,
            shipment_id,
            message_id,
            "customer told about a shipment"
        );
        Ok(())
    }

    async fn stock_feed_processed(
        &self,
        fulfiller_id: &str,
        feed: &str,
        applied: usize,
        bad_rows: &[(usize, String)],
        refused: Option<&str>,
    ) -> anyhow::Result<()> {
        let (fulfiller, branding) =
            tokio::try_join!(self.catalogue.get_fulfiller(fulfiller_id), self.branding())?;
        let fulfiller =
            fulfiller.ok_or_else(|| anyhow::anyhow!("fulfiller {fulfiller_id} does not exist"))?;
        let mail = stock_feed_mail(&branding, &fulfiller, feed, applied, bad_rows, refused);
        let message_id = self.mailer.send(&mail).await?;
        tracing::info!(
            fulfiller_id,
            feed,
            bad = bad_rows.len(),
            message_id,
            "fulfiller told about refused feed rows"
        );
        Ok(())
    }

    async fn order_confirmed(&self, order_id: &str) -> anyhow::Result<()> {
        let (order, branding) = tokio::try_join!(self.orders.get(order_id), self.branding())?;
        let order = order.ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))?;
        let message_id = self
            .mailer
            .send(&order_confirmation_mail(&branding, &order))
            .await?;
        tracing::info!(order_id, message_id, "customer's order confirmation sent");
        Ok(())
    }

    async fn refund_issued(&self, order_id: &str, refund_id: &str) -> anyhow::Result<()> {
        let (order, branding) = tokio::try_join!(self.orders.get(order_id), self.branding())?;
        let order = order.ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))?;
        let refund = order
            .refunds
            .iter()
            .find(|r| r.id == refund_id)
            .ok_or_else(|| anyhow::anyhow!("order {order_id} has no refund {refund_id}"))?;
        let message_id = self
            .mailer
            .send(&refund_mail(&branding, &order, refund))
            .await?;
        tracing::info!(
            order_id,
            refund_id,
            message_id,
            "customer told about a refund"
        );
        Ok(())
    }

    async fn documents_ready(
        &self,
        delivery_order_id: &str,
        fulfiller_id: &str,
        documents: &[DocumentRef],
    ) -> anyhow::Result<()> {
        let (fulfiller, branding) = tokio::try_join!(
            self.catalogue.get_fulfiller(fulfiller_id),
            self.catalogue.get_branding()
        )?;
        let fulfiller =
            fulfiller.ok_or_else(|| anyhow::anyhow!("fulfiller {fulfiller_id} does not exist"))?;
        let branding = branding.ok_or_else(|| anyhow::anyhow!("no branding configured"))?;
        let expires_at = Utc::now() + Duration::days(LINK_TTL_DAYS);
        let links: Vec<DocumentLink> = documents
            .iter()
            .map(|d| DocumentLink {
                key: d.key.clone(),
                fulfiller_id: fulfiller_id.to_string(),
                kind: d.kind.as_str().to_string(),
                expires_at,
                expires_at_epoch: expires_at.timestamp(),
            })
            .collect();
        let ids = self.tokens.mint_links(&links).await?;
        let urls: Vec<(DocumentKind, String)> = documents
            .iter()
            .zip(ids)
            .map(|(d, id)| (d.kind, format!("{}/documents/{id}", self.public_base_url)))
            .collect();
        let mail = documents_ready_mail(&branding, &fulfiller, delivery_order_id, &urls);
        let message_id = self.mailer.send(&mail).await?;
        tracing::info!(
            delivery_order_id,
            fulfiller_id,
            message_id,
            "fulfiller told about a new delivery order"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::offline;

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let cfg = offline();
        let handler = Notifier {
            catalogue: Catalogue::new(aws_sdk_dynamodb::Client::new(&cfg), "CatalogueTable".into()),
            orders: Orders::new(aws_sdk_dynamodb::Client::new(&cfg), "OrdersTable".into()),
            delivery_orders: DeliveryOrders::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "DeliveryOrdersTable".into(),
            ),
            tokens: Tokens::new(aws_sdk_dynamodb::Client::new(&cfg), "TokensTable".into()),
            idempotency: Idempotency::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "IdempotencyTable".into(),
            ),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
            public_base_url: "http://127.0.0.1:3000".into(),
        };
        let mut event =
            dropship_aws::sqs_batch::with_poison(include_str!("../../../events/notifier.json"));
        event.records.remove(0);
        let resp = handler.handle(event).await;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["poison-1"]);
    }
}
