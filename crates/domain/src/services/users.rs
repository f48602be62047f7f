//! Users: the principals of a tenant, their role, groups and whether they may sign in.

use std::sync::Arc;

use crate::{
    DomainError, Patch, Principal, ResourceKind, Role,
    error::DomainResult,
    ports::{Clock, UserRepository},
    principal::{User, limits},
    services::AuthService,
    validation::Validator,
};

/// Changes to a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    /// A new role.
    pub role: Option<Role>,
    /// New groups (replacing the old ones).
    pub groups: Option<Vec<String>>,
    /// A new display name; `Null` clears it.
    pub display_name: Patch<String>,
    /// Disable or enable the user.
    pub disabled: Option<bool>,
}

/// Reads and manages users; a change applies to the very next request (the authentication cache
/// is cleared).
pub struct UserService {
    users: Arc<dyn UserRepository>,
    auth: Arc<AuthService>,
    clock: Arc<dyn Clock>,
}

impl UserService {
    /// Users over their repository; `auth` is the service whose cache a change clears.
    pub fn new(users: Arc<dyn UserRepository>, auth: Arc<AuthService>, clock: Arc<dyn Clock>) -> Self {
        Self { users, auth, clock }
    }

    /// Refuses a change that would leave the tenant without an enabled administrator (which
    /// nobody but the operator could undo): `id` is the user losing that standing.
    async fn keep_an_admin(&self, tenant: &str, id: &str) -> DomainResult<()> {
        let others = self.users.list(tenant).await?;
        if others.iter().any(|u| u.id != id && !u.disabled && u.role.is_admin()) {
            return Ok(());
        }
        let was_admin = others.iter().any(|u| u.id == id && !u.disabled && u.role.is_admin());
        if was_admin {
            return Err(DomainError::Conflict(
                "this is the tenant's last enabled administrator; make another one first".into(),
            ));
        }
        Ok(())
    }

    /// Records a principal as a user of its tenant unless it is one already (an embedder's
    /// principals, authenticated by its own means); returns the stored user.
    pub async fn ensure(&self, principal: &Principal) -> DomainResult<User> {
        let user = User {
            groups: principal.groups.clone(),
            ..User::new(&principal.tenant, &principal.id, principal.role, self.clock.now())
        };
        self.users.insert_if_absent(&user).await
    }

    /// The tenant's users (administrators only).
    pub async fn list_users(&self, actor: &Principal) -> DomainResult<Vec<User>> {
        actor.require_admin("list users")?;
        self.users.list(&actor.tenant).await
    }

    /// A user of the tenant: oneself, or anyone for administrators.
    pub async fn get_user(&self, actor: &Principal, id: &str) -> DomainResult<User> {
        if actor.id != id && !actor.is_admin() {
            return Err(DomainError::Forbidden("only administrators may read other users".into()));
        }
        self.users.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::User, id))
    }

    /// Changes a user (administrators only; only super administrators touch super administrators; a tenant keeps an enabled administrator).
    pub async fn update_user(&self, actor: &Principal, id: &str, patch: UserPatch) -> DomainResult<User> {
        actor.require_admin("manage users")?;
        let mut user =
            self.users.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::User, id))?;
        let touches_super_admin = patch.role == Some(Role::SuperAdmin) || user.role == Role::SuperAdmin;
        if touches_super_admin && actor.role != Role::SuperAdmin {
            return Err(DomainError::Forbidden(
                "only super administrators may make or change super administrators".into(),
            ));
        }
        let mut v = Validator::new();
        if let Some(groups) = &patch.groups {
            v.check(groups.len() <= limits::GROUPS_MAX, "groups", || format!("at most {} groups", limits::GROUPS_MAX));
            for (i, g) in groups.iter().enumerate() {
                v.text(&format!("groups[{i}]"), g, 1, limits::GROUP_MAX);
            }
        }
        if let Patch::Value(name) = &patch.display_name {
            v.text("display_name", name, 1, limits::DISPLAY_NAME_MAX);
        }
        v.finish()?;
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(groups) = patch.groups {
            user.groups = groups;
        }
        patch.display_name.apply_to(&mut user.display_name);
        if let Some(disabled) = patch.disabled {
            user.disabled = disabled;
        }
        if user.disabled || !user.role.is_admin() {
            self.keep_an_admin(&actor.tenant, id).await?;
        }
        user.updated_at = self.clock.now();
        if !self.users.update(&user).await? {
            return Err(DomainError::not_found(ResourceKind::User, id));
        }
        // Authentications are cached: the changed role or disabled flag applies now.
        self.auth.forget_cached();
        Ok(user)
    }
}
