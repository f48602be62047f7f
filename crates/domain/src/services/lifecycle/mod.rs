//! Running tool servers. Split by job:
//!
//! - [`runtime`]: start, stop, restart, enable, disable, health, connectivity, refresh, bulk,
//!   resuming at start-up and stopping at shutdown;
//! - [`supervision`]: what a supervised connection reports (failures, reconnections,
//!   `tools/list_changed`) and the failure counting that decides whether to reconnect;
//! - [`discovery`]: merging a server's listed tools into the stored ones.

pub mod discovery;
pub mod runtime;
pub mod supervision;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

pub use runtime::{BulkItem, BulkOperation, ConnectivityReport, HealthReport};

use crate::{
    error::DomainResult,
    ports::{Clock, Metrics, RuntimeReport, ServerRepository, ToolRepository},
    replica::{Liveness, Mine, Replica},
    server::{RuntimeState, ToolServer},
    services::{AccessService, CatalogueCache, Ports, Settings, UpstreamNotices, stats::UptimeLog},
    upstream::{ServerRef, UpstreamConnector, UpstreamObserver},
};

/// The outcome of a lifecycle operation, as the seed reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the operation did what it asked.
    pub success: bool,
    /// What happened, in words.
    pub message: String,
}

impl Outcome {
    pub(crate) fn new(success: bool, message: impl Into<String>) -> Self {
        Self { success, message: message.into() }
    }

    /// The same outcome, reported with an operation's own message when it succeeded.
    fn on_success(self, message: &str) -> Self {
        if self.success { Self::new(true, message) } else { self }
    }
}

/// Starts, stops and supervises tool servers, and keeps their stored runtime state and tools true.
pub struct LifecycleService {
    servers: Arc<dyn ServerRepository>,
    tools: Arc<dyn ToolRepository>,
    upstream: Arc<dyn UpstreamConnector>,
    clock: Arc<dyn Clock>,
    /// A failure after this much uptime counts as the first of a new series.
    stable_after: Duration,
    access: Arc<AccessService>,
    metrics: Arc<dyn Metrics>,
    uptime: Arc<UptimeLog>,
    /// Where servers' other notices go (to the MCP gateway's sessions).
    notices: Arc<UpstreamNotices>,
    /// One discovery at a time per server (see [`Self::sync_tools`]).
    discoveries: Turns,
    /// One operation (start, stop, refresh, delete, ...) at a time per server, so a refresh
    /// never meets a session that a stop is closing, and sees the stop's result instead.
    operations: Turns,
    /// Told of every start and stop, so that other replicas start and stop theirs.
    replicas: Arc<dyn crate::ports::ReplicaBus>,
    /// Where this replica reports its connections and heartbeats.
    registry: Arc<dyn crate::ports::ReplicaRegistry>,
    /// This replica.
    replica: Replica,
    liveness: Liveness,
    me: Weak<LifecycleService>,
}

impl LifecycleService {
    /// Refuses a server Toolhub could never run, as far as that shows without reaching it (an
    /// OpenAPI document given inline that cannot be used: 422 `INVALID_SPEC`).
    pub fn check_runnable(&self, server: &ToolServer) -> DomainResult<()> {
        self.upstream.check(server).map_err(crate::DomainError::Upstream)
    }

    /// The service over `ports`' upstream connector, with servers and tools through `catalogue`;
    /// `uptime` is where it notes when servers go up and down (for server stats), `notices` where
    /// it passes on what servers announce besides their tools.
    pub fn new(
        ports: &Ports,
        catalogue: Arc<CatalogueCache>,
        access: Arc<AccessService>,
        uptime: Arc<UptimeLog>,
        notices: Arc<UpstreamNotices>,
        settings: &Settings,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            servers: catalogue.clone(),
            tools: catalogue,
            upstream: ports.upstream.clone(),
            clock: ports.clock.clone(),
            stable_after: settings.stable_after,
            access,
            metrics: ports.metrics.clone(),
            uptime,
            notices,
            discoveries: Turns::default(),
            operations: Turns::default(),
            replicas: ports.replicas.clone(),
            registry: ports.registry.clone(),
            replica: Replica {
                id: crate::new_id(),
                label: settings.replica_label.clone(),
                started_at: ports.clock.now(),
                heartbeat_at: ports.clock.now(),
            },
            liveness: settings.liveness,
            me: me.clone(),
        })
    }

    fn observer(&self) -> Arc<dyn UpstreamObserver> {
        // `self` is only reachable through the Arc made in `new`, so the upgrade succeeds.
        self.me.upgrade().expect("LifecycleService lives in an Arc")
    }

    /// Writes `state` as this replica's report on the server: `mine` is its own connection's
    /// state, `asked` whether an operator's start or stop set the state (see
    /// [`crate::ports::RuntimeReport`]). `server` takes the status stored.
    async fn report(
        &self,
        server: &mut ToolServer,
        mut state: RuntimeState,
        mine: Mine,
        asked: bool,
    ) -> DomainResult<()> {
        let at = self.clock.now();
        let live_since = self.liveness.live_since(at);
        let report = RuntimeReport { replica: &self.replica.id, mine, state: &state, asked, at, live_since };
        if let Some(status) = self.servers.update_runtime(&ServerRef::from(&*server), &report).await? {
            state.status = status;
        }
        server.set_runtime(state);
        Ok(())
    }

    async fn load_ref(&self, server: &ServerRef) -> Option<ToolServer> {
        self.servers.get(&server.tenant, &server.id).await.ok().flatten()
    }
}

/// A lock per server id, taken in turn. An entry is made only for a server that exists and is
/// dropped with it ([`Turns::forget`]), so clients cannot grow the map.
#[derive(Default)]
struct Turns(Mutex<HashMap<String, Arc<futures::lock::Mutex<()>>>>);

type Turn = futures::lock::OwnedMutexGuard<()>;

impl Turns {
    async fn take(&self, server_id: &str) -> Turn {
        let turn = {
            let mut turns = self.0.lock().unwrap_or_else(|p| p.into_inner());
            turns.entry(server_id.to_owned()).or_default().clone()
        };
        turn.lock_owned().await
    }

    fn forget(&self, server_id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(server_id);
    }
}

/// The deadline of requests to a server.
pub fn timeout_of(server: &ToolServer) -> Duration {
    Duration::from_secs(server.timeout.max(1) as u64)
}
