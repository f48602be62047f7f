//! A misbehaving-on-demand MCP server, for tests. It speaks stdio by default, or Streamable
//! HTTP with `--http ADDR` (it then prints `listening on http://ADDR/mcp`).
//!
//! Tools: `echo {message}`, `add {a, b}`, `slow {ms}`, `hang`, `fail {message}` (a tool error),
//! `crash {code}` (exits the process), `pid` (its process id), `spawn_child` (starts a
//! `sleep` grandchild and returns its pid), `set_tools {names}` (adds tools named so and
//! notifies `tools/list_changed`), `announce {message, level}` (a log message at `level` if it
//! is at or above the level the client set, then `resources/list_changed` and
//! `prompts/list_changed`; answers with the level the client set); with `FIXTURE_PROBE` set, also `read_file {path}` (its
//! content, or the error as a tool error) and `cwd` (its working directory), which tests use to
//! prove what a child can and cannot reach.
//!
//! Environment: `FIXTURE_EXIT_ON_START=CODE` exits before the handshake;
//! `FIXTURE_CRASH_AFTER_MS=N` exits N ms after start; `FIXTURE_STDERR=TEXT` is written to stderr;
//! `FIXTURE_PID_FILE=PATH` receives the process id; `FIXTURE_LINGER` keeps the process running
//! after its client is gone; `FIXTURE_ADD_TOOL_AFTER_MS=N` with
//! `FIXTURE_ADD_TOOL=NAME` adds a tool N ms after start and notifies `tools/list_changed`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Fixture {
    extra_tools: Arc<Mutex<Vec<String>>>,
    /// The log level the client set (`logging/setLevel`), as MCP names it.
    log_level: Arc<Mutex<Option<String>>>,
}

fn schema(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn base_tools() -> Vec<Tool> {
    let object =
        |props: Value, required: Value| schema(json!({"type": "object", "properties": props, "required": required}));
    vec![
        Tool::new("echo", "Echo a message back", object(json!({"message": {"type": "string"}}), json!(["message"]))),
        Tool::new(
            "add",
            "Add two integers",
            object(json!({"a": {"type": "integer"}, "b": {"type": "integer"}}), json!(["a", "b"])),
        ),
        Tool::new("slow", "Answer after ms milliseconds", object(json!({"ms": {"type": "integer"}}), json!(["ms"]))),
        Tool::new("hang", "Never answer", object(json!({}), json!([]))),
        Tool::new("fail", "Return a tool error", object(json!({"message": {"type": "string"}}), json!([]))),
        Tool::new("reject", "Answer with a protocol error", object(json!({}), json!([]))),
        Tool::new("crash", "Exit the process", object(json!({"code": {"type": "integer"}}), json!([]))),
        Tool::new("pid", "The server's process id", object(json!({}), json!([]))),
        Tool::new(
            "progress",
            "Report steps of progress (to the caller's progress token), then answer",
            object(json!({"steps": {"type": "integer"}}), json!(["steps"])),
        ),
        Tool::new("spawn_child", "Start a long sleep child process", object(json!({}), json!([]))),
        Tool::new(
            "set_tools",
            "Replace the extra tools and notify tools/list_changed",
            object(json!({"names": {"type": "array", "items": {"type": "string"}}}), json!(["names"])),
        ),
        Tool::new(
            "announce",
            "Log a message at a level, then notify resources/list_changed and prompts/list_changed",
            object(json!({"message": {"type": "string"}, "level": {"type": "string"}}), json!(["message"])),
        ),
    ]
}

fn text(value: impl ToString) -> Result<CallToolResponse, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(value.to_string())]).into())
}

/// MCP's log levels, least severe first.
const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

#[allow(deprecated)] // MCP logging, which rmcp marks deprecated (SEP-2577), is what is tested.
impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder().enable_logging().enable_tools().enable_tool_list_changed();
        ServerConfig::new(capabilities.build()).with_server_info(Implementation::new("toolhub-fixture", "1.0.0"))
    }

    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let level = serde_json::to_value(request.level).ok().and_then(|v| v.as_str().map(str::to_owned));
        if let Ok(mut set) = self.log_level.lock() {
            *set = level;
        }
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = base_tools();
        if std::env::var_os("FIXTURE_PROBE").is_some() {
            let path =
                schema(json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}));
            tools.push(Tool::new("read_file", "Read a file", path));
            tools.push(Tool::new("cwd", "The working directory", schema(json!({"type": "object"}))));
        }
        let extra = self.extra_tools.lock().map(|e| e.clone()).unwrap_or_default();
        tools.extend(extra.into_iter().map(|name| Tool::new(name, "An added tool", schema(json!({"type": "object"})))));
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let int = |name: &str| args.get(name).and_then(Value::as_i64);
        match request.name.as_ref() {
            "echo" => text(args.get("message").and_then(Value::as_str).unwrap_or_default()),
            "add" => text(int("a").unwrap_or(0) + int("b").unwrap_or(0)),
            "slow" => {
                tokio::time::sleep(Duration::from_millis(int("ms").unwrap_or(0).max(0) as u64)).await;
                text("done")
            }
            "hang" => std::future::pending().await,
            "fail" => Ok(CallToolResult::error(vec![ContentBlock::text(
                args.get("message").and_then(Value::as_str).unwrap_or("failed on purpose").to_owned(),
            )])
            .into()),
            "reject" => Err(ErrorData::internal_error("rejected on purpose", None)),
            "crash" => std::process::exit(int("code").unwrap_or(3) as i32),
            "pid" => text(std::process::id()),
            "progress" => {
                let steps = int("steps").unwrap_or(0).clamp(0, 100);
                let token = context.meta.get_progress_token().or_else(|| request.meta.as_ref()?.get_progress_token());
                if let Some(token) = token {
                    for step in 1..=steps {
                        let report = rmcp::model::ProgressNotificationParam::new(token.clone(), step as f64)
                            .with_total(steps as f64)
                            .with_message(format!("step {step}"));
                        let _ = context.peer.notify_progress(report).await;
                        // Work between reports, as a real server's reports come while it works.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                text(format!("{steps} steps"))
            }
            "read_file" => {
                let path = args.get("path").and_then(Value::as_str).unwrap_or_default();
                match std::fs::read(path) {
                    Ok(bytes) => text(String::from_utf8_lossy(&bytes)),
                    Err(e) => {
                        Ok(CallToolResult::error(vec![ContentBlock::text(format!("cannot read {path}: {e}"))]).into())
                    }
                }
            }
            "cwd" => text(std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()),
            "spawn_child" => {
                let child = std::process::Command::new("sleep")
                    .arg("1000")
                    .spawn()
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                text(child.id())
            }
            "set_tools" => {
                let names: Vec<String> = args
                    .get("names")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default();
                if let Ok(mut extra) = self.extra_tools.lock() {
                    *extra = names;
                }
                let _ = context.peer.notify_tool_list_changed().await;
                text("ok")
            }
            "announce" => {
                let level = args.get("level").and_then(Value::as_str).unwrap_or("info");
                let set = self.log_level.lock().ok().and_then(|l| l.clone());
                let rank = |level: &str| LOG_LEVELS.iter().position(|l| *l == level);
                if rank(level) >= set.as_deref().and_then(rank) {
                    let message = args.get("message").cloned().unwrap_or(Value::Null);
                    let level = serde_json::from_value(json!(level))
                        .map_err(|_| ErrorData::invalid_params(format!("unknown level {level}"), None))?;
                    let mut param = rmcp::model::LoggingMessageNotificationParam::new(level, message);
                    param.logger = Some("fixture".into());
                    let _ = context.peer.notify_logging_message(param).await;
                }
                let _ = context.peer.notify_resource_list_changed().await;
                let _ = context.peer.notify_prompt_list_changed().await;
                text(set.unwrap_or_else(|| "none".into()))
            }
            name if self.extra_tools.lock().map(|e| e.iter().any(|t| t == name)).unwrap_or(false) => text(name),
            other => Err(ErrorData::invalid_params(format!("unknown tool {other}"), None)),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(message) = std::env::var("FIXTURE_STDERR") {
        eprintln!("{message}");
    }
    if let Ok(path) = std::env::var("FIXTURE_PID_FILE") {
        std::fs::write(path, std::process::id().to_string())?;
    }
    if let Some(code) = std::env::var("FIXTURE_EXIT_ON_START").ok().and_then(|c| c.parse().ok()) {
        std::process::exit(code);
    }
    if let Some(ms) = std::env::var("FIXTURE_CRASH_AFTER_MS").ok().and_then(|c| c.parse().ok()) {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            std::process::exit(4);
        });
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rest") {
        return serve_rest(args.get(i + 1).map(String::as_str).unwrap_or("127.0.0.1:0")).await;
    }
    match args.iter().position(|a| a == "--http") {
        Some(i) => serve_http(args.get(i + 1).map(String::as_str).unwrap_or("127.0.0.1:0")).await,
        None => {
            let fixture = Fixture::default();
            let running = fixture.clone().serve(rmcp::transport::stdio()).await?;
            let added = std::env::var("FIXTURE_ADD_TOOL").ok();
            let after = std::env::var("FIXTURE_ADD_TOOL_AFTER_MS").ok().and_then(|v| v.parse().ok());
            if let (Some(name), Some(ms)) = (added, after) {
                let peer = running.peer().clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    if let Ok(mut extra) = fixture.extra_tools.lock() {
                        extra.push(name);
                    }
                    let _ = peer.notify_tool_list_changed().await;
                });
            }
            running.waiting().await?;
            if std::env::var_os("FIXTURE_LINGER").is_some() {
                // A server that keeps running when its client is gone (stdin closed).
                std::future::pending::<()>().await;
            }
            Ok(())
        }
    }
}

async fn serve_http(address: &str) -> Result<(), Box<dyn std::error::Error>> {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}/mcp", listener.local_addr()?);
    let service = StreamableHttpService::new(
        || Ok(Fixture::default()),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    serve_connections(listener, service).await
}

/// Serves every connection `listener` accepts with `service` (HTTP/1 or 2, TCP_NODELAY).
async fn serve_connections<S, B>(
    listener: tokio::net::TcpListener,
    service: S,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: tower_service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use hyper_util::{
        rt::{TokioExecutor, TokioIo},
        server::conn::auto::Builder,
        service::TowerToHyperService,
    };
    let service = TowerToHyperService::new(service);
    loop {
        let (io, _) = listener.accept().await?;
        let _ = io.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(async move {
            let _ = Builder::new(TokioExecutor::default()).serve_connection(TokioIo::new(io), service).await;
        });
    }
}

/// `--rest ADDR`: a plain HTTP service that answers every request with its JSON body (`{}` when
/// empty), for benchmarks of HTTP tools (OpenAPI operations, custom tools) against the same
/// endpoint called directly.
async fn serve_rest(address: &str) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve_connections(listener, RestEcho).await
}

#[derive(Clone)]
struct RestEcho;

impl tower_service::Service<http::Request<hyper::body::Incoming>> for RestEcho {
    type Response = http::Response<http_body_util::Full<hyper::body::Bytes>>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        use http_body_util::BodyExt;
        Box::pin(async move {
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let body = if body.is_empty() { hyper::body::Bytes::from_static(b"{}") } else { body };
            let mut response = http::Response::new(http_body_util::Full::new(body));
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            Ok(response)
        })
    }
}
