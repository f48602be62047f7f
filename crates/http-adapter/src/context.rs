//! Per-request context: the correlation id and path, visible to error rendering through a task
//! local, so every problem names its request.

use actix_web::{
    HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};

use crate::{AppState, auth, problem::ApiError, rate_limit::RateStatus};

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub correlation_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The context of the request being handled, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Paths anyone may read without a token.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/openapi.json" | "/docs" | "/.well-known/oauth-protected-resource")
        || path.starts_with("/docs/")
}

/// Keeps a caller-chosen correlation id when it is short and plain, else issues one.
fn correlation_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .map(str::to_owned)
        .unwrap_or_else(toolhub_domain::new_id)
}

/// The middleware every request passes: correlation id, authentication, the per-principal
/// rate limit, and the headers the seed promises on every response.
pub async fn pipeline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let context = RequestContext { correlation_id: correlation_id(&req), path: req.path().to_owned() };
    let correlation = context.correlation_id.clone();
    CONTEXT
        .scope(context, async move {
            let state = req.app_data::<web::Data<AppState>>().cloned().expect("AppState is registered");
            // Every request counts against its address first, before any authentication work;
            // authenticated requests then count against their principal.
            let address = req.peer_addr().map(|a| a.ip()).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            let at_door = state.limiter.check_address(address);
            let (rate, outcome) = if at_door.retry_after.is_some() || is_public(req.path()) {
                (at_door, Ok(None))
            } else {
                match auth::authenticate(&state, req.headers()).await {
                    Ok((principal, caller)) => (state.limiter.check(&caller), Ok(Some(principal))),
                    Err(error) => (at_door, Err(error)),
                }
            };
            let result = match (rate.retry_after, outcome) {
                (Some(retry_after), _) => Err(ApiError {
                    retry_after: Some(retry_after),
                    ..ApiError::new(
                        toolhub_domain::ErrorCode::TooManyRequests,
                        format!("request rate limit exceeded; retry in {retry_after} s"),
                    )
                }),
                (None, Err(error)) => Err(error),
                (None, Ok(principal)) => Ok(principal),
            };
            let started = std::time::Instant::now();
            let method = req.method().clone();
            let mut response = match result {
                Ok(principal) => {
                    if let Some(principal) = principal {
                        req.extensions_mut().insert(principal);
                    }
                    next.call(req).await?.map_into_boxed_body()
                }
                Err(error) => {
                    // An MCP client learns from the challenge where to get a token (RFC 9728).
                    let challenge = (error.code == toolhub_domain::ErrorCode::Unauthenticated
                        && req.path().starts_with("/mcp"))
                    .then(|| crate::mcp_gateway::challenge(&crate::mcp_gateway::base_url(&req.connection_info())));
                    let mut response = req.error_response(error).map_into_boxed_body();
                    if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
                        response.headers_mut().insert(actix_web::http::header::WWW_AUTHENTICATE, challenge);
                    }
                    response
                }
            };
            decorate(response.headers_mut(), &correlation, &rate);
            let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
            state.metrics.http_request(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
            Ok(response)
        })
        .await
}

fn decorate(headers: &mut actix_web::http::header::HeaderMap, correlation: &str, rate: &RateStatus) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(CORRELATION_HEADER, correlation.to_owned());
    set("x-ratelimit-limit-minute", rate.limit_minute.to_string());
    set("x-ratelimit-limit-hour", rate.limit_hour.to_string());
    set("x-ratelimit-remaining-minute", rate.remaining_minute.to_string());
    set("x-ratelimit-remaining-hour", rate.remaining_hour.to_string());
}
