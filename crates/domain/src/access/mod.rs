//! Who may do what with which tool: grants, role rules, and the one decision function every path
//! uses (listings, calls, the access check). Decisions come from an in-memory index kept in step
//! with writes; nothing here touches a database. The rules are written out in
//! docs/architecture.md ("Access decisions").
//!
//! - [`model`]: levels, subjects, targets, conditions, grants, role rules;
//! - [`glob`]: the anchored glob patterns of role rules;
//! - [`index`]: [`AccessIndex`], the in-memory index and [`AccessIndex::decide`];
//! - [`quota`]: [`UsageCounters`], calls counted against hourly and daily limits.

pub mod glob;
pub mod index;
pub mod model;
pub mod quota;

pub use glob::glob_match;
pub use index::{AccessIndex, DecidedBy, Decision, ToolRef, bypasses};
pub use model::{AccessLevel, Conditions, Grant, Moment, RoleRule, Subject, Target, Window, limits, validate_pattern};
pub use quota::{Quota, UsageCounters};
