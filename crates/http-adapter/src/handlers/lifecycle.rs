//! Running servers and their tools (seed operations start to bulk).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::json;

use crate::{
    AppState,
    auth::Caller,
    dto::{
        BulkOperationResult, BulkToolServerOperation, ItemFields, ListParams, SearchBody, ServerToolResponse,
        ServerToolsQuery, ServerToolsResponse, TOOL_SUMMARY_FIELDS, ToolOperationResponse, ToolServerHealthCheck,
        ToolServerOperationResponse, TotalCountHeader, connectivity_json, tool_summary_json,
    },
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    StartToolServerErrors = [ServerNotFound] + PROTECTED;
    StopToolServerErrors = [ServerNotFound, Conflict] + PROTECTED;
    RestartToolServerErrors = [ServerNotFound] + PROTECTED;
    EnableToolServerErrors = [ServerNotFound] + PROTECTED;
    DisableToolServerErrors = [ServerNotFound, Conflict] + PROTECTED;
    CheckServerHealthErrors = [ServerNotFound] + PROTECTED;
    TestServerConnectivityErrors = [ServerNotFound] + PROTECTED;
    RefreshServerToolsErrors = [ServerNotFound, Conflict, InvalidSpec] + UPSTREAM + PROTECTED;
    GetServerToolsErrors = [ServerNotFound, ValidationFailed] + PROTECTED;
    ListAllToolsErrors = [InvalidQuery, ValidationFailed] + PROTECTED;
    SearchToolsErrors = [InvalidQuery] + BODY + PROTECTED;
    EnableToolErrors = [ToolNotFound] + PROTECTED;
    DisableToolErrors = [ToolNotFound] + PROTECTED;
    BulkServerOperationErrors = [] + BODY + PROTECTED;
}

/// Start Tool Server
///
/// Connects to a remote server, or spawns a stdio one in its own process group, and discovers
/// its tools. A failure is reported with `success: false` and leaves the server in `error`.
#[utoipa::path(
    operation_id = "start_tool_server_api_v1_toolservers_servers_server_id_start_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolServerOperationResponse),
        StartToolServerErrors,
    )
)]
#[post("/servers/{server_id}/start")]
pub async fn start_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.lifecycle.start(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerOperationResponse::from(outcome)))
}

/// Stop Tool Server
///
/// Disconnects; a stdio server is stopped with its whole process tree.
#[utoipa::path(
    operation_id = "stop_tool_server_api_v1_toolservers_servers_server_id_stop_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolServerOperationResponse),
        StopToolServerErrors,
    )
)]
#[post("/servers/{server_id}/stop")]
pub async fn stop_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.lifecycle.stop(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerOperationResponse::from(outcome)))
}

/// Restart Tool Server
///
/// Stops, then starts the server.
#[utoipa::path(
    operation_id = "restart_tool_server_api_v1_toolservers_servers_server_id_restart_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolServerOperationResponse),
        RestartToolServerErrors,
    )
)]
#[post("/servers/{server_id}/restart")]
pub async fn restart_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.lifecycle.restart(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerOperationResponse::from(outcome)))
}

/// Enable Tool Server
///
/// Runs the server (`enabled` is the running state).
#[utoipa::path(
    operation_id = "enable_tool_server_api_v1_toolservers_servers_server_id_enable_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolServerOperationResponse),
        EnableToolServerErrors,
    )
)]
#[post("/servers/{server_id}/enable")]
pub async fn enable_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.lifecycle.enable(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerOperationResponse::from(outcome)))
}

/// Disable Tool Server
///
/// Stops the server; it stays stopped across Toolhub restarts.
#[utoipa::path(
    operation_id = "disable_tool_server_api_v1_toolservers_servers_server_id_disable_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolServerOperationResponse),
        DisableToolServerErrors,
    )
)]
#[post("/servers/{server_id}/disable")]
pub async fn disable_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.lifecycle.disable(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerOperationResponse::from(outcome)))
}

/// Check Server Health
///
/// Asks the live connection: running, answering a ping, and how many tools it lists.
#[utoipa::path(
    operation_id = "check_server_health_api_v1_toolservers_servers_server_id_health_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The health", body = ToolServerHealthCheck),
        CheckServerHealthErrors,
    )
)]
#[get("/servers/{server_id}/health")]
pub async fn check_server_health(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let report = state.services.lifecycle.health(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerHealthCheck::from(report)))
}

/// Test Server Connectivity
///
/// Opens a separate connection, lists the tools and closes it; the running connection and the
/// stored state are left alone.
#[utoipa::path(
    operation_id = "test_server_connectivity_api_v1_toolservers_servers_server_id_test_connectivity_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "`{success, status: connected|failed, server_id, server_name, server_type, is_builtin, current_status, tools_count, error}`", body = Object),
        TestServerConnectivityErrors,
    )
)]
#[post("/servers/{server_id}/test-connectivity")]
pub async fn test_server_connectivity(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let report = state.services.lifecycle.test_connectivity(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(connectivity_json(report)))
}

/// Refresh Server Tools
///
/// Lists a running server's tools again and stores them: new ones are added, vanished ones
/// become unavailable (kept, with their grants), disabled ones stay disabled.
#[utoipa::path(
    operation_id = "refresh_server_tools_api_v1_toolservers_servers_server_id_refresh_tools_post",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "`{success, message, tools_count}`", body = Object),
        RefreshServerToolsErrors,
    )
)]
#[post("/servers/{server_id}/refresh-tools")]
pub async fn refresh_server_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let count = state.services.lifecycle.refresh_tools(&caller, &server_id).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"success": true, "message": "Tools refreshed successfully", "tools_count": count})))
}

/// Get Server Tools
///
/// One page of a server's tools, ordered by the server's listing order, then name.
#[utoipa::path(
    operation_id = "get_server_tools_api_v1_toolservers_servers_server_id_tools_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID"), ServerToolsQuery),
    responses(
        (status = 200, description = "The page", body = ServerToolsResponse),
        GetServerToolsErrors,
    )
)]
#[get("/servers/{server_id}/tools")]
pub async fn get_server_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
    query: web::Query<ServerToolsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = super::paging(query.limit, query.offset)?;
    let (tools, total) = state.services.tools.server_tools(&caller, &server_id, limit as u64, offset as u64).await?;
    Ok(HttpResponse::Ok().json(ServerToolsResponse {
        tools: tools.into_iter().map(ServerToolResponse::from).collect(),
        total_count: total as i64,
        limit,
        offset,
    }))
}

/// List All Tools
///
/// The tools of the tenant the caller may read, across servers, ordered by server, then
/// listing order, unless `sort` says otherwise. Takes the list query parameters (`q`, `sort`,
/// `pageSize`, `pageNumber`, `fields`; `X-Total-Count: true` for the count in that header).
#[utoipa::path(
    operation_id = "list_all_tools_api_v1_toolservers_tools_all_get",
    tag = "Tool Servers",
    params(ListParams, TotalCountHeader),
    responses(
        (status = 200, description = "`{id, name, display_name, description, server_id, server_name, status, enabled, is_available, total_calls, total_errors, avg_response_time_ms, last_called, last_error, created_at, updated_at}` per tool", body = [Object], headers(("X-Total-Count" = u64, description = "How many tools passed the filter (when asked for)"))),
        ListAllToolsErrors,
    )
)]
#[get("/tools/all")]
pub async fn list_all_tools(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    tool_list(&request, &state, &caller, &params, None).await
}

/// Search Tools
///
/// As List All Tools, with the filter in the body.
#[utoipa::path(
    operation_id = "search_tools_api_v1_toolservers_tools_search_post",
    tag = "Tool Servers",
    params(ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses(
        (status = 200, description = "As List All Tools", body = [Object], headers(("X-Total-Count" = u64, description = "How many tools passed the filter (when asked for)"))),
        SearchToolsErrors,
    )
)]
#[post("/tools/search")]
pub async fn search_tools(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    tool_list(&request, &state, &caller, &params, body.0.filter()).await
}

async fn tool_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    params: &ListParams,
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let shaped = params.shape(toolhub_domain::tool::TOOL_FIELDS, &ItemFields::named(TOOL_SUMMARY_FIELDS), q)?;
    let (tools, total) = state.services.tools.all_tools(caller, &shaped.query).await?;
    Ok(shaped.answer(request, tools.into_iter().map(|(t, s)| tool_summary_json(t, s)).collect(), total))
}

/// Enable Tool
///
/// Enables one tool.
#[utoipa::path(
    operation_id = "enable_tool_api_v1_toolservers_tools_tool_id_enable_post",
    tag = "Tool Servers",
    params(("tool_id" = String, Path, description = "Tool ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolOperationResponse),
        EnableToolErrors,
    )
)]
#[post("/tools/{tool_id}/enable")]
pub async fn enable_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    tool_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.tools.set_tool_enabled(&caller, &tool_id, true).await?;
    Ok(HttpResponse::Ok().json(ToolOperationResponse::from(outcome)))
}

/// Disable Tool
///
/// Disables one tool; it stays disabled across refreshes.
#[utoipa::path(
    operation_id = "disable_tool_api_v1_toolservers_tools_tool_id_disable_post",
    tag = "Tool Servers",
    params(("tool_id" = String, Path, description = "Tool ID")),
    responses(
        (status = 200, description = "The outcome", body = ToolOperationResponse),
        DisableToolErrors,
    )
)]
#[post("/tools/{tool_id}/disable")]
pub async fn disable_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    tool_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.tools.set_tool_enabled(&caller, &tool_id, false).await?;
    Ok(HttpResponse::Ok().json(ToolOperationResponse::from(outcome)))
}

/// Bulk Server Operation
///
/// Runs one operation on each listed server in order and reports each; an unknown operation or
/// server fails its items, not the request.
#[utoipa::path(
    operation_id = "bulk_server_operation_api_v1_toolservers_servers_bulk_post",
    tag = "Tool Servers",
    request_body = BulkToolServerOperation,
    responses(
        (status = 200, description = "Per-server outcomes", body = BulkOperationResult),
        BulkServerOperationErrors,
    )
)]
#[post("/servers/bulk")]
pub async fn bulk_server_operation(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<BulkToolServerOperation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let items = state.services.lifecycle.bulk(&caller, &body.server_ids, body.operation.into()).await?;
    Ok(HttpResponse::Ok().json(BulkOperationResult::from(items)))
}
