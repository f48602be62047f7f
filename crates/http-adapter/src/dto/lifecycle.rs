//! Bodies of the lifecycle, health, tool and bulk operations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use toolhub_domain::{
    services::lifecycle::{BulkItem, ConnectivityReport, HealthReport, Outcome},
    tool::{Tool, ToolStatus as DomainToolStatus},
};
use utoipa::{IntoParams, ToSchema};

use super::{ServerStatus, ServerToolResponse};

/// Outcome of a server lifecycle operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolServerOperationResponse {
    pub success: bool,
    pub message: String,
}

impl From<Outcome> for ToolServerOperationResponse {
    fn from(o: Outcome) -> Self {
        Self { success: o.success, message: o.message }
    }
}

/// Outcome of a tool operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolOperationResponse {
    pub success: bool,
    pub message: String,
}

impl From<Outcome> for ToolOperationResponse {
    fn from(o: Outcome) -> Self {
        Self { success: o.success, message: o.message }
    }
}

/// One page of a server's tools.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerToolsResponse {
    pub tools: Vec<ServerToolResponse>,
    /// Number of tools before paging.
    pub total_count: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Paging of a server's tools, in a stable order (sort order, then name).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerToolsQuery {
    #[param(minimum = 1, maximum = 1000, default = 50)]
    pub limit: Option<i64>,
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

/// A server's live health.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolServerHealthCheck {
    pub server_id: String,
    pub server_name: String,
    pub status: ServerStatus,
    /// A connection (or process) is up.
    pub is_running: bool,
    /// The server answered a ping and a tool listing just now.
    pub is_responsive: bool,
    /// Tools the live connection lists.
    pub tools_count: i64,
    pub last_check: DateTime<Utc>,
    pub error_message: Option<String>,
    /// The replica that answered: `is_running`, `is_responsive` and `tools_count` are its own.
    pub replica_id: String,
    /// How each live replica runs the server (docs/operations.md, Replicas). `status` combines
    /// them: `enabled` while any runs it, `starting` while any starts it, `error` when all failed.
    pub replicas: Vec<ReplicaRuntimeState>,
}

/// One replica's own connection to a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaRuntimeState {
    pub replica_id: String,
    /// `starting`, `running` or `failed`.
    #[schema(value_type = String, example = "running")]
    pub state: toolhub_domain::replica::Running,
    /// Why it failed or is retrying (the server's managers only).
    pub error: Option<String>,
    /// Since when it is in this state.
    pub since: DateTime<Utc>,
}

impl From<HealthReport> for ToolServerHealthCheck {
    fn from(r: HealthReport) -> Self {
        Self {
            server_id: r.server.id,
            server_name: r.server.name,
            status: r.server.status.into(),
            is_running: r.is_running,
            is_responsive: r.is_responsive,
            tools_count: r.tools_count as i64,
            last_check: r.server.last_health_check.unwrap_or_else(Utc::now),
            error_message: r.error_message,
            replica_id: r.replica,
            replicas: r
                .replicas
                .into_iter()
                .map(|runtime| ReplicaRuntimeState {
                    replica_id: runtime.replica,
                    state: runtime.state,
                    error: runtime.error,
                    since: runtime.since,
                })
                .collect(),
        }
    }
}

/// The seed's untyped connectivity report.
pub fn connectivity_json(r: ConnectivityReport) -> Value {
    json!({
        "success": r.error.is_none(),
        "status": if r.error.is_none() { "connected" } else { "failed" },
        "server_id": r.server.id,
        "server_name": r.server.name,
        "server_type": if r.server.is_builtin { "builtin" } else { "remote" },
        "is_builtin": r.server.is_builtin,
        "current_status": r.server.status.as_str(),
        "tools_count": r.tools_count,
        "error": r.error,
    })
}

/// The seed's untyped item of the all-tools listing.
/// The fields of each item of the list of all tools.
pub const TOOL_SUMMARY_FIELDS: &[&str] = &[
    "id",
    "name",
    "display_name",
    "description",
    "server_id",
    "server_name",
    "status",
    "enabled",
    "is_available",
    "total_calls",
    "total_errors",
    "avg_response_time_ms",
    "last_called",
    "last_error",
    "created_at",
    "updated_at",
];

pub fn tool_summary_json(tool: Tool, server_name: String) -> Value {
    json!({
        "id": tool.id,
        "name": tool.name,
        "display_name": tool.display_name,
        "description": tool.description,
        "server_id": tool.server_id,
        "server_name": server_name,
        "status": tool.status.as_str(),
        "enabled": tool.status == DomainToolStatus::Enabled,
        "is_available": tool.is_available,
        "total_calls": tool.total_calls,
        "total_errors": tool.total_errors,
        "avg_response_time_ms": tool.avg_response_time_ms,
        "last_called": tool.last_called,
        "last_error": tool.last_error,
        "created_at": tool.created_at,
        "updated_at": tool.updated_at,
    })
}

/// One operation on several servers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkToolServerOperation {
    pub server_ids: Vec<String>,
    pub operation: super::BulkOperation,
    /// Accepted for compatibility; unused.
    pub parameters: Option<Value>,
}

/// Per-server outcomes of a bulk operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOperationResult {
    pub total_requested: i64,
    pub successful: i64,
    pub failed: i64,
    /// `{server_id, success, message}` per server, in request order.
    pub results: Vec<Value>,
    /// `Server <id>: <message>` for each failed server.
    pub errors: Vec<String>,
}

impl From<Vec<BulkItem>> for BulkOperationResult {
    fn from(items: Vec<BulkItem>) -> Self {
        let successful = items.iter().filter(|i| i.success).count() as i64;
        Self {
            total_requested: items.len() as i64,
            successful,
            failed: items.len() as i64 - successful,
            errors: items
                .iter()
                .filter(|i| !i.success)
                .map(|i| format!("Server {}: {}", i.server_id, i.message))
                .collect(),
            results: items
                .into_iter()
                .map(|i| json!({"server_id": i.server_id, "success": i.success, "message": i.message}))
                .collect(),
        }
    }
}

/// Usage figures of a server.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolServerMetrics {
    pub server_id: String,
    pub server_name: String,
    pub status: ServerStatus,
    pub total_tools: i64,
    pub enabled_tools: i64,
    pub total_calls: i64,
    pub total_errors: i64,
    #[schema(minimum = 0, maximum = 1)]
    pub success_rate: f64,
    pub avg_response_time_ms: Option<f64>,
    pub last_activity: Option<DateTime<Utc>>,
    #[schema(minimum = 0, maximum = 1)]
    pub uptime_percentage: Option<f64>,
}

impl From<toolhub_domain::services::ServerStats> for ToolServerMetrics {
    fn from(m: toolhub_domain::services::ServerStats) -> Self {
        Self {
            server_id: m.server.id,
            server_name: m.server.name,
            status: m.server.status.into(),
            total_tools: m.total_tools as i64,
            enabled_tools: m.enabled_tools as i64,
            total_calls: m.total_calls,
            total_errors: m.total_errors,
            success_rate: m.success_rate,
            avg_response_time_ms: m.avg_response_time_ms,
            last_activity: m.last_activity,
            uptime_percentage: m.uptime_percentage,
        }
    }
}
