//! Running tool servers: start, stop, health, discovery, and the supervision callbacks that
//! keep failure counts and tool lists true while servers run.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use async_trait::async_trait;

use crate::{
    DomainError, Principal, ResourceKind, builtin,
    error::DomainResult,
    new_id,
    ports::{Clock, Metrics, ServerRepository, ToolRepository},
    server::{NewToolServer, RuntimeState, ServerStatus, ToolServer, TransportType},
    services::{AccessService, access::require_manage},
    tool::{self, Tool, ToolStatus},
    upstream::{DiscoveredTool, ServerRef, UpstreamConnector, UpstreamError, UpstreamObserver},
};

/// The outcome of a lifecycle operation, as the seed reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub success: bool,
    pub message: String,
}

impl Outcome {
    fn new(success: bool, message: impl Into<String>) -> Self {
        Self { success, message: message.into() }
    }

    /// The same outcome, reported with an operation's own message when it succeeded.
    fn on_success(self, message: &str) -> Self {
        if self.success { Self::new(true, message) } else { self }
    }
}

/// A live health check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    pub server: ToolServer,
    pub is_running: bool,
    pub is_responsive: bool,
    pub tools_count: usize,
    pub error_message: Option<String>,
}

/// A one-off connection attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectivityReport {
    pub server: ToolServer,
    pub error: Option<String>,
    pub tools_count: usize,
}

/// Usage figures of a server (the seed's `ToolServerMetrics`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerMetrics {
    pub server: ToolServer,
    pub total_tools: usize,
    pub enabled_tools: usize,
    pub total_calls: i64,
    pub total_errors: i64,
    /// 1.0 with no calls: nothing has failed.
    pub success_rate: f64,
    pub avg_response_time_ms: Option<f64>,
    pub last_activity: Option<crate::Timestamp>,
    /// Share (0-1) of the time since this Toolhub first started the server that it was connected.
    pub uptime_percentage: Option<f64>,
}

/// How long a server has been connected since this process first started it.
#[derive(Debug, Clone, Copy, Default)]
struct Uptime {
    since: Option<crate::Timestamp>,
    up_since: Option<crate::Timestamp>,
    up_total: chrono::Duration,
}

impl Uptime {
    fn up(&mut self, now: crate::Timestamp) {
        self.since.get_or_insert(now);
        self.up_since.get_or_insert(now);
    }

    fn down(&mut self, now: crate::Timestamp) {
        if let Some(start) = self.up_since.take() {
            self.up_total += now - start;
        }
    }

    fn ratio(&self, now: crate::Timestamp) -> Option<f64> {
        let since = self.since?;
        let up = self.up_total + self.up_since.map(|s| now - s).unwrap_or_default();
        let total = (now - since).num_milliseconds();
        Some(if total <= 0 { 1.0 } else { (up.num_milliseconds() as f64 / total as f64).clamp(0.0, 1.0) })
    }
}

/// One item of a bulk operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    pub server_id: String,
    pub success: bool,
    pub message: String,
}

/// The operations `bulk` accepts.
pub const BULK_OPERATIONS: [&str; 5] = ["start", "stop", "restart", "enable", "disable"];

pub struct LifecycleService {
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    upstream: Arc<dyn UpstreamConnector>,
    clock: Arc<dyn Clock>,
    /// A failure after this much uptime counts as the first of a new series.
    stable_after: Duration,
    access: Option<Arc<AccessService>>,
    metrics: Arc<dyn Metrics>,
    uptime: std::sync::Mutex<std::collections::HashMap<String, Uptime>>,
    /// One discovery at a time per server (see `sync_tools`).
    discoveries: std::sync::Mutex<std::collections::HashMap<String, Arc<futures::lock::Mutex<()>>>>,
    me: Weak<LifecycleService>,
}

impl LifecycleService {
    pub fn new(
        servers: Arc<dyn ServerRepository>,
        tools: Arc<dyn ToolRepository>,
        upstream: Arc<dyn UpstreamConnector>,
        clock: Arc<dyn Clock>,
        stable_after: Duration,
        access: Option<Arc<AccessService>>,
        metrics: Arc<dyn Metrics>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            servers,
            tools,
            upstream,
            clock,
            stable_after,
            access,
            metrics,
            uptime: Default::default(),
            discoveries: Default::default(),
            me: me.clone(),
        })
    }

    fn track(&self, server_id: &str, up: bool) {
        let now = self.clock.now();
        if let Ok(mut uptime) = self.uptime.lock() {
            let entry = uptime.entry(server_id.to_owned()).or_default();
            if up { entry.up(now) } else { entry.down(now) }
        }
    }

    /// Usage figures computed from the tools' counters, and the uptime this process observed.
    pub async fn metrics(&self, actor: &Principal, id: &str) -> DomainResult<ServerMetrics> {
        let (server, tools) = self.visible_server_and_tools(actor, id).await?;
        let total_calls: i64 = tools.iter().map(|t| t.total_calls).sum();
        let total_errors: i64 = tools.iter().map(|t| t.total_errors).sum();
        let weighted: f64 = tools.iter().filter_map(|t| t.avg_response_time_ms.map(|a| a * t.total_calls as f64)).sum();
        let uptime = self.uptime.lock().ok().and_then(|u| u.get(&server.id).and_then(|u| u.ratio(self.clock.now())));
        Ok(ServerMetrics {
            total_tools: tools.len(),
            enabled_tools: tools.iter().filter(|t| t.status == ToolStatus::Enabled).count(),
            total_calls,
            total_errors,
            success_rate: if total_calls == 0 { 1.0 } else { (total_calls - total_errors) as f64 / total_calls as f64 },
            avg_response_time_ms: (total_calls > 0).then(|| weighted / total_calls as f64),
            last_activity: tools.iter().filter_map(|t| t.last_called).max(),
            uptime_percentage: uptime,
            server,
        })
    }

    /// Loads a server the actor may manage.
    async fn managed(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        let server = self.visible_server(actor, id).await?;
        require_manage(self.access.as_deref(), actor, &server)?;
        Ok(server)
    }

    /// Loads a server the actor may see (invisible ones are 404, like missing ones).
    async fn visible_server(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        if self.access.as_ref().is_some_and(|a| !a.is_admin(actor)) {
            return Ok(self.visible_server_and_tools(actor, id).await?.0);
        }
        self.load(actor, id).await
    }

    /// Loads a server the actor may see, with all its tools (visibility is decided on them).
    async fn visible_server_and_tools(&self, actor: &Principal, id: &str) -> DomainResult<(ToolServer, Vec<Tool>)> {
        let server = self.load(actor, id).await?;
        let tools = self.tools_of(&server).await?;
        if let Some(access) = &self.access
            && !access.may_see_server(actor, &server, &tools)
        {
            return Err(DomainError::not_found(ResourceKind::ToolServer, id));
        }
        Ok((server, tools))
    }

    async fn tools_of(&self, server: &ToolServer) -> DomainResult<Vec<Tool>> {
        self.tools.list_for_servers(&server.tenant, std::slice::from_ref(&server.id)).await
    }

    fn observer(&self) -> Arc<dyn UpstreamObserver> {
        // `self` is only reachable through the Arc made in `new`, so the upgrade succeeds.
        self.me.upgrade().expect("LifecycleService lives in an Arc")
    }

    async fn load(&self, actor: &Principal, id: &str) -> DomainResult<ToolServer> {
        self.servers.get(&actor.tenant, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id))
    }

    async fn set_runtime(&self, server: &mut ToolServer, state: RuntimeState) -> DomainResult<()> {
        self.servers.update_runtime(&ServerRef::from(&*server), &state).await?;
        server.set_runtime(state);
        Ok(())
    }

    /// Connects (or spawns) the server and discovers its tools; a failure leaves it in `error`.
    pub async fn connect(&self, server: &mut ToolServer) -> DomainResult<Outcome> {
        let mut state = server.runtime();
        state.status = ServerStatus::Starting;
        self.set_runtime(server, state.clone()).await?;
        match self.upstream.start(server, self.observer()).await {
            Ok(found) => {
                self.track(&server.id, true);
                self.sync_tools(server, &found, "start").await?;
                state.status = ServerStatus::Enabled;
                state.last_startup_success = Some(self.clock.now());
                state.last_startup_error = None;
                state.consecutive_failures = 0;
                self.set_runtime(server, state).await?;
                Ok(Outcome::new(true, "Server started successfully"))
            }
            Err(error) => {
                state.status = ServerStatus::Error;
                state.last_startup_error = Some(error.to_string());
                state.consecutive_failures += 1;
                self.set_runtime(server, state).await?;
                Ok(Outcome::new(false, format!("Failed to start server: {error}")))
            }
        }
    }

    /// Disconnects; stdio servers end with their whole process tree.
    pub async fn disconnect(&self, server: &mut ToolServer) -> DomainResult<()> {
        let mut state = server.runtime();
        state.status = ServerStatus::Stopping;
        self.set_runtime(server, state.clone()).await?;
        self.upstream.stop(&server.id).await;
        self.track(&server.id, false);
        state.status = ServerStatus::Disabled;
        self.set_runtime(server, state).await
    }

    pub fn is_running(&self, server_id: &str) -> bool {
        self.upstream.is_running(server_id)
    }

    pub async fn start(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let mut server = self.managed(actor, id).await?;
        self.connect(&mut server).await
    }

    pub async fn stop(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let mut server = self.managed(actor, id).await?;
        self.disconnect(&mut server).await?;
        Ok(Outcome::new(true, "Server stopped successfully"))
    }

    pub async fn restart(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let mut server = self.managed(actor, id).await?;
        self.disconnect(&mut server).await?;
        Ok(self.connect(&mut server).await?.on_success("Server restarted successfully"))
    }

    /// Enabling a server runs it (`enabled` is the running state).
    pub async fn enable(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let mut server = self.managed(actor, id).await?;
        Ok(self.connect(&mut server).await?.on_success("Server enabled successfully"))
    }

    pub async fn disable(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let mut server = self.managed(actor, id).await?;
        self.disconnect(&mut server).await?;
        Ok(Outcome::new(true, "Server disabled successfully"))
    }

    pub async fn health(&self, actor: &Principal, id: &str) -> DomainResult<HealthReport> {
        let mut server = self.visible_server(actor, id).await?;
        let is_running = self.upstream.is_running(id);
        let (is_responsive, tools_count, error_message) = if is_running {
            match self.upstream.list_tools(id, timeout_of(&server)).await {
                Ok(tools) => (true, tools.len(), None),
                Err(e) => (false, 0, Some(e.to_string())),
            }
        } else {
            (false, 0, server.last_startup_error.clone())
        };
        let mut state = server.runtime();
        state.last_health_check = Some(self.clock.now());
        self.set_runtime(&mut server, state).await?;
        Ok(HealthReport { server, is_running, is_responsive, tools_count, error_message })
    }

    /// Connects once without touching the running connection or the stored state.
    pub async fn test_connectivity(&self, actor: &Principal, id: &str) -> DomainResult<ConnectivityReport> {
        let server = self.managed(actor, id).await?;
        let (error, tools_count) = match self.upstream.probe(&server).await {
            Ok(tools) => (None, tools.len()),
            Err(e) => (Some(e.to_string()), 0),
        };
        Ok(ConnectivityReport { server, error, tools_count })
    }

    /// Re-lists a running server's tools and stores the result.
    pub async fn refresh_tools(&self, actor: &Principal, id: &str) -> DomainResult<usize> {
        let server = self.managed(actor, id).await?;
        if !self.upstream.is_running(id) {
            return Err(DomainError::Conflict("the server is not running; start it first".into()));
        }
        let found = self.upstream.list_tools(id, timeout_of(&server)).await.map_err(DomainError::Upstream)?;
        self.sync_tools(&server, &found, "refresh").await?;
        Ok(found.len())
    }

    pub async fn server_tools(
        &self,
        actor: &Principal,
        id: &str,
        limit: u64,
        offset: u64,
    ) -> DomainResult<(Vec<Tool>, u64)> {
        match &self.access {
            // Readers see a filtered list, so it is paged after filtering (one server's tools).
            Some(access) if !access.is_admin(actor) => {
                let server = self.load(actor, id).await?;
                let all = self.tools_of(&server).await?;
                let visible = access
                    .visible_tools(actor, &server, all)
                    .ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id))?;
                let total = visible.len() as u64;
                Ok((visible.into_iter().skip(offset as usize).take(limit as usize).collect(), total))
            }
            _ => {
                self.load(actor, id).await?;
                self.tools.page(&actor.tenant, id, limit, offset).await
            }
        }
    }

    /// Every tool of the tenant with its server's name.
    pub async fn all_tools(&self, actor: &Principal) -> DomainResult<Vec<(Tool, String)>> {
        let servers = self.servers.list(&actor.tenant, crate::server::ServerFilter::all()).await?;
        let tools = self.tools.list_all(&actor.tenant).await?;
        Ok(tools
            .into_iter()
            .filter_map(|t| {
                let server = servers.iter().find(|s| s.id == t.server_id)?;
                let readable =
                    self.access.as_ref().is_none_or(|a| a.may_use(actor, &t, server, crate::access::AccessLevel::Read));
                readable.then(|| (t, server.name.clone()))
            })
            .collect())
    }

    pub async fn set_tool_enabled(&self, actor: &Principal, tool_id: &str, enabled: bool) -> DomainResult<Outcome> {
        let tool = self
            .tools
            .get(&actor.tenant, tool_id)
            .await?
            .ok_or_else(|| DomainError::not_found(ResourceKind::Tool, tool_id))?;
        self.managed(actor, &tool.server_id).await.map_err(|e| match e {
            DomainError::NotFound { .. } => DomainError::not_found(ResourceKind::Tool, tool_id),
            other => other,
        })?;
        let status = if enabled { ToolStatus::Enabled } else { ToolStatus::Disabled };
        if !self.tools.set_status(&actor.tenant, tool_id, status, self.clock.now()).await? {
            return Err(DomainError::not_found(ResourceKind::Tool, tool_id));
        }
        Ok(Outcome::new(true, if enabled { "Tool enabled successfully" } else { "Tool disabled successfully" }))
    }

    /// Runs one operation on each server, reporting each; an unknown operation or server fails
    /// its items only.
    pub async fn bulk(&self, actor: &Principal, server_ids: &[String], operation: &str) -> DomainResult<Vec<BulkItem>> {
        let mut items = Vec::with_capacity(server_ids.len());
        for id in server_ids {
            let result = match operation {
                "start" => self.start(actor, id).await,
                "stop" => self.stop(actor, id).await,
                "restart" => self.restart(actor, id).await,
                "enable" => self.enable(actor, id).await,
                "disable" => self.disable(actor, id).await,
                other => Err(DomainError::invalid(
                    "operation",
                    format!("unknown operation '{other}'; expected one of {}", BULK_OPERATIONS.join(", ")),
                )),
            };
            items.push(match result {
                Ok(outcome) => BulkItem { server_id: id.clone(), success: outcome.success, message: outcome.message },
                Err(error) => BulkItem { server_id: id.clone(), success: false, message: client_message(&error) },
            });
        }
        Ok(items)
    }

    /// At start-up, after [`Self::ensure_builtin_server`]: resumes every `auto_start` server
    /// that was running. Returns how many are running.
    pub async fn resume(&self) -> DomainResult<usize> {
        let servers = self.servers.list_to_resume().await?;
        let attempts = servers.into_iter().map(|mut server| async move { self.connect(&mut server).await });
        let outcomes = futures::future::join_all(attempts).await;
        Ok(outcomes.into_iter().filter(|o| matches!(o, Ok(Outcome { success: true, .. }))).count())
    }

    /// Stops every connection and process (at shutdown); stored states stay, so the same
    /// servers resume on the next start.
    pub async fn shutdown(&self) {
        self.upstream.stop_all().await;
    }

    /// Registers the tenant's built-in server (`builtin_tools`) unless it exists.
    pub async fn ensure_builtin_server(&self, tenant: &str) -> DomainResult<()> {
        let existing = self.servers.list(tenant, crate::server::ServerFilter::all()).await?;
        if existing.iter().any(|s| s.is_builtin && s.name == builtin::SERVER_NAME) {
            return Ok(());
        }
        let input = NewToolServer {
            name: builtin::SERVER_NAME.into(),
            display_name: "Built-in Tools".into(),
            description: Some("Tools that run inside Toolhub: calculator and current time".into()),
            transport_type: Some(TransportType::Stdio),
            command: Some(builtin::COMMAND.into()),
            ..Default::default()
        };
        let mut server = ToolServer::register(input, new_id(), tenant.into(), None, self.clock.now())?;
        server.is_builtin = true;
        server.status = ServerStatus::Enabled;
        match self.servers.insert(&server).await {
            Ok(()) | Err(DomainError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Merges a discovery into the stored tools. Discoveries of one server (a start, a restart,
    /// a `list_changed`) run one at a time, each against what the last one wrote; if another
    /// replica inserted a tool of the same name meanwhile, the merge is redone once against it.
    async fn sync_tools(&self, server: &ToolServer, found: &[DiscoveredTool], by: &str) -> DomainResult<()> {
        let turn = {
            let mut turns = self.discoveries.lock().unwrap_or_else(|p| p.into_inner());
            turns.entry(server.id.clone()).or_default().clone()
        };
        let _one_at_a_time = turn.lock().await;
        let mut retried = false;
        loop {
            let existing = self.tools_of(server).await?;
            let changes = tool::reconcile(server, &existing, found, by, self.clock.now());
            match self.tools.apply(&changes).await {
                Err(DomainError::Conflict(_)) if !retried => retried = true,
                result => return result,
            }
        }
    }

    async fn load_ref(&self, server: &ServerRef) -> Option<ToolServer> {
        self.servers.get(&server.tenant, &server.id).await.ok().flatten()
    }
}

/// The deadline of requests to a server.
pub fn timeout_of(server: &ToolServer) -> Duration {
    Duration::from_secs(server.timeout.max(1) as u64)
}

fn client_message(error: &DomainError) -> String {
    match error {
        DomainError::Storage(_) => "an internal error occurred".into(),
        DomainError::Validation(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

#[async_trait]
impl UpstreamObserver for LifecycleService {
    async fn failed(&self, server: &ServerRef, error: String, ran_for: Duration) -> bool {
        self.track(&server.id, false);
        let Some(mut stored) = self.load_ref(server).await else { return false };
        let mut state = stored.runtime();
        state.consecutive_failures = if ran_for >= self.stable_after { 1 } else { state.consecutive_failures + 1 };
        let give_up = state.consecutive_failures >= stored.max_failures;
        state.status = if give_up { ServerStatus::Error } else { ServerStatus::Starting };
        state.last_startup_error = Some(if give_up {
            format!("failed {} times in a row; last: {error}", state.consecutive_failures)
        } else {
            error
        });
        if let Err(e) = self.set_runtime(&mut stored, state).await {
            log_failure(&e);
        }
        !give_up
    }

    async fn reconnected(&self, server: &ServerRef, tools: Vec<DiscoveredTool>) {
        self.track(&server.id, true);
        let Some(mut stored) = self.load_ref(server).await else { return };
        self.metrics.upstream_restart(&stored.name);
        let mut state = stored.runtime();
        state.status = ServerStatus::Enabled;
        state.last_startup_success = Some(self.clock.now());
        state.last_startup_error = None;
        let result = async {
            self.set_runtime(&mut stored, state).await?;
            self.sync_tools(&stored, &tools, "restart").await
        };
        if let Err(e) = result.await {
            log_failure(&e);
        }
    }

    async fn tools_changed(&self, server: &ServerRef, tools: Vec<DiscoveredTool>) {
        if let Some(stored) = self.load_ref(server).await
            && let Err(e) = self.sync_tools(&stored, &tools, "list_changed").await
        {
            log_failure(&e);
        }
    }
}

fn log_failure(error: &DomainError) {
    tracing::error!(%error, "supervision could not record a state change");
}

impl From<UpstreamError> for DomainError {
    fn from(e: UpstreamError) -> Self {
        Self::Upstream(e)
    }
}
