//! Seed operations declared for client compatibility whose implementation has not landed:
//! each answers 501 `NOT_IMPLEMENTED` (after authentication), and its final request and
//! response schemas are already published.

use actix_web::{HttpResponse, delete, get, post, put};

use crate::{
    dto::*,
    openapi::{Pending, Protected},
    problem::ApiError,
};

/// Bulk Server Operation
///
/// Performs one operation (`start`, `stop`, `restart`, `enable`, `disable`) on several servers, reporting each.
#[utoipa::path(
    operation_id = "bulk_server_operation_api_v1_toolservers_servers_bulk_post",
    tag = "Tool Servers",
    request_body = BulkToolServerOperation,
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = BulkOperationResult),
        Pending,
        Protected,
    )
)]
#[post("/servers/bulk")]
pub async fn bulk_server_operation() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Bulk Server Operation"))
}

/// Check Server Health
///
/// Live health of a server: running, responsive, tools count.
#[utoipa::path(
    operation_id = "check_server_health_api_v1_toolservers_servers_server_id_health_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerHealthCheck),
        Pending,
        Protected,
    )
)]
#[get("/servers/{server_id}/health")]
pub async fn check_server_health() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Check Server Health"))
}

/// Check Tool Access
///
/// Reports what a call by this user would get, without consuming quota.
#[utoipa::path(
    operation_id = "check_tool_access_api_v1_toolservers_access_check_post",
    tag = "Tool Servers",
    request_body = UserToolAccessCheck,
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolAccessResult),
        Pending,
        Protected,
    )
)]
#[post("/access-check")]
pub async fn check_tool_access() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Check Tool Access"))
}

/// Create Role Access Rule
///
/// Gives a role access to tools and servers matching glob patterns.
#[utoipa::path(
    operation_id = "create_role_access_rule_api_v1_toolservers_role_access_post",
    tag = "Tool Servers",
    request_body = RoleToolAccessCreate,
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = RoleToolAccessResponse),
        Pending,
        Protected,
    )
)]
#[post("/role-access")]
pub async fn create_role_access_rule() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Create Role Access Rule"))
}

/// Disable Tool
///
/// Disables one tool; it stays disabled across refreshes.
#[utoipa::path(
    operation_id = "disable_tool_api_v1_toolservers_tools_tool_id_disable_post",
    tag = "Tool Servers",
    params(("tool_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/tools/{tool_id}/disable")]
pub async fn disable_tool() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Disable Tool"))
}

/// Disable Tool Server
///
/// Stops a server and keeps it from starting.
#[utoipa::path(
    operation_id = "disable_tool_server_api_v1_toolservers_servers_server_id_disable_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/disable")]
pub async fn disable_tool_server() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Disable Tool Server"))
}

/// Enable Tool
///
/// Enables one tool.
#[utoipa::path(
    operation_id = "enable_tool_api_v1_toolservers_tools_tool_id_enable_post",
    tag = "Tool Servers",
    params(("tool_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/tools/{tool_id}/enable")]
pub async fn enable_tool() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Enable Tool"))
}

/// Enable Tool Server
///
/// Enables a server and starts it when `auto_start` is set.
#[utoipa::path(
    operation_id = "enable_tool_server_api_v1_toolservers_servers_server_id_enable_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/enable")]
pub async fn enable_tool_server() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Enable Tool Server"))
}

/// Get Role Access Rules
///
/// Lists role access rules, optionally for one role.
#[utoipa::path(
    operation_id = "get_role_access_rules_api_v1_toolservers_role_access_get",
    tag = "Tool Servers",
    params(RoleRulesQuery),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = Vec<RoleToolAccessResponse>),
        Pending,
        Protected,
    )
)]
#[get("/role-access")]
pub async fn get_role_access_rules() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Get Role Access Rules"))
}

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

/// Get Server Tools
///
/// One page of a server's tools, in a stable order.
#[utoipa::path(
    operation_id = "get_server_tools_api_v1_toolservers_servers_server_id_tools_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path), ServerToolsQuery),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ServerToolsResponse),
        Pending,
        Protected,
    )
)]
#[get("/servers/{server_id}/tools")]
pub async fn get_server_tools() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Get Server Tools"))
}

/// Get User Permissions
///
/// The permissions granted to a user.
#[utoipa::path(
    operation_id = "get_user_permissions_api_v1_toolservers_users_user_id_permissions_get",
    tag = "Tool Servers",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = Vec<ToolPermissionResponse>),
        Pending,
        Protected,
    )
)]
#[get("/users/{user_id}/permissions")]
pub async fn get_user_permissions() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Get User Permissions"))
}

/// Grant Tool Permission
///
/// Grants a user access to one tool or one server.
#[utoipa::path(
    operation_id = "grant_tool_permission_api_v1_toolservers_permissions_post",
    tag = "Tool Servers",
    request_body = ToolPermissionCreate,
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolPermissionResponse),
        Pending,
        Protected,
    )
)]
#[post("/permissions")]
pub async fn grant_tool_permission() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Grant Tool Permission"))
}

/// List All Tools
///
/// Every tool the caller may see, across servers.
#[utoipa::path(
    operation_id = "list_all_tools_api_v1_toolservers_tools_all_get",
    tag = "Tool Servers",
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = [Object]),
        Pending,
        Protected,
    )
)]
#[get("/tools/all")]
pub async fn list_all_tools() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("List All Tools"))
}

/// Refresh Server Tools
///
/// Re-discovers a running server's tools.
#[utoipa::path(
    operation_id = "refresh_server_tools_api_v1_toolservers_servers_server_id_refresh_tools_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = Object),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/refresh-tools")]
pub async fn refresh_server_tools() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Refresh Server Tools"))
}

/// Restart Tool Server
///
/// Stops and starts a server.
#[utoipa::path(
    operation_id = "restart_tool_server_api_v1_toolservers_servers_server_id_restart_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/restart")]
pub async fn restart_tool_server() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Restart Tool Server"))
}

/// Revoke Tool Permission
///
/// Deletes a permission.
#[utoipa::path(
    operation_id = "revoke_tool_permission_api_v1_toolservers_permissions_permission_id_delete",
    tag = "Tool Servers",
    params(("permission_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = Object),
        Pending,
        Protected,
    )
)]
#[delete("/permissions/{permission_id}")]
pub async fn revoke_tool_permission() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Revoke Tool Permission"))
}

/// Start Tool Server
///
/// Connects to (or spawns) a server and discovers its tools.
#[utoipa::path(
    operation_id = "start_tool_server_api_v1_toolservers_servers_server_id_start_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/start")]
pub async fn start_tool_server() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Start Tool Server"))
}

/// Stop Tool Server
///
/// Disconnects from a server; stdio servers are stopped with their whole process tree.
#[utoipa::path(
    operation_id = "stop_tool_server_api_v1_toolservers_servers_server_id_stop_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolServerOperationResponse),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/stop")]
pub async fn stop_tool_server() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Stop Tool Server"))
}

/// Test Server Connectivity
///
/// Tries a connection to the server and reports the outcome.
#[utoipa::path(
    operation_id = "test_server_connectivity_api_v1_toolservers_servers_server_id_test_connectivity_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path)),
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = Object),
        Pending,
        Protected,
    )
)]
#[post("/servers/{server_id}/test-connectivity")]
pub async fn test_server_connectivity() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Test Server Connectivity"))
}

/// Update Tool Permission
///
/// Changes a permission.
#[utoipa::path(
    operation_id = "update_tool_permission_api_v1_toolservers_permissions_permission_id_put",
    tag = "Tool Servers",
    params(("permission_id" = String, Path)),
    request_body = ToolPermissionUpdate,
    responses(
        (status = 200, description = "Success (once implemented; this version answers 501)", body = ToolPermissionResponse),
        Pending,
        Protected,
    )
)]
#[put("/permissions/{permission_id}")]
pub async fn update_tool_permission() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented("Update Tool Permission"))
}
