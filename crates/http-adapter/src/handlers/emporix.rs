//! Seed 003's (Emporix AI Service) agentic tools API at `/ai-service/{tenant}/agentic/tools`:
//! tools are tool servers (see `dto/emporix.rs`), listed and searched with the same query
//! grammar as native lists, written by upsert with optimistic locking, patched by operations,
//! deleted with `force` when toolkits use them. Errors are problem+json (docs/compatibility.md).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use serde_json::{Value, json};
use toolhub_domain::{
    DomainError, ErrorCode, Principal, ResourceKind, Role,
    server::{ServerFilter, ServerStatus, ToolServer},
    validation::FieldError,
};
use utoipa::IntoParams;

use crate::{
    AppState,
    auth::Caller,
    dto::{
        EMPORIX_TOOL_FIELDS, EmporixCreated, EmporixPatchOperation, EmporixTool, EmporixToolInput, ItemFields,
        ListParams, SearchBody, TotalCountHeader, serialized,
    },
    extract::{Json, JsonList},
    problem::ApiError,
};

crate::problems! {
    EmporixListToolsErrors = [TenantNotFound, InvalidQuery, ValidationFailed] + PROTECTED;
    EmporixSearchToolsErrors = [TenantNotFound, InvalidQuery] + BODY + PROTECTED;
    EmporixGetToolErrors = [TenantNotFound, ServerNotFound, InvalidQuery, ValidationFailed] + PROTECTED;
    EmporixUpsertToolErrors = [TenantNotFound, ServerNotFound, VersionMismatch, Conflict, InvalidSpec] + UPSTREAM + BODY + PROTECTED;
    EmporixPatchToolErrors = [TenantNotFound, ServerNotFound, Conflict, InvalidSpec] + UPSTREAM + BODY + PROTECTED;
    EmporixDeleteToolErrors = [TenantNotFound, ServerNotFound, Conflict, ValidationFailed] + PROTECTED;
}

/// Operations one PATCH may carry.
pub const PATCH_OPERATIONS_MAX: usize = 100;

/// `force`: delete a tool toolkits use (it leaves them), or disable one they use.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForceParam {
    /// Go ahead although toolkits use the tool.
    pub force: Option<bool>,
}

/// `fields` of one tool.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsParam {
    /// Comma-separated names of the fields to return (`id` always comes).
    #[param(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub fields: Option<String>,
}

/// The principal acting in the path's tenant: the caller in its own tenant (named in lower
/// case, as Emporix tenants are); a super administrator in any. Another tenant is answered
/// as one that does not exist.
fn acting_in(caller: Principal, tenant: &str) -> Result<Principal, ApiError> {
    if caller.tenant.to_ascii_lowercase() == tenant {
        return Ok(caller);
    }
    if caller.role == Role::SuperAdmin {
        return Ok(Principal { tenant: tenant.to_owned(), ..caller });
    }
    Err(DomainError::not_found(ResourceKind::Tenant, tenant).into())
}

/// The tool (server) of this name the actor may see.
async fn find(state: &AppState, actor: &Principal, id: &str) -> Result<Option<ToolServer>, ApiError> {
    Ok(state.services.servers.find_by_name(actor, id).await?)
}

async fn require(state: &AppState, actor: &Principal, id: &str) -> Result<ToolServer, ApiError> {
    find(state, actor, id).await?.ok_or_else(|| DomainError::not_found(ResourceKind::ToolServer, id).into())
}

fn tools_path(tenant: &str) -> String {
    format!("/ai-service/{tenant}/agentic/tools")
}

async fn list(
    state: &AppState,
    request: &HttpRequest,
    caller: Principal,
    tenant: &str,
    params: &ListParams,
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let actor = acting_in(caller, tenant)?;
    let shaped = params.shape(EMPORIX_TOOL_FIELDS, &ItemFields::of::<EmporixTool>(), q)?;
    let views = state.services.servers.list(&actor, ServerFilter::all()).await?;
    let tools: Vec<EmporixTool> = views.iter().map(|v| EmporixTool::from(&v.server)).collect();
    let (page, total) = shaped.query.apply(tools);
    Ok(shaped.answer(request, serialized(page.iter())?, total))
}

/// List tools (Emporix)
///
/// The tenant's tools (tool servers) the caller may see, as a bare array: `q`, `sort`,
/// `pageSize`, `pageNumber`, `fields` and `X-Total-Count` as on native lists, over the fields
/// `id`, `name`, `type`, `enabled`, `metadata.version`, `metadata.createdAt`,
/// `metadata.modifiedAt`. Emporix's `ai.agent_read`.
#[utoipa::path(
    operation_id = "emporix_list_tools",
    tag = "Emporix Agentic Tools",
    params(("tenant" = String, Path, description = "The caller's tenant, in lower case"), ListParams, TotalCountHeader),
    responses((status = 200, description = "The tools", body = Vec<EmporixTool>), EmporixListToolsErrors)
)]
#[get("/{tenant}/agentic/tools")]
pub async fn emporix_list_tools(
    state: web::Data<AppState>,
    request: HttpRequest,
    Caller(caller): Caller,
    tenant: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    list(&state, &request, caller, &tenant, &params, None).await
}

/// Search tools (Emporix)
///
/// As the list, with `q` in the body (`{"q": "name:~Complaint"}`).
#[utoipa::path(
    operation_id = "emporix_search_tools",
    tag = "Emporix Agentic Tools",
    params(("tenant" = String, Path, description = "The caller's tenant, in lower case"), ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses((status = 200, description = "The tools", body = Vec<EmporixTool>), EmporixSearchToolsErrors)
)]
#[post("/{tenant}/agentic/tools/search")]
pub async fn emporix_search_tools(
    state: web::Data<AppState>,
    request: HttpRequest,
    Caller(caller): Caller,
    tenant: web::Path<String>,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    list(&state, &request, caller, &tenant, &params, body.0.filter()).await
}

/// Get a tool (Emporix)
#[utoipa::path(
    operation_id = "emporix_get_tool",
    tag = "Emporix Agentic Tools",
    params(
        ("tenant" = String, Path, description = "The caller's tenant, in lower case"),
        ("tool_id" = String, Path, description = "The tool's id (its server's name)"),
        FieldsParam,
    ),
    responses((status = 200, description = "The tool", body = EmporixTool), EmporixGetToolErrors)
)]
#[get("/{tenant}/agentic/tools/{tool_id}")]
pub async fn emporix_get_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    params: web::Query<FieldsParam>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    let actor = acting_in(caller, &tenant)?;
    let params = ListParams { fields: params.into_inner().fields, ..Default::default() };
    let shaped = params.shape(EMPORIX_TOOL_FIELDS, &ItemFields::of::<EmporixTool>(), None)?;
    let tool = EmporixTool::from(&require(&state, &actor, &id).await?);
    let item = shaped.project(serialized(std::iter::once(tool))?).pop().unwrap_or_default();
    Ok(HttpResponse::Ok().json(item))
}

/// Refuses to take a tool from the toolkits that use it unless `force`.
async fn unless_used(state: &AppState, server: &ToolServer, force: bool, doing: &str) -> Result<(), ApiError> {
    let users = state.services.toolkits.using_server(&server.tenant, &server.id).await?;
    if force || users.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        format!("the toolkits {} use '{}'; {doing} with force=true", users.join(", "), server.name),
    ))
}

/// Replaces a tool with `input` (its enabled state included).
async fn replace(
    state: &AppState,
    actor: &Principal,
    current: &ToolServer,
    input: EmporixToolInput,
    force: bool,
) -> Result<(), ApiError> {
    let enabled = input.enabled;
    let running = current.status == ServerStatus::Enabled;
    if running && !enabled {
        unless_used(state, current, force, "disable it").await?;
    }
    let patch = input.into_replacement(current)?;
    state.services.servers.update(actor, &current.id, patch).await?;
    match (running, enabled) {
        (false, true) => state.services.lifecycle.enable(actor, &current.id).await.map(drop)?,
        (true, false) => state.services.lifecycle.disable(actor, &current.id).await.map(drop)?,
        _ => {}
    }
    Ok(())
}

/// Create or replace a tool (Emporix upsert)
///
/// Creates the tool when no tool has this id (201 with `{id}`; administrators only) and
/// replaces it whole otherwise (204; needs `admin` on it). `metadata.version`, when sent, must
/// be the stored one (else 409). Secret values left out are kept. `enabled: false` on a tool
/// toolkits use needs `force=true`. Emporix's `ai.agent_manage`.
#[utoipa::path(
    operation_id = "emporix_upsert_tool",
    tag = "Emporix Agentic Tools",
    params(
        ("tenant" = String, Path, description = "The caller's tenant, in lower case"),
        ("tool_id" = String, Path, description = "The tool's id (its server's name)"),
        ForceParam,
    ),
    request_body = EmporixToolInput,
    responses(
        (status = 201, description = "Created", body = EmporixCreated),
        (status = 204, description = "Replaced"),
        EmporixUpsertToolErrors,
    )
)]
#[put("/{tenant}/agentic/tools/{tool_id}")]
pub async fn emporix_upsert_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    force: web::Query<ForceParam>,
    body: Json<EmporixToolInput>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    let actor = acting_in(caller, &tenant)?;
    let input = body.into_inner();
    match find(&state, &actor, &id).await? {
        Some(current) => {
            replace(&state, &actor, &current, input, force.force.unwrap_or(false)).await?;
            Ok(HttpResponse::NoContent().finish())
        }
        None => {
            let new = input.into_new_server(&id)?;
            let view = state.services.servers.create(&actor, new).await?;
            let location = format!("{}/{}", tools_path(&tenant), view.server.name);
            Ok(HttpResponse::Created()
                .insert_header(("Location", location))
                .json(EmporixCreated { id: view.server.name }))
        }
    }
}

/// Patch a tool (Emporix)
///
/// Applies `[{op, path, value}]` in order to the tool as `GET` shows it (`ADD` appends to a
/// list or sets, `REMOVE` takes a value from a list or the field, `REPLACE` sets; any case),
/// then replaces it with the result. Paths start with `/name`, `/type`, `/enabled` or
/// `/config`. 204.
#[utoipa::path(
    operation_id = "emporix_patch_tool",
    tag = "Emporix Agentic Tools",
    params(
        ("tenant" = String, Path, description = "The caller's tenant, in lower case"),
        ("tool_id" = String, Path, description = "The tool's id (its server's name)"),
        ForceParam,
    ),
    request_body(content = Vec<EmporixPatchOperation>, description = "The operations, applied in order (at most 100)"),
    responses((status = 204, description = "Patched"), EmporixPatchToolErrors)
)]
#[patch("/{tenant}/agentic/tools/{tool_id}")]
pub async fn emporix_patch_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    force: web::Query<ForceParam>,
    body: JsonList<EmporixPatchOperation>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    let actor = acting_in(caller, &tenant)?;
    let operations = body.0;
    if operations.len() > PATCH_OPERATIONS_MAX {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            format!("at most {PATCH_OPERATIONS_MAX} operations"),
        )]));
    }
    let current = require(&state, &actor, &id).await?;
    state.services.access.require_manage(&actor, &current)?;
    let mut document = serde_json::to_value(EmporixTool::from(&current)).unwrap_or_default();
    if let Value::Object(fields) = &mut document {
        fields.remove("id");
        fields.remove("metadata");
    }
    // Empty lists and maps are left out of answers; here they are there, so ADD appends.
    if let Value::Object(config) = &mut document["config"] {
        for list in ["args", "tags", "secretEnv", "secretHeaders"] {
            config.entry(list).or_insert_with(|| json!([]));
        }
        for map in ["env", "headers"] {
            config.entry(map).or_insert_with(|| json!({}));
        }
    }
    for (index, operation) in operations.iter().enumerate() {
        apply(&mut document, operation)
            .map_err(|message| ApiError::validation(vec![FieldError::new(format!("[{index}]"), message)]))?;
    }
    let input: EmporixToolInput = serde_json::from_value(document)
        .map_err(|e| ApiError::validation(vec![FieldError::new("body", crate::problem::echo(&e.to_string()))]))?;
    replace(&state, &actor, &current, input, force.force.unwrap_or(false)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Path segments a PATCH may reach at most.
const PATCH_DEPTH_MAX: usize = 8;

/// Applies one operation to the tool's document.
fn apply(document: &mut Value, operation: &EmporixPatchOperation) -> Result<(), String> {
    let segments: Vec<String> = operation
        .path
        .strip_prefix('/')
        .ok_or("a path starts with '/'")?
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    if segments.len() > PATCH_DEPTH_MAX || !["name", "type", "enabled", "config"].contains(&segments[0].as_str()) {
        return Err(format!("'{}' cannot be patched", crate::problem::echo(&operation.path)));
    }
    let (last, parents) = segments.split_last().ok_or("an empty path")?;
    let mut target = document;
    for segment in parents {
        let Value::Object(fields) = target else { return Err(format!("'{segment}' is not an object")) };
        target = fields.entry(segment.clone()).or_insert_with(|| json!({}));
    }
    let Value::Object(fields) = target else { return Err("the path's parent is not an object".into()) };
    let value = || operation.value.clone().ok_or_else(|| format!("{} needs a value", operation.op));
    match operation.op.to_ascii_uppercase().as_str() {
        "REPLACE" => {
            fields.insert(last.clone(), value()?);
        }
        "ADD" => match fields.get_mut(last) {
            Some(Value::Array(items)) => items.push(value()?),
            _ => {
                fields.insert(last.clone(), value()?);
            }
        },
        "REMOVE" => match (fields.get_mut(last), &operation.value) {
            (Some(Value::Array(items)), Some(value)) => items.retain(|item| item != value),
            _ => {
                fields.remove(last);
            }
        },
        _ => return Err("op is ADD, REMOVE or REPLACE".into()),
    }
    Ok(())
}

/// Delete a tool (Emporix)
///
/// Refused (409) while toolkits use the tool, unless `force=true`, which takes it from them.
#[utoipa::path(
    operation_id = "emporix_delete_tool",
    tag = "Emporix Agentic Tools",
    params(
        ("tenant" = String, Path, description = "The caller's tenant, in lower case"),
        ("tool_id" = String, Path, description = "The tool's id (its server's name)"),
        ForceParam,
    ),
    responses((status = 204, description = "Deleted"), EmporixDeleteToolErrors)
)]
#[delete("/{tenant}/agentic/tools/{tool_id}")]
pub async fn emporix_delete_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(String, String)>,
    force: web::Query<ForceParam>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = path.into_inner();
    let actor = acting_in(caller, &tenant)?;
    let current = require(&state, &actor, &id).await?;
    state.services.access.require_manage(&actor, &current)?;
    unless_used(&state, &current, force.force.unwrap_or(false), "delete it").await?;
    state.services.servers.delete(&actor, &current.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
