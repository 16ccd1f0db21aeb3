//! The retailer's process settings (issue 21, "Process configuration"): typed, every key with its
//! default, parsed strictly (an unknown key or a bad value is a 422 naming its path, e.g.
//! `settings.routing.strategy`), written with every key present, and versioned with optimistic
//! concurrency.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorCode};

/// The longest hour-based timer (90 days), the bound the fulfillers' `slaHours` already has.
const MAX_HOURS: u32 = 24 * 90;
/// The longest escalation delay: 30 days in minutes.
const MAX_ESCALATION_MINUTES: u32 = 60 * 24 * 30;
/// The longest return window, the bound of the refund policy's `returnWindowDays`.
const MAX_RETURN_WINDOW_DAYS: u32 = 365;
/// The longest a backorder may wait.
const MAX_BACKORDER_DAYS: u32 = 365;

/// Every setting of the order process. `Default` is the process as it ran before it could be
/// configured. Deserialising (a stored version) fills keys it lacks with their defaults; what a
/// client sends goes through `parse`, which refuses what it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProcessSettings {
    pub acceptance: Acceptance,
    pub routing: Routing,
    pub customer_mails: CustomerMails,
    pub returns: Returns,
    pub cancellation: Cancellation,
    pub escalation: Escalation,
    pub backorders: Backorders,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Acceptance {
    /// Hours a delivery order may stay neither accepted, rejected nor shipped before it is
    /// withdrawn from its fulfiller and routed again without it; 0 = never. New: before it only
    /// an admin's reroute (`rerouting::reroute`) moved a delivery order, so the default is 0.
    pub reroute_if_silent_hours: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Routing {
    pub strategy: RoutingStrategy,
    /// Own warehouses before other fulfillers (default true).
    pub prefer_own_warehouses: bool,
}

impl Default for Routing {
    fn default() -> Self {
        Self {
            strategy: RoutingStrategy::FewestSplits,
            prefer_own_warehouses: true,
        }
    }
}

/// How routing chooses sources for an order's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStrategy {
    /// As few delivery orders as possible (what `routing::route` does today).
    FewestSplits,
    /// Each line to its best-priority source with stock, splits allowed.
    Priority,
}

impl Choice for RoutingStrategy {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("fewest_splits", Self::FewestSplits),
        ("priority", Self::Priority),
    ];
}

/// Which customer mails are sent; each true by default (every one was sent before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerMails {
    pub order_confirmation: bool,
    pub shipment: bool,
    pub delay: bool,
    pub return_authorized: bool,
    pub refund: bool,
}

impl Default for CustomerMails {
    fn default() -> Self {
        Self {
            order_confirmation: true,
            shipment: true,
            delay: true,
            return_authorized: true,
            refund: true,
        }
    }
}

/// A mail to the customer the settings may switch off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerMail {
    OrderConfirmation,
    Shipment,
    Delay,
    ReturnAuthorized,
    Refund,
}

impl CustomerMail {
    /// Its name in the settings and in the order's history.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmation => "orderConfirmation",
            Self::Shipment => "shipment",
            Self::Delay => "delay",
            Self::ReturnAuthorized => "returnAuthorized",
            Self::Refund => "refund",
        }
    }
}

impl CustomerMails {
    /// Whether `mail` is sent.
    pub fn sends(&self, mail: CustomerMail) -> bool {
        match mail {
            CustomerMail::OrderConfirmation => self.order_confirmation,
            CustomerMail::Shipment => self.shipment,
            CustomerMail::Delay => self.delay,
            CustomerMail::ReturnAuthorized => self.return_authorized,
            CustomerMail::Refund => self.refund,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Returns {
    /// Days after shipment a return is accepted through the channel (0: none). Replaces the
    /// refund policy's `returnWindowDays` (`catalogue::RefundPolicy`, default 14, 0..365): both
    /// name one value.
    pub window_days: u32,
}

impl Default for Returns {
    fn default() -> Self {
        Self { window_days: 14 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cancellation {
    pub customer_may_cancel_until: CancelUntil,
}

/// Until when a customer may cancel units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelUntil {
    /// Any unit not shipped (what `cancel::plan` allows today).
    #[default]
    Shipped,
    /// Until its fulfiller accepted it.
    Accepted,
    /// Until it is routed.
    Routed,
}

impl Choice for CancelUntil {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("shipped", Self::Shipped),
        ("accepted", Self::Accepted),
        ("routed", Self::Routed),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Escalation {
    /// Hours after routing a delivery order with nothing shipped is late: the fulfiller is
    /// reminded (and the customer told of the delay). Replaces the default of the fulfillers'
    /// `slaHours` (48, `catalogue::FulfillerInput`), which set each delivery order's `dueAt`
    /// that the alerting function's late-delivery check (`is_late`) compares with.
    pub remind_fulfiller_after_hours: u32,
    /// Minutes between the fulfiller's reminder and the escalation to operations; 0 = at once.
    /// Replaces the template parameter `AlertEscalationMinutes` (default 240, the alerting
    /// function's `ALERT_ESCALATION_MINUTES`).
    pub escalate_to_ops_after_minutes: u32,
}

impl Default for Escalation {
    fn default() -> Self {
        Self {
            remind_fulfiller_after_hours: 48,
            escalate_to_ops_after_minutes: 240,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Backorders {
    /// Days a backordered unit may wait for stock before it is cancelled, refunded and the
    /// customer told; 0 = wait forever (as backorders did before: only stock woke them).
    pub max_days: u32,
}

/// A setting that is one of a few names (as serde writes them too).
pub trait Choice: Copy + PartialEq + 'static {
    const NAMES: &'static [(&'static str, Self)];

    /// The name the API writes.
    fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }
}

impl ProcessSettings {
    /// Parses `settings` as a client sends it; `path` names it in errors (`settings`). Keys left
    /// out take their defaults.
    pub fn parse(v: &Value, path: &str) -> Result<Self, ApiError> {
        let root = Section::new(
            Some(v),
            path.to_string(),
            &[
                "acceptance",
                "routing",
                "customerMails",
                "returns",
                "cancellation",
                "escalation",
                "backorders",
            ],
        )?;
        let d = Self::default();
        let acceptance = root.section("acceptance", &["rerouteIfSilentHours"])?;
        let routing = root.section("routing", &["strategy", "preferOwnWarehouses"])?;
        let mails = root.section(
            "customerMails",
            &[
                "orderConfirmation",
                "shipment",
                "delay",
                "returnAuthorized",
                "refund",
            ],
        )?;
        let returns = root.section("returns", &["windowDays"])?;
        let cancellation = root.section("cancellation", &["customerMayCancelUntil"])?;
        let escalation = root.section(
            "escalation",
            &["remindFulfillerAfterHours", "escalateToOpsAfterMinutes"],
        )?;
        let backorders = root.section("backorders", &["maxDays"])?;
        Ok(Self {
            acceptance: Acceptance {
                reroute_if_silent_hours: acceptance.whole(
                    "rerouteIfSilentHours",
                    0..=MAX_HOURS,
                    d.acceptance.reroute_if_silent_hours,
                )?,
            },
            routing: Routing {
                strategy: routing.choice("strategy", d.routing.strategy)?,
                prefer_own_warehouses: routing
                    .flag("preferOwnWarehouses", d.routing.prefer_own_warehouses)?,
            },
            customer_mails: CustomerMails {
                order_confirmation: mails
                    .flag("orderConfirmation", d.customer_mails.order_confirmation)?,
                shipment: mails.flag("shipment", d.customer_mails.shipment)?,
                delay: mails.flag("delay", d.customer_mails.delay)?,
                return_authorized: mails
                    .flag("returnAuthorized", d.customer_mails.return_authorized)?,
                refund: mails.flag("refund", d.customer_mails.refund)?,
            },
            returns: Returns {
                window_days: returns.whole(
                    "windowDays",
                    0..=MAX_RETURN_WINDOW_DAYS,
                    d.returns.window_days,
                )?,
            },
            cancellation: Cancellation {
                customer_may_cancel_until: cancellation.choice(
                    "customerMayCancelUntil",
                    d.cancellation.customer_may_cancel_until,
                )?,
            },
            escalation: Escalation {
                remind_fulfiller_after_hours: escalation.whole(
                    "remindFulfillerAfterHours",
                    1..=MAX_HOURS,
                    d.escalation.remind_fulfiller_after_hours,
                )?,
                escalate_to_ops_after_minutes: escalation.whole(
                    "escalateToOpsAfterMinutes",
                    0..=MAX_ESCALATION_MINUTES,
                    d.escalation.escalate_to_ops_after_minutes,
                )?,
            },
            backorders: Backorders {
                max_days: backorders.whole(
                    "maxDays",
                    0..=MAX_BACKORDER_DAYS,
                    d.backorders.max_days,
                )?,
            },
        })
    }
}

/// A field's path: `settings.routing` + `strategy`; top-level fields stand alone.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One JSON object of the settings with its path; an absent one reads as empty (all defaults).
struct Section<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Section<'a> {
    fn new(v: Option<&'a Value>, path: String, known: &[&str]) -> Result<Self, ApiError> {
        let map = match v {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) if path.is_empty() => {
                return Err(ApiError::new(
                    422,
                    ErrorCode::ValidationFailed,
                    "the body must be a JSON object",
                ))
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    &path,
                    format!("{path} must be an object"),
                ))
            }
        };
        if let Some(unknown) = map
            .into_iter()
            .flat_map(|m| m.keys())
            .find(|k| !known.contains(&k.as_str()))
        {
            let at = join(&path, unknown);
            return Err(ApiError::invalid(&at, format!("{at} is not a setting")));
        }
        Ok(Self { path, map })
    }

    fn section(&self, key: &str, known: &[&str]) -> Result<Section<'a>, ApiError> {
        Section::new(self.get(key), self.at(key), known)
    }

    fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key))
    }

    fn whole(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, ApiError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let at = self.at(key);
                ApiError::invalid(
                    &at,
                    format!(
                        "{at} must be a whole number {}..{}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| {
                let at = self.at(key);
                ApiError::invalid(&at, format!("{at} must be true or false"))
            }),
        }
    }

    fn choice<T: Choice>(&self, key: &str, default: T) -> Result<T, ApiError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        v.as_str()
            .and_then(|s| T::NAMES.iter().find(|(n, _)| *n == s))
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let at = self.at(key);
                let names: Vec<_> = T::NAMES.iter().map(|(n, _)| *n).collect();
                ApiError::invalid(&at, format!("{at} must be one of {}", names.join(", ")))
            })
    }
}

/// A `PUT /admin/process` body: the version the writer read and the settings as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessUpdate {
    pub expected_version: u32,
    pub settings: ProcessSettings,
}

impl ProcessUpdate {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let top = Section::new(Some(body), String::new(), &["expectedVersion", "settings"])?;
        let expected_version = match top.get("expectedVersion") {
            None => {
                return Err(ApiError::required(
                    "expectedVersion",
                    "expectedVersion is required",
                ))
            }
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::invalid("expectedVersion", "expectedVersion must be a whole number")
                })?,
        };
        let settings = top
            .get("settings")
            .ok_or_else(|| ApiError::required("settings", "settings is required"))?;
        Ok(Self {
            expected_version,
            settings: ProcessSettings::parse(settings, "settings")?,
        })
    }
}

/// One version of the settings (`GET /admin/process`). Version 0 is the defaults, in force
/// until the first write; each write is the next number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessVersion {
    pub version: u32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub settings: ProcessSettings,
}

/// The version in force at `at` among `versions` (oldest first): the last that took effect at or
/// before it; version 0 (the defaults) before the first.
pub fn in_force_at(versions: &[ProcessVersion], at: DateTime<Utc>) -> ProcessVersion {
    versions
        .iter()
        .rev()
        .find(|v| v.updated_at <= at)
        .cloned()
        .unwrap_or_default()
}

/// Version 0: the defaults, in force since ever.
impl Default for ProcessVersion {
    fn default() -> Self {
        Self::initial(DateTime::<Utc>::UNIX_EPOCH)
    }
}

impl ProcessVersion {
    /// The defaults before anyone wrote settings.
    pub fn initial(at: DateTime<Utc>) -> Self {
        Self {
            version: 0,
            updated_at: at,
            updated_by: "defaults".to_string(),
            settings: ProcessSettings::default(),
        }
    }

    /// A decision this version made, as the order's history records it: the version in force
    /// is named with every decision (`routed ... (process version 3)`).
    pub fn decided(&self, what: impl std::fmt::Display) -> String {
        format!("{what} (process version {})", self.version)
    }

    /// The version `update` makes of this one, or 409 `version_conflict` when the writer did
    /// not read this one (someone else wrote since).
    pub fn next(
        &self,
        update: ProcessUpdate,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        if update.expected_version != self.version {
            return Err(ApiError::conflict(
                ErrorCode::VersionConflict,
                format!(
                    "expectedVersion {} is not the current version {}",
                    update.expected_version, self.version
                ),
            ));
        }
        Ok(Self {
            version: self.version + 1,
            updated_at: at,
            updated_by: by.to_string(),
            settings: update.settings,
        })
    }
}
