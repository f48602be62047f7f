//! The tools of a tenant as principals see them: listings filtered by the access engine, and
//! enabling or disabling a tool.

use std::{collections::HashMap, sync::Arc};

use crate::{
    DomainError, Principal, ResourceKind,
    access::AccessLevel,
    error::DomainResult,
    ports::{Clock, ServerRepository, ToolRepository},
    query::ListQuery,
    server::{ServerFilter, ToolServer},
    services::{AccessService, CatalogueCache, Outcome},
    tool::{Tool, ToolStatus},
};

/// A tool as a catalogue lists it: with its server, its category (its own, else its
/// server's) and whether it can be called now as far as switches go.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    /// The tool, as the actor may see it.
    pub tool: Tool,
    /// Its server's name.
    pub server_name: String,
    /// Its category.
    pub category: Option<String>,
    /// The tool, its server and its category are all enabled.
    pub enabled: bool,
}

/// A category of the tools a catalogue lists, and its switch.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryState {
    /// The category, as tools name it.
    pub name: String,
    /// Whether it is switched on.
    pub enabled: bool,
}

/// Lists tools (only what the principal may read) and enables or disables them.
pub struct ToolService {
    catalogue: Arc<CatalogueCache>,
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    access: Arc<AccessService>,
    clock: Arc<dyn Clock>,
}

impl ToolService {
    /// Tools through `catalogue`, filtered by `access`.
    pub fn new(catalogue: Arc<CatalogueCache>, access: Arc<AccessService>, clock: Arc<dyn Clock>) -> Self {
        Self { servers: catalogue.clone(), tools: catalogue.clone(), catalogue, access, clock }
    }

    /// One page of a server's tools that the actor may read, and how many there are.
    pub async fn server_tools(
        &self,
        actor: &Principal,
        id: &str,
        limit: u64,
        offset: u64,
    ) -> DomainResult<(Vec<Tool>, u64)> {
        let server = self.access.load_server(actor, id).await?;
        if self.access.may_manage(actor, &server) {
            return self.tools.page(&actor.tenant, id, limit, offset).await;
        }
        // Readers see a filtered list, so it is paged after filtering (one server's tools).
        let all = self.tools.list_for_servers(&actor.tenant, std::slice::from_ref(&server.id)).await?;
        let visible = self
            .access
            .visible_tools(actor, &server, all)
            .ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id))?;
        let total = visible.len() as u64;
        Ok((visible.into_iter().skip(offset as usize).take(limit as usize).map(Tool::reader_view).collect(), total))
    }

    /// The tools of the tenant the actor may read that pass `query`, with their server's name,
    /// and how many passed. The database filters and sorts; for whoever manages every server
    /// (who sees every tool) it pages too, for others the page is cut after their view.
    pub async fn all_tools(&self, actor: &Principal, query: &ListQuery) -> DomainResult<(Vec<(Tool, String)>, u64)> {
        let servers = self.servers.list(&actor.tenant, ServerFilter::all()).await?;
        // Whether the actor manages a server is decided once per server, not once per tool.
        let servers: HashMap<&str, (&ToolServer, bool)> =
            servers.iter().map(|s| (s.id.as_str(), (s, self.access.may_manage(actor, s)))).collect();
        let sees_all = servers.values().all(|(_, manages)| *manages);
        let (tools, total) = match sees_all {
            true => self.tools.query(&actor.tenant, query).await?,
            false => self.tools.query(&actor.tenant, &query.unpaged()).await?,
        };
        let visible: Vec<(Tool, String)> = tools
            .into_iter()
            .filter_map(|t| {
                let &(server, manages) = servers.get(t.server_id.as_str())?;
                if manages {
                    return Some((t, server.name.clone()));
                }
                let readable = self.access.may_use(actor, &t, server, AccessLevel::Read);
                readable.then(|| (t.reader_view(), server.name.clone()))
            })
            .collect();
        if sees_all {
            return Ok((visible, total));
        }
        let total = visible.len() as u64;
        Ok((query.page_of(visible), total))
    }

    /// The tools the actor may call now, by server (servers in creation order, tools in their
    /// server's order): execute level, the tool enabled and available on a running server,
    /// inside its grant's windows and before its expiry. What an MCP gateway session lists.
    pub async fn callable_tools(&self, actor: &Principal) -> DomainResult<Vec<(ToolServer, Vec<Tool>)>> {
        let catalogue = self.catalogue.snapshot(&actor.tenant).await?;
        let by_id: HashMap<&str, &ToolServer> = catalogue.servers.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut by_server: HashMap<&str, Vec<Tool>> = HashMap::new();
        for tool in &catalogue.tools {
            if let Some(server) = by_id.get(tool.server_id.as_str())
                && self.access.may_use(actor, tool, server, AccessLevel::Execute)
            {
                by_server.entry(server.id.as_str()).or_default().push(tool.clone());
            }
        }
        let mut callable: Vec<(ToolServer, Vec<Tool>)> = Vec::new();
        for server in &catalogue.servers {
            if let Some(tools) = by_server.remove(server.id.as_str()) {
                callable.push((server.clone(), tools));
            }
        }
        Ok(callable)
    }

    /// Every tool of the tenant the actor may read, with its category and switches, and the
    /// categories they are in (sorted). Users do not see disabled tools, nor the tools of a
    /// disabled category; whoever manages a server sees all of its tools.
    pub async fn catalogue(&self, actor: &Principal) -> DomainResult<(Vec<CatalogueEntry>, Vec<CategoryState>)> {
        let catalogue = self.catalogue.snapshot(&actor.tenant).await?;
        let servers: HashMap<&str, (&ToolServer, bool)> =
            catalogue.servers.iter().map(|s| (s.id.as_str(), (s, self.access.may_manage(actor, s)))).collect();
        let mut entries = Vec::new();
        let mut categories = std::collections::BTreeMap::new();
        for tool in &catalogue.tools {
            let Some(&(server, manages)) = servers.get(tool.server_id.as_str()) else { continue };
            if !manages && !self.access.may_use(actor, tool, server, AccessLevel::Read) {
                continue;
            }
            let category = crate::category::category_of(tool, server);
            let category_on = category.is_none_or(|c| !self.access.category_disabled(&actor.tenant, c));
            if let Some(name) = category {
                categories.entry(name.to_owned()).or_insert(category_on);
            }
            let usable = crate::access::ToolRef::of(tool, server);
            entries.push(CatalogueEntry {
                enabled: usable.tool_usable && usable.server_usable && category_on,
                category: category.map(str::to_owned),
                server_name: server.name.clone(),
                tool: if manages { tool.clone() } else { tool.clone().reader_view() },
            });
        }
        let categories = categories.into_iter().map(|(name, enabled)| CategoryState { name, enabled }).collect();
        Ok((entries, categories))
    }

    /// Enables or disables a tool of a server the actor manages.
    pub async fn set_tool_enabled(&self, actor: &Principal, tool_id: &str, enabled: bool) -> DomainResult<Outcome> {
        let tool = self
            .tools
            .get(&actor.tenant, tool_id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::Tool, tool_id))?;
        self.access.managed_server(actor, &tool.server_id).await.map_err(|e| match e {
            DomainError::NotFound { .. } => DomainError::not_found(ResourceKind::Tool, tool_id),
            other => other,
        })?;
        let status = if enabled { ToolStatus::Enabled } else { ToolStatus::Disabled };
        if !self.tools.set_status(&actor.tenant, tool_id, status, self.clock.now()).await? {
            return Err(DomainError::not_found(ResourceKind::Tool, tool_id));
        }
        Ok(Outcome::new(true, if enabled { "Tool enabled successfully" } else { "Tool disabled successfully" }))
    }
}
