//! Tools: what a server offers, discovered from it.

use crate::{Timestamp, server::wire_enum};

wire_enum! {
    /// A tool's administrative state; availability upstream is the separate `is_available`.
    ToolStatus { Enabled = "enabled", Disabled = "disabled", Unavailable = "unavailable", Error = "error" }
}

/// A tool of a server, with its usage counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub id: String,
    pub tenant: String,
    pub server_id: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub args_schema: Option<serde_json::Value>,
    pub output_schema: Option<serde_json::Value>,
    pub annotations: Option<serde_json::Value>,
    pub status: ToolStatus,
    pub is_available: bool,
    pub bypass_when_unavailable: bool,
    pub category: Option<String>,
    pub sort_order: i32,
    pub discovered_at: Option<Timestamp>,
    pub discovered_by: Option<String>,
    pub total_calls: i64,
    pub total_errors: i64,
    pub last_called: Option<Timestamp>,
    pub last_error: Option<String>,
    pub avg_response_time_ms: Option<f64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The display name the seed derives from a tool name: underscores to spaces, words capitalised.
pub fn display_name_for(name: &str) -> String {
    name.split(['_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_names_are_title_cased() {
        assert_eq!(super::display_name_for("get_current_time"), "Get Current Time");
        assert_eq!(super::display_name_for("echo"), "Echo");
        assert_eq!(super::display_name_for("get-sum"), "Get-sum");
    }
}
