//! Rules the handlers enforce that utoipa's attributes cannot state, written into the
//! serialized OpenAPI document so that generated clients and fuzzers send what Toolhub
//! accepts: which of two fields must be given, what a field requires of another, the formats
//! of subjects and URLs, and the values of a query filter.

use serde_json::{Value, json};
use toolhub_domain::{access::limits as access, calls::CallStatus};

use crate::limits::NO_CONTROL;

/// Writes every rule into `doc` (an OpenAPI 3.1 document as JSON).
pub fn apply(doc: &mut Value) {
    // Grants name exactly one target: a non-null tool_id, server_id or (grants only) toolkit_id.
    for (schema, fields) in [
        ("GrantCreate", &["tool_id", "server_id", "toolkit_id"][..]),
        ("ToolPermissionCreate", &["tool_id", "server_id"]),
    ] {
        let exactly_one: Vec<Value> = fields
            .iter()
            .map(|chosen| {
                let properties: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|f| (f.to_string(), json!({"type": if f == chosen { "string" } else { "null" }})))
                    .collect();
                json!({"required": [chosen], "properties": properties})
            })
            .collect();
        component(doc, schema)["oneOf"] = Value::Array(exactly_one);
    }
    // A stdio server needs a command; every other transport (http by default) a base_url.
    component(doc, "ToolServerCreate")["anyOf"] = json!([
        {
            "required": ["transport_type", "command"],
            "properties": {"transport_type": {"const": "stdio"}, "command": {"type": "string"}},
        },
        {
            "required": ["base_url"],
            "properties": {"transport_type": {"enum": ["http", "sse", "websocket", "openapi"]}, "base_url": {"type": "string"}},
        },
    ]);
    // An update may leave out a required field of a server, but not clear it with null.
    for field in ["display_name", "transport_type", "timeout", "auto_start", "auto_update", "max_failures"] {
        not_null(&mut component(doc, "ToolServerUpdate")["properties"][field]);
    }
    // Seed 001's operation filter: a comma-separated text (whose entries are then at most as
    // many and as long as a list's) or a list.
    use toolhub_domain::server::limits::{FILTER_ENTRY_MAX, FILTER_MAX};
    let filter = json!({
        "oneOf": [
            {"type": "string", "maxLength": FILTER_ENTRY_MAX, "pattern": crate::limits::text_pattern(false)},
            {"type": "array", "maxItems": FILTER_MAX, "items": {"type": "string", "minLength": 1,
                "maxLength": FILTER_ENTRY_MAX, "pattern": crate::limits::text_pattern(true)}},
            {"type": "null"},
        ],
        "description": "For `openapi` servers: which operations become tools, as a comma-separated list or an array; entries allow, `!entry` blocks, each matched as the end of the operation's name.",
    });
    for schema in ["ToolServerCreate", "ToolServerUpdate"] {
        component(doc, schema)["properties"]["function_name_filter_list"] = filter.clone();
    }
    // The names of environment variables and headers, as the domain checks them.
    for schema in ["ToolServerCreate", "ToolServerUpdate"] {
        let properties = &mut component(doc, schema)["properties"];
        properties["env"]["propertyNames"] = json!({"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"});
        properties["headers"]["propertyNames"] = json!({"pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"});
    }
    // A custom tool's config is JSON text or an object.
    component(doc, "InfToolInput")["properties"]["config"] = json!({"oneOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}], "description": "Tool-specific configuration (text or JSON); credential-like fields are masked when read, and a masked value sent back keeps the stored one."});
    let subject = subject_schema();
    component(doc, "GrantCreate")["properties"]["subject"]["pattern"] = subject["pattern"].clone();
    component(doc, "GrantCreate")["properties"]["subject"]["maxLength"] = subject["maxLength"].clone();
    for (schema, field) in
        [("ToolServerCreate", "base_url"), ("ToolServerUpdate", "base_url"), ("OAuthConfigSchema", "token_url")]
    {
        let property = &mut component(doc, schema)["properties"][field];
        if !property.is_null() {
            property["format"] = json!("uri");
            property["pattern"] = json!(URL_PATTERN);
        }
    }
    query(doc, "/api/v1/grants", "subject", subject);
    let statuses: Vec<&str> = CallStatus::ALL.iter().map(|s| s.as_str()).collect();
    query(doc, "/api/v1/toolservers/calls", "status", json!({"type": "string", "enum": statuses}));
}

/// An absolute http(s) URL (the domain's `validation::is_plain_http_url`, which checks the
/// same by hand): optional user information, a dotted IPv4 address, a bracketed IPv6 address
/// or a name whose last label starts with a letter, a port up to 65535, printable ASCII after.
const URL_PATTERN: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://",
    "([A-Za-z0-9._~%!$&'()*+,;=:-]+@)?",
    "(((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
    "|\\[[0-9A-Fa-f:.]+\\]",
    "|([A-Za-z0-9][A-Za-z0-9-]{0,62}\\.)*[A-Za-z][A-Za-z0-9-]{0,62})",
    "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?",
    "([/?#][!-~]*)?$",
);

fn subject_schema() -> Value {
    let max = access::SUBJECT_ID_MAX;
    json!({
        "type": "string",
        "pattern": format!("^(\\*|user:{NO_CONTROL}{{1,{max}}}|group:{NO_CONTROL}{{1,{max}}})$"),
        "maxLength": max + "group:".len(),
    })
}

/// Removes `null` from what a property accepts (`type: [T, "null"]` or `oneOf` with a null).
fn not_null(property: &mut Value) {
    if let Some(types) = property["type"].as_array_mut() {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            property["type"] = only.clone();
        }
    } else if let Some(variants) = property["oneOf"].as_array() {
        let kept: Vec<Value> = variants.iter().filter(|v| v["type"] != "null").cloned().collect();
        if let [only] = kept.as_slice() {
            *property = only.clone();
        }
    }
}

fn component<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    let schema = &mut doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name} in the document");
    schema
}

/// Replaces the schema of a query parameter of the GET operation at `path`.
fn query(doc: &mut Value, path: &str, name: &str, schema: Value) {
    let parameters = doc["paths"][path]["get"]["parameters"].as_array_mut();
    let parameter = parameters.and_then(|p| p.iter_mut().find(|p| p["name"] == name && p["in"] == "query"));
    parameter.unwrap_or_else(|| panic!("no query parameter {name} of GET {path}"))["schema"] = schema;
}
