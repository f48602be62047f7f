//! Seed 001's (Open WebUI) tools API at `/api/v1/tools`: one list merging MCP servers
//! (`server:mcp:{name}`), OpenAPI servers (`server:{name}`) and toolkits (Open WebUI's
//! workspace tools, by name), with their access grants.

use serde::{Deserialize, Serialize};
use toolhub_domain::access::{AccessLevel, Grant, Subject};
use utoipa::ToSchema;

/// The id prefix of MCP servers.
pub const MCP_SERVER_PREFIX: &str = "server:mcp:";
/// The id prefix of OpenAPI servers.
pub const SERVER_PREFIX: &str = "server:";

/// One access grant as Open WebUI writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OwAccessGrant {
    /// `user` or `group`.
    #[schema(pattern = "^(user|group)$")]
    pub principal_type: String,
    /// A user id, a group name, or `*` (with `user`: everyone).
    #[schema(max_length = 200)]
    pub principal_id: String,
    /// `read` (use the tool: Toolhub's `execute`) or `write` (edit and share it: `admin`).
    #[schema(pattern = "^(read|write)$")]
    pub permission: String,
}

impl OwAccessGrant {
    /// The grant as Open WebUI shows it (`none` grants show nothing).
    pub fn of(grant: &Grant) -> Option<Self> {
        let permission = match grant.access_level {
            AccessLevel::None => return None,
            AccessLevel::Read | AccessLevel::Execute => "read",
            AccessLevel::Admin => "write",
        };
        let (principal_type, principal_id) = match &grant.subject {
            Subject::User(id) => ("user", id.as_str()),
            Subject::Group(name) => ("group", name.as_str()),
            Subject::Public => ("user", "*"),
        };
        Some(Self {
            principal_type: principal_type.to_owned(),
            principal_id: principal_id.to_owned(),
            permission: permission.to_owned(),
        })
    }

    /// The subject and level this entry grants; `None` for an entry Open WebUI would drop
    /// (unknown type or permission, empty or invalid id).
    pub fn to_domain(&self) -> Option<(Subject, AccessLevel)> {
        let level = match self.permission.as_str() {
            "read" => AccessLevel::Execute,
            "write" => AccessLevel::Admin,
            _ => return None,
        };
        let subject = match (self.principal_type.as_str(), self.principal_id.as_str()) {
            ("user", "*") => Subject::Public,
            ("user", id) => format!("user:{id}").parse().ok()?,
            ("group", name) => format!("group:{name}").parse().ok()?,
            _ => return None,
        };
        Some((subject, level))
    }
}

/// What a tool says of itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwMeta {
    pub description: Option<String>,
}

/// A tool (a server or a toolkit) as Open WebUI lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwTool {
    /// `server:mcp:{name}`, `server:{name}` (OpenAPI) or a toolkit's name.
    pub id: String,
    /// A toolkit's owner; for servers the id itself, as Open WebUI does.
    pub user_id: String,
    pub name: String,
    pub meta: OwMeta,
    /// Its grants; shown to those with write access only (others see none).
    pub access_grants: Vec<OwAccessGrant>,
    /// Whether the caller may edit and share it.
    pub write_access: bool,
    /// Toolkits only: they have no per-user settings (Open WebUI's valves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_user_valves: Option<bool>,
    /// Seconds since 1970.
    pub updated_at: i64,
    /// Seconds since 1970.
    pub created_at: i64,
}

/// A new set of grants, replacing all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwAccessUpdate {
    /// Every grant the tool is to have.
    #[schema(max_items = 100)]
    pub access_grants: Vec<OwAccessGrant>,
}

/// A tool of an exported toolkit, as an OpenAI function spec.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwSpec {
    pub name: String,
    pub description: Option<String>,
    /// Its JSON Schema.
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
}

/// A toolkit, whole, as Open WebUI exports its tools.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwToolExport {
    #[serde(flatten)]
    pub tool: OwTool,
    pub specs: Vec<OwSpec>,
}
