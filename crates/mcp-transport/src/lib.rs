//! Toolhub's upstream adapter: implements the domain's [`UpstreamConnector`] with rmcp
//! clients (stdio child processes, Streamable HTTP) and in-process built-in tools.
//!
//! Each running server has one long-lived session, shared by every request, and a supervisor
//! task that notices when the session ends (a crash, a closed connection), reports it to the
//! domain's observer and, when told to, reconnects with exponential backoff. A stdio server runs
//! in its own process group; stopping it ends the whole group.

pub mod egress;
pub mod http;
pub mod oauth;
pub mod openapi;
pub mod sandbox;
pub mod sse;

mod convert;
mod progress;
mod session;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use rmcp::{RoleClient, service::Peer};
use serde_json::{Map, Value};
use tokio::{sync::watch, task::JoinHandle};
use toolhub_domain::Timestamp;
use toolhub_domain::{
    builtin,
    server::ToolServer,
    services::lifecycle::timeout_of,
    upstream::{
        DiscoveredTool, LogLevel, Offering, ServerRef, ToolCallOutcome, UpstreamConnector, UpstreamError,
        UpstreamObserver,
    },
};

pub use egress::EgressPolicy;
use session::Session;

/// Installs the process's TLS provider: reqwest is built without a default one (ring is used
/// instead of aws-lc). Idempotent; every HTTPS client of the process needs it first.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How supervision retries.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The first reconnection waits this long; each further one twice as long.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub egress: EgressPolicy,
    /// Reuse connections to Streamable HTTP upstreams. Off, every request opens a connection:
    /// for upstreams that leave Nagle's algorithm on (TCP_NODELAY unset), whose answers
    /// otherwise wait ~40 ms for a delayed ACK on a reused connection.
    pub http_keep_alive: bool,
    /// Where stdio children work, and what they must not reach.
    pub sandbox: sandbox::SandboxSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            egress: EgressPolicy::default(),
            http_keep_alive: true,
            sandbox: sandbox::SandboxSettings::default(),
        }
    }
}

impl Settings {
    fn backoff(&self, attempt: u32) -> Duration {
        self.backoff_initial.saturating_mul(2u32.saturating_pow(attempt.min(16))).min(self.backoff_max)
    }
}

/// The live peer of a running MCP server; empty while it reconnects.
type PeerSlot = RwLock<Option<Live>>;

/// A running server's connection, as calls use it.
#[derive(Clone)]
struct Live {
    peer: Peer<RoleClient>,
    /// An OpenAPI server's operations, called without the in-process MCP hop (the session's
    /// server is the same one, for listings and everything else).
    direct: Option<openapi::OpenApiServer>,
    progress: Arc<progress::ProgressRoutes>,
}

impl Live {
    fn of(session: &Session) -> Self {
        Self { peer: session.peer.clone(), direct: session.direct.clone(), progress: session.progress.clone() }
    }
}

/// A running server: in-process tools, or a supervised MCP session.
enum Running {
    Builtin,
    Mcp(Supervised),
}

struct Supervised {
    slot: Arc<PeerSlot>,
    stop: watch::Sender<bool>,
    supervisor: JoinHandle<()>,
    /// The process group of the current stdio session (0 when none).
    group: Arc<std::sync::atomic::AtomicI32>,
}

/// How long a server gets to take a new log level.
const LOG_LEVEL_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    settings: Settings,
    tokens: oauth::TokenCache,
    /// Clients of custom tools' requests.
    requests: http::RequestClients,
    /// The log level servers are asked for (`None`: none was asked for, or none is now).
    log_level: std::sync::Mutex<Option<LogLevel>>,
}

pub struct UpstreamManager {
    shared: Arc<Shared>,
    running: Mutex<HashMap<String, Running>>,
    /// Where sessions and supervisors run: the runtime that built the manager (the
    /// application's main one). A server started from a request would otherwise live on that
    /// HTTP worker's runtime, and die with it at shutdown before its calls drained, leaving its
    /// process group behind.
    runtime: tokio::runtime::Handle,
}

impl UpstreamManager {
    /// Must be called inside the Tokio runtime that is to run the upstream sessions.
    pub fn new(settings: Settings) -> Self {
        install_tls_provider();
        Self {
            shared: Arc::new(Shared {
                settings,
                tokens: oauth::TokenCache::default(),
                requests: Default::default(),
                log_level: Default::default(),
            }),
            running: Mutex::new(HashMap::new()),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Connects on the manager's runtime, so the session's tasks live there.
    async fn connect(
        &self,
        server: &ToolServer,
    ) -> Result<(Session, Vec<DiscoveredTool>, Option<Timestamp>), UpstreamError> {
        let (shared, server) = (self.shared.clone(), server.clone());
        self.runtime
            .spawn(async move { shared.connect(&server).await })
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("the connection task failed: {e}")))?
    }

    fn take(&self, server_id: &str) -> Option<Running> {
        self.running.lock().ok()?.remove(server_id)
    }

    fn peer(&self, server_id: &str) -> Result<Option<Peer<RoleClient>>, UpstreamError> {
        Ok(self.live(server_id)?.map(|live| live.peer))
    }

    /// The connection of a running server; `None` for the built-in one.
    fn live(&self, server_id: &str) -> Result<Option<Live>, UpstreamError> {
        let running = self.running.lock().map_err(|_| UpstreamError::NotRunning)?;
        match running.get(server_id) {
            None => Err(UpstreamError::NotRunning),
            Some(Running::Builtin) => Ok(None),
            Some(Running::Mcp(mcp)) => {
                mcp.slot.read().ok().and_then(|p| p.clone()).map(Some).ok_or(UpstreamError::NotRunning)
            }
        }
    }
}

impl Shared {
    async fn bearer(&self, server: &ToolServer) -> Result<(Option<String>, Option<Timestamp>), UpstreamError> {
        match &server.oauth_config {
            Some(config) => {
                let reach = egress::Reach::of(&server.tenant);
                let token = self.tokens.token(&server.id, config, &self.settings.egress, reach).await?;
                Ok((Some(token.value), token.refresh_at))
            }
            None => Ok((None, None)),
        }
    }

    /// Opens a session and lists its tools; a session whose listing fails is closed.
    async fn connect(
        &self,
        server: &ToolServer,
    ) -> Result<(Session, Vec<DiscoveredTool>, Option<Timestamp>), UpstreamError> {
        let timeout = timeout_of(server);
        let (bearer, refresh_at) = self.bearer(server).await?;
        let session = session::open(server, &self.settings, bearer, timeout).await?;
        let level = *self.log_level.lock().unwrap_or_else(|p| p.into_inner());
        if level.is_some() {
            convert::ask_log_level(&session.peer, level, timeout).await;
        }
        match convert::fetch_tools(&session.peer, timeout).await {
            Ok(tools) => Ok((session, tools, refresh_at)),
            Err(e) => {
                session.close().await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl UpstreamConnector for UpstreamManager {
    async fn start(
        &self,
        server: &ToolServer,
        observer: Arc<dyn UpstreamObserver>,
    ) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        self.stop(&server.id).await;
        if server.is_builtin {
            if let Ok(mut map) = self.running.lock() {
                map.insert(server.id.clone(), Running::Builtin);
            }
            return Ok(builtin::tools());
        }
        let (session, tools, refresh_at) = self.connect(server).await?;
        let (stop, stop_rx) = watch::channel(false);
        let slot = Arc::new(RwLock::new(Some(Live::of(&session))));
        let group = Arc::new(std::sync::atomic::AtomicI32::new(session.process_group.unwrap_or(0)));
        let supervisor = Supervisor {
            shared: self.shared.clone(),
            server: server.clone(),
            slot: slot.clone(),
            group: group.clone(),
            observer,
            stop: stop_rx,
        };
        let supervisor = self.runtime.spawn(supervisor.run(session, refresh_at));
        if let Ok(mut map) = self.running.lock() {
            map.insert(server.id.clone(), Running::Mcp(Supervised { slot, stop, supervisor, group }));
        }
        Ok(tools)
    }

    async fn stop(&self, server_id: &str) {
        self.shared.tokens.forget(server_id);
        if let Some(Running::Mcp(mut mcp)) = self.take(server_id) {
            let _ = mcp.stop.send(true);
            // The supervisor ends the process group before it returns; one that takes too long
            // (a reconnection under way) is cut short, and its group killed here.
            if tokio::time::timeout(session::STOP_GRACE * 3, &mut mcp.supervisor).await.is_err() {
                mcp.supervisor.abort();
                session::signal_group(mcp.group.load(std::sync::atomic::Ordering::SeqCst), libc::SIGKILL);
            }
        }
    }

    async fn stop_all(&self) {
        let ids: Vec<String> = self.running.lock().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        futures::future::join_all(ids.iter().map(|id| self.stop(id))).await;
    }

    fn is_running(&self, server_id: &str) -> bool {
        self.peer(server_id).is_ok()
    }

    async fn list_tools(&self, server_id: &str, timeout: Duration) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        match self.live(server_id)? {
            None => Ok(builtin::tools()),
            // An OpenAPI server reads its document again, saying why when it cannot be used.
            Some(Live { direct: Some(openapi), .. }) => {
                let tools = convert::timed(timeout, openapi.refresh()).await?;
                Ok(tools.into_iter().map(convert::discovered).collect())
            }
            Some(Live { peer, .. }) => {
                convert::ping(&peer, timeout).await?;
                convert::fetch_tools(&peer, timeout).await
            }
        }
    }

    fn check(&self, server: &ToolServer) -> Result<(), UpstreamError> {
        match server.transport_type {
            toolhub_domain::server::TransportType::Openapi => openapi::check_inline(server),
            _ => Ok(()),
        }
    }

    async fn call_tool(
        &self,
        server_id: &str,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        timeout: Duration,
    ) -> Result<ToolCallOutcome, UpstreamError> {
        match self.live(server_id)? {
            None => {
                let result = builtin::call(tool, &arguments.unwrap_or_default(), chrono::Utc::now());
                Ok(match result {
                    Ok(text) => ToolCallOutcome::text(text, false),
                    Err(text) => ToolCallOutcome::text(text, true),
                })
            }
            Some(Live { direct: Some(openapi), .. }) => {
                let call = openapi.call_by_name(tool, arguments.unwrap_or_default());
                let result =
                    convert::within(timeout, async { call.await.map_err(rmcp::ServiceError::McpError) }).await?;
                Ok(convert::outcome(&result))
            }
            Some(Live { peer, .. }) => convert::call(&peer, tool, arguments, timeout).await,
        }
    }

    async fn call_tool_reporting(
        &self,
        server_id: &str,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        timeout: Duration,
        progress: toolhub_domain::upstream::ProgressSink,
    ) -> Result<ToolCallOutcome, UpstreamError> {
        match self.live(server_id)? {
            Some(Live { peer, direct: None, progress: routes }) => {
                convert::call_reporting(&peer, tool, arguments, timeout, &routes, progress).await
            }
            // The built-in tools and OpenAPI operations report no progress.
            _ => self.call_tool(server_id, tool, arguments, timeout).await,
        }
    }

    async fn list_offerings(
        &self,
        server_id: &str,
        kind: Offering,
        timeout: Duration,
    ) -> Result<Vec<Value>, UpstreamError> {
        match self.peer(server_id)? {
            None => Ok(Vec::new()),
            Some(peer) => convert::offerings(&peer, kind, timeout).await,
        }
    }

    async fn read_resource(&self, server_id: &str, uri: &str, timeout: Duration) -> Result<Value, UpstreamError> {
        match self.peer(server_id)? {
            None => Err(UpstreamError::Protocol("the built-in server offers no resources".into())),
            Some(peer) => convert::read_resource(&peer, uri, timeout).await,
        }
    }

    async fn send_request(
        &self,
        tenant: &str,
        request: &toolhub_domain::api_request::HttpRequest,
    ) -> Result<toolhub_domain::api_request::HttpAnswer, UpstreamError> {
        self.shared.requests.send(&self.shared.settings.egress, tenant, request).await
    }

    async fn complete(&self, server_id: &str, params: Value, timeout: Duration) -> Result<Value, UpstreamError> {
        match self.peer(server_id)? {
            None => Err(UpstreamError::Protocol("the built-in server offers no completions".into())),
            Some(peer) => convert::complete(&peer, params, timeout).await,
        }
    }

    async fn get_prompt(
        &self,
        server_id: &str,
        name: &str,
        arguments: Option<Map<String, Value>>,
        timeout: Duration,
    ) -> Result<Value, UpstreamError> {
        match self.peer(server_id)? {
            None => Err(UpstreamError::Protocol("the built-in server offers no prompts".into())),
            Some(peer) => convert::get_prompt(&peer, name, arguments, timeout).await,
        }
    }

    fn set_log_level(&self, level: Option<LogLevel>) {
        *self.shared.log_level.lock().unwrap_or_else(|p| p.into_inner()) = level;
        let peers: Vec<Peer<RoleClient>> = {
            let Ok(running) = self.running.lock() else { return };
            let live = running.values().filter_map(|r| match r {
                Running::Mcp(mcp) => mcp.slot.read().ok()?.as_ref().map(|live| live.peer.clone()),
                Running::Builtin => None,
            });
            live.collect()
        };
        for peer in peers {
            self.runtime.spawn(async move { convert::ask_log_level(&peer, level, LOG_LEVEL_TIMEOUT).await });
        }
    }

    async fn probe(&self, server: &ToolServer) -> Result<Vec<DiscoveredTool>, UpstreamError> {
        if server.is_builtin {
            return Ok(builtin::tools());
        }
        let (session, tools, _) = self.connect(server).await?;
        session.close().await;
        Ok(tools)
    }
}

/// Keeps one server's session up until told to stop.
struct Supervisor {
    shared: Arc<Shared>,
    server: ToolServer,
    slot: Arc<PeerSlot>,
    group: Arc<std::sync::atomic::AtomicI32>,
    observer: Arc<dyn UpstreamObserver>,
    stop: watch::Receiver<bool>,
}

/// Why a session stopped serving.
enum Interruption {
    Stop,
    Failed(String),
    TokenExpiring,
}

impl Supervisor {
    fn set_session(&self, session: Option<&Session>) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = session.map(Live::of);
        }
        if let Some(group) = session.and_then(|s| s.process_group) {
            self.group.store(group, std::sync::atomic::Ordering::SeqCst);
        }
    }

    async fn run(mut self, mut session: Session, mut refresh_at: Option<Timestamp>) {
        let server = ServerRef::from(&self.server);
        let timeout = timeout_of(&self.server);
        let mut started = Instant::now();
        loop {
            let interruption = self.serve(&mut session, &server, timeout, refresh_at).await;
            let (mut reason, mut ran_for) = match interruption {
                Interruption::Stop => {
                    self.set_session(None);
                    session.close().await;
                    return;
                }
                Interruption::TokenExpiring => {
                    // A planned reconnection with a fresh token; the old session serves until then.
                    match self.shared.connect(&self.server).await {
                        Ok((next, tools, next_refresh)) => {
                            self.set_session(Some(&next));
                            std::mem::replace(&mut session, next).close().await;
                            refresh_at = next_refresh;
                            self.observer.tools_changed(&server, tools).await;
                            continue;
                        }
                        Err(e) => (e.to_string(), started.elapsed()),
                    }
                }
                Interruption::Failed(reason) => (reason, started.elapsed()),
            };
            self.set_session(None);
            session.close().await;
            tracing::warn!(server = %self.server.name, %reason, "upstream session ended");

            loop {
                // The wait grows with the failures in a row, which a short run does not reset.
                let Some(failures) = self.observer.failed(&server, reason, ran_for).await else { return };
                let wait = self.shared.settings.backoff(failures.saturating_sub(1));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.stop.changed() => return,
                }
                match self.shared.connect(&self.server).await {
                    Ok((next, tools, next_refresh)) => {
                        self.set_session(Some(&next));
                        session = next;
                        refresh_at = next_refresh;
                        started = Instant::now();
                        tracing::info!(server = %self.server.name, "upstream reconnected");
                        self.observer.reconnected(&server, tools).await;
                        break;
                    }
                    Err(e) => {
                        reason = e.to_string();
                        ran_for = Duration::ZERO;
                    }
                }
            }
        }
    }

    /// Serves the session (relaying tool-list changes) until something interrupts it.
    async fn serve(
        &mut self,
        session: &mut Session,
        server: &ServerRef,
        timeout: Duration,
        refresh_at: Option<Timestamp>,
    ) -> Interruption {
        let token_expiry = async {
            match refresh_at {
                Some(at) => tokio::time::sleep(self.shared.tokens.due_in(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(token_expiry);
        loop {
            tokio::select! {
                _ = self.stop.changed() => return Interruption::Stop,
                ended = &mut session.ended => return Interruption::Failed(session.explain(ended)),
                _ = &mut token_expiry => return Interruption::TokenExpiring,
                Some(()) = session.tools_changed.recv() => {
                    if let Ok(tools) = convert::fetch_tools(&session.peer, timeout).await {
                        self.observer.tools_changed(server, tools).await;
                    }
                }
                Some(notice) = session.notices.recv() => self.observer.notice(server, notice).await,
            }
        }
    }
}
