//! Who is asking: principals (users, services) with a role, groups and a tenant.

use crate::{DomainError, Timestamp};

/// Limits of users.
pub mod limits {
    /// Groups of one user.
    pub const GROUPS_MAX: usize = 100;
    /// Characters of a group name.
    pub const GROUP_MAX: usize = 100;
    /// Characters of a display name.
    pub const DISPLAY_NAME_MAX: usize = 200;
    /// Characters of a tenant's name.
    pub const TENANT_MAX: usize = 100;
}

/// Whether `name` can name a tenant: 1 to [`limits::TENANT_MAX`] characters, none of them
/// whitespace or control characters.
pub fn is_tenant_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= limits::TENANT_MAX
        && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The tenant every resource belongs to unless another is named.
pub const DEFAULT_TENANT: &str = "default";

crate::wire_enum! {
    /// Roles, least to most privileged; the wire names are the API's.
    Role { Guest = "guest", User = "user", PowerUser = "power_user", Admin = "admin", SuperAdmin = "super_admin" }
}

impl Role {
    /// Administrators and super administrators.
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}

/// An authenticated caller, as the domain sees it for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token subject; the user id.
    pub id: String,
    /// The tenant this request acts in (a super admin may act in another than its own).
    pub tenant: String,
    /// Its role (for API keys, the key's; for JWTs, the claims').
    pub role: Role,
    /// Its groups, as grants to groups match them.
    pub groups: Vec<String>,
}

impl Principal {
    /// Admins manage their own tenant; super admins any tenant they act in.
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    /// The same principal acting in `tenant`: only super administrators may act in another
    /// tenant than their own, and a tenant is named by 1 to 100 visible characters.
    pub fn act_in(mut self, tenant: &str) -> Result<Self, DomainError> {
        if tenant == self.tenant {
            return Ok(self);
        }
        if self.role != Role::SuperAdmin {
            return Err(DomainError::Forbidden("only super administrators may act in another tenant".into()));
        }
        if !is_tenant_name(tenant) {
            return Err(DomainError::invalid("x-tenant", "must be 1 to 100 visible characters"));
        }
        self.tenant = tenant.to_owned();
        Ok(self)
    }

    /// Refuses (403) anyone but an administrator, saying what needed one.
    pub fn require_admin(&self, action: &str) -> Result<(), DomainError> {
        if self.is_admin() { Ok(()) } else { Err(DomainError::Forbidden(format!("only administrators may {action}"))) }
    }
}

/// A known user: created on first authenticated request, or by an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The tenant it belongs to.
    pub tenant: String,
    /// The user's id (the token subject).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Its groups.
    pub groups: Vec<String>,
    /// A name for people.
    pub display_name: Option<String>,
    /// A disabled user's credentials are refused.
    pub disabled: bool,
    /// When Toolhub first saw or made it.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// A user first seen now: enabled, with no groups an administrator gave and no name.
    pub fn new(tenant: impl Into<String>, id: impl Into<String>, role: Role, now: Timestamp) -> Self {
        Self {
            tenant: tenant.into(),
            id: id.into(),
            role,
            groups: Vec::new(),
            display_name: None,
            disabled: false,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
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
