//! The generated OpenAPI document: the seed's 26 operations, the documented statuses and
//! headers, the limits of the domain, and the committed copy in docs/openapi.json.

use serde_json::Value;
use toolhub_domain::server::limits;

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
            "delete_role_access_rule_api_v1_toolservers_role_access_rule_id_delete",
            "update_role_access_rule_api_v1_toolservers_role_access_rule_id_put",
            "call_tool_api_v1_toolservers_tools_tool_id_call_post",
        ],
        "beyond the seed: tool calls, the call log, and the role-rule update and delete the original lacks"
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
        // Pending operations answer 501 before reading their body.
        if op.get("requestBody").is_some() && !responses.contains_key("501") {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{method} {path} documents {status}");
            }
        }
        // A user's permissions are a listing: an unknown user simply has none.
        let listing = path.ends_with("/users/{user_id}/permissions");
        if path.contains('{') && !responses.contains_key("501") && !listing {
            assert!(responses.contains_key("404"), "{method} {path} documents 404");
        }
        for (status, response) in responses {
            for header in ["x-correlation-id", "X-RateLimit-Limit-Minute", "X-RateLimit-Remaining-Hour"] {
                assert!(response["headers"].get(header).is_some(), "{method} {path} {status} has {header}");
            }
        }
    }
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
}

/// docs/openapi.json is the document clients are generated from; regenerate it with
/// `UPDATE_OPENAPI=1 cargo test -p toolhub-http --test openapi` (or `just openapi`).
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
