//! Who is calling: resolved by the authorizer from the bearer token, checked by every handler.

use crate::ids::{ChannelId, FulfillerId};
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
}

impl Principal {
    /// Parses docs/api.md's principal notation: `admin`, `channel:<id>`, `fulfiller:<id>`.
    pub fn parse(s: &str, name: Option<&str>) -> Option<Self> {
        match s.split_once(':') {
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
}
