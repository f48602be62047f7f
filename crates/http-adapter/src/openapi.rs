//! The OpenAPI document: generated from the handlers and DTOs, plus what no handler can say
//! (security scheme, the headers every response carries, shared error responses).

use std::collections::BTreeMap;

use utoipa::{
    IntoResponses, Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        response::Response,
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::problem::{PROBLEM_JSON, Problem, ProblemField};

pub const TOOL_SERVERS_TAG: &str = "Tool Servers";

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
        (name = "Users", description = "Principals: role, groups, disabled."),
        (name = "Health", description = "Liveness and readiness probes."),
    ),
    components(schemas(Problem, ProblemField)),
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

/// A problem+json response with a description.
pub fn problem_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
        .into()
}

fn responses(items: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    items.iter().map(|(status, description)| ((*status).to_owned(), problem_response(description))).collect()
}

/// What any authenticated operation may answer besides its own outcomes.
pub struct Protected;

impl IntoResponses for Protected {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            ("401", "Missing, invalid or expired token (`UNAUTHENTICATED`)"),
            ("403", "The caller's role does not allow this, or `X-Tenant` names another tenant (`ACCESS_DENIED`)"),
            ("429", "Request rate limit exceeded (`RATE_LIMITED`); see `Retry-After`"),
            ("500", "Internal failure, such as an unreachable database (`INTERNAL_ERROR`)"),
        ])
    }
}

/// What any operation with a JSON body may answer about that body.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            ("400", "The body is not valid JSON (`MALFORMED_REQUEST`)"),
            ("413", "The body is too large (`PAYLOAD_TOO_LARGE`)"),
            ("415", "The body is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`)"),
            ("422", "Invalid fields (`VALIDATION_FAILED`), listed in `errors`"),
        ])
    }
}

/// Operations declared for client compatibility whose implementation has not landed yet.
pub struct Pending;

impl IntoResponses for Pending {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[("501", "Not implemented in this version of Toolhub (`NOT_IMPLEMENTED`)")])
    }
}

/// The document-wide modifiers, for documents assembled from collected paths.
pub fn modifiers() -> Vec<&'static dyn Modify> {
    vec![&BearerSecurity, &CommonHeaders]
}

/// An id in the path that names nothing in the caller's tenant.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[("404", "No such resource in this tenant (`*_NOT_FOUND`)")])
    }
}

/// A write that would duplicate an existing resource.
pub struct Duplicate;

impl IntoResponses for Duplicate {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[("409", "It exists already (`CONFLICT`)")])
    }
}

/// A query string with invalid values.
pub struct BadQuery;

impl IntoResponses for BadQuery {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[("422", "Invalid query parameters (`VALIDATION_FAILED`)")])
    }
}
