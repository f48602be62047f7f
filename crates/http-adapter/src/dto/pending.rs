//! Bodies of the seed operations that this version declares but answers with 501: their
//! schemas are published now so generated clients already have the final models.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::ServerStatus;

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
