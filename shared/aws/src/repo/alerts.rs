//! Alerts table. Key (pk): `<type>#<subject>`: one record per problem, so an open problem is
//! never alerted twice. GSI byState (state, since): open or resolved alerts, oldest first.
//! Access: open if not open yet (conditional put); resolve if open (conditional update); list by state.

use super::{s, to_item};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub state: String,
    pub since: DateTime<Utc>,
    pub details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct Alerts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Alerts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Opens an alert for (kind, subject); false when it is open already.
    pub async fn open(
        &self,
        kind: &str,
        subject: &str,
        details: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let id = format!("{kind}#{subject}");
        let alert = Alert {
            id: id.clone(),
            kind: kind.into(),
            subject: subject.into(),
            state: "open".into(),
            since: now,
            details: details.into(),
            resolved_at: None,
        };
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&alert, &[("pk", &id)])?))
            .condition_expression("attribute_not_exists(pk) OR #state = :resolved")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolved", s("resolved"))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("opening alert {id}")),
        }
    }

    /// Resolves the alert for (kind, subject) if it is open; false when there was none open.
    pub async fn resolve(
        &self,
        kind: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let id = format!("{kind}#{subject}");
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&id))
            .update_expression("SET #state = :resolved, resolvedAt = :now")
            .condition_expression("#state = :open")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolved", s("resolved"))
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("resolving alert {id}")),
        }
    }

    /// Alerts of one state, oldest first.
    pub async fn list(&self, state: &str) -> anyhow::Result<Vec<Alert>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("byState")
            .key_condition_expression("#state = :s")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":s", s(state));
        super::query_all(query, "listing alerts").await
    }
}
