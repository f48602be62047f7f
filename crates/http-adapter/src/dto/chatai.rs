//! Seed 002's (ChatAI Plugin) tools API at `/api/tools`: its `{success, data}` envelope and its
//! shapes. Errors are `{success: false, error, code}` (see `problem.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use toolhub_domain::{calls::CallRecord, services::CategoryState};
use utoipa::{IntoParams, ToSchema};

/// Declares ChatAI success envelopes: `{success: true, data: <the type>}`.
macro_rules! envelopes {
    ($($(#[$meta:meta])* $name:ident($data:ty);)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// Always true here; errors carry `false`.
            pub success: bool,
            pub data: $data,
        }

        impl From<$data> for $name {
            fn from(data: $data) -> Self {
                Self { success: true, data }
            }
        }
    )+};
}

envelopes! {
    /// The tools and their categories.
    ChatAiToolsResponse(ChatAiTools);
    /// One tool.
    ChatAiToolResponse(ChatAiToolDetail);
    /// A tool's new switch.
    ChatAiToolToggleResponse(ChatAiToolToggled);
    /// A category's new switch.
    ChatAiCategoryToggleResponse(ChatAiCategoryToggled);
    /// A page of the call log.
    ChatAiLogsResponse(ChatAiLogs);
    /// A call's result.
    ChatAiCallResponse(ChatAiCallResult);
}

/// A ChatAI error: `{success: false, error, code}`, with the status of the code.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiError {
    /// Always false.
    pub success: bool,
    /// What went wrong, for people.
    pub error: String,
    /// The stable code (`TOOL_NOT_FOUND`, `TOOL_DISABLED`, `INVALID_ARGS`, `EXECUTION_ERROR`,
    /// or another of Toolhub's codes).
    pub code: String,
}

/// A tool in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiTool {
    /// The tool's name; `<server>__<tool>` where the caller sees several tools of that name.
    pub name: String,
    pub description: Option<String>,
    /// Its category (its own, else its server's).
    pub category: Option<String>,
    /// The tool, its server and its category are all enabled.
    pub enabled: bool,
}

/// A category: its display name and switch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiCategory {
    /// The category's name for people.
    pub name: String,
    pub enabled: bool,
}

impl From<&CategoryState> for ChatAiCategory {
    fn from(c: &CategoryState) -> Self {
        Self { name: toolhub_domain::tool::display_name_for(&c.name), enabled: c.enabled }
    }
}

/// The list: tools, and the categories they are in by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiTools {
    pub tools: Vec<ChatAiTool>,
    pub categories: BTreeMap<String, ChatAiCategory>,
}

/// One tool, with its input schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiToolDetail {
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub enabled: bool,
    /// The JSON Schema of its arguments.
    #[serde(rename = "inputSchema")]
    #[schema(value_type = Object)]
    pub input_schema: Value,
}

/// A new switch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatAiToggle {
    pub enabled: bool,
}

/// A tool's new switch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiToolToggled {
    pub name: String,
    pub enabled: bool,
}

/// A category's new switch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiCategoryToggled {
    /// The category, as tools name it.
    pub category: String,
    /// Its name for people.
    pub name: String,
    pub enabled: bool,
}

/// The call log's page and filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatAiLogsQuery {
    /// Records per page (1-1000, default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Records to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Only calls of this tool (as the list names it).
    #[param(max_length = 255)]
    pub tool: Option<String>,
}

/// One recorded call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiLog {
    pub id: String,
    /// The tool's name.
    pub tool: String,
    /// The arguments (secrets redacted, size capped).
    #[schema(value_type = Object)]
    pub args: Value,
    /// A short account of the result or the failure.
    pub result: Option<String>,
    /// Whether the tool ran and answered without error.
    pub success: bool,
    /// Milliseconds.
    pub duration: f64,
    /// When, in milliseconds since 1970.
    pub timestamp: i64,
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The chat group of the call; calls through Toolhub have none.
    #[serde(rename = "groupId")]
    pub group_id: Option<String>,
}

impl From<CallRecord> for ChatAiLog {
    fn from(r: CallRecord) -> Self {
        Self {
            id: r.id,
            tool: r.tool_name,
            args: r.arguments,
            result: r.result_summary,
            success: r.status == toolhub_domain::calls::CallStatus::Success,
            duration: r.duration_ms,
            timestamp: r.called_at.timestamp_millis(),
            user_id: r.principal_id,
            group_id: None,
        }
    }
}

/// A page of the call log and how many records the filter matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiLogs {
    pub logs: Vec<ChatAiLog>,
    pub total: u64,
}

/// A debug call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatAiCall {
    /// The tool, as the list names it.
    pub name: String,
    /// Arguments matching its input schema.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub args: Option<Map<String, Value>>,
}

/// A call's result and duration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAiCallResult {
    /// The tool's structured result if it gave one, else its MCP result.
    #[schema(value_type = Object)]
    pub result: Value,
    /// Milliseconds.
    pub duration: f64,
}
