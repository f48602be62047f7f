//! Registering and managing tool servers (seed operations 1 to 5).

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};

use crate::{
    AppState,
    auth::Caller,
    dto::{
        ItemFields, ListParams, ListServersQuery, SearchBody, ToolServerCreate, ToolServerDeleteResponse,
        ToolServerResponse, ToolServerUpdate, TotalCountHeader, serialized,
    },
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    CreateToolServerErrors = [Conflict, InvalidSpec] + BODY + PROTECTED;
    ListToolServersErrors = [ValidationFailed, InvalidQuery] + PROTECTED;
    SearchToolServersErrors = [InvalidQuery] + BODY + PROTECTED;
    GetToolServerErrors = [ServerNotFound] + PROTECTED;
    UpdateToolServerErrors = [ServerNotFound, VersionMismatch, Conflict, InvalidSpec] + BODY + PROTECTED;
    DeleteToolServerErrors = [ServerNotFound, Conflict] + PROTECTED;
}

/// Create Tool Server
///
/// Registers a tool server (administrators only). It starts `disabled`.
#[utoipa::path(
    operation_id = "create_tool_server_api_v1_toolservers_servers_post",
    tag = "Tool Servers",
    request_body = ToolServerCreate,
    responses(
        (status = 201, description = "The registered server", body = ToolServerResponse),
        CreateToolServerErrors,
    )
)]
#[post("/servers")]
pub async fn create_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ToolServerCreate>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner().into_domain().map_err(ApiError::validation)?;
    let view = state.services.servers.create(&caller, input).await?;
    Ok(HttpResponse::Created().json(ToolServerResponse::from(view)))
}

/// List Tool Servers
///
/// Lists the tenant's servers the caller may see, in creation order, optionally by status and
/// without built-ins. Takes the list query parameters (`q`, `sort`, `pageSize`, `pageNumber`,
/// `fields`; `X-Total-Count: true` for the count in that header).
#[utoipa::path(
    operation_id = "list_tool_servers_api_v1_toolservers_servers_get",
    tag = "Tool Servers",
    params(ListServersQuery, ListParams, TotalCountHeader),
    responses(
        (status = 200, description = "The servers", body = Vec<ToolServerResponse>, headers(("X-Total-Count" = u64, description = "How many servers passed the filter (when asked for)"))),
        ListToolServersErrors,
    )
)]
#[get("/servers")]
pub async fn list_tool_servers(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<ListServersQuery>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    server_list(&request, &state, &caller, (filter.into_inner(), &params), None).await
}

/// Search Tool Servers
///
/// As List Tool Servers, with the filter in the body.
#[utoipa::path(
    operation_id = "search_tool_servers_api_v1_toolservers_servers_search_post",
    tag = "Tool Servers",
    params(ListServersQuery, ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses(
        (status = 200, description = "The servers", body = Vec<ToolServerResponse>, headers(("X-Total-Count" = u64, description = "How many servers passed the filter (when asked for)"))),
        SearchToolServersErrors,
    )
)]
#[post("/servers/search")]
pub async fn search_tool_servers(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<ListServersQuery>,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    server_list(&request, &state, &caller, (filter.into_inner(), &params), body.0.filter()).await
}

async fn server_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    (filter, params): (ListServersQuery, &ListParams),
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let shaped = params.shape(toolhub_domain::server::SERVER_FIELDS, &ItemFields::of::<ToolServerResponse>(), q)?;
    let (views, total) = state.services.servers.query(caller, filter.into(), &shaped.query).await?;
    Ok(shaped.answer(request, serialized(views.into_iter().map(ToolServerResponse::from))?, total))
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
        GetToolServerErrors,
    )
)]
#[get("/servers/{server_id}")]
pub async fn get_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.services.servers.get(&caller, &server_id).await?;
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
        UpdateToolServerErrors,
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
    let view = state.services.servers.update(&caller, &server_id, patch).await?;
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
        DeleteToolServerErrors,
    )
)]
#[delete("/servers/{server_id}")]
pub async fn delete_tool_server(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.servers.delete(&caller, &server_id).await?;
    Ok(HttpResponse::Ok().json(ToolServerDeleteResponse { message: "Tool server deleted successfully".into() }))
}
