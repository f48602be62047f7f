//! Grants, role rules, users, the access check, and visibility: the application side of the
//! access engine. Decisions come from the in-memory index, patched on every write here.

use std::sync::{Arc, RwLock};

use crate::{
    DomainError, Patch, Principal, ResourceKind, Role, Timestamp,
    access::{
        AccessIndex, AccessLevel, Conditions, Decision, Grant, Quota, RoleRule, Subject, Target, ToolRef,
        UsageCounters, validate_pattern,
    },
    error::DomainResult,
    new_id,
    ports::{
        Clock, GrantFilter, GrantRepository, RoleRuleRepository, ServerRepository, ToolRepository, UserRepository,
    },
    principal::User,
    server::{ServerStatus, ToolServer},
    tool::{Tool, ToolStatus},
    validation::Validator,
};

/// A grant to make.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrant {
    pub subject: Subject,
    pub target: Target,
    pub access_level: AccessLevel,
    pub conditions: Conditions,
    pub expires_at: Option<Timestamp>,
}

/// Changes to a grant; absent fields stay, `Null` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrantPatch {
    pub access_level: Option<AccessLevel>,
    pub rate_limit_per_hour: Patch<u32>,
    pub rate_limit_per_day: Patch<u32>,
    pub allowed_hours: Patch<Vec<u8>>,
    pub allowed_days: Patch<Vec<u8>>,
    pub expires_at: Patch<Timestamp>,
}

/// A role rule to make, or the new content of one.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInput {
    pub role: Role,
    pub tool_pattern: Option<String>,
    pub server_pattern: Option<String>,
    pub access_level: AccessLevel,
    pub conditions: Conditions,
}

/// Changes to a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub role: Option<Role>,
    pub groups: Option<Vec<String>>,
    pub display_name: Patch<String>,
    pub disabled: Option<bool>,
}

/// The answer of the access check.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessReport {
    pub decision: Decision,
    pub quota: Quota,
}

pub struct AccessService {
    grants: Arc<dyn GrantRepository>,
    rules: Arc<dyn RoleRuleRepository>,
    users: Arc<dyn UserRepository>,
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    clock: Arc<dyn Clock>,
    index: RwLock<AccessIndex>,
    /// Bumped by every patch, so a reload that raced with a write starts over.
    generation: std::sync::atomic::AtomicU64,
    counters: UsageCounters,
    admin_bypass: bool,
}

fn tool_ref<'a>(tool: &'a Tool, server: &'a ToolServer) -> ToolRef<'a> {
    ToolRef {
        tool_id: &tool.id,
        tool_name: &tool.name,
        server_id: &server.id,
        server_name: &server.name,
        tool_usable: tool.status == ToolStatus::Enabled && tool.is_available,
        server_usable: server.status == ServerStatus::Enabled,
    }
}

/// A server as the target of server-level grants and rules (no tool).
fn server_ref(server: &ToolServer) -> ToolRef<'_> {
    ToolRef {
        tool_id: "",
        tool_name: "",
        server_id: &server.id,
        server_name: &server.name,
        tool_usable: true,
        server_usable: true,
    }
}

impl AccessService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        grants: Arc<dyn GrantRepository>,
        rules: Arc<dyn RoleRuleRepository>,
        users: Arc<dyn UserRepository>,
        servers: Arc<dyn ServerRepository>,
        tools: Arc<dyn ToolRepository>,
        clock: Arc<dyn Clock>,
        admin_bypass: bool,
    ) -> Self {
        Self {
            grants,
            rules,
            users,
            servers,
            tools,
            clock,
            index: RwLock::new(AccessIndex::default()),
            generation: std::sync::atomic::AtomicU64::new(0),
            counters: UsageCounters::default(),
            admin_bypass,
        }
    }

    /// (Re)builds the index from storage: at start-up, and periodically to see other replicas' writes.
    pub async fn load(&self) -> DomainResult<usize> {
        use std::sync::atomic::Ordering::SeqCst;
        loop {
            let before = self.generation.load(SeqCst);
            let index = AccessIndex::new(self.grants.list_all().await?, self.rules.list_all().await?);
            let count = index.grant_count();
            let mut current = self.index.write().unwrap_or_else(|p| p.into_inner());
            // A write patched the index while we read: our copy may lack it, read again.
            if self.generation.load(SeqCst) == before {
                *current = index;
                return Ok(count);
            }
        }
    }

    fn patch_index(&self, change: impl FnOnce(&mut AccessIndex)) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        change(&mut index);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn decide(&self, principal: &Principal, tool: &ToolRef, required: AccessLevel) -> Decision {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        index.decide(principal, tool, required, self.clock.now(), self.admin_bypass)
    }

    /// Decides with the explanation of each tier (for the access check).
    pub fn explain(&self, principal: &Principal, tool: &ToolRef, required: AccessLevel) -> Decision {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        index.explain(principal, tool, required, self.clock.now(), self.admin_bypass)
    }

    pub fn is_admin(&self, principal: &Principal) -> bool {
        crate::access::bypasses(principal, self.admin_bypass)
    }

    pub fn may_use(&self, principal: &Principal, tool: &Tool, server: &ToolServer, required: AccessLevel) -> bool {
        self.decide(principal, &tool_ref(tool, server), required).allowed
    }

    /// Administrators, and holders of `admin` on the server, manage it and its tools.
    pub fn may_manage(&self, principal: &Principal, server: &ToolServer) -> bool {
        self.is_admin(principal) || self.decide(principal, &server_ref(server), AccessLevel::Admin).allowed
    }

    pub fn require_manage(&self, principal: &Principal, server: &ToolServer) -> DomainResult<()> {
        if self.may_manage(principal, server) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "managing '{}' needs the admin role or admin access to it",
                server.name
            )))
        }
    }

    /// A server is visible to whoever may read it or any of its tools.
    pub fn may_see_server(&self, principal: &Principal, server: &ToolServer, tools: &[Tool]) -> bool {
        self.is_admin(principal)
            || self.decide(principal, &server_ref(server), AccessLevel::Read).allowed
            || tools.iter().any(|t| self.may_use(principal, t, server, AccessLevel::Read))
    }

    /// What of a server the principal may see: nothing (`None`), or the tools it may read (all
    /// of them for administrators). One decision per tool.
    pub fn visible_tools(&self, principal: &Principal, server: &ToolServer, tools: Vec<Tool>) -> Option<Vec<Tool>> {
        if self.is_admin(principal) {
            return Some(tools);
        }
        let readable: Vec<Tool> =
            tools.into_iter().filter(|t| self.may_use(principal, t, server, AccessLevel::Read)).collect();
        let visible = !readable.is_empty() || self.decide(principal, &server_ref(server), AccessLevel::Read).allowed;
        visible.then_some(readable)
    }

    /// Counts a real call against the deciding grant's or rule's limits (calls, not checks).
    pub fn record_call(&self, principal: &Principal, decision: &Decision) -> Result<Quota, Quota> {
        match decision.quota_key(principal) {
            Some(key) => self.counters.record(&key, &decision.conditions, self.clock.now()),
            None => Ok(Quota::default()),
        }
    }
}

/// Authorizes managing a server: through the access engine when there is one, else admins only.
pub fn require_manage(access: Option<&AccessService>, actor: &Principal, server: &ToolServer) -> DomainResult<()> {
    match access {
        Some(access) => access.require_manage(actor, server),
        None => actor.require_admin("manage tool servers"),
    }
}

impl AccessService {
    // ---- grants

    async fn check_target(&self, tenant: &str, target: &Target) -> DomainResult<()> {
        let exists = match target {
            Target::Tool(id) => self.tools.get(tenant, id).await?.is_some(),
            Target::Server(id) => self.servers.get(tenant, id).await?.is_some(),
        };
        if exists {
            Ok(())
        } else {
            let (kind, id) = match target {
                Target::Tool(id) => (ResourceKind::Tool, id),
                Target::Server(id) => (ResourceKind::ToolServer, id),
            };
            Err(DomainError::not_found(kind, id))
        }
    }

    pub async fn grant(&self, actor: &Principal, input: NewGrant) -> DomainResult<Grant> {
        actor.require_admin("grant access")?;
        let mut v = Validator::new();
        input.conditions.validate(&mut v);
        v.finish()?;
        self.check_target(&actor.tenant, &input.target).await?;
        let now = self.clock.now();
        let grant = Grant {
            id: new_id(),
            tenant: actor.tenant.clone(),
            subject: input.subject,
            target: input.target,
            access_level: input.access_level,
            conditions: input.conditions,
            expires_at: input.expires_at,
            granted_by: actor.id.clone(),
            granted_at: now,
            updated_at: now,
            usage_count: 0,
            last_used: None,
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

    pub async fn get_grant(&self, actor: &Principal, id: &str) -> DomainResult<Grant> {
        let grant = self
            .grants
            .get(&actor.tenant, id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::Permission, id))?;
        if !self.is_admin(actor) && grant.subject != Subject::User(actor.id.clone()) {
            return Err(DomainError::not_found(ResourceKind::Permission, id));
        }
        Ok(grant)
    }

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

    pub async fn revoke(&self, actor: &Principal, id: &str) -> DomainResult<()> {
        actor.require_admin("revoke grants")?;
        if !self.grants.delete(&actor.tenant, id).await? {
            return Err(DomainError::not_found(ResourceKind::Permission, id));
        }
        self.patch_index(|i| i.remove_grant(&actor.tenant, id));
        Ok(())
    }

    pub async fn list_grants(&self, actor: &Principal, filter: &GrantFilter) -> DomainResult<Vec<Grant>> {
        actor.require_admin("list grants")?;
        self.grants.list(&actor.tenant, filter).await
    }

    /// A user's own grants (the seed's permissions); users may read their own.
    pub async fn user_permissions(&self, actor: &Principal, user_id: &str) -> DomainResult<Vec<Grant>> {
        if actor.id != user_id && !self.is_admin(actor) {
            return Err(DomainError::Forbidden("only administrators may read another user's permissions".into()));
        }
        let filter = GrantFilter { subject: Some(Subject::User(user_id.to_owned())), target: None };
        self.grants.list(&actor.tenant, &filter).await
    }

    /// Forgets the grants on a deleted server and its tools.
    pub async fn forget_server(&self, tenant: &str, server_id: &str, tool_ids: &[String]) -> DomainResult<()> {
        let mut targets = vec![Target::Server(server_id.to_owned())];
        targets.extend(tool_ids.iter().map(|id| Target::Tool(id.clone())));
        let removed = self.grants.delete_for_targets(tenant, &targets).await?;
        self.patch_index(|i| removed.iter().for_each(|id| i.remove_grant(tenant, id)));
        Ok(())
    }

    // ---- role rules

    fn validate_rule(input: &RuleInput) -> DomainResult<()> {
        let mut v = Validator::new();
        validate_pattern(&mut v, "tool_pattern", &input.tool_pattern);
        validate_pattern(&mut v, "server_pattern", &input.server_pattern);
        input.conditions.validate(&mut v);
        v.finish()
    }

    pub async fn create_rule(&self, actor: &Principal, input: RuleInput) -> DomainResult<RoleRule> {
        actor.require_admin("create role access rules")?;
        Self::validate_rule(&input)?;
        let now = self.clock.now();
        let rule = RoleRule {
            id: new_id(),
            tenant: actor.tenant.clone(),
            role: input.role,
            tool_pattern: input.tool_pattern,
            server_pattern: input.server_pattern,
            access_level: input.access_level,
            conditions: input.conditions,
            created_by: actor.id.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.rules.insert(&rule).await {
            Err(DomainError::Conflict(_)) => {
                return Err(DomainError::Conflict("a rule for that role and patterns exists".into()));
            }
            other => other?,
        }
        self.patch_index(|i| i.put_rule(rule.clone()));
        Ok(rule)
    }

    pub async fn update_rule(&self, actor: &Principal, id: &str, input: RuleInput) -> DomainResult<RoleRule> {
        actor.require_admin("change role access rules")?;
        Self::validate_rule(&input)?;
        let mut rule = self
            .rules
            .get(&actor.tenant, id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::RoleRule, id))?;
        rule.role = input.role;
        rule.tool_pattern = input.tool_pattern;
        rule.server_pattern = input.server_pattern;
        rule.access_level = input.access_level;
        rule.conditions = input.conditions;
        rule.updated_at = self.clock.now();
        match self.rules.update(&rule).await {
            Ok(true) => {}
            Ok(false) => return Err(DomainError::not_found(ResourceKind::RoleRule, id)),
            Err(DomainError::Conflict(_)) => {
                return Err(DomainError::Conflict("a rule for that role and patterns exists".into()));
            }
            Err(e) => return Err(e),
        }
        self.patch_index(|i| i.put_rule(rule.clone()));
        Ok(rule)
    }

    pub async fn delete_rule(&self, actor: &Principal, id: &str) -> DomainResult<()> {
        actor.require_admin("delete role access rules")?;
        if !self.rules.delete(&actor.tenant, id).await? {
            return Err(DomainError::not_found(ResourceKind::RoleRule, id));
        }
        self.patch_index(|i| i.remove_rule(&actor.tenant, id));
        Ok(())
    }

    pub async fn list_rules(&self, actor: &Principal, role: Option<Role>) -> DomainResult<Vec<RoleRule>> {
        actor.require_admin("list role access rules")?;
        self.rules.list(&actor.tenant, role).await
    }

    // ---- the access check

    /// The principal a user id stands for: its stored role and groups, or a plain `user`
    /// for someone not seen yet (grants may come before the first sign-in).
    pub async fn principal_of(&self, tenant: &str, user_id: &str) -> DomainResult<Principal> {
        Ok(match self.users.get(tenant, user_id).await? {
            Some(user) => Principal { id: user.id, tenant: user.tenant, role: user.role, groups: user.groups },
            None => {
                Principal { id: user_id.to_owned(), tenant: tenant.to_owned(), role: Role::User, groups: Vec::new() }
            }
        })
    }

    /// What a call by `user_id` to the named tool would get now; counts nothing.
    pub async fn check(
        &self,
        actor: &Principal,
        user_id: &str,
        tool_name: &str,
        server_name: Option<&str>,
    ) -> DomainResult<AccessReport> {
        let subject = if actor.id == user_id {
            actor.clone()
        } else if self.is_admin(actor) {
            self.principal_of(&actor.tenant, user_id).await?
        } else {
            return Err(DomainError::Forbidden("only administrators may check another user's access".into()));
        };
        let (tool, server) = self.find_tool(&actor.tenant, tool_name, server_name).await?;
        let decision = self.explain(&subject, &tool_ref(&tool, &server), AccessLevel::Execute);
        let quota =
            self.counters.remaining(decision.quota_key(&subject).as_deref(), &decision.conditions, self.clock.now());
        Ok(AccessReport { decision, quota })
    }

    /// Finds a tool by name (and server name); see [`super::catalogue::find_tool`].
    pub async fn find_tool(
        &self,
        tenant: &str,
        tool_name: &str,
        server_name: Option<&str>,
    ) -> DomainResult<(Tool, ToolServer)> {
        super::catalogue::find_tool(&*self.servers, &*self.tools, tenant, tool_name, server_name).await
    }

    // ---- users

    pub async fn list_users(&self, actor: &Principal) -> DomainResult<Vec<User>> {
        actor.require_admin("list users")?;
        self.users.list(&actor.tenant).await
    }

    pub async fn get_user(&self, actor: &Principal, id: &str) -> DomainResult<User> {
        if actor.id != id && !self.is_admin(actor) {
            return Err(DomainError::Forbidden("only administrators may read other users".into()));
        }
        self.users.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::User, id))
    }

    pub async fn update_user(&self, actor: &Principal, id: &str, patch: UserPatch) -> DomainResult<User> {
        actor.require_admin("manage users")?;
        if patch.role == Some(Role::SuperAdmin) && actor.role != Role::SuperAdmin {
            return Err(DomainError::Forbidden("only super administrators may make super administrators".into()));
        }
        let mut user =
            self.users.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::User, id))?;
        let mut v = Validator::new();
        if let Some(groups) = &patch.groups {
            v.check(groups.len() <= 100, "groups", || "at most 100 groups".into());
            for (i, g) in groups.iter().enumerate() {
                v.text(&format!("groups[{i}]"), g, 1, 100);
            }
        }
        if let Patch::Value(name) = &patch.display_name {
            v.text("display_name", name, 1, 200);
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
        user.updated_at = self.clock.now();
        if !self.users.update(&user).await? {
            return Err(DomainError::not_found(ResourceKind::User, id));
        }
        Ok(user)
    }
}
