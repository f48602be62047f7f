//! Wiring: every port the services need, the settings they take, and all services built at once.

use std::{sync::Arc, time::Duration};

use crate::{
    circuit::CircuitSettings,
    ports::{
        ApiKeyRepository, CallLog, CallLogRepository, CategoryRepository, Clock, GrantRepository, Metrics,
        RoleRuleRepository, ServerRepository, SessionRepository, ToolRepository, ToolkitRepository, UserRepository,
    },
    server::CommandPolicy,
    services::{
        AccessService, AuthService, CallService, CatalogueCache, LifecycleService, OfferingService, PortabilityService,
        ServerService, StatsService, ToolService, ToolkitService, UpstreamNotices, UptimeLog, UserService,
    },
    upstream::UpstreamConnector,
};

/// The adapters a Toolhub is made of: storage, upstream, metrics and the clock.
/// `testing::InMemoryStore::ports` gives a complete set in memory.
#[derive(Clone)]
pub struct Ports {
    /// Tool servers.
    pub servers: Arc<dyn ServerRepository>,
    /// Tools of servers.
    pub tools: Arc<dyn ToolRepository>,
    /// Users (principals).
    pub users: Arc<dyn UserRepository>,
    /// Grants.
    pub grants: Arc<dyn GrantRepository>,
    /// Role rules.
    pub rules: Arc<dyn RoleRuleRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// Stored call records (the call log's reading side, and usage counters).
    pub call_records: Arc<dyn CallLogRepository>,
    /// Where calls are recorded, off the call path.
    pub call_log: Arc<dyn CallLog>,
    /// The MCP gateway's sessions.
    pub sessions: Arc<dyn SessionRepository>,
    /// Toolkits and their tools.
    pub toolkits: Arc<dyn ToolkitRepository>,
    /// The switches of tool categories.
    pub categories: Arc<dyn CategoryRepository>,
    /// The other replicas sharing the database ([`crate::ports::SingleReplica`] when none).
    pub replicas: Arc<dyn crate::ports::ReplicaBus>,
    /// Where replicas report their connections and heartbeat (the database; the in-memory
    /// store for one process without one).
    pub registry: Arc<dyn crate::ports::ReplicaRegistry>,
    /// Where calls under limits are counted ([`crate::access::UsageCounters`] in one process).
    pub quotas: Arc<dyn crate::ports::QuotaLedger>,
    /// How tool servers are reached.
    pub upstream: Arc<dyn UpstreamConnector>,
    /// Operational counters.
    pub metrics: Arc<dyn Metrics>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// The operator's choices that change how services behave.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Administrators use every tool of their tenant without grants (default: true). Off, they
    /// still manage everything and read anyone's access, but call only what grants allow.
    pub admin_bypass: bool,
    /// A server failing after this much uptime starts a new count of consecutive failures.
    pub stable_after: Duration,
    /// When a server's circuit opens, and for how long.
    pub circuits: CircuitSettings,
    /// Who may set the command of a stdio server.
    pub commands: CommandPolicy,
    /// How this replica is named to operators (host and process id).
    pub replica_label: String,
    /// How often replicas heartbeat.
    pub liveness: crate::replica::Liveness,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_bypass: true,
            stable_after: Duration::from_secs(60),
            circuits: CircuitSettings::default(),
            commands: CommandPolicy::default(),
            replica_label: format!("toolhub-{}", std::process::id()),
            liveness: crate::replica::Liveness::default(),
        }
    }
}

/// Every service, wired to one another and to the ports.
#[derive(Clone)]
pub struct Services {
    /// Servers and tools as every service reads them.
    pub catalogue: Arc<CatalogueCache>,
    /// Credentials and API keys.
    pub auth: Arc<AuthService>,
    /// Users.
    pub users: Arc<UserService>,
    /// Grants, role rules and decisions.
    pub access: Arc<AccessService>,
    /// Running servers.
    pub lifecycle: Arc<LifecycleService>,
    /// Tool listings and states.
    pub tools: Arc<ToolService>,
    /// Resources and prompts of servers.
    pub offerings: Arc<OfferingService>,
    /// Server stats.
    pub stats: Arc<StatsService>,
    /// The server registry.
    pub servers: Arc<ServerService>,
    /// Tool calls and the call log.
    pub calls: Arc<CallService>,
    /// Toolkits.
    pub toolkits: Arc<ToolkitService>,
    /// Export and import.
    pub portability: Arc<PortabilityService>,
}

impl Services {
    /// Does here what another replica's event asks (see [`crate::ports::ReplicaEvent`]).
    pub async fn follow(&self, event: crate::ports::ReplicaEvent) -> crate::error::DomainResult<()> {
        use crate::ports::ReplicaEvent;
        match event {
            ReplicaEvent::Access => self.access.load().await.map(drop),
            ReplicaEvent::Catalogue => {
                self.catalogue.forget_copies();
                Ok(())
            }
            ReplicaEvent::Auth => {
                self.auth.forget_cached_here();
                Ok(())
            }
            ReplicaEvent::Runtime { tenant, server_id, run } => self.lifecycle.follow(&tenant, &server_id, run).await,
        }
    }

    /// Builds every service over `ports`. Load the access index ([`AccessService::load`]) before
    /// serving.
    pub fn new(ports: &Ports, settings: &Settings) -> Self {
        let clock = ports.clock.clone();
        // Every service reads and writes servers and tools through the catalogue cache, so that
        // its copy of call targets hears of each write.
        let catalogue = Arc::new(CatalogueCache::new(
            ports.servers.clone(),
            ports.tools.clone(),
            clock.clone(),
            ports.replicas.clone(),
        ));
        let auth = Arc::new(
            AuthService::new(ports.api_keys.clone(), ports.users.clone(), clock.clone())
                .with_replicas(ports.replicas.clone()),
        );
        let users = Arc::new(UserService::new(ports.users.clone(), auth.clone(), clock.clone()));
        let access = Arc::new(AccessService::new(ports, catalogue.clone(), settings));
        let uptime = Arc::new(UptimeLog::default());
        let notices = Arc::new(UpstreamNotices::new(ports.upstream.clone()));
        let lifecycle =
            LifecycleService::new(ports, catalogue.clone(), access.clone(), uptime.clone(), notices.clone(), settings);
        let tools = Arc::new(ToolService::new(catalogue.clone(), access.clone(), clock.clone()));
        let stats = Arc::new(StatsService::new(access.clone(), uptime, clock.clone()));
        let offerings =
            Arc::new(OfferingService::new(catalogue.clone(), ports.upstream.clone(), access.clone(), notices));
        let servers = Arc::new(ServerService::new(
            catalogue.clone(),
            access.clone(),
            lifecycle.clone(),
            clock,
            settings.commands.clone(),
        ));
        let toolkits = Arc::new(ToolkitService::new(
            ports.toolkits.clone(),
            catalogue.clone(),
            access.clone(),
            ports.clock.clone(),
        ));
        let calls = Arc::new(CallService::new(ports, catalogue.clone(), access.clone(), toolkits.clone(), settings));
        let portability = Arc::new(PortabilityService::new(
            catalogue.clone(),
            servers.clone(),
            lifecycle.clone(),
            tools.clone(),
            toolkits.clone(),
            access.clone(),
        ));
        Self {
            catalogue,
            auth,
            users,
            access,
            lifecycle,
            tools,
            offerings,
            stats,
            servers,
            calls,
            toolkits,
            portability,
        }
    }
}
