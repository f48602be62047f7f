//! Rules the handlers enforce that utoipa's attributes cannot state, written into the
//! serialized OpenAPI document so that generated clients and fuzzers send what Toolhub
//! accepts: which of two fields must be given, what a field requires of another, the formats
//! of subjects and URLs, and the values of a query filter.

use serde_json::{Value, json};
use toolhub_domain::{access::limits as access, calls::CallStatus};

use crate::limits::NO_CONTROL;

/// Writes every rule into `doc` (an OpenAPI 3.1 document as JSON).
pub fn apply(doc: &mut Value) {
    seed_error_envelopes(doc);
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
    let statuses: Vec<&str> = CallStatus::ALL.iter().map(|s| s.as_str()).collect();
    for method in ["get", "post"] {
        let search = |path: &str| if method == "get" { path.to_owned() } else { format!("{path}/search") };
        query(doc, (method, &search("/api/v1/grants")), "subject", subject.clone());
        query(
            doc,
            (method, &search("/api/v1/toolservers/calls")),
            "status",
            json!({"type": "string", "enum": statuses}),
        );
    }
    list_queries(doc);
}

/// What `sort` and `fields` of each list may name, as patterns (the grammar of `q` is beyond
/// one; docs/api-guide.md, Queries).
fn list_queries(doc: &mut Value) {
    use toolhub_domain::{access::model, calls, query::Fields, server, tool, toolkit};
    let items = |doc: &Value, schema: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let summary: Vec<String> = crate::dto::TOOL_SUMMARY_FIELDS.iter().map(|f| f.to_string()).collect();
    let lists: [(&str, &str, Fields, Vec<String>); 6] = [
        ("/api/v1/toolservers/tools/all", "/api/v1/toolservers/tools/search", tool::TOOL_FIELDS, summary),
        (
            "/api/v1/toolservers/servers",
            "/api/v1/toolservers/servers/search",
            server::SERVER_FIELDS,
            items(doc, "ToolServerResponse"),
        ),
        ("/api/v1/grants", "/api/v1/grants/search", model::GRANT_FIELDS, items(doc, "GrantResponse")),
        (
            "/api/v1/toolservers/role-access",
            "/api/v1/toolservers/role-access/search",
            model::RULE_FIELDS,
            items(doc, "RoleToolAccessResponse"),
        ),
        ("/api/v1/toolkits", "/api/v1/toolkits/search", toolkit::TOOLKIT_FIELDS, items(doc, "ToolkitResponse")),
        (
            "/api/v1/toolservers/calls",
            "/api/v1/toolservers/calls/search",
            calls::CALL_FIELDS,
            items(doc, "CallRecordResponse"),
        ),
    ];
    for (list, search, sortable, returned) in lists {
        assert!(!returned.is_empty(), "no item fields for {list}");
        let names = |names: Vec<&str>| names.join("|");
        let key = format!(
            "\\s*({})\\s*(:([aA][sS][cC]|[dD][eE][sS][cC]))?\\s*",
            names(sortable.iter().map(|f| f.name).collect())
        );
        let field = format!("\\s*({})?\\s*", names(returned.iter().map(String::as_str).collect()));
        for operation in [("get", list), ("post", search)] {
            let sort = json!({"type": "string", "maxLength": 2000, "pattern": format!("^({key})?(,({key})?)*$")});
            query(doc, operation, "sort", sort);
            query(
                doc,
                operation,
                "fields",
                json!({"type": "string", "maxLength": 2000, "pattern": format!("^{field}(,{field})*$")}),
            );
        }
    }
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

/// Replaces the schema of a query parameter of an operation (`(method, path)`).
fn query(doc: &mut Value, (method, path): (&str, &str), name: &str, schema: Value) {
    let parameters = doc["paths"][path][method]["parameters"].as_array_mut();
    let parameter = parameters.and_then(|p| p.iter_mut().find(|p| p["name"] == name && p["in"] == "query"));
    parameter.unwrap_or_else(|| panic!("no query parameter {name} of {method} {path}"))["schema"] = schema;
}

/// The seed surfaces that answer errors in their own envelope say so: their error responses
/// carry that schema as `application/json` (the codes stay listed in `x-problem-codes`).
fn seed_error_envelopes(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, operations) in paths.iter_mut() {
        if !crate::handlers::chatai::answers(path) {
            continue;
        }
        let Some(operations) = operations.as_object_mut() else { continue };
        for operation in operations.values_mut() {
            let Some(responses) = operation["responses"].as_object_mut() else { continue };
            for (status, response) in responses.iter_mut() {
                if status.starts_with('4') || status.starts_with('5') {
                    response["content"] =
                        json!({"application/json": {"schema": {"$ref": "#/components/schemas/ChatAiError"}}});
                }
            }
        }
    }
}
