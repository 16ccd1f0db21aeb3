//! Who is calling: resolved by the authorizer from the bearer token, checked by every handler.

use crate::ids::{ChannelId, FulfillerId, StaffId};
use crate::staff::{may, StaffRole};
use crate::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Principal {
    /// Retailer staff; `name` is shown in histories.
    Admin {
        name: String,
    },
    Channel {
        id: ChannelId,
    },
    Fulfiller {
        id: FulfillerId,
    },
    /// A member of the retailer's staff, with the role the authorizer read for them.
    Staff {
        id: StaffId,
        name: String,
        role: StaffRole,
    },
}

impl Principal {
    /// Parses docs/api.md's principal notation: `admin`, `channel:<id>`, `fulfiller:<id>`
    /// (`staff:<id>` needs its role: `parse_with_role`).
    pub fn parse(s: &str, name: Option<&str>) -> Option<Self> {
        Self::parse_with_role(s, name, None)
    }

    /// The notation with what the authorizer passes on: the name and, for staff, the role.
    pub fn parse_with_role(s: &str, name: Option<&str>, role: Option<&str>) -> Option<Self> {
        match s.split_once(':') {
            Some(("staff", id)) => Some(Self::Staff {
                id: StaffId::try_from(id).ok()?,
                name: name.unwrap_or(id).to_string(),
                role: StaffRole::parse(role?)?,
            }),
            None if s == "admin" => Some(Self::Admin {
                name: name.unwrap_or("admin").to_string(),
            }),
            Some(("channel", id)) => ChannelId::try_from(id).ok().map(|id| Self::Channel { id }),
            Some(("fulfiller", id)) => FulfillerId::try_from(id)
                .ok()
                .map(|id| Self::Fulfiller { id }),
            _ => None,
        }
    }

    /// The notation back: `admin`, `channel:<id>`, `fulfiller:<id>`.
    pub fn notation(&self) -> String {
        match self {
            Self::Admin { .. } => "admin".into(),
            Self::Channel { id } => format!("channel:{id}"),
            Self::Fulfiller { id } => format!("fulfiller:{id}"),
            Self::Staff { id, .. } => format!("staff:{id}"),
        }
    }

    /// The display name for histories ("who did it").
    pub fn display(&self) -> String {
        match self {
            Self::Admin { name } => format!("admin:{name}"),
            other => other.notation(),
        }
    }
}

/// Role checks: 401 without a principal, 403 for a known principal of another role.
pub fn require_admin(p: Option<&Principal>) -> Result<&str, ApiError> {
    match p {
        Some(Principal::Admin { name }) => Ok(name),
        Some(_) => Err(ApiError::forbidden()),
        None => Err(ApiError::unauthenticated()),
    }
}

/// The retailer's side of the API (`/admin`, and `/console`): the principal `admin`, or a
/// staff member whose role may use the route (`route_key`, e.g. `POST /admin/orders/{orderId}/goodwill`).
/// Answers who acts, as order histories and `updatedBy` name them: `admin:<token name>`, or
/// `staff:<id> (<name>)`.
pub fn require_retailer(p: Option<&Principal>, route_key: &str) -> Result<String, ApiError> {
    match p {
        Some(Principal::Admin { name }) => Ok(format!("admin:{name}")),
        Some(Principal::Staff { id, name, role }) if may(*role, route_key) => {
            Ok(format!("staff:{id} ({name})"))
        }
        Some(_) => Err(ApiError::forbidden()),
        None => Err(ApiError::unauthenticated()),
    }
}

pub fn require_channel(p: Option<&Principal>) -> Result<&ChannelId, ApiError> {
    match p {
        Some(Principal::Channel { id }) => Ok(id),
        Some(_) => Err(ApiError::forbidden()),
        None => Err(ApiError::unauthenticated()),
    }
}

pub fn require_fulfiller(p: Option<&Principal>) -> Result<&FulfillerId, ApiError> {
    match p {
        Some(Principal::Fulfiller { id }) => Ok(id),
        Some(_) => Err(ApiError::forbidden()),
        None => Err(ApiError::unauthenticated()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_notation() {
        for s in ["admin", "channel:web-de", "fulfiller:acme"] {
            assert_eq!(Principal::parse(s, None).unwrap().notation(), s);
        }
        let staff = Principal::parse_with_role("staff:anna", Some("Anna"), Some("service"));
        assert_eq!(staff.unwrap().notation(), "staff:anna");
        // Staff without a known role is nobody: the authorizer always passes the role.
        assert_eq!(Principal::parse("staff:anna", None), None);
        assert_eq!(
            Principal::parse_with_role("staff:anna", None, Some("owner")),
            None
        );
        for bad in [
            "",
            "root",
            "channel:",
            "channel:a b",
            "fulfiller",
            "warehouse:x",
        ] {
            assert!(Principal::parse(bad, None).is_none(), "{bad}");
        }
    }

    #[test]
    fn role_checks_answer_401_then_403() {
        assert_eq!(require_admin(None).unwrap_err().status, 401);
        let ch = Principal::Channel {
            id: "web".try_into().unwrap(),
        };
        assert_eq!(require_admin(Some(&ch)).unwrap_err().status, 403);
        assert_eq!(require_channel(Some(&ch)).unwrap(), "web");
        assert_eq!(require_fulfiller(Some(&ch)).unwrap_err().status, 403);
    }

    #[test]
    fn the_retailers_side_admits_admin_and_staff_by_role() {
        let goodwill = "POST /admin/orders/{orderId}/goodwill";
        let admin = Principal::parse("admin", Some("boot")).unwrap();
        assert_eq!(
            require_retailer(Some(&admin), goodwill).unwrap(),
            "admin:boot"
        );
        let service = Principal::parse_with_role("staff:anna", Some("Anna"), Some("service"));
        assert_eq!(
            require_retailer(service.as_ref(), goodwill).unwrap(),
            "staff:anna (Anna)"
        );
        let finance = Principal::parse_with_role("staff:fin", Some("Fin"), Some("finance"));
        assert_eq!(
            require_retailer(finance.as_ref(), goodwill)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(
            require_retailer(finance.as_ref(), "GET /admin/reports/{kind}").unwrap(),
            "staff:fin (Fin)"
        );
        let ch = Principal::parse("channel:web", None);
        assert_eq!(
            require_retailer(ch.as_ref(), "GET /admin/orders")
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(
            require_retailer(None, "GET /admin/orders")
                .unwrap_err()
                .status,
            401
        );
    }
}

/// Whether a request goes into the audit log: every change (anything but GET/HEAD) by the
/// principal `admin` or by staff, whatever its outcome, and every 403 a staff token got (reads
/// included: someone tried what their role does not allow).
pub fn is_audited(principal: Option<&crate::Principal>, method: &str, status: u16) -> bool {
    let change = method != "GET" && method != "HEAD";
    match principal {
        Some(Principal::Admin { .. }) => change,
        Some(Principal::Staff { .. }) => change || status == 403,
        _ => false,
    }
}

#[cfg(test)]
mod audit_tests {
    use super::{is_audited, Principal};

    #[test]
    fn changes_and_a_staff_members_refusals_are_audited() {
        let admin = Principal::parse("admin", None);
        let staff = Principal::parse_with_role("staff:fin", None, Some("finance"));
        let channel = Principal::parse("channel:web", None);
        assert!(is_audited(admin.as_ref(), "POST", 201));
        assert!(is_audited(admin.as_ref(), "PUT", 422));
        assert!(!is_audited(admin.as_ref(), "GET", 200));
        assert!(is_audited(staff.as_ref(), "POST", 403));
        assert!(is_audited(staff.as_ref(), "GET", 403));
        assert!(!is_audited(staff.as_ref(), "GET", 200));
        assert!(!is_audited(channel.as_ref(), "POST", 201));
        assert!(!is_audited(None, "POST", 401));
    }
}
