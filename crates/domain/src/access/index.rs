//! The decision index: every tenant's grants and rules in memory, and the one decision function.

use std::{borrow::Cow, sync::Arc};

use super::{AccessLevel, Conditions, Grant, Moment, RoleRule, Subject, Target, Window};
use crate::{Principal, Role, Timestamp};

/// Super administrators, and administrators while admin bypass is on, need no grant.
pub fn bypasses(principal: &Principal, admin_bypass: bool) -> bool {
    principal.role == Role::SuperAdmin || (principal.role == Role::Admin && admin_bypass)
}

/// The tool a decision is about, with what the decision needs to know of it.
#[derive(Debug, Clone, Copy)]
pub struct ToolRef<'a> {
    /// The tool's id (empty for a decision about the server itself).
    pub tool_id: &'a str,
    /// The tool's name, as role rules match it.
    pub tool_name: &'a str,
    /// The server's id.
    pub server_id: &'a str,
    /// The server's name, as role rules match it.
    pub server_name: &'a str,
    /// The tool is enabled and available.
    pub tool_usable: bool,
    /// The server is running (or built in).
    pub server_usable: bool,
    /// The tool's category (its own, else its server's): a disabled one makes it unusable.
    pub category: Option<&'a str>,
}

impl<'a> ToolRef<'a> {
    /// A tool of a server, usable when the tool is enabled and available and the server runs.
    pub fn of(tool: &'a crate::tool::Tool, server: &'a crate::server::ToolServer) -> Self {
        use crate::{server::ServerStatus, tool::ToolStatus};
        Self {
            tool_id: &tool.id,
            tool_name: &tool.name,
            server_id: &server.id,
            server_name: &server.name,
            tool_usable: tool.status == ToolStatus::Enabled && tool.is_available,
            server_usable: server.status == ServerStatus::Enabled,
            category: crate::category::category_of(tool, server),
        }
    }

    /// A server as the target of server-level grants and rules (no tool; its state ignored).
    pub fn server(server: &'a crate::server::ToolServer) -> Self {
        Self {
            tool_id: "",
            tool_name: "",
            server_id: &server.id,
            server_name: &server.name,
            tool_usable: true,
            server_usable: true,
            category: None,
        }
    }

    /// The same tool for a decision on permission alone: its state and category ignored.
    pub fn permission_only(self) -> Self {
        Self { tool_usable: true, server_usable: true, category: None, ..self }
    }
}

/// What decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecidedBy {
    /// The principal is an administrator (see [`bypasses`]).
    Admin,
    /// A grant of this tier (`user+tool`, `user+server`, `user+toolkit`, `group+tool`,
    /// `group+server`, `group+toolkit`, `public`).
    Grant {
        /// The grant.
        id: String,
        /// Its tier.
        tier: &'static str,
    },
    /// A role rule.
    RoleRule {
        /// The rule.
        id: String,
    },
    /// The tool or server is not usable.
    Unavailable,
    /// No tier holds an applicable grant or rule.
    NoGrant,
    /// The user checked does not exist.
    UnknownUser,
}

/// A decision, with the reason and the quota rules of what decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Whether the required level is reached.
    pub allowed: bool,
    /// The level decided (`none` when nothing gave access).
    pub level: AccessLevel,
    /// Why access is refused (static text on the hot path: most decisions deny).
    pub reason: Option<Cow<'static, str>>,
    /// What decided.
    pub decided_by: DecidedBy,
    /// The quotas and windows of what decided.
    pub conditions: Conditions,
    /// When the deciding grant expires.
    pub expires_at: Option<Timestamp>,
    /// Why each tier did or did not decide, in order.
    pub explanation: Vec<String>,
}

impl Decision {
    /// The answer for a user that does not exist: not allowed.
    pub fn unknown_user() -> Self {
        Self {
            allowed: false,
            level: AccessLevel::None,
            reason: Some(Cow::Borrowed("User not found")),
            decided_by: DecidedBy::UnknownUser,
            conditions: Conditions::default(),
            expires_at: None,
            explanation: vec!["no such user in this tenant".into()],
        }
    }

    /// The key its rate-limit counters are kept under (per principal and grant or rule).
    pub fn quota_key(&self, principal: &Principal) -> Option<String> {
        match &self.decided_by {
            DecidedBy::Grant { id, .. } => Some(grant_quota_key(&principal.tenant, &principal.id, id)),
            DecidedBy::RoleRule { id } => Some(format!("{}:{}:rule:{id}", principal.tenant, principal.id)),
            _ => None,
        }
    }
}

/// The key of a principal's calls under a grant's limits.
pub fn grant_quota_key(tenant: &str, principal: &str, grant: &str) -> String {
    format!("{tenant}:{principal}:grant:{grant}")
}

/// Maps of the index: keys are short names and ids, hashed many times per decision, so a fast
/// hash (foldhash, seeded per process) rather than SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The grants on one target (a tool or a server), by subject: a principal's candidates are
/// found by key, never by scanning the target's grants.
#[derive(Debug, Default, Clone)]
struct GrantsOn {
    users: HashMap<String, Vec<Entry>>,
    groups: HashMap<String, Vec<Entry>>,
    public: Vec<Entry>,
}

/// A grant as decisions weigh it: what they test kept inline (level, expiry, window as bit
/// masks), so only the deciding grant is read from the heap.
#[derive(Debug, Clone)]
struct Entry {
    level: AccessLevel,
    expires_at: Option<Timestamp>,
    window: Window,
    grant: Arc<Grant>,
}

impl Entry {
    fn new(grant: Grant) -> Self {
        Self {
            level: grant.access_level,
            expires_at: grant.expires_at,
            window: grant.conditions.window(),
            grant: Arc::new(grant),
        }
    }
}

impl GrantsOn {
    fn slot(&mut self, subject: &Subject) -> &mut Vec<Entry> {
        match subject {
            Subject::User(id) => self.users.entry(id.clone()).or_default(),
            Subject::Group(name) => self.groups.entry(name.clone()).or_default(),
            Subject::Public => &mut self.public,
        }
    }

    fn of_user(&self, id: &str) -> &[Entry] {
        self.users.get(id).map(Vec::as_slice).unwrap_or_default()
    }

    fn of_groups<'a>(&'a self, groups: &'a [String]) -> impl Iterator<Item = &'a Entry> + 'a {
        groups.iter().filter_map(|g| self.groups.get(g)).flatten()
    }

    fn len(&self) -> usize {
        self.users.values().chain(self.groups.values()).map(Vec::len).sum::<usize>() + self.public.len()
    }
}

/// One tenant's grants and rules, indexed for decisions.
#[derive(Debug, Default, Clone)]
struct TenantIndex {
    by_tool: HashMap<String, GrantsOn>,
    by_server: HashMap<String, GrantsOn>,
    by_toolkit: HashMap<String, GrantsOn>,
    /// The toolkits each tool is a member of (tool id to toolkit ids).
    toolkits_of: HashMap<String, Vec<String>>,
    /// Where each grant is filed, so that replacing or removing one finds it at once.
    filed: HashMap<String, (Target, Subject)>,
    rules: HashMap<Role, Vec<Arc<RoleRule>>>,
    /// The categories switched off.
    disabled_categories: std::collections::HashSet<String>,
}

impl TenantIndex {
    fn on(&mut self, target: &Target) -> &mut GrantsOn {
        match target {
            Target::Tool(id) => self.by_tool.entry(id.clone()).or_default(),
            Target::Server(id) => self.by_server.entry(id.clone()).or_default(),
            Target::Toolkit(id) => self.by_toolkit.entry(id.clone()).or_default(),
        }
    }

    /// The grants on the toolkits holding a tool.
    fn on_toolkits_of(&self, tool_id: &str) -> impl Iterator<Item = &GrantsOn> {
        self.toolkits_of.get(tool_id).into_iter().flatten().filter_map(|k| self.by_toolkit.get(k))
    }
}

// Empty stand-ins for tenants and targets without grants, made once: a default map builds a
// hasher seed, which would otherwise cost every decision that misses.
static NO_GRANTS: std::sync::LazyLock<GrantsOn> = std::sync::LazyLock::new(GrantsOn::default);
static NO_TENANT: std::sync::LazyLock<TenantIndex> = std::sync::LazyLock::new(TenantIndex::default);

/// Every tenant's grants and rules in memory; patched on each write.
#[derive(Debug, Default, Clone)]
pub struct AccessIndex {
    tenants: HashMap<String, TenantIndex>,
}

impl AccessIndex {
    /// An index of these grants and rules (of any tenants).
    pub fn new(grants: impl IntoIterator<Item = Grant>, rules: impl IntoIterator<Item = RoleRule>) -> Self {
        let mut index = Self::default();
        for grant in grants {
            index.put_grant(grant);
        }
        for rule in rules {
            index.put_rule(rule);
        }
        index
    }

    /// Adds or replaces a grant.
    pub fn put_grant(&mut self, grant: Grant) {
        self.remove_grant(&grant.tenant, &grant.id);
        let t = self.tenants.entry(grant.tenant.clone()).or_default();
        t.filed.insert(grant.id.clone(), (grant.target.clone(), grant.subject.clone()));
        let (target, subject) = (grant.target.clone(), grant.subject.clone());
        t.on(&target).slot(&subject).push(Entry::new(grant));
    }

    /// Forgets a grant; unknown ids are ignored.
    pub fn remove_grant(&mut self, tenant: &str, id: &str) {
        let Some(t) = self.tenants.get_mut(tenant) else { return };
        let Some((target, subject)) = t.filed.remove(id) else { return };
        t.on(&target).slot(&subject).retain(|e| e.grant.id != id);
    }

    /// Adds or replaces a rule, keeping each role's rules most specific first.
    pub fn put_rule(&mut self, rule: RoleRule) {
        self.remove_rule(&rule.tenant, &rule.id);
        let list = self.tenants.entry(rule.tenant.clone()).or_default().rules.entry(rule.role).or_default();
        list.push(Arc::new(rule));
        list.sort_by(|a, b| b.specificity().cmp(&a.specificity()).then_with(|| a.id.cmp(&b.id)));
    }

    /// Forgets a rule; unknown ids are ignored.
    pub fn remove_rule(&mut self, tenant: &str, id: &str) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            for list in t.rules.values_mut() {
                list.retain(|r| r.id != id);
            }
        }
    }

    /// Switches a category of a tenant on or off.
    pub fn set_category(&mut self, tenant: &str, category: &str, enabled: bool) {
        let t = self.tenants.entry(tenant.to_owned()).or_default();
        if enabled {
            t.disabled_categories.remove(category);
        } else {
            t.disabled_categories.insert(category.to_owned());
        }
    }

    /// Whether a category of a tenant is switched off.
    pub fn category_disabled(&self, tenant: &str, category: &str) -> bool {
        self.tenants.get(tenant).is_some_and(|t| t.disabled_categories.contains(category))
    }

    /// Sets the server tools a toolkit holds (none: forgets the toolkit's memberships).
    pub fn set_toolkit_members(&mut self, tenant: &str, toolkit_id: &str, tool_ids: &[String]) {
        let t = self.tenants.entry(tenant.to_owned()).or_default();
        t.toolkits_of.retain(|_, kits| {
            kits.retain(|k| k != toolkit_id);
            !kits.is_empty()
        });
        for tool_id in tool_ids {
            let kits = t.toolkits_of.entry(tool_id.clone()).or_default();
            if !kits.iter().any(|k| k == toolkit_id) {
                kits.push(toolkit_id.to_owned());
            }
        }
    }

    /// Forgets the memberships of these tools (their server is gone).
    pub fn forget_tools(&mut self, tenant: &str, tool_ids: &[String]) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            tool_ids.iter().for_each(|id| {
                t.toolkits_of.remove(id);
            });
        }
    }

    /// The toolkits a tool is a member of.
    pub fn toolkits_of(&self, tenant: &str, tool_id: &str) -> &[String] {
        self.tenants.get(tenant).and_then(|t| t.toolkits_of.get(tool_id)).map(Vec::as_slice).unwrap_or_default()
    }

    /// How many grants the index holds, in every tenant.
    pub fn grant_count(&self) -> usize {
        self.tenants
            .values()
            .flat_map(|t| t.by_tool.values().chain(t.by_server.values()).chain(t.by_toolkit.values()))
            .map(GrantsOn::len)
            .sum()
    }

    /// Decides whether `principal` may use a toolkit itself at `required` level (`read` to see
    /// it, `admin` to edit it): administrators, then the principal's grants on the toolkit, then
    /// its groups', then public ones. Role rules name tools and servers, not toolkits; the
    /// owner's `admin` is the toolkit service's to add.
    pub fn decide_toolkit(
        &self,
        principal: &Principal,
        toolkit_id: &str,
        required: AccessLevel,
        now: Timestamp,
        admin_bypass: bool,
    ) -> Decision {
        let notes = &mut Notes(None);
        if bypasses(principal, admin_bypass) {
            return admin_decision(notes);
        }
        let moment = Moment::of(now);
        let index = self.tenants.get(&principal.tenant).unwrap_or(&NO_TENANT);
        let on = index.by_toolkit.get(toolkit_id).unwrap_or(&NO_GRANTS);
        decide_grants("user+toolkit", on.of_user(&principal.id), required, &moment, notes)
            .or_else(|| decide_grants("group+toolkit", on.of_groups(&principal.groups), required, &moment, notes))
            .or_else(|| decide_grants("public", on.public.iter(), required, &moment, notes))
            .unwrap_or_else(|| no_grant(notes))
    }

    /// Decides whether `principal` may use `tool` at `required` level at `now`, by the rules of
    /// docs/architecture.md ("Access decisions").
    /// The decision's `explanation` stays empty; see [`Self::explain`].
    pub fn decide(
        &self,
        principal: &Principal,
        tool: &ToolRef,
        required: AccessLevel,
        now: Timestamp,
        admin_bypass: bool,
    ) -> Decision {
        self.decide_noting(principal, tool, required, now, admin_bypass, &mut Notes(None))
    }

    /// Decides as [`Self::decide`], and explains how each tier was weighed.
    pub fn explain(
        &self,
        principal: &Principal,
        tool: &ToolRef,
        required: AccessLevel,
        now: Timestamp,
        admin_bypass: bool,
    ) -> Decision {
        self.decide_noting(principal, tool, required, now, admin_bypass, &mut Notes(Some(Vec::new())))
    }

    fn decide_noting(
        &self,
        principal: &Principal,
        tool: &ToolRef,
        required: AccessLevel,
        now: Timestamp,
        admin_bypass: bool,
        notes: &mut Notes,
    ) -> Decision {
        let is_admin = bypasses(principal, admin_bypass);
        let category_off = tool.category.is_some_and(|c| self.category_disabled(&principal.tenant, c));
        if !tool.tool_usable || !tool.server_usable || category_off {
            let reason = if !tool.server_usable {
                "the server is not running"
            } else if category_off {
                "the tool's category is disabled"
            } else {
                "the tool is disabled or unavailable"
            };
            // Administrators still see it, but nobody calls it.
            if is_admin && required <= AccessLevel::Read {
                return admin_decision(notes);
            }
            notes.add(|| reason.into());
            return Decision {
                allowed: false,
                level: AccessLevel::None,
                reason: Some(Cow::Borrowed(reason)),
                decided_by: DecidedBy::Unavailable,
                conditions: Conditions::default(),
                expires_at: None,
                explanation: notes.take(),
            };
        }
        if is_admin {
            return admin_decision(notes);
        }

        let moment = Moment::of(now);
        let index = self.tenants.get(&principal.tenant).unwrap_or(&NO_TENANT);
        let on_tool = index.by_tool.get(tool.tool_id).unwrap_or(&NO_GRANTS);
        let on_server = index.by_server.get(tool.server_id).unwrap_or(&NO_GRANTS);
        let groups = &principal.groups;
        // A toolkit grant sits in the tier of a server grant of the same subject kind.
        let user_wide = on_server
            .of_user(&principal.id)
            .iter()
            .chain(index.on_toolkits_of(tool.tool_id).flat_map(|k| k.of_user(&principal.id)));
        let group_wide =
            on_server.of_groups(groups).chain(index.on_toolkits_of(tool.tool_id).flat_map(|k| k.of_groups(groups)));
        if let Some(decision) = decide_grants("user+tool", on_tool.of_user(&principal.id), required, &moment, notes)
            .or_else(|| decide_grants("user+server", user_wide, required, &moment, notes))
            .or_else(|| decide_grants("group+tool", on_tool.of_groups(groups), required, &moment, notes))
            .or_else(|| decide_grants("group+server", group_wide, required, &moment, notes))
        {
            return decision;
        }

        if let Some(rules) = index.rules.get(&principal.role) {
            // Rules are kept most specific first: the first applicable one sets the rank, and
            // among rules of that rank an explicit `none` wins, else the highest level.
            let mut outside = 0;
            let mut best: Option<(&Arc<RoleRule>, (u8, usize))> = None;
            for rule in rules.iter().filter(|r| r.matches(tool)) {
                if !rule.conditions.window().contains(&moment) {
                    outside += 1;
                    continue;
                }
                let rank = rule.specificity();
                match best {
                    Some((_, top)) if rank != top => break,
                    Some((chosen, _)) if chosen.access_level == AccessLevel::None => {}
                    Some((chosen, _))
                        if rule.access_level != AccessLevel::None && rule.access_level < chosen.access_level => {}
                    _ => best = Some((rule, rank)),
                }
            }
            if outside > 0 {
                notes.add(|| format!("role rules: {outside} outside their hours or days"));
            }
            if let Some((rule, _)) = best {
                notes.add(|| {
                    format!("role rule {} ({}) decides: {}", rule.id, describe_rule(rule), rule.access_level.as_str())
                });
                return outcome(
                    rule.access_level,
                    required,
                    DecidedBy::RoleRule { id: rule.id.clone() },
                    rule.conditions.clone(),
                    None,
                    notes.take(),
                );
            }
            notes.add(|| "role rules: none matches".into());
        }

        let public = on_tool
            .public
            .iter()
            .chain(&on_server.public)
            .chain(index.on_toolkits_of(tool.tool_id).flat_map(|k| &k.public));
        decide_grants("public", public, required, &moment, notes).unwrap_or_else(|| no_grant(notes))
    }
}

fn no_grant(notes: &mut Notes) -> Decision {
    notes.add(|| "no tier holds an applicable grant or rule".into());
    Decision {
        allowed: false,
        level: AccessLevel::None,
        reason: Some(Cow::Borrowed("no grant or role rule gives access")),
        decided_by: DecidedBy::NoGrant,
        conditions: Conditions::default(),
        expires_at: None,
        explanation: notes.take(),
    }
}

/// The explanation of a decision, written only when asked for: listings and calls decide often
/// and need no prose, the access check does.
struct Notes(Option<Vec<String>>);

impl Notes {
    fn add(&mut self, note: impl FnOnce() -> String) {
        if let Some(notes) = &mut self.0 {
            notes.push(note());
        }
    }

    fn take(&mut self) -> Vec<String> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

fn describe_rule(rule: &RoleRule) -> String {
    format!(
        "tool {} on server {}",
        rule.tool_pattern.as_deref().unwrap_or("*"),
        rule.server_pattern.as_deref().unwrap_or("*")
    )
}

fn admin_decision(notes: &mut Notes) -> Decision {
    notes.add(|| "administrator".into());
    Decision {
        allowed: true,
        level: AccessLevel::Admin,
        reason: None,
        decided_by: DecidedBy::Admin,
        conditions: Conditions::default(),
        expires_at: None,
        explanation: notes.take(),
    }
}

/// One tier: the applicable grants decide (explicit `none` first, else the highest level).
/// None when no grant of the tier applies.
fn decide_grants<'a>(
    tier: &'static str,
    entries: impl IntoIterator<Item = &'a Entry>,
    required: AccessLevel,
    moment: &Moment,
    notes: &mut Notes,
) -> Option<Decision> {
    let mut decider: Option<&Entry> = None;
    for e in entries {
        if e.expires_at.is_some_and(|at| at <= moment.at) {
            notes.add(|| format!("{tier}: grant {} expired", e.grant.id));
        } else if !e.window.contains(moment) {
            notes.add(|| format!("{tier}: grant {} is outside its hours or days", e.grant.id));
        } else if e.level == AccessLevel::None {
            decider = Some(e);
            break;
        } else if decider.is_none_or(|d| e.level >= d.level) {
            decider = Some(e);
        }
    }
    let grant = &decider?.grant;
    let tier = match (&grant.target, tier) {
        (Target::Toolkit(_), "user+server") => "user+toolkit",
        (Target::Toolkit(_), "group+server") => "group+toolkit",
        _ => tier,
    };
    notes.add(|| match &grant.target {
        Target::Toolkit(id) => {
            format!("{tier}: grant {} on toolkit {id} decides: {}", grant.id, grant.access_level.as_str())
        }
        _ => format!("{tier}: grant {} decides: {}", grant.id, grant.access_level.as_str()),
    });
    Some(outcome(
        grant.access_level,
        required,
        DecidedBy::Grant { id: grant.id.clone(), tier },
        grant.conditions.clone(),
        grant.expires_at,
        notes.take(),
    ))
}

fn outcome(
    level: AccessLevel,
    required: AccessLevel,
    decided_by: DecidedBy,
    conditions: Conditions,
    expires_at: Option<Timestamp>,
    explanation: Vec<String>,
) -> Decision {
    let allowed = level != AccessLevel::None && level >= required;
    let reason = (!allowed).then(|| match level {
        AccessLevel::None => Cow::Borrowed("access is explicitly denied"),
        level => Cow::Owned(format!("{} access does not allow {}", level.as_str(), required.as_str())),
    });
    Decision { allowed, level, reason, decided_by, conditions, expires_at, explanation }
}
