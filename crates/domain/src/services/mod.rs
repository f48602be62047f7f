//! Application services: the use cases, written against ports.

pub mod access;
pub mod auth;
pub mod calls;
pub mod catalogue;
pub mod lifecycle;
pub mod servers;

pub use access::{AccessReport, AccessService, GrantPatch, NewGrant, RuleInput, UserPatch};
pub use auth::{AuthService, Identity, NewApiKey};
pub use calls::{CallOutcome, CallService};
pub use catalogue::{CALL_TARGET_CACHE_SECS, CallTarget, Catalogue, ToolSelector};
pub use lifecycle::{LifecycleService, Outcome};
pub use servers::{ServerService, ServerView};
