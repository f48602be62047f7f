//! The domain's error type, and the catalogue of every stable error code Toolhub answers with.
//!
//! [`ErrorCode`] is the one table of codes: each has its HTTP status, a title and a problem type.
//! The HTTP adapter renders problem responses and documents its OpenAPI responses from it, the
//! call log stores its codes, and docs/api-guide.md lists it.

use crate::validation::FieldError;

macro_rules! error_codes {
    ($($variant:ident = ($code:literal, $status:literal, $title:literal, $description:literal),)+) => {
        /// Every stable, upper-case error code, with its HTTP status, title and meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $(#[doc = $description] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),+];

            /// The code as clients see it, e.g. `SERVER_NOT_FOUND`.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            /// The HTTP status a problem with this code carries.
            pub fn status(self) -> u16 {
                match self { $(Self::$variant => $status),+ }
            }

            /// A short summary of the problem type (RFC 9457 `title`).
            pub fn title(self) -> &'static str {
                match self { $(Self::$variant => $title),+ }
            }

            /// When Toolhub answers with this code, in a sentence.
            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $description),+ }
            }
        }
    };
}

error_codes! {
    ServerNotFound = ("SERVER_NOT_FOUND", 404, "Resource Not Found",
        "A server id or name that names nothing in the caller's tenant (or nothing it may see)."),
    ToolNotFound = ("TOOL_NOT_FOUND", 404, "Resource Not Found",
        "A tool id or name that names nothing the caller may see."),
    PermissionNotFound = ("PERMISSION_NOT_FOUND", 404, "Resource Not Found",
        "A grant (the seed's permission) that does not exist."),
    RoleRuleNotFound = ("ROLE_RULE_NOT_FOUND", 404, "Resource Not Found",
        "A role rule that does not exist."),
    UserNotFound = ("USER_NOT_FOUND", 404, "Resource Not Found",
        "A user that does not exist in the tenant."),
    ApiKeyNotFound = ("API_KEY_NOT_FOUND", 404, "Resource Not Found",
        "An API key that does not exist in the tenant (or is not the caller's)."),
    ToolkitNotFound = ("TOOLKIT_NOT_FOUND", 404, "Resource Not Found",
        "A toolkit id or name that names nothing the caller may see."),
    CategoryNotFound = ("CATEGORY_NOT_FOUND", 404, "Resource Not Found",
        "A category that no tool or server of the caller's tenant (that it may see) is in."),
    TenantNotFound = ("TENANT_NOT_FOUND", 404, "Resource Not Found",
        "A tenant in the path that is not the caller's (only super administrators name others)."),
    NotFound = ("NOT_FOUND", 404, "Not Found",
        "A path that names no endpoint."),
    MethodNotAllowed = ("METHOD_NOT_ALLOWED", 405, "Method Not Allowed",
        "The path exists, but not with this method; `Allow` lists the methods it has."),
    Conflict = ("CONFLICT", 409, "Conflict",
        "The write would duplicate an existing resource, or the resource's state forbids it."),
    VersionMismatch = ("VERSION_MISMATCH", 409, "Version Mismatch",
        "The resource changed since the `version` the caller sent."),
    ToolDisabled = ("TOOL_DISABLED", 409, "Tool Disabled",
        "The tool exists but is disabled."),
    ValidationFailed = ("VALIDATION_FAILED", 422, "Validation Failed",
        "Invalid fields, listed in `errors`."),
    InvalidArgs = ("INVALID_ARGS", 422, "Invalid Arguments",
        "The call's arguments do not match the tool's input schema."),
    InvalidSpec = ("INVALID_SPEC", 422, "Unusable Document",
        "The OpenAPI document of an `openapi` server cannot be used; the detail says where and why."),
    InvalidQuery = ("INVALID_QUERY", 400, "Invalid Query",
        "A list's `q`, `sort`, `fields`, `pageSize` or `pageNumber` cannot be read or names a field the list does not have; the detail says which."),
    MalformedRequest = ("MALFORMED_REQUEST", 400, "Bad Request",
        "The body is not valid JSON of the expected shape."),
    PayloadTooLarge = ("PAYLOAD_TOO_LARGE", 413, "Payload Too Large",
        "The body is larger than Toolhub accepts."),
    UnsupportedMediaType = ("UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type",
        "The body is not `application/json`."),
    Unauthenticated = ("UNAUTHENTICATED", 401, "Authentication Required",
        "No token, or a token Toolhub does not accept."),
    AccessDenied = ("ACCESS_DENIED", 403, "Access Denied",
        "The caller's role or grants do not allow this."),
    EgressDenied = ("EGRESS_DENIED", 403, "Egress Denied",
        "The egress policy refuses the server's address."),
    RateLimited = ("RATE_LIMITED", 429, "Tool Quota Exhausted",
        "The deciding grant's or rule's call quota of the tool is used up."),
    TooManyRequests = ("TOO_MANY_REQUESTS", 429, "Too Many Requests",
        "The caller sent more requests than its per-minute or per-hour request limit."),
    UpstreamTimeout = ("UPSTREAM_TIMEOUT", 504, "Upstream Timeout",
        "The upstream server did not answer within the server's timeout."),
    UpstreamUnavailable = ("UPSTREAM_UNAVAILABLE", 503, "Upstream Unavailable",
        "The upstream server is not running, cannot be reached, or its circuit is open."),
    ExecutionError = ("EXECUTION_ERROR", 502, "Execution Error",
        "The upstream server answered the call with a protocol error."),
    CallCancelled = ("CALL_CANCELLED", 499, "Call Cancelled",
        "The caller cancelled the call before it ended (MCP clients; recorded in the call log, never answered over REST)."),
    NotReady = ("NOT_READY", 503, "Not Ready",
        "The database is unreachable or migrations are missing."),
    InternalError = ("INTERNAL_ERROR", 500, "Internal Server Error",
        "A failure inside Toolhub (such as its database); details are logged, never sent."),
}

impl ErrorCode {
    /// The problem type, a URI reference: `/problems/<code in kebab case>`.
    pub fn problem_type(self) -> String {
        format!("/problems/{}", self.as_str().to_ascii_lowercase().replace('_', "-"))
    }

    /// Finds a code by its text.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of resource a lookup can miss, so that "not found" carries a precise code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A tool server.
    ToolServer,
    /// A tool.
    Tool,
    /// A grant (the seed's permission).
    Permission,
    /// A role rule.
    RoleRule,
    /// A user.
    User,
    /// An API key.
    ApiKey,
    /// A toolkit.
    Toolkit,
    /// A tool of a toolkit.
    ToolkitTool,
    /// A category of tools.
    Category,
    /// A tenant.
    Tenant,
}

impl ResourceKind {
    /// How the resource is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::ToolServer => "tool server",
            Self::Tool => "tool",
            Self::Permission => "permission",
            Self::RoleRule => "role access rule",
            Self::User => "user",
            Self::ApiKey => "API key",
            Self::Toolkit => "toolkit",
            Self::ToolkitTool => "toolkit tool",
            Self::Category => "category",
            Self::Tenant => "tenant",
        }
    }

    /// The seed's `resourceType` of a 404 (`tool_server`, `tool_permission`, ...).
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::ToolServer => "tool_server",
            Self::Tool => "tool",
            Self::Permission => "tool_permission",
            Self::RoleRule => "role_access_rule",
            Self::User => "user",
            Self::ApiKey => "api_key",
            Self::Toolkit => "toolkit",
            Self::ToolkitTool => "toolkit_tool",
            Self::Category => "category",
            Self::Tenant => "tenant",
        }
    }

    fn not_found_code(self) -> ErrorCode {
        match self {
            Self::ToolServer => ErrorCode::ServerNotFound,
            Self::Tool => ErrorCode::ToolNotFound,
            Self::Permission => ErrorCode::PermissionNotFound,
            Self::RoleRule => ErrorCode::RoleRuleNotFound,
            Self::User => ErrorCode::UserNotFound,
            Self::ApiKey => ErrorCode::ApiKeyNotFound,
            Self::Toolkit => ErrorCode::ToolkitNotFound,
            Self::ToolkitTool => ErrorCode::ToolNotFound,
            Self::Category => ErrorCode::CategoryNotFound,
            Self::Tenant => ErrorCode::TenantNotFound,
        }
    }
}

/// What can go wrong in the domain. Each variant has one [`ErrorCode`] (see [`Self::code`]).
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The resource does not exist in the caller's tenant, or the caller may not see it.
    #[error("{} '{id}' not found", kind.label())]
    NotFound {
        /// What kind of resource.
        kind: ResourceKind,
        /// The id or name asked for.
        id: String,
    },
    /// A uniqueness rule, or the resource's current state, forbids the change.
    #[error("{0}")]
    Conflict(String),
    /// Optimistic locking: the resource changed since the version the caller read.
    #[error("the {} was changed by someone else (current version {current})", kind.label())]
    VersionMismatch {
        /// What kind of resource.
        kind: ResourceKind,
        /// Its version now.
        current: i64,
    },
    /// Invalid input, field by field.
    #[error("the request contains invalid data")]
    Validation(Vec<FieldError>),
    /// A list query that cannot be read, or names a field the list does not have.
    #[error("{0}")]
    InvalidQuery(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller is not known (no token, a bad token, a disabled user).
    #[error("{0}")]
    Unauthenticated(String),
    /// The tool exists but an administrator disabled it.
    #[error("{0}")]
    ToolDisabled(String),
    /// The call's arguments do not match the tool's input schema.
    #[error("the arguments do not match the tool's input schema")]
    InvalidArguments(Vec<FieldError>),
    /// The deciding grant's or rule's call quota is used up.
    #[error("the call quota of this tool is used up")]
    RateLimited(crate::access::Quota),
    /// An upstream server failed or did not answer; the text is safe for clients.
    #[error("{0}")]
    Upstream(crate::upstream::UpstreamError),
    /// A failure of an adapter (database, network); the text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Storage(String),
}

impl DomainError {
    /// A missing resource of this kind.
    pub fn not_found(kind: ResourceKind, id: impl Into<String>) -> Self {
        Self::NotFound { kind, id: id.into() }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable code that problem responses and the call log carry.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound { kind, .. } => kind.not_found_code(),
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::Forbidden(_) => ErrorCode::AccessDenied,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::ToolDisabled(_) => ErrorCode::ToolDisabled,
            Self::InvalidArguments(_) => ErrorCode::InvalidArgs,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Upstream(e) => e.code(),
            Self::Storage(_) => ErrorCode::InternalError,
        }
    }

    /// The text a client may see: storage causes stay in the logs, validation failures name
    /// their fields.
    pub fn client_message(&self) -> String {
        match self {
            Self::Storage(_) => "an internal error occurred".into(),
            Self::Validation(errors) | Self::InvalidArguments(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        }
    }
}

impl From<crate::upstream::UpstreamError> for DomainError {
    fn from(e: crate::upstream::UpstreamError) -> Self {
        Self::Upstream(e)
    }
}

/// The result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_upper_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(code.as_str().bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!((400..600).contains(&code.status()), "{code}");
            assert!(code.problem_type().starts_with("/problems/"));
        }
    }
}
