//! The application side of the access engine: the [`AccessService`] keeps the decision index
//! in step with every write and answers decisions from it. Split by capability:
//!
//! - [`grants`]: grants to users, groups and everyone;
//! - [`rules`]: role rules;
//! - [`check`]: the access check, explained, with the remaining quota;
//! - [`visibility`]: what of a server a principal may see or manage.

pub mod check;
pub mod grants;
pub mod rules;
pub mod visibility;

use std::sync::{Arc, RwLock, atomic::AtomicU64};

pub use check::AccessReport;
pub use grants::{GrantPatch, NewGrant};
pub use rules::RuleInput;

use crate::{
    Principal,
    access::{AccessIndex, AccessLevel, Decision, Quota, ToolRef},
    error::DomainResult,
    ports::{
        CategoryRepository, Clock, GrantRepository, RoleRuleRepository, ServerRepository, ToolRepository,
        ToolkitRepository, UserRepository,
    },
    services::{CatalogueCache, Ports, Settings},
};

/// Decides who may see, call and manage which tool, and manages the grants and rules it decides
/// by. Decisions are read from memory; writes go to storage, then patch the index.
pub struct AccessService {
    grants: Arc<dyn GrantRepository>,
    rules: Arc<dyn RoleRuleRepository>,
    users: Arc<dyn UserRepository>,
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    /// Toolkits, whose memberships the index keeps (a toolkit grant reaches its members).
    toolkits: Arc<dyn ToolkitRepository>,
    /// Category switches, which the index keeps (a disabled category disables its tools).
    categories: Arc<dyn CategoryRepository>,
    catalogue: Arc<CatalogueCache>,
    clock: Arc<dyn Clock>,
    index: RwLock<AccessIndex>,
    /// Bumped by every patch, so a reload that raced with a write starts over.
    generation: AtomicU64,
    /// Where calls under limits are counted.
    quotas: Arc<dyn crate::ports::QuotaLedger>,
    admin_bypass: bool,
    /// Told of every change to the index, so that other replicas reload theirs.
    replicas: Arc<dyn crate::ports::ReplicaBus>,
}

impl AccessService {
    /// The engine over `ports`' grants, rules and users; servers and tools through `catalogue`.
    /// Call [`Self::load`] before the first decision.
    pub fn new(ports: &Ports, catalogue: Arc<CatalogueCache>, settings: &Settings) -> Self {
        Self {
            grants: ports.grants.clone(),
            rules: ports.rules.clone(),
            users: ports.users.clone(),
            servers: catalogue.clone(),
            tools: catalogue.clone(),
            toolkits: ports.toolkits.clone(),
            categories: ports.categories.clone(),
            catalogue,
            clock: ports.clock.clone(),
            index: RwLock::new(AccessIndex::default()),
            generation: AtomicU64::new(0),
            quotas: ports.quotas.clone(),
            admin_bypass: settings.admin_bypass,
            replicas: ports.replicas.clone(),
        }
    }

    /// (Re)builds the index from storage: at start-up, and periodically to see other replicas' writes.
    pub async fn load(&self) -> DomainResult<usize> {
        use std::sync::atomic::Ordering::SeqCst;
        loop {
            let before = self.generation.load(SeqCst);
            let mut index = AccessIndex::new(self.grants.list_all().await?, self.rules.list_all().await?);
            let mut members: std::collections::HashMap<(String, String), Vec<String>> = Default::default();
            for (tenant, tool_id, toolkit_id) in self.toolkits.memberships().await? {
                members.entry((tenant, toolkit_id)).or_default().push(tool_id);
            }
            for ((tenant, toolkit_id), tool_ids) in members {
                index.set_toolkit_members(&tenant, &toolkit_id, &tool_ids);
            }
            for switch in self.categories.list_all().await? {
                index.set_category(&switch.tenant, &switch.name, switch.enabled);
            }
            let count = index.grant_count();
            let mut current = self.index.write().unwrap_or_else(|p| p.into_inner());
            // A write patched the index while we read: our copy may lack it, read again.
            if self.generation.load(SeqCst) == before {
                *current = index;
                drop(current);
                self.catalogue.changes().notify();
                return Ok(count);
            }
        }
    }

    pub(crate) fn patch_index(&self, change: impl FnOnce(&mut AccessIndex)) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        change(&mut index);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        drop(index);
        self.catalogue.changes().notify();
        self.replicas.publish(crate::ports::ReplicaEvent::Access);
    }

    /// Decides from the index, now.
    pub fn decide(&self, principal: &Principal, tool: &ToolRef, required: AccessLevel) -> Decision {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        index.decide(principal, tool, required, self.clock.now(), self.admin_bypass)
    }

    /// Decides with the explanation of each tier (for the access check).
    pub fn explain(&self, principal: &Principal, tool: &ToolRef, required: AccessLevel) -> Decision {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        index.explain(principal, tool, required, self.clock.now(), self.admin_bypass)
    }

    /// Decides whether the principal may use a toolkit itself at the required level (see
    /// [`AccessIndex::decide_toolkit`]).
    pub fn decide_toolkit(&self, principal: &Principal, toolkit_id: &str, required: AccessLevel) -> Decision {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        index.decide_toolkit(principal, toolkit_id, required, self.clock.now(), self.admin_bypass)
    }

    /// Whether a category of the tenant is switched off (its tools are then disabled).
    pub fn category_disabled(&self, tenant: &str, category: &str) -> bool {
        self.index.read().unwrap_or_else(|p| p.into_inner()).category_disabled(tenant, category)
    }

    /// The stored category switches of a tenant, by name.
    pub async fn category_switches(&self, tenant: &str) -> DomainResult<Vec<crate::category::CategorySwitch>> {
        let mut switches: Vec<_> =
            self.categories.list_all().await?.into_iter().filter(|s| s.tenant == tenant).collect();
        switches.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(switches)
    }

    /// Switches a category of the actor's tenant on or off (administrators only): its tools
    /// leave or return to users' listings and calls at once. A category exists while a tool or
    /// server of the tenant is in it.
    pub async fn set_category_enabled(
        &self,
        actor: &Principal,
        category: &str,
        enabled: bool,
    ) -> DomainResult<crate::category::CategorySwitch> {
        if !actor.is_admin() {
            return Err(crate::DomainError::Forbidden("switching a category needs the admin role".into()));
        }
        crate::category::validate_name(category)?;
        let catalogue = self.catalogue.snapshot(&actor.tenant).await?;
        let named = catalogue.servers.iter().any(|s| s.category.as_deref() == Some(category))
            || catalogue.tools.iter().any(|t| t.category.as_deref() == Some(category));
        if !named {
            return Err(crate::DomainError::not_found(crate::ResourceKind::Category, category));
        }
        let switch = crate::category::CategorySwitch {
            tenant: actor.tenant.clone(),
            name: category.to_owned(),
            enabled,
            updated_at: self.clock.now(),
        };
        self.categories.set(&switch).await?;
        self.patch_index(|index| index.set_category(&switch.tenant, &switch.name, enabled));
        Ok(switch)
    }

    /// Whether the principal uses every tool of its tenant without grants (see
    /// [`crate::access::bypasses`]).
    pub fn is_admin(&self, principal: &Principal) -> bool {
        crate::access::bypasses(principal, self.admin_bypass)
    }

    /// Whether the principal may use the tool at the required level.
    pub fn may_use(
        &self,
        principal: &Principal,
        tool: &crate::tool::Tool,
        server: &crate::server::ToolServer,
        required: AccessLevel,
    ) -> bool {
        self.decide(principal, &ToolRef::of(tool, server), required).allowed
    }

    /// Counts again the calls of the last day against the limits of the grants that have
    /// limits, from the call log: at start-up, so that a restart does not reset quotas. Returns
    /// how many calls it counted. Role rules' limits start over (the call log does not name
    /// the deciding rule).
    pub async fn restore_quotas(&self, calls: &dyn crate::ports::CallLogRepository) -> DomainResult<usize> {
        let limited: std::collections::HashMap<String, crate::access::Conditions> = self
            .grants
            .list_all()
            .await?
            .into_iter()
            .filter(|g| g.conditions.rate_limit_per_hour.is_some() || g.conditions.rate_limit_per_day.is_some())
            .map(|g| (g.id, g.conditions))
            .collect();
        let ids: Vec<String> = limited.keys().cloned().collect();
        let counted = calls.counted_calls(&ids, self.clock.now() - chrono::Duration::days(1)).await?;
        for call in &counted {
            if let Some(conditions) = limited.get(&call.grant_id) {
                let key = crate::access::index::grant_quota_key(&call.tenant, &call.principal_id, &call.grant_id);
                self.quotas.restore(&key, conditions, call.called_at);
            }
        }
        Ok(counted.len())
    }

    /// Counts a real call against the deciding grant's or rule's limits (calls, not checks):
    /// the quota left, or `RATE_LIMITED` with the exhausted one.
    pub async fn record_call(&self, principal: &Principal, decision: &Decision) -> DomainResult<Quota> {
        let conditions = &decision.conditions;
        let limited = conditions.rate_limit_per_hour.is_some() || conditions.rate_limit_per_day.is_some();
        let Some(key) = decision.quota_key(principal).filter(|_| limited) else { return Ok(Quota::default()) };
        self.quotas.take(&key, conditions, self.clock.now()).await?.map_err(crate::DomainError::RateLimited)
    }

    /// What is left of the deciding grant's or rule's limits, counting nothing.
    pub(crate) async fn remaining_quota(&self, principal: &Principal, decision: &Decision) -> DomainResult<Quota> {
        match decision.quota_key(principal) {
            Some(key) => self.quotas.remaining(&key, &decision.conditions, self.clock.now()).await,
            None => Ok(Quota::default()),
        }
    }

    /// Forgets counted calls older than a day (nothing older counts); how many.
    pub async fn prune_quotas(&self) -> DomainResult<u64> {
        self.quotas.prune(self.clock.now() - chrono::Duration::days(1)).await
    }
}
