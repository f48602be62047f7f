//! What servers offer besides tools (resources, resource templates, prompts), for the
//! principals who may read the server itself: administrators, and holders of a server-level
//! `read` (or higher) grant or rule. A tool grant alone does not open a server's resources.
//! Servers' log messages are for those who may administer the server: an upstream session is
//! shared by every caller, so its log may quote anyone's calls.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::{
    DomainError, Principal, ResourceKind,
    access::{AccessLevel, ToolRef},
    error::DomainResult,
    ports::ServerRepository,
    server::{ServerFilter, ServerStatus, ToolServer},
    services::{AccessService, CatalogueCache, ListenerId, NoticeStream, UpstreamNotices, lifecycle::timeout_of},
    upstream::{LogLevel, Offering, ServerRef, UpstreamConnector, UpstreamNotice},
};

/// Lists, reads and gets what the servers a principal may read offer.
pub struct OfferingService {
    servers: Arc<dyn ServerRepository>,
    upstream: Arc<dyn UpstreamConnector>,
    access: Arc<AccessService>,
    notices: Arc<UpstreamNotices>,
}

impl OfferingService {
    /// The service over the catalogue, the upstream connector, the engine, and the hub of
    /// servers' notices.
    pub fn new(
        catalogue: Arc<CatalogueCache>,
        upstream: Arc<dyn UpstreamConnector>,
        access: Arc<AccessService>,
        notices: Arc<UpstreamNotices>,
    ) -> Self {
        Self { servers: catalogue, upstream, access, notices }
    }

    fn may_read(&self, actor: &Principal, server: &ToolServer) -> bool {
        self.may(actor, server, AccessLevel::Read)
    }

    fn may(&self, actor: &Principal, server: &ToolServer, level: AccessLevel) -> bool {
        actor.is_admin() || self.access.decide(actor, &ToolRef::server(server), level).allowed
    }

    /// Every later notice of every server; pass each through [`Self::hears`] before it goes
    /// to a principal. Log messages come once a level is set ([`Self::set_log_level`]).
    pub fn notices(&self) -> NoticeStream {
        self.notices.subscribe()
    }

    /// Sets the least severe log message a listener wants (`None`: none).
    pub fn set_log_level(&self, listener: ListenerId, level: Option<LogLevel>) {
        self.notices.set_level(listener, level);
    }

    /// The server of a notice, if `actor` may hear it: a change of resources or prompts, if it
    /// may read the server; a log message, if it may administer it.
    pub async fn hears(&self, actor: &Principal, server: &ServerRef, notice: &UpstreamNotice) -> Option<ToolServer> {
        if server.tenant != actor.tenant {
            return None;
        }
        let stored = self.servers.get(&server.tenant, &server.id).await.ok().flatten()?;
        let level = match notice {
            UpstreamNotice::Log { .. } => AccessLevel::Admin,
            UpstreamNotice::ResourcesChanged | UpstreamNotice::PromptsChanged => AccessLevel::Read,
        };
        self.may(actor, &stored, level).then_some(stored)
    }

    /// The running servers of the actor's tenant it may read, in creation order.
    pub async fn readable_servers(&self, actor: &Principal) -> DomainResult<Vec<ToolServer>> {
        let servers = self.servers.list(&actor.tenant, ServerFilter::all()).await?;
        Ok(servers
            .into_iter()
            .filter(|s| s.status == ServerStatus::Enabled && self.upstream.is_running(&s.id))
            .filter(|s| self.may_read(actor, s))
            .collect())
    }

    /// What each readable server offers of `kind`, by server. A server that fails to answer is
    /// left out (and logged): one broken server does not hide the others'.
    pub async fn list(&self, actor: &Principal, kind: Offering) -> DomainResult<Vec<(ToolServer, Vec<Value>)>> {
        Ok(self.offered_by(self.readable_servers(actor).await?, kind).await)
    }

    /// As [`Self::list`], for servers [`Self::readable_servers`] gave (and a caller may have
    /// narrowed), so that they are not read twice.
    pub async fn offered_by(&self, servers: Vec<ToolServer>, kind: Offering) -> Vec<(ToolServer, Vec<Value>)> {
        let listings = servers.iter().map(|s| self.upstream.list_offerings(&s.id, kind, timeout_of(s)));
        let listings = futures::future::join_all(listings).await;
        servers
            .into_iter()
            .zip(listings)
            .filter_map(|(server, listed)| match listed {
                Ok(items) if !items.is_empty() => Some((server, items)),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(server = %server.name, %error, %kind, "cannot list what the server offers");
                    None
                }
            })
            .collect()
    }

    /// Reads a resource of a server the actor may read.
    pub async fn read_resource(&self, actor: &Principal, server: &ToolServer, uri: &str) -> DomainResult<Value> {
        self.require(actor, server)?;
        Ok(self.upstream.read_resource(&server.id, uri, timeout_of(server)).await?)
    }

    /// Gets a prompt of a server the actor may read.
    pub async fn get_prompt(
        &self,
        actor: &Principal,
        server: &ToolServer,
        name: &str,
        arguments: Option<Map<String, Value>>,
    ) -> DomainResult<Value> {
        self.require(actor, server)?;
        Ok(self.upstream.get_prompt(&server.id, name, arguments, timeout_of(server)).await?)
    }

    /// Completes an argument of a prompt or resource template of a server the actor may read
    /// (`params` as MCP's `completion/complete` has them, naming the server's own prompt).
    pub async fn complete(&self, actor: &Principal, server: &ToolServer, params: Value) -> DomainResult<Value> {
        self.require(actor, server)?;
        Ok(self.upstream.complete(&server.id, params, timeout_of(server)).await?)
    }

    fn require(&self, actor: &Principal, server: &ToolServer) -> DomainResult<()> {
        if server.tenant != actor.tenant || !self.may_read(actor, server) {
            return Err(DomainError::not_found(ResourceKind::ToolServer, &server.id));
        }
        Ok(())
    }
}
