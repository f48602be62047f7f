//! Between rmcp's protocol types and the domain's.

use std::{sync::Arc, time::Duration};

use rmcp::{
    RoleClient,
    model::{
        CallToolRequestParams, CallToolResult, ClientRequest, CompleteRequest, CompleteRequestParams,
        GetPromptRequestParams, ListToolsRequest, PaginatedRequestParams, PingRequest, ReadResourceRequestParams,
        ServerResult, Tool,
    },
    service::{Peer, ServiceError},
};
use serde_json::{Map, Value, json};
use toolhub_domain::upstream::{DiscoveredTool, LogLevel, Offering, ProgressSink, ToolCallOutcome, UpstreamError};

use crate::progress::ProgressRoutes;

pub fn discovered(tool: Tool) -> DiscoveredTool {
    DiscoveredTool {
        name: tool.name.into_owned(),
        title: tool.title.or_else(|| tool.annotations.as_ref().and_then(|a| a.title.clone())),
        description: tool.description.map(|d| d.into_owned()),
        input_schema: Value::Object((*tool.input_schema).clone()),
        output_schema: tool.output_schema.map(|s| Value::Object((*s).clone())),
        annotations: tool.annotations.and_then(|a| serde_json::to_value(a).ok()),
    }
}

fn service_error(e: ServiceError) -> UpstreamError {
    match e {
        ServiceError::McpError(data) => UpstreamError::Protocol(data.message.to_string()),
        ServiceError::Timeout { timeout } => UpstreamError::Timeout(timeout),
        other => UpstreamError::Unavailable(other.to_string()),
    }
}

/// `work` within `timeout`.
pub async fn timed<T>(
    timeout: Duration,
    work: impl Future<Output = Result<T, UpstreamError>>,
) -> Result<T, UpstreamError> {
    tokio::time::timeout(timeout, work).await.map_err(|_| UpstreamError::Timeout(timeout))?
}

pub async fn within<T>(
    timeout: Duration,
    work: impl Future<Output = Result<T, ServiceError>>,
) -> Result<T, UpstreamError> {
    tokio::time::timeout(timeout, work).await.map_err(|_| UpstreamError::Timeout(timeout))?.map_err(service_error)
}

/// Lists every page of tools from the server itself (not rmcp's response cache), so a refresh
/// sees what the server offers now.
pub async fn fetch_tools(peer: &Peer<RoleClient>, timeout: Duration) -> Result<Vec<DiscoveredTool>, UpstreamError> {
    let mut tools = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let params = cursor.take().map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
        let request = ClientRequest::ListToolsRequest(ListToolsRequest {
            method: Default::default(),
            params,
            extensions: Default::default(),
        });
        match within(timeout, peer.send_request(request)).await? {
            ServerResult::ListToolsResult(page) => {
                tools.extend(page.tools.into_iter().map(discovered));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return Ok(tools),
                }
            }
            _ => return Err(UpstreamError::Protocol("unexpected answer to tools/list".into())),
        }
    }
    Err(UpstreamError::Protocol("tools/list paged more than 100 times".into()))
}

pub async fn ping(peer: &Peer<RoleClient>, timeout: Duration) -> Result<(), UpstreamError> {
    let request = PingRequest { method: Default::default(), extensions: Default::default() }.into();
    within(timeout, peer.send_request(request)).await.map(|_| ())
}

/// Calls a tool; dropping the call on timeout cancels it upstream.
pub async fn call(
    peer: &Peer<RoleClient>,
    tool: &str,
    arguments: Option<Map<String, Value>>,
    timeout: Duration,
) -> Result<ToolCallOutcome, UpstreamError> {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.arguments = arguments;
    let result = within(timeout, peer.call_tool(params)).await?;
    Ok(outcome(&result))
}

/// As [`call`], passing the server's progress reports on this call to `sink`. rmcp gives every
/// request a progress token of its own; the reports under it are routed to `sink` while the
/// call lasts. A call given up (deadline, or the caller dropping it) tells the server.
pub async fn call_reporting(
    peer: &Peer<RoleClient>,
    tool: &str,
    arguments: Option<Map<String, Value>>,
    timeout: Duration,
    routes: &Arc<ProgressRoutes>,
    sink: ProgressSink,
) -> Result<ToolCallOutcome, UpstreamError> {
    use rmcp::{
        model::{CallToolRequest, ServerResult},
        service::PeerRequestOptions,
    };
    let mut params = CallToolRequestParams::new(tool.to_owned());
    params.arguments = arguments;
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    let handle =
        peer.send_request_with_option(request, PeerRequestOptions::no_options()).await.map_err(service_error)?;
    let _route = routes.route(handle.progress_token.0.to_string(), sink);
    let mut abandoned = CancelOnDrop { peer: peer.clone(), request: Some(handle.id.clone()) };
    let answer = within(timeout, handle.await_response()).await;
    if !matches!(answer, Err(UpstreamError::Timeout(_))) {
        abandoned.request = None;
    }
    match answer? {
        ServerResult::CallToolResult(result) => Ok(outcome(&result)),
        _ => Err(UpstreamError::Protocol("the server answered tools/call with another result".into())),
    }
}

/// Tells the server a request was given up, unless disarmed (`request` taken) first.
struct CancelOnDrop {
    peer: Peer<RoleClient>,
    request: Option<rmcp::model::RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.request.take() {
            let peer = self.peer.clone();
            let notice = rmcp::model::CancelledNotificationParam::new(Some(id), Some("the caller gave up".into()));
            tokio::spawn(async move {
                let _ = peer.notify_cancelled(notice).await;
            });
        }
    }
}

pub fn outcome(result: &CallToolResult) -> ToolCallOutcome {
    let is_error = result.is_error.unwrap_or(false);
    ToolCallOutcome { result: serde_json::to_value(result).unwrap_or_else(|_| json!({})), is_error }
}

/// What the server offers of `kind` (every page), as JSON; nothing when its capabilities do
/// not announce that kind.
pub async fn offerings(
    peer: &Peer<RoleClient>,
    kind: Offering,
    timeout: Duration,
) -> Result<Vec<Value>, UpstreamError> {
    let capabilities = peer.peer_info().map(|info| info.capabilities.clone()).unwrap_or_default();
    match kind {
        Offering::Resources if capabilities.resources.is_some() => {
            let items = within(timeout, peer.list_all_resources()).await?;
            Ok(items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect())
        }
        Offering::ResourceTemplates if capabilities.resources.is_some() => {
            let items = within(timeout, peer.list_all_resource_templates()).await?;
            Ok(items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect())
        }
        Offering::Prompts if capabilities.prompts.is_some() => {
            let items = within(timeout, peer.list_all_prompts()).await?;
            Ok(items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect())
        }
        _ => Ok(Vec::new()),
    }
}

pub async fn read_resource(peer: &Peer<RoleClient>, uri: &str, timeout: Duration) -> Result<Value, UpstreamError> {
    let result = within(timeout, peer.read_resource(ReadResourceRequestParams::new(uri.to_owned()))).await?;
    serde_json::to_value(result).map_err(|e| UpstreamError::Protocol(e.to_string()))
}

pub async fn get_prompt(
    peer: &Peer<RoleClient>,
    name: &str,
    arguments: Option<Map<String, Value>>,
    timeout: Duration,
) -> Result<Value, UpstreamError> {
    let mut params = GetPromptRequestParams::new(name.to_owned());
    params.arguments = arguments;
    let result = within(timeout, peer.get_prompt(params)).await?;
    serde_json::to_value(result).map_err(|e| UpstreamError::Protocol(e.to_string()))
}

/// Completes an argument; an empty completion when the server announces no completions.
pub async fn complete(peer: &Peer<RoleClient>, params: Value, timeout: Duration) -> Result<Value, UpstreamError> {
    let supported = peer.peer_info().is_some_and(|info| info.capabilities.completions.is_some());
    if !supported {
        return Ok(json!({"completion": {"values": []}}));
    }
    let params: CompleteRequestParams =
        serde_json::from_value(params).map_err(|e| UpstreamError::Protocol(format!("bad completion request: {e}")))?;
    let request = ClientRequest::CompleteRequest(CompleteRequest::new(params));
    match within(timeout, peer.send_request(request)).await? {
        ServerResult::CompleteResult(result) => {
            serde_json::to_value(result).map_err(|e| UpstreamError::Protocol(e.to_string()))
        }
        _ => Err(UpstreamError::Protocol("unexpected answer to completion/complete".into())),
    }
}

// rmcp marks MCP logging deprecated (SEP-2577 drops it after protocol 2025-11-25); servers and
// clients of the versions before still use it, so Toolhub relays it.

/// A server's log level as the domain names it.
#[allow(deprecated)]
pub fn log_level_of(level: rmcp::model::LoggingLevel) -> LogLevel {
    use rmcp::model::LoggingLevel as L;
    match level {
        L::Debug => LogLevel::Debug,
        L::Info => LogLevel::Info,
        L::Notice => LogLevel::Notice,
        L::Warning => LogLevel::Warning,
        L::Error => LogLevel::Error,
        L::Critical => LogLevel::Critical,
        L::Alert => LogLevel::Alert,
        L::Emergency => LogLevel::Emergency,
    }
}

/// The domain's log level as MCP names it.
#[allow(deprecated)]
pub fn logging_level(level: LogLevel) -> rmcp::model::LoggingLevel {
    use rmcp::model::LoggingLevel as L;
    match level {
        LogLevel::Debug => L::Debug,
        LogLevel::Info => L::Info,
        LogLevel::Notice => L::Notice,
        LogLevel::Warning => L::Warning,
        LogLevel::Error => L::Error,
        LogLevel::Critical => L::Critical,
        LogLevel::Alert => L::Alert,
        LogLevel::Emergency => L::Emergency,
    }
}

/// Asks a server for its log messages at `level` and above (`None`: as few as it sends, its
/// `emergency`), if it offers logging at all; a server that refuses is left as it is.
#[allow(deprecated)]
pub async fn ask_log_level(peer: &Peer<RoleClient>, level: Option<LogLevel>, timeout: Duration) {
    if peer.peer_info().is_none_or(|info| info.capabilities.logging.is_none()) {
        return;
    }
    let params = rmcp::model::SetLevelRequestParams::new(logging_level(level.unwrap_or(LogLevel::Emergency)));
    if let Err(error) = within(timeout, peer.set_level(params)).await {
        tracing::debug!(%error, "the server did not take the log level");
    }
}
