//! Categories: a label on tools (a tool's own, else its server's) with a switch. A disabled
//! category disables its tools: users no longer see them listed, nobody calls them
//! (`TOOL_DISABLED`); administrators still see them, with the category's state. Each tool's
//! own switch is kept apart, so enabling the category again restores every tool as it was.

use crate::{Timestamp, server::ToolServer, tool::Tool};

/// The stored switch of one category of a tenant. Categories without one are enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySwitch {
    /// The tenant.
    pub tenant: String,
    /// The category, as tools and servers name it.
    pub name: String,
    /// Whether its tools may be listed to users and called.
    pub enabled: bool,
    /// When it was last switched.
    pub updated_at: Timestamp,
}

/// The category a tool is in: its own, else its server's.
pub fn category_of<'a>(tool: &'a Tool, server: &'a ToolServer) -> Option<&'a str> {
    tool.category.as_deref().or(server.category.as_deref())
}

/// Checks a category name as a path or body gives it: 1 to [`crate::server::limits::CATEGORY_MAX`]
/// characters.
pub fn validate_name(name: &str) -> Result<(), crate::DomainError> {
    let mut v = crate::validation::Validator::default();
    v.text("category", name, 1, crate::server::limits::CATEGORY_MAX);
    v.finish()
}
