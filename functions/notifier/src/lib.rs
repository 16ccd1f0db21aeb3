//! The only sender of mail: turns business events into mails to customers and fulfillers, in
//! the retailer's name and design.
//!
//! Once per event: a mail is claimed in the idempotency table before it is sent (SQS delivers at
//! least once) and the claim is released when sending fails, so the retry sends it.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{Duration, Utc};
use dropship_aws::mailer::{Mail, Mailer};
use dropship_aws::repo::catalogue::Catalogue;
use dropship_aws::repo::idempotency::Idempotency;
use dropship_aws::repo::tokens::{DocumentLink, Tokens};
use dropship_aws::sqs_batch;
use dropship_core::catalogue::{Branding, Fulfiller, Locale};
use dropship_core::delivery::{DocumentKind, DocumentRef};
use dropship_core::messages::BusinessEvent;

/// How long a mailed document link works (API.md: 7 days).
pub const LINK_TTL_DAYS: i64 = 7;

pub struct Notifier {
    pub catalogue: Catalogue,
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

impl Notifier {
    pub async fn from_env() -> anyhow::Result<Self> {
        use dropship_aws::config::env;
        let cfg = dropship_aws::config::aws().await;
        let ddb = aws_sdk_dynamodb::Client::new(&cfg);
        Ok(Self {
            catalogue: Catalogue::new(ddb.clone(), env("CATALOGUE_TABLE")?),
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

    /// The sample event with a second, unreadable message appended.
    fn batch_with_poison() -> SqsEvent {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/notifier.json")).unwrap();
        let mut poison = v["Records"][0].clone();
        poison["messageId"] = serde_json::json!("poison-1");
        poison["body"] = serde_json::json!("{not json");
        v["Records"].as_array_mut().unwrap().push(poison);
        serde_json::from_value(v).unwrap()
    }

    #[tokio::test]
    async fn an_unreadable_message_is_reported_alone() {
        let cfg = offline();
        let handler = Notifier {
            catalogue: Catalogue::new(aws_sdk_dynamodb::Client::new(&cfg), "CatalogueTable".into()),
            tokens: Tokens::new(aws_sdk_dynamodb::Client::new(&cfg), "TokensTable".into()),
            idempotency: Idempotency::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "IdempotencyTable".into(),
            ),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(&cfg)),
            public_base_url: "http://127.0.0.1:3000".into(),
        };
        let mut event = batch_with_poison();
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
