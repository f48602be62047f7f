//! Who is asking: principals (users, services) with a role, groups and a tenant.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{DomainError, Timestamp};

/// The tenant every resource belongs to unless another is named.
pub const DEFAULT_TENANT: &str = "default";

/// Roles, least to most privileged; the wire names are the API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Guest,
    User,
    PowerUser,
    Admin,
    SuperAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [Self::Guest, Self::User, Self::PowerUser, Self::Admin, Self::SuperAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::User => "user",
            Self::PowerUser => "power_user",
            Self::Admin => "admin",
            Self::SuperAdmin => "super_admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::invalid("role", format!("unknown role '{s}'")))
    }
}

/// An authenticated caller, as the domain sees it for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token subject; the user id.
    pub id: String,
    /// The tenant this request acts in (a super admin may act in another than its own).
    pub tenant: String,
    pub role: Role,
    pub groups: Vec<String>,
}

impl Principal {
    /// Admins manage their own tenant; super admins any tenant they act in.
    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }

    pub fn require_admin(&self, action: &str) -> Result<(), DomainError> {
        if self.is_admin() { Ok(()) } else { Err(DomainError::Forbidden(format!("only administrators may {action}"))) }
    }
}

/// A known user: created on first authenticated request, or by an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub tenant: String,
    pub id: String,
    pub role: Role,
    pub groups: Vec<String>,
    pub display_name: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert!(Role::SuperAdmin > Role::Admin && Role::Admin > Role::PowerUser);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_pass_require_admin() {
        let mut p = Principal { id: "u".into(), tenant: DEFAULT_TENANT.into(), role: Role::PowerUser, groups: vec![] };
        assert!(matches!(p.require_admin("x"), Err(DomainError::Forbidden(_))));
        p.role = Role::Admin;
        assert!(p.require_admin("x").is_ok());
    }
}
