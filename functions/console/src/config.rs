//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Console sessions (tokens marked `consoleSession`) and mailed sign-in links.
    pub tokens_table: String,
    /// Branding (look, language, time zone) and staff (sign-in by mail, role).
    pub catalogue_table: String,
    /// The HTTP API the pages read and act through, and the start of mailed sign-in links.
    pub public_api_base_url: String,
}
