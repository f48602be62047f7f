//! In-memory implementations of the ports, for domain tests and for embedders that do not
//! want a database. They honour the same contracts as the storage adapter.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

use crate::{
    DomainError, Timestamp,
    api_key::ApiKey,
    ports::{ApiKeyRepository, Clock, PortResult, ServerRepository, ToolRepository, UserRepository},
    principal::User,
    server::{RuntimeState, ServerFilter, ServerStatus, ToolServer},
    tool::{Reconciliation, Tool, ToolStatus},
    upstream::ServerRef,
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
}

impl InMemoryStore {
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
        Ok(true)
    }

    async fn update_runtime(&self, server: &ServerRef, state: &RuntimeState) -> PortResult<bool> {
        let mut servers = lock(&self.servers);
        match servers.get_mut(&server.id).filter(|s| s.tenant == server.tenant) {
            Some(stored) => {
                stored.set_runtime(state.clone());
                Ok(true)
            }
            None => Ok(false),
        }
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
        if tools.values().any(|t| t.server_id == tool.server_id && t.name == tool.name) {
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

    async fn page(&self, tenant: &str, server_id: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)> {
        let all = self.tools_where(|t| t.tenant == tenant && t.server_id == server_id);
        let total = all.len() as u64;
        let page = all.into_iter().skip(offset as usize).take(limit as usize).collect();
        Ok((page, total))
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
        for tool in changes.inserted.iter().chain(&changes.updated) {
            tools.insert(tool.id.clone(), tool.clone());
        }
        Ok(())
    }
}

impl InMemoryStore {
    fn tools_where(&self, keep: impl Fn(&Tool) -> bool) -> Vec<Tool> {
        let mut tools: Vec<Tool> = lock(&self.tools).values().filter(|t| keep(t)).cloned().collect();
        tools.sort_by(|a, b| (&a.server_id, a.sort_order, &a.name).cmp(&(&b.server_id, b.sort_order, &b.name)));
        tools
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
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *lock(&self.0)
    }
}
