//! Permissions, role rules and the access check (seed), grants to users, groups and everyone,
//! and user management.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde_json::json;
use toolhub_domain::{
    ports::GrantFilter,
    services::{GrantPatch, RuleInput},
};

use crate::{
    AppState,
    auth::Caller,
    dto::{
        GrantCreate, GrantResponse, GrantsQuery, ItemFields, ListParams, RoleRulesQuery, RoleToolAccessCreate,
        RoleToolAccessResponse, SearchBody, ToolAccessResult, ToolPermissionCreate, ToolPermissionResponse,
        ToolPermissionUpdate, TotalCountHeader, UserResponse, UserToolAccessCheck, UserUpdate, serialized,
    },
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    GrantToolPermissionErrors = [ToolNotFound, ServerNotFound, Conflict] + BODY + PROTECTED;
    UpdateToolPermissionErrors = [PermissionNotFound] + BODY + PROTECTED;
    RevokeToolPermissionErrors = [PermissionNotFound] + PROTECTED;
    GetUserPermissionsErrors = [] + PROTECTED;
    CreateRoleAccessRuleErrors = [Conflict] + BODY + PROTECTED;
    GetRoleAccessRulesErrors = [ValidationFailed, InvalidQuery] + PROTECTED;
    SearchRoleAccessRulesErrors = [ValidationFailed, InvalidQuery] + BODY + PROTECTED;
    UpdateRoleAccessRuleErrors = [RoleRuleNotFound, Conflict] + BODY + PROTECTED;
    DeleteRoleAccessRuleErrors = [RoleRuleNotFound] + PROTECTED;
    CheckToolAccessErrors = [ToolNotFound, ServerNotFound] + BODY + PROTECTED;
    CreateGrantErrors = [ToolNotFound, ServerNotFound, Conflict] + BODY + PROTECTED;
    ListGrantsErrors = [ValidationFailed, InvalidQuery] + PROTECTED;
    SearchGrantsErrors = [ValidationFailed, InvalidQuery] + BODY + PROTECTED;
    GetGrantErrors = [PermissionNotFound] + PROTECTED;
    UpdateGrantErrors = [PermissionNotFound] + BODY + PROTECTED;
    DeleteGrantErrors = [PermissionNotFound] + PROTECTED;
    ListUsersErrors = [] + PROTECTED;
    GetUserErrors = [UserNotFound] + PROTECTED;
    UpdateUserErrors = [UserNotFound, Conflict] + BODY + PROTECTED;
}

/// Grant Tool Permission
///
/// Grants a user access to one tool or one server (administrators only). Exactly one of
/// `tool_id` and `server_id`.
#[utoipa::path(
    operation_id = "grant_tool_permission_api_v1_toolservers_permissions_post",
    tag = "Tool Servers",
    request_body = ToolPermissionCreate,
    responses((status = 200, description = "The permission", body = ToolPermissionResponse), GrantToolPermissionErrors)
)]
#[post("/permissions")]
pub async fn grant_tool_permission(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ToolPermissionCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner().into_domain().map_err(ApiError::validation)?;
    let grant = state.services.access.grant(&caller, input).await?;
    Ok(HttpResponse::Ok().json(ToolPermissionResponse::from(grant)))
}

/// Update Tool Permission
///
/// Changes a permission: fields present are applied, `null` clears a limit, window or expiry.
#[utoipa::path(
    operation_id = "update_tool_permission_api_v1_toolservers_permissions_permission_id_put",
    tag = "Tool Servers",
    params(("permission_id" = String, Path, description = "Permission ID")),
    request_body = ToolPermissionUpdate,
    responses((status = 200, description = "The permission", body = ToolPermissionResponse), UpdateToolPermissionErrors)
)]
#[put("/permissions/{permission_id}")]
pub async fn update_tool_permission(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<ToolPermissionUpdate>,
) -> Result<HttpResponse, ApiError> {
    let patch = GrantPatch::from(body.into_inner());
    let grant = state.services.access.update_grant(&caller, &id, patch).await?;
    Ok(HttpResponse::Ok().json(ToolPermissionResponse::from(grant)))
}

/// Revoke Tool Permission
///
/// Deletes a permission.
#[utoipa::path(
    operation_id = "revoke_tool_permission_api_v1_toolservers_permissions_permission_id_delete",
    tag = "Tool Servers",
    params(("permission_id" = String, Path, description = "Permission ID")),
    responses((status = 200, description = "`{message}`", body = Object), RevokeToolPermissionErrors)
)]
#[delete("/permissions/{permission_id}")]
pub async fn revoke_tool_permission(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.access.revoke(&caller, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Permission revoked successfully"})))
}

/// Get User Permissions
///
/// The permissions granted to a user (its own, or anyone's for administrators).
#[utoipa::path(
    operation_id = "get_user_permissions_api_v1_toolservers_users_user_id_permissions_get",
    tag = "Tool Servers",
    params(("user_id" = String, Path, description = "User ID")),
    responses((status = 200, description = "The permissions", body = Vec<ToolPermissionResponse>), GetUserPermissionsErrors)
)]
#[get("/users/{user_id}/permissions")]
pub async fn get_user_permissions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let grants = state.services.access.user_permissions(&caller, &user_id).await?;
    Ok(HttpResponse::Ok().json(grants.into_iter().map(ToolPermissionResponse::from).collect::<Vec<_>>()))
}

/// Create Role Access Rule
///
/// Gives a role access to the tools and servers whose names match glob patterns
/// (administrators only).
#[utoipa::path(
    operation_id = "create_role_access_rule_api_v1_toolservers_role_access_post",
    tag = "Tool Servers",
    request_body = RoleToolAccessCreate,
    responses((status = 200, description = "The rule", body = RoleToolAccessResponse), CreateRoleAccessRuleErrors)
)]
#[post("/role-access")]
pub async fn create_role_access_rule(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<RoleToolAccessCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = RuleInput::from(body.into_inner());
    let rule = state.services.access.create_rule(&caller, input).await?;
    Ok(HttpResponse::Ok().json(RoleToolAccessResponse::from(rule)))
}

/// Get Role Access Rules
///
/// Lists role access rules, optionally for one role (administrators only). Takes the list
/// query parameters (`q`, `sort`, `pageSize`, `pageNumber`, `fields`; `X-Total-Count: true`).
#[utoipa::path(
    operation_id = "get_role_access_rules_api_v1_toolservers_role_access_get",
    tag = "Tool Servers",
    params(RoleRulesQuery, ListParams, TotalCountHeader),
    responses((status = 200, description = "The rules", body = Vec<RoleToolAccessResponse>, headers(("X-Total-Count" = u64, description = "How many rules passed the filter (when asked for)"))), GetRoleAccessRulesErrors)
)]
#[get("/role-access")]
pub async fn get_role_access_rules(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<RoleRulesQuery>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    rule_list(&request, &state, &caller, (&filter, &params), None).await
}

/// Search Role Access Rules
///
/// As Get Role Access Rules, with the filter in the body.
#[utoipa::path(
    operation_id = "search_role_access_rules_api_v1_toolservers_role_access_search_post",
    tag = "Tool Servers",
    params(RoleRulesQuery, ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses((status = 200, description = "The rules", body = Vec<RoleToolAccessResponse>, headers(("X-Total-Count" = u64, description = "How many rules passed the filter (when asked for)"))), SearchRoleAccessRulesErrors)
)]
#[post("/role-access/search")]
pub async fn search_role_access_rules(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<RoleRulesQuery>,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    rule_list(&request, &state, &caller, (&filter, &params), body.0.filter()).await
}

async fn rule_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    (filter, params): (&RoleRulesQuery, &ListParams),
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let shaped =
        params.shape(toolhub_domain::access::model::RULE_FIELDS, &ItemFields::of::<RoleToolAccessResponse>(), q)?;
    let role = filter.role.map(Into::into);
    let (rules, total) = state.services.access.list_rules(caller, role, &shaped.query).await?;
    Ok(shaped.answer(request, serialized(rules.into_iter().map(RoleToolAccessResponse::from))?, total))
}

/// Update Role Access Rule
///
/// Replaces a rule's role, patterns, level and conditions (not in the original API).
#[utoipa::path(
    operation_id = "update_role_access_rule_api_v1_toolservers_role_access_rule_id_put",
    tag = "Tool Servers",
    params(("rule_id" = String, Path, description = "Rule ID")),
    request_body = RoleToolAccessCreate,
    responses((status = 200, description = "The rule", body = RoleToolAccessResponse), UpdateRoleAccessRuleErrors)
)]
#[put("/role-access/{rule_id}")]
pub async fn update_role_access_rule(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<RoleToolAccessCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = RuleInput::from(body.into_inner());
    let rule = state.services.access.update_rule(&caller, &id, input).await?;
    Ok(HttpResponse::Ok().json(RoleToolAccessResponse::from(rule)))
}

/// Delete Role Access Rule
///
/// Deletes a rule (not in the original API).
#[utoipa::path(
    operation_id = "delete_role_access_rule_api_v1_toolservers_role_access_rule_id_delete",
    tag = "Tool Servers",
    params(("rule_id" = String, Path, description = "Rule ID")),
    responses((status = 200, description = "`{message}`", body = Object), DeleteRoleAccessRuleErrors)
)]
#[delete("/role-access/{rule_id}")]
pub async fn delete_role_access_rule(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.access.delete_rule(&caller, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Role access rule deleted successfully"})))
}

/// Check Tool Access
///
/// What a call by the user to the tool would get now, and why; read-only (no quota is used).
/// Users may check themselves, administrators anyone.
#[utoipa::path(
    operation_id = "check_tool_access_api_v1_toolservers_access_check_post",
    tag = "Tool Servers",
    request_body = UserToolAccessCheck,
    responses((status = 200, description = "The decision", body = ToolAccessResult), CheckToolAccessErrors)
)]
#[post("/access-check")]
pub async fn check_tool_access(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<UserToolAccessCheck>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let report =
        state.services.access.check(&caller, &body.user_id, &body.tool_name, body.server_name.as_deref()).await?;
    Ok(HttpResponse::Ok().json(ToolAccessResult::from(report)))
}

/// Create a grant
///
/// Grants a user, a group or everyone access to a tool or a server (administrators only).
#[utoipa::path(
    operation_id = "create_grant",
    tag = "Access Grants",
    request_body = GrantCreate,
    responses((status = 201, description = "The grant", body = GrantResponse), CreateGrantErrors)
)]
#[post("")]
pub async fn create_grant(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<GrantCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner().into_domain().map_err(ApiError::validation)?;
    let grant = state.services.access.grant(&caller, input).await?;
    Ok(HttpResponse::Created().json(GrantResponse::from(grant)))
}

/// List grants
///
/// The tenant's grants, optionally for one subject, tool or server (administrators only).
/// Takes the list query parameters (`q`, `sort`, `pageSize`, `pageNumber`, `fields`;
/// `X-Total-Count: true`).
#[utoipa::path(
    operation_id = "list_grants",
    tag = "Access Grants",
    params(GrantsQuery, ListParams, TotalCountHeader),
    responses((status = 200, description = "The grants", body = Vec<GrantResponse>, headers(("X-Total-Count" = u64, description = "How many grants passed the filter (when asked for)"))), ListGrantsErrors)
)]
#[get("")]
pub async fn list_grants(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<GrantsQuery>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    grant_list(&request, &state, &caller, (filter.into_inner(), &params), None).await
}

/// Search grants
///
/// As List grants, with the filter in the body.
#[utoipa::path(
    operation_id = "search_grants",
    tag = "Access Grants",
    params(GrantsQuery, ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses((status = 200, description = "The grants", body = Vec<GrantResponse>, headers(("X-Total-Count" = u64, description = "How many grants passed the filter (when asked for)"))), SearchGrantsErrors)
)]
#[post("/search")]
pub async fn search_grants(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<GrantsQuery>,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    grant_list(&request, &state, &caller, (filter.into_inner(), &params), body.0.filter()).await
}

async fn grant_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    (filter, params): (GrantsQuery, &ListParams),
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain().map_err(ApiError::validation)?;
    let shaped = params.shape(toolhub_domain::access::model::GRANT_FIELDS, &ItemFields::of::<GrantResponse>(), q)?;
    // Even a filter nothing can match is checked against the caller's right to list.
    let unmatched = GrantFilter::default();
    let (grants, total) =
        state.services.access.list_grants(caller, filter.as_ref().unwrap_or(&unmatched), &shaped.query).await?;
    let (grants, total) = if filter.is_some() { (grants, total) } else { (Vec::new(), 0) };
    Ok(shaped.answer(request, serialized(grants.into_iter().map(GrantResponse::from))?, total))
}

/// Get a grant
#[utoipa::path(
    operation_id = "get_grant",
    tag = "Access Grants",
    params(("grant_id" = String, Path)),
    responses((status = 200, description = "The grant", body = GrantResponse), GetGrantErrors)
)]
#[get("/{grant_id}")]
pub async fn get_grant(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(GrantResponse::from(state.services.access.get_grant(&caller, &id).await?)))
}

/// Change a grant
#[utoipa::path(
    operation_id = "update_grant",
    tag = "Access Grants",
    params(("grant_id" = String, Path)),
    request_body = ToolPermissionUpdate,
    responses((status = 200, description = "The grant", body = GrantResponse), UpdateGrantErrors)
)]
#[put("/{grant_id}")]
pub async fn update_grant(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<ToolPermissionUpdate>,
) -> Result<HttpResponse, ApiError> {
    let patch = GrantPatch::from(body.into_inner());
    Ok(HttpResponse::Ok().json(GrantResponse::from(state.services.access.update_grant(&caller, &id, patch).await?)))
}

/// Delete a grant
#[utoipa::path(
    operation_id = "delete_grant",
    tag = "Access Grants",
    params(("grant_id" = String, Path)),
    responses((status = 204, description = "Deleted"), DeleteGrantErrors)
)]
#[delete("/{grant_id}")]
pub async fn delete_grant(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.access.revoke(&caller, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List users
///
/// The tenant's users (administrators only).
#[utoipa::path(
    operation_id = "list_users",
    tag = "Users",
    responses((status = 200, description = "The users", body = Vec<UserResponse>), ListUsersErrors)
)]
#[get("")]
pub async fn list_users(state: web::Data<AppState>, Caller(caller): Caller) -> Result<HttpResponse, ApiError> {
    let users = state.services.users.list_users(&caller).await?;
    Ok(HttpResponse::Ok().json(users.into_iter().map(UserResponse::from).collect::<Vec<_>>()))
}

/// Get a user
///
/// A user (oneself, or anyone for administrators).
#[utoipa::path(
    operation_id = "get_user",
    tag = "Users",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "The user", body = UserResponse), GetUserErrors)
)]
#[get("/{user_id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(UserResponse::from(state.services.users.get_user(&caller, &id).await?)))
}

/// Change a user
///
/// Sets a user's role, groups, display name or disabled flag (administrators only). The stored
/// role applies from the user's next request on; a disabled user's credentials are refused.
#[utoipa::path(
    operation_id = "update_user",
    tag = "Users",
    params(("user_id" = String, Path)),
    request_body = UserUpdate,
    responses((status = 200, description = "The user", body = UserResponse), UpdateUserErrors)
)]
#[put("/{user_id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<UserUpdate>,
) -> Result<HttpResponse, ApiError> {
    let user = state.services.users.update_user(&caller, &id, body.into_inner().into()).await?;
    // The new role, groups or disabled flag apply from the user's next request on.
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
