//! Toolkit bodies: the native API (`/api/v1/toolkits`, snake_case) and seed 004's Informer
//! surface (`/api/toolkits/{id}/tools`, camelCase, HAL).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolhub_domain::{
    Patch,
    services::ToolkitToolView,
    toolkit::{NewToolkit, NewToolkitTool, SyncedTool, Toolkit, ToolkitPatch},
};
use utoipa::{IntoParams, ToSchema};

/// A toolkit to make: a named bundle of tools across servers. `name` is a slug (it names the
/// toolkit's MCP endpoint, `/mcp/toolkits/{name}`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolkitCreate {
    #[schema(example = "github")]
    pub name: String,
    /// Defaults to the name.
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// A server whose tools a sync matches by name (one you administer).
    pub server_id: Option<String>,
    /// The owning user (administrators only; defaults to the caller).
    pub owner_id: Option<String>,
}

impl From<ToolkitCreate> for NewToolkit {
    fn from(c: ToolkitCreate) -> Self {
        Self {
            name: c.name,
            display_name: c.display_name,
            description: c.description,
            server_id: c.server_id,
            owner_id: c.owner_id,
        }
    }
}

/// Changes to a toolkit: fields present are applied (`null` clears the description or the
/// linked server). With `version`, only if nobody changed it since.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolkitUpdate {
    pub display_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub server_id: Patch<String>,
    pub owner_id: Option<String>,
    /// The version read; a different current version is a 409 `VERSION_MISMATCH`.
    pub version: Option<i64>,
}

impl From<ToolkitUpdate> for ToolkitPatch {
    fn from(u: ToolkitUpdate) -> Self {
        Self {
            display_name: u.display_name,
            description: u.description,
            server_id: u.server_id,
            owner_id: u.owner_id,
            expected_version: u.version,
        }
    }
}

/// A toolkit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolkitResponse {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub owner_id: String,
    pub server_id: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Toolkit> for ToolkitResponse {
    fn from(k: Toolkit) -> Self {
        Self {
            id: k.id,
            name: k.name,
            display_name: k.display_name,
            description: k.description,
            owner_id: k.owner_id,
            server_id: k.server_id,
            version: k.version,
            created_by: k.created_by,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

/// Deleting a toolkit shared by grants needs `force=true`, which removes the grants too.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ToolkitDeleteQuery {
    pub force: Option<bool>,
}

/// A server tool to put in a toolkit, optionally under another name and description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolkitToolAdd {
    /// The server tool (one you administer).
    pub tool_id: String,
    /// The name in this toolkit (default: the tool's).
    pub name: Option<String>,
    /// The description in this toolkit (default: the tool's).
    pub description: Option<String>,
    /// Position: tools are listed by `sort_order`, then name.
    pub sort_order: Option<i32>,
}

impl From<ToolkitToolAdd> for NewToolkitTool {
    fn from(a: ToolkitToolAdd) -> Self {
        Self {
            tool_id: Some(a.tool_id),
            name: a.name,
            description: a.description,
            sort_order: a.sort_order,
            ..Default::default()
        }
    }
}

/// A tool of a toolkit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolkitToolResponse {
    pub id: String,
    pub toolkit_id: String,
    /// The server tool it stands for (null for a custom or unmatched discovered tool).
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    /// The name in the toolkit.
    pub name: String,
    pub description: Option<String>,
    /// `mcp` (a server's tool, or a discovered one), `api-request` or a native type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The JSON Schema of the arguments.
    pub parameters: Option<Value>,
    /// A custom tool's settings, credentials masked.
    pub config: Option<Value>,
    pub sort_order: i32,
    pub discovered_at: Option<DateTime<Utc>>,
    pub discovered_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ToolkitToolView> for ToolkitToolResponse {
    fn from(v: ToolkitToolView) -> Self {
        let (name, description, parameters) =
            (v.name().to_owned(), v.description().map(str::to_owned), v.parameters().cloned());
        let e = v.entry;
        Self {
            id: e.id,
            toolkit_id: e.toolkit_id,
            tool_id: e.tool_id,
            server_id: v.target.as_ref().map(|(_, s)| s.id.clone()),
            server_name: v.target.as_ref().map(|(_, s)| s.name.clone()),
            name,
            description,
            kind: e.kind,
            parameters,
            config: e.config.map(|c| c.masked()),
            sort_order: e.sort_order,
            discovered_at: e.discovered_at,
            discovered_by: e.discovered_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

// ---- Informer (seed 004) ----

/// A HAL link.
#[derive(Debug, Serialize, ToSchema)]
pub struct HalLink {
    pub href: String,
}

/// The links of an Informer toolkit tool.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfToolLinks {
    #[serde(rename = "self")]
    pub self_link: HalLink,
}

/// A tool of a toolkit, as Informer shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfTool {
    pub id: String,
    pub toolkit_id: String,
    pub name: String,
    pub description: Option<String>,
    /// `api-request` for custom tools (the default), `mcp` after a sync.
    #[serde(rename = "type")]
    pub kind: String,
    /// Tool-specific configuration, credentials masked.
    pub config: Option<Value>,
    /// The JSON Schema of the parameters.
    pub parameters: Option<Value>,
    pub sort_order: i32,
    pub discovered_at: Option<DateTime<Utc>>,
    pub discovered_by: Option<String>,
    #[serde(rename = "_links")]
    pub links: InfToolLinks,
}

impl InfTool {
    /// The view as Informer shows it; `base` is the toolkit's tools URL path.
    pub fn new(v: ToolkitToolView, base: &str) -> Self {
        let (name, description, parameters) =
            (v.name().to_owned(), v.description().map(str::to_owned), v.parameters().cloned());
        let e = v.entry;
        Self {
            links: InfToolLinks { self_link: HalLink { href: format!("{base}/{}", e.id) } },
            id: e.id,
            toolkit_id: e.toolkit_id,
            name,
            description,
            kind: e.kind,
            config: e.config.map(|c| c.masked()),
            parameters,
            sort_order: e.sort_order,
            discovered_at: e.discovered_at,
            discovered_by: e.discovered_by,
        }
    }
}

/// The collection's links.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfCollectionLinks {
    #[serde(rename = "self")]
    pub self_link: HalLink,
}

/// The embedded tools.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfToolsEmbedded {
    #[serde(rename = "inf:tool")]
    pub tools: Vec<InfTool>,
}

/// A page of a toolkit's tools, HAL style: ordered by `sortOrder`, then name.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfToolList {
    #[serde(rename = "_links")]
    pub links: InfCollectionLinks,
    #[serde(rename = "_embedded")]
    pub embedded: InfToolsEmbedded,
    /// Index of the first tool of the page.
    pub start: u64,
    /// Tools in this page.
    pub count: u64,
    /// Tools in the toolkit.
    pub total: u64,
}

/// Paging of the Informer tool list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InfPaging {
    /// Index of the first tool.
    #[param(minimum = 0, default = 0)]
    pub start: Option<i64>,
    /// Tools per page.
    #[param(minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<i64>,
}

/// A tool to add to a toolkit, or its new fields (seed 004).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfToolInput {
    pub name: String,
    pub description: Option<String>,
    /// Default `api-request`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Tool-specific configuration (text or JSON); credential-like fields are masked when read,
    /// and a masked value sent back keeps the stored one.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// The JSON Schema of the parameters.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// Default 0.
    pub sort_order: Option<i32>,
}

impl From<InfToolInput> for NewToolkitTool {
    fn from(i: InfToolInput) -> Self {
        Self {
            tool_id: None,
            name: Some(i.name),
            description: i.description,
            kind: i.kind,
            parameters: i.parameters,
            config: i.config,
            sort_order: i.sort_order,
        }
    }
}

/// A discovered tool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfDiscoveredTool {
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
}

/// A sync: the discovered tools replace every tool of the toolkit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfSync {
    pub tools: Vec<InfDiscoveredTool>,
    /// Where the tools were discovered (e.g. `server`, `client`).
    pub discovered_by: Option<String>,
}

impl InfSync {
    pub fn into_domain(self) -> (Vec<SyncedTool>, Option<String>) {
        let tools = self
            .tools
            .into_iter()
            .map(|t| SyncedTool { name: t.name, description: t.description, input_schema: t.input_schema })
            .collect();
        (tools, self.discovered_by)
    }
}
