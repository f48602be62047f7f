//! The OpenAPI document: generated from the handlers and DTOs, plus what no handler can say
//! (security scheme, the headers every response carries, shared error responses).

use std::collections::BTreeMap;

use toolhub_domain::ErrorCode;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        extensions::ExtensionsBuilder,
        header::HeaderBuilder,
        response::Response,
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::problem::{PROBLEM_JSON, Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Toolhub",
        description = "Tool-server registry, access engine and MCP gateway. Every endpoint but \
            /healthz, /readyz, /openapi.json and /docs needs `Authorization: Bearer <API key or JWT>`. \
            Errors are RFC 9457 problem details with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "Tool Servers", description = "Register, run and inspect tool servers, their tools and who may use them (the seed API)."),
        (name = "Access Grants", description = "Access to tools and servers for users (`user:<id>`), groups (`group:<name>`) and everyone (`*`)."),
        (name = "Toolkits", description = "Named, ordered bundles of tools across servers; each is an MCP endpoint (`/mcp/toolkits/{name}`) and a target of grants."),
        (name = "Informer Toolkits", description = "Seed 004's (Informer 5) toolkit tools API: HAL collections, custom tools, sync of discovered tools."),
        (name = "ChatAI Tools", description = "Seed 002's (ChatAI Plugin) tools API: `{success, data}` answers, `{success: false, error, code}` errors, categories with switches, the call log, debug calls."),
        (name = "Emporix Agentic Tools", description = "Seed 003's (Emporix AI Service) agentic tools: a tool is a tool server (id = its name); Emporix queries, upsert with `metadata.version` locking, PATCH operations, forced deletes. Errors are problem+json."),
        (name = "Open WebUI Tools", description = "Seed 001's (Open WebUI) tools API: servers (`server:mcp:{name}`, `server:{name}`) and toolkits in one list, access grants, write access, export."),
        (name = "Export and Import", description = "A tenant's configuration as a portable document (secrets left out or sealed with a passphrase); imports of exports and of `mcpServers` JSON."),
        (name = "Users", description = "Principals: role, groups, disabled."),
        (name = "API Keys", description = "Keys that authenticate principals: issue, list, revoke, rotate."),
        (name = "Health", description = "Liveness and readiness probes."),
    ),
    components(schemas(Problem, ProblemField, crate::dto::ChatAiError)),
    modifiers(&BearerSecurity, &CommonHeaders),
)]
pub struct ApiDoc;

/// The seed names its bearer scheme `CustomHTTPBearer`; every operation requires it unless it
/// says otherwise.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "CustomHTTPBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key (th_...) or a JWT"))
                    .build(),
            ),
        );
        openapi.security =
            Some(vec![utoipa::openapi::security::SecurityRequirement::new("CustomHTTPBearer", Vec::<String>::new())]);
    }
}

/// Documents the correlation and rate-limit headers on every response, and `Retry-After` on 429.
struct CommonHeaders;

impl Modify for CommonHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header = |description: &str, ty: Type| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(ty)))
                .description(Some(description))
                .build()
        };
        let common = [
            ("x-correlation-id", header("Request correlation ID for tracing", Type::String)),
            ("X-RateLimit-Limit-Minute", header("Requests allowed per minute", Type::Integer)),
            ("X-RateLimit-Limit-Hour", header("Requests allowed per hour", Type::Integer)),
            ("X-RateLimit-Remaining-Minute", header("Requests remaining this minute", Type::Integer)),
            ("X-RateLimit-Remaining-Hour", header("Requests remaining this hour", Type::Integer)),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    for (name, h) in &common {
                        response.headers.insert((*name).to_owned(), RefOr::T(h.clone()));
                    }
                    if status == "429" {
                        response.headers.insert(
                            "Retry-After".to_owned(),
                            RefOr::T(header("Seconds until a request may succeed", Type::Integer)),
                        );
                    }
                }
            }
        }
    }
}

/// The problem responses of a set of error codes, grouped by status: each response lists its
/// codes (with their meaning) in its description and, for programs, in `x-problem-codes`.
pub fn problem_responses(codes: &[ErrorCode]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let list = by_status.entry(code.status()).or_default();
        if !list.contains(code) {
            list.push(*code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let description = codes.iter().map(|c| format!("`{c}`: {}", c.description())).collect::<Vec<_>>().join(" ");
            let names: Vec<serde_json::Value> = codes.iter().map(|c| c.as_str().into()).collect();
            let response = ResponseBuilder::new()
                .description(description)
                .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
                .extensions(Some(ExtensionsBuilder::new().add(PROBLEM_CODES, names).build()))
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// The OpenAPI extension on problem responses that lists their codes.
pub const PROBLEM_CODES: &str = "x-problem-codes";

/// What any authenticated operation may answer besides its own outcomes.
pub const PROTECTED: &[ErrorCode] =
    &[ErrorCode::Unauthenticated, ErrorCode::AccessDenied, ErrorCode::TooManyRequests, ErrorCode::InternalError];

/// What any operation with a JSON body may answer about that body.
pub const BODY: &[ErrorCode] = &[
    ErrorCode::MalformedRequest,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::ValidationFailed,
];

/// What reaching an upstream server may answer (a reconnection or token request passes the
/// egress policy again).
pub const UPSTREAM: &[ErrorCode] =
    &[ErrorCode::EgressDenied, ErrorCode::ExecutionError, ErrorCode::UpstreamUnavailable, ErrorCode::UpstreamTimeout];

/// Declares the error responses of operations, from the error catalogue: a type per set, named
/// in the operation's `responses(...)`. Codes are `ErrorCode` variants; groups are code slices.
///
/// ```ignore
/// problems!(UpdateServerErrors = [ServerNotFound, VersionMismatch, Conflict] + BODY + PROTECTED);
/// ```
#[macro_export]
macro_rules! problems {
    ($($(#[$meta:meta])* $name:ident = [$($code:ident),* $(,)?] $(+ $group:ident)*;)+) => {$(
        $(#[$meta])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                #[allow(unused_mut)]
                let mut codes: Vec<toolhub_domain::ErrorCode> = vec![$(toolhub_domain::ErrorCode::$code),*];
                $(codes.extend_from_slice($crate::openapi::$group);)*
                $crate::openapi::problem_responses(&codes)
            }
        }
    )+};
}

/// The document-wide modifiers, for documents assembled from collected paths.
pub fn modifiers() -> Vec<&'static dyn Modify> {
    vec![&BearerSecurity, &CommonHeaders]
}
