//! Registering and managing tool servers.

use std::{collections::HashMap, sync::Arc};

use crate::{
    DomainError, Principal, ResourceKind,
    error::DomainResult,
    new_id,
    ports::{Clock, ServerRepository, ToolRepository},
    query::ListQuery,
    server::{CommandPolicy, NewToolServer, ServerFilter, ServerPatch, ToolServer},
    services::{AccessService, CatalogueCache, LifecycleService},
    tool::Tool,
};

/// A server with its tools, as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerView {
    /// The server (the reader view for those who may not manage it).
    pub server: ToolServer,
    /// Its tools the viewer may read.
    pub tools: Vec<Tool>,
}

/// The registry of tool servers: register, change, list and delete.
pub struct ServerService {
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    clock: Arc<dyn Clock>,
    /// Runs servers: starts `auto_start` ones on creation, reconnects them after a change, and
    /// stops them before deletion.
    lifecycle: Arc<LifecycleService>,
    /// Filters what non-administrators see and lets holders of `admin` on a server manage it.
    access: Arc<AccessService>,
    /// Who may set a stdio server's command.
    commands: CommandPolicy,
}

/// Concurrent unconditional updates (no `version`) retry this often: the caller asked for no
/// locking, so each is applied on top of whatever the others wrote.
const UPDATE_ATTEMPTS: usize = 100;

impl ServerService {
    /// The registry over `catalogue`, authorizing through `access` and running servers through
    /// `lifecycle`.
    pub fn new(
        catalogue: Arc<CatalogueCache>,
        access: Arc<AccessService>,
        lifecycle: Arc<LifecycleService>,
        clock: Arc<dyn Clock>,
        commands: CommandPolicy,
    ) -> Self {
        Self { servers: catalogue.clone(), tools: catalogue, clock, lifecycle, access, commands }
    }

    /// The server `input` registers, checked as [`Self::create`] checks it, not stored.
    pub fn check_new(&self, actor: &Principal, input: NewToolServer) -> DomainResult<ToolServer> {
        actor.require_admin("register tool servers")?;
        let server =
            ToolServer::register(input, new_id(), actor.tenant.clone(), Some(actor.id.clone()), self.clock.now())?;
        self.commands.check(actor, None, &server)?;
        self.lifecycle.check_runnable(&server)?;
        Ok(server)
    }

    /// Registers a server (administrators only); an `auto_start` server is started at once.
    pub async fn create(&self, actor: &Principal, input: NewToolServer) -> DomainResult<ServerView> {
        let server = self.check_new(actor, input)?;
        match self.servers.insert(&server).await {
            Err(DomainError::Conflict(_)) => {
                Err(DomainError::Conflict(format!("a tool server named '{}' already exists", server.name)))
            }
            other => other,
        }?;
        if !server.auto_start {
            return Ok(ServerView { server, tools: Vec::new() });
        }
        let mut server = server;
        self.lifecycle.connect(&mut server).await?;
        self.get(actor, &server.id).await
    }

    /// The tenant's servers the actor may see, each with the tools it may read.
    pub async fn list(&self, actor: &Principal, filter: ServerFilter) -> DomainResult<Vec<ServerView>> {
        Ok(self.query(actor, filter, &ListQuery::default()).await?.0)
    }

    /// The servers the actor may see that pass the filter and `query`, and how many passed.
    /// The database filters and sorts; for administrators (who see every server) it pages too,
    /// for others the page is cut after their view.
    pub async fn query(
        &self,
        actor: &Principal,
        filter: ServerFilter,
        query: &ListQuery,
    ) -> DomainResult<(Vec<ServerView>, u64)> {
        let query = filter.into_query(query.clone());
        let sees_all = actor.is_admin();
        let asked = if sees_all { query.clone() } else { query.unpaged() };
        let (servers, total) = self.servers.query(&actor.tenant, &asked).await?;
        let views = self.with_tools(&actor.tenant, servers).await?;
        let visible: Vec<ServerView> = views.into_iter().filter_map(|v| self.visible(actor, v)).collect();
        if sees_all {
            return Ok((visible, total));
        }
        let total = visible.len() as u64;
        Ok((query.page_of(visible), total))
    }

    /// One server the actor may see.
    pub async fn get(&self, actor: &Principal, id: &str) -> DomainResult<ServerView> {
        let server = self.access.load_server(actor, id).await?;
        let mut views = self.with_tools(&actor.tenant, vec![server]).await?;
        self.visible(actor, views.remove(0)).ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id))
    }

    /// The server of this name the actor may see (as it may see it), if any.
    pub async fn find_by_name(&self, actor: &Principal, name: &str) -> DomainResult<Option<ToolServer>> {
        use crate::query::{Scalar, Test};
        let named =
            ListQuery::default().and(crate::server::SERVER_FIELDS, "name", Test::Equals(Scalar::Text(name.into())));
        let (mut views, _) = self.query(actor, ServerFilter::all(), &named).await?;
        Ok(views.pop().map(|v| v.server))
    }

    /// What the actor may see of a server: nothing, or the server with the tools it may read.
    fn visible(&self, actor: &Principal, view: ServerView) -> Option<ServerView> {
        let tools = self.access.visible_tools(actor, &view.server, view.tools)?;
        let (server, tools) = self.access.shown_to(actor, view.server, tools);
        Some(ServerView { server, tools })
    }

    /// Changes a server the actor manages, re-validated whole; a running server reconnects.
    pub async fn update(&self, actor: &Principal, id: &str, patch: ServerPatch) -> DomainResult<ServerView> {
        for attempt in 0..UPDATE_ATTEMPTS {
            if attempt > 0 {
                // Lost a race with another writer: let it finish before reading again.
                yield_now().await;
            }
            let mut server = self.access.managed_server(actor, id).await?;
            let read_version = server.version;
            if let Some(expected) = patch.expected_version
                && expected != read_version
            {
                return Err(DomainError::VersionMismatch { kind: ResourceKind::ToolServer, current: read_version });
            }
            let before = server.clone();
            server.apply(patch.clone(), self.clock.now())?;
            self.commands.check(actor, Some(&before), &server)?;
            self.lifecycle.check_runnable(&server)?;
            server.version = read_version + 1;
            if self.servers.update(&server, read_version).await? {
                // A running server picks up its new configuration by reconnecting.
                if self.lifecycle.is_running(id) {
                    let (mut server, _turn) = self.lifecycle.managed_in_turn(actor, id).await?;
                    self.lifecycle.connect(&mut server).await?;
                }
                return self.get(actor, id).await;
            }
        }
        let current = self.access.load_server(actor, id).await?.version;
        Err(DomainError::VersionMismatch { kind: ResourceKind::ToolServer, current })
    }

    /// Deletes a server the actor manages: stopped first, its grants and toolkit places removed.
    pub async fn delete(&self, actor: &Principal, id: &str) -> DomainResult<()> {
        let (mut server, _turn) = self.lifecycle.managed_in_turn(actor, id).await?;
        super::lifecycle::runtime::refuse_builtin(&server, "be deleted")?;
        self.lifecycle.disconnect(&mut server).await?;
        let tool_ids: Vec<String> = self
            .tools
            .list_for_servers(&actor.tenant, std::slice::from_ref(&server.id))
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        if !self.servers.delete(&actor.tenant, id).await? {
            return Err(DomainError::not_found(ResourceKind::ToolServer, id));
        }
        self.access.forget_server(&actor.tenant, id, &tool_ids).await?;
        self.lifecycle.forget(id);
        Ok(())
    }

    async fn with_tools(&self, tenant: &str, servers: Vec<ToolServer>) -> DomainResult<Vec<ServerView>> {
        let ids: Vec<String> = servers.iter().map(|s| s.id.clone()).collect();
        let mut by_server: HashMap<String, Vec<Tool>> = HashMap::new();
        for tool in self.tools.list_for_servers(tenant, &ids).await? {
            by_server.entry(tool.server_id.clone()).or_default().push(tool);
        }
        Ok(servers
            .into_iter()
            .map(|server| {
                let tools = by_server.remove(&server.id).unwrap_or_default();
                ServerView { server, tools }
            })
            .collect())
    }
}

/// Yields to the executor once (the domain depends on no runtime).
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
