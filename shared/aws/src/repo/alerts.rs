//! Alerts table. Key (pk): `<type>#<subject>`, the alert's id: one record per problem, so an
//! open problem is never alerted twice (deterministic ids). GSI byState (state, since): open or
//! resolved alerts, oldest first.
//! Access: open if not open yet (conditional put; a resolved alert of the same problem is
//! reopened with a fresh escalation); get by id (the notifier reads what an `alert_raised`
//! event is about); mark an escalation step once (conditional update); resolve if open
//! (conditional update); list by state, optionally of one type.

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
    /// The fulfiller the problem concerns (late delivery, stale stock, shortfall): it gets the
    /// reminder before operations hear of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfiller_id: Option<String>,
    /// The order concerned, when there is one (late delivery, stuck order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The delivery order concerned (late delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_order_id: Option<String>,
    /// When the fulfiller was reminded (`alert_raised` to the fulfiller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    /// When operations were told (`alert_raised` to operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<DateTime<Utc>>,
    /// When the customer was sent the delay notice (late delivery; once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_notified_at: Option<DateTime<Utc>>,
    /// Who resolved it by hand (`admin:<name>` or `staff:<id> (<name>)`), and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_note: Option<String>,
}

/// What an alert is about, for opening one.
#[derive(Debug, Clone, Default)]
pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub details: &'a str,
    pub fulfiller_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub delivery_order_id: Option<&'a str>,
}

/// A step of an alert's escalation, each taken at most once per opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Reminded,
    Escalated,
    CustomerNotified,
}

impl Step {
    fn attribute(self) -> &'static str {
        match self {
            Step::Reminded => "remindedAt",
            Step::Escalated => "escalatedAt",
            Step::CustomerNotified => "customerNotifiedAt",
        }
    }
}

/// The id of the alert for (kind, subject).
pub fn alert_id(kind: &str, subject: &str) -> String {
    format!("{kind}#{subject}")
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
        self.open_alert(
            &NewAlert {
                kind,
                subject,
                details,
                ..NewAlert::default()
            },
            now,
        )
        .await
    }

    /// Opens an alert with what it concerns; false when it is open already.
    pub async fn open_alert(&self, new: &NewAlert<'_>, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let id = alert_id(new.kind, new.subject);
        let alert = Alert {
            id: id.clone(),
            kind: new.kind.into(),
            subject: new.subject.into(),
            state: "open".into(),
            since: now,
            details: new.details.into(),
            resolved_at: None,
            fulfiller_id: new.fulfiller_id.map(str::to_owned),
            order_id: new.order_id.map(str::to_owned),
            delivery_order_id: new.delivery_order_id.map(str::to_owned),
            reminded_at: None,
            escalated_at: None,
            customer_notified_at: None,
            resolved_by: None,
            resolution_note: None,
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

    /// The alert with this id, read consistently.
    pub async fn get(&self, id: &str) -> anyhow::Result<Option<Alert>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .consistent_read(true)
            .send()
            .await
            .with_context(|| format!("reading alert {id}"))?;
        out.item.map(super::from_item).transpose()
    }

    /// Records an escalation step of an open alert; false when it was taken already (or the
    /// alert is no longer open): whoever gets true sends the message, exactly once.
    pub async fn mark(&self, id: &str, step: Step, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("SET #step = :now")
            .condition_expression("#state = :open AND attribute_not_exists(#step)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#step", step.attribute())
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("marking alert {id}")),
        }
    }

    /// Takes a step back after its message could not be sent, so that the next run sends it.
    pub async fn unmark(&self, id: &str, step: Step) -> anyhow::Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("REMOVE #step")
            .expression_attribute_names("#step", step.attribute())
            .send()
            .await
            .with_context(|| format!("unmarking alert {id}"))?;
        Ok(())
    }

    /// Records who an alert concerns (alerts opened by others before they knew it).
    pub async fn set_fulfiller(&self, id: &str, fulfiller_id: &str) -> anyhow::Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression("SET fulfillerId = :f")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":f", s(fulfiller_id))
            .send()
            .await
            .with_context(|| format!("recording the fulfiller of alert {id}"))?;
        Ok(())
    }

    /// Resolves the alert for (kind, subject) if it is open; false when there was none open.
    pub async fn resolve(
        &self,
        kind: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        self.resolve_id(&alert_id(kind, subject), now).await
    }

    /// Resolves the alert with this id if it is open; false when it was not open.
    pub async fn resolve_id(&self, id: &str, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
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

    /// Resolves the alert with this id by hand, noting who and why (`resolvedBy`,
    /// `resolutionNote`); false when it was not open.
    pub async fn resolve_by_hand(
        &self,
        id: &str,
        now: DateTime<Utc>,
        by: &str,
        note: Option<&str>,
    ) -> anyhow::Result<bool> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression(
                "SET #state = :resolved, resolvedAt = :now, resolvedBy = :by REMOVE resolutionNote",
            )
            .condition_expression("#state = :open")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolved", s("resolved"))
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":by", s(by));
        if let Some(note) = note {
            update = update
                .update_expression(
                    "SET #state = :resolved, resolvedAt = :now, resolvedBy = :by, resolutionNote = :note",
                )
                .expression_attribute_values(":note", s(note));
        }
        match update.send().await {
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
