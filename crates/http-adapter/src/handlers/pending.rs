//! Seed operations declared for client compatibility whose implementation has not landed:
//! each answers 501 `NOT_IMPLEMENTED` (after authentication), and its final request and
//! response schemas are already published.

use actix_web::{HttpResponse, get};

use crate::{
    dto::*,
    openapi::{Pending, Protected},
    problem::ApiError,
};

/// Get Server Metrics
///
/// Usage figures of a server and its tools.
#[utoipa::path(
    operation_id = "get_server_metrics_api_v1_toolservers_servers_server_id_metrics_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerMetrics),
        Pending,
        Protected,
    )
)]
#[get("/servers/{server_id}/metrics")]
pub async fn get_server_metrics() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Get Server Metrics"))
}
