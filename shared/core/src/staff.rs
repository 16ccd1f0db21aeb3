//! The retailer's staff: who they are, their role, and what each role may do on `/admin`,
//! `/webhooks` and `/console` (docs/api.md "Staff, roles, audit"). The rules are one pure
//! function, `may`, so every function that serves staff decides the same way.

use crate::catalogue::is_email;
use crate::ids::{check_text, StaffId};
use crate::ApiError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// Everything, except making or revoking tokens of the principal `admin` or of admin staff.
    Admin,
    /// Customer service: reads everything but tokens, acts on orders and resolves alerts.
    Service,
    /// Reads everything but tokens (reports and the finance export too), records invoice
    /// payments and chargebacks.
    Finance,
}

impl StaffRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "service" => Some(Self::Service),
            "finance" => Some(Self::Finance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Service => "service",
            Self::Finance => "finance",
        }
    }
}

/// A staff member as stored and shown by `GET /admin/staff/{staffId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: StaffRole,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// The body of `PUT /admin/staff/{staffId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaffInput {
    pub name: String,
    pub email: String,
    pub role: StaffRole,
    pub active: Option<bool>,
}

impl StaffInput {
    /// Checks the body into the member as stored; `active` left out is true. The address is
    /// kept in lower case: sign-in links are found by it.
    pub fn validate(self, id: &str, by: &str, now: DateTime<Utc>) -> Result<StaffMember, ApiError> {
        let id = StaffId::parse("staffId", id)?;
        check_text("name", &self.name, 200)?;
        let email = self.email.trim().to_lowercase();
        if !is_email(&email) {
            return Err(ApiError::invalid("email", "email must be a mail address"));
        }
        Ok(StaffMember {
            id,
            name: self.name,
            email,
            role: self.role,
            active: self.active.unwrap_or(true),
            updated_at: Some(now),
            updated_by: Some(by.to_string()),
        })
    }
}

/// Routes a `service` staff member may change: the order actions and resolving alerts.
const SERVICE_ACTIONS: &[&str] = &[
    "POST /admin/orders/{orderId}/cancel",
    "POST /admin/orders/{orderId}/returns",
    "POST /admin/returns/{returnId}/reject",
    "POST /admin/delivery-orders/{deliveryOrderId}/reroute",
    "POST /admin/orders/{orderId}/goodwill",
    "POST /admin/orders/{orderId}/replacements",
    "POST /admin/orders/{orderId}/payments-received",
    "POST /admin/orders/{orderId}/chargebacks",
    "POST /admin/orders/{orderId}/contacts",
    "POST /admin/alerts/{alertId}/resolve",
];

/// Routes a `finance` staff member may change.
const FINANCE_ACTIONS: &[&str] = &[
    "POST /admin/orders/{orderId}/payments-received",
    "POST /admin/orders/{orderId}/chargebacks",
];

/// Whether a role may use a route (its API Gateway route key, `METHOD /path/{template}`).
/// Tokens are the principal's keys: only admins read or change them. Reads (GET, and HEAD)
/// are open to every role; changes only as the role's list says.
pub fn may(role: StaffRole, route_key: &str) -> bool {
    let (method, path) = route_key.split_once(' ').unwrap_or(("", route_key));
    if role == StaffRole::Admin {
        return true;
    }
    if path == "/admin/tokens" || path.starts_with("/admin/tokens/") {
        return false;
    }
    if method == "GET" || method == "HEAD" {
        return true;
    }
    match role {
        StaffRole::Admin => true,
        StaffRole::Service => SERVICE_ACTIONS.contains(&route_key),
        StaffRole::Finance => FINANCE_ACTIONS.contains(&route_key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StaffRole::*;

    #[test]
    fn each_role_may_what_its_rules_say() {
        let cases = [
            ("GET /admin/orders/{orderId}", [true, true, true]),
            ("GET /admin/reports/{kind}", [true, true, true]),
            ("GET /admin/finance/export", [true, true, true]),
            ("GET /admin/tokens", [true, false, false]),
            ("POST /admin/tokens", [true, false, false]),
            ("DELETE /admin/tokens/{tokenId}", [true, false, false]),
            ("POST /admin/orders/{orderId}/goodwill", [true, true, false]),
            ("POST /admin/orders/{orderId}/contacts", [true, true, false]),
            ("POST /admin/alerts/{alertId}/resolve", [true, true, false]),
            (
                "POST /admin/orders/{orderId}/payments-received",
                [true, true, true],
            ),
            (
                "POST /admin/orders/{orderId}/chargebacks",
                [true, true, true],
            ),
            ("PUT /admin/products/{sku}", [true, false, false]),
            ("PUT /admin/staff/{staffId}", [true, false, false]),
            ("PUT /admin/process", [true, false, false]),
            ("PUT /webhooks/{subscriptionId}", [true, false, false]),
            ("DELETE /webhooks/{subscriptionId}", [true, false, false]),
            ("GET /webhooks", [true, true, true]),
        ];
        for (route, [admin, service, finance]) in cases {
            assert_eq!(may(Admin, route), admin, "admin {route}");
            assert_eq!(may(Service, route), service, "service {route}");
            assert_eq!(may(Finance, route), finance, "finance {route}");
        }
    }

    #[test]
    fn a_member_is_checked_and_kept_in_lower_case() {
        let now = Utc::now();
        let input = |email: &str| StaffInput {
            name: "Anna".into(),
            email: email.into(),
            role: Service,
            active: None,
        };
        let m = input(" Anna@Shop.Example ")
            .validate("anna", "admin:boot", now)
            .unwrap();
        assert_eq!((m.email.as_str(), m.active), ("anna@shop.example", true));
        assert_eq!(m.updated_by.as_deref(), Some("admin:boot"));
        let e = input("anna").validate("anna", "x", now).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("email"));
        let e = input("a@b.example").validate("a b", "x", now).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("staffId"));
    }

    #[test]
    fn roles_read_and_print_as_the_contract_writes_them() {
        for r in [Admin, Service, Finance] {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(StaffRole::parse("root"), None);
        let json = serde_json::json!({"name": "A", "email": "a@b.example", "role": "owner"});
        assert!(serde_json::from_value::<StaffInput>(json).is_err());
    }
}
