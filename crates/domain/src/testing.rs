//! In-memory implementations of the ports, for domain tests and for embedders that do not
//! want a database. They honour the same contracts as the storage adapter.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;

use serde_json::{Map, Value};

use crate::{
    DomainError, Role, Timestamp,
    access::{Grant, RoleRule, Target},
    api_key::ApiKey,
    builtin,
    calls::{CallFilter, CallRecord, ToolCounters, Usage},
    category::CategorySwitch,
    ports::{
        ApiKeyRepository, CallLog, CallLogRepository, CategoryRepository, Clock, GrantFilter, GrantRepository,
        NoMetrics, PortResult, ReadinessProbe, ReplicaRegistry, RoleRuleRepository, RuntimeReport, SecretCipher,
        ServerRepository, SessionRepository, SystemClock, ToolRepository, ToolkitRepository, UserRepository,
    },
    principal::User,
    replica::{Mine, Replica, ReplicaRuntime, Running},
    secret::Secret,
    server::{ServerFilter, ServerStatus, ToolServer},
    services::Ports,
    tool::{Reconciliation, Tool, ToolStatus},
    toolkit::{Toolkit, ToolkitTool},
    upstream::{
        DiscoveredTool, LogLevel, ServerRef, ToolCallOutcome, UpstreamConnector, UpstreamError, UpstreamObserver,
    },
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// All repositories in one value; share it through `Arc` and hand it out as each port.
#[derive(Default)]
pub struct InMemoryStore {
    servers: Mutex<BTreeMap<String, ToolServer>>,
    tools: Mutex<BTreeMap<String, Tool>>,
    users: Mutex<BTreeMap<(String, String), User>>,
    keys: Mutex<BTreeMap<String, ApiKey>>,
    grants: Mutex<BTreeMap<String, Grant>>,
    rules: Mutex<BTreeMap<String, RoleRule>>,
    calls: Mutex<Vec<CallRecord>>,
    sessions: Mutex<BTreeMap<String, (serde_json::Value, Timestamp)>>,
    toolkits: Mutex<BTreeMap<String, Toolkit>>,
    toolkit_tools: Mutex<BTreeMap<String, ToolkitTool>>,
    categories: Mutex<BTreeMap<(String, String), CategorySwitch>>,
    replicas: Mutex<BTreeMap<String, Replica>>,
    /// Runtime records by server id, then replica.
    runtimes: Mutex<BTreeMap<(String, String), (String, ReplicaRuntime)>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ServerRepository for InMemoryStore {
    async fn insert(&self, server: &ToolServer) -> PortResult<()> {
        let mut servers = lock(&self.servers);
        if servers.values().any(|s| s.tenant == server.tenant && s.name == server.name) {
            return Err(DomainError::Conflict("duplicate server name".into()));
        }
        servers.insert(server.id.clone(), server.clone());
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<ToolServer>> {
        Ok(lock(&self.servers).get(id).filter(|s| s.tenant == tenant).cloned())
    }

    async fn list(&self, tenant: &str, filter: ServerFilter) -> PortResult<Vec<ToolServer>> {
        let mut list: Vec<ToolServer> = lock(&self.servers)
            .values()
            .filter(|s| s.tenant == tenant)
            .filter(|s| filter.status.is_none_or(|st| s.status == st))
            .filter(|s| filter.include_builtin || !s.is_builtin)
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(list)
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<ToolServer>, u64)> {
        Ok(query.apply(ServerRepository::list(self, tenant, ServerFilter::all()).await?))
    }

    async fn update(&self, server: &ToolServer, expected_version: i64) -> PortResult<bool> {
        let mut servers = lock(&self.servers);
        match servers.get_mut(&server.id) {
            Some(stored) if stored.tenant == server.tenant && stored.version == expected_version => {
                *stored = server.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let mut servers = lock(&self.servers);
        if servers.get(id).is_none_or(|s| s.tenant != tenant) {
            return Ok(false);
        }
        servers.remove(id);
        lock(&self.tools).retain(|_, t| t.server_id != id);
        lock(&self.runtimes).retain(|(server_id, _), _| server_id != id);
        Ok(true)
    }

    async fn update_runtime(&self, server: &ServerRef, report: &RuntimeReport<'_>) -> PortResult<Option<ServerStatus>> {
        let key = (server.id.clone(), report.replica.to_owned());
        match (report.mine, report.record()) {
            (_, Some(record)) => {
                lock(&self.runtimes).insert(key, (server.tenant.clone(), record));
            }
            (Mine::Gone, _) => {
                lock(&self.runtimes).remove(&key);
            }
            _ => {}
        }
        let live: Vec<Running> = ReplicaRegistry::runtimes(self, &server.id, report.live_since)
            .await?
            .into_iter()
            .map(|r| r.state)
            .collect();
        let mut servers = lock(&self.servers);
        let Some(stored) = servers.get_mut(&server.id).filter(|s| s.tenant == server.tenant) else {
            return Ok(None);
        };
        let mut state = report.state.clone();
        state.status = report.status_to_store(stored.status, live);
        stored.set_runtime(state);
        Ok(Some(stored.status))
    }

    async fn list_to_resume(&self) -> PortResult<Vec<ToolServer>> {
        Ok(lock(&self.servers)
            .values()
            .filter(|s| s.auto_start && matches!(s.status, ServerStatus::Enabled | ServerStatus::Starting))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl ToolRepository for InMemoryStore {
    async fn insert(&self, tool: &Tool) -> PortResult<()> {
        let mut tools = lock(&self.tools);
        if name_taken(&tools, tool) {
            return Err(DomainError::Conflict("duplicate tool name".into()));
        }
        tools.insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn list_for_servers(&self, tenant: &str, server_ids: &[String]) -> PortResult<Vec<Tool>> {
        Ok(self.tools_where(|t| t.tenant == tenant && server_ids.contains(&t.server_id)))
    }

    async fn list_all(&self, tenant: &str) -> PortResult<Vec<Tool>> {
        Ok(self.tools_where(|t| t.tenant == tenant))
    }

    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Vec<Tool>> {
        Ok(self.tools_where(|t| t.tenant == tenant && t.name == name))
    }

    async fn page(&self, tenant: &str, server_id: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)> {
        let all = self.tools_where(|t| t.tenant == tenant && t.server_id == server_id);
        let total = all.len() as u64;
        let page = all.into_iter().skip(offset as usize).take(limit as usize).collect();
        Ok((page, total))
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Tool>, u64)> {
        Ok(query.apply(self.tools_where(|t| t.tenant == tenant)))
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Tool>> {
        Ok(lock(&self.tools).get(id).filter(|t| t.tenant == tenant).cloned())
    }

    async fn set_status(&self, tenant: &str, id: &str, status: ToolStatus, at: Timestamp) -> PortResult<bool> {
        let mut tools = lock(&self.tools);
        match tools.get_mut(id).filter(|t| t.tenant == tenant) {
            Some(tool) => {
                tool.status = status;
                tool.updated_at = at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn apply(&self, changes: &Reconciliation) -> PortResult<()> {
        let mut tools = lock(&self.tools);
        // All or nothing, like the storage adapter's transaction.
        if changes.inserted.iter().any(|tool| name_taken(&tools, tool)) {
            return Err(DomainError::Conflict("duplicate tool name".into()));
        }
        for tool in changes.inserted.iter().chain(&changes.updated) {
            tools.insert(tool.id.clone(), tool.clone());
        }
        Ok(())
    }
}

/// Whether the tool's server already has a tool of its name (unique, as in SQL).
fn name_taken(tools: &BTreeMap<String, Tool>, tool: &Tool) -> bool {
    tools.values().any(|t| t.server_id == tool.server_id && t.name == tool.name)
}

impl InMemoryStore {
    fn tools_where(&self, keep: impl Fn(&Tool) -> bool) -> Vec<Tool> {
        let mut tools: Vec<Tool> = lock(&self.tools).values().filter(|t| keep(t)).cloned().collect();
        tools.sort_by(|a, b| (&a.server_id, a.sort_order, &a.name).cmp(&(&b.server_id, b.sort_order, &b.name)));
        tools
    }
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn save(&self, id: &str, state: &serde_json::Value, at: Timestamp) -> PortResult<()> {
        lock(&self.sessions).insert(id.to_owned(), (state.clone(), at));
        Ok(())
    }

    async fn load(&self, id: &str) -> PortResult<Option<serde_json::Value>> {
        Ok(lock(&self.sessions).get(id).map(|(state, _)| state.clone()))
    }

    async fn delete(&self, id: &str) -> PortResult<()> {
        lock(&self.sessions).remove(id);
        Ok(())
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        let mut sessions = lock(&self.sessions);
        let count = sessions.len();
        sessions.retain(|_, (_, at)| *at >= before);
        Ok((count - sessions.len()) as u64)
    }
}

#[async_trait]
impl UserRepository for InMemoryStore {
    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<User>> {
        Ok(lock(&self.users).get(&(tenant.to_string(), id.to_string())).cloned())
    }

    async fn insert_if_absent(&self, user: &User) -> PortResult<User> {
        let mut users = lock(&self.users);
        Ok(users.entry((user.tenant.clone(), user.id.clone())).or_insert_with(|| user.clone()).clone())
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<User>> {
        Ok(lock(&self.users).values().filter(|u| u.tenant == tenant).cloned().collect())
    }

    async fn update(&self, user: &User) -> PortResult<bool> {
        let mut users = lock(&self.users);
        match users.get_mut(&(user.tenant.clone(), user.id.clone())) {
            Some(stored) => {
                *stored = user.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl ToolkitRepository for InMemoryStore {
    async fn insert(&self, toolkit: &Toolkit) -> PortResult<()> {
        let mut kits = lock(&self.toolkits);
        if kits.values().any(|k| k.tenant == toolkit.tenant && k.name == toolkit.name) {
            return Err(DomainError::Conflict("duplicate toolkit name".into()));
        }
        kits.insert(toolkit.id.clone(), toolkit.clone());
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Toolkit>> {
        Ok(lock(&self.toolkits).get(id).filter(|k| k.tenant == tenant).cloned())
    }

    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Option<Toolkit>> {
        Ok(lock(&self.toolkits).values().find(|k| k.tenant == tenant && k.name == name).cloned())
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<Toolkit>> {
        let mut list: Vec<Toolkit> = lock(&self.toolkits).values().filter(|k| k.tenant == tenant).cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Toolkit>, u64)> {
        Ok(query.apply(ToolkitRepository::list(self, tenant).await?))
    }

    async fn update(&self, toolkit: &Toolkit, expected_version: i64) -> PortResult<bool> {
        let mut kits = lock(&self.toolkits);
        match kits.get_mut(&toolkit.id) {
            Some(stored) if stored.tenant == toolkit.tenant && stored.version == expected_version => {
                *stored = toolkit.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let mut kits = lock(&self.toolkits);
        if kits.get(id).is_none_or(|k| k.tenant != tenant) {
            return Ok(false);
        }
        kits.remove(id);
        lock(&self.toolkit_tools).retain(|_, t| t.toolkit_id != id);
        Ok(true)
    }

    async fn tools(&self, tenant: &str, toolkit_id: &str) -> PortResult<Vec<ToolkitTool>> {
        Ok(lock(&self.toolkit_tools)
            .values()
            .filter(|t| t.tenant == tenant && t.toolkit_id == toolkit_id)
            .cloned()
            .collect())
    }

    async fn insert_tool(&self, tool: &ToolkitTool) -> PortResult<()> {
        lock(&self.toolkit_tools).insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn update_tool(&self, tool: &ToolkitTool) -> PortResult<bool> {
        let mut tools = lock(&self.toolkit_tools);
        match tools.get_mut(&tool.id).filter(|t| t.tenant == tool.tenant && t.toolkit_id == tool.toolkit_id) {
            Some(stored) => {
                *stored = tool.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_tool(&self, tenant: &str, toolkit_id: &str, id: &str) -> PortResult<bool> {
        let mut tools = lock(&self.toolkit_tools);
        if tools.get(id).is_some_and(|t| t.tenant == tenant && t.toolkit_id == toolkit_id) {
            tools.remove(id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn replace_tools(&self, tenant: &str, toolkit_id: &str, new: &[ToolkitTool]) -> PortResult<()> {
        let mut tools = lock(&self.toolkit_tools);
        tools.retain(|_, t| !(t.tenant == tenant && t.toolkit_id == toolkit_id));
        tools.extend(new.iter().map(|t| (t.id.clone(), t.clone())));
        Ok(())
    }

    async fn memberships(&self) -> PortResult<Vec<(String, String, String)>> {
        Ok(lock(&self.toolkit_tools)
            .values()
            .map(|t| (t.tenant.clone(), t.tool_id.clone().unwrap_or_else(|| t.id.clone()), t.toolkit_id.clone()))
            .collect())
    }

    async fn delete_references(&self, tenant: &str, tool_ids: &[String]) -> PortResult<()> {
        lock(&self.toolkit_tools)
            .retain(|_, t| !(t.tenant == tenant && t.tool_id.as_ref().is_some_and(|id| tool_ids.contains(id))));
        Ok(())
    }
}

#[async_trait]
impl GrantRepository for InMemoryStore {
    async fn insert(&self, grant: &Grant) -> PortResult<()> {
        let mut grants = lock(&self.grants);
        let taken =
            grants.values().any(|g| g.tenant == grant.tenant && g.subject == grant.subject && g.target == grant.target);
        if taken {
            return Err(DomainError::Conflict("duplicate grant".into()));
        }
        grants.insert(grant.id.clone(), grant.clone());
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Grant>> {
        Ok(lock(&self.grants).get(id).filter(|g| g.tenant == tenant).cloned())
    }

    async fn update(&self, grant: &Grant) -> PortResult<bool> {
        let mut grants = lock(&self.grants);
        match grants.get_mut(&grant.id).filter(|g| g.tenant == grant.tenant) {
            Some(stored) => {
                *stored = grant.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let mut grants = lock(&self.grants);
        if grants.get(id).is_some_and(|g| g.tenant == tenant) {
            grants.remove(id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn list(&self, tenant: &str, filter: &GrantFilter) -> PortResult<Vec<Grant>> {
        let mut list: Vec<Grant> = lock(&self.grants)
            .values()
            .filter(|g| g.tenant == tenant)
            .filter(|g| filter.subject.as_ref().is_none_or(|s| *s == g.subject))
            .filter(|g| filter.target.as_ref().is_none_or(|t| *t == g.target))
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.granted_at, &a.id).cmp(&(b.granted_at, &b.id)));
        Ok(list)
    }

    async fn list_all(&self) -> PortResult<Vec<Grant>> {
        Ok(lock(&self.grants).values().cloned().collect())
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Grant>, u64)> {
        Ok(query.apply(GrantRepository::list(self, tenant, &GrantFilter::default()).await?))
    }

    async fn delete_for_targets(&self, tenant: &str, targets: &[Target]) -> PortResult<Vec<String>> {
        let mut grants = lock(&self.grants);
        let ids: Vec<String> = grants
            .values()
            .filter(|g| g.tenant == tenant && targets.contains(&g.target))
            .map(|g| g.id.clone())
            .collect();
        for id in &ids {
            grants.remove(id);
        }
        Ok(ids)
    }
}

/// Whether another rule of the tenant has the same role and patterns (unique, as in SQL).
fn rule_taken(rules: &BTreeMap<String, RoleRule>, rule: &RoleRule) -> bool {
    rules.values().any(|r| {
        r.id != rule.id
            && r.tenant == rule.tenant
            && r.role == rule.role
            && r.tool_pattern == rule.tool_pattern
            && r.server_pattern == rule.server_pattern
    })
}

#[async_trait]
impl RoleRuleRepository for InMemoryStore {
    async fn insert(&self, rule: &RoleRule) -> PortResult<()> {
        let mut rules = lock(&self.rules);
        if rule_taken(&rules, rule) {
            return Err(DomainError::Conflict("duplicate rule".into()));
        }
        rules.insert(rule.id.clone(), rule.clone());
        Ok(())
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<RoleRule>> {
        Ok(lock(&self.rules).get(id).filter(|r| r.tenant == tenant).cloned())
    }

    async fn update(&self, rule: &RoleRule) -> PortResult<bool> {
        let mut rules = lock(&self.rules);
        if rule_taken(&rules, rule) {
            return Err(DomainError::Conflict("duplicate rule".into()));
        }
        match rules.get_mut(&rule.id).filter(|r| r.tenant == rule.tenant) {
            Some(stored) => {
                *stored = rule.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        let mut rules = lock(&self.rules);
        if rules.get(id).is_some_and(|r| r.tenant == tenant) {
            rules.remove(id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn list(&self, tenant: &str, role: Option<Role>) -> PortResult<Vec<RoleRule>> {
        let mut list: Vec<RoleRule> = lock(&self.rules)
            .values()
            .filter(|r| r.tenant == tenant && role.is_none_or(|role| r.role == role))
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(list)
    }

    async fn list_all(&self) -> PortResult<Vec<RoleRule>> {
        Ok(lock(&self.rules).values().cloned().collect())
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<RoleRule>, u64)> {
        Ok(query.apply(RoleRuleRepository::list(self, tenant, None).await?))
    }
}

#[async_trait]
impl ApiKeyRepository for InMemoryStore {
    async fn insert(&self, key: &ApiKey) -> PortResult<()> {
        let mut keys = lock(&self.keys);
        if keys.values().any(|k| k.key_hash == key.key_hash) {
            return Err(DomainError::Conflict("duplicate key".into()));
        }
        keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn find_by_hash(&self, key_hash: &str) -> PortResult<Option<ApiKey>> {
        Ok(lock(&self.keys).values().find(|k| k.key_hash == key_hash).cloned())
    }

    async fn count(&self) -> PortResult<u64> {
        Ok(lock(&self.keys).len() as u64)
    }

    async fn list(&self, tenant: &str) -> PortResult<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = lock(&self.keys).values().filter(|k| k.tenant == tenant).cloned().collect();
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(keys)
    }

    async fn revoke(&self, tenant: &str, id: &str, at: Timestamp) -> PortResult<bool> {
        match lock(&self.keys).get_mut(id).filter(|k| k.tenant == tenant && k.revoked_at.is_none()) {
            Some(key) => {
                key.revoked_at = Some(at);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn touch(&self, id: &str, at: Timestamp) -> PortResult<()> {
        if let Some(key) = lock(&self.keys).get_mut(id) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}

/// A clock that only moves when told to.
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *lock(&self.0)
    }
}

/// What [`InMemoryUpstream`] answers a call with: given the tool's name and arguments.
pub type CallHandler = dyn Fn(&str, &Map<String, Value>) -> Result<ToolCallOutcome, UpstreamError> + Send + Sync;

/// An upstream connector in memory: every server it starts lists the tools given in code, and
/// calls are answered by a closure. The built-in server lists and runs the built-in tools.
/// [`InMemoryUpstream::unreachable`] starts nothing.
pub struct InMemoryUpstream {
    /// None: every start fails.
    tools: Option<Vec<DiscoveredTool>>,
    handler: Box<CallHandler>,
    running: Mutex<HashMap<String, bool>>,
    clock: Arc<dyn Clock>,
    /// Every log level servers were asked for, in order.
    log_levels: Mutex<Vec<Option<LogLevel>>>,
}

impl InMemoryUpstream {
    /// Servers list `tools`; `handler` answers calls to them.
    pub fn new(
        tools: Vec<DiscoveredTool>,
        handler: impl Fn(&str, &Map<String, Value>) -> Result<ToolCallOutcome, UpstreamError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            tools: Some(tools),
            handler: Box::new(handler),
            running: Default::default(),
            clock: Arc::new(SystemClock),
            log_levels: Default::default(),
        }
    }

    /// Servers list `tools`, and every call answers its arguments back as JSON text.
    pub fn echo(tools: Vec<DiscoveredTool>) -> Self {
        Self::new(tools, |_, arguments| Ok(ToolCallOutcome::text(Value::Object(arguments.clone()).to_string(), false)))
    }

    /// No server can be reached: starts and probes fail, calls find nothing running.
    pub fn unreachable() -> Self {
        Self { tools: None, ..Self::echo(Vec::new()) }
    }

    /// The clock the built-in `get_time` reads.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Every log level servers were asked for ([`UpstreamConnector::set_log_level`]), in order.
    pub fn log_levels(&self) -> Vec<Option<LogLevel>> {
        lock(&self.log_levels).clone()
    }

    fn tools_of(&self, server: &ToolServer) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        if server.is_builtin {
            return Ok(builtin::tools());
        }
        self.tools.clone().ok_or_else(|| UpstreamError::Unavailable("no upstreams here".into()))
    }
}

#[async_trait]
impl UpstreamConnector for InMemoryUpstream {
    async fn start(
        &self,
        server: &ToolServer,
        _observer: Arc<dyn UpstreamObserver>,
    ) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        let tools = self.tools_of(server)?;
        lock(&self.running).insert(server.id.clone(), server.is_builtin);
        Ok(tools)
    }

    async fn stop(&self, server_id: &str) {
        lock(&self.running).remove(server_id);
    }

    async fn stop_all(&self) {
        lock(&self.running).clear();
    }

    fn is_running(&self, server_id: &str) -> bool {
        lock(&self.running).contains_key(server_id)
    }

    async fn list_tools(&self, server_id: &str, _timeout: Duration) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        match lock(&self.running).get(server_id) {
            Some(true) => Ok(builtin::tools()),
            Some(false) => Ok(self.tools.clone().unwrap_or_default()),
            None => Err(UpstreamError::NotRunning),
        }
    }

    async fn call_tool(
        &self,
        server_id: &str,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        _timeout: Duration,
    ) -> Result<ToolCallOutcome, UpstreamError> {
        let builtin = *lock(&self.running).get(server_id).ok_or(UpstreamError::NotRunning)?;
        let arguments = arguments.unwrap_or_default();
        if builtin {
            return Ok(match builtin::call(tool, &arguments, self.clock.now()) {
                Ok(text) => ToolCallOutcome::text(text, false),
                Err(error) => ToolCallOutcome::text(error, true),
            });
        }
        (self.handler)(tool, &arguments)
    }

    async fn probe(&self, server: &ToolServer) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        self.tools_of(server)
    }

    fn set_log_level(&self, level: Option<LogLevel>) {
        lock(&self.log_levels).push(level);
    }
}

/// Seals secrets reversibly without a key (base64 with a marker): for tests and embedders that
/// keep everything in memory. Never for storage anyone else can read.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainCipher;

const PLAIN_MARK: &str = "plain:";

impl SecretCipher for PlainCipher {
    fn seal(&self, secret: &Secret) -> String {
        use base64::Engine;
        format!("{PLAIN_MARK}{}", base64::engine::general_purpose::STANDARD.encode(secret.expose()))
    }

    fn open(&self, sealed: &str) -> PortResult<Secret> {
        use base64::Engine;
        let corrupt = || DomainError::Storage("not a sealed secret".into());
        let encoded = sealed.strip_prefix(PLAIN_MARK).ok_or_else(corrupt)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| corrupt())?;
        Ok(Secret::new(String::from_utf8(bytes).map_err(|_| corrupt())?))
    }
}

#[async_trait]
impl ReadinessProbe for InMemoryStore {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl InMemoryStore {
    /// Stores call records and their usage at once: nothing here waits, so the call log can
    /// store from its synchronous `record`.
    fn store_calls(&self, records: &[CallRecord]) {
        let usage = Usage::of(records);
        {
            let mut tools = lock(&self.tools);
            for (id, u) in &usage.tools {
                if let Some(tool) = tools.get_mut(id) {
                    let c = u.apply_to(&ToolCounters {
                        total_calls: tool.total_calls,
                        total_errors: tool.total_errors,
                        avg_response_time_ms: tool.avg_response_time_ms,
                        last_called: tool.last_called,
                        last_error: tool.last_error.clone(),
                    });
                    (tool.total_calls, tool.total_errors, tool.avg_response_time_ms) =
                        (c.total_calls, c.total_errors, c.avg_response_time_ms);
                    (tool.last_called, tool.last_error) = (c.last_called, c.last_error);
                }
            }
        }
        {
            let mut grants = lock(&self.grants);
            for ((tenant, id), u) in &usage.grants {
                if let Some(grant) = grants.get_mut(id).filter(|g| &g.tenant == tenant) {
                    grant.usage_count += u.uses;
                    grant.last_used = Some(grant.last_used.map_or(u.last_used, |l| l.max(u.last_used)));
                }
            }
        }
        lock(&self.calls).extend_from_slice(records);
    }
}

#[async_trait]
impl CallLogRepository for InMemoryStore {
    async fn store(&self, records: &[CallRecord]) -> PortResult<()> {
        self.store_calls(records);
        Ok(())
    }

    async fn list(
        &self,
        tenant: &str,
        filter: &CallFilter,
        query: &crate::query::ListQuery,
    ) -> PortResult<(Vec<CallRecord>, u64)> {
        let calls = lock(&self.calls);
        let either = |wanted: &Option<String>, id: &Option<String>, name: &str| {
            wanted.as_ref().is_none_or(|w| id.as_ref() == Some(w) || name == w)
        };
        let mut found: Vec<CallRecord> = calls
            .iter()
            .filter(|r| r.tenant == tenant)
            .filter(|r| either(&filter.tool, &r.tool_id, &r.tool_name))
            .filter(|r| either(&filter.server, &r.server_id, &r.server_name))
            .filter(|r| filter.user.as_ref().is_none_or(|u| *u == r.principal_id))
            .filter(|r| filter.status.is_none_or(|s| s == r.status))
            .filter(|r| filter.since.is_none_or(|t| r.called_at >= t))
            .filter(|r| filter.until.is_none_or(|t| r.called_at < t))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.called_at.cmp(&a.called_at).then_with(|| b.id.cmp(&a.id)));
        Ok(query.apply(found))
    }

    async fn counted_calls(
        &self,
        grant_ids: &[String],
        since: Timestamp,
    ) -> PortResult<Vec<crate::calls::CountedCall>> {
        let calls = lock(&self.calls);
        let mut counted: Vec<crate::calls::CountedCall> = calls
            .iter()
            .filter(|r| r.called_at >= since && r.status != crate::calls::CallStatus::Rejected)
            .filter_map(|r| {
                let grant_id = r.grant_id.as_ref().filter(|g| grant_ids.contains(g))?;
                Some(crate::calls::CountedCall {
                    tenant: r.tenant.clone(),
                    principal_id: r.principal_id.clone(),
                    grant_id: grant_id.clone(),
                    called_at: r.called_at,
                })
            })
            .collect();
        counted.sort_by_key(|c| c.called_at);
        Ok(counted)
    }

    async fn prune(&self, before: Timestamp) -> PortResult<u64> {
        let mut calls = lock(&self.calls);
        let was = calls.len();
        calls.retain(|r| r.called_at >= before);
        Ok((was - calls.len()) as u64)
    }
}

/// The in-memory store is its own call log: records are stored at once.
#[async_trait]
impl CategoryRepository for InMemoryStore {
    async fn list_all(&self) -> PortResult<Vec<CategorySwitch>> {
        Ok(lock(&self.categories).values().cloned().collect())
    }

    async fn set(&self, switch: &CategorySwitch) -> PortResult<()> {
        lock(&self.categories).insert((switch.tenant.clone(), switch.name.clone()), switch.clone());
        Ok(())
    }
}

#[async_trait]
impl CallLog for InMemoryStore {
    fn record(&self, record: CallRecord) {
        self.store_calls(std::slice::from_ref(&record));
    }

    async fn flush(&self) {}
}

impl InMemoryStore {
    /// Every port: this store for storage and the call log, `upstream` for servers, no metrics.
    pub fn ports(self: &Arc<Self>, upstream: Arc<dyn UpstreamConnector>, clock: Arc<dyn Clock>) -> Ports {
        Ports {
            servers: self.clone(),
            tools: self.clone(),
            users: self.clone(),
            grants: self.clone(),
            rules: self.clone(),
            api_keys: self.clone(),
            call_records: self.clone(),
            call_log: self.clone(),
            sessions: self.clone(),
            toolkits: self.clone(),
            categories: self.clone(),
            replicas: Arc::new(crate::ports::SingleReplica),
            registry: self.clone(),
            quotas: Arc::new(crate::access::UsageCounters::default()),
            upstream,
            metrics: Arc::new(NoMetrics),
            clock,
        }
    }
}

#[async_trait]
impl ReplicaRegistry for InMemoryStore {
    async fn heartbeat(&self, replica: &Replica) -> PortResult<()> {
        lock(&self.replicas).insert(replica.id.clone(), replica.clone());
        Ok(())
    }

    async fn live(&self, live_since: Timestamp) -> PortResult<Vec<Replica>> {
        let mut live: Vec<Replica> =
            lock(&self.replicas).values().filter(|r| r.heartbeat_at >= live_since).cloned().collect();
        live.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        Ok(live)
    }

    async fn runtimes(&self, server_id: &str, live_since: Timestamp) -> PortResult<Vec<ReplicaRuntime>> {
        let live = self.live(live_since).await?;
        let runtimes = lock(&self.runtimes);
        Ok(live
            .iter()
            .filter_map(|replica| runtimes.get(&(server_id.to_owned(), replica.id.clone())))
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn expire(&self, live_since: Timestamp) -> PortResult<Vec<ServerRef>> {
        let dead: Vec<String> =
            lock(&self.replicas).values().filter(|r| r.heartbeat_at < live_since).map(|r| r.id.clone()).collect();
        let mut servers = Vec::new();
        for replica in dead {
            servers.extend(self.remove_replica(&replica));
        }
        servers.sort_by(|a, b| a.id.cmp(&b.id));
        servers.dedup();
        Ok(servers)
    }

    async fn leave(&self, replica: &str) -> PortResult<()> {
        self.remove_replica(replica);
        Ok(())
    }
}

impl InMemoryStore {
    /// Removes a replica and its records; the servers it had records of.
    fn remove_replica(&self, replica: &str) -> Vec<ServerRef> {
        lock(&self.replicas).remove(replica);
        let mut runtimes = lock(&self.runtimes);
        let mine: Vec<(String, String)> = runtimes.keys().filter(|(_, of)| of == replica).cloned().collect();
        mine.into_iter()
            .filter_map(|key| runtimes.remove(&key).map(|(tenant, _)| ServerRef { tenant, id: key.0 }))
            .collect()
    }
}
