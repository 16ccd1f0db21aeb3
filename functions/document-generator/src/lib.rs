//! Renders a delivery order's documents in the retailer's design, stores them privately in S3
//! and announces `documents_ready` (the notifier mails the fulfiller; nobody else sends mail).
//!
//! Idempotent: documents are written under deterministic keys (a rerun overwrites the same
//! objects), and `documents_ready` may be emitted more than once: the notifier sends once.

mod config;
pub use config::Config;
pub mod render;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::NaiveDate;
use chrono::Utc;
use dropship_app::aws::Store;
use dropship_app::invoicing::{self, BookInvoice, BookSupplyRates, CorrectInvoice};
use dropship_aws::documents::DocumentStore;
use dropship_aws::queue::Queue;
use dropship_aws::repo::catalogue::{Catalogue, OrderCatalogue};
use dropship_aws::repo::delivery_orders::DeliveryOrders;
use dropship_aws::repo::invoices::{InvoiceRecord, Invoices};
use dropship_aws::repo::orders::Orders;
use dropship_aws::repo::returns::Returns;
use dropship_aws::sqs_batch;
use dropship_core::catalogue::{local_date, Branding, Locale};
use dropship_core::delivery::{DeliveryOrder, DocumentKind, DocumentRef};
use dropship_core::documents::{self as paper, InvoiceHeader, InvoiceKind};
use dropship_core::fulfilment;
use dropship_core::messages::{BusinessEvent, GenerateDocuments};
use dropship_core::order::Order;

pub struct DocumentGenerator {
    pub catalogue: Catalogue,
    pub orders: Orders,
    /// The order's tax figures are written here when a shipment's supply date falls into
    /// another rate period (conditional on the order's version, like every order writer).
    pub delivery_orders: DeliveryOrders,
    pub returns: Returns,
    pub invoices: Invoices,
    pub store: DocumentStore,
    pub events_queue: Queue,
}

/// Where a delivery order's document lives: by order and delivery order, one object per kind.
/// (Order and delivery order ids are random: the keys carry no personal data and cannot be
/// guessed.)
pub fn document_key(order_id: &str, delivery_order_id: &str, kind: DocumentKind) -> String {
    format!(
        "documents/{order_id}/{delivery_order_id}/{}.pdf",
        kind.as_str()
    )
}

/// The retailer's branding and the tax rates for the order's country, in one read.
struct Context {
    branding: Branding,
    catalogue: OrderCatalogue,
}

impl Context {
    fn locale(&self, order: &Order) -> Locale {
        order.customer.locale.unwrap_or(self.branding.locale)
    }

    fn today(&self) -> chrono::NaiveDate {
        local_date(Utc::now(), &self.branding.time_zone)
    }
}

impl dropship_aws::config::FromConfig for DocumentGenerator {
    type Config = Config;

    fn from_config(config: &Config, cfg: &dropship_aws::config::SdkConfig) -> anyhow::Result<Self> {
        let ddb = aws_sdk_dynamodb::Client::new(cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), config.catalogue_table.clone()),
            orders: Orders::new(ddb.clone(), config.orders_table.clone()),
            invoices: Invoices::new(ddb.clone(), config.orders_table.clone()),
            returns: Returns::new(ddb.clone(), config.returns_table.clone()),
            delivery_orders: DeliveryOrders::new(ddb, config.delivery_orders_table.clone()),
            store: DocumentStore::new(aws_sdk_s3::Client::new(cfg), config.document_bucket.clone()),
            events_queue: Queue::new(
                aws_sdk_sqs::Client::new(cfg),
                config.events_queue_url.clone(),
            ),
        })
    }
}

impl DocumentGenerator {
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        sqs_batch::process(event, |m| self.generate(m)).await
    }

    async fn generate(&self, m: SqsMessage) -> anyhow::Result<()> {
        match sqs_batch::body::<GenerateDocuments>(&m)? {
            GenerateDocuments::DeliveryOrder { delivery_order_id } => {
                self.delivery_order(&delivery_order_id).await
            }
            GenerateDocuments::Shipment {
                delivery_order_id,
                shipment_id,
            } => self.shipment(&delivery_order_id, &shipment_id).await,
            GenerateDocuments::Refund {
                order_id,
                refund_id,
            } => self.credit_note(order_id.as_str(), &refund_id).await,
            GenerateDocuments::Return { return_id } => self.return_labels(&return_id).await,
        }
    }

    async fn order(&self, id: &str) -> anyhow::Result<Order> {
        self.orders
            .get(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order {id} does not exist"))
    }

    async fn delivery(&self, id: &str) -> anyhow::Result<DeliveryOrder> {
        self.delivery_orders
            .get(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("delivery order {id} does not exist"))
    }

    async fn context(&self, order: &Order) -> anyhow::Result<Context> {
        let catalogue = self
            .catalogue
            .get_for_order(Vec::new(), order.shipping_address.country.as_str(), None)
            .await?;
        // White label is not optional: without the retailer's branding no document is made.
        let branding = catalogue
            .branding
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no branding configured"))?;
        Ok(Context {
            branding,
            catalogue,
        })
    }

    /// Registers (or finds) the invoice-like document (`dropship_app::invoicing`) and stores
    /// its PDF.
    async fn issue(
        &self,
        ctx: &Context,
        booking: &BookInvoice,
        build: impl Fn(InvoiceRecord) -> paper::InvoiceDocument,
    ) -> anyhow::Result<InvoiceRecord> {
        let record = invoicing::book_invoice(&self.invoices, booking).await?;
        self.store_invoice(ctx, record, build).await
    }

    /// Renders a registered invoice-like document and stores its PDF under its key, with its
    /// figures beside it (`invoicing::figures_key`) for the finance export.
    async fn store_invoice(
        &self,
        ctx: &Context,
        record: InvoiceRecord,
        build: impl Fn(InvoiceRecord) -> paper::InvoiceDocument,
    ) -> anyhow::Result<InvoiceRecord> {
        let document = build(record.clone());
        let pdf = render::invoice(&ctx.branding, &document)?;
        // The figures first: a PDF stored means its figures are there too.
        self.store
            .put_json(
                &invoicing::figures_key(&record.order_id, &record.number),
                serde_json::to_vec(&document)?,
            )
            .await?;
        self.store.put_pdf(&record.key, pdf).await?;
        Ok(record)
    }

    /// An invoice-like document for `purpose` of the order, issued today.
    fn booking(ctx: &Context, order: &Order, purpose: String, kind: &str) -> BookInvoice {
        BookInvoice {
            purpose,
            kind: kind.to_string(),
            order_id: order.id.to_string(),
            issued_on: ctx.today(),
            supersedes: None,
        }
    }

    /// A new delivery order: delivery note, shipping label and (unless it is a free
    /// replacement) its invoice; then `documents_ready` for the notifier.
    async fn delivery_order(&self, id: &str) -> anyhow::Result<()> {
        let delivery = self.delivery(id).await?;
        let mut documents = delivery.documents.clone();
        if documents.is_empty() {
            let order = self.order(delivery.order_id.as_str()).await?;
            let ctx = self.context(&order).await?;
            let locale = ctx.locale(&order);
            let note = render::delivery_note(&ctx.branding, &order, &delivery)?;
            let label = render::shipping_label(
                &ctx.branding,
                &paper::shipping_label(&ctx.branding, &order, &delivery, locale),
            )?;
            for (kind, pdf) in [
                (DocumentKind::DeliveryNote, note),
                (DocumentKind::ShippingLabel, label),
            ] {
                let key = document_key(order.id.as_str(), &delivery.id, kind);
                self.store.put_pdf(&key, pdf).await?;
                documents.push(DocumentRef { kind, key });
            }
            if !dropship_core::replacement::is_replacement(&order, &delivery.id) {
                // Before shipment the supply date is the order date (docs/api.md).
                let supply_date = local_date(order.ordered_at, &ctx.branding.time_zone);
                let with_shipping = order.delivery_order_ids.first() == Some(&delivery.id);
                let booking = Self::booking(&ctx, &order, delivery.id.clone(), "invoice");
                let record = self
                    .issue(&ctx, &booking, |r| {
                        paper::invoice(
                            InvoiceHeader {
                                kind: InvoiceKind::Invoice,
                                number: r.number.clone(),
                                issued_on: r.issued_on,
                                supply_date,
                                locale,
                            },
                            &order,
                            &delivery,
                            with_shipping,
                        )
                    })
                    .await?;
                documents.push(DocumentRef {
                    kind: DocumentKind::Invoice,
                    key: record.key,
                });
            }
            self.delivery_orders
                .set_documents(&delivery.id, &documents)
                .await?;
            tracing::info!(delivery_order_id = %delivery.id, documents = documents.len(), "documents stored");
        }
        self.events_queue
            .send(&BusinessEvent::DocumentsReady {
                delivery_order_id: delivery.id.clone(),
                fulfiller_id: delivery.fulfiller_id.clone(),
                order_id: delivery.order_id.clone(),
                documents,
            })
            .await
    }

    /// A shipment decides its units' VAT: the rate on its supply date (the `shippedAt` date in
    /// the retailer's time zone). When that is another rate than the order date's, the rate is
    /// booked onto the order first (its lines' `taxes`, `tax` and the totals, which the views,
    /// refunds and the finance report read), and then every invoice whose figures it changes
    /// gets a corrected invoice built from that same order (the old one stays stored, marked
    /// superseded): the shipped delivery order's, and the one carrying the shipping cost, whose
    /// tax follows the goods' rates. Rerunning finds the rates booked and the corrections made.
    async fn shipment(&self, delivery_order_id: &str, shipment_id: &str) -> anyhow::Result<()> {
        let delivery = self.delivery(delivery_order_id).await?;
        let order = self.order(delivery.order_id.as_str()).await?;
        if dropship_core::replacement::is_replacement(&order, &delivery.id) {
            return Ok(());
        }
        let shipment = delivery
            .shipments
            .iter()
            .find(|s| s.id == shipment_id)
            .ok_or_else(|| anyhow::anyhow!("{delivery_order_id} has no shipment {shipment_id}"))?;
        let ctx = self.context(&order).await?;
        let supply_date = local_date(shipment.shipped_at, &ctx.branding.time_zone);
        // The rates are booked through `dropship_app::invoicing`, again on a fresh read when
        // someone else wrote the order meanwhile.
        let booking = BookSupplyRates {
            order,
            shipment_id,
            supply_date,
            tax_rates: &ctx.catalogue.tax_rates,
        };
        let store = Store::orders_alone(&self.orders, &self.delivery_orders);
        let order = invoicing::book_supply_rates(&store, booking).await?;
        let before = fulfilment::without_supply_rates(&order, shipment_id);
        let carrier = order.delivery_order_ids.first().cloned();
        let mut affected = vec![(delivery, supply_date)];
        if let Some(c) = carrier.as_ref().filter(|c| **c != delivery_order_id) {
            let d = self.delivery(c).await?;
            // Its own latest supply, or the order date before it shipped.
            let at = d
                .shipments
                .iter()
                .map(|s| s.shipped_at)
                .max()
                .unwrap_or(order.ordered_at);
            affected.push((d, local_date(at, &ctx.branding.time_zone)));
        }
        for (d, date) in affected {
            let with_shipping = carrier.as_deref() == Some(d.id.as_str());
            if paper::invoice_changes(&before, &order, &d, with_shipping) {
                self.correct(&ctx, &order, &d, shipment_id, date, with_shipping)
                    .await?;
            }
        }
        Ok(())
    }

    /// A corrected invoice (Rechnungskorrektur) for `delivery` after `shipment_id`: it supersedes
    /// the invoice in force (the original or an earlier correction).
    async fn correct(
        &self,
        ctx: &Context,
        order: &Order,
        delivery: &DeliveryOrder,
        shipment_id: &str,
        supply_date: NaiveDate,
        with_shipping: bool,
    ) -> anyhow::Result<()> {
        // One correction per shipment and delivery order: a redelivery finds it registered.
        let correction = CorrectInvoice {
            order_id: order.id.to_string(),
            delivery_order_id: delivery.id.clone(),
            shipment_id: shipment_id.to_string(),
            issued_on: ctx.today(),
        };
        let record = invoicing::book_correction(&self.invoices, &correction).await?;
        let locale = ctx.locale(order);
        let record = self
            .store_invoice(ctx, record, |r| {
                paper::invoice(
                    InvoiceHeader {
                        kind: InvoiceKind::Correction {
                            // As registered: a rerun must not name itself.
                            supersedes: r.supersedes.clone().unwrap_or_default(),
                        },
                        number: r.number.clone(),
                        issued_on: r.issued_on,
                        supply_date,
                        locale,
                    },
                    order,
                    delivery,
                    with_shipping,
                )
            })
            .await?;
        self.invoices
            .supersede(&delivery.id, &record.number)
            .await?;
        // The fulfiller's invoice link now gives the correction.
        let documents: Vec<DocumentRef> = delivery
            .documents
            .iter()
            .map(|d| match d.kind {
                DocumentKind::Invoice => DocumentRef {
                    kind: DocumentKind::Invoice,
                    key: record.key.clone(),
                },
                _ => d.clone(),
            })
            .collect();
        self.delivery_orders
            .set_documents(&delivery.id, &documents)
            .await?;
        tracing::info!(delivery_order_id = %delivery.id, number = %record.number, supersedes = ?record.supersedes, "invoice corrected");
        Ok(())
    }

    /// The credit document of a refund (Rechnungskorrektur/Stornorechnung).
    async fn credit_note(&self, order_id: &str, refund_id: &str) -> anyhow::Result<()> {
        let order = self.order(order_id).await?;
        let refund = dropship_core::ledger::refund(&order, refund_id)
            .ok_or_else(|| anyhow::anyhow!("order {order_id} has no refund {refund_id}"))?;
        let ctx = self.context(&order).await?;
        let invoice_numbers = invoicing::invoices_in_force(&self.invoices, &order).await?;
        let locale = ctx.locale(&order);
        let label = match (locale, refund.goodwill) {
            (Locale::De, true) => format!("Kulanz: {}", refund.reason),
            (Locale::En, true) => format!("Goodwill: {}", refund.reason),
            (Locale::De, false) => format!("Erstattung ({})", refund.reason),
            (Locale::En, false) => format!("Refund ({})", refund.reason),
        };
        let supply_date = local_date(refund.created_at, &ctx.branding.time_zone);
        let booking = Self::booking(&ctx, &order, format!("refund#{refund_id}"), "credit");
        let record = self
            .issue(&ctx, &booking, |r| {
                paper::credit_note(
                    InvoiceHeader {
                        kind: InvoiceKind::Credit {
                            refund_id: refund_id.to_string(),
                            invoice_numbers: invoice_numbers.clone(),
                        },
                        number: r.number.clone(),
                        issued_on: r.issued_on,
                        supply_date,
                        locale,
                    },
                    &order,
                    &refund,
                    &label,
                )
            })
            .await?;
        tracing::info!(order_id, refund_id, number = %record.number, "credit document stored");
        Ok(())
    }

    /// One return label per fulfiller part, then `return_authorized` (the notifier mails them).
    async fn return_labels(&self, return_id: &str) -> anyhow::Result<()> {
        let parts = self.returns.parts(return_id).await?;
        let first = parts
            .first()
            .ok_or_else(|| anyhow::anyhow!("return {return_id} does not exist (yet)"))?;
        let order = self.order(first.order_id.as_str()).await?;
        let ctx = self.context(&order).await?;
        let locale = ctx.locale(&order);
        for (i, part) in parts.iter().enumerate() {
            if part.label.is_some() {
                continue;
            }
            let fulfiller = self
                .catalogue
                .get_fulfiller(part.fulfiller_id.as_str())
                .await?
                .ok_or_else(|| anyhow::anyhow!("fulfiller {} is unknown", part.fulfiller_id))?;
            let address = fulfiller
                .return_address
                .as_ref()
                .unwrap_or(&fulfiller.address);
            let pdf = render::return_label(
                &ctx.branding,
                &paper::return_label(&ctx.branding, &order, part, address, locale),
            )?;
            // Numbered, not named: the key does not say who takes the parcel back.
            let key = format!(
                "documents/{}/returns/{return_id}/label-{}.pdf",
                order.id,
                i + 1
            );
            self.store.put_pdf(&key, pdf).await?;
            self.returns
                .set_label(
                    return_id,
                    part.fulfiller_id.as_str(),
                    &DocumentRef {
                        kind: DocumentKind::ShippingLabel,
                        key,
                    },
                )
                .await?;
        }
        self.events_queue
            .send(&BusinessEvent::ReturnAuthorized {
                order_id: order.id.clone(),
                return_id: return_id.to_string(),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dropship_aws::config::{offline, offline_config, FromConfig};

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let handler =
            DocumentGenerator::from_config(&offline_config().unwrap(), &offline()).unwrap();
        let mut event = dropship_aws::sqs_batch::with_poison(include_str!(
            "../../../events/document-generator.json"
        ));
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
