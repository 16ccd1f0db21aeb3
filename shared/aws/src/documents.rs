//! The document store: private, encrypted S3 objects reached only through presigned URLs.

use anyhow::Context;
use aws_sdk_s3::presigning::PresigningConfig;
use std::time::Duration;

/// How long a presigned document URL lives (docs/api.md: 15 minutes).
pub const PRESIGNED_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Debug)]
pub struct DocumentStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl DocumentStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    pub async fn put_pdf(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.put(key, "application/pdf", bytes).await
    }

    /// The figures of an invoice-like document (JSON beside its PDF), for the finance export.
    pub async fn put_json(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.put(key, "application/json", bytes).await
    }

    /// A PNG picture (the branding's logo, presigned for the admin's GET of the branding).
    pub async fn put_png(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.put(key, "image/png", bytes).await
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(bytes.into())
            .send()
            .await
            .with_context(|| format!("storing s3://{}/{key}", self.bucket))?;
        Ok(())
    }

    /// Every key under `prefix`, in key order.
    pub async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .with_context(|| format!("listing s3://{}/{prefix}", self.bucket))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(keys),
            }
        }
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .with_context(|| format!("reading s3://{}/{key}", self.bucket))?;
        let bytes = out
            .body
            .collect()
            .await
            .context("reading the object body")?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// A GET URL valid for 15 minutes.
    pub async fn presign_get(&self, key: &str) -> anyhow::Result<String> {
        let cfg = PresigningConfig::expires_in(PRESIGNED_TTL).context("presigning config")?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(cfg)
            .await
            .with_context(|| format!("presigning s3://{}/{key}", self.bucket))?;
        Ok(req.uri().to_string())
    }

    /// A PUT URL valid for 15 minutes (stock-feed uploads).
    pub async fn presign_put(&self, key: &str, content_type: &str) -> anyhow::Result<String> {
        let cfg = PresigningConfig::expires_in(PRESIGNED_TTL).context("presigning config")?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(cfg)
            .await
            .with_context(|| format!("presigning a PUT to s3://{}/{key}", self.bucket))?;
        Ok(req.uri().to_string())
    }
}
