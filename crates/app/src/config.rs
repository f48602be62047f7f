//! Configuration: command-line flags, each also readable from an environment variable.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use toolhub_domain::Role;

#[derive(Parser)]
#[command(name = "toolhub", version, about = "Tool-server registry, access engine and MCP gateway")]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the command line and environment. With no subcommand the command is `serve`,
    /// parsed with its flags and environment like `toolhub serve ...` (flags may come before).
    pub fn parse_with_default() -> Self {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        Self::parse_from(with_default_command(args))
    }
}

/// The arguments with `serve` inserted when they name no subcommand (nor ask for help or the
/// version).
pub fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let command = Cli::command();
    let names: Vec<String> =
        command.get_subcommands().map(|c| c.get_name().to_owned()).chain(["help".into()]).collect();
    let asks = |a: &std::ffi::OsString| {
        let a = a.to_string_lossy();
        names.iter().any(|n| *n == a) || matches!(a.as_ref(), "-h" | "--help" | "-V" | "--version")
    };
    if !args.iter().skip(1).any(asks) {
        args.insert(1.min(args.len()), "serve".into());
    }
    args
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Speak MCP on stdin/stdout, relayed to a Toolhub's gateway (for clients that only
    /// launch stdio servers). The API key comes from `TOOLHUB_KEY`.
    Connect(ConnectArgs),
    /// Import a file into a running Toolhub (`POST /api/v1/import`): one of its exports, or an
    /// `mcpServers` file of Claude Desktop, Cursor or VS Code. Prints what changed.
    Import(ImportArgs),
}

#[derive(Args, Clone)]
pub struct ImportArgs {
    /// The file: a Toolhub export or `{"mcpServers": {...}}`.
    pub file: std::path::PathBuf,
    /// The Toolhub to import into.
    #[arg(long, env = "TOOLHUB_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An administrator's API key (or JWT).
    #[arg(long, env = "TOOLHUB_KEY", hide_env_values = true)]
    pub key: String,
    /// Report what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A name already taken: skip the entry, update the existing one, or rename the entry.
    #[arg(long, default_value = "skip", value_parser = ["skip", "update", "rename"])]
    pub conflicts: String,
    /// The passphrase a sealed export was made with.
    #[arg(long, env = "TOOLHUB_PASSPHRASE", hide_env_values = true)]
    pub passphrase: Option<String>,
}

#[derive(Args, Clone)]
pub struct ConnectArgs {
    /// The Toolhub to relay to.
    #[arg(long, env = "TOOLHUB_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Only this server's tools, under their own names (`/mcp/servers/NAME`).
    #[arg(long, conflicts_with = "toolkit")]
    pub server: Option<String>,
    /// Only this toolkit's tools, in its order and under its names (`/mcp/toolkits/NAME`).
    #[arg(long)]
    pub toolkit: Option<String>,
    /// The API key (or JWT) to present.
    #[arg(long, env = "TOOLHUB_KEY", hide_env_values = true)]
    pub key: String,
}

impl ConnectArgs {
    /// The gateway endpoint these arguments name.
    pub fn endpoint(&self) -> String {
        let base = self.url.trim_end_matches('/');
        match (&self.server, &self.toolkit) {
            (Some(server), _) => format!("{base}/mcp/servers/{server}"),
            (None, Some(toolkit)) => format!("{base}/mcp/toolkits/{toolkit}"),
            (None, None) => format!("{base}/mcp"),
        }
    }
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Issue an API key and print it (the only time it is shown).
    Create(CreateKeyArgs),
    /// List a tenant's keys (never their secrets).
    List {
        #[arg(long, default_value = toolhub_domain::DEFAULT_TENANT)]
        tenant: String,
    },
    /// Revoke a key; it stops working within seconds on every replica.
    Revoke {
        /// The key's id (see `keys list`).
        id: String,
        #[arg(long, default_value = toolhub_domain::DEFAULT_TENANT)]
        tenant: String,
    },
    /// Replace a key with a new one (printed once) and revoke the old one.
    Rotate {
        id: String,
        #[arg(long, default_value = toolhub_domain::DEFAULT_TENANT)]
        tenant: String,
    },
}

#[derive(Args, Clone)]
pub struct StorageArgs {
    /// Directory for the SQLite database and the generated secret key.
    #[arg(long, env = "TOOLHUB_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://...` or `postgres://...`); defaults to SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Base64 of the 32-byte key that encrypts secrets at rest; generated into the data
    /// directory when unset. Replicas sharing a database must share it.
    #[arg(long, env = "TOOLHUB_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl StorageArgs {
    /// The SQLite file of the database, when it is one.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or_default();
        (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("toolhub.db").display()))
    }
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TOOLHUB_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "TOOLHUB_WORKERS")]
    pub workers: Option<usize>,
    /// Requests each principal may make per minute.
    #[arg(long, env = "TOOLHUB_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests each principal may make per hour.
    #[arg(long, env = "TOOLHUB_RATE_LIMIT_PER_HOUR", default_value_t = 20_000)]
    pub rate_limit_per_hour: u32,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    /// Administrators may use every tool of their tenant without grants (super admins always may).
    #[arg(long, env = "TOOLHUB_ADMIN_BYPASS", default_value_t = true, action = clap::ArgAction::Set)]
    pub admin_bypass: bool,
    /// Days the call log keeps records; older ones are pruned hourly.
    #[arg(long, env = "TOOLHUB_CALL_RETENTION_DAYS", default_value_t = 30)]
    pub call_retention_days: u32,
    /// Seconds between reloads of grants and rules from the database (to see other replicas' writes).
    #[arg(long, env = "TOOLHUB_ACCESS_RELOAD_SECS", default_value_t = 30)]
    pub access_reload_secs: u64,
    /// Seconds between this replica's heartbeats; one silent for three is dead and its records
    /// are removed (docs/operations.md, Replicas).
    #[arg(long, env = "TOOLHUB_REPLICA_HEARTBEAT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub replica_heartbeat_secs: u64,
    /// Log format.
    #[arg(long, env = "TOOLHUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// `Host` values the MCP gateway accepts (comma separated, `name` or `name:port`); empty:
    /// loopback names only. Set it to the names clients use when Toolhub is not on loopback.
    #[arg(long, env = "TOOLHUB_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub mcp_allowed_hosts: Vec<String>,
    /// Browser `Origin`s the MCP gateway accepts (comma separated, with scheme, `:*` for any
    /// port); empty: loopback origins only. Requests without `Origin` are not browsers'.
    #[arg(long, env = "TOOLHUB_MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub mcp_allowed_origins: Vec<String>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            workers: None,
            rate_limit_per_minute: 600,
            rate_limit_per_hour: 20_000,
            jwt: JwtArgs::default(),
            upstream: UpstreamArgs::default(),
            admin_bypass: true,
            call_retention_days: 30,
            access_reload_secs: 30,
            replica_heartbeat_secs: 5,
            log_format: LogFormat::Text,
            mcp_allowed_hosts: Vec::new(),
            mcp_allowed_origins: Vec::new(),
        }
    }
}

#[derive(Args, Clone)]
pub struct JwtArgs {
    /// Shared secret for HS256 JWTs.
    #[arg(long, env = "TOOLHUB_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with the public key of RS256 or ES256 JWTs.
    #[arg(long, env = "TOOLHUB_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Required `iss` claim.
    #[arg(long, env = "TOOLHUB_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    #[arg(long, env = "TOOLHUB_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Claim holding the role.
    #[arg(long, env = "TOOLHUB_JWT_ROLE_CLAIM", default_value = "role")]
    pub jwt_role_claim: String,
    /// Claim holding the groups (array, or comma/space separated string).
    #[arg(long, env = "TOOLHUB_JWT_GROUPS_CLAIM", default_value = "groups")]
    pub jwt_groups_claim: String,
    /// Claim holding the tenant.
    #[arg(long, env = "TOOLHUB_JWT_TENANT_CLAIM", default_value = "tenant")]
    pub jwt_tenant_claim: String,
}

impl Default for JwtArgs {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_role_claim: "role".into(),
            jwt_groups_claim: "groups".into(),
            jwt_tenant_claim: "tenant".into(),
        }
    }
}

#[derive(Args, Clone)]
pub struct UpstreamArgs {
    /// Address blocks Toolhub may reach even when the deny list covers them (comma separated CIDRs).
    #[arg(long, env = "TOOLHUB_EGRESS_ALLOW", value_delimiter = ',')]
    pub egress_allow: Vec<String>,
    /// Address blocks Toolhub must not reach, beyond link-local and cloud metadata (comma separated CIDRs).
    #[arg(long, env = "TOOLHUB_EGRESS_DENY", value_delimiter = ',')]
    pub egress_deny: Vec<String>,
    /// First wait before reconnecting a failed server, in milliseconds; doubles each time.
    #[arg(long, env = "TOOLHUB_RESTART_BACKOFF_MS", default_value_t = 500)]
    pub restart_backoff_ms: u64,
    /// Longest wait between reconnections, in seconds.
    #[arg(long, env = "TOOLHUB_RESTART_BACKOFF_MAX_SECS", default_value_t = 30)]
    pub restart_backoff_max_secs: u64,
    /// A server that ran this long before failing starts a new failure count, in seconds.
    #[arg(long, env = "TOOLHUB_STABLE_AFTER_SECS", default_value_t = 60)]
    pub stable_after_secs: u64,
    /// Reuse connections to Streamable HTTP upstreams. Switch off for upstreams that leave
    /// Nagle's algorithm on (their answers then wait ~40 ms on a reused connection).
    #[arg(long, env = "TOOLHUB_UPSTREAM_KEEP_ALIVE", default_value_t = true, action = clap::ArgAction::Set)]
    pub upstream_keep_alive: bool,
    /// Unhealthy calls in a row (timed out, unreachable) that open a server's circuit: calls
    /// then fail fast until a trial call is due. 0 never opens it.
    #[arg(long, env = "TOOLHUB_CIRCUIT_FAILURES", default_value_t = 5)]
    pub circuit_failures: u32,
    /// Seconds an open circuit refuses calls before letting a trial call through.
    #[arg(long, env = "TOOLHUB_CIRCUIT_COOLDOWN_SECS", default_value_t = 30)]
    pub circuit_cooldown_secs: u32,
    /// Where stdio servers work: each gets `<dir>/<server id>` as working directory, HOME and
    /// TMPDIR (default: `toolhub-children-<uid>` in the system's temporary directory).
    #[arg(long, env = "TOOLHUB_CHILDREN_DIR")]
    pub children_dir: Option<std::path::PathBuf>,
    /// Commands tenant administrators may give stdio servers (comma separated, matched exactly,
    /// e.g. `npx,uvx`); super administrators may run any. Empty: none for tenant administrators.
    #[arg(long, env = "TOOLHUB_STDIO_ALLOW", value_delimiter = ',')]
    pub stdio_allow: Vec<String>,
}

impl Default for UpstreamArgs {
    fn default() -> Self {
        Self {
            egress_allow: Vec::new(),
            egress_deny: Vec::new(),
            restart_backoff_ms: 500,
            restart_backoff_max_secs: 30,
            stable_after_secs: 60,
            upstream_keep_alive: true,
            circuit_failures: 5,
            circuit_cooldown_secs: 30,
            stdio_allow: Vec::new(),
            children_dir: None,
        }
    }
}

#[derive(Args, Clone)]
pub struct CreateKeyArgs {
    /// The principal (user id) the key authenticates as.
    #[arg(long)]
    pub subject: String,
    #[arg(long, value_enum, default_value_t = RoleArg::User)]
    pub role: RoleArg,
    #[arg(long, default_value = toolhub_domain::DEFAULT_TENANT)]
    pub tenant: String,
    /// A label to tell keys apart.
    #[arg(long, default_value = "cli")]
    pub name: String,
    /// Days until the key expires (never when unset).
    #[arg(long)]
    pub expires_in_days: Option<u32>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Guest,
    User,
    PowerUser,
    Admin,
    SuperAdmin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Guest => Role::Guest,
            RoleArg::User => Role::User,
            RoleArg::PowerUser => Role::PowerUser,
            RoleArg::Admin => Role::Admin,
            RoleArg::SuperAdmin => Role::SuperAdmin,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
