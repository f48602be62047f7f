//! Tool servers: what an operator registers, with its invariants.

use std::collections::BTreeMap;

use crate::{
    DomainError, Patch, Timestamp,
    secret::{ConfigMap, Secret, merge_config_map},
    validation::Validator,
};

/// Limits of the seed API, kept in one place; the OpenAPI schema repeats them (checked by a test).
pub mod limits {
    /// Characters of a server's name.
    pub const NAME_MAX: usize = 100;
    /// Characters of a display name.
    pub const DISPLAY_NAME_MAX: usize = 200;
    /// Characters of a description.
    pub const DESCRIPTION_MAX: usize = 10_000;
    /// The shortest deadline of a request to a server, in seconds.
    pub const TIMEOUT_MIN: i64 = 5;
    /// The longest deadline of a request to a server, in seconds.
    pub const TIMEOUT_MAX: i64 = 300;
    /// The deadline when none is given, in seconds.
    pub const TIMEOUT_DEFAULT: i32 = 30;
    /// The fewest consecutive failures that may end a server in `error`.
    pub const MAX_FAILURES_MIN: i64 = 1;
    /// The most consecutive failures that may be allowed before `error`.
    pub const MAX_FAILURES_MAX: i64 = 10;
    /// Consecutive failures allowed when none is given.
    pub const MAX_FAILURES_DEFAULT: i32 = 3;
    /// Characters of a stdio server's command.
    pub const COMMAND_MAX: usize = 1_000;
    /// Arguments of a stdio server.
    pub const ARGS_MAX: usize = 100;
    /// Characters of one argument.
    pub const ARG_MAX: usize = 4_096;
    /// Entries of a headers or environment map.
    pub const MAP_ENTRIES_MAX: usize = 100;
    /// Characters of one header or environment value.
    pub const MAP_VALUE_MAX: usize = 8_192;
    /// Tags of one server.
    pub const TAGS_MAX: usize = 20;
    /// Characters of one tag.
    pub const TAG_MAX: usize = 50;
    /// Characters of a category.
    pub const CATEGORY_MAX: usize = 100;
    /// Characters of an OAuth setting.
    pub const OAUTH_FIELD_MAX: usize = 500;
    /// Servers one bulk operation may name.
    pub const BULK_MAX: usize = 100;
    /// Characters of an OpenAPI server's `openapi_spec` (a URL, a path, or the document).
    pub const SPEC_MAX: usize = 512 * 1024;
    /// Entries of `function_name_filter_list`.
    pub const FILTER_MAX: usize = 100;
    /// Characters of one entry of `function_name_filter_list`.
    pub const FILTER_ENTRY_MAX: usize = 200;
}

/// Where an OpenAPI server's document is, and which of its operations become tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenApiSettings {
    /// An absolute http(s) URL, a path relative to `base_url` (default `openapi.json`), or the
    /// document itself (JSON or YAML).
    pub spec: Option<String>,
    /// Seed 001's `function_name_filter_list`: entries allow, `!entry` blocks; a name matches an
    /// entry it ends with. With any allowing entry, a name must match one; blocks always win.
    pub function_filter: Vec<String>,
}

impl OpenApiSettings {
    /// Whether an operation named `name` becomes a tool.
    pub fn allows(&self, name: &str) -> bool {
        let (blocks, allows): (Vec<&str>, Vec<&str>) =
            self.function_filter.iter().map(String::as_str).partition(|e| e.starts_with('!'));
        (allows.is_empty() || allows.iter().any(|a| name.ends_with(a)))
            && !blocks.iter().any(|b| name.ends_with(&b[1..]))
    }

    /// Whether `spec` holds the document itself rather than naming where it is.
    pub fn is_inline(spec: &str) -> bool {
        let start = spec.trim_start();
        start.starts_with('{') || spec.contains('\n')
    }
}

crate::wire_enum! {
    /// How Toolhub reaches a server.
    TransportType { Http = "http", Sse = "sse", Stdio = "stdio", Websocket = "websocket", Openapi = "openapi" }
}

crate::wire_enum! {
    /// A server's state. `enabled` means running (connected) for non-builtin servers.
    ServerStatus { Enabled = "enabled", Disabled = "disabled", Error = "error", Starting = "starting", Stopping = "stopping" }
}

/// OAuth 2 client-credentials settings for a remote server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret (sealed at rest, masked in answers).
    pub client_secret: Secret,
    /// Where tokens are requested (client credentials grant).
    pub token_url: String,
    /// The scope requested, if any.
    pub scope: Option<String>,
}

/// A registered tool server.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolServer {
    /// The server's id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// Unique in the tenant; it prefixes the server's tools on the MCP gateway.
    pub name: String,
    /// A name for people.
    pub display_name: String,
    /// What the server offers.
    pub description: Option<String>,
    /// Where a remote server (`http`, `sse`, `openapi`) is reached.
    pub base_url: Option<String>,
    /// How Toolhub reaches the server.
    pub transport_type: TransportType,
    /// The program a `stdio` server runs.
    pub command: Option<String>,
    /// The program's arguments.
    pub args: Vec<String>,
    /// The child process's environment (secret values sealed at rest and masked).
    pub env: ConfigMap,
    /// Headers sent to a remote server (secret values sealed at rest and masked).
    pub headers: ConfigMap,
    /// OAuth client credentials: the token they get is sent as a bearer token.
    pub oauth_config: Option<OAuthConfig>,
    /// Seconds each request to the server may take.
    pub timeout: i32,
    /// Started when registered and when Toolhub starts.
    pub auto_start: bool,
    /// The seed's `auto_update` flag, stored and returned.
    pub auto_update: bool,
    /// Consecutive failures after which the server is set to `error` and not restarted.
    pub max_failures: i32,
    /// The server's state; `enabled` means running.
    pub status: ServerStatus,
    /// Toolhub's own in-process tools (they cannot be stopped or deleted).
    pub is_builtin: bool,
    /// When the server's health was last checked.
    pub last_health_check: Option<Timestamp>,
    /// When the server last started.
    pub last_startup_success: Option<Timestamp>,
    /// Why the server last failed (its secret values masked).
    pub last_startup_error: Option<String>,
    /// Failures in a row since the server last ran steadily.
    pub consecutive_failures: i32,
    /// A category, for listings.
    pub category: Option<String>,
    /// Labels, for listings.
    pub tags: Vec<String>,
    /// For `openapi` servers: the document and the operation filter.
    pub openapi: OpenApiSettings,
    /// Incremented on every write; an update naming an older version is refused.
    pub version: i64,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Who registered it.
    pub created_by: Option<String>,
}

/// OAuth settings as a client sends them; the secret may be the mask on update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthInput {
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret; the mask keeps the stored one.
    pub client_secret: String,
    /// Where tokens are requested (client credentials grant).
    pub token_url: String,
    /// The scope requested, if any.
    pub scope: Option<String>,
}

/// What a client may set when registering a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewToolServer {
    /// Unique in the tenant.
    pub name: String,
    /// A name for people.
    pub display_name: String,
    /// What the server offers.
    pub description: Option<String>,
    /// Where a remote server is reached.
    pub base_url: Option<String>,
    /// How Toolhub reaches it (default `http`).
    pub transport_type: Option<TransportType>,
    /// The program a `stdio` server runs.
    pub command: Option<String>,
    /// The program's arguments.
    pub args: Vec<String>,
    /// The child process's environment.
    pub env: BTreeMap<String, String>,
    /// Names in `env` whose values are secret, beyond credential-like names.
    pub secret_env: Vec<String>,
    /// Headers sent to a remote server.
    pub headers: BTreeMap<String, String>,
    /// Names in `headers` whose values are secret, beyond credential-like names.
    pub secret_headers: Vec<String>,
    /// OAuth client credentials.
    pub oauth_config: Option<OAuthInput>,
    /// Seconds each request may take (default 30).
    pub timeout: Option<i32>,
    /// Start when registered and when Toolhub starts (default true).
    pub auto_start: Option<bool>,
    /// The seed's `auto_update` flag (default true).
    pub auto_update: Option<bool>,
    /// Consecutive failures before `error` (default 3).
    pub max_failures: Option<i32>,
    /// A category, for listings.
    pub category: Option<String>,
    /// Labels, for listings.
    pub tags: Vec<String>,
    /// For `openapi` servers: where the document is, or the document (see [`OpenApiSettings::spec`]).
    pub openapi_spec: Option<String>,
    /// For `openapi` servers: which operations become tools (see [`OpenApiSettings::function_filter`]).
    pub function_filter: Vec<String>,
}

/// What a client may change; absent fields stay as they are. The name cannot change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerPatch {
    /// A new display name (`Null` is refused: it is required).
    pub display_name: Patch<String>,
    /// A new description; `Null` clears it.
    pub description: Patch<String>,
    /// A new base URL; `Null` clears it.
    pub base_url: Patch<String>,
    /// Another transport (`Null` is refused).
    pub transport_type: Patch<TransportType>,
    /// A new command; `Null` clears it.
    pub command: Patch<String>,
    /// New arguments; `Null` clears them.
    pub args: Patch<Vec<String>>,
    /// A new environment; `Null` clears it; masked values keep the stored ones.
    pub env: Patch<BTreeMap<String, String>>,
    /// Names in `env` whose values are secret.
    pub secret_env: Vec<String>,
    /// New headers; `Null` clears them; masked values keep the stored ones.
    pub headers: Patch<BTreeMap<String, String>>,
    /// Names in `headers` whose values are secret.
    pub secret_headers: Vec<String>,
    /// New OAuth settings; `Null` removes them; a masked secret keeps the stored one.
    pub oauth_config: Patch<OAuthInput>,
    /// A new deadline in seconds (`Null` is refused).
    pub timeout: Patch<i32>,
    /// A new `auto_start` (`Null` is refused).
    pub auto_start: Patch<bool>,
    /// A new `auto_update` (`Null` is refused).
    pub auto_update: Patch<bool>,
    /// A new failure limit (`Null` is refused).
    pub max_failures: Patch<i32>,
    /// A new category; `Null` clears it.
    pub category: Patch<String>,
    /// New tags; `Null` clears them.
    pub tags: Patch<Vec<String>>,
    /// A new OpenAPI document location or document; `Null` clears it.
    pub openapi_spec: Patch<String>,
    /// A new operation filter; `Null` clears it.
    pub function_filter: Patch<Vec<String>>,
    /// When given, the update applies only if the server is still at this version.
    pub expected_version: Option<i64>,
}

/// Who may make Toolhub run a command on its host: super administrators always; anyone else
/// (tenant administrators, holders of `admin` on a server) only the commands the operator
/// allowed (`--stdio-allow`), matched exactly. Empty: no command for anyone but super admins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandPolicy {
    /// Commands (as written in a server's `command`) that tenant administrators may run.
    pub allowed: Vec<String>,
}

impl CommandPolicy {
    /// Refuses `after` when it runs a command the actor may not set. `before` is the stored
    /// server of an update: a server whose command, arguments, environment and transport stay
    /// as they were passes (so a tenant administrator may still rename or retime it).
    pub fn check(
        &self,
        actor: &crate::Principal,
        before: Option<&ToolServer>,
        after: &ToolServer,
    ) -> Result<(), DomainError> {
        if after.transport_type != TransportType::Stdio || actor.role == crate::Role::SuperAdmin {
            return Ok(());
        }
        let unchanged = before.is_some_and(|b| {
            b.transport_type == after.transport_type
                && b.command == after.command
                && b.args == after.args
                && b.env == after.env
        });
        let command = after.command.as_deref().unwrap_or_default();
        if unchanged || self.allowed.iter().any(|a| a == command) {
            return Ok(());
        }
        Err(DomainError::Forbidden(format!(
            "running '{command}' on the host needs a super administrator, or the operator allowing it (--stdio-allow)"
        )))
    }
}

impl ToolServer {
    /// Builds a server from a registration, in status `disabled` until started.
    pub fn register(
        input: NewToolServer,
        id: String,
        tenant: String,
        created_by: Option<String>,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let server = Self {
            id,
            tenant,
            name: input.name.trim().to_string(),
            display_name: input.display_name,
            description: input.description,
            base_url: input.base_url,
            transport_type: input.transport_type.unwrap_or(TransportType::Http),
            command: input.command,
            args: input.args,
            env: merge_config_map(input.env, &input.secret_env, None),
            headers: merge_config_map(input.headers, &input.secret_headers, None),
            oauth_config: input.oauth_config.map(|o| oauth_from_input(o, None)),
            timeout: input.timeout.unwrap_or(limits::TIMEOUT_DEFAULT),
            auto_start: input.auto_start.unwrap_or(true),
            auto_update: input.auto_update.unwrap_or(true),
            max_failures: input.max_failures.unwrap_or(limits::MAX_FAILURES_DEFAULT),
            status: ServerStatus::Disabled,
            is_builtin: false,
            last_health_check: None,
            last_startup_success: None,
            last_startup_error: None,
            consecutive_failures: 0,
            category: input.category,
            tags: input.tags,
            openapi: OpenApiSettings { spec: input.openapi_spec, function_filter: input.function_filter },
            version: 1,
            created_at: now,
            updated_at: now,
            created_by,
        };
        server.validate()?;
        Ok(server)
    }

    /// Applies a partial update; the result is validated as a whole, so a transport change
    /// without the matching `base_url` or `command` is refused.
    pub fn apply(&mut self, patch: ServerPatch, now: Timestamp) -> Result<(), DomainError> {
        // Stored secrets follow their destination: when it changes, only secrets sent again in
        // clear stay (a manager must not redirect the stored ones to a host of their choosing).
        let resent = |map: &Patch<BTreeMap<String, String>>| -> Vec<String> {
            match map {
                Patch::Value(m) => {
                    m.iter().filter(|(_, v)| v.as_str() != crate::secret::MASK).map(|(k, _)| k.clone()).collect()
                }
                _ => Vec::new(),
            }
        };
        let (resent_headers, resent_env) = (resent(&patch.headers), resent(&patch.env));
        let oauth_resent = matches!(&patch.oauth_config, Patch::Value(o) if o.client_secret != crate::secret::MASK);
        let before = (self.transport_type, self.base_url.clone(), self.command.clone(), self.args.clone());
        let before_token_url = self.oauth_config.as_ref().map(|o| o.token_url.clone());
        let mut v = Validator::new();
        let mut required = |field: &str, present_null: bool| {
            if present_null {
                v.error(field, "must not be null");
            }
        };
        required("display_name", patch.display_name == Patch::Null);
        required("transport_type", patch.transport_type == Patch::Null);
        required("timeout", patch.timeout == Patch::Null);
        required("auto_start", patch.auto_start == Patch::Null);
        required("auto_update", patch.auto_update == Patch::Null);
        required("max_failures", patch.max_failures == Patch::Null);
        v.finish()?;

        set(&mut self.display_name, patch.display_name);
        patch.description.apply_to(&mut self.description);
        patch.base_url.apply_to(&mut self.base_url);
        set(&mut self.transport_type, patch.transport_type);
        patch.command.apply_to(&mut self.command);
        match patch.args {
            Patch::Value(args) => self.args = args,
            Patch::Null => self.args.clear(),
            Patch::Absent => {}
        }
        match patch.env {
            Patch::Value(env) => self.env = merge_config_map(env, &patch.secret_env, Some(&self.env)),
            Patch::Null => self.env.clear(),
            Patch::Absent => {}
        }
        match patch.headers {
            Patch::Value(h) => self.headers = merge_config_map(h, &patch.secret_headers, Some(&self.headers)),
            Patch::Null => self.headers.clear(),
            Patch::Absent => {}
        }
        let previous_oauth = self.oauth_config.take();
        self.oauth_config = match patch.oauth_config {
            Patch::Absent => previous_oauth,
            Patch::Null => None,
            Patch::Value(input) => Some(oauth_from_input(input, previous_oauth.as_ref())),
        };
        set(&mut self.timeout, patch.timeout);
        set(&mut self.auto_start, patch.auto_start);
        set(&mut self.auto_update, patch.auto_update);
        set(&mut self.max_failures, patch.max_failures);
        patch.category.apply_to(&mut self.category);
        match patch.tags {
            Patch::Value(tags) => self.tags = tags,
            Patch::Null => self.tags.clear(),
            Patch::Absent => {}
        }
        patch.openapi_spec.apply_to(&mut self.openapi.spec);
        match patch.function_filter {
            Patch::Value(filter) => self.openapi.function_filter = filter,
            Patch::Null => self.openapi.function_filter.clear(),
            Patch::Absent => {}
        }
        let remote_moved = before.0 != self.transport_type || before.1 != self.base_url;
        let program_changed = before.0 != self.transport_type || before.2 != self.command || before.3 != self.args;
        if remote_moved {
            self.headers.retain(|name, value| !value.is_secret() || resent_headers.contains(name));
        }
        if program_changed {
            self.env.retain(|name, value| !value.is_secret() || resent_env.contains(name));
        }
        let token_url_moved = self.oauth_config.as_ref().map(|o| &o.token_url) != before_token_url.as_ref();
        if self.oauth_config.is_some() && (remote_moved || token_url_moved) && !oauth_resent {
            return Err(DomainError::invalid(
                "oauth_config.client_secret",
                "the server's destination changed: send the client secret again",
            ));
        }
        self.updated_at = now;
        self.validate()
    }

    /// The server as someone who may read but not manage it sees it: no command, arguments,
    /// environment, headers or OAuth settings, no credentials or query in `base_url`, no
    /// startup error (it may quote the child's output).
    pub fn reader_view(mut self) -> Self {
        self.command = None;
        self.args.clear();
        self.env.clear();
        self.headers.clear();
        self.oauth_config = None;
        self.openapi.spec = None;
        self.last_startup_error = None;
        self.base_url = self.base_url.map(|raw| match url::Url::parse(&raw) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.to_string()
            }
            Err(_) => String::new(),
        });
        self
    }

    /// `text` (a child's stderr, an upstream's error) with this server's secret values masked,
    /// so that it may be shown in API responses.
    pub fn redact_secrets(&self, text: &str) -> String {
        let secrets = self
            .env
            .values()
            .chain(self.headers.values())
            .filter(|v| v.is_secret())
            .map(|v| v.expose())
            .chain(self.oauth_config.as_ref().map(|o| o.client_secret.expose()));
        secrets.filter(|s| s.len() >= 4).fold(text.to_owned(), |text, secret| text.replace(secret, crate::secret::MASK))
    }

    /// Every invariant of a server, checked on registration and after each update.
    pub fn validate(&self) -> Result<(), DomainError> {
        use limits::*;
        let mut v = Validator::new();
        v.text("name", &self.name, 1, NAME_MAX);
        v.text("display_name", &self.display_name, 1, DISPLAY_NAME_MAX);
        if let Some(d) = &self.description {
            v.text("description", d, 0, DESCRIPTION_MAX);
        }
        v.range("timeout", self.timeout.into(), TIMEOUT_MIN, TIMEOUT_MAX);
        v.range("max_failures", self.max_failures.into(), MAX_FAILURES_MIN, MAX_FAILURES_MAX);

        match (self.transport_type, &self.base_url) {
            (TransportType::Stdio, _) => {
                v.check(self.command.is_some(), "command", || "stdio transport requires command".into())
            }
            (_, Some(url)) => v.http_url("base_url", url),
            (t, None) => v.error("base_url", format!("{t} transport requires base_url")),
        }
        if let (TransportType::Stdio, Some(url)) = (self.transport_type, &self.base_url) {
            v.http_url("base_url", url);
        }
        if let Some(command) = &self.command {
            v.text("command", command, 1, COMMAND_MAX);
        }
        v.check(self.args.len() <= ARGS_MAX, "args", || format!("at most {ARGS_MAX} arguments"));
        for (i, arg) in self.args.iter().enumerate() {
            v.check(arg.chars().count() <= ARG_MAX && !arg.contains('\0'), &format!("args[{i}]"), || {
                format!("must be at most {ARG_MAX} characters without NUL")
            });
        }
        check_map(&mut v, "env", &self.env, is_env_name, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
        check_map(&mut v, "headers", &self.headers, is_header_name, "an HTTP header name");
        if let Some(oauth) = &self.oauth_config {
            v.text("oauth_config.client_id", &oauth.client_id, 1, OAUTH_FIELD_MAX);
            v.text("oauth_config.client_secret", oauth.client_secret.expose(), 1, OAUTH_FIELD_MAX);
            v.http_url("oauth_config.token_url", &oauth.token_url);
            if let Some(scope) = &oauth.scope {
                v.text("oauth_config.scope", scope, 0, OAUTH_FIELD_MAX);
            }
        }
        if let Some(category) = &self.category {
            v.text("category", category, 1, CATEGORY_MAX);
        }
        v.check(self.tags.len() <= TAGS_MAX, "tags", || format!("at most {TAGS_MAX} tags"));
        for (i, tag) in self.tags.iter().enumerate() {
            v.text(&format!("tags[{i}]"), tag, 1, TAG_MAX);
        }
        if let Some(spec) = &self.openapi.spec {
            // A URL that cannot be read fails the start, saying why (as a base_url that cannot be reached).
            v.text("openapi_spec", spec, 1, SPEC_MAX);
        }
        let filter = &self.openapi.function_filter;
        v.check(filter.len() <= FILTER_MAX, "function_name_filter_list", || format!("at most {FILTER_MAX} entries"));
        for (i, entry) in filter.iter().enumerate() {
            v.text(&format!("function_name_filter_list[{i}]"), entry, 1, FILTER_ENTRY_MAX);
        }
        v.finish()
    }
}

fn set<T>(target: &mut T, patch: Patch<T>) {
    if let Patch::Value(value) = patch {
        *target = value;
    }
}

fn oauth_from_input(input: OAuthInput, previous: Option<&OAuthConfig>) -> OAuthConfig {
    let client_secret = match previous {
        Some(p) if input.client_secret == crate::secret::MASK => p.client_secret.clone(),
        _ => Secret::new(input.client_secret),
    };
    OAuthConfig { client_id: input.client_id, client_secret, token_url: input.token_url, scope: input.scope }
}

fn check_map(v: &mut Validator, field: &str, map: &ConfigMap, name_ok: fn(&str) -> bool, what: &str) {
    use limits::*;
    v.check(map.len() <= MAP_ENTRIES_MAX, field, || format!("at most {MAP_ENTRIES_MAX} entries"));
    for (name, value) in map {
        if !name_ok(name) {
            v.error(format!("{field}.{name}"), format!("must be {what}"));
        }
        let value = value.expose();
        if value.chars().count() > MAP_VALUE_MAX || value.contains(['\r', '\n', '\0']) {
            v.error(format!("{field}.{name}"), format!("value must be at most {MAP_VALUE_MAX} characters on one line"));
        }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The fields supervision changes while a server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeState {
    /// The server's state.
    pub status: ServerStatus,
    /// When its health was last checked.
    pub last_health_check: Option<Timestamp>,
    /// When it last started.
    pub last_startup_success: Option<Timestamp>,
    /// Why it last failed.
    pub last_startup_error: Option<String>,
    /// Failures in a row since it last ran steadily.
    pub consecutive_failures: i32,
}

impl ToolServer {
    /// The fields supervision changes, as they are now.
    pub fn runtime(&self) -> RuntimeState {
        RuntimeState {
            status: self.status,
            last_health_check: self.last_health_check,
            last_startup_success: self.last_startup_success,
            last_startup_error: self.last_startup_error.clone(),
            consecutive_failures: self.consecutive_failures,
        }
    }

    /// Sets the fields supervision changes.
    pub fn set_runtime(&mut self, state: RuntimeState) {
        self.status = state.status;
        self.last_health_check = state.last_health_check;
        self.last_startup_success = state.last_startup_success;
        self.last_startup_error = state.last_startup_error;
        self.consecutive_failures = state.consecutive_failures;
    }
}

/// The fields a server list can be queried and sorted by: what every reader of a server sees
/// (not its command, environment, headers, URL or errors, which only its managers see).
pub const SERVER_FIELDS: crate::query::Fields = {
    use crate::query::{Field, FieldKind::*};
    &[
        Field::new("id", Text),
        Field::new("name", Text),
        Field::new("display_name", Text),
        Field::new("description", Text),
        Field::new("transport_type", Text),
        Field::new("status", Text),
        Field::new("is_builtin", Bool),
        Field::new("category", Text),
        Field::new("auto_start", Bool),
        Field::new("timeout", Integer),
        Field::new("version", Integer),
        Field::new("created_at", Time),
        Field::new("updated_at", Time),
    ]
};

impl crate::query::Queryable for ToolServer {
    fn value(&self, field: &str) -> Option<crate::query::Scalar> {
        use crate::query::Scalar;
        let text = Scalar::text;
        match field {
            "id" => text(&self.id),
            "name" => text(&self.name),
            "display_name" => text(&self.display_name),
            "description" => self.description.as_deref().and_then(text),
            "transport_type" => text(self.transport_type.as_str()),
            "status" => text(self.status.as_str()),
            "is_builtin" => Some(Scalar::Bool(self.is_builtin)),
            "category" => self.category.as_deref().and_then(text),
            "auto_start" => Some(Scalar::Bool(self.auto_start)),
            "timeout" => Some(Scalar::Integer(self.timeout.into())),
            "version" => Some(Scalar::Integer(self.version)),
            "created_at" => Some(Scalar::Time(self.created_at)),
            "updated_at" => Some(Scalar::Time(self.updated_at)),
            _ => None,
        }
    }
}

impl ServerFilter {
    /// `query` with the filter's terms added.
    pub fn into_query(&self, query: crate::query::ListQuery) -> crate::query::ListQuery {
        use crate::query::{Scalar, Test};
        let mut query = query;
        if let Some(status) = self.status {
            query = query.and(SERVER_FIELDS, "status", Test::Equals(Scalar::Text(status.as_str().into())));
        }
        if !self.include_builtin {
            query = query.and(SERVER_FIELDS, "is_builtin", Test::Equals(Scalar::Bool(false)));
        }
        query
    }
}

/// Which servers a listing returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerFilter {
    /// Only servers in this state.
    pub status: Option<ServerStatus>,
    /// Include the built-in server.
    pub include_builtin: bool,
}

impl ServerFilter {
    /// Every server, built-in ones included.
    pub fn all() -> Self {
        Self { status: None, include_builtin: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::MASK;

    fn now() -> Timestamp {
        chrono::Utc::now()
    }

    fn http_server() -> NewToolServer {
        NewToolServer {
            name: "weather".into(),
            display_name: "Weather".into(),
            base_url: Some("https://weather.example/mcp".into()),
            ..Default::default()
        }
    }

    fn register(input: NewToolServer) -> Result<ToolServer, DomainError> {
        ToolServer::register(input, crate::new_id(), "default".into(), Some("admin".into()), now())
    }

    fn field_errors(result: Result<impl std::fmt::Debug, DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn stored_secrets_do_not_follow_a_changed_destination() {
        let mut input = http_server();
        input.headers =
            [("Authorization".to_owned(), "Bearer stored".to_owned()), ("X-Team".into(), "blue".into())].into();
        input.oauth_config = Some(OAuthInput {
            client_id: "toolhub".into(),
            client_secret: "client-secret".into(),
            token_url: "https://auth.example/token".into(),
            scope: None,
        });
        let mut server = register(input).unwrap();
        let moved = ServerPatch { base_url: Patch::Value("https://evil.example/mcp".into()), ..Default::default() };
        assert_eq!(field_errors(server.clone().apply(moved.clone(), now())), ["oauth_config.client_secret"]);

        let keep_oauth = OAuthInput {
            client_id: "toolhub".into(),
            client_secret: "client-secret".into(),
            token_url: "https://auth.example/token".into(),
            scope: None,
        };
        let mut elsewhere = server.clone();
        elsewhere
            .apply(ServerPatch { oauth_config: Patch::Value(keep_oauth.clone()), ..moved.clone() }, now())
            .unwrap();
        assert!(!elsewhere.headers.contains_key("Authorization"), "the stored credential stays behind");
        assert_eq!(elsewhere.headers["X-Team"].expose(), "blue", "plain headers move");

        let resent = [("Authorization".to_owned(), "Bearer for-evil".to_owned())].into();
        let patch = ServerPatch { headers: Patch::Value(resent), oauth_config: Patch::Value(keep_oauth), ..moved };
        server.apply(patch, now()).unwrap();
        assert_eq!(server.headers["Authorization"].expose(), "Bearer for-evil", "a secret sent again goes along");
        assert_eq!(server.redact_secrets("saw Bearer for-evil and client-secret"), format!("saw {MASK} and {MASK}"));
    }

    #[test]
    fn stored_environment_secrets_do_not_follow_a_changed_command() {
        let input = NewToolServer {
            transport_type: Some(TransportType::Stdio),
            command: Some("npx".into()),
            env: [("API_TOKEN".to_owned(), "t0ken-value".to_owned()), ("MODE".into(), "fast".into())].into(),
            base_url: None,
            ..http_server()
        };
        let mut server = register(input).unwrap();
        let mut same = server.clone();
        same.apply(ServerPatch { timeout: Patch::Value(60), ..Default::default() }, now()).unwrap();
        assert_eq!(same.env["API_TOKEN"].expose(), "t0ken-value", "nothing moved");
        server
            .apply(
                ServerPatch { args: Patch::Value(vec!["-e".into(), "dump(env)".into()]), ..Default::default() },
                now(),
            )
            .unwrap();
        assert!(!server.env.contains_key("API_TOKEN"));
        assert_eq!(server.env["MODE"].expose(), "fast");
    }

    #[test]
    fn registration_applies_seed_defaults() {
        let s = register(http_server()).unwrap();
        assert_eq!(s.transport_type, TransportType::Http);
        assert_eq!((s.timeout, s.max_failures), (30, 3));
        assert!(s.auto_start && s.auto_update && !s.is_builtin);
        assert_eq!(s.status, ServerStatus::Disabled);
        assert_eq!(s.version, 1);
    }

    #[test]
    fn limits_are_enforced() {
        let mut input = http_server();
        input.name = "x".repeat(101);
        input.display_name = String::new();
        input.timeout = Some(4);
        input.max_failures = Some(11);
        let fields = field_errors(register(input));
        assert_eq!(fields, ["name", "display_name", "timeout", "max_failures"]);

        let mut input = http_server();
        input.name = "x".repeat(100);
        input.timeout = Some(300);
        input.max_failures = Some(10);
        assert!(register(input).is_ok());
    }

    #[test]
    fn transport_needs_its_address() {
        let mut input = http_server();
        input.base_url = None;
        assert_eq!(field_errors(register(input)), ["base_url"]);

        let mut input = http_server();
        input.base_url = Some("ftp://files.example".into());
        assert_eq!(field_errors(register(input)), ["base_url"]);

        let mut input = http_server();
        input.transport_type = Some(TransportType::Stdio);
        input.base_url = None;
        assert_eq!(field_errors(register(input.clone())), ["command"]);
        input.command = Some("npx".into());
        input.args = vec!["-y".into(), "@modelcontextprotocol/server-everything".into()];
        assert!(register(input).is_ok());
    }

    #[test]
    fn maps_are_checked_and_secrets_detected() {
        let mut input = http_server();
        input.headers = BTreeMap::from([("Bad Header".into(), "v".into()), ("X-Ok".into(), "a\nb".into())]);
        input.env = BTreeMap::from([("1BAD".into(), "v".into())]);
        assert_eq!(field_errors(register(input)), ["env.1BAD", "headers.Bad Header", "headers.X-Ok"]);

        let mut input = http_server();
        input.headers = BTreeMap::from([("Authorization".into(), "Bearer t".into())]);
        let s = register(input).unwrap();
        assert!(s.headers["Authorization"].is_secret());
    }

    #[test]
    fn patch_changes_only_present_fields_and_revalidates() {
        let mut s = register(http_server()).unwrap();
        let before = s.clone();
        s.apply(ServerPatch { description: Patch::Value("Forecasts".into()), ..Default::default() }, now()).unwrap();
        assert_eq!(s.description.as_deref(), Some("Forecasts"));
        assert_eq!((s.name.as_str(), s.timeout), (before.name.as_str(), before.timeout));

        let err = s.clone().apply(ServerPatch { timeout: Patch::Null, ..Default::default() }, now());
        assert_eq!(field_errors(err), ["timeout"]);

        let err = s
            .clone()
            .apply(ServerPatch { transport_type: Patch::Value(TransportType::Stdio), ..Default::default() }, now());
        assert_eq!(field_errors(err), ["command"]);

        s.apply(ServerPatch { description: Patch::Null, ..Default::default() }, now()).unwrap();
        assert_eq!(s.description, None);
    }

    #[test]
    fn masked_oauth_secret_keeps_the_stored_one() {
        let mut input = http_server();
        input.oauth_config = Some(OAuthInput {
            client_id: "id".into(),
            client_secret: "s3cret".into(),
            token_url: "https://auth.example/token".into(),
            scope: None,
        });
        let mut s = register(input).unwrap();
        let patch = ServerPatch {
            oauth_config: Patch::Value(OAuthInput {
                client_id: "id2".into(),
                client_secret: MASK.into(),
                token_url: "https://auth.example/token".into(),
                scope: Some("tools".into()),
            }),
            ..Default::default()
        };
        s.apply(patch, now()).unwrap();
        let oauth = s.oauth_config.unwrap();
        assert_eq!((oauth.client_id.as_str(), oauth.client_secret.expose()), ("id2", "s3cret"));
    }
}
