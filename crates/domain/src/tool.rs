//! Tools: what a server offers, discovered from it.

use crate::{
    Timestamp, new_id,
    query::{Field, FieldKind, Fields, Queryable, Scalar},
    server::ToolServer,
    upstream::DiscoveredTool,
};

crate::wire_enum! {
    /// A tool's administrative state; availability upstream is the separate `is_available`.
    ToolStatus { Enabled = "enabled", Disabled = "disabled", Unavailable = "unavailable", Error = "error" }
}

/// A tool of a server, with its usage counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// The tool's id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// The server that offers it.
    pub server_id: String,
    /// Its name as the server gives it, unique on that server.
    pub name: String,
    /// A name for people (the MCP title, else derived from the name).
    pub display_name: String,
    /// What it does.
    pub description: Option<String>,
    /// The JSON Schema of its arguments (MCP `inputSchema`).
    pub args_schema: Option<serde_json::Value>,
    /// The JSON Schema of its structured result, if the server gives one.
    pub output_schema: Option<serde_json::Value>,
    /// MCP annotations (read-only, destructive, ... hints), as the server gives them.
    pub annotations: Option<serde_json::Value>,
    /// Its administrative state.
    pub status: ToolStatus,
    /// The server listed it at its last discovery.
    pub is_available: bool,
    /// The seed's flag, stored and returned.
    pub bypass_when_unavailable: bool,
    /// A category, for listings.
    pub category: Option<String>,
    /// Its place in the server's listing.
    pub sort_order: i32,
    /// When discovery last saw it.
    pub discovered_at: Option<Timestamp>,
    /// What discovered it (`start`, `restart`, `refresh`, `list_changed`).
    pub discovered_by: Option<String>,
    /// Calls recorded.
    pub total_calls: i64,
    /// Calls that failed or returned a tool error.
    pub total_errors: i64,
    /// When it was last called.
    pub last_called: Option<Timestamp>,
    /// The last failure's text (shown only to those who manage its server).
    pub last_error: Option<String>,
    /// The mean duration of its calls, in milliseconds.
    pub avg_response_time_ms: Option<f64>,
    /// When it was first discovered.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The fields a tool list can be queried and sorted by: what every reader of a tool sees
/// (not its last error, which only those who manage its server see).
pub const TOOL_FIELDS: Fields = &[
    Field::new("id", FieldKind::Text),
    Field::new("name", FieldKind::Text),
    Field::new("display_name", FieldKind::Text),
    Field::new("description", FieldKind::Text),
    Field::new("server_id", FieldKind::Text),
    Field::new("status", FieldKind::Text),
    Field::new("is_available", FieldKind::Bool),
    Field::new("category", FieldKind::Text),
    Field::new("sort_order", FieldKind::Integer),
    Field::new("total_calls", FieldKind::Integer),
    Field::new("total_errors", FieldKind::Integer),
    Field::new("avg_response_time_ms", FieldKind::Number),
    Field::new("last_called", FieldKind::Time),
    Field::new("discovered_at", FieldKind::Time),
    Field::new("created_at", FieldKind::Time),
    Field::new("updated_at", FieldKind::Time),
];

impl Queryable for Tool {
    fn value(&self, field: &str) -> Option<Scalar> {
        let text = Scalar::text;
        match field {
            "id" => text(&self.id),
            "name" => text(&self.name),
            "display_name" => text(&self.display_name),
            "description" => self.description.as_deref().and_then(text),
            "server_id" => text(&self.server_id),
            "status" => text(self.status.as_str()),
            "is_available" => Some(Scalar::Bool(self.is_available)),
            "category" => self.category.as_deref().and_then(text),
            "sort_order" => Some(Scalar::Integer(self.sort_order.into())),
            "total_calls" => Some(Scalar::Integer(self.total_calls)),
            "total_errors" => Some(Scalar::Integer(self.total_errors)),
            "avg_response_time_ms" => self.avg_response_time_ms.map(Scalar::Number),
            "last_called" => self.last_called.map(Scalar::Time),
            "discovered_at" => self.discovered_at.map(Scalar::Time),
            "created_at" => Some(Scalar::Time(self.created_at)),
            "updated_at" => Some(Scalar::Time(self.updated_at)),
            _ => None,
        }
    }
}

impl Tool {
    /// The tool as someone who may not manage its server sees it: without the last error, which
    /// quotes another user's call.
    pub fn reader_view(mut self) -> Self {
        self.last_error = None;
        self
    }
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

/// What a discovery changes: tools to insert and tools to update.
#[derive(Debug, Default, PartialEq)]
pub struct Reconciliation {
    /// Tools to store for the first time.
    pub inserted: Vec<Tool>,
    /// Stored tools whose listing changed.
    pub updated: Vec<Tool>,
}

/// Merges a server's listed tools into its stored ones. Listed tools are created (enabled) or
/// refreshed and marked available, in the order the server lists them; stored tools the server
/// no longer lists become unavailable but are kept, with their grants and counters. An
/// administrator's `disabled` survives every refresh.
pub fn reconcile(
    server: &ToolServer,
    existing: &[Tool],
    discovered: &[DiscoveredTool],
    discovered_by: &str,
    now: Timestamp,
) -> Reconciliation {
    let mut result = Reconciliation::default();
    for (order, found) in discovered.iter().enumerate() {
        let order = i32::try_from(order).unwrap_or(i32::MAX);
        match existing.iter().find(|t| t.name == found.name) {
            Some(stored) => {
                let mut tool = stored.clone();
                tool.description = found.description.clone();
                tool.args_schema = Some(found.input_schema.clone());
                tool.output_schema = found.output_schema.clone();
                tool.annotations = found.annotations.clone();
                tool.sort_order = order;
                tool.is_available = true;
                if tool != *stored {
                    tool.discovered_at = Some(now);
                    tool.updated_at = now;
                    result.updated.push(tool);
                }
            }
            None => result.inserted.push(Tool {
                id: new_id(),
                tenant: server.tenant.clone(),
                server_id: server.id.clone(),
                display_name: found.title.clone().unwrap_or_else(|| display_name_for(&found.name)),
                name: found.name.clone(),
                description: found.description.clone(),
                args_schema: Some(found.input_schema.clone()),
                output_schema: found.output_schema.clone(),
                annotations: found.annotations.clone(),
                status: ToolStatus::Enabled,
                is_available: true,
                bypass_when_unavailable: false,
                category: server.category.clone(),
                sort_order: order,
                discovered_at: Some(now),
                discovered_by: Some(discovered_by.to_owned()),
                total_calls: 0,
                total_errors: 0,
                last_called: None,
                last_error: None,
                avg_response_time_ms: None,
                created_at: now,
                updated_at: now,
            }),
        }
    }
    for stored in existing {
        if stored.is_available && !discovered.iter().any(|d| d.name == stored.name) {
            let mut tool = stored.clone();
            tool.is_available = false;
            tool.updated_at = now;
            result.updated.push(tool);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_title_cased() {
        assert_eq!(super::display_name_for("get_current_time"), "Get Current Time");
        assert_eq!(super::display_name_for("echo"), "Echo");
        assert_eq!(super::display_name_for("get-sum"), "Get-sum");
    }

    fn found(name: &str) -> DiscoveredTool {
        DiscoveredTool {
            name: name.into(),
            title: None,
            description: Some(format!("{name} tool")),
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: None,
        }
    }

    #[test]
    fn discovery_adds_refreshes_and_retires_but_keeps_admin_choices() {
        let server = crate::server::ToolServer::register(
            crate::server::NewToolServer {
                name: "s".into(),
                display_name: "S".into(),
                base_url: Some("https://s.example".into()),
                ..Default::default()
            },
            new_id(),
            "default".into(),
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        let now = chrono::Utc::now();
        let first = reconcile(&server, &[], &[found("get_time"), found("echo")], "start", now);
        assert!(first.updated.is_empty());
        let names: Vec<_> =
            first.inserted.iter().map(|t| (t.name.as_str(), t.sort_order, t.display_name.as_str())).collect();
        assert_eq!(names, [("get_time", 0, "Get Time"), ("echo", 1, "Echo")]);

        let mut stored = first.inserted;
        stored[0].status = ToolStatus::Disabled;
        let unchanged = reconcile(&server, &stored, &[found("get_time"), found("echo")], "refresh", now);
        assert_eq!(unchanged, Reconciliation::default(), "nothing to write when nothing changed");

        let second = reconcile(&server, &stored, &[found("echo"), found("add")], "refresh", now);
        assert_eq!(second.inserted.len(), 1);
        assert_eq!(second.inserted[0].name, "add");
        let get_time = second.updated.iter().find(|t| t.name == "get_time").unwrap();
        assert!(!get_time.is_available && get_time.status == ToolStatus::Disabled);
        let echo = second.updated.iter().find(|t| t.name == "echo").unwrap();
        assert_eq!(echo.sort_order, 0);

        let mut retired = stored.clone();
        retired[0].is_available = false;
        let back = reconcile(&server, &retired, &[found("get_time"), found("echo")], "refresh", now);
        let get_time = back.updated.iter().find(|t| t.name == "get_time").unwrap();
        assert!(get_time.is_available, "a tool that comes back is available again");
        assert_eq!(get_time.status, ToolStatus::Disabled, "and stays disabled");
        assert_eq!(get_time.id, stored[0].id, "with the same id, so grants still apply");
    }
}
