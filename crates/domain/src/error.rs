//! The one error type of the domain; the HTTP adapter alone maps it to status codes.

use crate::validation::FieldError;

/// The kinds of resource a lookup can miss, so that "not found" carries a precise code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    ToolServer,
    Tool,
    Permission,
    RoleRule,
    User,
    ApiKey,
}

impl ResourceKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::ToolServer => "tool server",
            Self::Tool => "tool",
            Self::Permission => "permission",
            Self::RoleRule => "role access rule",
            Self::User => "user",
            Self::ApiKey => "API key",
        }
    }

    fn not_found_code(self) -> &'static str {
        match self {
            Self::ToolServer => "SERVER_NOT_FOUND",
            Self::Tool => "TOOL_NOT_FOUND",
            Self::Permission => "PERMISSION_NOT_FOUND",
            Self::RoleRule => "ROLE_RULE_NOT_FOUND",
            Self::User => "USER_NOT_FOUND",
            Self::ApiKey => "API_KEY_NOT_FOUND",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{} '{id}' not found", kind.label())]
    NotFound { kind: ResourceKind, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the {} was changed by someone else (current version {current})", kind.label())]
    VersionMismatch { kind: ResourceKind, current: i64 },
    #[error("the request contains invalid data")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
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
    #[error("{0} is not implemented yet")]
    NotImplemented(&'static str),
    /// A failure of an adapter (database, network); the text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Storage(String),
}

impl DomainError {
    pub fn not_found(kind: ResourceKind, id: impl Into<String>) -> Self {
        Self::NotFound { kind, id: id.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable upper-case code that problem responses and the call log carry.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { kind, .. } => kind.not_found_code(),
            Self::Conflict(_) => "CONFLICT",
            Self::VersionMismatch { .. } => "VERSION_MISMATCH",
            Self::Validation(_) => "VALIDATION_FAILED",
            Self::Forbidden(_) => "ACCESS_DENIED",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::ToolDisabled(_) => "TOOL_DISABLED",
            Self::InvalidArguments(_) => "INVALID_ARGS",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Upstream(e) => e.code(),
            Self::NotImplemented(_) => "NOT_IMPLEMENTED",
            Self::Storage(_) => "INTERNAL_ERROR",
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
