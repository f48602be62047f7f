//! What of a server a principal may see or manage: invisible servers and tools are answered
//! like missing ones (404), so that callers learn nothing of what they may not read.

use super::AccessService;
use crate::{
    DomainError, Principal, ResourceKind,
    access::{AccessLevel, ToolRef},
    error::DomainResult,
    server::ToolServer,
    tool::Tool,
};

/// Administrators see and manage every server of their tenant whatever the admin bypass (which
/// is only about using tools without grants).
impl AccessService {
    /// Administrators, and holders of `admin` on the server, manage it and its tools.
    pub fn may_manage(&self, principal: &Principal, server: &ToolServer) -> bool {
        principal.is_admin() || self.decide(principal, &ToolRef::server(server), AccessLevel::Admin).allowed
    }

    /// Refuses (403) a principal who may not manage the server.
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
        principal.is_admin()
            || self.decide(principal, &ToolRef::server(server), AccessLevel::Read).allowed
            || tools.iter().any(|t| self.may_use(principal, t, server, AccessLevel::Read))
    }

    /// What of a server the principal may see: nothing (`None`), or the tools it may read (all
    /// of them for administrators). One decision per tool.
    pub fn visible_tools(&self, principal: &Principal, server: &ToolServer, tools: Vec<Tool>) -> Option<Vec<Tool>> {
        if principal.is_admin() {
            return Some(tools);
        }
        let readable: Vec<Tool> =
            tools.into_iter().filter(|t| self.may_use(principal, t, server, AccessLevel::Read)).collect();
        let visible =
            !readable.is_empty() || self.decide(principal, &ToolRef::server(server), AccessLevel::Read).allowed;
        visible.then_some(readable)
    }

    /// The server and tools as the actor may see them: whole for its managers, else the reader
    /// views (no command, environment, headers, credentials, errors).
    pub fn shown_to(&self, actor: &Principal, server: ToolServer, tools: Vec<Tool>) -> (ToolServer, Vec<Tool>) {
        if self.may_manage(actor, &server) {
            (server, tools)
        } else {
            (server.reader_view(), tools.into_iter().map(Tool::reader_view).collect())
        }
    }

    /// A server the actor may see, with all its tools (visibility is decided on them).
    pub async fn visible_server_and_tools(&self, actor: &Principal, id: &str) -> DomainResult<(ToolServer, Vec<Tool>)> {
        let server = self.load_server(actor, id).await?;
        let tools = self.tools.list_for_servers(&server.tenant, std::slice::from_ref(&server.id)).await?;
        if !self.may_see_server(actor, &server, &tools) {
            return Err(DomainError::not_found(ResourceKind::ToolServer, id));
        }
        Ok((server, tools))
    }

    /// A server the actor may see (administrators see all of their tenant's).
    pub async fn visible_server(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        if actor.is_admin() {
            return self.load_server(actor, id).await;
        }
        Ok(self.visible_server_and_tools(actor, id).await?.0)
    }

    /// A server the actor may see and manage.
    pub async fn managed_server(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        let server = self.visible_server(actor, id).await?;
        self.require_manage(actor, &server)?;
        Ok(server)
    }

    /// A server of the actor's tenant, visible or not.
    pub(crate) async fn load_server(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        self.servers.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id))
    }
}
