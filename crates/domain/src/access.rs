//! Who may do what with which tool: grants, role rules, and the one decision function every path
//! uses (listings, calls, the access check). Decisions come from an in-memory index kept in step
//! with writes; nothing here touches a database.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    str::FromStr,
    sync::{Arc, Mutex},
};

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::{Principal, Role, Timestamp, validation::Validator};

/// What a grant allows, least to most: `read` to see a tool, `execute` to call it, `admin` to
/// manage it. `none` is an explicit denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    None,
    Read,
    Execute,
    Admin,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::Execute => "execute",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for AccessLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [Self::None, Self::Read, Self::Execute, Self::Admin]
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown access level '{s}'"))
    }
}

/// Who a grant is for: `user:<id>`, `group:<name>`, or everyone (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    User(String),
    Group(String),
    Public,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Group(name) => write!(f, "group:{name}"),
            Self::Public => f.write_str("*"),
        }
    }
}

impl FromStr for Subject {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let valid = |v: &str| !v.is_empty() && v.len() <= 200 && !v.chars().any(char::is_control);
        match s.split_once(':') {
            _ if s == "*" => Ok(Self::Public),
            Some(("user", id)) if valid(id) => Ok(Self::User(id.to_owned())),
            Some(("group", name)) if valid(name) => Ok(Self::Group(name.to_owned())),
            _ => Err(format!("'{s}' is not user:<id>, group:<name> or *")),
        }
    }
}

/// What a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Tool(String),
    Server(String),
}

/// When a grant or rule applies, and how often it may be used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub rate_limit_per_hour: Option<u32>,
    pub rate_limit_per_day: Option<u32>,
    /// UTC hours (0-23); empty or unset means any hour.
    pub allowed_hours: Option<Vec<u8>>,
    /// Weekdays, 0 = Monday to 6; empty or unset means any day.
    pub allowed_days: Option<Vec<u8>>,
}

impl Conditions {
    pub fn validate(&self, v: &mut Validator) {
        for (field, limit) in
            [("rate_limit_per_hour", self.rate_limit_per_hour), ("rate_limit_per_day", self.rate_limit_per_day)]
        {
            v.check(limit.is_none_or(|l| l > 0), field, || "must be at least 1 (or null for no limit)".into());
        }
        if let Some(hours) = &self.allowed_hours {
            v.check(hours.iter().all(|h| *h <= 23), "allowed_hours", || "hours are 0 to 23 (UTC)".into());
        }
        if let Some(days) = &self.allowed_days {
            v.check(days.iter().all(|d| *d <= 6), "allowed_days", || "days are 0 (Monday) to 6 (Sunday)".into());
        }
    }

    /// Whether `now` (UTC) is inside the hours and days.
    pub fn in_window(&self, now: Timestamp) -> bool {
        let hour = now.hour() as u8;
        let day = now.weekday().num_days_from_monday() as u8;
        let fits =
            |allowed: &Option<Vec<u8>>, value: u8| allowed.as_ref().is_none_or(|a| a.is_empty() || a.contains(&value));
        fits(&self.allowed_hours, hour) && fits(&self.allowed_days, day)
    }
}

/// A grant: a subject's access to one tool or one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub id: String,
    pub tenant: String,
    pub subject: Subject,
    pub target: Target,
    pub access_level: AccessLevel,
    pub conditions: Conditions,
    pub expires_at: Option<Timestamp>,
    pub granted_by: String,
    pub granted_at: Timestamp,
    pub updated_at: Timestamp,
    pub usage_count: i64,
    pub last_used: Option<Timestamp>,
}

/// A role rule: a role's access to the tools whose names match glob patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRule {
    pub id: String,
    pub tenant: String,
    pub role: Role,
    pub tool_pattern: Option<String>,
    pub server_pattern: Option<String>,
    pub access_level: AccessLevel,
    pub conditions: Conditions,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl RoleRule {
    /// Both patterns set beat one; then the longer literal text (characters other than `*`, `?`).
    fn specificity(&self) -> (u8, usize) {
        let patterns = [&self.tool_pattern, &self.server_pattern];
        let set = patterns.iter().filter(|p| p.is_some()).count() as u8;
        let literal = patterns
            .iter()
            .filter_map(|p| p.as_deref())
            .map(|p| p.chars().filter(|c| *c != '*' && *c != '?').count())
            .sum();
        (set, literal)
    }

    fn matches(&self, tool: &ToolRef) -> bool {
        self.tool_pattern.as_deref().is_none_or(|p| glob_match(p, tool.tool_name))
            && self.server_pattern.as_deref().is_none_or(|p| glob_match(p, tool.server_name))
    }
}

pub const PATTERN_MAX: usize = 200;

/// Anchored glob match: `*` any run, `?` one character, everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Super administrators, and administrators while admin bypass is on, need no grant.
pub fn bypasses(principal: &Principal, admin_bypass: bool) -> bool {
    principal.role == Role::SuperAdmin || (principal.role == Role::Admin && admin_bypass)
}

/// The tool a decision is about, with what the decision needs to know of it.
#[derive(Debug, Clone, Copy)]
pub struct ToolRef<'a> {
    pub tool_id: &'a str,
    pub tool_name: &'a str,
    pub server_id: &'a str,
    pub server_name: &'a str,
    /// The tool is enabled and available.
    pub tool_usable: bool,
    /// The server is running (or built in).
    pub server_usable: bool,
}

/// What decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecidedBy {
    Admin,
    Grant { id: String, tier: &'static str },
    RoleRule { id: String },
    Unavailable,
    NoGrant,
}

/// A decision, with the reason and the quota rules of what decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub level: AccessLevel,
    pub reason: Option<String>,
    pub decided_by: DecidedBy,
    pub conditions: Conditions,
    pub expires_at: Option<Timestamp>,
    /// Why each tier did or did not decide, in order.
    pub explanation: Vec<String>,
}

impl Decision {
    /// The key its rate-limit counters are kept under (per principal and grant or rule).
    pub fn quota_key(&self, principal: &Principal) -> Option<String> {
        match &self.decided_by {
            DecidedBy::Grant { id, .. } => Some(format!("{}:{}:grant:{id}", principal.tenant, principal.id)),
            DecidedBy::RoleRule { id } => Some(format!("{}:{}:rule:{id}", principal.tenant, principal.id)),
            _ => None,
        }
    }
}

/// One tenant's grants and rules, indexed for decisions.
#[derive(Debug, Default, Clone)]
struct TenantIndex {
    by_tool: HashMap<String, Vec<Arc<Grant>>>,
    by_server: HashMap<String, Vec<Arc<Grant>>>,
    rules: HashMap<Role, Vec<Arc<RoleRule>>>,
}

/// Every tenant's grants and rules in memory; patched on each write.
#[derive(Debug, Default, Clone)]
pub struct AccessIndex {
    tenants: HashMap<String, TenantIndex>,
}

impl AccessIndex {
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

    fn grants_at(&mut self, tenant: &str, target: &Target) -> &mut Vec<Arc<Grant>> {
        let t = self.tenants.entry(tenant.to_owned()).or_default();
        match target {
            Target::Tool(id) => t.by_tool.entry(id.clone()).or_default(),
            Target::Server(id) => t.by_server.entry(id.clone()).or_default(),
        }
    }

    /// Adds or replaces a grant.
    pub fn put_grant(&mut self, grant: Grant) {
        self.remove_grant(&grant.tenant, &grant.id);
        let (tenant, target) = (grant.tenant.clone(), grant.target.clone());
        self.grants_at(&tenant, &target).push(Arc::new(grant));
    }

    pub fn remove_grant(&mut self, tenant: &str, id: &str) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            for list in t.by_tool.values_mut().chain(t.by_server.values_mut()) {
                list.retain(|g| g.id != id);
            }
        }
    }

    /// Adds or replaces a rule, keeping each role's rules most specific first.
    pub fn put_rule(&mut self, rule: RoleRule) {
        self.remove_rule(&rule.tenant, &rule.id);
        let list = self.tenants.entry(rule.tenant.clone()).or_default().rules.entry(rule.role).or_default();
        list.push(Arc::new(rule));
        list.sort_by(|a, b| b.specificity().cmp(&a.specificity()).then_with(|| a.id.cmp(&b.id)));
    }

    pub fn remove_rule(&mut self, tenant: &str, id: &str) {
        if let Some(t) = self.tenants.get_mut(tenant) {
            for list in t.rules.values_mut() {
                list.retain(|r| r.id != id);
            }
        }
    }

    pub fn grant_count(&self) -> usize {
        self.tenants.values().flat_map(|t| t.by_tool.values().chain(t.by_server.values())).map(Vec::len).sum()
    }

    /// Decides whether `principal` may use `tool` at `required` level at `now` (DESIGN.md §3).
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
        if !tool.tool_usable || !tool.server_usable {
            let reason =
                if !tool.server_usable { "the server is not running" } else { "the tool is disabled or unavailable" };
            // Administrators still see it, but nobody calls it.
            if is_admin && required <= AccessLevel::Read {
                return admin_decision(notes);
            }
            notes.add(|| reason.into());
            return Decision {
                allowed: false,
                level: AccessLevel::None,
                reason: Some(reason.into()),
                decided_by: DecidedBy::Unavailable,
                conditions: Conditions::default(),
                expires_at: None,
                explanation: notes.take(),
            };
        }
        if is_admin {
            return admin_decision(notes);
        }

        let empty = TenantIndex::default();
        let index = self.tenants.get(&principal.tenant).unwrap_or(&empty);
        let on_tool = index.by_tool.get(tool.tool_id).map(Vec::as_slice).unwrap_or_default();
        let on_server = index.by_server.get(tool.server_id).map(Vec::as_slice).unwrap_or_default();
        let user = Subject::User(principal.id.clone());
        let is_group = |s: &Subject| matches!(s, Subject::Group(g) if principal.groups.contains(g));
        let tiers: [(&'static str, Vec<&Arc<Grant>>); 4] = [
            ("user+tool", on_tool.iter().filter(|g| g.subject == user).collect()),
            ("user+server", on_server.iter().filter(|g| g.subject == user).collect()),
            ("group+tool", on_tool.iter().filter(|g| is_group(&g.subject)).collect()),
            ("group+server", on_server.iter().filter(|g| is_group(&g.subject)).collect()),
        ];
        for (tier, grants) in tiers {
            if let Some(decision) = decide_grants(tier, &grants, required, now, notes) {
                return decision;
            }
        }

        if let Some(rules) = index.rules.get(&principal.role) {
            let matching: Vec<&Arc<RoleRule>> = rules.iter().filter(|r| r.matches(tool)).collect();
            let applicable: Vec<&Arc<RoleRule>> =
                matching.iter().copied().filter(|r| r.conditions.in_window(now)).collect();
            if matching.len() > applicable.len() {
                notes.add(|| format!("role rules: {} outside their hours or days", matching.len() - applicable.len()));
            }
            if let Some(top) = applicable.first().map(|r| r.specificity()) {
                let best: Vec<&Arc<RoleRule>> = applicable.into_iter().take_while(|r| r.specificity() == top).collect();
                let rule = best
                    .iter()
                    .find(|r| r.access_level == AccessLevel::None)
                    .or_else(|| best.iter().max_by_key(|r| r.access_level))
                    .copied();
                if let Some(rule) = rule {
                    notes.add(|| {
                        format!(
                            "role rule {} ({}) decides: {}",
                            rule.id,
                            describe_rule(rule),
                            rule.access_level.as_str()
                        )
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
            }
            notes.add(|| "role rules: none matches".into());
        }

        let public: Vec<&Arc<Grant>> =
            on_tool.iter().chain(on_server).filter(|g| g.subject == Subject::Public).collect();
        if let Some(decision) = decide_grants("public", &public, required, now, notes) {
            return decision;
        }
        notes.add(|| "no tier holds an applicable grant or rule".into());
        Decision {
            allowed: false,
            level: AccessLevel::None,
            reason: Some("no grant or role rule gives access".into()),
            decided_by: DecidedBy::NoGrant,
            conditions: Conditions::default(),
            expires_at: None,
            explanation: notes.take(),
        }
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
fn decide_grants(
    tier: &'static str,
    grants: &[&Arc<Grant>],
    required: AccessLevel,
    now: Timestamp,
    notes: &mut Notes,
) -> Option<Decision> {
    if grants.is_empty() {
        return None;
    }
    let applicable: Vec<&Arc<Grant>> = grants
        .iter()
        .copied()
        .filter(|g| {
            if g.expires_at.is_some_and(|at| at <= now) {
                notes.add(|| format!("{tier}: grant {} expired", g.id));
                false
            } else if !g.conditions.in_window(now) {
                notes.add(|| format!("{tier}: grant {} is outside its hours or days", g.id));
                false
            } else {
                true
            }
        })
        .collect();
    let grant = applicable
        .iter()
        .find(|g| g.access_level == AccessLevel::None)
        .or_else(|| applicable.iter().max_by_key(|g| g.access_level))?;
    notes.add(|| format!("{tier}: grant {} decides: {}", grant.id, grant.access_level.as_str()));
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
        AccessLevel::None => "access is explicitly denied".to_owned(),
        level => format!("{} access does not allow {}", level.as_str(), required.as_str()),
    });
    Decision { allowed, level, reason, decided_by, conditions, expires_at, explanation }
}

/// Calls counted per quota key in the last hour and day, to enforce and report rate limits.
///
/// Only calls under a limit are counted, and only as many of the most recent ones as the larger
/// limit: that is all an exact sliding window needs, so memory and time per call stay bounded.
#[derive(Debug, Default)]
pub struct UsageCounters {
    calls: Mutex<HashMap<String, VecDeque<Timestamp>>>,
}

/// Remaining calls under a decision's limits (None: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    pub remaining_hour: Option<u32>,
    pub remaining_day: Option<u32>,
    /// When used up: seconds until a call is possible again.
    pub retry_after_secs: Option<u64>,
}

impl Quota {
    pub fn exhausted(&self) -> bool {
        self.remaining_hour == Some(0) || self.remaining_day == Some(0)
    }
}

/// The counted calls of one key inside the last day, oldest first.
struct Window<'a>(&'a VecDeque<Timestamp>);

impl Window<'_> {
    /// Where the calls inside the window ending now start.
    fn start(&self, window: chrono::Duration, now: Timestamp) -> usize {
        self.0.partition_point(|t| now - *t >= window)
    }

    fn quota(&self, conditions: &Conditions, now: Timestamp) -> Quota {
        let count = |window| (self.0.len() - self.start(window, now)) as u32;
        let (hour, day) = (count(chrono::Duration::hours(1)), count(chrono::Duration::days(1)));
        Quota {
            remaining_hour: conditions.rate_limit_per_hour.map(|l| l.saturating_sub(hour)),
            remaining_day: conditions.rate_limit_per_day.map(|l| l.saturating_sub(day)),
            retry_after_secs: None,
        }
    }

    /// Seconds until the exhausted window frees up: when its oldest counted call leaves it.
    fn retry_after(&self, quota: &Quota, now: Timestamp) -> u64 {
        let window =
            if quota.remaining_hour == Some(0) { chrono::Duration::hours(1) } else { chrono::Duration::days(1) };
        let oldest = self.0.get(self.start(window, now)).copied().unwrap_or(now);
        (oldest + window - now).num_seconds().max(1) as u64
    }
}

impl UsageCounters {
    fn limited(conditions: &Conditions) -> bool {
        conditions.rate_limit_per_hour.is_some() || conditions.rate_limit_per_day.is_some()
    }

    /// What is left under these limits, without counting anything (the access check).
    pub fn remaining(&self, key: Option<&str>, conditions: &Conditions, now: Timestamp) -> Quota {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        match key.and_then(|k| calls.get(k)) {
            Some(list) => Window(list).quota(conditions, now),
            None => Window(&VecDeque::new()).quota(conditions, now),
        }
    }

    /// Counts one call if the limits allow it; returns the quota after it, or the exhausted one.
    pub fn record(&self, key: &str, conditions: &Conditions, now: Timestamp) -> Result<Quota, Quota> {
        if !Self::limited(conditions) {
            return Ok(Quota::default());
        }
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let list = calls.entry(key.to_owned()).or_default();
        let before = Window(list).quota(conditions, now);
        if before.exhausted() {
            return Err(Quota { retry_after_secs: Some(Window(list).retry_after(&before, now)), ..before });
        }
        // Keep the list ordered even if the clock steps back.
        list.push_back(list.back().map_or(now, |last| now.max(*last)));
        let keep = conditions.rate_limit_per_hour.max(conditions.rate_limit_per_day).unwrap_or(0) as usize;
        let stale = list.len().saturating_sub(keep).max(Window(list).start(chrono::Duration::days(1), now));
        list.drain(..stale);
        Ok(Quota {
            remaining_hour: before.remaining_hour.map(|r| r - 1),
            remaining_day: before.remaining_day.map(|r| r - 1),
            retry_after_secs: None,
        })
    }
}

/// Checks a role rule's patterns: at most `PATTERN_MAX` characters, no control characters.
pub fn validate_pattern(v: &mut Validator, field: &str, pattern: &Option<String>) {
    if let Some(p) = pattern {
        v.text(field, p, 1, PATTERN_MAX);
    }
}
