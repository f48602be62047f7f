//! Application services: the use cases, written against ports.

pub mod access;
pub mod auth;
pub mod lifecycle;
pub mod servers;

pub use access::{AccessReport, AccessService, GrantPatch, NewGrant, RuleInput, UserPatch};
pub use auth::{AuthService, Identity, NewApiKey};
pub use lifecycle::{LifecycleService, Outcome};
pub use servers::{ServerService, ServerView};
