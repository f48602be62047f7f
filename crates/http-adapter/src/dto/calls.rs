//! Tool call bodies and the call log.

use crate::dto::common::UtcTime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use toolhub_domain::calls::{CallFilter, CallRecord, CallStatus};
use utoipa::{IntoParams, ToSchema};

/// The arguments of a call by tool id.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCallRequest {
    /// Arguments matching the tool's input schema.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub arguments: Option<Map<String, Value>>,
}

/// A call by server and tool name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedToolCallRequest {
    pub server_name: String,
    pub tool_name: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub arguments: Option<Map<String, Value>>,
}

/// The call log's filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// Tool id or name.
    pub tool: Option<String>,
    /// Server id or name.
    pub server: Option<String>,
    /// The calling user.
    pub user: Option<String>,
    /// `success`, `tool_error`, `failed` or `rejected`.
    pub status: Option<String>,
    #[param(value_type = Option<DateTime<Utc>>)]
    pub since: Option<UtcTime>,
    #[param(value_type = Option<DateTime<Utc>>)]
    pub until: Option<UtcTime>,
    #[param(minimum = 1, maximum = 1000, default = 50)]
    pub limit: Option<i64>,
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

impl CallsQuery {
    pub fn filter(&self) -> Result<CallFilter, String> {
        Ok(CallFilter {
            tool: self.tool.clone(),
            server: self.server.clone(),
            user: self.user.clone(),
            status: self.status.as_deref().map(str::parse::<CallStatus>).transpose()?,
            since: self.since.map(Into::into),
            until: self.until.map(Into::into),
        })
    }
}

/// One recorded call.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallRecordResponse {
    pub id: String,
    pub tool_id: Option<String>,
    pub tool_name: String,
    pub server_id: Option<String>,
    pub server_name: String,
    pub user_id: String,
    pub groups: Vec<String>,
    /// Secret-looking values replaced by `********`; large arguments truncated.
    #[schema(value_type = Object)]
    pub arguments: Value,
    pub result_summary: Option<String>,
    /// `success`, `tool_error`, `failed` or `rejected`.
    pub status: String,
    pub error_code: Option<String>,
    pub duration_ms: f64,
    pub correlation_id: Option<String>,
    pub called_at: DateTime<Utc>,
}

impl From<CallRecord> for CallRecordResponse {
    fn from(r: CallRecord) -> Self {
        Self {
            id: r.id,
            tool_id: r.tool_id,
            tool_name: r.tool_name,
            server_id: r.server_id,
            server_name: r.server_name,
            user_id: r.principal_id,
            groups: r.groups,
            arguments: r.arguments,
            result_summary: r.result_summary,
            status: r.status.as_str().to_owned(),
            error_code: r.error_code,
            duration_ms: r.duration_ms,
            correlation_id: r.correlation_id,
            called_at: r.called_at,
        }
    }
}

/// A page of the call log.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallLogPage {
    pub items: Vec<CallRecordResponse>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}
