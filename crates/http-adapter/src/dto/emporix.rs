//! Seed 003's (Emporix AI Service) agentic tools at `/ai-service/{tenant}/agentic/tools`. An
//! Emporix tool is a configured source of tools with its secrets: in Toolhub, a tool server.
//! Its `id` is the server's name (chosen by the client, case-sensitive), `name` its display
//! name, `type` its transport, `enabled` whether it runs; `config` holds the rest, secret
//! values write-only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toolhub_domain::{
    DomainError,
    error::DomainResult,
    portable::{SecretValue, ServerEntry},
    query::{Field, FieldKind, Fields, Queryable, Scalar},
    secret::ConfigMap,
    server::{NewToolServer, ServerPatch, ServerStatus, ToolServer},
};
use utoipa::ToSchema;

/// A tool as Emporix shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmporixTool {
    /// The tool's id: the server's name in Toolhub.
    pub id: String,
    /// How Toolhub reaches it: `http`, `sse`, `stdio`, `websocket` or `openapi`; `builtin`
    /// for Toolhub's own tools (which cannot be written).
    #[serde(rename = "type")]
    pub tool_type: String,
    /// Its name for people.
    pub name: String,
    /// Whether it runs (its tools can be called).
    pub enabled: bool,
    pub config: EmporixToolConfig,
    pub metadata: EmporixMetadata,
}

/// Optimistic locking and times.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmporixMetadata {
    /// Incremented on every change; a `PUT` naming another version is a 409.
    pub version: i64,
    #[serde(rename = "createdAt")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "modifiedAt")]
    pub modified_at: chrono::DateTime<chrono::Utc>,
}

/// What a tool runs or reaches. Secret values of `env` and `headers` are write-only: they
/// are never shown (their names are, in `secretEnv` and `secretHeaders`), and an update that
/// leaves one out keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmporixToolConfig {
    /// Where a remote server is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The program a `stdio` server runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The program's arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The child's environment (secret values are not shown).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Names in `env` whose values are secret (credential-like names are anyway).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_env: Vec<String>,
    /// Headers sent to a remote server (secret values are not shown).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Names in `headers` whose values are secret (credential-like names are anyway).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds each request may take (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// For `openapi`: where the document is, or the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_spec: Option<String>,
}

impl From<&ToolServer> for EmporixTool {
    fn from(s: &ToolServer) -> Self {
        // The server as an export shows it with secrets left out: their names only.
        let entry = ServerEntry::of(s, &|_| None);
        Self {
            id: entry.name,
            tool_type: if s.is_builtin { "builtin" } else { s.transport_type.as_str() }.to_owned(),
            name: entry.display_name,
            enabled: s.status == ServerStatus::Enabled,
            config: EmporixToolConfig {
                url: entry.base_url,
                command: entry.command,
                args: entry.args,
                env: entry.env,
                secret_env: entry.secret_env.into_keys().collect(),
                headers: entry.headers,
                secret_headers: entry.secret_headers.into_keys().collect(),
                description: entry.description,
                timeout: entry.timeout,
                category: entry.category,
                tags: entry.tags,
                openapi_spec: entry.openapi_spec,
            },
            metadata: EmporixMetadata { version: s.version, created_at: s.created_at, modified_at: s.updated_at },
        }
    }
}

/// The fields a tool list can be queried and sorted by, as Emporix names them.
pub const EMPORIX_TOOL_FIELDS: Fields = &[
    Field::new("id", FieldKind::Text),
    Field::new("name", FieldKind::Text),
    Field::new("type", FieldKind::Text),
    Field::new("enabled", FieldKind::Bool),
    Field::new("metadata.version", FieldKind::Integer),
    Field::new("metadata.createdAt", FieldKind::Time),
    Field::new("metadata.modifiedAt", FieldKind::Time),
];

impl Queryable for EmporixTool {
    fn value(&self, field: &str) -> Option<Scalar> {
        match field {
            "id" => Scalar::text(&self.id),
            "name" => Scalar::text(&self.name),
            "type" => Scalar::text(&self.tool_type),
            "enabled" => Some(Scalar::Bool(self.enabled)),
            "metadata.version" => Some(Scalar::Integer(self.metadata.version)),
            "metadata.createdAt" => Some(Scalar::Time(self.metadata.created_at)),
            "metadata.modifiedAt" => Some(Scalar::Time(self.metadata.modified_at)),
            _ => None,
        }
    }
}

/// The version a client read, for optimistic locking.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EmporixMetadataRequest {
    /// The version read; another one is a 409. Left out on create.
    #[serde(default)]
    pub version: Option<i64>,
    /// Ignored (set by Toolhub).
    #[serde(default, rename = "createdAt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<serde_json::Value>,
    /// Ignored (set by Toolhub).
    #[serde(default, rename = "modifiedAt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub modified_at: Option<serde_json::Value>,
}

/// A tool as a client writes it (`PUT` replaces it whole).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmporixToolInput {
    /// Ignored: the id is the path's.
    #[serde(default)]
    pub id: Option<String>,
    /// `http`, `sse`, `stdio`, `websocket` or `openapi`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(http|sse|stdio|websocket|openapi)$")]
    pub tool_type: String,
    /// Its name for people.
    pub name: String,
    /// Whether it runs (default false).
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub config: EmporixToolConfig,
    #[serde(default)]
    pub metadata: Option<EmporixMetadataRequest>,
}

impl EmporixToolInput {
    /// The tool as a server entry named `id`: values of `secretEnv` and `secretHeaders` names
    /// are secret; the stored secrets of `current` it leaves out are kept.
    fn entry(self, id: &str, current: Option<&ToolServer>) -> ServerEntry {
        let c = self.config;
        let split = |values: BTreeMap<String, String>, secret_names: &[String], stored: Option<&ConfigMap>| {
            let (secret, plain): (BTreeMap<_, _>, BTreeMap<_, _>) =
                values.into_iter().partition(|(name, _)| secret_names.contains(name));
            let mut secret: BTreeMap<String, SecretValue> = secret.into_iter().map(|(k, v)| (k, Some(v))).collect();
            for (name, _) in stored.into_iter().flatten().filter(|(_, v)| v.is_secret()) {
                if !plain.contains_key(name) {
                    secret.entry(name.clone()).or_insert(None);
                }
            }
            (plain, secret)
        };
        let (env, secret_env) = split(c.env, &c.secret_env, current.map(|s| &s.env));
        let (headers, secret_headers) = split(c.headers, &c.secret_headers, current.map(|s| &s.headers));
        ServerEntry {
            name: id.to_owned(),
            display_name: self.name,
            description: c.description,
            transport_type: self.tool_type,
            base_url: c.url,
            command: c.command,
            args: c.args,
            env,
            secret_env,
            headers,
            secret_headers,
            timeout: c.timeout,
            auto_start: Some(self.enabled),
            category: c.category,
            tags: c.tags,
            openapi_spec: c.openapi_spec,
            ..Default::default()
        }
    }

    /// The server this tool registers, named `id`.
    pub fn into_new_server(self, id: &str) -> DomainResult<NewToolServer> {
        self.entry(id, None).to_new_server(&as_given).map_err(type_named)
    }

    /// The change that makes `current` this tool: every field replaced, the secrets it
    /// leaves out kept, at the version it names.
    pub fn into_replacement(self, current: &ToolServer) -> DomainResult<ServerPatch> {
        let version = self.metadata.as_ref().and_then(|m| m.version);
        let patch = self.entry(&current.name, Some(current)).replacement(&as_given).map_err(type_named)?;
        Ok(ServerPatch { expected_version: version, ..patch })
    }
}

/// Secret values a client sends are taken as given.
fn as_given(value: &str) -> DomainResult<String> {
    Ok(value.to_owned())
}

/// Emporix names the transport `type`.
fn type_named(error: DomainError) -> DomainError {
    match error {
        DomainError::Validation(mut errors) => {
            errors.iter_mut().filter(|e| e.field == "transport_type").for_each(|e| e.field = "type".into());
            DomainError::Validation(errors)
        }
        other => other,
    }
}

/// One PATCH operation: `ADD`, `REMOVE` or `REPLACE` (any case) of a path such as `/name`,
/// `/enabled` or `/config/url`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmporixPatchOperation {
    /// `ADD` (append to a list, or set), `REMOVE` (a value from a list, or the field),
    /// `REPLACE` (set), in any case.
    #[schema(pattern = "^([Aa][Dd][Dd]|[Rr][Ee][Mm][Oo][Vv][Ee]|[Rr][Ee][Pp][Ll][Aa][Cc][Ee])$")]
    pub op: String,
    /// The field, as a JSON pointer (`/config/headers/X-Team`).
    #[schema(max_length = 500)]
    pub path: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

/// `{id}` of a created tool.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmporixCreated {
    pub id: String,
}
