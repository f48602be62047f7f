//! Application services: the use cases, written against ports. [`Services::new`] wires them all
//! from a [`Ports`] and [`Settings`]; each can also be built on its own.
//!
//! | service | capability |
//! |---|---|
//! | [`ServerService`] | register, change, list and delete tool servers |
//! | [`LifecycleService`] | run servers: start, stop, supervision, discovery, bulk |
//! | [`ToolService`] | list tools as principals may see them; enable and disable tools |
//! | [`StatsService`] | a server's usage figures and uptime |
//! | [`AccessService`] | grants, role rules, decisions, the access check, visibility |
//! | [`UserService`] | users: role, groups, disabled |
//! | [`AuthService`] | credentials to principals; API keys |
//! | [`CallService`] | tool calls and the call log |
//! | [`ToolkitService`] | toolkits: bundles of tools across servers, custom tools, syncs |
//! | [`UpstreamNotices`] | servers' log messages and resource and prompt changes, to the MCP gateway |
//! | [`CatalogueCache`] | servers and tools as every service reads them, with a short-lived copy of call targets |

pub mod access;
pub mod auth;
pub mod calls;
pub mod catalogue_cache;
pub mod lifecycle;
pub mod notices;
pub mod offerings;
pub mod portability;
pub mod servers;
pub mod stats;
pub mod toolkits;
pub mod tools;
pub mod users;
mod wiring;

pub use access::{AccessReport, AccessService, GrantPatch, NewGrant, RuleInput};
pub use auth::{AuthService, CredentialSource, Identity, NewApiKey};
pub use calls::{CallOutcome, CallService};
pub use catalogue_cache::{CALL_TARGET_CACHE_SECS, CallTarget, CatalogueCache, Changes, ToolSelector};
pub use lifecycle::{BulkOperation, LifecycleService, Outcome};
pub use notices::{ListenerId, NoticeStream, UpstreamNotices};
pub use offerings::OfferingService;
pub use portability::{Conflicts, ImportChange, ImportOptions, ImportReport, PortabilityService};
pub use servers::{ServerService, ServerView};
pub use stats::{ServerStats, StatsService, UptimeLog};
pub use toolkits::{ToolkitContents, ToolkitService, ToolkitToolView};
pub use tools::{CatalogueEntry, CategoryState, ToolService};
pub use users::{UserPatch, UserService};
pub use wiring::{Ports, Services, Settings};
