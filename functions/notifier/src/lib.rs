//! The only sender of mail: turns business events into mails to customers, fulfillers and the
//! retailer's operations, rendered from the templates in `templates/` in the retailer's design
//! and the recipient's language.
//!
//! Once per event: a mail is claimed in the idempotency table before it is sent (SQS delivers at
//! least once) and the claim is released when sending fails, so the retry sends it.

mod config;
pub use config::Config;
pub mod mails;
pub mod render;

pub use mails::*;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Duration, Utc};
use dropship_aws::documents::DocumentStore;
use dropship_aws::mailer::Mailer;
use dropship_aws::repo::alerts::{Alert, Alerts};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::idempotency::{Idempotency, SendClaim};
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::sqs_batch;
use dropship_core::catalogue::{Branding, Fulfiller};
use dropship_core::delivery::{DeliveryOrder, DocumentRef};
use dropship_core::links;
use dropship_core::messages::{AlertAudience, BusinessEvent};
use dropship_core::order::Order;
use dropship_core::process::CustomerMail;
use dropship_core::returns::ReturnStatus;

pub struct Notifier {
    pub catalogue: Catalogue,
    pub orders: Orders,
    pub delivery_orders: DeliveryOrders,
    pub idempotency: Idempotency,
    pub mailer: Mailer,
    pub public_base_url: String,
    pub alerts: Alerts,
    pub returns: Returns,
    /// Where the return labels are (read to attach them).
    pub documents: DocumentStore,
    /// The retailer's operations address: alert escalations go there.
    pub ops_email: String,
}

impl dropship_aws::config::FromConfig for Notifier {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ops_email = config.ops_email.clone();
        // A bad address would only show when the first escalation fails: refuse it at start.
        anyhow::ensure!(
            dropship_core::catalogue::is_email(&ops_email),
            "OPS_EMAIL is not a mail address"
        );
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            delivery_orders: DeliveryOrders::new(ddb.clone(), config.delivery_orders_table.clone()),
            alerts: Alerts::new(ddb.clone(), config.alerts_table.clone()),
            returns: Returns::new(ddb.clone(), config.returns_table.clone()),
            idempotency: Idempotency::new(ddb, config.idempotency_table.clone()),
            documents: DocumentStore::new(
                aws_sdk_s3::Client::new(cfg),
                config.document_bucket.clone(),
            ),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(cfg)),
            public_base_url: config
                .public_api_base_url
                .clone()
                .trim_end_matches('/')
                .to_string(),
            ops_email,
        })
    }
}

impl Notifier {
    /// `deadline`: when this invocation is over at the latest (Lambda's deadline); a mail
    /// claimed by it and not marked sent by then may be sent by a later delivery.
    pub async fn handle(&self, event: SqsEvent, deadline: DateTime<Utc>) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.notify(m, deadline)).await
    }

    async fn notify(&self, m: SqsMessage, deadline: DateTime<Utc>) -> anyhow::Result<()> {
        match sqs_batch::body::<BusinessEvent>(&m)? {
            BusinessEvent::DocumentsReady {
                delivery_order_id,
                fulfiller_id,
                documents,
                ..
            } => {
                self.once(
                    deadline,
                    &format!("mail#documents_ready#{delivery_order_id}"),
                    || self.documents_ready(&delivery_order_id, fulfiller_id.as_str(), &documents),
                )
                .await
            }
            BusinessEvent::DeliveryOrderChanged {
                delivery_order_id,
                version,
                ..
            } => {
                self.once(
                    deadline,
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
                self.once(
                    deadline,
                    &format!("mail#delivery_shipped#{shipment_id}"),
                    || self.delivery_shipped(order_id.as_str(), &delivery_order_id, &shipment_id),
                )
                .await
            }
            BusinessEvent::StockFeedProcessed {
                fulfiller_id,
                feed,
                applied,
                bad_rows,
                refused,
            } => {
                self.once(
                    deadline,
                    &format!("mail#stock_feed#{fulfiller_id}#{feed}"),
                    || {
                        self.stock_feed_processed(
                            fulfiller_id.as_str(),
                            &feed,
                            applied,
                            &bad_rows,
                            refused.as_deref(),
                        )
                    },
                )
                .await
            }
            BusinessEvent::OrderConfirmed { order_id } => {
                self.once(
                    deadline,
                    &format!("mail#order_confirmed#{order_id}"),
                    || self.order_confirmed(order_id.as_str()),
                )
                .await
            }
            BusinessEvent::RefundIssued {
                order_id,
                refund_id,
            } => {
                self.once(deadline, &format!("mail#refund_issued#{refund_id}"), || {
                    self.refund_issued(order_id.as_str(), &refund_id)
                })
                .await
            }
            BusinessEvent::OrderCancelled {
                order_id,
                refund_id,
                version,
            } => {
                self.once(
                    deadline,
                    &format!("mail#order_cancelled#{order_id}#{version}"),
                    || self.order_cancelled(order_id.as_str(), refund_id.as_deref()),
                )
                .await
            }
            BusinessEvent::DeliveryLate {
                order_id,
                delivery_order_id,
            } => {
                self.once(
                    deadline,
                    &format!("mail#delivery_late#{delivery_order_id}"),
                    || self.delivery_late(order_id.as_str(), &delivery_order_id),
                )
                .await
            }
            BusinessEvent::ChargebackRecorded { order_id, entry_id } => {
                // Opening is idempotent: one alert per chargeback, open until resolved.
                let opened = self
                    .alerts
                    .open(
                        "chargeback",
                        &format!("{order_id}#{entry_id}"),
                        &format!("chargeback on order {order_id}"),
                        Utc::now(),
                    )
                    .await?;
                tracing::info!(
                    order_id = order_id.as_str(),
                    entry_id,
                    opened,
                    "chargeback alert for customer service"
                );
                Ok(())
            }
            BusinessEvent::AlertRaised { alert_id, audience } => {
                self.alert_raised(deadline, &alert_id, audience).await
            }
            BusinessEvent::ReturnRejected {
                order_id,
                return_id,
            } => {
                self.once(
                    deadline,
                    &format!("mail#return_rejected#{return_id}"),
                    || self.return_rejected(order_id.as_str(), &return_id),
                )
                .await
            }
            BusinessEvent::ReturnAuthorized {
                order_id,
                return_id,
            } => {
                self.once(
                    deadline,
                    &format!("mail#return_authorized#{return_id}"),
                    || self.return_authorized(order_id.as_str(), &return_id),
                )
                .await
            }
        }
    }

    /// Sends a mail once per event: claimed (leased until this invocation's deadline), sent,
    /// marked sent. A duplicate finds it sent and skips it; a delivery that finds another one
    /// sending fails and comes back later; a sender that died between its claim and the mark
    /// leaves a lease that runs out, and the next delivery sends. The one duplicate left:
    /// SES took the mail and the sender died before the mark.
    async fn once<F, Fut>(&self, deadline: DateTime<Utc>, key: &str, send: F) -> anyhow::Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let now = Utc::now();
        match self
            .idempotency
            .claim_send(key, now, deadline, now + Duration::days(30))
            .await?
        {
            SendClaim::Acquired => {}
            SendClaim::Sent => {
                tracing::info!(key, "mail already sent; skipping the duplicate event");
                return Ok(());
            }
            SendClaim::InProgress => {
                anyhow::bail!("mail {key} is being sent by another delivery; trying again later")
            }
        }
        if let Err(e) = send().await {
            self.idempotency.release(key).await?;
            return Err(e);
        }
        self.idempotency.mark_sent(key, Utc::now()).await
    }

    /// Whether the customer gets `mail` (about `about`): the process version in force at
    /// `trigger_at`, when the change that asked for it committed, decides, and the decision is
    /// recorded in the order's history with that version (once, whatever the redeliveries).
    async fn customer_mail_on(
        &self,
        order: &Order,
        mail: CustomerMail,
        about: &str,
        trigger_at: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let process = self.catalogue.process_at(trigger_at).await?;
        let on = process.settings.customer_mails.sends(mail);
        let what = if on {
            format!("{} mail for {about} to the customer", mail.as_str())
        } else {
            format!("{} mail for {about} not sent: switched off", mail.as_str())
        };
        self.orders
            .record_once(order.id.as_str(), "system:notifier", &process.decided(what))
            .await?;
        if !on {
            tracing::info!(
                order_id = order.id.as_str(),
                mail = mail.as_str(),
                process_version = process.version,
                "customer mail switched off in the process settings"
            );
        }
        Ok(on)
    }

    async fn branding(&self) -> anyhow::Result<Branding> {
        self.catalogue
            .get_branding()
            .await?
            .ok_or_else(|| anyhow::anyhow!("no branding configured"))
    }

    async fn order(&self, order_id: &str) -> anyhow::Result<Order> {
        self.orders
            .get(order_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {order_id} does not exist"))
    }

    async fn delivery_order(&self, id: &str) -> anyhow::Result<DeliveryOrder> {
        self.delivery_orders
            .get(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("delivery order {id} does not exist"))
    }

    async fn fulfiller(&self, id: &str) -> anyhow::Result<Fulfiller> {
        self.catalogue
            .get_fulfiller(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("fulfiller {id} does not exist"))
    }

    async fn delivery_order_changed(&self, delivery_order_id: &str) -> anyhow::Result<()> {
        let delivery = self.delivery_order(delivery_order_id).await?;
        let (fulfiller, branding) = tokio::try_join!(
            self.fulfiller(delivery.fulfiller_id.as_str()),
            self.branding()
        )?;
        let mail = delivery_order_changed_mail(&branding, &fulfiller, &delivery)?;
        let message_id = self.mailer.send(&mail).await?;
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
            self.order(order_id),
            self.delivery_order(delivery_order_id),
            self.branding()
        )?;
        let shipment = delivery
            .shipments
            .iter()
            .find(|s| s.id == shipment_id)
            .ok_or_else(|| anyhow::anyhow!("{delivery_order_id} has no shipment {shipment_id}"))?;
        let about = format!("shipment {shipment_id}");
        if !self
            .customer_mail_on(&order, CustomerMail::Shipment, &about, shipment.shipped_at)
            .await?
        {
            return Ok(());
        }
        let message_id = self
            .mailer
            .send(&shipped_mail(&branding, &order, shipment)?)
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
            tokio::try_join!(self.fulfiller(fulfiller_id), self.branding())?;
        let mail = stock_feed_mail(&branding, &fulfiller, feed, applied, bad_rows, refused)?;
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
        let (order, branding) = tokio::try_join!(self.order(order_id), self.branding())?;
        let about = format!("order {order_id}");
        if !self
            .customer_mail_on(
                &order,
                CustomerMail::OrderConfirmation,
                &about,
                order.created_at,
            )
            .await?
        {
            return Ok(());
        }
        let message_id = self
            .mailer
            .send(&order_confirmation_mail(&branding, &order)?)
            .await?;
        tracing::info!(order_id, message_id, "customer's order confirmation sent");
        Ok(())
    }

    async fn refund_issued(&self, order_id: &str, refund_id: &str) -> anyhow::Result<()> {
        let (order, branding) = tokio::try_join!(self.order(order_id), self.branding())?;
        let refund = dropship_core::ledger::refund(&order, refund_id)
            .ok_or_else(|| anyhow::anyhow!("order {order_id} has no refund {refund_id}"))?;
        let about = format!("refund {refund_id}");
        if !self
            .customer_mail_on(&order, CustomerMail::Refund, &about, refund.created_at)
            .await?
        {
            return Ok(());
        }
        let message_id = self
            .mailer
            .send(&refund_mail(&branding, &order, &refund)?)
            .await?;
        tracing::info!(
            order_id,
            refund_id,
            message_id,
            "customer told about a refund"
        );
        Ok(())
    }

    async fn order_cancelled(&self, order_id: &str, refund_id: Option<&str>) -> anyhow::Result<()> {
        let (order, branding) = tokio::try_join!(self.order(order_id), self.branding())?;
        // The refund is written with the cancellation, so a missing one is a fault to retry.
        let refund = match refund_id {
            Some(id) => Some(
                dropship_core::ledger::refund(&order, id)
                    .ok_or_else(|| anyhow::anyhow!("order {order_id} has no refund {id}"))?,
            ),
            None => None,
        };
        let message_id = self
            .mailer
            .send(&order_cancelled_mail(&branding, &order, refund.as_ref())?)
            .await?;
        tracing::info!(
            order_id,
            refund_id,
            message_id,
            "customer told about a cancellation"
        );
        Ok(())
    }

    async fn delivery_late(&self, order_id: &str, delivery_order_id: &str) -> anyhow::Result<()> {
        let (order, delivery, branding) = tokio::try_join!(
            self.order(order_id),
            self.delivery_order(delivery_order_id),
            self.branding()
        )?;
        anyhow::ensure!(
            delivery.order_id == order.id,
            "delivery order {delivery_order_id} is not part of order {order_id}"
        );
        match delivery_late_mail(&branding, &order, &delivery)? {
            // Late since its due time: the version in force then decides.
            Some(_)
                if !self
                    .customer_mail_on(
                        &order,
                        CustomerMail::Delay,
                        &format!("delivery order {delivery_order_id}"),
                        delivery.due_at,
                    )
                    .await? => {}
            Some(mail) => {
                let message_id = self.mailer.send(&mail).await?;
                tracing::info!(
                    order_id,
                    delivery_order_id,
                    message_id,
                    "customer told about a delay"
                );
            }
            None => tracing::info!(
                order_id,
                delivery_order_id,
                "nothing left to ship; no delay notice"
            ),
        }
        Ok(())
    }

    /// A reminder to the fulfiller or an escalation to operations, once per opening of the
    /// alert and audience (an alert's id is reused when the same problem comes back, so the
    /// opening time is part of the key).
    async fn alert_raised(
        &self,
        deadline: DateTime<Utc>,
        alert_id: &str,
        audience: AlertAudience,
    ) -> anyhow::Result<()> {
        let alert = self
            .alerts
            .get(alert_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("alert {alert_id} does not exist"))?;
        if alert.state != "open" {
            tracing::info!(alert_id, "alert resolved meanwhile; no mail");
            return Ok(());
        }
        let who = match audience {
            AlertAudience::Fulfiller => "fulfiller",
            AlertAudience::Operations => "operations",
        };
        let key = format!(
            "mail#alert#{alert_id}#{}#{who}",
            alert.since.timestamp_micros()
        );
        self.once(deadline, &key, || self.send_alert(&alert, audience))
            .await
    }

    async fn send_alert(&self, alert: &Alert, audience: AlertAudience) -> anyhow::Result<()> {
        let notice = AlertNotice {
            id: alert.id.clone(),
            kind: alert.kind.clone(),
            subject: alert.subject.clone(),
            details: alert.details.clone(),
            since: alert.since,
        };
        let branding = self.branding().await?;
        let mail = match audience {
            AlertAudience::Fulfiller => {
                let fulfiller_id = alert.fulfiller_id.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("alert {} concerns no fulfiller to remind", alert.id)
                })?;
                let fulfiller = self.fulfiller(fulfiller_id).await?;
                alert_reminder_mail(&branding, &fulfiller, &notice)?
            }
            AlertAudience::Operations => {
                let fulfiller = match alert.fulfiller_id.as_deref() {
                    Some(id) => self.catalogue.get_fulfiller(id).await?,
                    None => None,
                };
                alert_escalation_mail(&branding, &self.ops_email, &notice, fulfiller.as_ref())?
            }
        };
        let message_id = self.mailer.send(&mail).await?;
        tracing::info!(alert_id = %alert.id, audience = ?audience, message_id, "alert mail sent");
        Ok(())
    }

    async fn return_authorized(&self, order_id: &str, return_id: &str) -> anyhow::Result<()> {
        let (order, parts, branding) = tokio::try_join!(
            self.order(order_id),
            self.returns.parts(return_id),
            self.branding()
        )?;
        anyhow::ensure!(!parts.is_empty(), "return {return_id} has no parts");
        let parts: Vec<_> = parts
            .into_iter()
            .filter(|p| p.status != ReturnStatus::Rejected)
            .collect();
        if parts.is_empty() {
            // Customer service rejected it before its labels went out: the customer gets the
            // rejection's mail instead, never labels for units they are to keep.
            tracing::info!(
                order_id,
                return_id,
                "return rejected before its labels were mailed; no labels sent"
            );
            return Ok(());
        }
        anyhow::ensure!(
            parts.iter().all(|p| p.order_id == order.id),
            "return {return_id} is not a return of order {order_id}"
        );
        // Decided first: a mail switched off needs no labels read. The return was authorized
        // when its first part was created (the parts are written together).
        let authorized_at = parts
            .iter()
            .map(|p| p.created_at)
            .min()
            .unwrap_or_else(Utc::now);
        if !self
            .customer_mail_on(
                &order,
                CustomerMail::ReturnAuthorized,
                &format!("return {return_id}"),
                authorized_at,
            )
            .await?
        {
            return Ok(());
        }
        let mut labels = Vec::with_capacity(parts.len());
        for part in &parts {
            // The event promises the labels; one missing is a fault a retry may see mended.
            let label = part.label.as_ref().ok_or_else(|| {
                anyhow::anyhow!("return {return_id} has a part without its label")
            })?;
            labels.push(self.documents.get(&label.key).await?);
        }
        let mail = return_authorized_mail(&branding, &order, return_id, &parts, labels)?;
        let message_id = self.mailer.send(&mail).await?;
        tracing::info!(
            order_id,
            return_id,
            labels = parts.len(),
            message_id,
            "customer sent the return labels"
        );
        Ok(())
    }

    /// Customer service rejected the return: the customer hears which units stay with them and
    /// why. Always sent (like a cancellation's mail): no process setting switches it off, since
    /// it is the only word the customer gets that no refund follows.
    async fn return_rejected(&self, order_id: &str, return_id: &str) -> anyhow::Result<()> {
        let (order, parts, branding) = tokio::try_join!(
            self.order(order_id),
            self.returns.parts(return_id),
            self.branding()
        )?;
        anyhow::ensure!(!parts.is_empty(), "return {return_id} has no parts");
        anyhow::ensure!(
            parts.iter().all(|p| p.order_id == order.id),
            "return {return_id} is not a return of order {order_id}"
        );
        anyhow::ensure!(
            parts.iter().all(|p| p.status == ReturnStatus::Rejected),
            "return {return_id} is not rejected"
        );
        let mail = return_rejected_mail(&branding, &order, return_id, &parts)?;
        let message_id = self.mailer.send(&mail).await?;
        tracing::info!(
            order_id,
            return_id,
            message_id,
            "customer told their return was rejected"
        );
        Ok(())
    }

    async fn documents_ready(
        &self,
        delivery_order_id: &str,
        fulfiller_id: &str,
        documents: &[DocumentRef],
    ) -> anyhow::Result<()> {
        // The links are signed with the delivery order's own key (set with its documents):
        // minting them writes nothing.
        let (fulfiller, branding, delivery) = tokio::try_join!(
            self.fulfiller(fulfiller_id),
            self.branding(),
            self.delivery_order(delivery_order_id)
        )?;
        let expires_at = links::expiry(Utc::now());
        let urls = links::document_urls(&self.public_base_url, &delivery, documents, expires_at)
            .ok_or_else(|| {
                anyhow::anyhow!("no document links can be made for {delivery_order_id}")
            })?;
        let mail = documents_ready_mail(&branding, &fulfiller, delivery_order_id, &urls)?;
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
mod tests;
