//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Console sessions (tokens marked `consoleSession`) and mailed sign-in links.
    pub tokens_table: String,
    /// Branding (look, language, time zone) and staff (sign-in by mail, role).
    pub catalogue_table: String,
    /// The HTTP API's public address: the pages read and act through it, mailed sign-in links
    /// start with it.
    pub public_api_base_url: String,
    /// The SHA-256 (hex) of the bootstrap admin token: the owner signs in with it too.
    pub bootstrap_admin_token_sha256: String,
}
