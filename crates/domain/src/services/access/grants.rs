//! Grants: who may do what with one tool or server.

use super::AccessService;
use crate::{
    DomainError, Patch, Principal, ResourceKind, Timestamp,
    access::{AccessLevel, Conditions, Grant, Subject, Target},
    error::DomainResult,
    ports::GrantFilter,
    validation::Validator,
};

/// A grant to make.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrant {
    /// Who it is for.
    pub subject: Subject,
    /// What it covers.
    pub target: Target,
    /// What it allows; `none` denies.
    pub access_level: AccessLevel,
    /// Its quotas and time windows.
    pub conditions: Conditions,
    /// When it stops applying.
    pub expires_at: Option<Timestamp>,
}

/// Changes to a grant; absent fields stay, `Null` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrantPatch {
    /// A new level.
    pub access_level: Option<AccessLevel>,
    /// A new hourly quota; `Null` removes it.
    pub rate_limit_per_hour: Patch<u32>,
    /// A new daily quota; `Null` removes it.
    pub rate_limit_per_day: Patch<u32>,
    /// New hours; `Null` means always.
    pub allowed_hours: Patch<Vec<u8>>,
    /// New days; `Null` means always.
    pub allowed_days: Patch<Vec<u8>>,
    /// A new expiry; `Null` removes it.
    pub expires_at: Patch<Timestamp>,
}

impl AccessService {
    async fn check_target(&self, tenant: &str, target: &Target) -> DomainResult<()> {
        let (exists, kind, id) = match target {
            Target::Tool(id) => (self.tools.get(tenant, id).await?.is_some(), ResourceKind::Tool, id),
            Target::Server(id) => (self.servers.get(tenant, id).await?.is_some(), ResourceKind::ToolServer, id),
            Target::Toolkit(id) => (self.toolkits.get(tenant, id).await?.is_some(), ResourceKind::Toolkit, id),
        };
        if exists { Ok(()) } else { Err(DomainError::not_found(kind, id)) }
    }

    /// Makes a grant (administrators only); its target must exist in the tenant.
    pub async fn grant(&self, actor: &Principal, input: NewGrant) -> DomainResult<Grant> {
        actor.require_admin("grant access")?;
        let mut v = Validator::new();
        input.conditions.validate(&mut v);
        v.finish()?;
        self.check_target(&actor.tenant, &input.target).await?;
        let grant = Grant {
            conditions: input.conditions,
            expires_at: input.expires_at,
            ..Grant::new(&actor.tenant, input.subject, input.target, input.access_level, &actor.id, self.clock.now())
        };
        match self.grants.insert(&grant).await {
            Err(DomainError::Conflict(_)) => {
                return Err(DomainError::Conflict(format!("{} already has a grant on that target", grant.subject)));
            }
            other => other?,
        }
        self.patch_index(|i| i.put_grant(grant.clone()));
        Ok(grant)
    }

    /// A grant of the tenant: administrators see any, others their own.
    pub async fn get_grant(&self, actor: &Principal, id: &str) -> DomainResult<Grant> {
        let grant = self
            .grants
            .get(&actor.tenant, id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::Permission, id))?;
        if !actor.is_admin() && grant.subject != Subject::User(actor.id.clone()) {
            return Err(DomainError::not_found(ResourceKind::Permission, id));
        }
        Ok(grant)
    }

    /// Changes a grant (administrators only).
    pub async fn update_grant(&self, actor: &Principal, id: &str, patch: GrantPatch) -> DomainResult<Grant> {
        actor.require_admin("change grants")?;
        let mut grant = self.get_grant(actor, id).await?;
        if let Some(level) = patch.access_level {
            grant.access_level = level;
        }
        patch.rate_limit_per_hour.apply_to(&mut grant.conditions.rate_limit_per_hour);
        patch.rate_limit_per_day.apply_to(&mut grant.conditions.rate_limit_per_day);
        patch.allowed_hours.apply_to(&mut grant.conditions.allowed_hours);
        patch.allowed_days.apply_to(&mut grant.conditions.allowed_days);
        patch.expires_at.apply_to(&mut grant.expires_at);
        let mut v = Validator::new();
        grant.conditions.validate(&mut v);
        v.finish()?;
        grant.updated_at = self.clock.now();
        if !self.grants.update(&grant).await? {
            return Err(DomainError::not_found(ResourceKind::Permission, id));
        }
        self.patch_index(|i| i.put_grant(grant.clone()));
        Ok(grant)
    }

    /// Deletes a grant (administrators only).
    pub async fn revoke(&self, actor: &Principal, id: &str) -> DomainResult<()> {
        actor.require_admin("revoke grants")?;
        if !self.grants.delete(&actor.tenant, id).await? {
            return Err(DomainError::not_found(ResourceKind::Permission, id));
        }
        self.patch_index(|i| i.remove_grant(&actor.tenant, id));
        Ok(())
    }

    /// The tenant's grants matching `filter` and `query`, and how many match (administrators
    /// only; the database filters, sorts and pages).
    pub async fn list_grants(
        &self,
        actor: &Principal,
        filter: &GrantFilter,
        query: &crate::query::ListQuery,
    ) -> DomainResult<(Vec<Grant>, u64)> {
        actor.require_admin("list grants")?;
        self.grants.query(&actor.tenant, &filter.into_query(query.clone())).await
    }

    /// A user's own grants (the seed's permissions); users may read their own.
    pub async fn user_permissions(&self, actor: &Principal, user_id: &str) -> DomainResult<Vec<Grant>> {
        if actor.id != user_id && !actor.is_admin() {
            return Err(DomainError::Forbidden("only administrators may read another user's permissions".into()));
        }
        let filter = GrantFilter { subject: Some(Subject::User(user_id.to_owned())), target: None };
        self.grants.list(&actor.tenant, &filter).await
    }

    /// The grants on one target (administrators, or those the caller checked may share it).
    pub async fn grants_on(&self, tenant: &str, target: &Target) -> DomainResult<Vec<Grant>> {
        let filter = GrantFilter { subject: None, target: Some(target.clone()) };
        self.grants.list(tenant, &filter).await
    }

    /// Replaces every grant on a server with `grants`, as a sharing dialog does
    /// (administrators only, as every grant on a server is).
    pub async fn share_server(
        &self,
        actor: &Principal,
        server_id: &str,
        grants: Vec<(Subject, AccessLevel)>,
    ) -> DomainResult<Vec<Grant>> {
        actor.require_admin("share tool servers")?;
        self.replace_grants(actor, Target::Server(server_id.to_owned()), grants).await
    }

    /// Replaces every grant on `target` with `grants`: one per subject (the highest level a
    /// subject is given wins), without conditions. Checked whole before anything changes.
    /// Callers decide who may share the target.
    pub(crate) async fn replace_grants(
        &self,
        actor: &Principal,
        target: Target,
        grants: Vec<(Subject, AccessLevel)>,
    ) -> DomainResult<Vec<Grant>> {
        self.check_target(&actor.tenant, &target).await?;
        let mut levels: Vec<(Subject, AccessLevel)> = Vec::new();
        for (subject, level) in grants {
            match levels.iter_mut().find(|(s, _)| *s == subject) {
                Some((_, kept)) => *kept = (*kept).max(level),
                None => levels.push((subject, level)),
            }
        }
        let removed: Vec<String> = self.grants.delete_for_targets(&actor.tenant, std::slice::from_ref(&target)).await?;
        let now = self.clock.now();
        let mut made = Vec::new();
        for (subject, level) in levels {
            let grant = Grant::new(&actor.tenant, subject, target.clone(), level, &actor.id, now);
            self.grants.insert(&grant).await?;
            made.push(grant);
        }
        self.patch_index(|i| {
            removed.iter().for_each(|id| i.remove_grant(&actor.tenant, id));
            made.iter().for_each(|g| i.put_grant(g.clone()));
        });
        Ok(made)
    }

    /// Forgets the grants on a deleted server and its tools, and the tools' places in toolkits.
    pub async fn forget_server(&self, tenant: &str, server_id: &str, tool_ids: &[String]) -> DomainResult<()> {
        let mut targets = vec![Target::Server(server_id.to_owned())];
        targets.extend(tool_ids.iter().map(|id| Target::Tool(id.clone())));
        let removed = self.grants.delete_for_targets(tenant, &targets).await?;
        self.toolkits.delete_references(tenant, tool_ids).await?;
        self.patch_index(|i| {
            removed.iter().for_each(|id| i.remove_grant(tenant, id));
            i.forget_tools(tenant, tool_ids);
        });
        Ok(())
    }

    /// Forgets the grants on a deleted toolkit and its memberships.
    pub(crate) async fn forget_toolkit(&self, tenant: &str, toolkit_id: &str) -> DomainResult<()> {
        let removed = self.grants.delete_for_targets(tenant, &[Target::Toolkit(toolkit_id.to_owned())]).await?;
        self.patch_index(|i| {
            removed.iter().for_each(|id| i.remove_grant(tenant, id));
            i.set_toolkit_members(tenant, toolkit_id, &[]);
        });
        Ok(())
    }

    /// The grants on a toolkit.
    pub(crate) async fn toolkit_grants(&self, tenant: &str, toolkit_id: &str) -> DomainResult<Vec<Grant>> {
        let filter = GrantFilter { subject: None, target: Some(Target::Toolkit(toolkit_id.to_owned())) };
        self.grants.list(tenant, &filter).await
    }
}
