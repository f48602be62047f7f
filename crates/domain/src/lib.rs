//! Toolhub's domain: the entities (tool servers, tools, principals, API keys), their invariants,
//! the application services that act on them, and the ports (async traits) that storage,
//! upstream and HTTP adapters implement.
//!
//! Nothing here performs I/O; an embedder brings its own adapters, or enables the `testing`
//! feature for in-memory repositories.

pub mod access;
pub mod api_key;
pub mod builtin;
pub mod calls;
pub mod circuit;
pub mod error;
pub mod patch;
pub mod ports;
pub mod principal;
pub mod secret;
pub mod server;
pub mod services;
pub mod tool;
pub mod upstream;
pub mod validation;
pub mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{DomainError, ErrorCode, ResourceKind};
pub use patch::Patch;
pub use principal::{DEFAULT_TENANT, Principal, Role};

/// A new, time-ordered, 26-character identifier (ULID), the format of every id Toolhub issues.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// The time type used throughout the domain.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
