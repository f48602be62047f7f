//! Toolhub's HTTP adapter: the actix-web application, its authentication, rate limiting and
//! problem+json errors, and the OpenAPI document generated from the handlers.

pub mod auth;
pub mod context;
pub mod dto;
pub mod extract;
pub mod handlers;
pub mod limits;
pub mod mcp_gateway;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod spec_rules;

use std::sync::Arc;

use actix_web::{
    App, Error, HttpResponse,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    middleware::from_fn,
    web,
};
use toolhub_domain::{ports::ReadinessProbe, services::Services};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::{auth::JwtVerifier, handlers::*, problem::ApiError, rate_limit::RateLimiter};

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the handlers share.
pub struct AppState {
    pub services: Services,
    pub metrics: Arc<metrics::PrometheusMetrics>,
    pub jwt: Option<Arc<JwtVerifier>>,
    pub limiter: Arc<RateLimiter>,
    pub readiness: Arc<dyn ReadinessProbe>,
    /// The MCP gateway (`/mcp`), shared by every worker.
    pub gateway: mcp_gateway::Gateway,
}

/// Registers every API operation (and so every entry of the OpenAPI document).
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(calls::prometheus_metrics)
        .service(health::readyz)
        .service(health::list_replicas)
        .service(
            scope::scope("/api/v1/toolservers")
                // `/servers/bulk` before `/servers/{server_id}`, so the literal segment wins.
                .service(lifecycle::bulk_server_operation)
                .service(servers::create_tool_server)
                // Routes are tried in order, each dynamic one with a regex: calls, the hot path, first.
                .service(calls::call_tool)
                .service(calls::call_tool_by_name)
                .service(servers::list_tool_servers)
                .service(servers::search_tool_servers)
                .service(servers::get_tool_server)
                .service(servers::update_tool_server)
                .service(servers::delete_tool_server)
                .service(lifecycle::start_tool_server)
                .service(lifecycle::stop_tool_server)
                .service(lifecycle::restart_tool_server)
                .service(lifecycle::enable_tool_server)
                .service(lifecycle::disable_tool_server)
                .service(lifecycle::check_server_health)
                .service(calls::get_server_metrics)
                .service(lifecycle::get_server_tools)
                .service(lifecycle::test_server_connectivity)
                .service(lifecycle::refresh_server_tools)
                .service(lifecycle::list_all_tools)
                .service(lifecycle::search_tools)
                .service(lifecycle::enable_tool)
                .service(lifecycle::disable_tool)
                .service(access::grant_tool_permission)
                .service(access::update_tool_permission)
                .service(access::revoke_tool_permission)
                .service(access::get_user_permissions)
                .service(access::create_role_access_rule)
                .service(access::get_role_access_rules)
                .service(access::search_role_access_rules)
                .service(access::update_role_access_rule)
                .service(access::delete_role_access_rule)
                .service(access::check_tool_access)
                .service(calls::list_tool_calls)
                .service(calls::search_tool_calls),
        )
        .service(
            scope::scope("/api/v1/grants")
                .service(access::create_grant)
                .service(access::list_grants)
                .service(access::search_grants)
                .service(access::get_grant)
                .service(access::update_grant)
                .service(access::delete_grant),
        )
        .service(
            scope::scope("/api/v1/keys")
                .service(keys::list_api_keys)
                .service(keys::create_api_key)
                .service(keys::revoke_api_key)
                .service(keys::rotate_api_key),
        )
        .service(
            scope::scope("/api/v1/toolkits")
                .service(toolkits::create_toolkit)
                .service(toolkits::list_toolkits)
                .service(toolkits::search_toolkits)
                .service(toolkits::get_toolkit)
                .service(toolkits::update_toolkit)
                .service(toolkits::delete_toolkit)
                .service(toolkits::list_toolkit_tools)
                .service(toolkits::add_toolkit_tool)
                .service(toolkits::remove_toolkit_tool)
                .service(toolkits::call_toolkit_tool),
        )
        .service(
            scope::scope("/api/toolkits")
                .service(toolkits::informer_list_tools)
                .service(toolkits::informer_add_tool)
                .service(toolkits::informer_sync_tools)
                .service(toolkits::informer_get_tool)
                .service(toolkits::informer_update_tool)
                .service(toolkits::informer_delete_tool),
        )
        .service(
            // The literal paths before `/{name}`: a tool named `logs` or `call` is reached by
            // its `<server>__<tool>` name.
            scope::scope(chatai::PREFIX)
                .service(chatai::chatai_list_tools)
                .service(chatai::chatai_tool_logs)
                .service(chatai::chatai_call_tool)
                .service(chatai::chatai_toggle_category)
                .service(chatai::chatai_get_tool)
                .service(chatai::chatai_toggle_tool),
        )
        .service(portability::export_configuration)
        .service(portability::import_configuration)
        .service(
            scope::scope("/api/v1/tools")
                .service(openwebui::openwebui_list_tools)
                .service(openwebui::openwebui_list_workspace_tools)
                .service(openwebui::openwebui_export_tools)
                .service(openwebui::openwebui_get_tool)
                .service(openwebui::openwebui_update_tool_access),
        )
        .service(
            scope::scope("/ai-service")
                .service(emporix::emporix_list_tools)
                .service(emporix::emporix_search_tools)
                .service(emporix::emporix_get_tool)
                .service(emporix::emporix_upsert_tool)
                .service(emporix::emporix_patch_tool)
                .service(emporix::emporix_delete_tool),
        )
        .service(
            scope::scope("/api/v1/users")
                .service(access::list_users)
                .service(access::get_user)
                .service(access::update_user),
        );
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> serde_json::Value {
    let (_, api) = App::new().into_utoipa_app().openapi(openapi::ApiDoc::openapi()).configure(routes).split_for_parts();
    // Modifiers run on the derived document only; run them again over the collected paths.
    let mut api = api;
    for modifier in openapi::modifiers() {
        modifier.modify(&mut api);
    }
    // The limits are written from the domain's constants (attributes take only literals).
    limits::apply(&mut api);
    let mut document = serde_json::to_value(api).expect("the OpenAPI document serializes");
    spec_rules::apply(&mut document);
    document
}

/// The OpenAPI document as served at `/openapi.json`: serialized once, shared by every worker,
/// with the methods of each documented path (to tell a wrong method from a wrong path).
#[derive(Clone)]
pub struct ApiDocument {
    json: web::Bytes,
    paths: Arc<Vec<(Vec<String>, Vec<String>)>>,
}

impl ApiDocument {
    /// The document of [`openapi`], serialized.
    pub fn new() -> Self {
        let document = openapi();
        let paths = document["paths"].as_object().map(|paths| {
            paths
                .iter()
                .map(|(path, operations)| {
                    let segments = path.split('/').map(str::to_owned).collect();
                    let methods = operations.as_object().map(|o| o.keys().map(|m| m.to_uppercase()).collect());
                    (segments, methods.unwrap_or_default())
                })
                .collect()
        });
        Self {
            json: serde_json::to_vec(&document).expect("the OpenAPI document serializes").into(),
            paths: Arc::new(paths.unwrap_or_default()),
        }
    }

    /// The methods of the documented path `path` matches (`{name}` segments match any).
    fn methods_of(&self, path: &str) -> Option<&[String]> {
        let segments: Vec<&str> = path.split('/').collect();
        let matches = |template: &[String]| {
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        };
        self.paths.iter().find(|(template, _)| matches(template)).map(|(_, methods)| methods.as_slice())
    }
}

impl Default for ApiDocument {
    fn default() -> Self {
        Self::new()
    }
}

/// The complete application: routes, middleware, body limits, API docs and a problem+json 404.
pub fn app(
    state: web::Data<AppState>,
    document: ApiDocument,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let paths = document.clone();
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::default().limit(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .configure(|cfg| routes(&mut ServiceConfig::new(cfg)))
        .route("/docs", web::get().to(docs_redirect))
        .route(
            "/openapi.json",
            web::get().to(move || {
                let body = document.json.clone();
                async move { HttpResponse::Ok().content_type("application/json").body(body) }
            }),
        )
        .route("/mcp", web::route().to(mcp_gateway::endpoint))
        .route("/mcp/servers/{server_name}", web::route().to(mcp_gateway::endpoint))
        .route("/mcp/toolkits/{toolkit}", web::route().to(mcp_gateway::endpoint))
        .route("/.well-known/oauth-protected-resource", web::get().to(protected_resource))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .default_service(web::to(move |request: actix_web::HttpRequest| {
            let allowed = paths.methods_of(request.path()).map(|m| m.join(", "));
            async move { unrouted(allowed) }
        }))
        .wrap(from_fn(context::pipeline))
}

/// The MCP gateway's protected resource metadata (RFC 9728).
async fn protected_resource(request: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let base = mcp_gateway::base_url(&request.connection_info());
    let issuer = state.jwt.as_deref().and_then(JwtVerifier::issuer);
    HttpResponse::Ok().json(mcp_gateway::resource_metadata(&base, issuer))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

/// A request no route took: a documented path with another method (405 with `Allow`), or a
/// path that names nothing (404).
fn unrouted(allowed: Option<String>) -> Result<HttpResponse, ApiError> {
    use toolhub_domain::ErrorCode;
    match allowed {
        Some(allowed) => Err(ApiError::new(ErrorCode::MethodNotAllowed, format!("this path accepts {allowed}"))
            .with_header("Allow", allowed)),
        None => Err(ApiError::new(ErrorCode::NotFound, "no such endpoint")),
    }
}
