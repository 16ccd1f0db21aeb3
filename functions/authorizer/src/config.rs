//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub tokens_table: String,
    pub catalogue_table: String,
    pub bootstrap_admin_token_sha256: String,
}
