//! One MCP client session to an upstream: a child process over stdio, or Streamable HTTP.
//! A session knows when it ended, and ends the whole process tree of a stdio server.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::ClientConfig,
    service::{NotificationContext, Peer, RunningServiceCancellationToken},
    transport::{
        StreamableHttpClientTransport, TokioChildProcess, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    sync::{mpsc, oneshot},
};
use toolhub_domain::{
    server::{ToolServer, TransportType},
    upstream::{UpstreamError, UpstreamNotice},
};

use crate::{
    Settings,
    progress::{ProgressRoutes, ProgressTap},
    sandbox::{self, Ruleset, SandboxSettings},
};

/// Environment variables a child inherits from Toolhub; everything else (Toolhub's own
/// secrets among it) stays out. The server's configured `env` is added on top.
const INHERITED_ENV: [&str; 9] = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "NODE_PATH", "PYTHONPATH"];

/// Lines of a child's stderr kept to explain its exit.
const STDERR_TAIL: usize = 20;

/// Requests one Streamable HTTP session may have in flight (rmcp's default is 16).
const MAX_IN_FLIGHT: usize = 256;

/// Time a stdio server gets to exit after SIGTERM before its group is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// Notices a session holds for its supervisor; more are dropped (a server's chatter never
/// queues without bound).
const NOTICE_BACKLOG: usize = 64;

/// Receives the upstream's notifications.
pub struct ClientHooks {
    tools_changed: mpsc::UnboundedSender<()>,
    notices: mpsc::Sender<UpstreamNotice>,
}

impl ClientHooks {
    fn notice(&self, notice: UpstreamNotice) {
        let _ = self.notices.try_send(notice);
    }
}

impl ClientHandler for ClientHooks {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.tools_changed.send(());
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.notice(UpstreamNotice::ResourcesChanged);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.notice(UpstreamNotice::PromptsChanged);
    }

    // Relayed though rmcp marks it deprecated: see `convert::log_level_of`.
    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.notice(UpstreamNotice::Log {
            level: crate::convert::log_level_of(params.level),
            logger: params.logger,
            data: params.data,
        });
    }

    fn get_info(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.client_info = rmcp::model::Implementation::new("toolhub", env!("CARGO_PKG_VERSION"));
        config
    }
}

pub struct Session {
    pub peer: Peer<RoleClient>,
    /// For an OpenAPI server: its in-process server, which calls may use without the MCP hop.
    pub direct: Option<crate::openapi::OpenApiServer>,
    /// Where this session's calls in flight want their progress reports.
    pub progress: Arc<ProgressRoutes>,
    cancel: RunningServiceCancellationToken,
    /// Fires when the session ends by itself (process exit, connection closed).
    pub ended: oneshot::Receiver<String>,
    pub tools_changed: mpsc::UnboundedReceiver<()>,
    /// Log messages and resource and prompt changes, for the observer.
    pub notices: mpsc::Receiver<UpstreamNotice>,
    /// The process group of a stdio server (its leader's pid).
    pub process_group: Option<i32>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

impl Session {
    /// Explains an end reported by `ended`, with the last line the process wrote to stderr.
    pub fn explain(&self, ended: Result<String, oneshot::error::RecvError>) -> String {
        let reason = ended.unwrap_or_else(|_| "the session ended".into());
        let tail = self.stderr_tail.lock().map(|t| t.back().cloned()).ok().flatten();
        match tail {
            Some(line) => format!("{reason}; last stderr line: {line}"),
            None => reason,
        }
    }

    /// Ends the session; a stdio server gets SIGTERM, then its whole group SIGKILL.
    pub async fn close(self) {
        if let Some(group) = self.process_group {
            signal_group(group, libc::SIGTERM);
        }
        self.cancel.cancel();
        let mut ended = self.ended;
        if !ended.is_terminated() {
            let _ = tokio::time::timeout(STOP_GRACE, &mut ended).await;
        }
        if let Some(group) = self.process_group {
            signal_group(group, libc::SIGKILL);
        }
    }
}

/// Sends a signal to every process of a group; a group that is gone already is fine.
pub fn signal_group(group: i32, signal: i32) {
    if group > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

/// Opens a session and completes the MCP handshake within the server's timeout.
pub async fn open(
    server: &ToolServer,
    settings: &Settings,
    bearer: Option<String>,
    timeout: Duration,
) -> Result<Session, UpstreamError> {
    let progress = Arc::new(ProgressRoutes::default());
    let (tx, tools_changed) = mpsc::unbounded_channel();
    let (notice_tx, notices) = mpsc::channel(NOTICE_BACKLOG);
    let hooks = ClientHooks { tools_changed: tx, notices: notice_tx };
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    let mut direct = None;
    let (service, process_group) = match server.transport_type {
        TransportType::Stdio => {
            let (transport, group, stderr_reader) = spawn_stdio(server, &settings.sandbox, stderr_tail.clone())?;
            let handshake =
                tokio::time::timeout(timeout, hooks.serve(ProgressTap::new(transport, progress.clone()))).await;
            let service = match handshake {
                Ok(Ok(service)) => service,
                Ok(Err(e)) => {
                    signal_group(group, libc::SIGKILL);
                    // The process is gone: let its stderr be read to the end, so the reason it
                    // gave is in the answer (it races with the failed write otherwise).
                    if let Some(reader) = stderr_reader {
                        let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
                    }
                    let tail = stderr_tail.lock().map(|t| t.back().cloned()).ok().flatten();
                    let detail = tail.map(|l| format!("; last stderr line: {l}")).unwrap_or_default();
                    return Err(UpstreamError::Unavailable(format!("{}{detail}", handshake_failure(&e))));
                }
                Err(_) => {
                    signal_group(group, libc::SIGKILL);
                    return Err(UpstreamError::Timeout(timeout));
                }
            };
            (service, Some(group))
        }
        TransportType::Http => {
            let transport = http_transport(server, settings, bearer).await?;
            let service = tokio::time::timeout(timeout, hooks.serve(ProgressTap::new(transport, progress.clone())))
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))?
                .map_err(|e| UpstreamError::Unavailable(handshake_failure(&e)))?;
            (service, None)
        }
        TransportType::Sse => {
            let url = server.base_url.as_deref().ok_or_else(|| UpstreamError::Unavailable("no base_url".into()))?;
            let client = settings.egress.server_client(server, url, bearer.as_deref()).await?;
            let transport = tokio::time::timeout(timeout, crate::sse::connect(client, url))
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))??;
            let service = tokio::time::timeout(timeout, hooks.serve(ProgressTap::new(transport, progress.clone())))
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))?
                .map_err(|e| UpstreamError::Unavailable(handshake_failure(&e)))?;
            (service, None)
        }
        TransportType::Websocket => {
            return Err(UpstreamError::Unavailable("the websocket transport is not supported".into()));
        }
        TransportType::Openapi => {
            let opened = tokio::time::timeout(timeout, crate::openapi::OpenApiServer::open(server, settings, bearer))
                .await
                .map_err(|_| UpstreamError::Timeout(timeout))??;
            direct = Some(opened.clone());
            let service = tokio::time::timeout(
                timeout,
                hooks.serve(ProgressTap::new(crate::openapi::serve(opened), progress.clone())),
            )
            .await
            .map_err(|_| UpstreamError::Timeout(timeout))?
            .map_err(|e| UpstreamError::Unavailable(handshake_failure(&e)))?;
            (service, None)
        }
    };
    let peer = service.peer().clone();
    let cancel = service.cancellation_token();
    let (done, ended) = oneshot::channel();
    tokio::spawn(async move {
        let closed = async {
            match service.waiting().await {
                Ok(reason) => format!("the connection closed ({reason:?})"),
                Err(e) => format!("the session task failed: {e}"),
            }
        };
        // The direct child's exit ends the server even while a grandchild (`npm exec`'s node)
        // keeps the pipes open: its group is killed, which closes them.
        let exited = async {
            match process_group {
                Some(pid) => {
                    exit_of(pid).await;
                    signal_group(pid, libc::SIGKILL);
                    format!("the server's process (pid {pid}) exited")
                }
                None => std::future::pending().await,
            }
        };
        let reason = tokio::select! {
            reason = closed => reason,
            reason = exited => reason,
        };
        let _ = done.send(reason);
    });
    Ok(Session { peer, direct, progress, cancel, ended, tools_changed, notices, process_group, stderr_tail })
}

/// Resolves when the process exits (without reaping it: its `Child` does). Never resolves
/// where pidfds are missing (Linux before 5.3); the closed pipes then tell instead.
async fn exit_of(pid: i32) {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(fd) = i32::try_from(fd) else { return std::future::pending().await };
    if fd < 0 {
        tracing::warn!(pid, error = %std::io::Error::last_os_error(), "cannot watch the server's process");
        return std::future::pending().await;
    }
    // SAFETY: the descriptor was just opened and is owned by nothing else; the AsyncFd owns it
    // from here and nothing closes or replaces it while registered.
    let registered = unsafe {
        let fd = OwnedFd::from_raw_fd(fd);
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    match registered {
        // A pidfd becomes readable when its process exits.
        Ok(fd) => drop(fd.readable().await),
        Err(_) => std::future::pending().await,
    }
}

/// Has the child killed when Toolhub dies, however it dies (kill -9 included): the kernel
/// sends SIGKILL when the thread that spawned it ends. Children are spawned on the runtime
/// that built the `UpstreamManager` (the binary's main thread), whose threads live as long as
/// it does. A child's own children are not covered (they are ended with its group on every
/// stop Toolhub makes itself).
fn die_with_toolhub(command: &mut tokio::process::Command) {
    let toolhub = std::process::id();
    // SAFETY: the closure makes only async-signal-safe system calls (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Toolhub died between the fork and the prctl: nothing would send the signal.
            if libc::getppid() as u32 != toolhub {
                return Err(std::io::Error::other("Toolhub ended while starting the server"));
            }
            Ok(())
        });
    }
}

/// The child's own directory under `children` (created private to Toolhub's user): its working
/// directory, `HOME` and `TMPDIR`.
fn private_dir(children: &std::path::Path, server_id: &str) -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = children.join(server_id);
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Why a handshake failed, in words (rmcp's messages name its internal types).
fn handshake_failure(error: &rmcp::service::ClientInitializeError) -> String {
    use rmcp::service::ClientInitializeError as E;
    match error {
        E::ConnectionClosed(_) => "the server closed the connection during the MCP handshake".into(),
        E::TransportError { error, .. } => {
            format!("the MCP handshake could not be sent or received ({})", error.error)
        }
        E::JsonRpcError(e) => format!("the server refused the MCP handshake: {}", e.message),
        E::NoCompatibleProtocolVersion { .. } => "the server speaks no MCP protocol version Toolhub knows".into(),
        _ => "the server did not answer the MCP handshake as the protocol says".into(),
    }
}

/// Spawns the server's process in its own group; returns its transport, its process group and
/// the task that reads its stderr (to the log, keeping the last lines).
fn spawn_stdio(
    server: &ToolServer,
    sandbox: &SandboxSettings,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
) -> Result<(TokioChildProcess, i32, Option<tokio::task::JoinHandle<()>>), UpstreamError> {
    let program = server.command.as_deref().ok_or_else(|| UpstreamError::Unavailable("no command".into()))?;
    let mut command = tokio::process::Command::new(program);
    command.args(&server.args).env_clear().process_group(0).kill_on_drop(true);
    die_with_toolhub(&mut command);
    for name in INHERITED_ENV {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    // Kept alive until the child has started: it applies the ruleset between fork and exec.
    let mut ruleset = None;
    if let Some(children) = &sandbox.children_dir {
        let private = private_dir(children, &server.id)
            .map_err(|e| UpstreamError::Unavailable(format!("cannot prepare the server's directory: {e}")))?;
        command.current_dir(&private).env("HOME", &private).env("TMPDIR", &private);
        ruleset = Ruleset::confine(&private, &sandbox.hidden)
            .map_err(|e| UpstreamError::Unavailable(format!("cannot confine the server: {e}")))?;
        if let Some(rules) = &ruleset {
            let fd = rules.raw_fd();
            // SAFETY: the closure only makes async-signal-safe system calls (prctl, landlock).
            unsafe {
                command.pre_exec(move || sandbox::restrict_self(fd));
            }
        }
    }
    for (name, value) in &server.env {
        command.env(name, value.expose());
    }
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| UpstreamError::Unavailable(format!("cannot start '{program}': {e}")))?;
    drop(ruleset);
    let pid = transport.id().ok_or_else(|| UpstreamError::Unavailable("the process exited at once".into()))?;
    let group = i32::try_from(pid).map_err(|_| UpstreamError::Unavailable("bad pid".into()))?;
    let reader = stderr.map(|stderr| {
        let name = server.name.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(server = %name, "stderr: {line}");
                if let Ok(mut tail) = stderr_tail.lock() {
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        })
    });
    Ok((transport, group, reader))
}

async fn http_transport(
    server: &ToolServer,
    settings: &Settings,
    bearer: Option<String>,
) -> Result<StreamableHttpClientTransport<reqwest::Client>, UpstreamError> {
    let url = server.base_url.as_deref().ok_or_else(|| UpstreamError::Unavailable("no base_url".into()))?;
    let mut client = settings.egress.pinned(url, &server.tenant).await?;
    if !settings.http_keep_alive {
        client = client.pool_max_idle_per_host(0);
    }
    let client = client.build().map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
    let mut headers = HashMap::new();
    let mut auth = bearer;
    for (name, value) in &server.headers {
        let value = value.expose();
        if name.eq_ignore_ascii_case("authorization") {
            // rmcp sends the bearer token itself; a configured OAuth token wins.
            if auth.is_none() {
                auth = Some(value.strip_prefix("Bearer ").unwrap_or(value).to_owned());
            }
            continue;
        }
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| UpstreamError::Unavailable(format!("bad header name {name}")))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| UpstreamError::Unavailable(format!("bad value of header {name}")))?;
        headers.insert(name, value);
    }
    // One session serves every request to the server, so let many of them be in flight at once.
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned())
        .custom_headers(headers)
        .max_concurrent_requests(MAX_IN_FLIGHT);
    if let Some(token) = auth {
        config = config.auth_header(token);
    }
    Ok(StreamableHttpClientTransport::with_client(client, config))
}
