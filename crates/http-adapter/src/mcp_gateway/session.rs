//! What one MCP client sees: the tools its principal may call, named uniquely across servers,
//! and calls that take the same path as the REST call endpoint.

use std::{collections::HashSet, sync::Arc};

use futures::StreamExt;

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock,
        Extensions, GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation, JsonObject,
        ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, ServerCapabilities,
        ServerConfig, Tool as McpTool, ToolAnnotations,
    },
    service::{NotificationContext, Peer, RequestContext},
};
use serde_json::Value;
use toolhub_domain::{
    Principal,
    server::ToolServer,
    services::{ListenerId, Services, ToolSelector},
    tool::Tool,
    upstream::{LogLevel, Offering, ServerRef, UpstreamNotice},
};

/// Between a server's name and its tool's name in the tools of `/mcp`.
pub const SEPARATOR: &str = "__";
/// Longest tool name MCP allows.
const NAME_MAX: usize = 128;
/// Tools per `tools/list` page.
pub const PAGE_SIZE: usize = 1000;
/// How often a session's tools are looked at again without a write (windows, expiries).
const WINDOW_CHECK: std::time::Duration = std::time::Duration::from_secs(60);
/// How long a session waits after a write before it looks (writes come in bursts).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(100);

/// Which tools an endpoint serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `/mcp`: every server's, named `<server>__<tool>`.
    All,
    /// `/mcp/servers/{name}`: one server's, under their own names.
    Server(String),
    /// `/mcp/toolkits/{toolkit}`: a toolkit's, in its order and under its names.
    Toolkit(String),
}

impl Scope {
    /// The scope a request path names; `None` for a path of no endpoint.
    pub fn of_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/mcp")?;
        match rest.trim_end_matches('/') {
            "" => Some(Self::All),
            other => {
                let named = |prefix: &str| {
                    other.strip_prefix(prefix).filter(|name| !name.is_empty() && !name.contains('/')).map(str::to_owned)
                };
                named("/servers/").map(Self::Server).or_else(|| named("/toolkits/").map(Self::Toolkit))
            }
        }
    }

    /// Whether the scope serves what a server offers besides tools (its resources, prompts
    /// and log messages): toolkits bundle tools only.
    fn serves_offerings_of(&self, server: &str) -> bool {
        match self {
            Self::All => true,
            Self::Server(name) => name == server,
            Self::Toolkit(_) => false,
        }
    }
}

/// One MCP session's handler; the principal and scope come with every request.
#[derive(Clone)]
pub struct GatewaySession {
    services: Services,
    /// The tenant and principal the session belongs to: the first to use it (the client that
    /// opened it, or after a restart the first to come back). Another principal presenting its
    /// id is refused.
    owner: Arc<std::sync::OnceLock<(String, String)>>,
    /// The fingerprint of the tools the client was last given (`tools/list`); until it lists,
    /// there is nothing to tell it about.
    shown: Arc<std::sync::Mutex<Option<u64>>>,
    /// The last listing, with when and at which generation of changes it was made.
    listing: Arc<std::sync::Mutex<Option<KeptListing>>>,
    /// The fingerprint of the servers whose resources and prompts the client was last given;
    /// until it lists them, there is nothing to tell it about.
    offered: Arc<std::sync::Mutex<Option<u64>>>,
    /// The log level the client asked for, and the listener it applies to once listening.
    log: Arc<std::sync::Mutex<LogWish>>,
}

#[derive(Default)]
struct LogWish {
    level: Option<LogLevel>,
    listener: Option<ListenerId>,
}

type KeptListing = (std::time::Instant, u64, Scope, Arc<Vec<Listed>>);

/// How long a session's listing is kept without a change on this replica.
const LISTING_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl GatewaySession {
    pub fn new(services: Services) -> Self {
        let (owner, shown, listing, offered, log) = Default::default();
        Self { services, owner, shown, listing, offered, log }
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn offered_shown(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.offered.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn log(&self) -> std::sync::MutexGuard<'_, LogWish> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What identifies the servers whose resources and prompts a session lists: when it changes,
/// so may what they list.
fn servers_fingerprint(servers: &[ToolServer]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    servers.iter().for_each(|server| server.id.hash(&mut hasher));
    hasher.finish()
}

/// What identifies a listing: its names and when each tool last changed.
fn fingerprint(listed: &[Listed]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    for listed in listed {
        (&listed.name, listed.updated_at).hash(&mut hasher);
    }
    hasher.finish()
}

/// A tool as a session lists it: its name there, the stored tool, and its MCP form (made once
/// per listing, not once per `tools/list`).
pub struct Listed {
    pub name: String,
    /// The server tool's id (a toolkit's own tool: its id in the toolkit).
    pub id: String,
    /// When the tool last changed (a change is news to the client).
    pub updated_at: toolhub_domain::Timestamp,
    pub mcp: McpTool,
}

/// The name of a tool in `/mcp`: `<server>__<tool>`, each part reduced to MCP's portable
/// charset (letters, digits, `_`, `-`; anything else becomes `_`), at most 128 characters.
pub fn qualified_name(server: &str, tool: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
    };
    let mut name = format!("{}{SEPARATOR}{}", clean(server), clean(tool));
    name.truncate(NAME_MAX);
    name
}

/// Names every tool of `servers` for `scope`. Two tools whose names reduce to the same text
/// keep it in server creation order; a later one gets a suffix from a hash of its ids, so
/// adding a server never renames a tool listed before.
pub fn name_tools(scope: &Scope, servers: Vec<(ToolServer, Vec<Tool>)>) -> Vec<Listed> {
    let mut taken = HashSet::new();
    let mut listed = Vec::new();
    for (server, tools) in servers {
        if let Scope::Server(name) = scope
            && *name != server.name
        {
            continue;
        }
        for tool in tools {
            let mut name = match scope {
                Scope::All => qualified_name(&server.name, &tool.name),
                Scope::Server(_) | Scope::Toolkit(_) => tool.name.clone(),
            };
            if taken.contains(&name) {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::hash::DefaultHasher::new();
                (&tool.server_id, &tool.name).hash(&mut hasher);
                let suffix = format!("_{:08x}", hasher.finish() as u32);
                name.truncate(NAME_MAX - suffix.len());
                name.push_str(&suffix);
            }
            taken.insert(name.clone());
            let mcp = to_mcp(&name, &tool);
            listed.push(Listed { name, id: tool.id, updated_at: tool.updated_at, mcp });
        }
    }
    listed
}

/// A toolkit's tool as its endpoint lists it: under the toolkit's name and description (a
/// tool of the toolkit's own with its parameters as the input schema).
fn toolkit_listed(view: toolhub_domain::services::ToolkitToolView) -> Listed {
    let name = view.name().to_owned();
    let description = view.description().map(str::to_owned);
    match view.target {
        Some((mut tool, _)) => {
            tool.description = description;
            let mcp = to_mcp(&name, &tool);
            Listed { name, id: tool.id, updated_at: tool.updated_at, mcp }
        }
        None => {
            let input = match &view.entry.parameters {
                Some(Value::Object(map)) => map.clone(),
                _ => JsonObject::from_iter([("type".to_owned(), Value::from("object"))]),
            };
            let mcp = McpTool::new(name.clone(), description.unwrap_or_default(), Arc::new(input));
            Listed { name, id: view.entry.id, updated_at: view.entry.updated_at, mcp }
        }
    }
}

fn to_mcp(name: &str, stored: &Tool) -> McpTool {
    let schema = |value: &Option<Value>| match value {
        Some(Value::Object(map)) => Some(Arc::new(map.clone())),
        _ => None,
    };
    let input = schema(&stored.args_schema)
        .unwrap_or_else(|| Arc::new(JsonObject::from_iter([("type".to_owned(), Value::from("object"))])));
    let mut tool = McpTool::new(name.to_owned(), stored.description.clone().unwrap_or_default(), input);
    tool = tool.with_title(stored.display_name.clone());
    if let Some(output) = schema(&stored.output_schema) {
        tool = tool.with_raw_output_schema(output);
    }
    if let Some(annotations) =
        stored.annotations.clone().and_then(|a| serde_json::from_value::<ToolAnnotations>(a).ok())
    {
        tool = tool.with_annotations(annotations);
    }
    tool
}

impl GatewaySession {
    /// The principal and scope of a request, as the HTTP bridge left them in its parts; a
    /// principal other than the session's owner is refused.
    fn caller(&self, extensions: &Extensions) -> Result<(Principal, Scope), ErrorData> {
        let parts = extensions.get::<http::request::Parts>();
        let principal = parts.and_then(|p| p.extensions.get::<Principal>()).cloned();
        let scope = parts.and_then(|p| Scope::of_path(p.uri.path()));
        let (Some(principal), Some(scope)) = (principal, scope) else {
            return Err(ErrorData::internal_error("the request reached the gateway without its caller", None));
        };
        let owner = self.owner.get_or_init(|| (principal.tenant.clone(), principal.id.clone()));
        if (owner.0.as_str(), owner.1.as_str()) != (principal.tenant.as_str(), principal.id.as_str()) {
            return Err(ErrorData::invalid_request("this session belongs to another principal", None));
        }
        Ok((principal, scope))
    }

    /// What the session lists, kept while nothing changed (no write here) for at most
    /// [`LISTING_TTL`] (other replicas' writes, windows and expiries).
    async fn listing(&self, principal: &Principal, scope: &Scope) -> Result<Arc<Vec<Listed>>, ErrorData> {
        let generation = self.services.catalogue.changes().generation();
        if let Some((at, kept_generation, kept_scope, listed)) = &*self.kept()
            && *kept_generation == generation
            && kept_scope == scope
            && at.elapsed() < LISTING_TTL
        {
            return Ok(listed.clone());
        }
        let listed = match scope {
            Scope::Toolkit(key) => {
                let contents = self.services.toolkits.callable(principal, key).await.map_err(internal)?;
                Arc::new(contents.tools.into_iter().map(toolkit_listed).collect())
            }
            _ => {
                let servers = self.services.tools.callable_tools(principal).await.map_err(internal)?;
                Arc::new(name_tools(scope, servers))
            }
        };
        *self.kept() = Some((std::time::Instant::now(), generation, scope.clone(), listed.clone()));
        Ok(listed)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Option<KeptListing>> {
        self.listing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the tool `server` names `tool`, if the caller may at least read it.
    async fn readable_tool(&self, principal: &Principal, server: &str, tool: &str) -> Option<String> {
        let selector = ToolSelector::Name { server: Some(server), tool };
        let target = self.services.catalogue.call_target(&principal.tenant, selector).await.ok()?;
        let level = toolhub_domain::access::AccessLevel::Read;
        self.services.access.may_use(principal, &target.tool, &target.server, level).then(|| target.tool.id.clone())
    }

    /// The id of the tool a name means for the caller: one it may at least read (a refusal
    /// to call it is then the call's answer), or none.
    async fn resolve(&self, principal: &Principal, scope: &Scope, name: &str) -> Result<Option<String>, ErrorData> {
        match scope {
            Scope::Server(server) => Ok(self.readable_tool(principal, server, name).await),
            // A toolkit's tools are called by their name there (see `call_tool`).
            Scope::Toolkit(_) => Ok(Some(name.to_owned())),
            Scope::All => {
                for (at, _) in name.match_indices(SEPARATOR) {
                    let (server, tool) = (&name[..at], &name[at + SEPARATOR.len()..]);
                    if let Some(id) = self.readable_tool(principal, server, tool).await {
                        return Ok(Some(id));
                    }
                }
                // A name that was reduced or given a suffix: find it in the listing.
                let listed = self.listing(principal, scope).await?;
                Ok(listed.iter().find(|l| l.name == name).map(|l| l.id.clone()))
            }
        }
    }
}

impl GatewaySession {
    /// What the servers of the scope the principal may read offer of `kind`, each item named
    /// as tools are (`<server>__<name>` on `/mcp`), with its server.
    async fn offered(
        &self,
        principal: &Principal,
        scope: &Scope,
        kind: Offering,
    ) -> Result<Vec<(ToolServer, Value)>, ErrorData> {
        Ok(self
            .offered_named(principal, scope, kind)
            .await?
            .into_iter()
            .map(|(server, _, item)| (server, item))
            .collect())
    }

    /// As [`Self::offered`], for the caller of a request, as MCP objects (ones that do not
    /// parse are left out).
    async fn offered_typed<T: serde::de::DeserializeOwned>(
        &self,
        context: &RequestContext<RoleServer>,
        kind: Offering,
    ) -> Result<Vec<T>, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let servers = self.offering_servers(&principal, &scope).await?;
        let shown = servers_fingerprint(&servers);
        let items = self.named(servers, &scope, kind).await;
        *self.offered_shown() = Some(shown);
        Ok(items.into_iter().filter_map(|(_, _, item)| serde_json::from_value(item).ok()).collect())
    }

    /// The running servers the principal may read whose resources and prompts the scope
    /// serves (none for a toolkit).
    async fn offering_servers(&self, principal: &Principal, scope: &Scope) -> Result<Vec<ToolServer>, ErrorData> {
        let servers = self.services.offerings.readable_servers(principal).await.map_err(internal)?;
        Ok(servers.into_iter().filter(|s| scope.serves_offerings_of(&s.name)).collect())
    }

    /// Tells the client what changed since it last listed: its tools, and the servers whose
    /// resources and prompts it sees. Fails when the client is gone.
    async fn tell_changes(&self, principal: &Principal, scope: &Scope, peer: &Peer<RoleServer>) -> Result<(), ()> {
        let shown = *self.shown();
        if let Some(shown) = shown
            && let Ok(listed) = self.listing(principal, scope).await
            && fingerprint(&listed) != shown
        {
            *self.shown() = Some(fingerprint(&listed));
            peer.notify_tool_list_changed().await.map_err(drop)?;
        }
        let offered = *self.offered_shown();
        if let Some(offered) = offered
            && let Ok(now) = self.offering_servers(principal, scope).await.map(|s| servers_fingerprint(&s))
            && now != offered
        {
            *self.offered_shown() = Some(now);
            peer.notify_resource_list_changed().await.map_err(drop)?;
            peer.notify_prompt_list_changed().await.map_err(drop)?;
        }
        Ok(())
    }

    /// Passes a server's notice to the client, if its principal may hear it and the scope
    /// serves that server. On `/mcp`, a log message's logger is prefixed with the server's
    /// name. Fails when the client is gone.
    #[allow(deprecated)] // MCP logging: see `set_level`.
    async fn relay(
        &self,
        (principal, scope): (&Principal, &Scope),
        peer: &Peer<RoleServer>,
        server: &ServerRef,
        notice: UpstreamNotice,
    ) -> Result<(), ()> {
        let Some(server) = self.services.offerings.hears(principal, server, &notice).await else { return Ok(()) };
        if !scope.serves_offerings_of(&server.name) {
            return Ok(());
        }
        match notice {
            UpstreamNotice::Log { level, logger, data } => {
                let level = serde_json::from_value(Value::from(level.as_str())).map_err(drop)?;
                let mut param = rmcp::model::LoggingMessageNotificationParam::new(level, data);
                param.logger = match (scope, logger) {
                    (Scope::All, Some(logger)) => Some(format!("{}/{logger}", server.name)),
                    (Scope::All, None) => Some(server.name),
                    (_, logger) => logger,
                };
                peer.notify_logging_message(param).await.map_err(drop)
            }
            UpstreamNotice::ResourcesChanged => peer.notify_resource_list_changed().await.map_err(drop),
            UpstreamNotice::PromptsChanged => peer.notify_prompt_list_changed().await.map_err(drop),
        }
    }

    /// As [`Self::offered`], with each item's name as its server gave it.
    async fn offered_named(
        &self,
        principal: &Principal,
        scope: &Scope,
        kind: Offering,
    ) -> Result<Vec<(ToolServer, String, Value)>, ErrorData> {
        let servers = self.offering_servers(principal, scope).await?;
        Ok(self.named(servers, scope, kind).await)
    }

    /// What `servers` offer of `kind`, named for the scope.
    async fn named(&self, servers: Vec<ToolServer>, scope: &Scope, kind: Offering) -> Vec<(ToolServer, String, Value)> {
        let listed = self.services.offerings.offered_by(servers, kind).await;
        let mut named = Vec::new();
        for (server, items) in listed {
            for mut item in items {
                let original = item["name"].as_str().unwrap_or_default().to_owned();
                if *scope == Scope::All {
                    item["name"] = Value::from(qualified_name(&server.name, &original));
                }
                named.push((server.clone(), original, item));
            }
        }
        named
    }
}

/// A call's progress sink, and the work that passes what it receives to the client under the
/// token it gave, in order; it ends when the sink is dropped (the call ended). Reports beyond a
/// small backlog are dropped rather than queued without bound.
fn forward_progress(
    peer: rmcp::Peer<RoleServer>,
    token: rmcp::model::ProgressToken,
) -> (toolhub_domain::upstream::ProgressSink, impl Future<Output = ()>) {
    let (sender, mut reports) = tokio::sync::mpsc::channel::<toolhub_domain::upstream::Progress>(64);
    let forwarding = async move {
        while let Some(report) = reports.recv().await {
            let mut param = rmcp::model::ProgressNotificationParam::new(token.clone(), report.progress);
            param.total = report.total;
            param.message = report.message;
            if peer.notify_progress(param).await.is_err() {
                return;
            }
        }
    };
    let sink: toolhub_domain::upstream::ProgressSink = Arc::new(move |report| {
        let _ = sender.try_send(report);
    });
    (sink, forwarding)
}

/// Where a call came from, as the call log's correlation id: `mcp:<client>/<version>@<session>`
/// (the client as its `initialize` named itself), at most 128 characters.
fn call_origin(context: &RequestContext<RoleServer>) -> String {
    let client = context.peer.peer_info().map(|info| {
        let client = &info.client_info;
        format!("{}/{}", client.name, client.version)
    });
    let session = context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("stateless");
    let mut origin = format!("mcp:{}@{session}", client.as_deref().unwrap_or("unknown"));
    let cut = origin.char_indices().nth(128).map(|(at, _)| at).unwrap_or(origin.len());
    origin.truncate(cut);
    origin
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ErrorData> {
    serde_json::from_value(value).map_err(|e| ErrorData::internal_error(format!("the upstream's answer: {e}"), None))
}

fn dedup(servers: Vec<ToolServer>) -> Vec<ToolServer> {
    let mut seen = HashSet::new();
    servers.into_iter().filter(|s| seen.insert(s.id.clone())).collect()
}

/// A failure as the model and the client read it: its stable code, then what happened.
fn coded(error: &toolhub_domain::DomainError) -> String {
    format!("{}: {}", error.code().as_str(), error.client_message())
}

fn internal(error: toolhub_domain::DomainError) -> ErrorData {
    tracing::error!(%error, "the MCP gateway failed");
    ErrorData::internal_error("Toolhub failed; the error is logged", None)
}

impl ServerHandler for GatewaySession {
    #[allow(deprecated)] // MCP logging: see `set_level`.
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_logging()
            .enable_completions();
        ServerConfig::new(capabilities.build())
            .with_server_info(Implementation::new("toolhub", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Toolhub: the tools you may call, from every server Toolhub runs for you. Names are \
                 <server>__<tool>.",
            )
    }

    /// Watches what the session's principal may call, and tells the client when it changed
    /// since it last listed: on every write to servers, tools, grants and rules (debounced),
    /// and each minute for time windows and expiries. Ends with the session.
    /// Also relays the servers' notices the principal may hear (see [`Self::relay`]).
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let Ok((principal, scope)) = self.caller(&context.extensions) else { return };
        let (session, peer) = (self.clone(), context.peer);
        let mut changes = self.services.catalogue.changes().subscribe();
        let mut notices = self.services.offerings.notices();
        {
            let mut log = self.log();
            log.listener = Some(notices.id());
            if log.level.is_some() {
                self.services.offerings.set_log_level(notices.id(), log.level);
            }
        }
        let mut window_check = tokio::time::interval_at(tokio::time::Instant::now() + WINDOW_CHECK, WINDOW_CHECK);
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    change = changes.next() => {
                        if change.is_none() {
                            return;
                        }
                        // Let a burst of writes (a start and its discovery) settle into one notice.
                        tokio::time::sleep(SETTLE).await;
                        None
                    }
                    notice = notices.next() => match notice {
                        Some(notice) => Some(notice),
                        None => return,
                    },
                    _ = window_check.tick() => None,
                };
                if peer.is_transport_closed() {
                    return;
                }
                let told = match notice {
                    Some((server, notice)) => session.relay((&principal, &scope), &peer, &server, notice).await,
                    None => session.tell_changes(&principal, &scope, &peer).await,
                };
                if told.is_err() {
                    return;
                }
            }
        });
    }

    /// The client's level applies to the log messages of the servers it may administer; the
    /// servers themselves are asked for the least severe level any client wants. rmcp marks
    /// MCP logging deprecated (SEP-2577 drops it after protocol 2025-11-25); the clients of
    /// the versions before still use it.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let (_, scope) = self.caller(&context.extensions)?;
        if let Scope::Toolkit(_) = scope {
            return Ok(()); // a toolkit relays no log messages
        }
        let level = serde_json::to_value(request.level).ok().and_then(|v| v.as_str()?.parse::<LogLevel>().ok());
        let mut log = self.log();
        log.level = level;
        if let Some(listener) = log.listener {
            self.services.offerings.set_log_level(listener, level);
        }
        Ok(())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let listed = self.listing(&principal, &scope).await?;
        *self.shown() = Some(fingerprint(&listed));
        let start = match request.and_then(|r| r.cursor) {
            Some(cursor) => cursor
                .parse::<usize>()
                .ok()
                .filter(|s| *s <= listed.len())
                .ok_or_else(|| ErrorData::invalid_params("unknown cursor", None))?,
            None => 0,
        };
        let page: Vec<McpTool> = listed.iter().skip(start).take(PAGE_SIZE).map(|l| l.mcp.clone()).collect();
        let next = start + page.len();
        let mut result = ListToolsResult::with_all_items(page);
        result.next_cursor = (next < listed.len()).then(|| next.to_string());
        Ok(result)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(self.offered_typed(&context, Offering::Resources).await?))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.offered_typed(&context, Offering::ResourceTemplates).await?,
        ))
    }

    /// A resource is read from the server that lists its URI; failing that, from the first
    /// server with templates that can read it.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let listed = self.offered(&principal, &scope, Offering::Resources).await?;
        let owner = listed.into_iter().find(|(_, item)| item["uri"] == request.uri.as_str()).map(|(server, _)| server);
        let candidates = match owner {
            Some(server) => vec![server],
            None => self
                .offered(&principal, &scope, Offering::ResourceTemplates)
                .await?
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
        };
        let mut last = None;
        for server in dedup(candidates) {
            match self.services.offerings.read_resource(&principal, &server, &request.uri).await {
                Ok(result) => return Ok(from_json::<ReadResourceResult>(result)?.into()),
                Err(error) => last = Some(error),
            }
        }
        Err(match last {
            Some(error) => ErrorData::invalid_params(coded(&error), None),
            None => ErrorData::resource_not_found(format!("no server offers {}", request.uri), None),
        })
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(self.offered_typed(&context, Offering::Prompts).await?))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let listed = self.offered_named(&principal, &scope, Offering::Prompts).await?;
        let Some((server, original, _)) = listed.into_iter().find(|(_, _, item)| item["name"] == request.name.as_str())
        else {
            return Err(ErrorData::invalid_params(format!("unknown prompt: {}", request.name), None));
        };
        let result = self.services.offerings.get_prompt(&principal, &server, &original, request.arguments).await;
        match result {
            Ok(result) => Ok(from_json::<GetPromptResult>(result)?.into()),
            Err(error) => Err(ErrorData::internal_error(coded(&error), None)),
        }
    }

    /// Completions go to the server of the prompt or resource template named, under the name
    /// the server gave it.
    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let mut params = serde_json::to_value(&request).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let owner = match &request.r#ref {
            Reference::Prompt(prompt) => {
                let listed = self.offered_named(&principal, &scope, Offering::Prompts).await?;
                listed.into_iter().find(|(_, _, item)| item["name"] == prompt.name.as_str()).map(
                    |(server, original, _)| {
                        params["ref"]["name"] = Value::from(original);
                        server
                    },
                )
            }
            Reference::Resource(resource) => {
                let templates = self.offered(&principal, &scope, Offering::ResourceTemplates).await?;
                let resources = self.offered(&principal, &scope, Offering::Resources).await?;
                templates
                    .into_iter()
                    .find(|(_, item)| item["uriTemplate"] == resource.uri.as_str())
                    .or_else(|| resources.into_iter().find(|(_, item)| item["uri"] == resource.uri.as_str()))
                    .map(|(server, _)| server)
            }
            _ => None,
        };
        let Some(server) = owner else {
            return Err(ErrorData::invalid_params("no server offers what the completion names", None));
        };
        match self.services.offerings.complete(&principal, &server, params).await {
            Ok(result) => from_json(result),
            Err(error) => Err(ErrorData::internal_error(coded(&error), None)),
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (principal, scope) = self.caller(&context.extensions)?;
        let unknown = || ErrorData::invalid_params(format!("unknown tool: {}", request.name), None);
        let Some(tool_id) = self.resolve(&principal, &scope, &request.name).await? else {
            return Err(unknown());
        };
        let origin = call_origin(&context);
        // The client's `notifications/cancelled` ends the call, upstream too; the log says so.
        let cancelled = context.ct.clone().cancelled_owned();
        let token = context.meta.get_progress_token().or_else(|| request.meta.as_ref()?.get_progress_token());
        let (progress, forwarding) = match token {
            Some(token) => {
                let (sink, forwarding) = forward_progress(context.peer.clone(), token);
                (Some(sink), futures::future::Either::Left(forwarding))
            }
            None => (None, futures::future::Either::Right(std::future::ready(()))),
        };
        let calls = &self.services.calls;
        let call = async {
            match &scope {
                Scope::Toolkit(key) => {
                    let (arguments, origin) = (request.arguments, Some(origin));
                    calls.call_in_toolkit(&principal, (key, &tool_id), arguments, origin, cancelled, progress).await
                }
                _ => {
                    let selector = ToolSelector::Id(&tool_id);
                    calls.call_until(&principal, selector, request.arguments, Some(origin), cancelled, progress).await
                }
            }
        };
        // The reports go out before the answer, on the request's own stream (rmcp routes them by
        // token while the request is open).
        let (outcome, ()) = futures::join!(call, forwarding);
        if let (Scope::Toolkit(_), Err(toolhub_domain::DomainError::NotFound { .. })) = (&scope, &outcome) {
            // A name the toolkit does not have (or hides) is unknown, as on every endpoint.
            return Err(unknown());
        }
        let result = match outcome {
            Ok(outcome) => match serde_json::from_value::<CallToolResult>(outcome.result) {
                Ok(result) => result,
                Err(_) => {
                    CallToolResult::error(vec![ContentBlock::text("the upstream's result was not an MCP result")])
                }
            },
            // A refusal or failure is the model's to read: a tool error naming the stable code.
            Err(error) => CallToolResult::error(vec![ContentBlock::text(coded(&error))]),
        };
        Ok(result.into())
    }
}
