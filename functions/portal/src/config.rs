//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub catalogue_table: String,
    pub tokens_table: String,
    /// The portal serves the fulfiller API's routes too, on the same variables.
    #[serde(flatten)]
    pub fulfiller_api: fulfiller_api::Config,
}
