//! Bodies of the seed operations that this version declares but answers with 501: their
//! schemas are published now so generated clients already have the final models.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ServerStatus, ToolAccessLevel, UserRole};

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

/// Grants a user access to one tool or one whole server (exactly one of `tool_id`, `server_id`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ToolPermissionCreate {
    pub user_id: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    #[schema(minimum = 1)]
    pub rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub rate_limit_per_day: Option<i64>,
    /// UTC hours (0-23) in which the grant applies.
    pub allowed_hours: Option<Vec<i32>>,
    /// Weekdays (0 = Monday to 6) in which the grant applies.
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes a permission.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ToolPermissionUpdate {
    pub access_level: Option<ToolAccessLevel>,
    #[schema(minimum = 1)]
    pub rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A user's permission.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolPermissionResponse {
    pub id: String,
    pub user_id: String,
    pub tool_id: Option<String>,
    pub server_id: Option<String>,
    pub access_level: ToolAccessLevel,
    pub rate_limit_per_hour: Option<i64>,
    pub rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub usage_count: i64,
    pub last_used: Option<DateTime<Utc>>,
}

/// A rule giving a role access to the tools and servers whose names match glob patterns.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleToolAccessCreate {
    pub role: UserRole,
    #[schema(max_length = 200)]
    pub tool_pattern: Option<String>,
    #[schema(max_length = 200)]
    pub server_pattern: Option<String>,
    pub access_level: ToolAccessLevel,
    #[schema(minimum = 1)]
    pub default_rate_limit_per_hour: Option<i64>,
    #[schema(minimum = 1)]
    pub default_rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
}

/// A role access rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleToolAccessResponse {
    pub id: String,
    pub role: UserRole,
    pub tool_pattern: Option<String>,
    pub server_pattern: Option<String>,
    pub access_level: ToolAccessLevel,
    pub default_rate_limit_per_hour: Option<i64>,
    pub default_rate_limit_per_day: Option<i64>,
    pub allowed_hours: Option<Vec<i32>>,
    pub allowed_days: Option<Vec<i32>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Filter of the role rule listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleRulesQuery {
    pub role: Option<String>,
}

/// Asks whether a user may use a tool (by name; `server_name` disambiguates).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserToolAccessCheck {
    pub user_id: String,
    pub tool_name: String,
    pub server_name: Option<String>,
}

/// The access decision, with remaining quota and the reason for a refusal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolAccessResult {
    pub allowed: bool,
    pub access_level: ToolAccessLevel,
    pub rate_limit_remaining_hour: Option<i64>,
    pub rate_limit_remaining_day: Option<i64>,
    pub restriction_reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}
