//! Tool server bodies (`ToolServerCreate`, `ToolServerUpdate`, `ToolServerResponse`, ...).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolhub_domain::{
    Patch,
    secret::{ConfigMap, MASK},
    server::{NewToolServer, OAuthInput, ServerFilter, ServerPatch, TransportType, limits},
    services::ServerView,
    tool::Tool,
    validation::FieldError,
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{ServerStatus, ToolStatus};

/// The domain's limits in the types `validator` compares with (lengths as u64, the DTO's i32).
mod bound {
    use toolhub_domain::{server::limits, validation::MAX_URL_LEN};

    pub const NAME: u64 = limits::NAME_MAX as u64;
    pub const DISPLAY_NAME: u64 = limits::DISPLAY_NAME_MAX as u64;
    pub const OAUTH_FIELD: u64 = limits::OAUTH_FIELD_MAX as u64;
    pub const URL: u64 = MAX_URL_LEN as u64;
    pub const TIMEOUT_MIN: i32 = limits::TIMEOUT_MIN as i32;
    pub const TIMEOUT: i32 = limits::TIMEOUT_MAX as i32;
    pub const MAX_FAILURES_MIN: i32 = limits::MAX_FAILURES_MIN as i32;
    pub const MAX_FAILURES: i32 = limits::MAX_FAILURES_MAX as i32;
}

fn default_transport() -> String {
    "http".into()
}
fn default_timeout() -> i32 {
    limits::TIMEOUT_DEFAULT
}
fn default_true() -> bool {
    true
}
fn default_max_failures() -> i32 {
    limits::MAX_FAILURES_DEFAULT
}

/// OAuth 2 client-credentials settings. `client_secret` is write-only: responses show `********`,
/// and sending `********` back on update keeps the stored secret.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfigSchema {
    #[validate(length(min = 1, max = bound::OAUTH_FIELD))]
    pub client_id: String,
    #[validate(length(min = 1, max = bound::OAUTH_FIELD))]
    pub client_secret: String,
    #[validate(url, length(min = 1, max = bound::URL))]
    pub token_url: String,
    #[serde(default)]
    pub scope: Option<String>,
}

impl From<OAuthConfigSchema> for OAuthInput {
    fn from(o: OAuthConfigSchema) -> Self {
        Self { client_id: o.client_id, client_secret: o.client_secret, token_url: o.token_url, scope: o.scope }
    }
}

/// Registers a tool server. Remote transports (`http`, `sse`, `websocket`) need `base_url`;
/// `stdio` needs `command` (with optional `args` and `env`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolServerCreate {
    /// Unique name within the tenant.
    #[validate(length(min = 1, max = bound::NAME))]
    pub name: String,
    #[validate(length(min = 1, max = bound::DISPLAY_NAME))]
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The server's URL (http/https; ws/wss also for websocket).
    #[serde(default)]
    #[validate(length(min = 1, max = bound::URL))]
    pub base_url: Option<String>,
    #[serde(default = "default_transport")]
    #[schema(pattern = "^(http|sse|stdio|websocket|openapi)$", default = "http")]
    pub transport_type: String,
    #[serde(default)]
    #[validate(nested)]
    pub oauth_config: Option<OAuthConfigSchema>,
    /// Headers sent to a remote server. Values of credential-like names, and of names listed
    /// in `secret_headers`, are encrypted at rest and masked in responses.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// Deadline of each request to the server, in seconds.
    #[serde(default = "default_timeout")]
    #[validate(range(min = bound::TIMEOUT_MIN, max = bound::TIMEOUT))]
    pub timeout: i32,
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub auto_start: bool,
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub auto_update: bool,
    /// Consecutive failures after which the server is set to `error` and disabled.
    #[serde(default = "default_max_failures")]
    #[validate(range(min = bound::MAX_FAILURES_MIN, max = bound::MAX_FAILURES))]
    pub max_failures: i32,
    /// Program to run for the `stdio` transport.
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Environment of the `stdio` child process; secret like `headers`.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Header names whose values are secret, beyond the credential-like ones.
    #[serde(default)]
    pub secret_headers: Option<Vec<String>>,
    /// Environment variable names whose values are secret, beyond the credential-like ones.
    #[serde(default)]
    pub secret_env: Option<Vec<String>>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// For `openapi`: the OpenAPI document (3.0 or 3.1, JSON or YAML) as an absolute URL, a
    /// path relative to `base_url` (default `openapi.json`), or the document itself.
    #[serde(default)]
    pub openapi_spec: Option<String>,
    /// For `openapi`: which operations become tools, as a comma-separated list or an array;
    /// entries allow, `!entry` blocks, each matched as the end of the operation's name.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub function_name_filter_list: Option<FunctionFilter>,
}

/// Seed 001's `function_name_filter_list`: a comma-separated text or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FunctionFilter {
    Text(String),
    List(Vec<String>),
}

impl FunctionFilter {
    fn entries(self) -> Vec<String> {
        match self {
            Self::Text(text) => text.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect(),
            Self::List(list) => list,
        }
    }
}

pub(crate) fn parse_transport(value: &str) -> Result<TransportType, FieldError> {
    value.parse().map_err(|_| FieldError::new("transport_type", "must be one of http, sse, stdio, websocket, openapi"))
}

impl ToolServerCreate {
    pub fn into_domain(self) -> Result<NewToolServer, Vec<FieldError>> {
        let mut errors = self.validate().err().map(|e| super::field_errors(&e)).unwrap_or_default();
        let transport = parse_transport(&self.transport_type).map_err(|e| errors.push(e)).ok();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewToolServer {
            name: self.name,
            display_name: self.display_name,
            description: self.description,
            base_url: self.base_url,
            transport_type: transport,
            command: self.command,
            args: self.args.unwrap_or_default(),
            env: self.env.unwrap_or_default(),
            secret_env: self.secret_env.unwrap_or_default(),
            headers: self.headers.unwrap_or_default(),
            secret_headers: self.secret_headers.unwrap_or_default(),
            oauth_config: self.oauth_config.map(Into::into),
            timeout: Some(self.timeout),
            auto_start: Some(self.auto_start),
            auto_update: Some(self.auto_update),
            max_failures: Some(self.max_failures),
            category: self.category,
            tags: self.tags.unwrap_or_default(),
            openapi_spec: self.openapi_spec,
            function_filter: self.function_name_filter_list.map(FunctionFilter::entries).unwrap_or_default(),
        })
    }
}

/// Changes a tool server: only the fields present are applied; `null` clears optional fields.
/// The name cannot change. With `version`, the update applies only if the server is still at
/// that version (409 `VERSION_MISMATCH` otherwise).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolServerUpdate {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub display_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub base_url: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(http|sse|stdio|websocket|openapi)$")]
    pub transport_type: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<OAuthConfigSchema>)]
    pub oauth_config: Patch<OAuthConfigSchema>,
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub headers: Patch<BTreeMap<String, String>>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub timeout: Patch<i32>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub auto_start: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub auto_update: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub max_failures: Patch<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub command: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub args: Patch<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub env: Patch<BTreeMap<String, String>>,
    #[serde(default)]
    pub secret_headers: Option<Vec<String>>,
    #[serde(default)]
    pub secret_env: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub category: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// See the same field of a server's registration.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub openapi_spec: Patch<String>,
    /// See the same field of a server's registration.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub function_name_filter_list: Patch<FunctionFilter>,
    /// The version this change is based on (optimistic locking).
    #[serde(default)]
    pub version: Option<i64>,
}

impl ToolServerUpdate {
    pub fn into_domain(self) -> Result<ServerPatch, Vec<FieldError>> {
        let mut errors = Vec::new();
        let transport_type = self.transport_type.filter_map(|t| parse_transport(&t).map_err(|e| errors.push(e)).ok());
        if let Patch::Value(oauth) = &self.oauth_config
            && let Err(e) = oauth.validate()
        {
            errors.extend(
                super::field_errors(&e)
                    .into_iter()
                    .map(|f| FieldError::new(format!("oauth_config.{}", f.field), f.message)),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ServerPatch {
            display_name: self.display_name,
            description: self.description,
            base_url: self.base_url,
            transport_type,
            command: self.command,
            args: self.args,
            env: self.env,
            secret_env: self.secret_env.unwrap_or_default(),
            headers: self.headers,
            secret_headers: self.secret_headers.unwrap_or_default(),
            oauth_config: self.oauth_config.map(Into::into),
            timeout: self.timeout,
            auto_start: self.auto_start,
            auto_update: self.auto_update,
            max_failures: self.max_failures,
            category: self.category,
            tags: self.tags,
            openapi_spec: self.openapi_spec,
            function_filter: self.function_name_filter_list.map(FunctionFilter::entries),
            expected_version: self.version,
        })
    }
}

/// Query of the server listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServersQuery {
    /// Only servers in this state.
    pub status: Option<ServerStatus>,
    /// Include built-in servers (default true).
    #[param(default = true)]
    pub include_builtin: Option<bool>,
}

impl From<ListServersQuery> for ServerFilter {
    fn from(q: ListServersQuery) -> Self {
        Self { status: q.status.map(Into::into), include_builtin: q.include_builtin.unwrap_or(true) }
    }
}

/// A tool of a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerToolResponse {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// JSON Schema of the tool's arguments.
    pub args_schema: Option<Value>,
    /// The same schema under its MCP name.
    #[serde(rename = "inputSchema")]
    pub input_schema: Option<Value>,
    pub output_schema: Option<Value>,
    pub annotations: Option<Value>,
    pub bypass_when_unavailable: bool,
    pub id: String,
    pub server_id: String,
    pub status: ToolStatus,
    pub is_available: bool,
    pub category: Option<String>,
    pub sort_order: i32,
    pub discovered_at: Option<DateTime<Utc>>,
    pub discovered_by: Option<String>,
    pub total_calls: i64,
    pub total_errors: i64,
    pub last_called: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub avg_response_time_ms: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Tool> for ServerToolResponse {
    fn from(t: Tool) -> Self {
        Self {
            name: t.name,
            display_name: t.display_name,
            description: t.description,
            input_schema: t.args_schema.clone(),
            args_schema: t.args_schema,
            output_schema: t.output_schema,
            annotations: t.annotations,
            bypass_when_unavailable: t.bypass_when_unavailable,
            id: t.id,
            server_id: t.server_id,
            status: t.status.into(),
            is_available: t.is_available,
            category: t.category,
            sort_order: t.sort_order,
            discovered_at: t.discovered_at,
            discovered_by: t.discovered_by,
            total_calls: t.total_calls,
            total_errors: t.total_errors,
            last_called: t.last_called,
            last_error: t.last_error,
            avg_response_time_ms: t.avg_response_time_ms,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A tool server as clients see it: secrets masked as `********`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolServerResponse {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub base_url: Option<String>,
    pub transport_type: String,
    pub oauth_config: Option<OAuthConfigSchema>,
    pub headers: Option<BTreeMap<String, String>>,
    pub timeout: i32,
    pub auto_start: bool,
    pub auto_update: bool,
    pub max_failures: i32,
    pub status: ServerStatus,
    pub is_builtin: bool,
    pub last_health_check: Option<DateTime<Utc>>,
    pub last_startup_success: Option<DateTime<Utc>>,
    pub last_startup_error: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub tools: Vec<ServerToolResponse>,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Names in `headers` whose values are secret.
    pub secret_headers: Vec<String>,
    /// Names in `env` whose values are secret.
    pub secret_env: Vec<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// For `openapi` servers: where the document is, or the document.
    pub openapi_spec: Option<String>,
    /// For `openapi` servers: which operations become tools.
    pub function_name_filter_list: Vec<String>,
    /// Increases on every change; send it back in an update for optimistic locking.
    pub version: i64,
}

fn masked(map: &ConfigMap) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.masked().to_owned())).collect()
}

fn secret_names(map: &ConfigMap) -> Vec<String> {
    map.iter().filter(|(_, v)| v.is_secret()).map(|(k, _)| k.clone()).collect()
}

impl From<ServerView> for ToolServerResponse {
    fn from(view: ServerView) -> Self {
        let s = view.server;
        Self {
            headers: (!s.headers.is_empty()).then(|| masked(&s.headers)),
            env: masked(&s.env),
            secret_headers: secret_names(&s.headers),
            secret_env: secret_names(&s.env),
            oauth_config: s.oauth_config.map(|o| OAuthConfigSchema {
                client_id: o.client_id,
                client_secret: MASK.to_owned(),
                token_url: o.token_url,
                scope: o.scope,
            }),
            id: s.id,
            name: s.name,
            display_name: s.display_name,
            description: s.description,
            base_url: s.base_url,
            transport_type: s.transport_type.as_str().to_owned(),
            timeout: s.timeout,
            auto_start: s.auto_start,
            auto_update: s.auto_update,
            max_failures: s.max_failures,
            status: s.status.into(),
            is_builtin: s.is_builtin,
            last_health_check: s.last_health_check,
            last_startup_success: s.last_startup_success,
            last_startup_error: s.last_startup_error,
            consecutive_failures: s.consecutive_failures,
            created_at: s.created_at,
            updated_at: s.updated_at,
            created_by: s.created_by,
            tools: view.tools.into_iter().map(Into::into).collect(),
            command: s.command,
            args: s.args,
            category: s.category,
            tags: s.tags,
            openapi_spec: s.openapi.spec,
            function_name_filter_list: s.openapi.function_filter,
            version: s.version,
        }
    }
}

/// Confirms a deletion.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolServerDeleteResponse {
    pub message: String,
}
