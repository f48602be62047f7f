//! Starting and stopping servers, on request, in bulk, at start-up and at shutdown.

use super::{LifecycleService, Outcome, Turn, timeout_of};
use crate::{
    DomainError, Principal, builtin,
    error::DomainResult,
    new_id,
    replica::{Mine, Replica, Running},
    server::{NewToolServer, ServerStatus, ToolServer, TransportType, limits},
    validation::Validator,
};

/// A live health check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// The server (as the caller may see it).
    pub server: ToolServer,
    /// Toolhub holds a connection to it.
    pub is_running: bool,
    /// It answered a ping and a listing just now.
    pub is_responsive: bool,
    /// The tools it listed.
    pub tools_count: usize,
    /// Why it did not answer, if it did not.
    pub error_message: Option<String>,
    /// The replica that checked (`is_running` and `is_responsive` are its own).
    pub replica: String,
    /// How each live replica runs it (errors for its managers only).
    pub replicas: Vec<crate::replica::ReplicaRuntime>,
}

/// A one-off connection attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectivityReport {
    /// The server (as the caller may see it).
    pub server: ToolServer,
    /// Why a connection could not be made, if it could not.
    pub error: Option<String>,
    /// The tools a fresh connection listed.
    pub tools_count: usize,
}

/// One item of a bulk operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    /// The server the operation was about.
    pub server_id: String,
    /// Whether the operation did what it asked.
    pub success: bool,
    /// What happened, in words.
    pub message: String,
}

crate::wire_enum! {
    /// What a bulk operation does to each server.
    BulkOperation {
        Start = "start",
        Stop = "stop",
        Restart = "restart",
        Enable = "enable",
        Disable = "disable",
    }
}

/// The built-in server is always there and running (its tools run inside Toolhub).
pub(crate) fn refuse_builtin(server: &ToolServer, action: &str) -> DomainResult<()> {
    if server.is_builtin {
        return Err(DomainError::Conflict(format!("the built-in server is always running; it cannot {action}")));
    }
    Ok(())
}

impl LifecycleService {
    /// The server, if `actor` manages it, once no other operation on it is under way; the turn
    /// is held until dropped. The server is read again after the wait, as the operation before
    /// left it.
    pub(crate) async fn managed_in_turn(&self, actor: &Principal, id: &str) -> DomainResult<(ToolServer, Turn)> {
        // Checked before waiting: only servers that exist get a turn.
        self.access.managed_server(actor, id).await?;
        let turn = self.operations.take(id).await;
        Ok((self.access.managed_server(actor, id).await?, turn))
    }

    /// Forgets a deleted server's turn.
    pub(crate) fn forget(&self, server_id: &str) {
        self.operations.forget(server_id);
    }

    /// Starts or stops this replica's connection to a server as another replica did (its
    /// stored state is already written): every replica runs its own connection, and its own
    /// child for a stdio server. A start connects anew even when connected, as the operator's
    /// start does (it may follow a restart or a new configuration). Its own state is reported
    /// as supervision's is.
    pub async fn follow(&self, tenant: &str, server_id: &str, run: bool) -> DomainResult<()> {
        let _turn = self.operations.take(server_id).await;
        let running = self.upstream.is_running(server_id);
        if run {
            let Some(mut server) = self.servers.get(tenant, server_id).await? else { return Ok(()) };
            if !crate::replica::wanted_running(server.status) {
                return Ok(());
            }
            let outcome = self.run(&mut server, false).await?;
            if !outcome.success {
                tracing::warn!(server = %server.name, "cannot start what another replica started: {}", outcome.message);
            }
        } else if !run && running {
            self.upstream.stop(server_id).await;
            self.uptime.down(server_id, self.clock.now());
            if let Some(mut server) = self.servers.get(tenant, server_id).await? {
                let state = server.runtime();
                self.report(&mut server, state, Mine::Gone, false).await?;
            }
        }
        Ok(())
    }

    fn tell_replicas(&self, server: &ToolServer, run: bool) {
        let event =
            crate::ports::ReplicaEvent::Runtime { tenant: server.tenant.clone(), server_id: server.id.clone(), run };
        self.replicas.publish(event);
    }

    /// Connects (or spawns) the server, as an operator asked, and discovers its tools; a failure
    /// leaves it in `error` (unless another replica runs it).
    pub async fn connect(&self, server: &mut ToolServer) -> DomainResult<Outcome> {
        let outcome = self.run(server, true).await?;
        if outcome.success {
            self.tell_replicas(server, true);
        }
        Ok(outcome)
    }

    /// Connects this replica to the server and reports how that went; `asked`: an operator's
    /// start (else resuming or following, which leave a server stopped meanwhile stopped).
    async fn run(&self, server: &mut ToolServer, asked: bool) -> DomainResult<Outcome> {
        let mut state = server.runtime();
        state.status = ServerStatus::Starting;
        self.report(server, state.clone(), Mine::Now(Running::Starting), asked).await?;
        match self.upstream.start(server, self.observer()).await {
            Ok(found) => {
                self.uptime.up(&server.id, self.clock.now());
                self.sync_tools(server, &found, "start").await?;
                state.status = ServerStatus::Enabled;
                state.last_startup_success = Some(self.clock.now());
                state.last_startup_error = None;
                state.consecutive_failures = 0;
                self.report(server, state, Mine::Now(Running::Running), false).await?;
                Ok(Outcome::new(true, "Server started successfully"))
            }
            Err(error) => {
                state.status = ServerStatus::Error;
                let error = server.redact_secrets(&error.to_string());
                state.last_startup_error = Some(error.clone());
                state.consecutive_failures += 1;
                self.report(server, state, Mine::Now(Running::Failed), false).await?;
                Ok(Outcome::new(false, format!("Failed to start server: {error}")))
            }
        }
    }

    /// Disconnects, as an operator asked; stdio servers end with their whole process tree.
    pub async fn disconnect(&self, server: &mut ToolServer) -> DomainResult<()> {
        let mut state = server.runtime();
        state.status = ServerStatus::Stopping;
        self.report(server, state.clone(), Mine::Same, true).await?;
        self.upstream.stop(&server.id).await;
        self.uptime.down(&server.id, self.clock.now());
        state.status = ServerStatus::Disabled;
        self.report(server, state, Mine::Gone, true).await?;
        self.tell_replicas(server, false);
        Ok(())
    }

    /// Whether Toolhub holds a connection to the server.
    pub fn is_running(&self, server_id: &str) -> bool {
        self.upstream.is_running(server_id)
    }

    /// Starts (connects to or spawns) a server the actor manages; a failure is an outcome, not an error.
    pub async fn start(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let (mut server, _turn) = self.managed_in_turn(actor, id).await?;
        self.connect(&mut server).await
    }

    /// Stops a server the actor manages (its process tree, for stdio); built-in servers refuse.
    pub async fn stop(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let (mut server, _turn) = self.managed_in_turn(actor, id).await?;
        refuse_builtin(&server, "be stopped")?;
        self.disconnect(&mut server).await?;
        Ok(Outcome::new(true, "Server stopped successfully"))
    }

    /// Stops and starts a server the actor manages.
    pub async fn restart(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let (mut server, _turn) = self.managed_in_turn(actor, id).await?;
        self.disconnect(&mut server).await?;
        Ok(self.connect(&mut server).await?.on_success("Server restarted successfully"))
    }

    /// Enabling a server runs it (`enabled` is the running state).
    pub async fn enable(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let (mut server, _turn) = self.managed_in_turn(actor, id).await?;
        Ok(self.connect(&mut server).await?.on_success("Server enabled successfully"))
    }

    /// Stops a server the actor manages and keeps it stopped.
    pub async fn disable(&self, actor: &Principal, id: &str) -> DomainResult<Outcome> {
        let (mut server, _turn) = self.managed_in_turn(actor, id).await?;
        refuse_builtin(&server, "be disabled")?;
        self.disconnect(&mut server).await?;
        Ok(Outcome::new(true, "Server disabled successfully"))
    }

    /// Pings a running server and lists its tools, now.
    pub async fn health(&self, actor: &Principal, id: &str) -> DomainResult<HealthReport> {
        let mut server = self.access.visible_server(actor, id).await?;
        let is_running = self.upstream.is_running(id);
        let (is_responsive, tools_count, error_message) = if is_running {
            match self.upstream.list_tools(id, timeout_of(&server)).await {
                Ok(tools) => (true, tools.len(), None),
                Err(e) => (false, 0, Some(server.redact_secrets(&e.to_string()))),
            }
        } else {
            (false, 0, server.last_startup_error.clone())
        };
        let mut state = server.runtime();
        state.last_health_check = Some(self.clock.now());
        self.report(&mut server, state, Mine::Same, false).await?;
        let manages = self.access.may_manage(actor, &server);
        let error_message = error_message.filter(|_| manages);
        let mut replicas = self.runtimes(id).await?;
        for runtime in &mut replicas {
            runtime.error = runtime.error.take().filter(|_| manages);
        }
        let server = if manages { server } else { server.reader_view() };
        let replica = self.replica.id.clone();
        Ok(HealthReport { server, is_running, is_responsive, tools_count, error_message, replica, replicas })
    }

    /// Connects once without touching the running connection or the stored state.
    pub async fn test_connectivity(&self, actor: &Principal, id: &str) -> DomainResult<ConnectivityReport> {
        let server = self.access.managed_server(actor, id).await?;
        let (error, tools_count) = match self.upstream.probe(&server).await {
            Ok(tools) => (None, tools.len()),
            Err(e) => (Some(server.redact_secrets(&e.to_string())), 0),
        };
        Ok(ConnectivityReport { server, error, tools_count })
    }

    /// Re-lists a running server's tools and stores the result.
    pub async fn refresh_tools(&self, actor: &Principal, id: &str) -> DomainResult<usize> {
        let (server, _turn) = self.managed_in_turn(actor, id).await?;
        if !self.upstream.is_running(id) {
            return Err(DomainError::Conflict("the server is not running; start it first".into()));
        }
        let found = self.upstream.list_tools(id, timeout_of(&server)).await.map_err(DomainError::Upstream)?;
        self.sync_tools(&server, &found, "refresh").await?;
        Ok(found.len())
    }

    /// Runs one operation on each server (1 to [`limits::BULK_MAX`]), reporting each; an
    /// unknown server or a refusal fails its item only.
    pub async fn bulk(
        &self,
        actor: &Principal,
        server_ids: &[String],
        operation: BulkOperation,
    ) -> DomainResult<Vec<BulkItem>> {
        let mut v = Validator::new();
        v.check(!server_ids.is_empty(), "server_ids", || "name at least one server".into());
        v.check(server_ids.len() <= limits::BULK_MAX, "server_ids", || {
            format!("at most {} servers at a time", limits::BULK_MAX)
        });
        v.finish()?;
        let mut items = Vec::with_capacity(server_ids.len());
        for id in server_ids {
            let result = match operation {
                BulkOperation::Start => self.start(actor, id).await,
                BulkOperation::Stop => self.stop(actor, id).await,
                BulkOperation::Restart => self.restart(actor, id).await,
                BulkOperation::Enable => self.enable(actor, id).await,
                BulkOperation::Disable => self.disable(actor, id).await,
            };
            items.push(match result {
                Ok(outcome) => BulkItem { server_id: id.clone(), success: outcome.success, message: outcome.message },
                Err(error) => BulkItem { server_id: id.clone(), success: false, message: error.client_message() },
            });
        }
        Ok(items)
    }

    /// At start-up, after [`Self::ensure_builtin_server`]: resumes every `auto_start` server
    /// that was running. Returns how many are running.
    pub async fn resume(&self) -> DomainResult<usize> {
        let servers = self.servers.list_to_resume().await?;
        let attempts = servers.into_iter().map(|mut server| async move { self.run(&mut server, false).await });
        let outcomes = futures::future::join_all(attempts).await;
        Ok(outcomes.into_iter().filter(|o| matches!(o, Ok(Outcome { success: true, .. }))).count())
    }

    /// Stops every connection and process (at shutdown) and removes this replica's records;
    /// stored states stay, so the same servers resume on the next start.
    pub async fn shutdown(&self) {
        self.upstream.stop_all().await;
        if let Err(error) = self.registry.leave(&self.replica.id).await {
            tracing::warn!(%error, "cannot remove this replica's records");
        }
    }

    /// Records this replica's heartbeat and removes the records of replicas not heard from
    /// for [`crate::replica::Liveness::expiry`], combining their servers' statuses again. Run
    /// at start-up before anything else, then every [`crate::replica::Liveness::heartbeat`].
    /// Returns how many servers had records of dead replicas.
    pub async fn heartbeat(&self) -> DomainResult<usize> {
        let now = self.clock.now();
        let me = Replica { heartbeat_at: now, ..self.replica.clone() };
        self.registry.heartbeat(&me).await?;
        let orphaned = self.registry.expire(self.liveness.live_since(now)).await?;
        for server in &orphaned {
            if let Some(mut stored) = self.load_ref(server).await {
                let state = stored.runtime();
                self.report(&mut stored, state, Mine::Same, false).await?;
            }
        }
        Ok(orphaned.len())
    }

    /// The live replicas, for the operator (they serve every tenant: super administrators
    /// only).
    pub async fn replicas(&self, actor: &Principal) -> DomainResult<Vec<Replica>> {
        if actor.role != crate::Role::SuperAdmin {
            return Err(DomainError::Forbidden("only super administrators may list the replicas".into()));
        }
        let now = self.clock.now();
        self.registry.live(self.liveness.live_since(now)).await
    }

    /// How each live replica runs the server.
    pub async fn runtimes(&self, server_id: &str) -> DomainResult<Vec<crate::replica::ReplicaRuntime>> {
        let now = self.clock.now();
        self.registry.runtimes(server_id, self.liveness.live_since(now)).await
    }

    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        &self.replica.id
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
}
