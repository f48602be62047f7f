//! Toolhub's composition root: configuration, wiring of the adapters around the domain,
//! start-up and shutdown. The binary (`main.rs`) is a thin CLI over this library, which the
//! end-to-end tests also drive in-process.

pub mod config;
pub mod connect;
pub mod import;

use std::{net::TcpListener, sync::Arc, time::Duration};

use anyhow::Context;
use toolhub_domain::{
    circuit::CircuitSettings,
    ports::{Clock, SecretCipher, SystemClock},
    replica::Liveness,
    secret::Secret,
    server::CommandPolicy,
    services::{CallService, LifecycleService, Ports, Services, Settings},
};
use toolhub_http::{
    AppState,
    auth::{JwtSettings, JwtVerifier},
    metrics::PrometheusMetrics,
    rate_limit::RateLimiter,
};
use toolhub_mcp::{EgressPolicy, UpstreamManager, sandbox::SandboxSettings};
use toolhub_storage::{AeadCipher, BatchingCallLog, Store, quotas::SharedQuotaLedger, replicas::PgReplicaBus};

pub use config::{Cli, ServeArgs, StorageArgs};

/// Opens the database, applies migrations, and returns the store with its secret cipher.
pub async fn open_store(args: &StorageArgs) -> anyhow::Result<Store> {
    let url = args.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    }
    let db = toolhub_storage::connect(&url).await.context("cannot connect to the database")?;
    toolhub_storage::migrate(&db).await.context("cannot apply database migrations")?;
    Ok(Store::new(db, secret_cipher(args)?))
}

/// The configured key, or the one generated into the data directory on first start.
fn secret_cipher(args: &StorageArgs) -> anyhow::Result<Arc<dyn SecretCipher>> {
    let encoded = match &args.secret_key {
        Some(key) => key.clone(),
        None => {
            let path = args.data_dir.join("secret.key");
            if path.exists() {
                std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
            } else {
                std::fs::create_dir_all(&args.data_dir)?;
                let key = AeadCipher::generate_key();
                write_private(&path, &key)?;
                tracing::info!(path = %path.display(), "generated the key that encrypts secrets at rest");
                key
            }
        }
    };
    Ok(Arc::new(AeadCipher::from_base64(&encoded).map_err(anyhow::Error::msg)?))
}

fn write_private(path: &std::path::Path, content: &str) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    Ok(())
}

fn jwt_settings(args: &config::JwtArgs) -> anyhow::Result<JwtSettings> {
    let public_key_pem = args
        .jwt_public_key_file
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()?;
    Ok(JwtSettings {
        hs256_secret: args.jwt_secret.clone(),
        public_key_pem,
        issuer: args.jwt_issuer.clone(),
        audience: args.jwt_audience.clone(),
        role_claim: args.jwt_role_claim.clone(),
        groups_claim: args.jwt_groups_claim.clone(),
        tenant_claim: args.jwt_tenant_claim.clone(),
        ..JwtSettings::default()
    })
}

fn upstream_manager(args: &config::UpstreamArgs, storage: &StorageArgs) -> anyhow::Result<UpstreamManager> {
    let egress = EgressPolicy::new(&args.egress_allow, &args.egress_deny).map_err(anyhow::Error::msg)?;
    Ok(UpstreamManager::new(toolhub_mcp::Settings {
        backoff_initial: Duration::from_millis(args.restart_backoff_ms),
        backoff_max: Duration::from_secs(args.restart_backoff_max_secs),
        egress,
        http_keep_alive: args.upstream_keep_alive,
        sandbox: sandbox_settings(args, storage),
    }))
}

/// Children work in directories of their own and never reach the data directory (the secret
/// key, the SQLite database) or the database file wherever it is.
fn sandbox_settings(args: &config::UpstreamArgs, storage: &StorageArgs) -> SandboxSettings {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let children =
        args.children_dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("toolhub-children-{uid}")));
    let mut hidden = vec![storage.data_dir.clone()];
    hidden.extend(storage.sqlite_file());
    SandboxSettings { children_dir: Some(children), hidden }
}

/// Keeps processes of the same user (stdio children among them) from reading this process's
/// memory and environment (`/proc/<pid>/environ` holds `DATABASE_URL` and the secret key).
pub fn forbid_inspection() {
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        tracing::warn!("cannot mark the process non-dumpable: its environment is readable by the same user");
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    services: Services,
    retention: chrono::Duration,
    /// The MCP gateway's stored sessions, pruned with the call log.
    sessions: Arc<dyn toolhub_domain::ports::SessionRepository>,
    access_reload: Duration,
    heartbeat: Duration,
    /// The administrator key created on first start, to be shown once.
    pub bootstrap_admin_key: Option<Secret>,
}

/// How long shutdown waits for requests in flight (tool calls among them).
const SHUTDOWN_GRACE_SECS: u64 = 10;

/// Resolves at SIGTERM or SIGINT.
async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            tracing::error!("cannot listen for SIGTERM and SIGINT; stop Toolhub with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}

/// A server running in the background (see [`Application::spawn`]).
pub struct RunningApp {
    pub handle: actix_web::dev::ServerHandle,
    pub lifecycle: Arc<LifecycleService>,
    pub calls: Arc<CallService>,
}

impl RunningApp {
    /// Stops serving, writes the queued call records and ends every upstream process, as a
    /// SIGTERM does.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
        self.calls.flush().await;
        self.lifecycle.shutdown().await;
    }
}

impl Application {
    pub async fn build(storage: &StorageArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        Self::build_with_clock(storage, serve, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with the clock every service reads (tests move it by hand).
    pub async fn build_with_clock(
        storage: &StorageArgs,
        serve: &ServeArgs,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let store = Arc::new(open_store(storage).await?);
        let metrics = Arc::new(PrometheusMetrics::new().context("cannot register metrics")?);
        // Replicas share a PostgreSQL database: they tell each other of writes and commands.
        let bus = PgReplicaBus::for_database(store.connection());
        let replicas: Arc<dyn toolhub_domain::ports::ReplicaBus> = match &bus {
            Some(bus) => bus.clone(),
            None => Arc::new(toolhub_domain::ports::SingleReplica),
        };
        let ports = Ports {
            servers: store.clone(),
            tools: store.clone(),
            users: store.clone(),
            grants: store.clone(),
            rules: store.clone(),
            api_keys: store.clone(),
            call_records: store.clone(),
            call_log: BatchingCallLog::start(store.clone()),
            sessions: store.clone(),
            toolkits: store.clone(),
            categories: store.clone(),
            replicas,
            registry: store.clone(),
            // Replicas count limited calls together; one process counts them in memory.
            quotas: match &bus {
                Some(_) => Arc::new(SharedQuotaLedger::new(store.connection().clone())),
                None => Arc::new(toolhub_domain::access::UsageCounters::default()),
            },
            upstream: Arc::new(upstream_manager(&serve.upstream, storage)?),
            metrics: metrics.clone(),
            clock,
        };
        let settings = Settings {
            admin_bypass: serve.admin_bypass,
            stable_after: Duration::from_secs(serve.upstream.stable_after_secs),
            circuits: CircuitSettings {
                failures: serve.upstream.circuit_failures,
                cooldown: chrono::Duration::seconds(serve.upstream.circuit_cooldown_secs.into()),
            },
            commands: CommandPolicy { allowed: serve.upstream.stdio_allow.clone() },
            replica_label: replica_label(),
            liveness: Liveness { heartbeat: Duration::from_secs(serve.replica_heartbeat_secs) },
        };
        let services = Services::new(&ports, &settings);
        let bootstrap_admin_key =
            services.auth.bootstrap_admin_key().await.context("cannot create the first admin key")?;
        let jwt = JwtVerifier::new(jwt_settings(&serve.jwt)?).map_err(anyhow::Error::msg)?.map(Arc::new);
        if let Some(bus) = &bus {
            let follower = Follower::start(services.clone());
            let follow = move |event| {
                follower.follow(event);
                std::future::ready(())
            };
            bus.listen(follow).await.context("cannot listen to the other replicas")?;
        }
        // Registered before anything it runs is reported.
        services.lifecycle.heartbeat().await.context("cannot register this replica")?;
        let grants = services.access.load().await.context("cannot load grants")?;
        tracing::info!(grants, "access index loaded");
        // Shared quotas are stored; counted in memory, they are counted again from the call log.
        if bus.is_none() {
            let counted = services.calls.restore_quotas().await.context("cannot count the quotas' calls")?;
            tracing::info!(counted, "calls of the last day counted against grants' quotas");
        }
        services
            .lifecycle
            .ensure_builtin_server(toolhub_domain::DEFAULT_TENANT)
            .await
            .context("cannot register built-in tools")?;
        let state = actix_web::web::Data::new(AppState {
            services: services.clone(),
            metrics,
            jwt,
            limiter: Arc::new(RateLimiter::new(serve.rate_limit_per_minute, serve.rate_limit_per_hour)),
            readiness: store,
            gateway: toolhub_http::mcp_gateway::Gateway::new(
                services.clone(),
                &ports,
                &toolhub_http::mcp_gateway::GatewaySettings {
                    allowed_hosts: serve.mcp_allowed_hosts.clone(),
                    allowed_origins: serve.mcp_allowed_origins.clone(),
                },
            ),
        });

        let document = toolhub_http::ApiDocument::new();
        let listener = TcpListener::bind(&serve.bind).with_context(|| format!("cannot listen on {}", serve.bind))?;
        let port = listener.local_addr()?.port();
        let gateway = state.gateway.clone();
        let mut server = actix_web::HttpServer::new(move || toolhub_http::app(state.clone(), document.clone()))
            // Streamed answers (the MCP gateway's SSE) are written in pieces: without NODELAY
            // each waits ~40 ms for the client's delayed ACK.
            .tcp_nodelay(true)
            .shutdown_timeout(SHUTDOWN_GRACE_SECS)
            .shutdown_signal(async move {
                stop_requested().await;
                // The gateway's open SSE streams would hold the drain for the whole grace period.
                gateway.close();
            })
            .listen(listener)?;
        if let Some(workers) = serve.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            services,
            retention: chrono::Duration::days(serve.call_retention_days.into()),
            access_reload: Duration::from_secs(serve.access_reload_secs.max(1)),
            heartbeat: settings.liveness.heartbeat,
            bootstrap_admin_key,
            sessions: ports.sessions.clone(),
        })
    }

    /// Prunes the call log of records past the retention, and the MCP gateway's sessions past
    /// theirs, hourly.
    fn prune_periodically(&self) {
        let (calls, retention, sessions) = (self.services.calls.clone(), self.retention, self.sessions.clone());
        let access = self.services.access.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(3600));
            loop {
                ticks.tick().await;
                match calls.prune(retention).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "pruned the call log"),
                    Err(error) => tracing::warn!(%error, "cannot prune the call log"),
                }
                let before =
                    chrono::Utc::now() - chrono::Duration::hours(toolhub_http::mcp_gateway::SESSION_RETENTION_HOURS);
                if let Err(error) = sessions.prune(before).await {
                    tracing::warn!(%error, "cannot prune the MCP sessions");
                }
                if let Err(error) = access.prune_quotas().await {
                    tracing::warn!(%error, "cannot prune the counted calls");
                }
            }
        });
    }

    /// Reloads grants and rules now and then, so that writes made through another replica
    /// sharing the database reach this one's index.
    fn reload_access_periodically(&self) {
        let (access, every) = (self.services.access.clone(), self.access_reload);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = access.load().await {
                    tracing::warn!(%error, "cannot reload grants");
                }
            }
        });
    }

    /// Heartbeats, and removes the records of replicas that stopped heartbeating.
    fn heartbeat_periodically(&self) {
        let (lifecycle, every) = (self.services.lifecycle.clone(), self.heartbeat);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                match lifecycle.heartbeat().await {
                    Ok(0) => {}
                    Ok(servers) => tracing::info!(servers, "removed the records of replicas that stopped"),
                    Err(error) => tracing::warn!(%error, "cannot heartbeat"),
                }
            }
        });
    }

    /// What runs beside the HTTP server: resuming servers, reloads, pruning, heartbeats.
    fn start_background(&self) {
        self.resume_upstreams();
        self.reload_access_periodically();
        self.prune_periodically();
        self.heartbeat_periodically();
    }

    /// Starts the built-in server and resumes the `auto_start` servers that were running,
    /// in the background, so the API answers while slow servers start.
    fn resume_upstreams(&self) {
        let lifecycle = self.services.lifecycle.clone();
        tokio::spawn(async move {
            match lifecycle.resume().await {
                Ok(running) => tracing::info!(running, "resumed tool servers"),
                Err(error) => tracing::error!(%error, "cannot resume tool servers"),
            }
        });
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then drains in-flight requests, ends every upstream
    /// process, and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.start_background();
        let served = self.server.await;
        // In-flight calls have finished: write their records, then end the upstreams.
        self.services.calls.flush().await;
        self.services.lifecycle.shutdown().await;
        served
    }

    /// Serves in the background (for tests).
    pub fn spawn(self) -> RunningApp {
        self.start_background();
        let handle = self.server.handle();
        tokio::spawn(self.server);
        RunningApp { handle, lifecycle: self.services.lifecycle, calls: self.services.calls }
    }
}

/// This replica as operators see it: host name and process id.
fn replica_label() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    format!("{}:{}", if host.is_empty() { "toolhub" } else { host }, std::process::id())
}

/// Does what the other replicas' events ask, without one kind holding up another: access
/// reloads are coalesced (events that come during a reload make one more), starts and stops
/// run in order on a task of their own (a slow start never delays a revocation), the rest
/// at once.
#[derive(Clone)]
struct Follower {
    services: Services,
    access_changed: Arc<tokio::sync::Notify>,
    commands: tokio::sync::mpsc::Sender<toolhub_domain::ports::ReplicaEvent>,
}

/// Starts and stops waiting to be followed; more are dropped, with a warning.
const FOLLOWED_COMMANDS: usize = 1024;

impl Follower {
    fn start(services: Services) -> Self {
        let access_changed = Arc::new(tokio::sync::Notify::new());
        let (access, changed) = (services.access.clone(), access_changed.clone());
        tokio::spawn(async move {
            loop {
                changed.notified().await;
                if let Err(error) = access.load().await {
                    tracing::warn!(%error, "cannot reload grants as another replica asked");
                }
            }
        });
        let (commands, mut queued) = tokio::sync::mpsc::channel(FOLLOWED_COMMANDS);
        let runner = services.clone();
        tokio::spawn(async move {
            while let Some(event) = queued.recv().await {
                if let Err(error) = runner.follow(event).await {
                    tracing::warn!(%error, "cannot follow another replica's command");
                }
            }
        });
        Self { services, access_changed, commands }
    }

    fn follow(&self, event: toolhub_domain::ports::ReplicaEvent) {
        use toolhub_domain::ports::ReplicaEvent;
        match event {
            ReplicaEvent::Access => self.access_changed.notify_one(),
            ReplicaEvent::Runtime { .. } => {
                if self.commands.try_send(event).is_err() {
                    tracing::warn!("too many commands of other replicas waiting; one is dropped");
                }
            }
            ReplicaEvent::Catalogue | ReplicaEvent::Auth => {
                let services = self.services.clone();
                tokio::spawn(async move {
                    if let Err(error) = services.follow(event).await {
                        tracing::warn!(%error, "cannot follow another replica");
                    }
                });
            }
        }
    }
}
