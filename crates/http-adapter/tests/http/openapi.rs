//! The generated OpenAPI document: the seed's 26 operations, the documented statuses and
//! headers, the limits of the domain, and the committed copy in docs/openapi.json.

use serde_json::Value;
use toolhub_domain::{ErrorCode, server::limits};
use toolhub_http::limits::{LIMITS, UNLIMITED};

fn spec() -> Value {
    serde_json::to_value(toolhub_http::openapi()).unwrap()
}

/// (method, path under /api/v1/toolservers, SDK method name), as in seed 000.
const SEED_OPERATIONS: [(&str, &str, &str); 26] = [
    ("post", "/servers/bulk", "bulk_server_operation_api_v1_toolservers_servers_bulk_post"),
    ("get", "/servers/{server_id}/health", "check_server_health_api_v1_toolservers_servers_server_id_health_get"),
    ("post", "/access-check", "check_tool_access_api_v1_toolservers_access_check_post"),
    ("post", "/role-access", "create_role_access_rule_api_v1_toolservers_role_access_post"),
    ("post", "/servers", "create_tool_server_api_v1_toolservers_servers_post"),
    ("delete", "/servers/{server_id}", "delete_tool_server_api_v1_toolservers_servers_server_id_delete"),
    ("post", "/tools/{tool_id}/disable", "disable_tool_api_v1_toolservers_tools_tool_id_disable_post"),
    ("post", "/servers/{server_id}/disable", "disable_tool_server_api_v1_toolservers_servers_server_id_disable_post"),
    ("post", "/tools/{tool_id}/enable", "enable_tool_api_v1_toolservers_tools_tool_id_enable_post"),
    ("post", "/servers/{server_id}/enable", "enable_tool_server_api_v1_toolservers_servers_server_id_enable_post"),
    ("get", "/role-access", "get_role_access_rules_api_v1_toolservers_role_access_get"),
    ("get", "/servers/{server_id}/metrics", "get_server_metrics_api_v1_toolservers_servers_server_id_metrics_get"),
    ("get", "/servers/{server_id}/tools", "get_server_tools_api_v1_toolservers_servers_server_id_tools_get"),
    ("get", "/servers/{server_id}", "get_tool_server_api_v1_toolservers_servers_server_id_get"),
    ("get", "/users/{user_id}/permissions", "get_user_permissions_api_v1_toolservers_users_user_id_permissions_get"),
    ("post", "/permissions", "grant_tool_permission_api_v1_toolservers_permissions_post"),
    ("get", "/tools/all", "list_all_tools_api_v1_toolservers_tools_all_get"),
    ("get", "/servers", "list_tool_servers_api_v1_toolservers_servers_get"),
    (
        "post",
        "/servers/{server_id}/refresh-tools",
        "refresh_server_tools_api_v1_toolservers_servers_server_id_refresh_tools_post",
    ),
    ("post", "/servers/{server_id}/restart", "restart_tool_server_api_v1_toolservers_servers_server_id_restart_post"),
    (
        "delete",
        "/permissions/{permission_id}",
        "revoke_tool_permission_api_v1_toolservers_permissions_permission_id_delete",
    ),
    ("post", "/servers/{server_id}/start", "start_tool_server_api_v1_toolservers_servers_server_id_start_post"),
    ("post", "/servers/{server_id}/stop", "stop_tool_server_api_v1_toolservers_servers_server_id_stop_post"),
    (
        "post",
        "/servers/{server_id}/test-connectivity",
        "test_server_connectivity_api_v1_toolservers_servers_server_id_test_connectivity_post",
    ),
    ("put", "/permissions/{permission_id}", "update_tool_permission_api_v1_toolservers_permissions_permission_id_put"),
    ("put", "/servers/{server_id}", "update_tool_server_api_v1_toolservers_servers_server_id_put"),
];

fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op));
        }
    }
    out
}

#[test]
fn declares_every_seed_operation_with_its_sdk_name() {
    let spec = spec();
    for (method, path, operation_id) in SEED_OPERATIONS {
        let op = &spec["paths"][format!("/api/v1/toolservers{path}")][method];
        assert_eq!(op["operationId"], operation_id, "{method} {path}");
        assert_eq!(op["tags"], serde_json::json!(["Tool Servers"]), "{operation_id}");
    }
    let extra: Vec<String> = operations(&spec)
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/api/v1/toolservers"))
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
        .filter(|id| !SEED_OPERATIONS.iter().any(|(_, _, seed)| seed == id))
        .collect();
    assert_eq!(
        extra,
        [
            "call_tool_by_name_api_v1_toolservers_call_post",
            "list_tool_calls_api_v1_toolservers_calls_get",
            "search_tool_calls_api_v1_toolservers_calls_search_post",
            "search_role_access_rules_api_v1_toolservers_role_access_search_post",
            "delete_role_access_rule_api_v1_toolservers_role_access_rule_id_delete",
            "update_role_access_rule_api_v1_toolservers_role_access_rule_id_put",
            "search_tool_servers_api_v1_toolservers_servers_search_post",
            "search_tools_api_v1_toolservers_tools_search_post",
            "call_tool_api_v1_toolservers_tools_tool_id_call_post",
        ],
        "beyond the seed: tool calls, the call log, list searches, and the role-rule update and delete the \
         original lacks"
    );

    assert_eq!(spec["components"]["securitySchemes"]["CustomHTTPBearer"]["scheme"], "bearer");
}

#[test]
fn success_codes_follow_the_seed() {
    let spec = spec();
    for (method, path, operation_id) in SEED_OPERATIONS {
        let responses = &spec["paths"][format!("/api/v1/toolservers{path}")][method]["responses"];
        let expected = if operation_id.starts_with("create_tool_server") { "201" } else { "200" };
        assert!(responses.get(expected).is_some(), "{operation_id} documents {expected}");
    }
}

#[test]
fn every_operation_documents_auth_rate_limit_and_headers() {
    let spec = spec();
    for (method, path, op) in operations(&spec) {
        let public = path == "/healthz" || path == "/readyz";
        let responses = op["responses"].as_object().unwrap();
        if !public {
            for status in ["401", "403", "429", "500"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
            assert!(responses["429"]["headers"].get("Retry-After").is_some(), "{method} {path}");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
        }
        // A user's permissions are a listing: an unknown user simply has none.
        let listing = path.ends_with("/users/{user_id}/permissions");
        if path.contains('{') && !listing {
            assert!(responses.contains_key("404"), "{method} {path} documents 404");
        }
        for (status, response) in responses {
            for header in ["x-correlation-id", "X-RateLimit-Limit-Minute", "X-RateLimit-Remaining-Hour"] {
                assert!(response["headers"].get(header).is_some(), "{method} {path} {status} has {header}");
            }
        }
    }
}

/// Every problem response names its codes, each code's status is the response's, and every
/// code of the catalogue is documented somewhere (but `NOT_FOUND` and `METHOD_NOT_ALLOWED`,
/// answered for paths and methods no operation has, and `CALL_CANCELLED`, which only the MCP
/// gateway's call log holds).
#[test]
fn problem_responses_come_from_the_error_catalogue() {
    let spec = spec();
    let mut documented = std::collections::BTreeSet::new();
    for (method, path, op) in operations(&spec) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let problem = response["content"].get("application/problem+json").is_some();
            if !problem && response.get("x-problem-codes").is_none() {
                continue;
            }
            let codes = response["x-problem-codes"].as_array();
            let codes = codes.unwrap_or_else(|| panic!("{method} {path} {status} lists no x-problem-codes"));
            for code in codes {
                let code = ErrorCode::parse(code.as_str().unwrap())
                    .unwrap_or_else(|| panic!("{method} {path} {status}: {code} is not in the catalogue"));
                assert_eq!(code.status().to_string(), *status, "{method} {path}: {code}");
                assert!(response["description"].as_str().unwrap().contains(code.as_str()));
                documented.insert(code);
            }
        }
    }
    let undocumented: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| {
            !documented.contains(c)
                && ![ErrorCode::NotFound, ErrorCode::MethodNotAllowed, ErrorCode::CallCancelled].contains(c)
        })
        .collect();
    assert!(undocumented.is_empty(), "codes no operation documents: {undocumented:?}");
}

#[test]
fn schema_limits_are_the_domains() {
    let spec = spec();
    let create = &spec["components"]["schemas"]["ToolServerCreate"]["properties"];
    assert_eq!(create["name"]["maxLength"], limits::NAME_MAX);
    assert_eq!(create["display_name"]["maxLength"], limits::DISPLAY_NAME_MAX);
    assert_eq!(create["timeout"]["minimum"], limits::TIMEOUT_MIN);
    assert_eq!(create["timeout"]["maximum"], limits::TIMEOUT_MAX);
    assert_eq!(create["timeout"]["default"], limits::TIMEOUT_DEFAULT);
    assert_eq!(create["max_failures"]["minimum"], limits::MAX_FAILURES_MIN);
    assert_eq!(create["max_failures"]["maximum"], limits::MAX_FAILURES_MAX);
    assert_eq!(create["max_failures"]["default"], limits::MAX_FAILURES_DEFAULT);
    assert_eq!(create["transport_type"]["default"], "http");
    for (schema, property, _) in LIMITS {
        let p = &spec["components"]["schemas"][schema]["properties"][property];
        assert!(p.is_object(), "the limits table names {schema}.{property}, which the document lacks");
    }
}

/// The request schemas, and every schema they refer to.
fn request_schemas(spec: &Value) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut queue: Vec<String> = operations(spec)
        .iter()
        .filter_map(|(_, _, op)| op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str())
        .map(|r| r.rsplit('/').next().unwrap().to_owned())
        .collect();
    while let Some(name) = queue.pop() {
        if names.contains(&name) {
            continue;
        }
        let text = spec["components"]["schemas"][&name].to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            queue.push(part.split('"').next().unwrap().to_owned());
        }
        names.push(name);
    }
    names
}

/// Nothing a client sends is unbounded by accident: every string, list and map of a request
/// schema carries a limit from the domain (the limits table), or is listed with its reason.
#[test]
fn every_request_field_is_limited_or_explained() {
    let spec = spec();
    let types = |p: &Value| -> Vec<String> {
        match &p["type"] {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        }
    };
    let explained = |schema: &str, property: &str| UNLIMITED.iter().any(|(s, p, _)| *s == schema && *p == property);
    let mut unbounded = Vec::new();
    for schema in request_schemas(&spec) {
        let Some(properties) = spec["components"]["schemas"][&schema]["properties"].as_object() else { continue };
        for (property, p) in properties {
            let kinds = types(p);
            let open_string = |p: &Value| {
                types(p).contains(&"string".to_owned())
                    && p.get("enum").is_none()
                    && p.get("format").is_none()
                    && p.get("pattern").is_none()
                    && p.get("maxLength").is_none()
            };
            let unlimited = (open_string(p))
                || (kinds.contains(&"array".to_owned()) && (p.get("maxItems").is_none() || open_string(&p["items"])))
                || (kinds.contains(&"object".to_owned())
                    && p.get("additionalProperties").is_some_and(Value::is_object)
                    && (p.get("maxProperties").is_none() || open_string(&p["additionalProperties"])))
                || (kinds.contains(&"object".to_owned())
                    && p.get("properties").is_none()
                    && p.get("additionalProperties").is_none());
            if unlimited && !explained(&schema, property) {
                unbounded.push(format!("{schema}.{property}"));
            }
        }
    }
    assert!(unbounded.is_empty(), "request fields without a limit (add them to toolhub_http::limits): {unbounded:?}");
}

/// docs/openapi.json is the document clients are generated from; regenerate it with
/// `UPDATE_OPENAPI=1 cargo test -p toolhub-http --test http openapi::committed_document_is_current` (or `just openapi`).
#[test]
fn committed_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = serde_json::to_string_pretty(&spec()).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the generated document; run `just openapi` and commit it"
    );
}

/// The error table of docs/api-guide.md is the catalogue's; regenerate it with `just openapi`.
#[test]
fn the_api_guide_lists_the_error_catalogue() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api-guide.md");
    let guide = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- error-catalogue -->\n", "<!-- /error-catalogue -->");
    let mut table = String::from("| Status | `code` | Title | When |\n|---|---|---|---|\n");
    let mut codes = ErrorCode::ALL.to_vec();
    codes.sort_by_key(|c| (c.status(), c.as_str()));
    for code in codes {
        table += &format!("| {} | `{code}` | {} | {} |\n", code.status(), code.title(), code.description());
    }
    let (before, rest) = guide.split_once(start).expect("the guide marks the error catalogue");
    let (current, after) = rest.split_once(end).expect("the guide closes the error catalogue");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{before}{start}{table}{end}{after}")).unwrap();
    } else {
        assert!(current == table, "docs/api-guide.md lists another error catalogue; run `just openapi`");
    }
}

/// The list-query table of docs/api-guide.md names each list's query fields, and both of its
/// operations are in the document; regenerate it with `just openapi`.
#[test]
fn the_api_guide_lists_every_query_field() {
    use toolhub_domain::{access::model, calls, query::Fields, server, tool, toolkit};
    let lists: [(&str, Fields); 6] = [
        ("/api/v1/toolservers/tools/all", tool::TOOL_FIELDS),
        ("/api/v1/toolservers/servers", server::SERVER_FIELDS),
        ("/api/v1/grants", model::GRANT_FIELDS),
        ("/api/v1/toolservers/role-access", model::RULE_FIELDS),
        ("/api/v1/toolkits", toolkit::TOOLKIT_FIELDS),
        ("/api/v1/toolservers/calls", calls::CALL_FIELDS),
    ];
    let spec = spec();
    let mut table = String::from("| list | search | fields of `q` and `sort` |\n|---|---|---|\n");
    for (list, fields) in lists {
        let search = format!("{}/search", list.trim_end_matches("/all"));
        assert!(spec["paths"][list]["get"].is_object() && spec["paths"][&search]["post"].is_object(), "{list}");
        let names: Vec<String> = fields.iter().map(|f| format!("`{}`", f.name)).collect();
        table += &format!("| `GET {list}` | `POST {search}` | {} |\n", names.join(", "));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api-guide.md");
    let guide = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- query-lists -->\n", "<!-- /query-lists -->");
    let (before, rest) = guide.split_once(start).expect("the guide marks the query lists");
    let (current, after) = rest.split_once(end).expect("the guide closes the query lists");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{before}{start}{table}{end}{after}")).unwrap();
    } else {
        assert!(current == table, "docs/api-guide.md lists other query fields; run `just openapi`");
    }
}
