//! HTTP requests Toolhub makes itself rather than through an MCP session: custom tools'
//! requests (`api-request`), with pinned clients kept per host, and bodies read within a limit.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use toolhub_domain::{
    api_request::{HttpAnswer, HttpRequest},
    upstream::UpstreamError,
};

use crate::egress::{EgressPolicy, Reach};

/// Largest body read (an OpenAPI document, an answer); a longer one is refused.
pub const BODY_MAX: usize = 8 * 1024 * 1024;
/// How long a pinned client is reused before its host is looked up and checked again.
const CLIENT_TTL: Duration = Duration::from_secs(60);
/// Hosts whose clients are kept; past this the cache starts over.
const CLIENTS_MAX: usize = 256;

/// Reads a body of at most [`BODY_MAX`] bytes.
pub async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| format!("reading the answer failed: {}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > BODY_MAX {
            return Err(format!("the answer is larger than {BODY_MAX} bytes"));
        }
    }
    Ok(body)
}

/// Clients for custom tools' requests, one per reach and origin, pinned to the addresses the
/// egress policy allowed when it was made (and re-checked after [`CLIENT_TTL`]), so calls reuse
/// connections.
#[derive(Default)]
pub struct RequestClients {
    clients: Mutex<HashMap<(Reach, String), (Instant, reqwest::Client)>>,
}

impl RequestClients {
    /// Sends a custom tool's request for a server of `tenant`.
    pub async fn send(
        &self,
        policy: &EgressPolicy,
        tenant: &str,
        request: &HttpRequest,
    ) -> Result<HttpAnswer, UpstreamError> {
        let url = url::Url::parse(&request.url).map_err(|e| UpstreamError::Unavailable(format!("bad URL: {e}")))?;
        let reach = Reach::of(tenant);
        let key = (reach, url.origin().ascii_serialization());
        let kept = {
            let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.get(&key).filter(|(at, _)| at.elapsed() < CLIENT_TTL).map(|(_, c)| c.clone())
        };
        let client = match kept {
            Some(client) => client,
            None => {
                let client = policy
                    .pinned(&request.url, tenant)
                    .await?
                    .build()
                    .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
                let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
                if clients.len() >= CLIENTS_MAX {
                    clients.clear();
                }
                clients.insert(key, (Instant::now(), client.clone()));
                client
            }
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| UpstreamError::Unavailable(format!("bad method {}", request.method)))?;
        let mut builder = client.request(method, url).timeout(request.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout(request.timeout)
            } else {
                UpstreamError::Unavailable(format!("the request failed: {}", e.without_url()))
            }
        })?;
        let status = response.status().as_u16();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_limited(response).await.map_err(UpstreamError::Unavailable)?;
        Ok(HttpAnswer { status, content_type, body })
    }
}
