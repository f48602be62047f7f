//! Seed operations declared for client compatibility whose implementation has not landed:
//! each answers 501 `NOT_IMPLEMENTED` (after authentication), and its final request and
//! response schemas are already published.

use actix_web::{HttpResponse, delete, get, post, put};

use crate::{
    dto::*,
    openapi::{Pending, Protected},
    problem::ApiError,
};

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
