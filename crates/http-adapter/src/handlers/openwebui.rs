//! Seed 001's (Open WebUI) tools API at `/api/v1/tools`: servers and toolkits in one list,
//! with access grants and write access, through the same engine and grants as the native API.
//! Errors are problem+json (docs/compatibility.md says where the original differs).

use actix_web::{HttpResponse, get, post, web};
use toolhub_domain::{
    DomainError, Principal, ResourceKind, Role,
    access::{Grant, Target},
    query::ListQuery,
    server::{ServerFilter, ServerStatus, ToolServer, TransportType},
    toolkit::Toolkit,
};

use crate::{
    AppState,
    auth::Caller,
    dto::{MCP_SERVER_PREFIX, OwAccessGrant, OwAccessUpdate, OwMeta, OwSpec, OwTool, OwToolExport, SERVER_PREFIX},
    extract::Json,
    problem::ApiError,
};

crate::problems! {
    OwListToolsErrors = [] + PROTECTED;
    OwListWorkspaceToolsErrors = [] + PROTECTED;
    OwExportToolsErrors = [] + PROTECTED;
    OwGetToolErrors = [ToolkitNotFound, ServerNotFound] + PROTECTED;
    OwUpdateAccessErrors = [ToolkitNotFound, ServerNotFound] + BODY + PROTECTED;
}

/// Grants one access update may carry (as the OpenAPI document says).
pub const ACCESS_GRANTS_MAX: usize = 100;

/// A server's Open WebUI id.
fn server_id(server: &ToolServer) -> String {
    match server.transport_type {
        TransportType::Openapi => format!("{SERVER_PREFIX}{}", server.name),
        _ => format!("{MCP_SERVER_PREFIX}{}", server.name),
    }
}

/// The grants the caller may see: all of them with write access, none without.
fn shown(grants: &[Grant], write_access: bool) -> Vec<OwAccessGrant> {
    match write_access {
        true => grants.iter().filter_map(OwAccessGrant::of).collect(),
        false => Vec::new(),
    }
}

async fn server_item(state: &AppState, actor: &Principal, server: &ToolServer) -> Result<OwTool, ApiError> {
    // Grants on a server are an administrator's to give, so only they write its access.
    let write_access = actor.is_admin();
    let grants = match write_access {
        true => state.services.access.grants_on(&actor.tenant, &Target::Server(server.id.clone())).await?,
        false => Vec::new(),
    };
    let id = server_id(server);
    Ok(OwTool {
        user_id: id.clone(),
        id,
        name: server.display_name.clone(),
        meta: OwMeta { description: server.description.clone() },
        access_grants: shown(&grants, write_access),
        write_access,
        has_user_valves: None,
        updated_at: server.updated_at.timestamp(),
        created_at: server.created_at.timestamp(),
    })
}

async fn toolkit_item(state: &AppState, actor: &Principal, kit: &Toolkit) -> Result<OwTool, ApiError> {
    let write_access = state.services.toolkits.may_edit(actor, kit);
    let grants = match write_access {
        true => state.services.access.grants_on(&actor.tenant, &Target::Toolkit(kit.id.clone())).await?,
        false => Vec::new(),
    };
    Ok(OwTool {
        id: kit.name.clone(),
        user_id: kit.owner_id.clone(),
        name: kit.display_name.clone(),
        meta: OwMeta { description: kit.description.clone() },
        access_grants: shown(&grants, write_access),
        write_access,
        has_user_valves: Some(false),
        updated_at: kit.updated_at.timestamp(),
        created_at: kit.created_at.timestamp(),
    })
}

async fn toolkit_items(state: &AppState, actor: &Principal) -> Result<Vec<OwTool>, ApiError> {
    let (kits, _) = state.services.toolkits.list(actor, &ListQuery::default()).await?;
    let mut items = Vec::with_capacity(kits.len());
    for kit in &kits {
        items.push(toolkit_item(state, actor, kit).await?);
    }
    Ok(items)
}

/// The server an Open WebUI id names, if it is a server id the caller may see.
async fn named_server(state: &AppState, actor: &Principal, id: &str) -> Result<Option<ToolServer>, ApiError> {
    let Some(name) = id.strip_prefix(MCP_SERVER_PREFIX).or_else(|| id.strip_prefix(SERVER_PREFIX)) else {
        return Ok(None);
    };
    match state.services.servers.find_by_name(actor, name).await? {
        Some(server) if server_id(&server) == id => Ok(Some(server)),
        _ => Err(DomainError::not_found(ResourceKind::ToolServer, id).into()),
    }
}

/// List tools (Open WebUI)
///
/// Every running server the caller may see (`server:mcp:{name}`, OpenAPI ones
/// `server:{name}`) and every toolkit it may read (by name), in one list. `access_grants` are
/// shown to those with write access. No item carries `authenticated`: Toolhub reaches servers
/// with its own credentials, not per user.
#[utoipa::path(
    operation_id = "openwebui_list_tools",
    tag = "Open WebUI Tools",
    responses((status = 200, description = "Servers and toolkits", body = Vec<OwTool>), OwListToolsErrors)
)]
#[get("/")]
pub async fn openwebui_list_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, ApiError> {
    let views = state.services.servers.list(&caller, ServerFilter::all()).await?;
    let mut items = Vec::new();
    for view in views.iter().filter(|v| v.server.status == ServerStatus::Enabled) {
        items.push(server_item(&state, &caller, &view.server).await?);
    }
    items.extend(toolkit_items(&state, &caller).await?);
    Ok(HttpResponse::Ok().json(items))
}

/// List workspace tools (Open WebUI)
///
/// The toolkits the caller may read (Open WebUI's workspace tools), each with `write_access`.
#[utoipa::path(
    operation_id = "openwebui_list_workspace_tools",
    tag = "Open WebUI Tools",
    responses((status = 200, description = "Toolkits", body = Vec<OwTool>), OwListWorkspaceToolsErrors)
)]
#[get("/list")]
pub async fn openwebui_list_workspace_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(toolkit_items(&state, &caller).await?))
}

/// Export tools (Open WebUI)
///
/// Toolkits whole, with their tools as function specs: every toolkit for administrators, the
/// toolkits they may edit for power users. Others are refused (403; Open WebUI answers 401).
#[utoipa::path(
    operation_id = "openwebui_export_tools",
    tag = "Open WebUI Tools",
    responses((status = 200, description = "Toolkits with their tools", body = Vec<OwToolExport>), OwExportToolsErrors)
)]
#[get("/export")]
pub async fn openwebui_export_tools(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, ApiError> {
    if caller.role < Role::PowerUser {
        return Err(DomainError::Forbidden("exporting tools needs the power_user role or above".into()).into());
    }
    let (kits, _) = state.services.toolkits.list(&caller, &ListQuery::default()).await?;
    let mut exported = Vec::new();
    for kit in kits.iter().filter(|k| state.services.toolkits.may_edit(&caller, k)) {
        let contents = state.services.toolkits.contents(&caller, &kit.id).await?;
        let specs = contents
            .tools
            .iter()
            .map(|t| OwSpec {
                name: t.name().to_owned(),
                description: t.description().map(str::to_owned),
                parameters: t.parameters().cloned().unwrap_or_else(|| serde_json::json!({"type": "object"})),
            })
            .collect();
        exported.push(OwToolExport { tool: toolkit_item(&state, &caller, kit).await?, specs });
    }
    Ok(HttpResponse::Ok().json(exported))
}

/// Get a tool (Open WebUI)
#[utoipa::path(
    operation_id = "openwebui_get_tool",
    tag = "Open WebUI Tools",
    params(("id" = String, Path, description = "`server:mcp:{name}`, `server:{name}` or a toolkit's name")),
    responses((status = 200, description = "The tool", body = OwTool), OwGetToolErrors)
)]
#[get("/id/{id}")]
pub async fn openwebui_get_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = match named_server(&state, &caller, &id).await? {
        Some(server) => server_item(&state, &caller, &server).await?,
        None => toolkit_item(&state, &caller, &state.services.toolkits.get(&caller, &id).await?).await?,
    };
    Ok(HttpResponse::Ok().json(item))
}

/// Replace a tool's access grants (Open WebUI)
///
/// Replaces every grant on the tool: `read` is Toolhub's `execute`, `write` its `admin`; one
/// grant per principal (the higher wins); entries Open WebUI would drop are dropped. A toolkit's
/// editors may share it, but a grant to everyone (`user:*`) from a non-administrator is
/// dropped, as Open WebUI drops it without `sharing.public_tools`; a server's grants are an
/// administrator's.
#[utoipa::path(
    operation_id = "openwebui_update_tool_access",
    tag = "Open WebUI Tools",
    params(("id" = String, Path, description = "`server:mcp:{name}`, `server:{name}` or a toolkit's name")),
    request_body = OwAccessUpdate,
    responses((status = 200, description = "The tool with its new grants", body = OwTool), OwUpdateAccessErrors)
)]
#[post("/id/{id}/access/update")]
pub async fn openwebui_update_tool_access(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<String>,
    body: Json<OwAccessUpdate>,
) -> Result<HttpResponse, ApiError> {
    let entries = body.into_inner().access_grants;
    if entries.len() > ACCESS_GRANTS_MAX {
        let message = format!("at most {ACCESS_GRANTS_MAX} grants");
        return Err(ApiError::validation(vec![toolhub_domain::validation::FieldError::new("access_grants", message)]));
    }
    let grants = entries.iter().filter_map(OwAccessGrant::to_domain).collect();
    let item = match named_server(&state, &caller, &id).await? {
        Some(server) => {
            state.services.access.share_server(&caller, &server.id, grants).await?;
            server_item(&state, &caller, &server).await?
        }
        None => {
            let (kit, _) = state.services.toolkits.share(&caller, &id, grants).await?;
            toolkit_item(&state, &caller, &kit).await?
        }
    };
    Ok(HttpResponse::Ok().json(item))
}
