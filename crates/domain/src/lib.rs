//! Toolhub's domain: the entities (tool servers, tools, principals, API keys), their invariants,
//! the application services that act on them, and the ports (async traits) that storage,
//! upstream and HTTP adapters implement.
//!
//! Nothing here performs I/O; an embedder brings its own adapters, or enables the `testing`
//! feature for in-memory versions of every port. The rules the engine applies are in
//! docs/architecture.md ("Access decisions") and on [`access::AccessIndex`].
//!
//! # Example: services over in-memory ports, a grant, a check and a call
//!
//! ```
//! # #[cfg(feature = "testing")]
//! # futures::executor::block_on(async {
//! use std::sync::Arc;
//! use toolhub_domain::{
//!     Principal, Role,
//!     access::{AccessLevel, Conditions, Subject, Target},
//!     ports::SystemClock,
//!     server::{NewToolServer, TransportType},
//!     services::{NewGrant, Services, Settings, ToolSelector},
//!     testing::{InMemoryStore, InMemoryUpstream},
//!     upstream::DiscoveredTool,
//! };
//!
//! // Every port in memory; the upstream lists one tool and echoes calls back.
//! let search = DiscoveredTool::new("search", "Search the web", serde_json::json!({"type": "object"}));
//! let store = Arc::new(InMemoryStore::new());
//! let ports = store.ports(Arc::new(InMemoryUpstream::echo(vec![search])), Arc::new(SystemClock));
//! let services = Services::new(&ports, &Settings::default());
//!
//! let admin = Principal { id: "root".into(), tenant: "acme".into(), role: Role::Admin, groups: vec![] };
//! let alice = Principal { id: "alice".into(), tenant: "acme".into(), role: Role::User, groups: vec![] };
//!
//! // Register a server: it starts (auto_start) and its tools are discovered.
//! let input = NewToolServer {
//!     name: "web".into(),
//!     display_name: "Web".into(),
//!     transport_type: Some(TransportType::Http),
//!     base_url: Some("https://web.example/mcp".into()),
//!     ..Default::default()
//! };
//! let server = services.servers.create(&admin, input).await.unwrap();
//! assert_eq!(server.tools.len(), 1);
//!
//! // Alice may not call it yet; a grant on the server lets her.
//! let tool = ToolSelector::Name { server: Some("web"), tool: "search" };
//! let check = services.access.check(&admin, "alice", "search", Some("web")).await.unwrap();
//! assert!(!check.allowed(), "a user Toolhub never saw is not allowed");
//! services.users.ensure(&alice).await.unwrap();
//! let grant = NewGrant {
//!     subject: Subject::User("alice".into()),
//!     target: Target::Server(server.server.id.clone()),
//!     access_level: AccessLevel::Execute,
//!     conditions: Conditions { rate_limit_per_hour: Some(100), ..Default::default() },
//!     expires_at: None,
//! };
//! services.access.grant(&admin, grant).await.unwrap();
//! let check = services.access.check(&alice, "alice", "search", None).await.unwrap();
//! assert!(check.allowed());
//! assert_eq!(check.quota.remaining_hour, Some(100));
//!
//! let answer = services.calls.call(&alice, tool, None, None).await.unwrap();
//! assert!(!answer.is_error);
//! # });
//! ```

// Every public item is documented, and stays so: clippy runs with `-D warnings`.
#![warn(missing_docs)]

pub mod access;
pub mod api_key;
pub mod api_request;
pub mod builtin;
pub mod calls;
pub mod category;
pub mod cipher;
pub mod circuit;
pub mod error;
pub mod patch;
pub mod portable;
pub mod ports;
pub mod principal;
pub mod query;
pub mod replica;
pub mod secret;
pub mod server;
pub mod services;
pub mod tool;
pub mod toolkit;
pub mod upstream;
pub mod validation;
pub mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{DomainError, ErrorCode, ResourceKind};

// The crates whose types appear in this crate's API, at the versions it was built with.
pub use async_trait;
pub use chrono;
pub use serde_json;

/// The names an embedder uses most, in one import: `use toolhub_domain::prelude::*;`.
pub mod prelude {
    pub use crate::{
        DomainError, ErrorCode, Principal, Role, Timestamp,
        access::{AccessIndex, AccessLevel, Conditions, Decision, Grant, RoleRule, Subject, Target, ToolRef},
        error::DomainResult,
        ports::{Clock, SystemClock},
        services::{Ports, Services, Settings},
    };
}
pub use patch::Patch;
pub use principal::{DEFAULT_TENANT, Principal, Role};

/// A new, time-ordered, 26-character identifier (ULID), the format of every id Toolhub issues.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// The time type used throughout the domain.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
