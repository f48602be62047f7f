//! Seed 002's (ChatAI Plugin) tools API at `/api/tools`: the tenant's catalogue as its
//! documented contract shows it, through the same engine, switches and call path as the native
//! API. Its errors come in ChatAI's envelope (see `problem.rs`).

use actix_web::{HttpResponse, get, post, put, web};
use serde_json::Value;
use toolhub_domain::{
    DomainError, ErrorCode, ResourceKind,
    calls::CallFilter,
    query::{ListQuery, Page},
    services::{CatalogueEntry, ToolSelector},
};

use crate::{
    AppState,
    auth::Caller,
    context,
    dto::{
        ChatAiCall, ChatAiCallResponse, ChatAiCallResult, ChatAiCategory, ChatAiCategoryToggleResponse,
        ChatAiCategoryToggled, ChatAiLog, ChatAiLogs, ChatAiLogsQuery, ChatAiLogsResponse, ChatAiToggle, ChatAiTool,
        ChatAiToolDetail, ChatAiToolResponse, ChatAiToolToggleResponse, ChatAiToolToggled, ChatAiTools,
        ChatAiToolsResponse,
    },
    extract::Json,
    problem::ApiError,
};

/// The path every ChatAI operation lives under; its errors take ChatAI's envelope.
pub const PREFIX: &str = "/api/tools";

/// Whether a request path is ChatAI's, so its errors answer in ChatAI's envelope.
pub fn answers(path: &str) -> bool {
    path.strip_prefix(PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

crate::problems! {
    ChatAiListToolsErrors = [] + PROTECTED;
    ChatAiGetToolErrors = [ToolNotFound] + PROTECTED;
    ChatAiToggleToolErrors = [ToolNotFound] + BODY + PROTECTED;
    ChatAiToggleCategoryErrors = [CategoryNotFound] + BODY + PROTECTED;
    ChatAiToolLogsErrors = [ValidationFailed] + PROTECTED;
    ChatAiCallToolErrors = [ToolNotFound, ToolDisabled, InvalidArgs, RateLimited, ExecutionError] + BODY + PROTECTED;
}

/// The catalogue with each tool's ChatAI name: its own where the caller sees one tool of that
/// name, else `<server>__<tool>` (as the MCP gateway names tools).
async fn named_catalogue(
    state: &AppState,
    caller: &toolhub_domain::Principal,
) -> Result<(Vec<(String, CatalogueEntry)>, Vec<toolhub_domain::services::CategoryState>), ApiError> {
    let (entries, categories) = state.services.tools.catalogue(caller).await?;
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for entry in &entries {
        *seen.entry(entry.tool.name.as_str()).or_default() += 1;
    }
    let names: Vec<String> = entries
        .iter()
        .map(|e| match seen[e.tool.name.as_str()] {
            1 => e.tool.name.clone(),
            _ => format!("{}{}{}", e.server_name, crate::mcp_gateway::SEPARATOR, e.tool.name),
        })
        .collect();
    Ok((names.into_iter().zip(entries).collect(), categories))
}

/// The entry a ChatAI name names (or its `<server>__<tool>` name, which always works), or
/// `TOOL_NOT_FOUND`.
async fn entry_named(
    state: &AppState,
    caller: &toolhub_domain::Principal,
    name: &str,
) -> Result<(String, CatalogueEntry), ApiError> {
    let (entries, _) = named_catalogue(state, caller).await?;
    let qualified = |e: &CatalogueEntry| {
        name.strip_prefix(e.server_name.as_str())
            .and_then(|rest| rest.strip_prefix(crate::mcp_gateway::SEPARATOR))
            .is_some_and(|tool| tool == e.tool.name)
    };
    let position =
        entries.iter().position(|(n, _)| n == name).or_else(|| entries.iter().position(|(_, e)| qualified(e)));
    match position {
        Some(at) => Ok(entries.into_iter().nth(at).expect("the position is in the list")),
        None => Err(DomainError::not_found(ResourceKind::Tool, name).into()),
    }
}

/// List tools (ChatAI)
///
/// The tools the caller may read, with their categories (a tool's own, else its server's).
/// Users do not see disabled tools nor the tools of a disabled category; administrators see
/// every tool with `enabled` telling its state.
#[utoipa::path(
    operation_id = "chatai_list_tools",
    tag = "ChatAI Tools",
    responses((status = 200, description = "The tools and categories", body = ChatAiToolsResponse), ChatAiListToolsErrors)
)]
#[get("")]
pub async fn chatai_list_tools(state: web::Data<AppState>, Caller(caller): Caller) -> Result<HttpResponse, ApiError> {
    let (entries, categories) = named_catalogue(&state, &caller).await?;
    let tools = entries
        .into_iter()
        .map(|(name, e)| ChatAiTool { name, description: e.tool.description, category: e.category, enabled: e.enabled })
        .collect();
    let categories = categories.iter().map(|c| (c.name.clone(), ChatAiCategory::from(c))).collect();
    Ok(HttpResponse::Ok().json(ChatAiToolsResponse::from(ChatAiTools { tools, categories })))
}

/// Get tool logs (ChatAI)
///
/// The call log, newest first: administrators read every call of the tenant, others their own.
/// `result` is the call's short account, `duration` in milliseconds, `timestamp` in
/// milliseconds since 1970.
#[utoipa::path(
    operation_id = "chatai_tool_logs",
    tag = "ChatAI Tools",
    params(ChatAiLogsQuery),
    responses((status = 200, description = "A page of calls and the total", body = ChatAiLogsResponse), ChatAiToolLogsErrors)
)]
#[get("/logs")]
pub async fn chatai_tool_logs(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    query: web::Query<ChatAiLogsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (limit, offset) = super::paging(query.limit, query.offset)?;
    let mut filter = CallFilter::default();
    if let Some(tool) = query.tool {
        // A name the caller's list gives picks that tool's server too; any other is a tool name
        // (the log keeps calls of tools since removed).
        match entry_named(&state, &caller, &tool).await {
            Ok((_, entry)) => (filter.server, filter.tool) = (Some(entry.server_name), Some(entry.tool.name)),
            Err(_) => filter.tool = Some(tool),
        }
    }
    let page = ListQuery { page: Some(Page { size: limit as u64, offset: offset as u64 }), ..Default::default() };
    let (records, total) = state.services.calls.history(&caller, filter, &page).await?;
    let logs = records.into_iter().map(ChatAiLog::from).collect();
    Ok(HttpResponse::Ok().json(ChatAiLogsResponse::from(ChatAiLogs { logs, total })))
}

/// Call a tool (ChatAI debug call)
///
/// Calls the tool through the same path as every call (access, quota, argument check,
/// deadline, call log), so it shows in `/api/tools/logs`. A tool's own error, or an upstream
/// that fails or does not answer, is `EXECUTION_ERROR`.
#[utoipa::path(
    operation_id = "chatai_call_tool",
    tag = "ChatAI Tools",
    request_body = ChatAiCall,
    responses((status = 200, description = "The result and the duration in milliseconds", body = ChatAiCallResponse), ChatAiCallToolErrors)
)]
#[post("/call")]
pub async fn chatai_call_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<ChatAiCall>,
) -> Result<HttpResponse, ApiError> {
    let ChatAiCall { name, args } = body.into_inner();
    // A tool the caller's list does not show (disabled, or in a disabled category) is still
    // named for the call path, which tells those allowed to call it that it is disabled.
    let listed = entry_named(&state, &caller, &name).await.ok().map(|(_, entry)| entry.tool.id);
    let selector = match (&listed, name.split_once(crate::mcp_gateway::SEPARATOR)) {
        (Some(id), _) => ToolSelector::Id(id),
        (None, Some((server, tool))) => ToolSelector::Name { server: Some(server), tool },
        (None, None) => ToolSelector::Name { server: None, tool: &name },
    };
    let correlation = context::current().map(|c| c.correlation_id);
    let outcome = state.services.calls.call(&caller, selector, args, correlation).await.map_err(|e| match e {
        DomainError::Upstream(failure) => ApiError::new(ErrorCode::ExecutionError, failure.to_string()),
        other => other.into(),
    })?;
    if outcome.is_error {
        return Err(ApiError::new(ErrorCode::ExecutionError, error_text(&outcome.result)));
    }
    let result = match outcome.result.get("structuredContent") {
        Some(structured) if !structured.is_null() => structured.clone(),
        _ => outcome.result,
    };
    Ok(HttpResponse::Ok().json(ChatAiCallResponse::from(ChatAiCallResult { result, duration: outcome.duration_ms })))
}

/// The text of a tool's error result (its text contents), cut like any echoed text.
fn error_text(result: &Value) -> String {
    let texts: Vec<&str> =
        result["content"].as_array().into_iter().flatten().filter_map(|c| c["text"].as_str()).collect();
    match texts.is_empty() {
        true => "the tool reported an error".to_owned(),
        false => crate::problem::echo(&texts.join("\n")),
    }
}

/// Toggle a category (ChatAI)
///
/// Administrators only. A disabled category disables its tools: users no longer see them and
/// calls are refused with `TOOL_DISABLED`; each tool's own switch is kept.
#[utoipa::path(
    operation_id = "chatai_toggle_category",
    tag = "ChatAI Tools",
    params(("category" = String, Path, description = "The category, as tools name it")),
    request_body = ChatAiToggle,
    responses((status = 200, description = "The category's new state", body = ChatAiCategoryToggleResponse), ChatAiToggleCategoryErrors)
)]
#[put("/category/{category}/toggle")]
pub async fn chatai_toggle_category(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    category: web::Path<String>,
    body: Json<ChatAiToggle>,
) -> Result<HttpResponse, ApiError> {
    let switch = state.services.access.set_category_enabled(&caller, &category, body.into_inner().enabled).await?;
    let toggled = ChatAiCategoryToggled {
        name: toolhub_domain::tool::display_name_for(&switch.name),
        category: switch.name,
        enabled: switch.enabled,
    };
    Ok(HttpResponse::Ok().json(ChatAiCategoryToggleResponse::from(toggled)))
}

/// Get a tool (ChatAI)
#[utoipa::path(
    operation_id = "chatai_get_tool",
    tag = "ChatAI Tools",
    params(("name" = String, Path, description = "The tool, as the list names it")),
    responses((status = 200, description = "The tool with its input schema", body = ChatAiToolResponse), ChatAiGetToolErrors)
)]
#[get("/{name}")]
pub async fn chatai_get_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (name, entry) = entry_named(&state, &caller, &name).await?;
    let detail = ChatAiToolDetail {
        name,
        description: entry.tool.description,
        category: entry.category,
        enabled: entry.enabled,
        input_schema: entry.tool.args_schema.unwrap_or_else(|| serde_json::json!({"type": "object"})),
    };
    Ok(HttpResponse::Ok().json(ChatAiToolResponse::from(detail)))
}

/// Toggle a tool (ChatAI)
///
/// Needs the admin role or `admin` access to the tool's server, as enabling a tool does.
#[utoipa::path(
    operation_id = "chatai_toggle_tool",
    tag = "ChatAI Tools",
    params(("name" = String, Path, description = "The tool, as the list names it")),
    request_body = ChatAiToggle,
    responses((status = 200, description = "The tool's new switch", body = ChatAiToolToggleResponse), ChatAiToggleToolErrors)
)]
#[put("/{name}/toggle")]
pub async fn chatai_toggle_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    name: web::Path<String>,
    body: Json<ChatAiToggle>,
) -> Result<HttpResponse, ApiError> {
    let enabled = body.into_inner().enabled;
    let (name, entry) = entry_named(&state, &caller, &name).await?;
    state.services.tools.set_tool_enabled(&caller, &entry.tool.id, enabled).await?;
    Ok(HttpResponse::Ok().json(ChatAiToolToggleResponse::from(ChatAiToolToggled { name, enabled })))
}
