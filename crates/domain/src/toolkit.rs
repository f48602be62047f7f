//! Toolkits: named, ordered bundles of tools drawn from any servers, plus custom tools of their
//! own (seed 004's toolkits, the "virtual servers" of other gateways). A toolkit narrows what an
//! agent sees (`/mcp/toolkits/{toolkit}`) and can be the target of grants.

use serde_json::Value;

use crate::{
    Timestamp,
    patch::Patch,
    secret::{MASK, looks_secret},
    validation::Validator,
};

/// Limits of toolkits and their tools.
pub mod limits {
    /// Characters of a toolkit's name (a slug: letters, digits, `_`, `.`, `-`).
    pub const NAME_MAX: usize = 100;
    /// Characters of a display name.
    pub const DISPLAY_NAME_MAX: usize = 200;
    /// Characters of a description (of a toolkit or one of its tools).
    pub const DESCRIPTION_MAX: usize = 10_000;
    /// Characters of a tool's name in a toolkit (MCP's tool-name rule: letters, digits, `_`, `.`, `-`).
    pub const TOOL_NAME_MAX: usize = 128;
    /// Characters of a tool type (`mcp`, `api-request`, a native type).
    pub const TYPE_MAX: usize = 64;
    /// Characters of `discovered_by`.
    pub const DISCOVERED_BY_MAX: usize = 100;
    /// Bytes of a tool's parameters or config, written as JSON.
    pub const DOCUMENT_MAX: usize = 65_536;
    /// Tools in one toolkit.
    pub const TOOLS_MAX: usize = 1_000;
    /// Largest sort order (either sign).
    pub const SORT_ORDER_MAX: i64 = 1_000_000;
}

/// The type of a tool that stands for a server's tool (or, unlinked, a discovered one).
pub const MCP_TYPE: &str = "mcp";
/// The type a custom tool gets when none is given: an HTTP request described by its config.
pub const API_REQUEST_TYPE: &str = "api-request";

/// A toolkit. `server_id` links it to one server, whose tools a sync matches by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Toolkit {
    /// The toolkit's id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// Unique in the tenant; a slug, since it names the toolkit's MCP endpoint.
    pub name: String,
    /// A name for people.
    pub display_name: String,
    /// What the toolkit is for.
    pub description: Option<String>,
    /// The user who holds `admin` on it by ownership.
    pub owner_id: String,
    /// The server a sync matches tool names against.
    pub server_id: Option<String>,
    /// Incremented on every write; an update naming an older version is refused.
    pub version: i64,
    /// Who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A toolkit to make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewToolkit {
    /// Unique in the tenant; a slug (see [`is_slug`]).
    pub name: String,
    /// Defaults to the name.
    pub display_name: Option<String>,
    /// What the toolkit is for.
    pub description: Option<String>,
    /// A server whose tools a sync matches by name (the maker must administer it).
    pub server_id: Option<String>,
    /// Defaults to the creator.
    pub owner_id: Option<String>,
}

/// Changes to a toolkit; absent fields stay. The name cannot change (it names an endpoint).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolkitPatch {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new description, or `Null` to clear it.
    pub description: Patch<String>,
    /// Another linked server, or `Null` to unlink.
    pub server_id: Patch<String>,
    /// A new owner (by its owner or an administrator).
    pub owner_id: Option<String>,
    /// When given, the update applies only if the toolkit is still at this version.
    pub expected_version: Option<i64>,
}

/// One tool of a toolkit: a reference to a server's tool (`tool_id`), or a tool of the toolkit's
/// own (a custom tool, or a discovered one no server of Toolhub runs).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitTool {
    /// The toolkit tool's own id (a ULID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// The toolkit holding it.
    pub toolkit_id: String,
    /// The server tool this stands for; calls go to it.
    pub tool_id: Option<String>,
    /// The name in this toolkit: for a reference, `None` keeps the server tool's name.
    pub name: Option<String>,
    /// For a reference, `None` keeps the server tool's description.
    pub description: Option<String>,
    /// `mcp` for references and discovered tools; `api-request` or a native type otherwise.
    pub kind: String,
    /// The JSON Schema of the arguments (a reference's comes from the server tool).
    pub parameters: Option<Value>,
    /// Settings of a custom tool; may hold credentials (sealed at rest, masked in answers).
    pub config: Option<ToolConfig>,
    /// Its place: tools are listed by `sort_order`, then name.
    pub sort_order: i32,
    /// When a sync brought it.
    pub discovered_at: Option<Timestamp>,
    /// Who discovered it (a sync's `discoveredBy`, e.g. `server` or `client`).
    pub discovered_by: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A tool to put in a toolkit (a custom one, or a reference when `tool_id` is set).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewToolkitTool {
    /// The server tool it stands for (a reference), if any.
    pub tool_id: Option<String>,
    /// Its name in the toolkit (required for a custom tool).
    pub name: Option<String>,
    /// Its description in the toolkit.
    pub description: Option<String>,
    /// Defaults to `api-request` for a custom tool; a reference is always `mcp`.
    pub kind: Option<String>,
    /// A custom tool's JSON Schema of arguments.
    pub parameters: Option<Value>,
    /// A custom tool's settings (JSON text or an object; masked values keep the stored ones).
    pub config: Option<Value>,
    /// Its place (default 0).
    pub sort_order: Option<i32>,
}

/// A discovered tool handed to a sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncedTool {
    /// The tool's name (MCP's tool-name characters).
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Its JSON Schema of arguments.
    pub input_schema: Option<Value>,
}

/// A custom tool's settings, a JSON value. Kept in clear in memory (the tool needs them),
/// sealed at rest, and shown to clients through [`Self::masked`] only.
#[derive(Clone, PartialEq)]
pub struct ToolConfig(Value);

impl std::fmt::Debug for ToolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl ToolConfig {
    /// A config holding `value`.
    pub fn new(value: Value) -> Self {
        Self(value)
    }

    /// The clear value, for the tool that uses it and for sealing.
    pub fn expose(&self) -> &Value {
        &self.0
    }

    /// The config as a client may see it: values under credential-like names (see
    /// [`looks_secret`]) are the mask, at any depth. A text config is read as JSON when it is
    /// JSON; other text is masked whole, since nothing tells what it holds.
    pub fn masked(&self) -> Value {
        match &self.0 {
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(parsed @ (Value::Object(_) | Value::Array(_))) => Value::String(mask_tree(parsed).to_string()),
                _ => Value::String(MASK.into()),
            },
            other => mask_tree(other.clone()),
        }
    }

    /// The config a client sent, where a masked value (sent back as read) keeps the previous one.
    pub fn merged(incoming: Value, previous: Option<&ToolConfig>) -> Self {
        let Some(previous) = previous else { return Self(incoming) };
        match (&incoming, &previous.0) {
            (Value::String(text), Value::String(_)) if text == MASK => previous.clone(),
            (Value::String(text), Value::String(old)) => {
                match (serde_json::from_str::<Value>(text), serde_json::from_str::<Value>(old)) {
                    (Ok(new @ Value::Object(_)), Ok(old)) => Self(Value::String(keep_masked(new, &old).to_string())),
                    _ => Self(incoming),
                }
            }
            _ => Self(keep_masked(incoming, &previous.0)),
        }
    }
}

fn mask_tree(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if looks_secret(&k) && !v.is_null() { Value::String(MASK.into()) } else { mask_tree(v) };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_tree).collect()),
        other => other,
    }
}

fn keep_masked(incoming: Value, previous: &Value) -> Value {
    match (incoming, previous) {
        (Value::String(s), old) if s == MASK => old.clone(),
        (Value::Object(map), Value::Object(old)) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match old.get(&k) {
                        Some(o) => keep_masked(v, o),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (other, _) => other,
    }
}

/// Whether `name` is a slug: 1 to [`limits::NAME_MAX`] letters, digits, `_`, `.` or `-`,
/// starting with a letter or digit.
pub fn is_slug(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks the name rule of toolkits (a slug, see [`is_slug`]).
pub fn validate_name(v: &mut Validator, field: &str, name: &str) {
    v.check(is_slug(name, limits::NAME_MAX), field, || {
        format!("must be 1 to {} letters, digits, '_', '.' or '-', starting with a letter or digit", limits::NAME_MAX)
    });
}

/// Checks the name of a tool in a toolkit (MCP's tool-name characters).
pub fn validate_tool_name(v: &mut Validator, field: &str, name: &str) {
    v.check(
        !name.is_empty()
            && name.len() <= limits::TOOL_NAME_MAX
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')),
        field,
        || format!("must be 1 to {} letters, digits, '_', '.' or '-'", limits::TOOL_NAME_MAX),
    );
}

/// Checks a JSON document's size (parameters, config) and, for parameters, that it is an object.
pub fn validate_document(v: &mut Validator, field: &str, value: &Value, object: bool) {
    v.check(!object || value.is_object(), field, || "must be a JSON object (a JSON Schema)".into());
    v.check(value.to_string().len() <= limits::DOCUMENT_MAX, field, || {
        format!("must be at most {} bytes as JSON", limits::DOCUMENT_MAX)
    });
}

/// Checks the optional texts every toolkit tool input shares.
pub fn validate_tool_texts(v: &mut Validator, description: Option<&str>, kind: Option<&str>, sort_order: Option<i32>) {
    if let Some(d) = description {
        v.text("description", d, 0, limits::DESCRIPTION_MAX);
    }
    if let Some(kind) = kind {
        v.check(is_slug(kind, limits::TYPE_MAX), "type", || {
            format!("must be 1 to {} letters, digits, '_', '.' or '-'", limits::TYPE_MAX)
        });
    }
    if let Some(order) = sort_order {
        v.range("sortOrder", order.into(), -limits::SORT_ORDER_MAX, limits::SORT_ORDER_MAX);
    }
}

/// The fields a toolkit list can be queried and sorted by.
pub const TOOLKIT_FIELDS: crate::query::Fields = {
    use crate::query::{Field, FieldKind::*};
    &[
        Field::new("id", Text),
        Field::new("name", Text),
        Field::new("display_name", Text),
        Field::new("description", Text),
        Field::new("owner_id", Text),
        Field::new("server_id", Text),
        Field::new("version", Integer),
        Field::new("created_by", Text),
        Field::new("created_at", Time),
        Field::new("updated_at", Time),
    ]
};

impl crate::query::Queryable for Toolkit {
    fn value(&self, field: &str) -> Option<crate::query::Scalar> {
        use crate::query::Scalar;
        let text = Scalar::text;
        match field {
            "id" => text(&self.id),
            "name" => text(&self.name),
            "display_name" => text(&self.display_name),
            "description" => self.description.as_deref().and_then(text),
            "owner_id" => text(&self.owner_id),
            "server_id" => self.server_id.as_deref().and_then(text),
            "version" => Some(Scalar::Integer(self.version)),
            "created_by" => text(&self.created_by),
            "created_at" => Some(Scalar::Time(self.created_at)),
            "updated_at" => Some(Scalar::Time(self.updated_at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn credentials_in_a_config_are_masked_and_kept_when_sent_back() {
        let config =
            ToolConfig::new(json!({"url": "https://x", "headers": {"Authorization": "Bearer s3"}, "botToken": "t"}));
        let shown = config.masked();
        assert_eq!(shown, json!({"url": "https://x", "headers": {"Authorization": MASK}, "botToken": MASK}));
        let merged = ToolConfig::merged(
            json!({"url": "https://y", "headers": {"Authorization": MASK}, "botToken": "u"}),
            Some(&config),
        );
        assert_eq!(
            merged.expose(),
            &json!({"url": "https://y", "headers": {"Authorization": "Bearer s3"}, "botToken": "u"})
        );
        assert!(!format!("{config:?}").contains("s3"));
    }

    #[test]
    fn a_text_config_is_masked_by_its_json_or_whole() {
        let json_text = ToolConfig::new(json!("{\"apiKey\":\"k\",\"region\":\"eu\"}"));
        assert_eq!(json_text.masked(), json!(format!("{{\"apiKey\":\"{MASK}\",\"region\":\"eu\"}}")));
        let plain = ToolConfig::new(json!("token=abc"));
        assert_eq!(plain.masked(), json!(MASK));
        assert_eq!(ToolConfig::merged(json!(MASK), Some(&plain)).expose(), &json!("token=abc"));
    }

    #[test]
    fn slugs() {
        for ok in ["github", "team.tools", "a-1_b"] {
            assert!(is_slug(ok, 100), "{ok}");
        }
        for bad in ["", "-a", "a b", "a/b", "a:b", "é"] {
            assert!(!is_slug(bad, 100), "{bad}");
        }
    }
}
