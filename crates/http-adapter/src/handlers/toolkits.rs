//! Toolkits: the native API (`/api/v1/toolkits`) and seed 004's Informer surface
//! (`/api/toolkits/{id}/tools`), both thin over the toolkit service.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};

use crate::{
    AppState,
    auth::Caller,
    dto::{
        HalLink, InfCollectionLinks, InfPaging, InfSync, InfTool, InfToolInput, InfToolList, InfToolsEmbedded,
        ItemFields, ListParams, SearchBody, ToolCallRequest, ToolkitCreate, ToolkitDeleteQuery, ToolkitResponse,
        ToolkitToolAdd, ToolkitToolResponse, ToolkitUpdate, TotalCountHeader, serialized,
    },
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    CreateToolkitErrors = [ServerNotFound, Conflict] + BODY + PROTECTED;
    ListToolkitsErrors = [InvalidQuery, ValidationFailed] + PROTECTED;
    SearchToolkitsErrors = [InvalidQuery] + BODY + PROTECTED;
    GetToolkitErrors = [ToolkitNotFound] + PROTECTED;
    UpdateToolkitErrors = [ToolkitNotFound, ServerNotFound, VersionMismatch] + BODY + PROTECTED;
    DeleteToolkitErrors = [ToolkitNotFound, Conflict, ValidationFailed] + PROTECTED;
    ListToolkitToolsErrors = [ToolkitNotFound, ValidationFailed] + PROTECTED;
    AddToolkitToolErrors = [ToolkitNotFound, ToolNotFound, Conflict] + BODY + PROTECTED;
    GetToolkitToolErrors = [ToolkitNotFound, ToolNotFound] + PROTECTED;
    UpdateToolkitToolErrors = [ToolkitNotFound, ToolNotFound, Conflict] + BODY + PROTECTED;
    RemoveToolkitToolErrors = [ToolkitNotFound, ToolNotFound] + PROTECTED;
    SyncToolkitToolsErrors = [ToolkitNotFound] + BODY + PROTECTED;
    CallToolkitToolErrors = [ToolkitNotFound, ToolNotFound, ToolDisabled, InvalidArgs, RateLimited] + UPSTREAM + BODY + PROTECTED;
}

/// Create a toolkit
///
/// Makes a toolkit owned by the caller (power users and above). Its tools are added next.
#[utoipa::path(
    operation_id = "create_toolkit",
    tag = "Toolkits",
    request_body = ToolkitCreate,
    responses((status = 201, description = "The toolkit", body = ToolkitResponse), CreateToolkitErrors)
)]
#[post("")]
pub async fn create_toolkit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ToolkitCreate>,
) -> Result<HttpResponse, ApiError> {
    let kit = state.services.toolkits.create(&caller, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(ToolkitResponse::from(kit)))
}

/// List toolkits
///
/// The toolkits the caller may see (owned, granted at least `read`, or all for administrators),
/// by name. Takes the list query parameters (`q`, `sort`, `pageSize`, `pageNumber`, `fields`;
/// `X-Total-Count: true`).
#[utoipa::path(
    operation_id = "list_toolkits",
    tag = "Toolkits",
    params(ListParams, TotalCountHeader),
    responses((status = 200, description = "The toolkits", body = Vec<ToolkitResponse>, headers(("X-Total-Count" = u64, description = "How many toolkits passed the filter (when asked for)"))), ListToolkitsErrors)
)]
#[get("")]
pub async fn list_toolkits(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    toolkit_list(&request, &state, &caller, &params, None).await
}

/// Search toolkits
///
/// As List toolkits, with the filter in the body.
#[utoipa::path(
    operation_id = "search_toolkits",
    tag = "Toolkits",
    params(ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses((status = 200, description = "The toolkits", body = Vec<ToolkitResponse>, headers(("X-Total-Count" = u64, description = "How many toolkits passed the filter (when asked for)"))), SearchToolkitsErrors)
)]
#[post("/search")]
pub async fn search_toolkits(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    toolkit_list(&request, &state, &caller, &params, body.0.filter()).await
}

async fn toolkit_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    params: &ListParams,
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let shaped = params.shape(toolhub_domain::toolkit::TOOLKIT_FIELDS, &ItemFields::of::<ToolkitResponse>(), q)?;
    let (kits, total) = state.services.toolkits.list(caller, &shaped.query).await?;
    Ok(shaped.answer(request, serialized(kits.into_iter().map(ToolkitResponse::from))?, total))
}

/// Get a toolkit
///
/// By id, name, or `owner:name`.
#[utoipa::path(
    operation_id = "get_toolkit",
    tag = "Toolkits",
    params(("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name")),
    responses((status = 200, description = "The toolkit", body = ToolkitResponse), GetToolkitErrors)
)]
#[get("/{toolkit_id}")]
pub async fn get_toolkit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kit = state.services.toolkits.get(&caller, &id).await?;
    Ok(HttpResponse::Ok().json(ToolkitResponse::from(kit)))
}

/// Update a toolkit
///
/// Needs `admin` on the toolkit (its owner holds it). With `version`, only if nobody changed it since.
#[utoipa::path(
    operation_id = "update_toolkit",
    tag = "Toolkits",
    params(("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name")),
    request_body = ToolkitUpdate,
    responses((status = 200, description = "The toolkit", body = ToolkitResponse), UpdateToolkitErrors)
)]
#[put("/{toolkit_id}")]
pub async fn update_toolkit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<ToolkitUpdate>,
) -> Result<HttpResponse, ApiError> {
    let kit = state.services.toolkits.update(&caller, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(ToolkitResponse::from(kit)))
}

/// Delete a toolkit
///
/// A toolkit shared by grants is kept (409) unless `force=true`, which removes those grants.
/// The server tools it held stay.
#[utoipa::path(
    operation_id = "delete_toolkit",
    tag = "Toolkits",
    params(("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name"), ToolkitDeleteQuery),
    responses((status = 204, description = "Deleted"), DeleteToolkitErrors)
)]
#[delete("/{toolkit_id}")]
pub async fn delete_toolkit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    query: web::Query<ToolkitDeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    state.services.toolkits.delete(&caller, &id, query.force.unwrap_or(false)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a toolkit's tools
///
/// In the toolkit's order: `sort_order`, then name.
#[utoipa::path(
    operation_id = "list_toolkit_tools",
    tag = "Toolkits",
    params(("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name")),
    responses((status = 200, description = "The tools", body = Vec<ToolkitToolResponse>), ListToolkitToolsErrors)
)]
#[get("/{toolkit_id}/tools")]
pub async fn list_toolkit_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let contents = state.services.toolkits.contents(&caller, &id).await?;
    Ok(HttpResponse::Ok().json(contents.tools.into_iter().map(ToolkitToolResponse::from).collect::<Vec<_>>()))
}

/// Add a server tool to a toolkit
///
/// Needs `admin` on the toolkit and on the tool (a toolkit never hands out more than its
/// editors could). Names are unique in a toolkit.
#[utoipa::path(
    operation_id = "add_toolkit_tool",
    tag = "Toolkits",
    params(("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name")),
    request_body = ToolkitToolAdd,
    responses((status = 201, description = "The toolkit's tool", body = ToolkitToolResponse), AddToolkitToolErrors)
)]
#[post("/{toolkit_id}/tools")]
pub async fn add_toolkit_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<ToolkitToolAdd>,
) -> Result<HttpResponse, ApiError> {
    let view = state.services.toolkits.add_tool(&caller, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(ToolkitToolResponse::from(view)))
}

/// Remove a tool from a toolkit
///
/// The server tool itself stays.
#[utoipa::path(
    operation_id = "remove_toolkit_tool",
    tag = "Toolkits",
    params(
        ("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name"),
        ("tool_id" = String, Path, description = "The toolkit tool's id"),
    ),
    responses((status = 204, description = "Removed"), RemoveToolkitToolErrors)
)]
#[delete("/{toolkit_id}/tools/{tool_id}")]
pub async fn remove_toolkit_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, tool_id) = path.into_inner();
    state.services.toolkits.remove_tool(&caller, &id, &tool_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Call a toolkit's tool
///
/// By its name in the toolkit (or its id). A server tool it stands for is called as through
/// `call_tool`; an `api-request` tool sends the HTTP request its config describes. The same
/// engine (a grant on the toolkit counts), quota, argument check and call log; the answer is an
/// MCP result plus `duration_ms`, a tool's own error a 200 with `isError`.
#[utoipa::path(
    operation_id = "call_toolkit_tool",
    tag = "Toolkits",
    params(
        ("toolkit_id" = String, Path, description = "Toolkit id, name or owner:name"),
        ("tool_id" = String, Path, description = "The tool's name in the toolkit, or its id"),
    ),
    request_body = ToolCallRequest,
    responses(
        (status = 200, description = "The tool's result and `duration_ms`; `X-Tool-Quota-Remaining-Hour|Day` when limited", body = Object),
        CallToolkitToolErrors,
    )
)]
#[post("/{toolkit_id}/tools/{tool_id}/call")]
pub async fn call_toolkit_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    body: Json<ToolCallRequest>,
) -> Result<HttpResponse, ApiError> {
    let (toolkit, tool) = path.into_inner();
    let correlation = crate::context::current().map(|c| c.correlation_id);
    let arguments = body.into_inner().arguments;
    let outcome = state
        .services
        .calls
        .call_in_toolkit(&caller, (&toolkit, &tool), arguments, correlation, std::future::pending(), None)
        .await?;
    Ok(super::calls::answer(outcome))
}

// ---- Informer (seed 004) ----

fn tools_path(id: &str) -> String {
    format!("/api/toolkits/{id}/tools")
}

/// List tools (Informer)
///
/// A page of the toolkit's tools (HAL), ordered by `sortOrder` ASC, then `name` ASC.
#[utoipa::path(
    operation_id = "informer_list_toolkit_tools",
    tag = "Informer Toolkits",
    params(("id" = String, Path, description = "Toolkit id, name or owner:name"), InfPaging),
    responses((status = 200, description = "The tools", body = InfToolList), ListToolkitToolsErrors)
)]
#[get("/{id}/tools")]
pub async fn informer_list_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    paging: web::Query<InfPaging>,
) -> Result<HttpResponse, ApiError> {
    let (limit, start) = super::paging_as(Some(paging.limit.unwrap_or(1000)), paging.start, "start")?;
    let contents = state.services.toolkits.contents(&caller, &id).await?;
    Ok(HttpResponse::Ok().json(informer_page(&id, contents.tools, start as usize, limit as usize)))
}

fn informer_page(
    id: &str,
    tools: Vec<toolhub_domain::services::ToolkitToolView>,
    start: usize,
    limit: usize,
) -> InfToolList {
    let base = tools_path(id);
    let total = tools.len() as u64;
    let page: Vec<InfTool> = tools.into_iter().skip(start).take(limit).map(|t| InfTool::new(t, &base)).collect();
    InfToolList {
        links: InfCollectionLinks { self_link: HalLink { href: base } },
        start: start as u64,
        count: page.len() as u64,
        total,
        embedded: InfToolsEmbedded { tools: page },
    }
}

/// Add a custom tool (Informer)
///
/// `type` defaults to `api-request`. Needs `admin` on the toolkit (Informer's `toolkit:write`).
#[utoipa::path(
    operation_id = "informer_add_toolkit_tool",
    tag = "Informer Toolkits",
    params(("id" = String, Path, description = "Toolkit id, name or owner:name")),
    request_body = InfToolInput,
    responses((status = 201, description = "The tool", body = InfTool), AddToolkitToolErrors)
)]
#[post("/{id}/tools")]
pub async fn informer_add_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<InfToolInput>,
) -> Result<HttpResponse, ApiError> {
    let view = state.services.toolkits.add_tool(&caller, &id, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(InfTool::new(view, &tools_path(&id))))
}

/// Sync discovered tools (Informer)
///
/// Replaces every tool of the toolkit with the discovered ones: `type` becomes `mcp`,
/// `discoveredAt` now. In a toolkit linked to a server, names that server has become its
/// (callable) tools; the others are listed only.
#[utoipa::path(
    operation_id = "informer_sync_toolkit_tools",
    tag = "Informer Toolkits",
    params(("id" = String, Path, description = "Toolkit id, name or owner:name")),
    request_body = InfSync,
    responses((status = 200, description = "The updated tools", body = InfToolList), SyncToolkitToolsErrors)
)]
#[put("/{id}/tools")]
pub async fn informer_sync_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<InfSync>,
) -> Result<HttpResponse, ApiError> {
    let (tools, discovered_by) = body.into_inner().into_domain();
    let contents = state.services.toolkits.sync(&caller, &id, tools, discovered_by).await?;
    let count = contents.tools.len();
    Ok(HttpResponse::Ok().json(informer_page(&id, contents.tools, 0, count)))
}

/// Get a tool (Informer)
#[utoipa::path(
    operation_id = "informer_get_toolkit_tool",
    tag = "Informer Toolkits",
    params(
        ("id" = String, Path, description = "Toolkit id, name or owner:name"),
        ("tool_id" = String, Path, description = "The toolkit tool's id"),
    ),
    responses((status = 200, description = "The tool", body = InfTool), GetToolkitToolErrors)
)]
#[get("/{id}/tools/{tool_id}")]
pub async fn informer_get_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, tool_id) = path.into_inner();
    let view = state.services.toolkits.tool(&caller, &id, &tool_id).await?;
    Ok(HttpResponse::Ok().json(InfTool::new(view, &tools_path(&id))))
}

/// Update a tool (Informer)
///
/// The same fields as adding one. A tool that stands for a server tool takes a new name,
/// description and `sortOrder` only (its parameters are the server tool's).
#[utoipa::path(
    operation_id = "informer_update_toolkit_tool",
    tag = "Informer Toolkits",
    params(
        ("id" = String, Path, description = "Toolkit id, name or owner:name"),
        ("tool_id" = String, Path, description = "The toolkit tool's id"),
    ),
    request_body = InfToolInput,
    responses((status = 200, description = "The tool", body = InfTool), UpdateToolkitToolErrors)
)]
#[put("/{id}/tools/{tool_id}")]
pub async fn informer_update_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    body: Json<InfToolInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, tool_id) = path.into_inner();
    let view = state.services.toolkits.update_tool(&caller, &id, &tool_id, body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(InfTool::new(view, &tools_path(&id))))
}

/// Delete a tool (Informer)
#[utoipa::path(
    operation_id = "informer_delete_toolkit_tool",
    tag = "Informer Toolkits",
    params(
        ("id" = String, Path, description = "Toolkit id, name or owner:name"),
        ("tool_id" = String, Path, description = "The toolkit tool's id"),
    ),
    responses((status = 204, description = "Deleted"), RemoveToolkitToolErrors)
)]
#[delete("/{id}/tools/{tool_id}")]
pub async fn informer_delete_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, tool_id) = path.into_inner();
    state.services.toolkits.remove_tool(&caller, &id, &tool_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
