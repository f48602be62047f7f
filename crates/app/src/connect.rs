//! `toolhub connect`: an MCP server on stdin/stdout that relays to Toolhub's gateway, for
//! clients that only launch stdio servers. What the gateway lists, it lists; what it calls, it
//! forwards; the gateway's `list_changed` notices are passed on.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use rmcp::{
    ClientHandler, ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResponse, ClientConfig, Implementation, ListToolsResult, PaginatedRequestParams,
        ServerConfig,
    },
    service::{NotificationContext, Peer, RequestContext, ServiceError},
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};

/// The gateway's side: passes its notices to the local client once that is connected.
#[derive(Clone, Default)]
struct Relay {
    local: Arc<OnceLock<Peer<RoleServer>>>,
}

impl ClientHandler for Relay {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        if let Some(local) = self.local.get() {
            let _ = local.notify_tool_list_changed().await;
        }
    }

    fn get_info(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.client_info = Implementation::new("toolhub-connect", env!("CARGO_PKG_VERSION"));
        config
    }
}

/// The local client's side: every request goes to the gateway.
struct Bridge {
    gateway: Peer<RoleClient>,
    info: ServerConfig,
}

fn relayed(error: ServiceError) -> ErrorData {
    match error {
        ServiceError::McpError(data) => data,
        other => ErrorData::internal_error(format!("Toolhub did not answer: {other}"), None),
    }
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        self.info.clone()
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.gateway.list_tools(request).await.map_err(relayed)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.gateway.call_tool(request).await.map(Into::into).map_err(relayed)
    }
}

/// Relays stdin/stdout to the gateway at `url` with `key` until either side closes.
pub async fn run(url: &str, key: &str) -> anyhow::Result<()> {
    let relay = Relay::default();
    let local = relay.local.clone();
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(key.to_owned());
    let gateway = relay
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .with_context(|| format!("cannot open an MCP session with {url}"))?;
    let gateway_info = gateway.peer_info().context("the gateway sent no server information")?;
    let mut info = ServerConfig::new(gateway_info.capabilities.clone());
    if let Some(server) = &gateway_info.server_info {
        info = info.with_server_info(server.clone());
    }
    if let Some(instructions) = &gateway_info.instructions {
        info = info.with_instructions(instructions.clone());
    }
    let bridge = Bridge { gateway: gateway.peer().clone(), info };
    let served = bridge.serve(rmcp::transport::stdio()).await.context("cannot speak MCP on stdin/stdout")?;
    let _ = local.set(served.peer().clone());
    tokio::select! {
        _ = served.waiting() => {}
        _ = gateway.waiting() => {}
    }
    Ok(())
}
