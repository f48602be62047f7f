//! Registering and managing tool servers (seed operations 1 to 5).

use actix_web::{HttpResponse, delete, get, post, put, web};

use crate::{
    AppState,
    auth::Caller,
    dto::{ListServersQuery, ToolServerCreate, ToolServerDeleteResponse, ToolServerResponse, ToolServerUpdate},
    extract::Json,
    openapi::{BodyErrors, Protected},
    problem::{ApiError, Problem},
};

/// Create Tool Server
///
/// Registers a tool server (administrators only). It starts `disabled`.
#[utoipa::path(
    operation_id = "create_tool_server_api_v1_toolservers_servers_post",
    tag = "Tool Servers",
    request_body = ToolServerCreate,
    responses(
        (status = 201, description = "The registered server", body = ToolServerResponse),
        (status = 409, description = "The tenant already has a server of that name (`CONFLICT`)", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        Protected,
    )
)]
#[post("/servers")]
pub async fn create_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ToolServerCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner().into_domain().map_err(ApiError::validation)?;
    let view = state.servers.create(&caller, input).await?;
    Ok(HttpResponse::Created().json(ToolServerResponse::from(view)))
}

/// List Tool Servers
///
/// Lists the tenant's servers in creation order, optionally by status and without built-ins.
#[utoipa::path(
    operation_id = "list_tool_servers_api_v1_toolservers_servers_get",
    tag = "Tool Servers",
    params(ListServersQuery),
    responses(
        (status = 200, description = "The servers", body = Vec<ToolServerResponse>),
        (status = 422, description = "Invalid query (`VALIDATION_FAILED`)", body = Problem, content_type = "application/problem+json"),
        Protected,
    )
)]
#[get("/servers")]
pub async fn list_tool_servers(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    query: web::Query<ListServersQuery>,
) -> Result<HttpResponse, ApiError> {
    let views = state.servers.list(&caller, query.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(views.into_iter().map(ToolServerResponse::from).collect::<Vec<_>>()))
}

/// Get Tool Server
///
/// One server with its tools.
#[utoipa::path(
    operation_id = "get_tool_server_api_v1_toolservers_servers_server_id_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "The server", body = ToolServerResponse),
        (status = 404, description = "No such server in this tenant (`SERVER_NOT_FOUND`)", body = Problem, content_type = "application/problem+json"),
        Protected,
    )
)]
#[get("/servers/{server_id}")]
pub async fn get_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.servers.get(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerResponse::from(view)))
}

/// Update Tool Server
///
/// Applies the fields present in the body (administrators only); `null` clears optional
/// fields. With `version`, refuses to overwrite a newer change.
#[utoipa::path(
    operation_id = "update_tool_server_api_v1_toolservers_servers_server_id_put",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    request_body = ToolServerUpdate,
    responses(
        (status = 200, description = "The updated server", body = ToolServerResponse),
        (status = 404, description = "No such server in this tenant (`SERVER_NOT_FOUND`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The server changed since `version` (`VERSION_MISMATCH`)", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        Protected,
    )
)]
#[put("/servers/{server_id}")]
pub async fn update_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
    body: Json<ToolServerUpdate>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().into_domain().map_err(ApiError::validation)?;
    let view = state.servers.update(&caller, &server_id, patch).await?;
    Ok(HttpResponse::Ok().json(ToolServerResponse::from(view)))
}

/// Delete Tool Server
///
/// Deletes a server and its tools (administrators only).
#[utoipa::path(
    operation_id = "delete_tool_server_api_v1_toolservers_servers_server_id_delete",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses(
        (status = 200, description = "Deleted", body = ToolServerDeleteResponse),
        (status = 404, description = "No such server in this tenant (`SERVER_NOT_FOUND`)", body = Problem, content_type = "application/problem+json"),
        Protected,
    )
)]
#[delete("/servers/{server_id}")]
pub async fn delete_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.servers.delete(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerDeleteResponse { message: "Tool server deleted successfully".into() }))
}
