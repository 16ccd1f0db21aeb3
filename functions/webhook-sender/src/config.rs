//! The variables template.yaml gives this function, read once at start: each field is its
//! variable in lower case (see `dropship_aws::config`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub webhooks_table: String,
    #[serde(flatten)]
    pub tables: dropship_app::TablesConfig,
    pub returns_table: String,
    pub alerts_table: String,
    pub delivery_queue_url: String,
    /// `true` only on the local stack: receivers at `http://127.0.0.1:<port>`. (A string:
    /// serde hands a struct with a flattened part its values as strings.)
    pub allow_local_http: String,
}

impl Config {
    pub fn allows_local_http(&self) -> bool {
        self.allow_local_http.trim().eq_ignore_ascii_case("true")
    }
}
