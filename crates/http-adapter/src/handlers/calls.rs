//! Calling tools, the call log, server metrics and the Prometheus exposition.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::{Value, json};
use toolhub_domain::{query::Page, services::ToolSelector, validation::FieldError};

use crate::{
    AppState,
    auth::Caller,
    context,
    dto::{
        CallLogPage, CallRecordResponse, CallsQuery, ItemFields, ListParams, NamedToolCallRequest, SearchBody,
        ToolCallRequest, ToolServerMetrics, TotalCountHeader, serialized,
    },
    extract::Json,
    problem::{ApiError, quota_headers},
};

crate::problems! {
    CallToolErrors = [ToolNotFound, ToolDisabled, InvalidArgs, RateLimited] + UPSTREAM + BODY + PROTECTED;
    CallToolByNameErrors = [ToolNotFound, ToolDisabled, InvalidArgs, RateLimited] + UPSTREAM + BODY + PROTECTED;
    SearchToolCallsErrors = [InvalidQuery] + BODY + PROTECTED;
    ListToolCallsErrors = [ValidationFailed, InvalidQuery] + PROTECTED;
    GetServerMetricsErrors = [ServerNotFound] + PROTECTED;
    PrometheusMetricsErrors = [] + PROTECTED;
}

async fn call(
    state: &AppState,
    caller: &toolhub_domain::Principal,
    selector: ToolSelector<'_>,
    arguments: Option<serde_json::Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let correlation = context::current().map(|c| c.correlation_id);
    let outcome = state.services.calls.call(caller, selector, arguments, correlation).await?;
    Ok(answer(outcome))
}

/// A call's answer: the MCP result plus `duration_ms`, with the quota headers.
pub(crate) fn answer(outcome: toolhub_domain::services::CallOutcome) -> HttpResponse {
    let mut body = match outcome.result {
        Value::Object(map) => map,
        other => serde_json::Map::from_iter([("result".to_owned(), other)]),
    };
    body.insert("duration_ms".into(), serde_json::json!(outcome.duration_ms));
    let mut response = HttpResponse::Ok();
    for (name, value) in quota_headers(&outcome.quota) {
        response.insert_header((name, value));
    }
    response.json(body)
}

/// Call a tool
///
/// Calls a tool through the access engine (execute level), its quota, the argument check against
/// its JSON Schema and the server's deadline. The answer is the upstream's MCP result
/// (`content`, `isError`, ...) plus `duration_ms`; a tool's own error is a 200 with `isError`.
#[utoipa::path(
    operation_id = "call_tool_api_v1_toolservers_tools_tool_id_call_post",
    tag = "Tool Servers",
    params(("tool_id" = String, Path, description = "Tool ID")),
    request_body = ToolCallRequest,
    responses(
        (status = 200, description = "The tool's result and `duration_ms`; `X-Tool-Quota-Remaining-Hour|Day` when limited", body = Object),
        CallToolErrors,
    )
)]
#[post("/tools/{tool_id}/call")]
pub async fn call_tool(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    tool_id: web::Path<String>,
    body: Json<ToolCallRequest>,
) -> Result<HttpResponse, ApiError> {
    call(&state, &caller, ToolSelector::Id(&tool_id), body.into_inner().arguments).await
}

/// Call a tool by name
///
/// As `call_tool`, naming the server and the tool.
#[utoipa::path(
    operation_id = "call_tool_by_name_api_v1_toolservers_call_post",
    tag = "Tool Servers",
    request_body = NamedToolCallRequest,
    responses(
        (status = 200, description = "The tool's result and `duration_ms`", body = Object),
        CallToolByNameErrors,
    )
)]
#[post("/call")]
pub async fn call_tool_by_name(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Json<NamedToolCallRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    call(&state, &caller, ToolSelector::Name { server: Some(&body.server_name), tool: &body.tool_name }, body.arguments)
        .await
}

/// List tool calls
///
/// The call log, newest first: administrators see the tenant's calls, others their own. Takes
/// the list query parameters (`q`, `sort`, `pageSize` and `pageNumber` instead of `limit` and
/// `offset`, `fields` for the items; `X-Total-Count: true`).
#[utoipa::path(
    operation_id = "list_tool_calls_api_v1_toolservers_calls_get",
    tag = "Tool Servers",
    params(CallsQuery, ListParams, TotalCountHeader),
    responses((status = 200, description = "A page of calls", body = CallLogPage, headers(("X-Total-Count" = u64, description = "How many calls passed the filter (when asked for)"))), ListToolCallsErrors)
)]
#[get("/calls")]
pub async fn list_tool_calls(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<CallsQuery>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    call_list(&request, &state, &caller, (&filter, &params), None).await
}

/// Search tool calls
///
/// As List tool calls, with the filter in the body.
#[utoipa::path(
    operation_id = "search_tool_calls_api_v1_toolservers_calls_search_post",
    tag = "Tool Servers",
    params(CallsQuery, ListParams, TotalCountHeader),
    request_body = SearchBody,
    responses((status = 200, description = "A page of calls", body = CallLogPage, headers(("X-Total-Count" = u64, description = "How many calls passed the filter (when asked for)"))), SearchToolCallsErrors)
)]
#[post("/calls/search")]
pub async fn search_tool_calls(
    request: HttpRequest,
    state: web::Data<AppState>,
    Caller(caller): Caller,
    filter: web::Query<CallsQuery>,
    params: web::Query<ListParams>,
    body: Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    call_list(&request, &state, &caller, (&filter, &params), body.0.filter()).await
}

async fn call_list(
    request: &HttpRequest,
    state: &AppState,
    caller: &toolhub_domain::Principal,
    (filter, params): (&CallsQuery, &ListParams),
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = super::paging(filter.limit, filter.offset)?;
    let call_filter = filter.filter().map_err(|e| ApiError::validation(vec![FieldError::new("status", e)]))?;
    let mut shaped = params.shape(toolhub_domain::calls::CALL_FIELDS, &ItemFields::of::<CallRecordResponse>(), q)?;
    // `limit` and `offset` page unless `pageSize` or `pageNumber` does.
    let page = *shaped.query.page.get_or_insert(Page { size: limit as u64, offset: offset as u64 });
    let (items, total) = state.services.calls.history(caller, call_filter, &shaped.query).await?;
    let items = shaped.project(serialized(items.into_iter().map(CallRecordResponse::from))?);
    let page_body = json!({"items": items, "total": total, "limit": page.size, "offset": page.offset});
    Ok(shaped.respond(request, &page_body, total))
}

/// Get Server Metrics
///
/// Calls, errors, success rate (1.0 with no calls), average latency and last activity from the
/// tools' counters, and the share (0-1) of time the server was connected since this Toolhub
/// first started it.
#[utoipa::path(
    operation_id = "get_server_metrics_api_v1_toolservers_servers_server_id_metrics_get",
    tag = "Tool Servers",
    params(("server_id" = String, Path, description = "Server ID")),
    responses((status = 200, description = "The figures", body = ToolServerMetrics), GetServerMetricsErrors)
)]
#[get("/servers/{server_id}/metrics")]
pub async fn get_server_metrics(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    server_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ToolServerMetrics::from(state.services.stats.server_stats(&caller, &server_id).await?)))
}

/// Prometheus metrics
///
/// The text exposition format (administrators).
#[utoipa::path(
    operation_id = "prometheus_metrics",
    tag = "Health",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"), PrometheusMetricsErrors)
)]
#[get("/metrics")]
pub async fn prometheus_metrics(state: web::Data<AppState>, Caller(caller): Caller) -> Result<HttpResponse, ApiError> {
    // The exposition covers every tenant's servers and traffic: the operator's alone.
    if caller.role != toolhub_domain::Role::SuperAdmin {
        return Err(toolhub_domain::DomainError::Forbidden("only super administrators may read metrics".into()).into());
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render()))
}
