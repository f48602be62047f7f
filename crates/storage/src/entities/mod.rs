//! sea-orm entities, one per table; they never leave this crate.

pub mod api_keys;
pub mod call_records;
pub mod grants;
pub mod mcp_sessions;
pub mod replicas;
pub mod role_rules;
pub mod server_runtimes;
pub mod tool_categories;
pub mod tool_servers;
pub mod toolkit_tools;
pub mod toolkits;
pub mod tools;
pub mod users;
