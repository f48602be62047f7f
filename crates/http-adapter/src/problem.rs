//! RFC 9457 problem details: the one place where errors become HTTP responses.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use serde::Serialize;
use toolhub_domain::{DomainError, ErrorCode, upstream::UpstreamError, validation::FieldError};
use utoipa::ToSchema;

use crate::context;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response (`application/problem+json`, RFC 9457) with a stable machine `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type; `/problems/<code in kebab case>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type (one per code, see the error catalogue).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for people.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// A stable upper-case code, for programs (e.g. `SERVER_NOT_FOUND`).
    pub code: String,
    /// The request's correlation id, also in the `x-correlation-id` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// For 404s of a resource: its kind (`tool_server`, `tool`, `tool_permission`, ...).
    #[serde(rename = "resourceType", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// For 404s of a resource: the id that names nothing (cut to 200 characters).
    #[serde(rename = "resourceId", skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// For 422: each invalid field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request, e.g. `timeout` or `oauth_config.token_url`.
    pub field: String,
    pub message: String,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    /// For 404s of a resource: its kind and id (the seed's `resourceType`, `resourceId`).
    pub resource: Option<Box<(&'static str, String)>>,
    /// Extra response headers (for instance the remaining tool quota on 429).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// A problem with this catalogue code; its status and title come from the catalogue.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), errors: Vec::new(), retry_after: None, resource: None, headers: Vec::new() }
    }

    /// The same problem with one more response header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        DomainError::Validation(errors).into()
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        DomainError::Unauthenticated(detail.into()).into()
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn to_problem(&self) -> Problem {
        let (instance, correlation_id) =
            context::current().map(|c| (Some(c.path), Some(c.correlation_id))).unwrap_or_default();
        Problem {
            problem_type: self.code.problem_type(),
            title: self.code.title().to_owned(),
            status: self.code.status(),
            detail: self.detail.clone(),
            instance,
            code: self.code.as_str().to_owned(),
            correlation_id,
            resource_type: self.resource.as_ref().map(|r| r.0.to_owned()),
            resource_id: self.resource.as_ref().map(|r| echo(&r.1)),
            errors: self
                .errors
                .iter()
                .map(|e| ProblemField { field: e.field.clone(), message: e.message.clone() })
                .collect(),
        }
    }
}

/// At most this much of a client's text is echoed back in a problem.
const ECHO_MAX: usize = 200;

/// A client-sent value as a problem may repeat it: cut to [`ECHO_MAX`] characters.
pub fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

const INVALID_DATA: &str = "The request contains invalid data";

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code.status(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        let path = context::current().map(|c| c.path);
        let chatai = path.as_deref().is_some_and(crate::handlers::chatai::answers);
        response.content_type(if chatai { "application/json" } else { PROBLEM_JSON });
        if self.code == ErrorCode::Unauthenticated {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        for (name, value) in &self.headers {
            response.insert_header((*name, value.clone()));
        }
        if chatai {
            // The envelope has no field list: the fields go into the text.
            let fields: Vec<String> = self.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            let error = match fields.is_empty() {
                true => self.detail.clone(),
                false => format!("{} ({})", self.detail, fields.join("; ")),
            };
            return response.json(crate::dto::ChatAiError {
                success: false,
                error,
                code: self.code.as_str().to_owned(),
            });
        }
        response.json(self.to_problem())
    }
}

/// The remaining call quota of a tool, as response headers.
pub fn quota_headers(quota: &toolhub_domain::access::Quota) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    if let Some(hour) = quota.remaining_hour {
        headers.push(("X-Tool-Quota-Remaining-Hour", hour.to_string()));
    }
    if let Some(day) = quota.remaining_day {
        headers.push(("X-Tool-Quota-Remaining-Day", day.to_string()));
    }
    headers
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let code = error.code();
        match error {
            DomainError::NotFound { kind, ref id } => {
                Self { resource: Some(Box::new((kind.wire_name(), id.clone()))), ..Self::new(code, error.to_string()) }
            }
            DomainError::Validation(errors) => Self { errors, ..Self::new(code, INVALID_DATA) },
            DomainError::InvalidArguments(errors) => Self { errors, ..Self::new(code, INVALID_ARGS) },
            DomainError::RateLimited(quota) => Self {
                retry_after: quota.retry_after_secs,
                headers: quota_headers(&quota),
                ..Self::new(code, error.to_string())
            },
            DomainError::Upstream(UpstreamError::CircuitOpen { retry_after_secs }) => {
                Self { retry_after: Some(retry_after_secs), ..Self::new(code, error.to_string()) }
            }
            DomainError::Storage(ref cause) => {
                // The cause may name tables or hosts: log it, tell the client only that it failed.
                tracing::error!(%cause, "storage failure");
                Self::new(code, error.client_message())
            }
            other => Self::new(code, other.to_string()),
        }
    }
}

const INVALID_ARGS: &str = "the arguments do not match the tool's input schema";

/// Query-string rejections are 422, like any other invalid field.
pub fn query_error(error: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    // The message quotes the offending value: cut it, so a huge query is not echoed whole.
    ApiError::validation(vec![FieldError::new("query", echo(&error.to_string()))]).into()
}
