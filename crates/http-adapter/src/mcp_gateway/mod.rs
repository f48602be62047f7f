//! The MCP gateway: Toolhub as an MCP server (Streamable HTTP) in front of every server it runs.
//! A driving adapter beside the REST handlers: the same authentication, tenancy and request
//! limit (the pipeline runs first), the same domain services (listing by the access engine,
//! calls through [`toolhub_domain::services::CallService`]).
//!
//! rmcp's Streamable HTTP service does the protocol (sessions, SSE, every protocol version it
//! negotiates); this module bridges actix requests to it, carrying the caller in the request's
//! extensions, where [`session::GatewaySession`] reads it at every request.

pub mod session;

use std::{convert::Infallible, sync::Arc};

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use rmcp::transport::streamable_http_server::session::store::{SessionState, SessionStore, SessionStoreError};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use toolhub_domain::{
    Principal,
    ports::{Clock, SessionRepository},
    services::{Ports, Services},
};
use tower_service::Service;

pub use session::{GatewaySession, SEPARATOR, Scope, qualified_name};

/// Where the gateway may be reached from (DNS-rebinding protection).
#[derive(Debug, Clone, Default)]
pub struct GatewaySettings {
    /// `Host` values accepted; empty: loopback names only (`localhost`, `127.0.0.1`, `::1`).
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted; empty: requests with an `Origin` must come from loopback.
    pub allowed_origins: Vec<String>,
}

/// The gateway's MCP service, shared by every HTTP worker (sessions live in it).
#[derive(Clone)]
pub struct Gateway {
    service: StreamableHttpService<GatewaySession, LocalSessionManager>,
    /// Ends every session's streams (at shutdown, so open SSE streams do not hold the drain
    /// of calls for its whole grace period; clients reconnect to the next Toolhub).
    close: Arc<dyn Fn() + Send + Sync>,
}

impl Gateway {
    /// The gateway over `services`, keeping sessions in `ports`' session repository (so they
    /// survive restarts).
    pub fn new(services: Services, ports: &Ports, settings: &GatewaySettings) -> Self {
        let mut config = StreamableHttpServerConfig::default().with_max_request_body_bytes(crate::MAX_BODY_BYTES);
        let stored = StoredSessions { sessions: ports.sessions.clone(), clock: ports.clock.clone() };
        config.session_store = Some(Arc::new(stored));
        if !settings.allowed_hosts.is_empty() {
            config = config.with_allowed_hosts(settings.allowed_hosts.clone());
        }
        config = if settings.allowed_origins.is_empty() {
            config.with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        } else {
            config.with_allowed_origins(settings.allowed_origins.clone())
        };
        let token = config.cancellation_token.clone();
        let service = StreamableHttpService::new(
            move || Ok(GatewaySession::new(services.clone())),
            LocalSessionManager::default().into(),
            config,
        );
        Self { service, close: Arc::new(move || token.cancel()) }
    }

    /// Ends every session's streams; sessions stay stored, so clients resume elsewhere.
    pub fn close(&self) {
        (self.close)();
    }
}

/// Sessions kept in the database: a client's session id keeps working after a restart and on
/// every replica (rmcp replays the stored `initialize` on a session it does not hold).
struct StoredSessions {
    sessions: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
}

#[async_trait::async_trait]
impl SessionStore for StoredSessions {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        match self.sessions.load(session_id).await? {
            Some(state) => Ok(Some(serde_json::from_value(state)?)),
            None => Ok(None),
        }
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        Ok(self.sessions.save(session_id, &serde_json::to_value(state)?, self.clock.now()).await?)
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        Ok(self.sessions.delete(session_id).await?)
    }
}

/// How long a session is kept after it was opened (pruned hourly with the call log).
pub const SESSION_RETENTION_HOURS: i64 = 24;

/// `/mcp`, `/mcp/servers/{server_name}` and `/mcp/toolkits/{toolkit}`: every method goes to
/// rmcp's service (a toolkit the caller may not see is a 404 first).
pub async fn endpoint(request: HttpRequest, body: web::Bytes, state: web::Data<crate::AppState>) -> HttpResponse {
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        // The pipeline authenticates every non-public path; this is a wiring mistake.
        return HttpResponse::InternalServerError().finish();
    };
    if let Some(Scope::Toolkit(key)) = Scope::of_path(request.path())
        && let Err(e) = state.services.toolkits.get(&principal, &key).await
    {
        return actix_web::ResponseError::error_response(&crate::problem::ApiError::from(e));
    }
    let gateway = &state.gateway;
    let mut forwarded = http::Request::builder().method(request.method().as_str()).uri(request.uri().to_string());
    for (name, value) in request.headers() {
        forwarded = forwarded.header(name.as_str(), value.as_bytes());
    }
    let Ok(mut forwarded) = forwarded.body(Full::new(body)) else {
        return HttpResponse::BadRequest().finish();
    };
    forwarded.extensions_mut().insert(principal);
    let Ok(answer) = gateway.service.clone().call(forwarded).await;
    let (parts, body) = answer.into_parts();
    let status = match parts.status.as_u16() {
        // ending a session: rmcp says 202, the official Python SDK expects 200 or 204.
        202 if request.method() == actix_web::http::Method::DELETE => 204,
        status => status,
    };
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        response.append_header((name.as_str(), value.as_bytes()));
    }
    // SSE answers stream as rmcp writes them; JSON answers are one frame.
    let frames = body.into_data_stream().map(|frame| frame.map_err(|never: Infallible| match never {}));
    response.streaming(
        frames.map(|f: Result<web::Bytes, Infallible>| f.map_err(actix_web::error::ErrorInternalServerError)),
    )
}

/// The RFC 9728 protected resource metadata of `/mcp`: where MCP clients learn which
/// authorization server issues tokens Toolhub accepts.
pub fn resource_metadata(base: &str, issuer: Option<&str>) -> serde_json::Value {
    let mut metadata = serde_json::json!({
        "resource": format!("{base}/mcp"),
        "bearer_methods_supported": ["header"],
        "resource_name": "Toolhub MCP gateway",
    });
    if let Some(issuer) = issuer {
        metadata["authorization_servers"] = serde_json::json!([issuer]);
    }
    metadata
}

/// The `WWW-Authenticate` value of a 401 from the gateway (RFC 9728 section 5.1).
pub fn challenge(base: &str) -> String {
    format!("Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource\"")
}

/// The base URL clients reached Toolhub at.
pub fn base_url(info: &actix_web::dev::ConnectionInfo) -> String {
    format!("{}://{}", info.scheme(), info.host())
}
