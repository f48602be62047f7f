//! The tool servers and tools, as every service reads and writes them, with a short-lived copy
//! of what calls resolve so that the call path reads no storage.
//!
//! The catalogue is a decorator over the server and tool repositories: every service gets it in
//! their place, so each write made by this process drops the copy at once. A write made by
//! another replica (sharing PostgreSQL) reaches calls here within [`CALL_TARGET_CACHE_SECS`].

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use async_trait::async_trait;

use crate::{
    DomainError, ResourceKind, Timestamp,
    calls::{ArgumentsValidator, compile_schema},
    error::DomainResult,
    ports::{Clock, PortResult, RuntimeReport, ServerRepository, ToolRepository},
    server::{ServerFilter, ServerStatus, ToolServer},
    tool::{Reconciliation, Tool, ToolStatus},
    upstream::ServerRef,
};

/// How long a resolved call target is used without reading storage again.
pub const CALL_TARGET_CACHE_SECS: i64 = 5;

/// Above this many cached targets the copy starts over.
const CACHE_MAX: usize = 10_000;

/// Above this many tenants' snapshots the copy of them starts over.
const TENANTS_MAX: usize = 1_000;

/// Which tool a call or check names.
#[derive(Debug, Clone, Copy)]
pub enum ToolSelector<'a> {
    /// By the tool's id.
    Id(&'a str),
    /// By the tool's name, and its server's name when several servers have a tool of that name.
    Name {
        /// The server's name; needed when several servers have a tool of that name.
        server: Option<&'a str>,
        /// The tool's name.
        tool: &'a str,
    },
}

/// A tool and its server, as a call sees them.
pub struct CallTarget {
    /// The tool.
    pub tool: Tool,
    /// Its server.
    pub server: ToolServer,
    validator: OnceLock<Option<ArgumentsValidator>>,
}

impl CallTarget {
    /// A target of this tool and server.
    pub fn new(tool: Tool, server: ToolServer) -> Self {
        Self { tool, server, validator: OnceLock::new() }
    }

    /// The tool's input schema, compiled on first use (once per copy of the target).
    pub fn arguments_validator(&self) -> Option<&ArgumentsValidator> {
        self.validator.get_or_init(|| compile_schema(self.tool.args_schema.as_ref())).as_ref()
    }
}

#[derive(Default)]
struct Cache {
    /// Bumped by every write, so a read that raced a write does not store what it read.
    generation: u64,
    targets: HashMap<(String, String, String), (Timestamp, Arc<CallTarget>)>,
    tenants: HashMap<String, (Timestamp, Arc<TenantCatalogue>)>,
}

/// Every server and tool of a tenant at one moment (servers in creation order, tools in their
/// server's order), for listings that look at all of them (the MCP gateway's `tools/list`).
#[derive(Debug, Default)]
pub struct TenantCatalogue {
    /// The servers, in creation order.
    pub servers: Vec<ToolServer>,
    /// The tools, in their servers' order.
    pub tools: Vec<Tool>,
}

/// The server and tool repositories, as every service uses them, with a short-lived copy of
/// call targets (see the module's documentation).
pub struct CatalogueCache {
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    clock: Arc<dyn Clock>,
    cache: std::sync::Mutex<Cache>,
    changes: Changes,
    /// Told of every write, so that other replicas drop their copies too.
    replicas: Arc<dyn crate::ports::ReplicaBus>,
}

/// Tells listeners (the MCP gateway's sessions) that what principals may use may have changed:
/// a server or tool was written, or a grant or rule. Coarse and coalescing: a listener that
/// wakes recomputes what it shows and compares.
#[derive(Debug, Clone, Default)]
pub struct Changes(Arc<ChangesInner>);

#[derive(Debug, Default)]
struct ChangesInner {
    listeners: std::sync::Mutex<Vec<futures::channel::mpsc::Sender<()>>>,
    generation: std::sync::atomic::AtomicU64,
}

impl Changes {
    /// Announces a change to every listener.
    pub fn notify(&self) {
        self.0.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut listeners = self.0.listeners.lock().unwrap_or_else(|p| p.into_inner());
        // A full channel already holds a wake; a closed one's listener is gone.
        listeners.retain_mut(|listener| match listener.try_send(()) {
            Ok(()) => true,
            Err(e) => e.is_full(),
        });
    }

    /// A stream that yields after each later [`Self::notify`] (several coalesce into one).
    pub fn subscribe(&self) -> futures::channel::mpsc::Receiver<()> {
        let (sender, receiver) = futures::channel::mpsc::channel(0);
        self.0.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(sender);
        receiver
    }

    /// Counts the changes so far: what was computed at one generation holds while it stays.
    pub fn generation(&self) -> u64 {
        self.0.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CatalogueCache {
    /// The cache over these repositories; writes are told to `replicas`.
    pub fn new(
        servers: Arc<dyn ServerRepository>,
        tools: Arc<dyn ToolRepository>,
        clock: Arc<dyn Clock>,
        replicas: Arc<dyn crate::ports::ReplicaBus>,
    ) -> Self {
        Self { servers, tools, clock, cache: Default::default(), changes: Changes::default(), replicas }
    }

    /// Drops the copies and tells listeners (another replica wrote).
    pub fn forget_copies(&self) {
        let mut cache = self.lock();
        cache.generation += 1;
        cache.targets.clear();
        cache.tenants.clear();
        drop(cache);
        self.changes.notify();
    }

    /// Where writes to servers and tools (and, through the access service, to grants and
    /// rules) are announced.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The tool a call names and its server, from the copy when it is recent enough.
    pub async fn call_target(&self, tenant: &str, selector: ToolSelector<'_>) -> DomainResult<Arc<CallTarget>> {
        let key = match selector {
            ToolSelector::Id(id) => (tenant.to_owned(), String::new(), id.to_owned()),
            // A name key never collides with an id key: ids have no server part, and a name
            // key without a server is marked with a character no server name may contain.
            ToolSelector::Name { server, tool } => {
                (tenant.to_owned(), server.unwrap_or("\u{0}").to_owned(), tool.to_owned())
            }
        };
        let now = self.clock.now();
        let generation = {
            let cache = self.lock();
            if let Some((at, target)) = cache.targets.get(&key)
                && (now - *at).num_seconds() < CALL_TARGET_CACHE_SECS
            {
                return Ok(target.clone());
            }
            cache.generation
        };
        let (tool, server) = match selector {
            ToolSelector::Id(id) => {
                let tool =
                    self.tools.get(tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::Tool, id))?;
                let server = self
                    .servers
                    .get(tenant, &tool.server_id)
                    .await?
                    .ok_or_else(|| DomainError::not_found(ResourceKind::Tool, id))?;
                (tool, server)
            }
            ToolSelector::Name { server, tool } => {
                find_tool(&*self.servers, &*self.tools, tenant, tool, server).await?
            }
        };
        let target = Arc::new(CallTarget::new(tool, server));
        let mut cache = self.lock();
        if cache.generation == generation {
            if cache.targets.len() >= CACHE_MAX {
                cache.targets.clear();
            }
            cache.targets.insert(key, (now, target.clone()));
        }
        Ok(target)
    }

    /// Every server and tool of the tenant, from the copy when it is recent enough (the same
    /// [`CALL_TARGET_CACHE_SECS`] as call targets; a write here drops it at once).
    pub async fn snapshot(&self, tenant: &str) -> DomainResult<Arc<TenantCatalogue>> {
        let now = self.clock.now();
        let generation = {
            let cache = self.lock();
            if let Some((at, snapshot)) = cache.tenants.get(tenant)
                && (now - *at).num_seconds() < CALL_TARGET_CACHE_SECS
            {
                return Ok(snapshot.clone());
            }
            cache.generation
        };
        let servers = self.servers.list(tenant, ServerFilter::all()).await?;
        let tools = self.tools.list_all(tenant).await?;
        let snapshot = Arc::new(TenantCatalogue { servers, tools });
        let mut cache = self.lock();
        if cache.generation == generation {
            if cache.tenants.len() >= TENANTS_MAX {
                cache.tenants.clear();
            }
            cache.tenants.insert(tenant.to_owned(), (now, snapshot.clone()));
        }
        Ok(snapshot)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the copy after a write (called whether or not the write succeeded: a failed write
    /// may still have changed something).
    fn changed<T>(&self, result: PortResult<T>) -> PortResult<T> {
        self.forget_copies();
        self.replicas.publish(crate::ports::ReplicaEvent::Catalogue);
        result
    }
}

/// Finds a tool by name (and server name) in storage. Several servers with the tool and no
/// server name given is a 422, not a guess.
async fn find_tool(
    servers: &dyn ServerRepository,
    tools: &dyn ToolRepository,
    tenant: &str,
    tool_name: &str,
    server_name: Option<&str>,
) -> DomainResult<(Tool, ToolServer)> {
    let mut found: Vec<(Tool, ToolServer)> = Vec::new();
    for tool in tools.find_by_name(tenant, tool_name).await? {
        if let Some(server) = servers.get(tenant, &tool.server_id).await?
            && server_name.is_none_or(|n| n == server.name)
        {
            found.push((tool, server));
        }
    }
    match found.len() {
        0 => Err(DomainError::not_found(ResourceKind::Tool, tool_name)),
        1 => Ok(found.remove(0)),
        _ => Err(DomainError::invalid("server_name", "several servers have a tool of that name; name the server")),
    }
}

#[async_trait]
impl ServerRepository for CatalogueCache {
    async fn insert(&self, server: &ToolServer) -> PortResult<()> {
        self.changed(self.servers.insert(server).await)
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<ToolServer>> {
        self.servers.get(tenant, id).await
    }

    async fn list(&self, tenant: &str, filter: ServerFilter) -> PortResult<Vec<ToolServer>> {
        self.servers.list(tenant, filter).await
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<ToolServer>, u64)> {
        self.servers.query(tenant, query).await
    }

    async fn update(&self, server: &ToolServer, expected_version: i64) -> PortResult<bool> {
        self.changed(self.servers.update(server, expected_version).await)
    }

    async fn delete(&self, tenant: &str, id: &str) -> PortResult<bool> {
        self.changed(self.servers.delete(tenant, id).await)
    }

    async fn update_runtime(&self, server: &ServerRef, report: &RuntimeReport<'_>) -> PortResult<Option<ServerStatus>> {
        self.changed(self.servers.update_runtime(server, report).await)
    }

    async fn list_to_resume(&self) -> PortResult<Vec<ToolServer>> {
        self.servers.list_to_resume().await
    }
}

#[async_trait]
impl ToolRepository for CatalogueCache {
    async fn insert(&self, tool: &Tool) -> PortResult<()> {
        self.changed(self.tools.insert(tool).await)
    }

    async fn list_for_servers(&self, tenant: &str, server_ids: &[String]) -> PortResult<Vec<Tool>> {
        self.tools.list_for_servers(tenant, server_ids).await
    }

    async fn list_all(&self, tenant: &str) -> PortResult<Vec<Tool>> {
        self.tools.list_all(tenant).await
    }

    async fn find_by_name(&self, tenant: &str, name: &str) -> PortResult<Vec<Tool>> {
        self.tools.find_by_name(tenant, name).await
    }

    async fn page(&self, tenant: &str, server_id: &str, limit: u64, offset: u64) -> PortResult<(Vec<Tool>, u64)> {
        self.tools.page(tenant, server_id, limit, offset).await
    }

    async fn query(&self, tenant: &str, query: &crate::query::ListQuery) -> PortResult<(Vec<Tool>, u64)> {
        self.tools.query(tenant, query).await
    }

    async fn get(&self, tenant: &str, id: &str) -> PortResult<Option<Tool>> {
        self.tools.get(tenant, id).await
    }

    async fn set_status(&self, tenant: &str, id: &str, status: ToolStatus, at: Timestamp) -> PortResult<bool> {
        self.changed(self.tools.set_status(tenant, id, status, at).await)
    }

    async fn apply(&self, changes: &Reconciliation) -> PortResult<()> {
        self.changed(self.tools.apply(changes).await)
    }
}
