//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub alerts_table: String,
    pub audit_table: String,
    #[serde(flatten)]
    pub tables: dropship_app::TablesConfig,
    pub documents_queue_url: String,
    pub events_queue_url: String,
    pub catalogue_table: String,
    pub tokens_table: String,
    pub idempotency_table: String,
    pub returns_table: String,
    pub mail_sender_domain: String,
    /// Where the branding's logo is kept for its presigned `logoUrl` (`branding/` only).
    pub document_bucket: String,
    /// The API's public address: the order view's invoice links (`/documents/{linkId}`).
    pub public_api_base_url: String,
}
