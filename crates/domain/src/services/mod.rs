//! Application services: the use cases, written against ports.

pub mod auth;
pub mod lifecycle;
pub mod servers;

pub use auth::{AuthService, Identity, NewApiKey};
pub use lifecycle::{LifecycleService, Outcome};
pub use servers::{ServerService, ServerView};
