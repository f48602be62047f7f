//! The upstream port: how the domain reaches tool servers (MCP over stdio or HTTP, built-in
//! tools) without knowing the transports, and how supervised connections report back.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::{error::ErrorCode, server::ToolServer};

/// A tool as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredTool {
    /// Its name on the server.
    pub name: String,
    /// A human-readable title (MCP `title`, or `annotations.title`).
    pub title: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    pub input_schema: Value,
    /// The JSON Schema of its structured result, if it declares one.
    pub output_schema: Option<Value>,
    /// MCP tool annotations (read-only, destructive, idempotent hints), as JSON.
    pub annotations: Option<Value>,
}

/// How far a call has come, as an upstream reports it (MCP `notifications/progress`).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Grows as the work goes on.
    pub progress: f64,
    /// The whole, when known.
    pub total: Option<f64>,
    /// What is being done, in words.
    pub message: Option<String>,
}

/// Where a call's progress goes (the MCP gateway passes it to the client that asked for it).
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// What a tool call returned: the MCP `CallToolResult` as JSON, and whether it is a tool error.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallOutcome {
    /// The `CallToolResult` (`content`, `structuredContent`, `isError`).
    pub result: Value,
    /// The tool reported an error (`isError`): an answer, not a failure to answer.
    pub is_error: bool,
}

impl DiscoveredTool {
    /// A tool with a name, a description and an input schema.
    pub fn new(name: impl Into<String>, description: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            input_schema,
            output_schema: None,
            annotations: None,
        }
    }
}

impl ToolCallOutcome {
    /// A result with one text content (a tool error when `is_error`).
    pub fn text(text: impl Into<String>, is_error: bool) -> Self {
        let result = serde_json::json!({"content": [{"type": "text", "text": text.into()}], "isError": is_error});
        Self { result, is_error }
    }
}

/// Why an upstream server did not answer a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// No answer within the server's deadline (the request was cancelled upstream).
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    /// The server is stopped, or reconnecting.
    #[error("the server is not running")]
    NotRunning,
    /// The server could not be spawned, reached or spoken to; the text says why.
    #[error("the server cannot be reached: {0}")]
    Unavailable(String),
    /// The server answered with a JSON-RPC error, or not as MCP says.
    #[error("the server answered with an error: {0}")]
    Protocol(String),
    /// The egress policy refuses the server's address.
    #[error("the egress policy refuses {0}")]
    Refused(String),
    /// Calls to the server failed too often in a row; they fail fast until a trial call is due.
    #[error("the server failed repeatedly; calls are refused for {retry_after_secs} s before a trial call")]
    CircuitOpen {
        /// Seconds until the trial call.
        retry_after_secs: u64,
    },
    /// The caller gave up (an MCP client's `notifications/cancelled`); the upstream was told.
    #[error("the call was cancelled by its caller")]
    Cancelled,
    /// What describes the server (an OpenAPI document) cannot be used; the text says where.
    #[error("{0}")]
    Unusable(String),
}

impl UpstreamError {
    /// The failure's entry in the error catalogue.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Timeout(_) => ErrorCode::UpstreamTimeout,
            Self::NotRunning | Self::Unavailable(_) | Self::CircuitOpen { .. } => ErrorCode::UpstreamUnavailable,
            Self::Protocol(_) => ErrorCode::ExecutionError,
            Self::Refused(_) => ErrorCode::EgressDenied,
            Self::Cancelled => ErrorCode::CallCancelled,
            Self::Unusable(_) => ErrorCode::InvalidSpec,
        }
    }

    /// Whether the failure says the server is unhealthy (and so counts towards its circuit), as
    /// opposed to an answer, a refusal of ours, or a server known to be stopped.
    pub fn is_unhealthy(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Unavailable(_))
    }
}

/// Identifies a server in callbacks from background tasks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerRef {
    /// The server's tenant.
    pub tenant: String,
    /// The server's id.
    pub id: String,
}

impl From<&ToolServer> for ServerRef {
    fn from(s: &ToolServer) -> Self {
        Self { tenant: s.tenant.clone(), id: s.id.clone() }
    }
}

/// Reaches tool servers. One long-lived, supervised connection per running server.
#[async_trait]
pub trait UpstreamConnector: Send + Sync {
    /// Connects to (or spawns) the server, lists its tools, and keeps the connection up: a
    /// connection that fails is reported to `observer`, which decides whether to retry.
    /// Starting a running server replaces its connection.
    async fn start(
        &self,
        server: &ToolServer,
        observer: Arc<dyn UpstreamObserver>,
    ) -> Result<Vec<DiscoveredTool>, UpstreamError>;

    /// Disconnects; for stdio servers, ends the whole process tree. Idempotent.
    async fn stop(&self, server_id: &str);

    /// Stops every server (at shutdown).
    async fn stop_all(&self);

    /// Whether the server has a live connection (or is built in) now.
    fn is_running(&self, server_id: &str) -> bool;

    /// Lists the tools over the live connection.
    async fn list_tools(&self, server_id: &str, timeout: Duration) -> Result<Vec<DiscoveredTool>, UpstreamError>;

    /// Calls a tool over the live connection, giving up (and cancelling upstream) after `timeout`.
    async fn call_tool(
        &self,
        server_id: &str,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        timeout: Duration,
    ) -> Result<ToolCallOutcome, UpstreamError>;

    /// Checks what can be checked of a server without reaching it (an OpenAPI document given
    /// inline), so that a registration Toolhub could never run is refused at once.
    fn check(&self, _server: &ToolServer) -> Result<(), UpstreamError> {
        Ok(())
    }

    /// As [`Self::call_tool`], passing the upstream's progress reports on the call to
    /// `progress` (connectors that cannot report progress just call).
    async fn call_tool_reporting(
        &self,
        server_id: &str,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        timeout: Duration,
        progress: ProgressSink,
    ) -> Result<ToolCallOutcome, UpstreamError> {
        let _ = progress;
        self.call_tool(server_id, tool, arguments, timeout).await
    }

    /// Connects once, lists the tools and disconnects, leaving any running connection alone.
    async fn probe(&self, server: &ToolServer) -> Result<Vec<DiscoveredTool>, UpstreamError>;

    /// Lists what a running server offers besides tools, as the MCP objects it listed (JSON);
    /// empty when the server does not offer that kind (or the connector knows no such thing).
    async fn list_offerings(
        &self,
        _server_id: &str,
        _kind: Offering,
        _timeout: Duration,
    ) -> Result<Vec<Value>, UpstreamError> {
        Ok(Vec::new())
    }

    /// Reads a resource of a running server (the MCP `resources/read` result, as JSON).
    async fn read_resource(&self, _server_id: &str, _uri: &str, _timeout: Duration) -> Result<Value, UpstreamError> {
        Err(UpstreamError::Protocol("the server offers no resources".into()))
    }

    /// Completes an argument of a prompt or resource template of a running server (the MCP
    /// `completion/complete` params and result, as JSON).
    async fn complete(&self, _server_id: &str, _params: Value, _timeout: Duration) -> Result<Value, UpstreamError> {
        Err(UpstreamError::Protocol("the server offers no completions".into()))
    }

    /// Gets a prompt of a running server (the MCP `prompts/get` result, as JSON).
    async fn get_prompt(
        &self,
        _server_id: &str,
        _name: &str,
        _arguments: Option<Map<String, Value>>,
        _timeout: Duration,
    ) -> Result<Value, UpstreamError> {
        Err(UpstreamError::Protocol("the server offers no prompts".into()))
    }

    /// Sends a custom tool's HTTP request (an `api-request` tool of a toolkit of `tenant`),
    /// through the egress policy, within the request's timeout.
    async fn send_request(
        &self,
        _tenant: &str,
        _request: &crate::api_request::HttpRequest,
    ) -> Result<crate::api_request::HttpAnswer, UpstreamError> {
        Err(UpstreamError::Unavailable("this connector sends no HTTP requests".into()))
    }

    /// The least severe log level any of Toolhub's clients wants from servers (`None`: none
    /// wants any). The connector asks every running server that offers logging for it, and
    /// each server it connects later; connectors without logging ignore it.
    fn set_log_level(&self, _level: Option<LogLevel>) {}
}

crate::wire_enum! {
    /// What a server offers besides tools.
    Offering {
        Resources = "resources",
        ResourceTemplates = "resource_templates",
        Prompts = "prompts",
    }
}

crate::wire_enum! {
    /// How severe a server's log message is: MCP's (syslog's) levels, least severe first.
    LogLevel {
        Debug = "debug",
        Info = "info",
        Notice = "notice",
        Warning = "warning",
        Error = "error",
        Critical = "critical",
        Alert = "alert",
        Emergency = "emergency",
    }
}

/// What a running server announces besides changes to its tools (those are
/// [`UpstreamObserver::tools_changed`]).
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamNotice {
    /// A log message (MCP `notifications/message`).
    Log {
        /// How severe it is.
        level: LogLevel,
        /// The logger the server names, if any.
        logger: Option<String>,
        /// The message: any JSON the server sent.
        data: Value,
    },
    /// Its resources changed (`notifications/resources/list_changed`).
    ResourcesChanged,
    /// Its prompts changed (`notifications/prompts/list_changed`).
    PromptsChanged,
}

/// What a supervised connection reports, from its background task.
#[async_trait]
pub trait UpstreamObserver: Send + Sync {
    /// The connection failed (the process exited, the server stopped answering) after running
    /// for `ran_for`. Returns the consecutive failures so far when the connector should
    /// reconnect (it waits longer the more there are), or None to give up. A run too short to
    /// count as stable continues the series, so a server that crashes soon after each start
    /// backs off further each time.
    async fn failed(&self, server: &ServerRef, error: String, ran_for: Duration) -> Option<u32>;

    /// A reconnection succeeded.
    async fn reconnected(&self, server: &ServerRef, tools: Vec<DiscoveredTool>);

    /// The server announced `tools/list_changed`; these are its tools now.
    async fn tools_changed(&self, server: &ServerRef, tools: Vec<DiscoveredTool>);

    /// The server announced something else (a log message, a change of its resources or
    /// prompts). Observers that pass nothing on ignore it.
    async fn notice(&self, _server: &ServerRef, _notice: UpstreamNotice) {}
}
